"""Batch inference on Spark (local mode, two executor threads): the local batch's answers row
for row (predictions, rejected rows and their problems, model version, input hash), with the
registry's champion or a packaged model folder, and one-line refusals that write nothing.

Spark needs pyspark (the runtime's `spark` extra) and Java: where either is missing these tests
fail saying what to install, they are not skipped.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlplate_runtime.errors import ProjectError
from mlplate_runtime.models import batch, spark_batch
from mlplate_runtime.models.loaded import LoadedModel
from mlplate_runtime.models.tasks import task_for
from test_batch import broken

pytestmark = pytest.mark.xdist_group("spark")  # one SparkSession, one worker (--dist loadgroup)


@pytest.fixture(scope="module")
def spark():
    """One local SparkSession for the module (~7 s to start)."""
    try:
        spark_batch.require_spark()
    except ProjectError as error:
        pytest.fail(f"{error} (the Spark tests need pyspark and Java; `make setup` installs both)")
    session = spark_batch.spark_session("local[2]")
    session.conf.set("spark.sql.shuffle.partitions", "2")
    yield session
    session.stop()


def read_output(location) -> pd.DataFrame:
    """An output (a local batch's file or a Spark folder of parts) as pandas reads it."""
    location = Path(location)
    if location.is_dir():
        parts = sorted(p for p in location.iterdir() if not p.name.startswith(("_", ".")))
        assert (location / "_SUCCESS").exists(), "a finished Spark output has _SUCCESS"
    else:
        parts = [location]
    if location.suffix == ".parquet":
        frame = pd.concat([pd.read_parquet(part) for part in parts], ignore_index=True)
    else:
        frames = [pd.read_csv(part, dtype=str, keep_default_na=False) for part in parts]
        frame = pd.concat(frames, ignore_index=True)
    return frame.sort_values("row", key=lambda rows: rows.astype("int64")).reset_index(drop=True)


def assert_same(local: pd.DataFrame, spark: pd.DataFrame, *, but: tuple[str, ...] = ()) -> None:
    """The same rows and values (numbers to the last bits, text exactly), except ``but``."""
    assert list(spark.columns) == list(local.columns)
    assert len(spark) == len(local)
    for name in local.columns:
        if name in ("scored_at", *but):
            continue
        ours, theirs = local[name], spark[name]
        if pd.api.types.is_datetime64_any_dtype(ours):  # the same instants, whatever the unit
            assert _instants(theirs) == _instants(ours), name
            continue
        numbers = pd.to_numeric(ours, errors="coerce")
        if numbers.notna().sum() == ours.notna().sum() and ours.notna().any():
            np.testing.assert_allclose(
                pd.to_numeric(theirs).astype(float), numbers.astype(float), rtol=1e-12, err_msg=name
            )
        else:  # a gap is a gap, whichever missing value the reader gives it (None, NaN, NA)
            assert _text(theirs) == _text(ours), name


def _instants(values: pd.Series) -> list[str | None]:
    times = pd.to_datetime(values, utc=True)
    return [None if pd.isna(time) else time.isoformat() for time in times]


def _text(values: pd.Series) -> list[str | None]:
    return [None if pd.isna(value) else str(value) for value in values]


def parquet_input(sample, contract) -> tuple[pd.DataFrame, dict[int, str]]:
    """``sample`` with row 5 naming an unknown category and row 8 missing a required value."""
    frame = sample.copy()
    categorical = [
        name for name in contract.features if contract.columns[name].type == "categorical"
    ]
    required = [name for name in contract.features if not contract.columns[name].nullable]
    bad = {8: required[0]}
    frame[required[0]] = frame[required[0]].astype(object if required[0] in categorical else float)
    frame.loc[8, required[0]] = None
    if categorical:
        frame[categorical[0]] = frame[categorical[0]].astype(object)
        frame.loc[5, categorical[0]] = "no such category"
        bad[5] = categorical[0]
    return frame, bad


@pytest.mark.parametrize(("suffixes"), [(".csv", ".parquet"), (".parquet", ".csv")])
def test_spark_answers_are_the_local_batchs_row_for_row(
    module_settings, champion, sample, tmp_path, spark, suffixes
):
    contract = module_settings.contract
    source = tmp_path / f"records{suffixes[0]}"
    if source.suffix == ".csv":
        frame, bad = broken(sample, contract)
        frame["source.system"] = "crm"  # a column outside the contract, a dot in its name
        frame.to_csv(source, index=False)
    else:
        frame, bad = parquet_input(sample, contract)
        frame.to_parquet(source, index=False, row_group_size=50)  # 8 splits for Spark
    local = batch.predict_batch(module_settings, source, tmp_path / f"local{suffixes[1]}")
    ours = spark_batch.predict_batch_spark(
        module_settings, str(source), str(tmp_path / f"spark{suffixes[1]}"), spark=spark
    )

    assert (ours.rows, ours.scored, ours.rejected) == (local.rows, local.scored, local.rejected)
    assert ours.rejected == len(bad)
    assert (
        ours.input_sha256 == local.input_sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    )
    assert ours.model_version == local.model_version == "7"
    assert ours.unusual == local.unusual
    scored = read_output(ours.output)
    assert scored["row"].astype(int).tolist() == [
        row for row in range(1, len(sample) + 1) if row - 1 not in bad
    ]
    assert scored["scored_at"].nunique() == 1
    assert_same(read_output(local.output), scored)
    rejected = read_output(ours.rejected_path)
    assert_same(read_output(local.rejected_path), rejected)
    for problem, position in zip(rejected["problems"], sorted(bad), strict=True):
        assert problem.startswith(f"{bad[position]}: ")


def test_times_and_booleans_come_out_as_the_local_batch_writes_them(
    module_settings, sample, tmp_path, spark, monkeypatch
):
    """A contract with a datetime and a boolean feature; Parquet inputs with naive and UTC times."""
    from mlplate_runtime.data.contract import Contract
    from mlplate_runtime.features.build import add_features, feature_matrix
    from mlplate_runtime.models.train import fit_model

    raw = module_settings.contract.model_dump(mode="json", exclude_none=True)
    raw["columns"]["signed_up"] = {"type": "datetime"}
    raw["columns"]["paperless"] = {"type": "boolean", "nullable": True}
    contract = Contract.model_validate(raw)
    settings = module_settings.model_copy(update={"contract": contract})
    frame = sample.copy()
    days = np.arange(len(frame)) % 700
    frame["signed_up"] = (np.datetime64("2024-01-01") + days).astype(str)
    frame["paperless"] = np.arange(len(frame)) % 3 == 0
    featured = add_features(frame, contract)
    labels = task_for(settings).labels(featured[contract.target])
    fitted = fit_model(settings, feature_matrix(featured, contract), labels)
    model = LoadedModel("champion", "models:/t@champion", fitted, contract, task_for(settings))
    model.version = "3"
    monkeypatch.setattr(batch, "load_model", lambda *_args, **_kwargs: model)

    text = frame.astype(object)
    text.loc[3, "paperless"] = "maybe"  # not a boolean: rejected
    text.to_csv(tmp_path / "text.csv", index=False)
    naive = frame.assign(signed_up=pd.to_datetime(frame["signed_up"]))
    naive.loc[5, "signed_up"] = pd.NaT  # a missing time: rejected
    naive.to_parquet(tmp_path / "naive.parquet", index=False, row_group_size=100)
    utc = naive.assign(signed_up=naive["signed_up"].dt.tz_localize("UTC"))
    utc.to_parquet(tmp_path / "utc.parquet", index=False)
    for name, suffix in (
        ("text.csv", ".csv"),
        ("naive.parquet", ".csv"),
        ("utc.parquet", ".parquet"),
    ):
        source = tmp_path / name
        local = batch.predict_batch(settings, source, tmp_path / f"local-{name}{suffix}")
        ours = spark_batch.predict_batch_spark(
            settings, str(source), str(tmp_path / f"spark-{name}{suffix}"), spark=spark
        )
        assert ours.rejected == local.rejected == 1, name
        assert_same(read_output(local.output), read_output(ours.output))
        assert_same(read_output(local.rejected_path), read_output(ours.rejected_path))


def register_champion(settings, model) -> str:
    """Log ``model`` in the session's MLflow store, register it and make it champion."""
    import mlflow.sklearn
    from mlflow import MlflowClient

    from mlplate_runtime.models.registry import CHAMPION
    from mlplate_runtime.models.store import trusted_types
    from mlplate_runtime.tracking import start_tracking

    start_tracking(settings)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            pip_requirements=["scikit-learn"],
            skops_trusted_types=trusted_types(model),
        )
    name = settings.params.mlflow.registered_model
    version = mlflow.register_model(info.model_uri, name).version
    registry = MlflowClient(settings.tracking_uri, registry_uri=settings.tracking_uri)
    registry.set_registered_model_alias(name, CHAMPION, version)
    return str(version)


