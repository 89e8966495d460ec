"""The changelog excerpt `mlplate update` shows for the versions it crosses."""

from __future__ import annotations

from pathlib import Path

from mlplate.changelog import changes_between, sections

TEXT = """# Changelog

## v0.3.0

- Renamed the runbook.

## v0.2.0

- Stricter gate.

## v0.1.0

- First release.
"""


def test_excerpt_holds_the_versions_after_old_up_to_new_newest_first():
    excerpt = changes_between("v0.1.0", "v0.3.0", TEXT)
    assert excerpt.index("## v0.3.0") < excerpt.index("## v0.2.0")
    assert "First release" not in excerpt


def test_no_excerpt_for_the_same_version_or_unknown_tags():
    assert changes_between("v0.2.0", "v0.2.0", TEXT) == ""
    assert changes_between("main", "v0.2.0", TEXT) == ""


def test_the_repository_changelog_has_an_entry_for_the_current_version():
    from mlplate import __version__

    text = (Path(__file__).parents[1] / "CHANGELOG.md").read_text()
    assert f"v{__version__}" in sections(text)
