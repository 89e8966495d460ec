"""Time the generated project's own commands on this machine.

Prints: install (`make setup`, warm uv cache), `make test`, cold `dvc repro`,
`register`, no-op `dvc repro`, and `make all` after a parameter change.
Usage: python benchmarks/project.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import summary

from mlplate.api import generate


def timed(*args: str, cwd: Path) -> float:
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true")
    tools = [cwd / ".venv" / "bin", Path(sys.executable).parent]
    env["PATH"] = os.pathsep.join([*map(str, tools), env["PATH"]])
    started = time.perf_counter()
    subprocess.run(list(args), cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    work = Path(tempfile.mkdtemp(prefix="mlplate-project-bench-"))
    results: dict[str, list[float]] = {}
    try:
        for index in range(repeat):
            (work / f"run{index}").mkdir()
            project = generate(work / f"run{index}" / "bench-model").path
            dvc = str(project / ".venv" / "bin" / "dvc")
            cli = str(project / ".venv" / "bin" / "bench_model")
            steps = [
                ("install: make setup (uv, warm cache)", ("make", "setup")),
                ("make test", ("make", "test")),
                ("make data (example data + dvc add)", ("make", "data")),
                ("cold dvc repro (5 stages)", (dvc, "repro")),
                ("register + promotion gate", (cli, "register")),
                ("no-op dvc repro", (dvc, "repro")),
            ]
            for label, command in steps:
                results.setdefault(label, []).append(timed(*command, cwd=project))
            params = project / "params.yaml"
            params.write_text(params.read_text().replace("max_iter: 150", "max_iter: 120"))
            results.setdefault("make all after a param change", []).append(
                timed("make", "all", cwd=project)
            )
        print(f"generated-project benchmark, {repeat} fresh projects, {os.cpu_count()} cores")
        for label, durations in results.items():
            print(summary(label, durations))
        cold = sorted(results["cold dvc repro (5 stages)"])[repeat // 2]
        gate = sorted(results["register + promotion gate"])[repeat // 2]
        print(f"{'cold dvc repro + register (median sum)':<44} {cold + gate:8.2f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
