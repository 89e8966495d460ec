"""The release check CI runs: the template changes only together with the version.

Every generated project records ``_commit: vX.Y.Z``; updates and `mlplate check` find
the template it came from by that version alone. So a change to the template must come
with a new version in src/mlplate/__init__.py and its CHANGELOG.md section, and every
release must be in the history the wheel carries. Run ``python -m mlplate.release_check``
in the repository: it prints one line per problem and exits 1, or says what it checked.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from mlplate.changelog import sections
from mlplate.git import git_succeeds
from mlplate.history import (
    build_bundle,
    bundle_tags,
    releases,
    template_store,
    template_tree,
)
from mlplate.release_tags import version_key


def problems(repo: Path) -> list[str]:
    """What keeps ``repo``'s working tree from being a consistent release."""
    found = []
    history = releases(repo)
    current = history[-1]
    changelog_path = repo / "CHANGELOG.md"
    changelog = sections(changelog_path.read_text()) if changelog_path.exists() else {}
    found += [
        f"CHANGELOG.md has no section `## {release.tag}`; say what the release changes"
        for release in history
        if release.tag not in changelog
    ]
    tags = [release.tag for release in history]
    if tags != sorted(tags, key=version_key):
        found.append(f"versions go backwards along the history: {', '.join(tags)}")
    if current.bump is not None:
        with template_store(repo) as store:
            released = template_tree(repo, current.bump, store)
            working = template_tree(repo, None, store)
        if released != working:
            found.append(
                f"template files changed since {current.tag} was released "
                f"(commit {current.bump[:12]}) but the version did not: bump __version__ in "
                "src/mlplate/__init__.py and add its CHANGELOG.md section"
            )
    found += runtime_problems(repo, current.tag, current.bump)
    with tempfile.TemporaryDirectory() as work:
        bundled = set(bundle_tags(build_bundle(repo, Path(work) / "history.bundle")))
    found += [
        f"release {tag} is missing from the template history bundle"
        for tag in tags
        if tag not in bundled
    ]
    return found


RUNTIME_SOURCE = "runtime/src"
RUNTIME_VERSION_FILE = Path(RUNTIME_SOURCE) / "mlplate_runtime" / "__init__.py"


def runtime_problems(repo: Path, tag: str, bump: str | None) -> list[str]:
    """The runtime ships at the template's version (``tag``), and changes only with a new one."""
    version_file = repo / RUNTIME_VERSION_FILE
    if not version_file.is_file():
        return []
    found = []
    if f'__version__ = "{tag[1:]}"' not in version_file.read_text():
        found.append(
            f'{RUNTIME_VERSION_FILE} does not say __version__ = "{tag[1:]}"; the runtime '
            "is released at mlplate's version"
        )
    for name, line in (
        ("copier.yml", f'  default: "{tag[1:]}"'),
        ("cookiecutter.json", f'"_runtime_version": "{tag[1:]}"'),
    ):
        text = (repo / name).read_text() if (repo / name).is_file() else line
        if "runtime_version" in text and line not in text:
            found.append(f"{name}: the runtime version projects get is not {tag[1:]}; set it")
    if bump is not None and not git_succeeds(
        "diff", "--quiet", bump, "--", RUNTIME_SOURCE, cwd=repo
    ):
        found.append(
            f"the runtime ({RUNTIME_SOURCE}) changed since {tag} was released but the "
            "version did not: bump __version__ in both packages and add the CHANGELOG.md section"
        )
    return found


def main(argv: list[str] | None = None) -> int:
    repo = Path((argv if argv is not None else sys.argv[1:] or ["."])[0])
    found = problems(repo)
    for problem in found:
        print(f"error: {problem}", file=sys.stderr)
    if not found:
        history = ", ".join(release.tag for release in releases(repo))
        print(f"ok: releases {history}; the template matches {releases(repo)[-1].tag}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
