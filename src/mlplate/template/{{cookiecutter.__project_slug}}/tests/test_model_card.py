"""Generated docs pages: pipeline from dvc.yaml, data card from the schema, model card."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from {{ cookiecutter.__package_name }}.data.schema import SCHEMA
from {{ cookiecutter.__package_name }}.model_card import (
    data_card_page,
    model_card_page,
    pipeline_page,
)

PROJECT_ROOT = Path(__file__).parents[1]


def test_pipeline_page_lists_every_dvc_stage_with_its_inputs():
    dvc_yaml = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())
    page = pipeline_page(dvc_yaml)
    for name, stage in dvc_yaml["stages"].items():
        assert f"## {name}" in page
        assert f"`{stage['cmd']}`" in page


def test_data_card_has_a_row_per_schema_column(settings):
    page = data_card_page(settings)
    for column in SCHEMA:
        assert f"| `{column.name}` | {column.kind} |" in page


def test_model_card_shows_lineage_metrics_and_fairness(settings):
    params = settings.params.evaluate
    metrics = settings.path(params.metrics_path)
    metrics.parent.mkdir(parents=True)
{%- if cookiecutter.task == 'regression' %}
    metrics.write_text(json.dumps({"rmse": 81.23, "mae": 60.1, "r2": 0.7, "n_test": 200}))
    female = {"n": 90, "rmse": 80.0, "mae": 60.0, "r2": 0.7}
    male = {"n": 110, "rmse": 83.0, "mae": 61.0, "r2": 0.68}
{%- else %}
    metrics.write_text(json.dumps({"roc_auc": 0.8123, "f1": 0.5, "n_test": 200}))
    female = {"n": 90, "roc_auc": 0.80, "f1": 0.5, "accuracy": 0.7}
    male = {"n": 110, "roc_auc": 0.83, "f1": 0.6, "accuracy": 0.72}
{%- endif %}
    settings.path(params.fairness_path).write_text(
        json.dumps({"sensitive_feature": "gender", "groups": {"female": female, "male": male}})
    )
    champion = {
        "model": "m",
        "version": "2",
        "run_id": "abc",
        "git_commit": "f" * 40,
        "data.data/raw/customers.csv": "0" * 32,
    }
    page = model_card_page(settings, {"intended_use": "Ranking churn risk."}, champion)
    assert "| champion version | 2 |" in page
{%- if cookiecutter.task == 'regression' %}
    assert "| **rmse** | 81.2300 |" in page
    assert "| gender | n | rmse | mae | r2 |" in page
    assert "| female | 90 | 80.0000 | 60.0000 | 0.7000 |" in page
    assert "Largest gap in `rmse` between groups: 3.0000." in page
{%- else %}
    assert "| **roc_auc** | 0.8123 |" in page
    assert "| gender | n | roc_auc | f1 | accuracy |" in page
    assert "| female | 90 | 0.8000 | 0.5000 | 0.7000 |" in page
    assert "Largest gap in `roc_auc` between groups: 0.0300." in page
{%- endif %}
    assert "| `data/raw/customers.csv` | `" + "0" * 32 + "` |" in page
    assert "Ranking churn risk." in page


def test_model_card_without_a_model_says_what_to_run(settings):
    page = model_card_page(settings, {}, None)
    assert "No champion model is registered yet: run `make all`." in page
    assert "No evaluation yet" in page
