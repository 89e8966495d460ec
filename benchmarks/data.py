"""Time validation and the prepare stage of a generated project on large data from its contract.

For each size: write N synthetic rows (from the project's data contract) as CSV, then in a
fresh process time `validate` (read + contract checks) and `prepare` (read, validate, type,
split, write), and report throughput, the checks alone (without CSV parsing) and peak memory
against the file size. Targets: validation >= 1 million rows/s, memory < 3x the file size.
Usage: python benchmarks/data.py [--rows 1000000 10000000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from mlplate.api import generate

WRITE = """
import sys, time
from bench_model.config import load_settings
from bench_model.data.synthetic import synthetic_frame, write_table
settings = load_settings()
rows = int(sys.argv[1])
frame = synthetic_frame(settings.contract, rows, seed=1)
write_table(settings.path(settings.params.data.raw_path), frame)
"""
# One measurement per process, so that peak memory (ru_maxrss) belongs to that step alone.
MEASURE = """
import json, resource, sys, time
step = sys.argv[1]
from bench_model.config import load_settings
from bench_model.data.contract import validation_problems
from bench_model.data.ingest import read_table
from bench_model.data.prepare import check_raw_data, prepare
settings = load_settings()
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
started = time.perf_counter()
if step == "validate":
    check_raw_data(settings)
elif step == "checks":
    frame = read_table(settings.path(settings.params.data.raw_path))
    started = time.perf_counter()
    assert validation_problems(frame, settings.contract) == []
else:
    prepare(settings)
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "peak": peak, "baseline": baseline}))
"""


def project_python(project: Path, code: str, *args: str) -> str:
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true")
    result = subprocess.run(
        [str(project / ".venv" / "bin" / "python"), "-c", code, *args],
        cwd=project,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    sizes = parser.parse_args().rows
    work = Path(tempfile.mkdtemp(prefix="mlplate-data-bench-"))
    try:
        project = generate(work / "bench-model").path
        env = dict(
            os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
        )
        subprocess.run(["make", "setup"], cwd=project, env=env, check=True, capture_output=True)
        print(f"data benchmark: example contract, {os.cpu_count()} cores")
        for rows in sizes:
            project_python(project, WRITE, str(rows))
            raw = next((project / "data" / "raw").iterdir())
            size = raw.stat().st_size
            print(f"{rows:>11,} rows, CSV {size / 1e6:8.1f} MB")
            for step, label in (
                ("checks", "contract checks alone (frame in memory)"),
                ("validate", "validate stage (read CSV + checks)"),
                ("prepare", "prepare stage (read, validate, split, write)"),
            ):
                found = json.loads(project_python(project, MEASURE, step))
                rate = rows / found["seconds"] / 1e6
                memory = found["peak"] - found["baseline"]
                line = f"  {label:<46} {found['seconds']:7.2f} s  {rate:6.2f} M rows/s"
                if step != "checks":  # that process also read the file: its memory is validate's
                    line += f"  peak +{memory / 1e6:7.0f} MB ({memory / size:4.2f}x file)"
                print(line)
            raw.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
