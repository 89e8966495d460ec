"""The batch-scoring job for spark-submit (Glue, EMR, Databricks, Dataproc, Synapse...).

    spark-submit $(python -c 'import mlplate_runtime.models.spark_job as j; print(j.__file__)') \\
      --input s3a://bucket/batches/2024-06-01.parquet \\
      --output s3a://bucket/predictions/2024-06-01.parquet \\
      --params params.yaml [--model-uri models:/churn-model@champion] \\
      [--tracking-uri https://mlflow.example.com] [--overwrite]

It runs `predict-batch --engine spark` on the cluster's SparkSession: the same contract
checks and answers as the API and the local batch (see models.spark_batch). ``--params`` is
the project's params.yaml (its data contract is read from the path params.yaml gives): a local
file, or a URI (s3://, gs://, abfss://, dbfs:/) from which both are copied. Without
``--model-uri`` the job scores with the champion of the registry at ``--tracking-uri`` (else
MLFLOW_TRACKING_URI);
``--model-uri`` may also name an MLflow model folder (a local path, s3://..., dbfs:/...).
Arguments it does not know (Glue adds --JOB_NAME and others) are ignored.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import yaml

from mlplate_runtime.config import load_settings
from mlplate_runtime.errors import ProjectError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spark_job.py", description="Score a CSV or Parquet batch with an mlplate model."
    )
    parser.add_argument("--input", required=True, help="CSV or Parquet file or folder (URI).")
    parser.add_argument("--output", required=True, help="Predictions folder: .csv or .parquet.")
    parser.add_argument("--params", required=True, help="The project's params.yaml (or a URI).")
    parser.add_argument("--model-uri", default=None, help="Model (default: the champion).")
    parser.add_argument(
        "--tracking-uri", default=None, help="MLflow server (default: MLFLOW_TRACKING_URI)."
    )
    parser.add_argument("--overwrite", action="store_true", help="Replace existing outputs.")
    parser.add_argument(
        "--chunk-rows", type=int, default=100_000, help="Rows per Arrow batch in a Python worker."
    )
    return parser


def _local_params(spark: object, params: str, folder: Path) -> Path:
    """params.yaml and its data contract on the driver's disk (copied when ``params`` is a URI)."""
    from mlplate_runtime.models.spark_batch import _Files, is_uri

    if not is_uri(params):
        return Path(params)
    files = _Files(spark)
    if not files.exists(params):
        raise ProjectError(f"--params {params} does not exist")
    local = folder / "params.yaml"
    files.copy_to_local(params, local)
    raw = yaml.safe_load(local.read_text(encoding="utf-8")) or {}
    contract = str((raw.get("data") or {}).get("contract_path") or "data/contract.yaml")
    base = params.rstrip("/").rpartition("/")[0]
    (folder / contract).parent.mkdir(parents=True, exist_ok=True)
    files.copy_to_local(f"{base}/{contract}", folder / contract)
    return local


def _model_uri(uri: str | None) -> str | None:
    """MLflow reads S3 as s3://; Hadoop names it s3a://."""
    if uri and uri.startswith("s3a://"):
        return "s3://" + uri.removeprefix("s3a://")
    return uri or None


def main(argv: list[str] | None = None, *, spark: object | None = None) -> int:
    """Run the job; 0 on success, 1 with one line on stderr for a problem a user can fix."""
    from mlplate_runtime.models.spark_batch import predict_batch_spark, spark_session

    arguments, _ = _parser().parse_known_args(argv)
    if arguments.tracking_uri:
        os.environ["MLFLOW_TRACKING_URI"] = arguments.tracking_uri
    try:
        session = spark if spark is not None else spark_session(master=None)
        with tempfile.TemporaryDirectory() as folder:
            settings = load_settings(_local_params(session, arguments.params, Path(folder)))
            result = predict_batch_spark(
                settings,
                arguments.input,
                arguments.output,
                spark=session,
                model_uri=_model_uri(arguments.model_uri),
                overwrite=arguments.overwrite,
                chunk_rows=arguments.chunk_rows,
            )
    except ProjectError as error:
        from mlplate_runtime.redact import redact

        print(f"error: {redact(str(error))}", file=sys.stderr)
        return 1
    print(
        f"scored {result.scored:,} of {result.rows:,} rows with model {result.model_version} "
        f"in {result.seconds:.1f} s: {result.output}"
    )
    if result.rejected_path is not None:
        print(
            f"warning: {result.rejected:,} rows break the data contract or cannot be scored; "
            f"they and the reasons are in {result.rejected_path}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
