"""Batch predictions and tuning in a generated project.

Generates a project, installs it and runs `make all` (a champion in the registry), then prints:
- `make predict-batch` on the example data resampled to each size in --rows, as CSV and as
  Parquet: scoring rows per second (the command's own figure: reading, checking the contract,
  scoring, writing, without the ~2 s of loading the model), wall time, and the peak memory
  (RSS) of the whole command. Target: at least 100,000 rows/s on 2 cores, memory flat in size.
- `make tune` with --trials trials: seconds per trial, and the MLflow logging per trial (the
  nested run: create, log, terminate), which the study records. Target: logging under 50 ms.
Usage: python benchmarks/batch_and_tuning.py [--rows 250000 1000000] [--trials 10]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mlplate.api import generate

# Runs a command and reports its peak memory: a fresh process, so only that command counts.
PEAK_RSS = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
    "sys.exit(code)"
)
RATE = re.compile(r"in ([\d.]+) s \(([\d,]+) rows/s\)")


def environment(project: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", **extra)
    env["PATH"] = os.pathsep.join([str(project / ".venv" / "bin"), env["PATH"]])
    return env


def run(*args: str, cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        list(args), cwd=cwd, env=environment(cwd, **extra), capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(
            f"{' '.join(args)} failed:\n{result.stdout[-1500:]}{result.stderr[-1500:]}"
        )
    return result


def write_inputs(project: Path, sizes: list[int], folder: Path) -> list[Path]:
    """The example data resampled to each size, as CSV and Parquet."""
    code = (
        "import sys, pandas as pd\n"
        "frame = pd.read_csv(sys.argv[1])\n"
        "for size in map(int, sys.argv[3:]):\n"
        "    rows = frame.sample(size, replace=True, random_state=size)\n"
        "    rows.to_csv(f'{sys.argv[2]}/rows-{size}.csv', index=False)\n"
        "    rows.to_parquet(f'{sys.argv[2]}/rows-{size}.parquet', index=False)\n"
    )
    raw = next((project / "data" / "raw").glob("*.csv"))
    python = str(project / ".venv" / "bin" / "python")
    run(python, "-c", code, str(raw), str(folder), *map(str, sizes), cwd=project)
    return [folder / f"rows-{size}.{kind}" for size in sizes for kind in ("csv", "parquet")]


def bench_batch(project: Path, source: Path, scratch: Path) -> None:
    output = scratch / f"predictions-{source.stem}-{source.suffix[1:]}.parquet"
    started = time.perf_counter()
    result = run(
        sys.executable, "-c", PEAK_RSS, "make", "predict-batch", cwd=project,
        INPUT=str(source), OUTPUT=str(output),
    )  # fmt: skip
    wall = time.perf_counter() - started
    peak_mb = int(result.stderr.strip().splitlines()[-1]) / 1024
    seconds, rate = RATE.search(result.stdout).groups()  # type: ignore[union-attr]
    size = int(source.stem.split("-")[1])
    print(
        f"predict-batch {size:>9,} rows {source.suffix[1:]:<8} {rate:>9} rows/s scoring "
        f"({seconds} s)   wall {wall:5.1f} s   peak RSS {peak_mb:6.0f} MB"
    )


def bench_tune(project: Path, trials: int) -> None:
    params = project / "params.yaml"
    params.write_text(
        re.sub(r"n_trials: \d+", f"n_trials: {trials}", params.read_text(encoding="utf-8"))
    )
    started = time.perf_counter()
    run("make", "tune", cwd=project)
    wall = time.perf_counter() - started
    report = json.loads((project / "reports" / "tuning.json").read_text())
    done = sum(report["trials"].values())
    print(
        f"make tune: {done} trials ({report['trials']}) in {wall:.1f} s "
        f"({wall / done:.2f} s a trial, incl. ~4 s of start-up and data)   MLflow logging "
        f"{report['mlflow_seconds_per_trial'] * 1000:.1f} ms a trial (nested run)   "
        f"best cv {report['metric']} {report['best']['value']:.4f} vs params.yaml "
        f"{report['baseline']['value']:.4f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[250_000, 1_000_000])
    parser.add_argument("--trials", type=int, default=10)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        project = generate(Path(scratch) / "p", answers={"project_name": "bench"}).path
        run("make", "setup", cwd=project)
        run("make", "all", cwd=project)
        for source in write_inputs(project, arguments.rows, Path(scratch)):
            bench_batch(project, source, Path(scratch))
        bench_tune(project, arguments.trials)


if __name__ == "__main__":
    main()
