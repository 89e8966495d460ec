"""Files a release stops rendering: an update deletes the ones the team never changed and keeps,
and names, the ones it did (and, crossing the thin layout, the Makefile keeps the team's own
targets: see makefile_split).

copier merges a file that leaves the template as a deletion whatever the team did to it (the
team's edit is lost without a word), and keeps a file the template starts to exclude for the
project's answers (dead code that then fails lint). Both cases are settled here by comparing
the project, as committed before the update, with the release it was on:

- unchanged by the team: deleted;
- changed, and part of a runtime part a team may own (`mlplate eject`): the part is ejected
  and the team's change merged into the project's copy (three-way, the old release as base);
- changed otherwise: kept where it was, with the extension point that now takes the change.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlplate import __version__
from mlplate.answers_file import read_project_answers, recorded_answers
from mlplate.errors import MlplateError
from mlplate.git import git, git_bytes
from mlplate.makefile_split import carry_team_targets
from mlplate.reference import render_release

# Where a change to a plumbing module of the full layout (v0.2.27 and before) belongs now.
EXTENSION_POINTS = (
    ("features/", "src/{package}/features.py (DERIVED_FEATURES and add_features)"),
    ("models/", "src/{package}/model.py (build_estimator) and params.yaml's model section"),
    ("config.py", "params.yaml (sections of your own are kept) or src/{package}/model.py"),
    ("cli.py", "the Makefile (your targets) or a module of your own run by a dvc.yaml stage"),
    ("data/", "data/contract.yaml (`make use-data` writes it)"),
)


@dataclass(frozen=True)
class KeptFile:
    """A changed file the release no longer renders, and what became of it."""

    path: str  # relative to the project
    note: str  # what happened, or what the team should do
    needs_a_person: bool  # False when the change was carried over and nothing is left to do


def _rendered_files(root: Path) -> set[str]:
    return {
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


def _committed(project: Path, relative: str) -> bytes | None:
    """The file as committed before the update (None if the team had deleted it)."""
    try:
        return git_bytes("show", f"HEAD:./{relative}", cwd=project)
    except MlplateError:  # not in HEAD
        return None


def _package(answers: Mapping[str, Any]) -> str:
    from mlplate.answers import derived_names

    return derived_names({"project_name": answers.get("project_name", "")})[1]


def _advice(relative: str, package: str) -> str:
    inside = relative.removeprefix(f"src/{package}/")
    if relative.startswith("tests/"):
        return (
            "you changed this test of the runtime's plumbing; the runtime tests it now: keep "
            "your cases by pointing them at mlplate_runtime (or an ejected part), or delete it"
        )
    for prefix, place in EXTENSION_POINTS:
        if inside.startswith(prefix):
            target = place.format(package=package)
            return (
                "you changed it and mlplate-runtime holds it now: move your change to "
                f"{target}, then delete this file"
            )
    return (
        "you changed it and the release no longer renders it: keep what you need in a module "
        "of your own, then delete this file"
    )


def _as_runtime_module(text: str, package: str) -> str:
    """The module as the runtime would spell it: imports of the project's plumbing modules
    become imports of mlplate_runtime's (an ejected copy keeps the runtime's imports)."""
    return re.sub(rf"\b{re.escape(package)}\.(?=[a-z_])", "mlplate_runtime.", text)


def _merge(ours: str, base: str, theirs: str, work: Path) -> tuple[str, bool]:
    """Three-way merge of text: (result, clean)."""
    files = []
    for name, text in (("ours", ours), ("base", base), ("theirs", theirs)):
        path = work / name
        path.write_text(text, encoding="utf-8")
        files.append(str(path))
    merged = subprocess.run(
        ["git", "merge-file", "-p", "-L", "your change", "-L", "the release you were on",
         "-L", f"mlplate-runtime {__version__}", *files],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    return merged.stdout, merged.returncode == 0


def _eject_with_changes(
    project: Path, package: str, part: str, changed: dict[str, tuple[str, str]], work: Path
) -> list[KeptFile]:
    """Eject ``part`` and merge the team's changes (path -> (theirs, base)) into its copy."""
    from mlplate.eject import eject

    ejected = eject(project, part)
    kept = []
    for relative, (ours, base) in sorted(changed.items()):
        target = project / relative
        if relative not in ejected.files:
            target.write_text(ours, encoding="utf-8")
            note = f"mlplate-runtime no longer has this module of {part}"
            kept.append(KeptFile(relative, f"{note}: {_advice(relative, package)}", True))
            continue
        lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
        header, runtime = "".join(lines[:2]), "".join(lines[2:])  # eject's two-line header
        merged, clean = _merge(
            _as_runtime_module(ours, package), _as_runtime_module(base, package), runtime, work
        )
        target.write_text(header + merged, encoding="utf-8")
        note = (
            f"your change is merged into `{part}`, now the project's (ejected into src/{package}/)"
            if clean
            else f"`{part}` is now the project's (ejected); your change conflicts with the "
            "runtime's newer code: resolve the marked lines (keep both sides' intent)"
        )
        kept.append(KeptFile(relative, note, not clean))
    return kept


