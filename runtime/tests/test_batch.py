"""Batch inference: the API's answers, in chunks, bad rows to a side file, nothing half-written."""

from __future__ import annotations

import hashlib
import os
import re

import numpy as np
import pandas as pd
import pytest

from mlplate_runtime.data.synthetic import json_records
from mlplate_runtime.errors import ProjectError
from mlplate_runtime.features.build import add_features
from mlplate_runtime.models import batch
from mlplate_runtime.monitoring.job import run_monitoring


def api_answers(module_settings, model, records):
    """What POST /predict answers for these records."""
    from fastapi.testclient import TestClient

    from mlplate_runtime.config import ServingSettings
    from mlplate_runtime.serving.app import create_app

    serving = ServingSettings(prediction_log=None, max_batch_size=len(records))
    app = create_app(module_settings, serving, loader=lambda *_: (model, None))
    with TestClient(app) as client:
        response = client.post("/predict", json={"records": records})
    assert response.status_code == 200, response.text
    return response.json()["predictions"]


def broken(sample, contract):
    """A copy of ``sample`` with rows 3, 5 and 8 breaking the contract in three ways."""
    frame = sample.astype(object)
    numeric = [name for name in contract.features if contract.columns[name].type != "categorical"]
    categorical = [name for name in contract.features if name not in numeric]
    required = [name for name in contract.features if not contract.columns[name].nullable]
    bad = {}
    if numeric:
        frame.loc[3, numeric[0]] = "not a number"
        bad[3] = numeric[0]
    if categorical:
        frame.loc[5, categorical[0]] = "no such category"
        bad[5] = categorical[0]
    frame.loc[8, required[0]] = None
    bad[8] = required[0]
    return frame, bad


@pytest.mark.parametrize("suffixes", [(".csv", ".parquet"), (".parquet", ".csv")])
def test_batch_predictions_are_the_apis_in_chunks(
    module_settings, champion, sample, tmp_path, capsys, suffixes
):
    source, output = tmp_path / f"records{suffixes[0]}", tmp_path / f"predictions{suffixes[1]}"
    if source.suffix == ".csv":
        sample.to_csv(source, index=False)
    else:
        sample.to_parquet(source, index=False)
    result = batch.predict_batch(module_settings, source, output, chunk_rows=64)

    assert (result.rows, result.scored, result.rejected) == (len(sample), len(sample), 0)
    assert result.rejected_path is None and not batch.rejected_path(output).exists()
    written = pd.read_csv(output) if output.suffix == ".csv" else pd.read_parquet(output)
    assert written["row"].tolist() == list(range(1, len(sample) + 1))
    assert set(written["model_version"].astype(str)) == {"7"}
    assert set(written["input_sha256"]) == {hashlib.sha256(source.read_bytes()).hexdigest()}
    assert written["scored_at"].nunique() == 1
    contract = module_settings.contract
    id_columns = [name for name in contract.kept if contract.columns[name].role == "id"]
    for name in id_columns:  # records keep their keys
        assert written[name].tolist() == sample[name].tolist()

    answers = api_answers(module_settings, champion, json_records(sample, contract))
    if contract.task == "regression":
        expected = [answer["prediction"] for answer in answers]
        np.testing.assert_allclose(written["prediction"], expected, atol=1e-4)
    else:
        assert written["prediction"].astype(str).tolist() == [str(a["label"]) for a in answers]
        np.testing.assert_allclose(
            written["probability"], [a["probability"] for a in answers], atol=1e-6
        )
        for label in contract.classes:
            np.testing.assert_allclose(
                written[f"probability_{label}"],
                [a["probabilities"][str(label)] for a in answers],
                atol=1e-6,
            )
    assert f"{len(sample):,} rows (100%)" in capsys.readouterr().err  # the log line CI shows


