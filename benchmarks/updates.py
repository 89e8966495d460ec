"""What an update costs a default project: time for one jump from each release where the
layout or a team-facing contract changed, and the lines each later release changes.

For each start release: `mlplate update` of an untouched default project to this release
(seconds, and as a ratio to `mlplate new` measured in the same run), the lines it changes
(git diff --numstat, text files) and whether it ends exactly where `mlplate new` does. Then,
release by release from the first thin release, the lines each release changes; the goal is
that a release changing only the runtime changes only the runtime version lines (and the
wheel in .mlplate/wheels, a binary file counted apart).
Usage: python benchmarks/updates.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mlplate.api import generate, update
from mlplate.reference import render_release
from mlplate.source import template_url
from mlplate.versions import available_versions

STARTS = ("v0.2.0", "v0.2.9", "v0.2.20", "v0.2.27", "v0.2.32")
FIRST_THIN = "v0.2.32"
NAME = "demo-model"


def git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=project, capture_output=True, text=True, check=True
    ).stdout


def at_release(release: str, dest: Path) -> Path:
    render_release({"_src_path": template_url()}, {"project_name": NAME}, release, dest)
    git(dest, "init", "-q", "-b", "main")
    commit(dest, f"generated at {release}")
    return dest


def commit(project: Path, message: str) -> None:
    git(project, "add", "-A")
    git(project, "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", message)


def changed_lines(project: Path) -> tuple[int, int, list[str]]:
    """(lines added + removed in text files, binary files changed, text files changed)."""
    git(project, "add", "-A")
    lines, binary, files = 0, 0, []
    for row in git(project, "diff", "--cached", "--numstat", "HEAD").splitlines():
        added, removed, path = row.split("\t", 2)
        if added == "-":
            binary += 1
        else:
            lines += int(added) + int(removed)
            files.append(path)
    return lines, binary, files


def tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        started = time.perf_counter()
        (work / "new").mkdir()
        fresh = generate(work / "new" / NAME, answers={"project_name": NAME}).path
        new_seconds = time.perf_counter() - started
        print(f"mlplate new --defaults (reference): {new_seconds:.1f} s")
        print("one jump to this release, untouched default project:")
        for start in STARTS:
            project = at_release(start, work / start / NAME)
            started = time.perf_counter()
            result = update(project)
            seconds = time.perf_counter() - started
            lines, binary, _ = changed_lines(project)
            same = "yes" if tree(project) == tree(fresh) else "NO"
            print(
                f"  from {start}: {seconds:5.1f} s ({seconds / new_seconds:.1f}x new), "
                f"{lines:6d} lines, {binary} binary file(s), conflicts {len(result.conflicts)}, "
                f"ends as `mlplate new`: {same}"
            )
        print(f"release by release from {FIRST_THIN}:")
        releases = available_versions({"_src_path": template_url()})
        project = at_release(FIRST_THIN, work / "steps" / NAME)
        for release in releases[releases.index(FIRST_THIN) + 1 :]:
            update(project, to=release)
            lines, binary, files = changed_lines(project)
            commit(project, release)
            shown = ", ".join(files[:4]) + (" ..." if len(files) > 4 else "")
            print(
                f"  {release}: {lines:5d} lines in {len(files)} text file(s) ({shown}), "
                f"{binary} binary"
            )


if __name__ == "__main__":
    sys.exit(main())
