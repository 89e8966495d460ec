"""Monitoring: no alarm on data like the training data, an alarm on drifted data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mlplate_runtime.data.prepare import prepare
from mlplate_runtime.data.synthetic import synthetic_frame, write_table
from mlplate_runtime.features.build import featurize
from mlplate_runtime.monitoring.drift import (
    categorical_drift,
    feature_drift,
    numeric_drift,
)
from mlplate_runtime.monitoring.job import run_monitoring, simulate_drift


def test_numeric_drift_detects_a_shift_and_not_noise():
    rng = np.random.default_rng(0)
    reference = pd.Series(rng.normal(0, 1, 2000))
    assert not numeric_drift("x", reference, pd.Series(rng.normal(0, 1, 500)), p_value=0.01).drifted
    shifted = numeric_drift("x", reference, pd.Series(rng.normal(1, 1, 500)), p_value=0.01)
    assert shifted.drifted
    assert shifted.psi > 0.2


def test_categorical_drift_counts_missing_values_as_a_category():
    reference = pd.Series(["a", "b"] * 500)
    result = categorical_drift("c", reference, pd.Series([None] * 300 + ["a"] * 100), p_value=0.01)
    assert result.drifted
    assert result.missing_current == 0.75


def test_the_test_follows_the_column_type():
    rng = np.random.default_rng(1)
    reference = pd.DataFrame(
        {"x": rng.normal(size=500), "flag": rng.integers(0, 2, 500).astype(float), "c": ["a"] * 500}
    )
    results = feature_drift(
        reference,
        reference.sample(200, random_state=0),
        kinds={"x": "numeric", "flag": "boolean", "c": "categorical"},
        p_value=0.01,
    )
    assert [(r.feature, r.kind, r.test) for r in results] == [
        ("x", "numeric", "ks"),
        ("flag", "boolean", "chi2"),
        ("c", "categorical", "chi2"),
    ]
    assert not any(r.drifted for r in results)


@pytest.fixture
def prepared(settings):
    write_table(
        settings.path(settings.params.data.raw_path),
        synthetic_frame(settings.contract, 1500, seed=settings.params.seed),
    )
    prepare(settings)
    featurize(settings)
    return settings


def test_holdout_raises_no_alarm_and_the_report_is_self_contained(prepared):
    summary = run_monitoring(prepared)
    assert not summary["alarm"]
    assert summary["current_source"].startswith("held-out split")
    report_dir = prepared.path(prepared.params.monitoring.report_dir)
    assert json.loads((report_dir / "drift.json").read_text())["alarm"] is False
    page = (report_dir / "drift.html").read_text()
    assert "No drift alarm" in page
    assert "http" not in page  # no external script, stylesheet or font
    contract = prepared.contract
    # one chart per feature, each with its axes; categories are labelled bars
    assert page.count("<svg") == page.count("share of rows") == len(contract.features)
    for feature in summary["features"]:
        numeric = contract.columns[feature["feature"]].type in ("numeric", "integer")
        assert (feature["kind"], feature["test"]) == (
            contract.columns[feature["feature"]].type,
            "ks" if numeric else "chi2",
        )
    for name in contract.categorical_features:
        top = str(contract.columns[name].categories[0])
        assert f">{top[:9]}" in page


def test_simulated_drift_raises_the_alarm(prepared):
    simulate_drift(prepared)
    summary = run_monitoring(prepared)
    assert summary["alarm"]
    assert len(summary["drifted_features"]) >= 0.8 * len(prepared.contract.features)
    assert summary["schema_problems"] == []  # drifted, but still inside the contract
    page = (prepared.path(prepared.params.monitoring.report_dir) / "drift.html").read_text()
    assert "Drift alarm" in page


def test_simulated_drift_on_a_small_dataset_still_raises_the_alarm(settings, monkeypatch):
    small = synthetic_frame(settings.contract, 150, seed=settings.params.seed)
    write_table(settings.path(settings.params.data.raw_path), small)
    prepare(settings)
    featurize(settings)
    holdout = len(pd.read_csv(settings.prepared("test")))
    min_samples = settings.params.monitoring.min_samples
    assert holdout < min_samples  # the case: too small a holdout to judge drift on its own
    batch = simulate_drift(settings)
    assert (batch.rows, batch.holdout_rows) == (min_samples, holdout)
    assert len(pd.read_csv(batch.path)) == min_samples
    run = _cli(monkeypatch, settings)
    code, output = run(command="simulate-drift")
    assert code == 0 and f"{min_samples} rows, resampled from the {holdout}-row holdout" in output
    code, output = run()
    assert code == 1 and "drift alarm" in output, output
    assert "too few to judge drift" not in output


def test_schema_violations_in_the_current_batch_are_reported(prepared, tmp_path):
    contract = prepared.contract
    bounded = [n for n in contract.numeric_features if contract.columns[n].max is not None]
    if not bounded:
        pytest.skip("no feature of the contract has a maximum")
    name = bounded[0]
    batch = pd.read_csv(prepared.path(prepared.params.data.prepared_dir / "test.csv"))
    batch[name] = batch[name].astype(float)
    batch.loc[0, name] = contract.columns[name].max + 1
    path = tmp_path / "batch.csv"
    batch.to_csv(path, index=False)
    summary = run_monitoring(prepared, current=path)
    assert any(f"'{name}': values above" in problem for problem in summary["schema_problems"])


def _cli(monkeypatch, settings):
    """Run `monitor` through the CLI on ``settings``; return (exit code, output)."""
    from typer.testing import CliRunner

    from mlplate_runtime import cli

    monkeypatch.setattr(cli, "_settings", lambda params: settings)

    def run(*args: str, command: str = "monitor"):
        result = CliRunner().invoke(cli.app, [command, *args])
        return result.exit_code, result.output

    return run


def test_exit_codes_no_drift_drift_and_could_not_run(prepared, monkeypatch, tmp_path):
    monitor = _cli(monkeypatch, prepared)
    code, output = monitor()
    assert code == 0, output
    assert monitor(command="drift-alarm")[0] == 1  # CI retrains only on an alarm
    simulate_drift(prepared)
    code, output = monitor()
    assert code == 1 and "drift alarm" in output
    assert monitor(command="drift-alarm")[0] == 0
    code, output = monitor("--current", str(tmp_path / "missing.csv"))
    assert code == 2 and "error: monitoring could not run" in output
    assert not (tmp_path / "reports" / "monitoring" / "drift.json").exists()  # no stale report
    code, output = monitor(command="drift-alarm")
    assert code == 1 and "monitoring could not run" in output
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(b"\xff\xfe\x00binary")
    code, output = monitor("--current", str(garbage))
    assert code == 2 and "Traceback" not in output


def test_too_few_rows_warn_instead_of_raising_the_alarm(prepared, monkeypatch, tmp_path):
    path = simulate_drift(prepared).path
    batch = tmp_path / "small.csv"
    pd.read_csv(path).head(60).to_csv(batch, index=False)
    code, output = _cli(monkeypatch, prepared)("--current", str(batch))
    assert code == 0 and "too few to judge drift" in output
    summary = run_monitoring(prepared, current=batch)
    assert not summary["alarm"] and summary["drifted_features"]  # drifted, but too few rows
    monitoring = prepared.params.monitoring.model_copy(update={"min_samples": 50})
    lowered = prepared.model_copy(
        update={"params": prepared.params.model_copy(update={"monitoring": monitoring})}
    )
    assert run_monitoring(lowered, current=batch)["alarm"]  # the rule, not the data, held it


def test_malformed_prediction_log_lines_are_skipped_and_counted(prepared):
    holdout = pd.read_csv(prepared.path(prepared.params.data.prepared_dir / "test.csv"))
    entries = [
        json.dumps(
            {
                "request_id": f"r{index}",
                "record_id": f"r{index}-0",
                "model": "champion",
                "model_version": "1",
                "shadow": False,
                "features": {name: row[name] for name in prepared.contract.features},
                "prediction": None,
            },
            default=lambda value: value.item(),  # numpy scalars
        )
        for index, row in holdout.head(150).iterrows()
    ]
    log = prepared.path(prepared.params.monitoring.prediction_log)
    log.parent.mkdir(parents=True, exist_ok=True)
    cut = entries[0][: len(entries[0]) // 2]  # a line cut by a crash
    log.write_text("\n".join([*entries[:75], cut, "not json", "[1, 2]", *entries[75:]]) + "\n")
    summary = run_monitoring(prepared)
    assert summary["current_source"].startswith("prediction log")
    assert (summary["n_current"], summary["malformed_lines"]) == (150, 3)
    assert any("3 malformed prediction-log lines" in text for text in summary["warnings"])


def test_simulate_drift_still_works_with_an_ejected_monitoring_part_that_returns_the_path(
    settings, monkeypatch, tmp_path
):
    from mlplate_runtime.monitoring import job

    monkeypatch.setattr(job, "simulate_drift", lambda _settings: tmp_path / "current.csv")
    code, output = _cli(monkeypatch, settings)(command="simulate-drift")
    assert code == 0 and f"wrote a drifted batch to {tmp_path / 'current.csv'}" in output


def test_drifted_features_are_ordered_by_importance_when_evaluate_ranked_them(prepared):
    from mlplate_runtime.models.importance import ColumnImportance, Importance, write_importance

    simulate_drift(prepared)
    plain = run_monitoring(prepared)
    features = [f["feature"] for f in plain["features"]]  # the model's input order
    assert sorted(features) == sorted(prepared.contract.features)
    assert all(f["importance"] is None for f in plain["features"])
    report_dir = prepared.path(prepared.params.monitoring.report_dir)
    assert "<th>importance</th>" not in (report_dir / "drift.html").read_text()

    ranking = features[::-1][:-1]  # reversed, and one column without a value
    write_importance(
        prepared.path(prepared.params.evaluate.importance_path),
        Importance(
            "roc_auc",
            80,
            5,
            tuple(ColumnImportance(name, 0.5 / (i + 1), 0.01) for i, name in enumerate(ranking)),
        ),
    )
    ranked = run_monitoring(prepared)
    assert [f["feature"] for f in ranked["features"]] == [*ranking, features[0]]
    assert [f["importance"] for f in ranked["features"]][:-1] == pytest.approx(
        [0.5 / (i + 1) for i in range(len(ranking))], abs=1e-6
    )
    assert ranked["features"][-1]["importance"] is None
    assert ranked["drifted_features"] == [f["feature"] for f in ranked["features"] if f["drifted"]]
    assert ranked["drifted_features"] != plain["drifted_features"]
    page = (report_dir / "drift.html").read_text()
    assert "<th>importance</th>" in page and "most important first" in page
    assert page.index(f"<td>{ranking[0]}</td>") < page.index(f"<td>{ranking[-1]}</td>")
