"""Monitoring: no alarm on data like the training data, an alarm on drifted data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.__package_name }}.data.ingest import write_example_data
from {{ cookiecutter.__package_name }}.data.prepare import prepare
from {{ cookiecutter.__package_name }}.errors import ProjectError
from {{ cookiecutter.__package_name }}.features.build import featurize
from {{ cookiecutter.__package_name }}.monitoring.compare import compare_models
from {{ cookiecutter.__package_name }}.monitoring.drift import (
    categorical_drift,
    numeric_drift,
)
from {{ cookiecutter.__package_name }}.monitoring.job import run_monitoring, simulate_drift


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


@pytest.fixture
def prepared(settings):
    data = settings.params.data
    write_example_data(settings.path(data.raw_path), n_rows=1500, seed=settings.params.seed)
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
    assert "<svg" in page
    assert "No drift alarm" in page
    assert "http" not in page  # no external script, stylesheet or font


def test_simulated_drift_raises_the_alarm(prepared):
    simulate_drift(prepared)
    summary = run_monitoring(prepared)
    assert summary["alarm"]
    assert {"monthly_charges", "tenure_months", "contract"} <= set(summary["drifted_features"])
    page = (prepared.path(prepared.params.monitoring.report_dir) / "drift.html").read_text()
    assert "Drift alarm" in page


def test_schema_violations_in_the_current_batch_are_reported(prepared, tmp_path):
    batch = pd.read_csv(prepared.path(prepared.params.data.prepared_dir / "test.csv"))
    batch.loc[0, "age"] = 150
    path = tmp_path / "batch.csv"
    batch.to_csv(path, index=False)
    summary = run_monitoring(prepared, current=path)
    assert any("'age': values above 100" in problem for problem in summary["schema_problems"])


def test_compare_models_joins_logged_predictions_with_feedback(settings):
    monitoring = settings.params.monitoring
    log = settings.path(monitoring.prediction_log)
    log.parent.mkdir(parents=True)
    rows, labels = [], []
    for i in range(40):
{%- if cookiecutter.task == 'regression' %}
        label = 100.0 + 10 * i
        champion, challenger = label, label + 50.0  # exact vs 50 too high
{%- else %}
        label = i % 2
        champion, challenger = (0.8, 0.4) if label else (0.2, 0.6)  # perfect vs inverted ranking
{%- endif %}
        labels.append(label)
        for role, version, prediction in (
            ("champion", "1", champion),
            ("challenger", "2", challenger),
        ):
            rows.append(
                {
                    "record_id": f"r-{i}",
                    "model": role,
                    "model_version": version,
                    "prediction": prediction,
                }
            )
    log.write_text("".join(json.dumps(row) + "\n" for row in rows))
    feedback = settings.path(monitoring.feedback_path)
    feedback.parent.mkdir(parents=True)
    feedback.write_text("record_id,label\n" + "".join(f"r-{i},{y}\n" for i, y in enumerate(labels)))
    result = compare_models(settings)
{%- if cookiecutter.task == 'regression' %}
    assert result["models"]["champion"]["rmse"] == 0.0
    assert result["models"]["challenger"]["rmse"] == 50.0
{%- else %}
    assert result["models"]["champion"]["roc_auc"] == 1.0
    assert result["models"]["challenger"]["roc_auc"] == 0.0
{%- endif %}
    assert result["models"]["challenger"]["n_labeled"] == 40


def test_compare_models_without_feedback_is_a_clear_error(settings):
    with pytest.raises(ProjectError, match="feedback"):
        compare_models(settings)
