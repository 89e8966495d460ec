"""`mlplate new --vcs-ref vX.Y.Z` renders a past release from the bundled history, offline,
and records it, so a team can reproduce an old project and try a catch-up."""

from __future__ import annotations

import yaml

from mlplate import __version__
from tests.test_update_check_policy import one_error


def test_a_past_release_is_rendered_and_recorded(cli, tmp_path):
    dest = tmp_path / "old-model"
    result = cli("new", str(dest), "--defaults", "--vcs-ref", "v0.2.27")
    assert result.exit_code == 0, result.stderr
    assert (dest / "src" / "old_model" / "models" / "train.py").is_file()  # the full layout
    assert not (dest / ".mlplate").exists()  # no runtime before v0.2.32
    answers = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v0.2.27"
    assert answers["_src_path"] == "https://github.com/mlplate/mlplate.git"
    assert (dest / ".git").is_dir()
    updated = cli("update", str(dest), "--dry-run")
    assert updated.exit_code == 0, updated.stderr
    assert f"v0.2.27 -> v{__version__}" in updated.stdout


def test_an_unknown_release_is_one_line_and_writes_nothing(cli, tmp_path):
    dest = tmp_path / "old-model"
    one_error(
        cli("new", str(dest), "--defaults", "--vcs-ref", "v9.9.9"), 1, "is not in mlplate's history"
    )
    assert not dest.exists()
    assert [path.name for path in tmp_path.iterdir()] == []


def test_the_current_release_is_the_ordinary_render(cli, tmp_path):
    dest = tmp_path / "now-model"
    assert cli("new", str(dest), "--defaults", "--vcs-ref", f"v{__version__}").exit_code == 0
    assert (
        dest / ".mlplate" / "wheels" / f"mlplate_runtime-{__version__}-py3-none-any.whl"
    ).is_file()
