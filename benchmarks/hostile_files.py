"""YAML alias bombs ("billion laughs") where a pull request can put them: how long each is
read before it is refused, and the peak memory of the process that refuses it.

Each case runs in its own process, measured by GNU time (/usr/bin/time): `mlplate new --answers`, `mlplate new --preset`, `mlplate check` of a project
whose .copier-answers.yml holds one, and the project's `check-params` on params.yaml (the
command `make repro` runs before DVC). Beside each, the same command on the file without the
bomb, measured in the same run, as the reference. Goal: refused in under 1 s and 100 MB.
Usage: python benchmarks/hostile_files.py  (the params.yaml case uses runtime/.venv)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).parents[1]
RUNTIME_COMMAND = ROOT / "runtime" / ".venv" / "bin" / "mlplate-run"
BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{previous}'] * 10) if previous else ', '.join(['lol'] * 10)}]\n"
    for previous, name in zip([None, *"abcdefgh"], "abcdefghi", strict=True)
)


def measured(args: list[str], cwd: Path) -> tuple[float, float, int]:
    """(seconds, peak resident MB, exit code) of one command, from GNU time."""
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M", *args], cwd=cwd, capture_output=True, text=True
    )
    seconds, kilobytes = result.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kilobytes) / 1024, result.returncode


def main() -> None:
    mlplate = [sys.executable, "-m", "mlplate"]
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        plain, bomb = work / "plain.yml", work / "bomb.yml"
        plain.write_text("description: a model\n")
        bomb.write_text(BOMB + "description: a model\n")
        subprocess.run([*mlplate, "new", str(work / "project"), "--defaults"], check=True,
                       capture_output=True)  # fmt: skip
        cases = {
            "mlplate new --answers": lambda f, n: [
                *mlplate,
                "new",
                str(work / n),
                "--answers",
                str(f),
                "--defaults",
            ],
            "mlplate new --preset": lambda f, n: [
                *mlplate,
                "new",
                str(work / n),
                "--preset",
                str(f),
                "--defaults",
            ],
            "mlplate check --preset": lambda f, n: [
                *mlplate,
                "check",
                str(work / "project"),
                "--preset",
                str(f),
            ],
        }
        print(f"{'case':34} {'reference':>22} {'with a bomb':>26}")
        for index, (label, command) in enumerate(cases.items()):
            ref = measured(command(plain, f"ref{index}"), work)
            hit = measured(command(bomb, f"bomb{index}"), work)
            print(
                f"{label:34} {ref[0]:6.2f} s {ref[1]:7.0f} MB    {hit[0]:6.2f} s {hit[1]:7.0f} MB exit {hit[2]}"
            )
        project = work / "project"
        params = project / "params.yaml"
        original = params.read_text()
        check = [str(RUNTIME_COMMAND), "check-params"]
        if RUNTIME_COMMAND.exists():
            ref = measured(check, project)
            params.write_text(original + BOMB.replace("a:", "my_stage:", 1))
            hit = measured(check, project)
            print(
                f"{'check-params (params.yaml)':34} {ref[0]:6.2f} s {ref[1]:7.0f} MB    {hit[0]:6.2f} s {hit[1]:7.0f} MB exit {hit[2]}"
            )
        shutil.rmtree(work / "project")


if __name__ == "__main__":
    main()
