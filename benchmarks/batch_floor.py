"""Batch scoring against its floor: the same file read by pyarrow and scored, in one process.

Fits the model of the runtime's classification test project on its synthetic sample, writes N
synthetic rows of its contract as CSV and as Parquet, then for each file measures in fresh
processes (so peak memory is the command's own):
- the floor: pyarrow reads the whole file, the model scores every row (no checks, no output);
- `predict_batch`: contract checks, scoring, rejected rows, Parquet output with one schema.
It prints rows/s, the ratio batch/floor (target <= 1.5) and the peak RSS of each.
Run with the runtime's environment: runtime/.venv/bin/python benchmarks/batch_floor.py
Usage: batch_floor.py [--rows 1000000 10000000] [--project classification]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

RUNTIME = Path(__file__).resolve().parent.parent / "runtime"

SETUP = """
import pickle, sys
from pathlib import Path
from mlplate_runtime.config import load_settings
from mlplate_runtime.data.synthetic import synthetic_frame
from mlplate_runtime.features.build import add_features, feature_matrix
from mlplate_runtime.models.tasks import task_for
from mlplate_runtime.models.train import fit_model
settings = load_settings(Path(sys.argv[1]) / "params.yaml")
sample = synthetic_frame(settings.contract, 2000, seed=7)
frame = add_features(sample, settings.contract)
labels = task_for(settings).labels(frame[settings.contract.target])
model = fit_model(settings, feature_matrix(frame, settings.contract), labels)
Path(sys.argv[2]).write_bytes(pickle.dumps(model))
rows = int(sys.argv[3])
big = synthetic_frame(settings.contract, rows, seed=1).drop(columns=[settings.contract.target])
big.to_csv(sys.argv[4], index=False)
big.to_parquet(sys.argv[5], index=False)
"""

COMMON = """
import json, pickle, resource, sys, time
from pathlib import Path
from mlplate_runtime.config import load_settings
from mlplate_runtime.models.loaded import LoadedModel
from mlplate_runtime.models.tasks import task_for
settings = load_settings(Path(sys.argv[1]) / "params.yaml")
model = LoadedModel("champion", "bench", pickle.loads(Path(sys.argv[2]).read_bytes()),
                    settings.contract, task_for(settings), version="1")
source = Path(sys.argv[3])
started = time.perf_counter()
"""

FLOOR = (
    COMMON
    + """
import pyarrow.csv, pyarrow.parquet
if source.suffix == ".csv":
    table = pyarrow.csv.read_csv(source)
else:
    table = pyarrow.parquet.read_table(source)
scores = model.scores_of(table.to_pandas())
rows = len(scores)
"""
)

BATCH = (
    COMMON
    + """
from mlplate_runtime.models import batch
batch._load = lambda *_args: model  # the model above, not the registry's
result = batch.predict_batch(settings, source, Path(sys.argv[4]), overwrite=True)
rows = result.rows
"""
)

REPORT = """
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"rows": rows, "seconds": seconds, "peak_mb": peak}))
"""


def run(code: str, *args: str) -> dict:
    python = RUNTIME / ".venv" / "bin" / "python"
    done = subprocess.run(
        [str(python), "-c", code, *args], capture_output=True, text=True, check=False
    )
    if done.returncode:
        sys.exit(f"error: the benchmark step failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--project", default="classification")
    args = parser.parse_args()
    project = RUNTIME / "tests" / "projects" / args.project
    print(f"batch scoring against its floor ({args.project} test project, fresh process each)")
    with tempfile.TemporaryDirectory(prefix="mlplate-batch-bench-") as work:
        folder = Path(work)
        model = folder / "model.pickle"
        for rows in args.rows:
            csv, parquet = folder / "rows.csv", folder / "rows.parquet"
            subprocess.run(
                [
                    str(RUNTIME / ".venv/bin/python"),
                    "-c",
                    SETUP,
                    str(project),
                    str(model),
                    str(rows),
                    str(csv),
                    str(parquet),
                ],
                check=True,
            )
            for source in (csv, parquet):
                size = source.stat().st_size / 2**20
                floor = run(FLOOR + REPORT, str(project), str(model), str(source))
                ours = run(
                    BATCH + REPORT,
                    str(project),
                    str(model),
                    str(source),
                    str(folder / "predictions.parquet"),
                )
                print(
                    f"{rows:>11,} rows {source.suffix[1:]:<8} ({size:6.0f} MB)  "
                    f"floor {floor['rows'] / floor['seconds']:>9,.0f} rows/s "
                    f"peak {floor['peak_mb']:6.0f} MB   "
                    f"predict_batch {ours['rows'] / ours['seconds']:>9,.0f} rows/s "
                    f"peak {ours['peak_mb']:6.0f} MB   "
                    f"time {ours['seconds'] / floor['seconds']:.2f}x the floor (target <= 1.5)",
                    flush=True,
                )
            csv.unlink()
            parquet.unlink()


if __name__ == "__main__":
    main()
