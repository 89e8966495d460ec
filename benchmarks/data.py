"""Time the `validate` and `prepare` stages of the runtime on large data from the example contract.

For each size: write N synthetic rows (from the contract of the runtime's classification test
project) as CSV under a temporary directory, then in a fresh process per step time `validate`
(read + contract checks), `prepare` (read, validate, type, split, write) and the contract checks
alone on a frame already in memory, and report throughput and peak memory (ru_maxrss of that
process, less its peak before the step) against the file size, all measured in this run. The
CPU time of the step is printed too: on a busy machine it is steadier than the elapsed time.
Each code is first run on a small file, so that the modules a step imports are compiled (their
bytecode cached) before any timing, as an installed project's are.
Targets (issue #30): prepare >= 1 M rows/s with peak memory <= 2x the file.

``--baseline SRC`` also times the same steps, on the same file, with the runtime's code from
SRC (a ``runtime/src`` directory, e.g. of `git archive` of another commit), for a before/after.
Usage: python benchmarks/data.py [--rows 1000000 10000000] [--baseline /tmp/base/runtime/src]
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

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "runtime" / "tests" / "projects" / "classification"

WRITE = """
import sys
from mlplate_runtime.config import load_settings
from mlplate_runtime.data.synthetic import synthetic_frame, write_table
settings = load_settings()
rows = int(sys.argv[1])
frame = synthetic_frame(settings.contract, rows, seed=1)
write_table(settings.path(settings.params.data.raw_path), frame)
"""
# One measurement per process, so that peak memory (ru_maxrss) belongs to that step alone.
MEASURE = """
import json, resource, sys, time
step = sys.argv[1]
from mlplate_runtime.config import load_settings
from mlplate_runtime.data.contract import validation_problems
from mlplate_runtime.data.ingest import read_table
from mlplate_runtime.data.prepare import check_raw_data, prepare
settings = load_settings()
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
started, cpu = time.perf_counter(), time.process_time()
if step == "validate":
    check_raw_data(settings)
elif step == "checks":
    frame = read_table(settings.path(settings.params.data.raw_path))
    started, cpu = time.perf_counter(), time.process_time()
    assert validation_problems(frame, settings.contract) == []
else:
    prepare(settings)
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "cpu": cpu, "peak": peak, "baseline": baseline}))
"""
STEPS = (
    ("checks", "contract checks alone (frame in memory)"),
    ("validate", "validate stage (read CSV + checks)"),
    ("prepare", "prepare stage (read, validate, split, write)"),
)


def project_python(project: Path, source: Path | None, code: str, *args: str) -> str:
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # compiled once (the warm-up), as installed code is
    if source is not None:  # that code, ahead of the installed runtime
        env["PYTHONPATH"] = str(source)
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=project,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


def measure(project: Path, source: Path | None, rows: int, size: int, name: str) -> None:
    for step, label in STEPS:
        found = json.loads(project_python(project, source, MEASURE, step))
        if not name:
            continue  # the warm-up
        rate = rows / found["seconds"] / 1e6
        memory = found["peak"] - found["baseline"]
        line = f"  {name:<7} {label:<45} {found['seconds']:6.2f} s {rate:5.2f} M rows/s"
        line += f" (CPU {found['cpu']:6.2f} s)"
        if step != "checks":  # that process also read the file: its memory is validate's
            line += f"  peak +{memory / 1e6:7.0f} MB ({memory / size:4.2f}x file)"
        print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--baseline", type=Path, help="runtime/src of the code to compare with")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mlplate-data-bench-"))
    try:
        project = work / "bench-model"
        (project / "data").mkdir(parents=True)
        shutil.copy(EXAMPLE / "params.yaml", project)
        shutil.copy(EXAMPLE / "data" / "contract.yaml", project / "data")
        print(f"data benchmark: example contract, {os.cpu_count()} cores", flush=True)
        # A warm-up on a small file: every module a step imports is compiled before timing.
        project_python(project, None, WRITE, "2000")
        for source in (options.baseline, None):
            measure(project, source and source.resolve(), 2000, 1, "")
        for rows in options.rows:
            project_python(project, None, WRITE, str(rows))
            raw = next((project / "data" / "raw").iterdir())
            size = raw.stat().st_size
            print(f"{rows:>11,} rows, CSV {size / 1e6:8.1f} MB", flush=True)
            if options.baseline is not None:
                measure(project, options.baseline.resolve(), rows, size, "before")
            measure(project, None, rows, size, "now")
            raw.unlink()
            shutil.rmtree(project / "data" / "prepared", ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
