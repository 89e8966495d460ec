"""Smoke test: every stage on a tiny dataset with a temporary MLflow store."""

from __future__ import annotations

import json

import pytest

from {{ cookiecutter.__package_name }}.data.ingest import write_example_data
from {{ cookiecutter.__package_name }}.data.prepare import prepare
from {{ cookiecutter.__package_name }}.errors import DataValidationError
from {{ cookiecutter.__package_name }}.features.build import featurize
from {{ cookiecutter.__package_name }}.models.evaluate import evaluate
from {{ cookiecutter.__package_name }}.models.registry import champion_lineage, register
from {{ cookiecutter.__package_name }}.models.train import train


def run_pipeline(settings):
    data = settings.params.data
    write_example_data(settings.path(data.raw_path), n_rows=data.n_rows, seed=settings.params.seed)
    prepare(settings)
    featurize(settings)
    run_info = train(settings)
    metrics = evaluate(settings)
    return run_info, metrics


def test_pipeline_trains_evaluates_and_registers_a_champion(settings):
    run_info, metrics = run_pipeline(settings)
{%- if cookiecutter.task == 'regression' %}
    assert 0.5 < metrics["r2"] <= 1.0
    assert 0 < metrics["mae"] <= metrics["rmse"]
{%- else %}
    assert 0.6 < metrics["roc_auc"] <= 1.0
{%- endif %}
    params = settings.params
    assert json.loads(settings.path(params.evaluate.metrics_path).read_text())["n_test"] == 80
    fairness = json.loads(settings.path(params.evaluate.fairness_path).read_text())
    assert set(fairness["groups"]) == {"female", "male"}
    plot = "{{ 'residuals.png' if cookiecutter.task == 'regression' else 'confusion_matrix.png' }}"
    assert (settings.path(params.evaluate.plots_dir) / plot).stat().st_size > 0
    assert "lineage.params_hash" in run_info["tags"]

    report = register(settings)
    assert report["promote"]
    assert report["alias_set"] == "champion"
    lineage = champion_lineage(settings)
    assert lineage["run_id"] == run_info["run_id"]
    assert lineage["params_hash"] == settings.params_hash

    again = register(settings)  # same run: no new version, stays champion
    assert again["candidate_version"] == report["candidate_version"]


def test_prepare_stops_on_invalid_data_and_writes_nothing(settings):
    raw = settings.path(settings.params.data.raw_path)
    raw.parent.mkdir(parents=True)
    raw.write_text("customer_id,age\n1,200\n")
    with pytest.raises(DataValidationError, match="missing column 'tenure_months'"):
        prepare(settings)
    assert not settings.path(settings.params.data.prepared_dir).exists()


def test_prepare_reports_an_empty_file(settings):
    raw = settings.path(settings.params.data.raw_path)
    raw.parent.mkdir(parents=True)
    raw.write_text("")
    with pytest.raises(DataValidationError, match="is empty"):
        prepare(settings)
