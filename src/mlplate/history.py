"""The template's releases, and a git bundle of them so updates need no network.

A release is a version of mlplate: the commit (on the first-parent line of the
repository) that changes ``__version__`` starts it, and a ``vX.Y.Z`` tag marks it
where tags exist. The release's template is the template of the last commit with
that version (for the current version: the working tree), so builds between two
version bumps, which all record ``_commit: vX.Y.Z``, find the template they came
from. `release_check` keeps that true from now on: the template may only change
together with the version.

The bundle holds one commit per release whose tree is the template alone (the
repository root's copier.yml, cookiecutter.json, hooks/ and body; before v0.2.0
the folder src/mlplate/template), tagged vX.Y.Z. copier clones it like any git
repository. The wheel carries it (see hatch_build.py); a source checkout builds
it on demand.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from mlplate.errors import MlplateError
from mlplate.git import git, git_succeeds
from mlplate.release_tags import RELEASE, version_key
from mlplate.template import TEMPLATE_PATHS

VERSION_FILE = "src/mlplate/__init__.py"
LEGACY_TEMPLATE_DIR = "src/mlplate/template"  # where the template lived before v0.2.0
PACKAGED_BUNDLE = Path(__file__).parent / "template-history.bundle"
VERSION_LINE = re.compile(r'^__version__ = "([^"]+)"', re.MULTILINE)
# Fixed identity and dates: the same trees always give the same commits.
IDENTITY = {
    "GIT_AUTHOR_NAME": "mlplate",
    "GIT_AUTHOR_EMAIL": "mlplate@localhost",
    "GIT_COMMITTER_NAME": "mlplate",
    "GIT_COMMITTER_EMAIL": "mlplate@localhost",
    "GIT_AUTHOR_DATE": "@0 +0000",
    "GIT_COMMITTER_DATE": "@0 +0000",
}


@dataclass(frozen=True)
class Release:
    """One version of the template: where it starts, and the commit holding its template."""

    tag: str
    bump: str | None  # the commit that set the version (None: not committed yet)
    source: str | None  # the commit whose template is the release's (None: the working tree)


def _git(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    context = "while reading the template history"
    return git(*args, cwd=cwd, env={**IDENTITY, **(env or {})}, context=context).strip()


def working_version(repo: Path) -> str:
    """The version in the working tree's src/mlplate/__init__.py, as a tag."""
    match = VERSION_LINE.search((repo / VERSION_FILE).read_text())
    if not match:
        raise MlplateError(f"{VERSION_FILE} sets no __version__")
    return f"v{match.group(1)}"


def _has_commits(repo: Path) -> bool:
    return git_succeeds("rev-parse", "--verify", "--quiet", "HEAD", cwd=repo)


def releases(repo: Path) -> list[Release]:
    """Every release on HEAD's first-parent line, oldest first, and the working tree's."""
    line: list[str] = []
    version_at: dict[str, str] = {}
    if _has_commits(repo):
        line = _git("rev-list", "--first-parent", "--reverse", "HEAD", cwd=repo).split()
        log = _git(
            "log",
            "--first-parent",
            "--reverse",
            "--format=release-commit %H",
            "-p",
            "--unified=0",
            "--",
            VERSION_FILE,
            cwd=repo,
        )
        commit = ""
        for text in log.splitlines():
            if text.startswith("release-commit "):
                commit = text.split()[1]
            elif text.startswith("+") and (match := VERSION_LINE.match(text[1:])):
                version_at[commit] = f"v{match.group(1)}"
    found: list[Release] = []
    current: str | None = None
    for index, commit in enumerate(line):
        tag = version_at.get(commit)
        if tag is None or tag == current:
            continue
        if found:  # the previous release ends at the commit before this bump
            previous = found[-1]
            found[-1] = Release(previous.tag, previous.bump, line[index - 1])
        found.append(Release(tag, commit, line[-1]))
        current = tag
    working = working_version(repo)
    if found and found[-1].tag == working:
        found[-1] = Release(working, found[-1].bump, None)
    else:
        found.append(Release(working, None, None))
    return found


def _template_tree(repo: Path, commit: str | None, git_dir: dict[str, str]) -> str:
    """The tree of the template alone at ``commit`` (None: the working tree)."""
    if commit is None:
        index = {"GIT_INDEX_FILE": str(Path(git_dir["GIT_DIR"]) / "index-working"), **git_dir}
        # --force: the template's own .gitignore files must not hide template files.
        _git(
            "--work-tree",
            str(repo),
            "add",
            "--all",
            "--force",
            "--",
            *TEMPLATE_PATHS,
            ":(exclude)**/__pycache__",
            env=index,
        )
        return _git("write-tree", env=index)
    legacy = f"{commit}:{LEGACY_TEMPLATE_DIR}"
    if git_succeeds("rev-parse", "--verify", "--quiet", legacy, cwd=repo):
        return _git("rev-parse", legacy, cwd=repo)
    entries = _git("ls-tree", commit, "--", *TEMPLATE_PATHS, cwd=repo)
    return git("mktree", env={**IDENTITY, **git_dir}, stdin=entries + "\n").strip()


