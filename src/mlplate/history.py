"""The template's release history as a git bundle, so updates need no network.

Each release tag vX.Y.Z of the mlplate repository becomes a commit whose tree is
the template folder at that tag; the working tree's template becomes the current
version's commit when that version is not tagged yet. copier clones the bundle
like any git repository. The wheel carries the bundle (see hatch_build.py); a
source checkout builds it on demand.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

from mlplate.errors import MlplateError

TEMPLATE_DIR = "src/mlplate/template"
PACKAGED_BUNDLE = Path(__file__).parent / "template-history.bundle"
TAG_PATTERN = re.compile(r"^v\d+\.\d+\.\d+$")
# Fixed identity and dates: the same trees always give the same commits.
IDENTITY = {
    "GIT_AUTHOR_NAME": "mlplate",
    "GIT_AUTHOR_EMAIL": "mlplate@localhost",
    "GIT_COMMITTER_NAME": "mlplate",
    "GIT_COMMITTER_EMAIL": "mlplate@localhost",
    "GIT_AUTHOR_DATE": "@0 +0000",
    "GIT_COMMITTER_DATE": "@0 +0000",
}


def _git(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **IDENTITY, **(env or {})},
        check=False,
    )
    if result.returncode != 0:
        raise MlplateError(
            f"git {args[0]} failed while building the template history: {result.stderr.strip()}"
        )
    return result.stdout.strip()


def _version_key(tag: str) -> tuple[int, ...]:
    return tuple(int(part) for part in tag[1:].split("."))


def build_bundle(repo: Path, out: Path, *, current_version: str) -> Path:
    """Write a bundle of template releases (tags of ``repo``, plus the working tree)."""
    tags = sorted(
        (tag for tag in _git("tag", "--list", "v*", cwd=repo).split() if TAG_PATTERN.match(tag)),
        key=_version_key,
    )
    with tempfile.TemporaryDirectory() as work:
        store = Path(work) / "history.git"
        _git("init", "--quiet", "--bare", str(store))
        git_dir = {"GIT_DIR": str(store)}
        parent: str | None = None
        released: list[str] = []
        for tag in tags:
            # Bring the template tree of this tag into the new store, then commit it alone.
            with tempfile.TemporaryDirectory() as tree:
                _git(
                    "--work-tree",
                    tree,
                    "--git-dir",
                    str(repo / ".git"),
                    "checkout",
                    f"{tag}^{{tree}}",
                    "--",
                    TEMPLATE_DIR,
                    cwd=repo,
                    env={"GIT_INDEX_FILE": str(Path(tree) / ".index")},
                )
                parent = _commit_folder(Path(tree) / TEMPLATE_DIR, tag, parent, git_dir)
            released.append(tag)
        current = f"v{current_version}"
        if current not in released:
            parent = _commit_folder(repo / TEMPLATE_DIR, current, parent, git_dir)
            released.append(current)
        out.parent.mkdir(parents=True, exist_ok=True)
        _git("bundle", "create", "--quiet", str(out), *released, env=git_dir)
    return out


def _commit_folder(folder: Path, tag: str, parent: str | None, git_dir: dict[str, str]) -> str:
    index = {"GIT_INDEX_FILE": str(Path(git_dir["GIT_DIR"]) / f"index-{tag}"), **git_dir}
    # --force: the template's own .gitignore files must not hide template files.
    _git(
        "--work-tree",
        str(folder),
        "add",
        "--all",
        "--force",
        "--",
        ".",
        ":(exclude)**/__pycache__",
        env=index,
    )
    tree = _git("write-tree", env=index)
    args = ["commit-tree", tree, "-m", f"mlplate template {tag}"]
    if parent:
        args += ["-p", parent]
    commit = _git(*args, env=git_dir)
    _git("tag", tag, commit, env=git_dir)
    return commit


def history_bundle() -> Path:
    """The bundle to update from: packaged in the wheel, or built from this source checkout."""
    if PACKAGED_BUNDLE.exists():
        return PACKAGED_BUNDLE
    from mlplate import __version__

    repo = Path(__file__).parents[2]
    if not (repo / ".git").exists():
        raise MlplateError(
            "this mlplate installation carries no template history; reinstall it from a wheel"
        )
    cache = Path(tempfile.gettempdir()) / f"mlplate-history-{os.getuid()}"
    cache.mkdir(parents=True, exist_ok=True)
    # Build beside the cached bundle, then swap it in atomically: concurrent updates
    # (parallel tests, two terminals) never read a half-written bundle.
    staging = Path(tempfile.mkdtemp(dir=cache))
    fresh = build_bundle(repo, staging / "template-history.bundle", current_version=__version__)
    target = cache / "template-history.bundle"
    os.replace(fresh, target)
    staging.rmdir()
    return target
