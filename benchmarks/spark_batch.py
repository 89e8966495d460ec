"""Batch scoring on Spark against the local batch, on one machine.

Writes a --rows file made from the classification test project's data contract
(mlplate_runtime.data.synthetic), fits the project's model in-process (as the runtime's `fitted`
fixture does), then scores the file with the local batch and with Spark in local mode at
local[1] and local[2] (a warm-up run on 1,000 rows first, so Python workers are started), and
checks that the three give the same answers row for row. Prints each engine's time (the
command's own figure: reading, checking the contract, scoring, writing; not the model load or
the session start), the scaling ratio local[2] vs local[1], and Spark vs the local batch.

Usage (the runtime's venv, with the spark extra and Java):
    runtime/.venv/bin/python benchmarks/spark_batch.py [--rows 1000000] [--format csv|parquet]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

PARAMS = Path(__file__).parents[1] / "runtime" / "tests" / "projects" / "classification"


def read_output(location: Path) -> pd.DataFrame:
    """A local batch's file or a Spark folder of parts, sorted by row."""
    parts = (
        sorted(p for p in location.iterdir() if not p.name.startswith(("_", ".")))
        if location.is_dir()
        else [location]
    )
    if location.suffix == ".parquet":
        frame = pd.concat([pd.read_parquet(part) for part in parts], ignore_index=True)
    else:
        frame = pd.concat([pd.read_csv(part) for part in parts], ignore_index=True)
    return frame.sort_values("row").reset_index(drop=True)


def same_answers(local: pd.DataFrame, spark: pd.DataFrame, label: str) -> None:
    assert list(local.columns) == list(spark.columns), (label, local.columns, spark.columns)
    assert local["row"].tolist() == spark["row"].tolist(), f"{label}: rows differ"
    assert local["prediction"].astype(str).tolist() == spark["prediction"].astype(str).tolist()
    probabilities = [name for name in local.columns if name.startswith("probability")]
    for name in probabilities:
        np.testing.assert_allclose(spark[name], local[name], rtol=1e-12, err_msg=f"{label} {name}")
    assert set(local["input_sha256"]) == set(spark["input_sha256"]), f"{label}: input hash"
    assert set(local["model_version"].astype(str)) == set(spark["model_version"].astype(str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    arguments = parser.parse_args()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

    from mlplate_runtime.config import load_settings
    from mlplate_runtime.data.synthetic import synthetic_frame
    from mlplate_runtime.features.build import add_features, feature_matrix
    from mlplate_runtime.models import batch, spark_batch
    from mlplate_runtime.models.loaded import LoadedModel
    from mlplate_runtime.models.tasks import task_for
    from mlplate_runtime.models.train import fit_model

    settings = load_settings(PARAMS / "params.yaml")
    contract = settings.contract
    training = add_features(synthetic_frame(contract, 2000, seed=7), contract)
    labels = task_for(settings).labels(training[contract.target])
    fitted = fit_model(settings, feature_matrix(training, contract), labels)
    model = LoadedModel(
        "champion", "models:/bench@champion", fitted, contract, task_for(settings), version="1"
    )
    batch.load_model = lambda *_args, **_kwargs: model  # type: ignore[assignment]

    folder = Path(tempfile.mkdtemp(prefix="spark-bench-"))
    started = time.perf_counter()
    frame = synthetic_frame(contract, arguments.rows, seed=1)
    source = folder / f"records.{arguments.format}"
    warmup = folder / f"warmup.{arguments.format}"
    if arguments.format == "csv":
        frame.to_csv(source, index=False)
        frame.head(1000).to_csv(warmup, index=False)
    else:
        frame.to_parquet(source, index=False)
        frame.head(1000).to_parquet(warmup, index=False)
    del frame
    size = source.stat().st_size / 1e6
    print(
        f"input: {arguments.rows:,} rows, {arguments.format}, {size:.0f} MB "
        f"(written in {time.perf_counter() - started:.1f} s); {os.cpu_count()} cores; "
        f"Python {sys.version.split()[0]}"
    )

    local = batch.predict_batch(settings, source, folder / "local.parquet")
    print(f"local batch      {local.seconds:7.1f} s  {local.rows / local.seconds:10,.0f} rows/s")
    expected = read_output(local.output)

    seconds = {}
    for master in ("local[1]", "local[2]"):
        session = spark_batch.spark_session(master)
        session.conf.set("spark.sql.shuffle.partitions", "2")
        tag = master.removeprefix("local[").removesuffix("]")
        spark_batch.predict_batch_spark(
            settings, str(warmup), str(folder / f"warmup-{tag}.parquet"), spark=session
        )
        result = spark_batch.predict_batch_spark(
            settings, str(source), str(folder / f"spark-{tag}.parquet"), spark=session
        )
        session.stop()
        seconds[master] = result.seconds
        print(
            f"spark {master:<10} {result.seconds:7.1f} s  "
            f"{result.rows / result.seconds:10,.0f} rows/s"
        )
        same_answers(expected, read_output(Path(result.output)), master)
    print("answers: the same row for row (rows, predictions, probabilities, hash, version)")
    print(
        f"scaling local[2] vs local[1]: {seconds['local[1]'] / seconds['local[2]']:.2f}x faster; "
        f"spark local[2] vs local batch: {local.seconds / seconds['local[2]']:.2f}x "
        f"(>1: Spark faster)"
    )


if __name__ == "__main__":
    main()