def test_the_registrys_champion_scores_a_folder_of_parts_as_the_local_batch(
    settings, fitted, sample, tmp_path, spark
):
    version = register_champion(settings, fitted)
    frame, bad = broken(sample, settings.contract)
    whole, parts = tmp_path / "records.csv", tmp_path / "records"
    frame.to_csv(whole, index=False)
    parts.mkdir()
    bounds = [0, 40, 120, 250, len(frame)]  # growing parts: Spark reads the largest first
    for number, (start, end) in enumerate(itertools.pairwise(bounds)):
        frame.iloc[start:end].to_csv(parts / f"part-{number:05d}.csv", index=False)
    local = batch.predict_batch(settings, whole, tmp_path / "local.parquet")
    ours = spark_batch.predict_batch_spark(
        settings, str(parts), str(tmp_path / "spark.parquet"), spark=spark
    )
    assert ours.model_version == local.model_version == version
    assert ours.rejected == len(bad) and ours.rows == len(sample)
    # rows are numbered through the files in path order, so they are the whole file's
    assert_same(read_output(local.output), read_output(ours.output), but=("input_sha256",))
    assert_same(read_output(local.rejected_path), read_output(ours.rejected_path))
    assert set(read_output(ours.output)["input_sha256"]) == {ours.input_sha256}
    names = sorted(str(p.relative_to(parts)) for p in parts.iterdir())
    manifest = "".join(
        f"{name}\t{(parts / name).stat().st_size}\t"
        f"{hashlib.sha256((parts / name).read_bytes()).hexdigest()}\n"
        for name in names
    )
    assert ours.input_sha256 == hashlib.sha256(manifest.encode()).hexdigest()


