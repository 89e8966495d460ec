"""What a team owns in a default project, and how long its everyday commands take.

Prints the files in git, the lines of Python in src/ and tests/ (goals: <= 50 files, <= 400
and <= 300 lines), and `make setup` (warm uv cache), `make test` and `make ci` (goals: 20 s,
15 s, 60 s), each beside the v0.2.27 layout measured in the same run (the last release that
copied the machinery into every project), as a ratio.
Usage: python benchmarks/project_size.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mlplate.api import generate
from mlplate.reference import render_release
from mlplate.source import template_url

FULL_LAYOUT = "v0.2.27"


def git_lines(project: Path, pattern: str) -> int:
    files = subprocess.run(
        ["git", "ls-files", pattern], cwd=project, capture_output=True, text=True, check=True
    ).stdout.split()
    return sum(len((project / name).read_text().splitlines()) for name in files)


def timed(*args: str, cwd: Path) -> float:
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]])
    started = time.perf_counter()
    subprocess.run(list(args), cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def old_project(dest: Path) -> Path:
    render_release({"_src_path": template_url()}, {"project_name": dest.name}, FULL_LAYOUT, dest)
    for command in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "x"]):
        subprocess.run(command, cwd=dest, check=True, capture_output=True)
    return dest


def measure(project: Path) -> dict[str, float]:
    files = subprocess.run(["git", "ls-files"], cwd=project, capture_output=True, text=True)
    figures = {
        "files in git": len(files.stdout.split()),
        "lines of Python in src/": git_lines(project, "src/*.py"),
        "lines of Python in tests/": git_lines(project, "tests/*.py"),
    }
    timed("make", "setup", cwd=project)  # fill the uv cache
    shutil.rmtree(project / ".venv")
    figures["make setup, warm cache (s)"] = timed("make", "setup", cwd=project)
    figures["make test (s)"] = timed("make", "test", cwd=project)
    figures["make ci (s)"] = timed("make", "ci", cwd=project)
    return figures


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="mlplate-size-"))
    try:
        for layout in ("thin", "full"):
            (work / layout).mkdir()
        thin = measure(generate(work / "thin" / "size-model").path)
        full = measure(old_project(work / "full" / "size-model"))
        print(f"default project, {os.cpu_count()} cores: thin layout vs {FULL_LAYOUT}")
        for label, value in thin.items():
            ratio = value / full[label] if full[label] else float("nan")
            print(
                f"  {label:<30} {value:8.1f}   {FULL_LAYOUT}: {full[label]:8.1f}   ratio {ratio:.2f}"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