def settle_dropped_files(
    project: Path, before: Mapping[str, Any], from_version: str, *, can_eject: bool
) -> list[KeptFile]:
    """Delete what the release stopped rendering and the team never changed; keep the rest.

    ``before`` holds the answers recorded before the update; ``can_eject`` says whether the
    project is now on this mlplate's runtime (whose parts `eject` copies). Returns the changed
    files kept.
    """
    from mlplate.answers import resolve_answers

    after = read_project_answers(project)
    to_version = str(after.get("_commit"))
    package = _package(before)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        new = render_release(
            after, resolve_answers(recorded_answers(after)), to_version, work / "new"
        )
        if not _maybe_dropped(project, new, package):
            return []  # nothing the old release rendered is missing from the new: no old render
        old = render_release(
            before, resolve_answers(recorded_answers(before)), from_version, work / "old"
        )
        carry_team_targets(project, old, new, _committed(project, "Makefile"), from_version)
        dropped = sorted(_rendered_files(old) - _rendered_files(new))
        kept, by_part = _settle(project, old, dropped, package, can_eject=can_eject)
        for part, changed in by_part.items():
            for relative in changed:  # copier deleted them; the ejected part takes their place
                (project / relative).unlink(missing_ok=True)
            kept += _eject_with_changes(project, package, part, changed, work)
    return sorted(kept, key=lambda item: item.path)


def _settle(
    project: Path, old: Path, dropped: list[str], package: str, *, can_eject: bool
) -> tuple[list[KeptFile], dict[str, dict[str, tuple[str, str]]]]:
    """Delete each unchanged dropped file; keep a changed one (named), or set it aside, with
    the old release's text, for its runtime part to be ejected."""
    from mlplate.eject import PARTS

    kept: list[KeptFile] = []
    by_part: dict[str, dict[str, tuple[str, str]]] = {}
    moved = _moved_by_migration(project)
    for relative in dropped:
        committed = _committed(project, relative)
        if relative in moved or committed is None:  # renamed by a migration, or deleted
            continue
        target = project / relative
        if committed == (old / relative).read_bytes():
            if target.is_file():
                target.unlink()
                _remove_empty_parents(target.parent, project)
            continue
        part = relative.removeprefix(f"src/{package}/").split("/")[0].removesuffix(".py")
        if can_eject and relative.startswith(f"src/{package}/") and part in PARTS:
            by_part.setdefault(part, {})[relative] = (
                committed.decode("utf-8"),
                (old / relative).read_text(encoding="utf-8"),
            )
            continue
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(committed)
        kept.append(KeptFile(relative, _advice(relative, package), True))
    return kept, by_part


def _maybe_dropped(project: Path, new: Path, package: str) -> bool:
    """Whether the project, as committed, holds a file some release rendered that the new one
    does not (or a Makefile that moves to the thin layout): only then is the old release
    rendered to compare with."""
    from mlplate.history import ever_rendered

    # ls-tree names paths relative to the working folder (the project, in a monorepo too).
    listing = git("ls-tree", "-r", "-z", "--name-only", "HEAD", "--", ".", cwd=project)
    committed = set(listing.split("\0")) - {""}
    if (new / "mlplate.mk").exists() and "mlplate.mk" not in committed:
        return True
    earlier = {path.replace("{{cookiecutter.__package_name}}", package) for path in ever_rendered()}
    return any(path in earlier and not (new / path).exists() for path in committed)


def _moved_by_migration(project: Path) -> set[str]:
    """Files a migration renamed (`git mv`, staged), relative to the project."""
    renames = git(
        "diff", "--cached", "-M", "--name-status", "--relative", "HEAD", "--", ".", cwd=project
    )
    return {
        fields[1]
        for fields in (row.split("\t") for row in renames.splitlines())
        if fields[0].startswith("R") and len(fields) == 3
    }


def _remove_empty_parents(folder: Path, project: Path) -> None:
    while folder != project and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