def test_the_spark_submit_job_scores_with_a_packaged_model_folder(
    module_settings, fitted, sample, tmp_path, spark, capsys
):
    import mlflow.sklearn

    from mlplate_runtime.models.spark_job import main
    from mlplate_runtime.models.store import trusted_types
    from support import PROJECT_ROOT

    packaged = tmp_path / "model"  # what a team copies to S3, DBFS or GCS
    mlflow.sklearn.save_model(
        fitted,
        packaged,
        pip_requirements=["scikit-learn"],
        skops_trusted_types=trusted_types(fitted),
    )
    source, output = tmp_path / "records.csv", tmp_path / "predictions.csv"
    sample.head(50).to_csv(source, index=False)
    argv = ["--input", str(source), "--output", str(output), "--params"]
    argv += [str(PROJECT_ROOT / "params.yaml"), "--model-uri", str(packaged), "--JOB_NAME", "x"]
    assert main(argv, spark=spark) == 0
    assert f"scored 50 of 50 rows with model {packaged}" in capsys.readouterr().out
    assert len(read_output(output)) == 50 and not (tmp_path / "predictions.rejected.csv").exists()
    assert main(argv, spark=spark) == 1  # it exists now
    assert "exists; remove it or pass --overwrite" in capsys.readouterr().err
    argv[argv.index("--params") + 1] = (PROJECT_ROOT / "params.yaml").as_uri()  # copied
    assert main([*argv, "--overwrite"], spark=spark) == 0
    assert main([*argv[:-4], "--params", "file:///no/params.yaml"], spark=spark) == 1
    assert capsys.readouterr().err.startswith("error: --params file:///no/params.yaml does not")


def run_cli(module_settings, monkeypatch, *arguments):
    from typer.testing import CliRunner

    from mlplate_runtime import cli

    monkeypatch.setattr(cli, "_settings", lambda params: module_settings)
    result = CliRunner().invoke(cli.app, ["predict-batch", *arguments])
    return result.exit_code, result.output


def test_bad_spark_batches_are_refused_in_one_line_and_write_nothing(
    module_settings, champion, sample, tmp_path, spark, monkeypatch
):
    contract = module_settings.contract
    source, output = tmp_path / "records.csv", tmp_path / "out" / "predictions.parquet"
    sample.drop(columns=[contract.features[0]]).to_csv(source, index=False)
    spark_run = ("--engine", "spark", "--spark-master", "local[2]", "--input", str(source))

    def refused(pattern, *arguments):
        code, text = run_cli(module_settings, monkeypatch, *arguments)
        assert code == 1 and text.count("\n") == 1 and text.startswith("error: "), text
        assert re.search(pattern, text), text
        assert "Traceback" not in text

    missing = re.escape(contract.features[0])
    refused(f"lacks the model inputs .*{missing}", *spark_run, "--output", str(output))
    refused(
        "does not exist",
        *spark_run[:4],
        "--input",
        str(tmp_path / "no.csv"),
        "--output",
        str(output),
    )
    refused(r"must end in \.csv or \.parquet", *spark_run, "--output", str(tmp_path / "x.xlsx"))
    refused(
        "unknown engine 'dask'", "--engine", "dask", "--input", str(source), "--output", str(output)
    )
    source.write_text(",".join(sample.columns) + "\n")
    refused("has no rows", *spark_run, "--output", str(output))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["records.csv"]  # nothing written

    sample.head(30).to_csv(source, index=False)
    output.parent.mkdir()
    output.write_text("yesterday's predictions")
    refused("exists; remove it or pass --overwrite", *spark_run, "--output", str(output))
    assert output.read_text() == "yesterday's predictions"
    code, text = run_cli(
        module_settings, monkeypatch, *spark_run, "--output", str(output), "--overwrite"
    )
    assert code == 0 and "scored 30 of 30 rows with model 7" in text, text
    assert len(read_output(output)) == 30
    assert sorted(p.name for p in output.parent.iterdir()) == ["predictions.parquet"]

    with monkeypatch.context() as patch:
        patch.delenv("JAVA_HOME", raising=False)
        patch.setattr(spark_batch.shutil, "which", lambda _name: None)  # no Java
        refused(
            "Spark needs Java 17 or later .*install a Java runtime",
            *spark_run,
            "--output",
            str(tmp_path / "a.parquet"),
        )
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "pyspark", None)  # not installed
        refused(
            r"needs pyspark: add the runtime's spark extra .*mlplate-runtime\[serving,spark\]",
            *spark_run,
            "--output",
            str(tmp_path / "a.parquet"),
        )
    assert not (tmp_path / "a.parquet").exists()