def test_rows_breaking_the_contract_go_to_the_side_file_with_the_reason(
    module_settings, champion, sample, tmp_path
):
    frame, bad = broken(sample, module_settings.contract)
    source, output = tmp_path / "records.csv", tmp_path / "out" / "predictions.parquet"
    frame.to_csv(source, index=False)
    result = batch.predict_batch(module_settings, source, output, chunk_rows=64)

    assert result.rejected == len(bad) and result.scored == len(sample) - len(bad)
    rejected = pd.read_csv(result.rejected_path)
    assert rejected["row"].tolist() == [position + 1 for position in sorted(bad)]
    for (_, row), position in zip(rejected.iterrows(), sorted(bad), strict=True):
        assert row["problems"].startswith(f"{bad[position]}: ")
    scored = pd.read_parquet(output)
    assert sorted(scored["row"].tolist() + rejected["row"].tolist()) == list(
        range(1, len(sample) + 1)
    )  # every row is somewhere: nothing silently dropped


def test_a_rerun_without_bad_rows_removes_the_old_side_file(
    module_settings, champion, sample, tmp_path
):
    frame, _ = broken(sample, module_settings.contract)
    source, output = tmp_path / "records.csv", tmp_path / "predictions.csv"
    frame.to_csv(source, index=False)
    batch.predict_batch(module_settings, source, output)
    assert batch.rejected_path(output).exists()
    sample.to_csv(source, index=False)
    batch.predict_batch(module_settings, source, output, overwrite=True)
    assert not batch.rejected_path(output).exists()


def test_bad_batches_are_refused_in_one_line_and_write_nothing(
    module_settings, champion, sample, tmp_path
):
    contract = module_settings.contract
    source = tmp_path / "records.csv"
    sample.drop(columns=[contract.features[0]]).to_csv(source, index=False)
    output = tmp_path / "predictions.parquet"
    missing = re.escape(contract.features[0])  # column names may hold regex characters
    with pytest.raises(ProjectError, match=f"lacks the model inputs .*{missing}"):
        batch.predict_batch(module_settings, source, output, chunk_rows=64)
    source.write_text(",".join(sample.columns) + "\n")
    with pytest.raises(ProjectError, match="has no rows"):
        batch.predict_batch(module_settings, source, output)
    with pytest.raises(ProjectError, match="does not exist"):
        batch.predict_batch(module_settings, tmp_path / "missing.csv", output)
    with pytest.raises(ProjectError, match=r"must end in \.csv or \.parquet"):
        batch.predict_batch(module_settings, source, tmp_path / "predictions.xlsx")
    with pytest.raises(ProjectError, match="is the INPUT"):
        batch.predict_batch(module_settings, source, source)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["records.csv"]  # no temp files

    sample.to_csv(source, index=False)
    output.write_text("yesterday's predictions")
    with pytest.raises(ProjectError, match="exists; remove it or pass --overwrite"):
        batch.predict_batch(module_settings, source, output)
    assert output.read_text() == "yesterday's predictions"


def test_the_command_warns_about_rejected_rows_and_fails_when_none_can_be_scored(
    module_settings, champion, sample, tmp_path, monkeypatch
):
    from typer.testing import CliRunner

    from mlplate_runtime import cli

    monkeypatch.setattr(cli, "_settings", lambda params: module_settings)
    frame, bad = broken(sample, module_settings.contract)
    source = tmp_path / "records.csv"
    frame.to_csv(source, index=False)

    def run(output):
        result = CliRunner().invoke(
            cli.app, ["predict-batch", "--input", str(source), "--output", str(output)]
        )
        return result.exit_code, result.output

    code, output = run(tmp_path / "all.csv")
    assert code == 0 and f"warning: {len(bad)} rows break the data contract" in output
    frame.loc[sorted(bad)].to_csv(source, index=False)  # only broken rows
    code, output = run(tmp_path / "none.csv")
    assert code == 1 and f"error: no row of {source} could be scored" in output
    assert not (tmp_path / "none.csv").exists()  # no empty predictions file
    assert len(pd.read_csv(tmp_path / "none.rejected.csv")) == len(bad)  # but the reasons
    code, output = run(tmp_path / "predictions.txt")
    assert code == 1 and output.startswith("error: OUTPUT") and output.count("\n") == 1