def _real_tags(repo: Path) -> dict[str, str]:
    if not _has_commits(repo):
        return {}
    listed = _git("tag", "--list", "v*", "--format=%(refname:short) %(objectname)^{}", cwd=repo)
    tags = {}
    for row in listed.splitlines():
        tag, _, _ = row.partition(" ")
        if RELEASE.match(tag):
            tags[tag] = _git("rev-parse", f"{tag}^{{commit}}", cwd=repo)
    return tags


@contextmanager
def template_store(repo: Path) -> Iterator[dict[str, str]]:
    """A scratch bare repository that reads ``repo``'s objects; yields its GIT_DIR setting."""
    objects = Path(_git("rev-parse", "--path-format=absolute", "--git-common-dir", cwd=repo))
    with tempfile.TemporaryDirectory() as work:
        store = Path(work) / "history.git"
        _git("init", "--quiet", "--bare", str(store))
        (store / "objects" / "info" / "alternates").write_text(str(objects / "objects") + "\n")
        yield {"GIT_DIR": str(store)}


def template_tree(repo: Path, commit: str | None, store: dict[str, str]) -> str:
    """The id of the template-only tree at ``commit`` (None: the working tree)."""
    return _template_tree(repo.resolve(), commit, store)


def build_bundle(repo: Path, out: Path) -> Path:
    """Write a bundle with one template-only commit per release of ``repo``, tagged."""
    repo = repo.resolve()
    known = {release.tag: release for release in releases(repo)}
    for tag, commit in _real_tags(repo).items():  # a real tag marks its release exactly
        bump = known[tag].bump if tag in known else commit
        known[tag] = Release(tag, bump, commit)
    with template_store(repo) as git_dir:
        parent: str | None = None
        for tag in sorted(known, key=version_key):
            tree = _template_tree(repo, known[tag].source, git_dir)
            args = ["commit-tree", tree, "-m", f"mlplate template {tag}"]
            if parent:
                args += ["-p", parent]
            parent = _git(*args, env=git_dir)
            _git("tag", tag, parent, env=git_dir)
        out.parent.mkdir(parents=True, exist_ok=True)
        _git("bundle", "create", "--quiet", str(out), "--tags", env=git_dir)
    return out


def bundle_tags(bundle: Path) -> list[str]:
    """The release tags a bundle holds, oldest first."""
    refs = _git("bundle", "list-heads", str(bundle))
    tags = [row.rsplit("/", 1)[-1] for row in refs.splitlines() if "refs/tags/" in row]
    return sorted((tag for tag in tags if RELEASE.match(tag)), key=version_key)


def history_bundle() -> Path:
    """The bundle to update from: packaged in the wheel, or built from this source checkout."""
    if PACKAGED_BUNDLE.exists():
        return PACKAGED_BUNDLE
    from mlplate.template import SOURCE_ROOT

    if not (SOURCE_ROOT / ".git").exists():
        raise MlplateError(
            "this mlplate installation carries no template history; reinstall it from a wheel"
        )
    cache = Path(tempfile.gettempdir()) / f"mlplate-history-{os.getuid()}"
    cache.mkdir(parents=True, exist_ok=True)
    # Build beside the cached bundle, then swap it in atomically: concurrent updates
    # (parallel tests, two terminals) never read a half-written bundle.
    staging = Path(tempfile.mkdtemp(dir=cache))
    fresh = build_bundle(SOURCE_ROOT, staging / "template-history.bundle")
    target = cache / "template-history.bundle"
    os.replace(fresh, target)
    staging.rmdir()
    return target


BODY = "{{cookiecutter.__project_slug}}/"


@cache
def ever_rendered() -> frozenset[str]:
    """Every path any release's template body held, relative to the project (the package
    folder still spelled ``{{cookiecutter.__package_name}}``)."""
    with tempfile.TemporaryDirectory() as work:
        _git("clone", "--quiet", "--bare", str(history_bundle()), work)
        names = _git("log", "--all", "--pretty=format:", "--name-only", cwd=Path(work))
    return frozenset(
        name.removeprefix(BODY) for name in names.splitlines() if name.startswith(BODY)
    )