def test_monitoring_reads_a_scored_batch_as_its_current_data(settings, champion, sample, tmp_path):
    reference = settings.features("train")
    reference.parent.mkdir(parents=True, exist_ok=True)
    add_features(sample, settings.contract).to_csv(reference, index=False)
    source, output = tmp_path / "records.parquet", tmp_path / "scored" / "predictions.parquet"
    sample.to_parquet(source, index=False)
    batch.predict_batch(settings, source, output)

    summary = run_monitoring(settings, current=output)
    assert summary["current_source"] == str(output) and summary["n_current"] == len(sample)
    assert summary["schema_problems"] == [] and not summary["alarm"]  # the training sample


def test_csv_outputs_neutralise_formulas_and_each_row_names_only_its_own_values(
    module_settings, champion, sample, tmp_path
):
    contract = module_settings.contract
    category = contract.categorical_features[0]
    frame = sample.head(6).astype(object)
    frame.loc[frame.index[1], category] = '=HYPERLINK("http://evil.example","x")'
    frame.loc[frame.index[2], category] = "@SUM(A1:A9)"
    frame.loc[frame.index[3], category] = "+1"
    source = tmp_path / "records.csv"
    frame.to_csv(source, index=False)
    result = batch.predict_batch(module_settings, source, tmp_path / "out.csv")
    assert result.rejected == 3
    rejected = pd.read_csv(result.rejected_path, dtype=str, keep_default_na=False)
    cells = rejected[category].tolist()
    assert cells == ['\'=HYPERLINK("http://evil.example","x")', "'@SUM(A1:A9)", "'+1"]
    for row, problem in zip(cells, rejected["problems"], strict=True):
        own = row.removeprefix("'")
        assert problem.count("unknown category") == 1 and repr(own)[:-1] in problem.strip("'")
        others = [cell.removeprefix("'") for cell in cells if cell != row]
        assert not any(other in problem for other in others)  # never another row's value
    for cell in rejected.to_numpy().ravel():
        assert not str(cell).startswith(("=", "+", "-", "@")), cell


def test_partial_files_of_a_killed_run_are_removed_by_the_next(
    module_settings, champion, sample, tmp_path
):
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()  # a process id that no longer runs
    output = tmp_path / "out.parquet"
    leftovers = [
        tmp_path / f".out.parquet.{dead.pid}.abc123",
        tmp_path / f".out.rejected.csv.{dead.pid}.def456",
    ]
    for path in leftovers:
        path.write_bytes(b"x" * 1000)
    mine = tmp_path / f".out.parquet.{os.getpid()}.live"  # a live run's: left alone
    mine.write_bytes(b"x")
    source = tmp_path / "records.csv"
    sample.head(20).to_csv(source, index=False)
    batch.predict_batch(module_settings, source, output)
    assert not any(path.exists() for path in leftovers) and mine.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out")) == [mine.name]


@pytest.fixture
def umask():
    """Set the process umask for one test, restoring the previous one after it."""
    previous = os.umask(0o022)
    yield os.umask
    os.umask(previous)


@pytest.mark.parametrize(
    ("mask", "mode"),
    [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)],
    ids=["umask-022", "umask-027", "umask-002"],
)
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_outputs_get_the_permissions_the_umask_gives_a_new_file(
    module_settings, champion, sample, tmp_path, umask, mask, mode, suffix
):
    frame, _ = broken(sample.head(20), module_settings.contract)
    source, output = tmp_path / "records.csv", tmp_path / f"predictions{suffix}"
    frame.to_csv(source, index=False)
    umask(mask)
    result = batch.predict_batch(module_settings, source, output)
    assert result.rejected_path is not None
    for path in (output, result.rejected_path):
        assert path.stat().st_mode & 0o777 == mode, path
