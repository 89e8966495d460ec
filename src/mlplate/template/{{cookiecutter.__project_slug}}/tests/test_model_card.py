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
    metrics.write_text(json.dumps({"roc_auc": 0.8123, "f1": 0.5, "n_test": 200}))
    settings.path(params.fairness_path).write_text(
        json.dumps(
            {
                "sensitive_feature": "gender",
                "groups": {
                    "female": {"n": 90, "roc_auc": 0.80, "f1": 0.5, "recall": 0.4},
                    "male": {"n": 110, "roc_auc": 0.83, "f1": 0.6, "recall": 0.5},
                },
            }
        )
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
    assert "| **roc_auc** | 0.8123 |" in page
    assert "| female | 90 | 0.8000 |" in page
    assert "Largest gap in `roc_auc` between groups: 0.0300." in page
    assert "| `data/raw/customers.csv` | `" + "0" * 32 + "` |" in page
    assert "Ranking churn risk." in page


def test_model_card_without_a_model_says_what_to_run(settings):
    page = model_card_page(settings, {}, None)
    assert "No champion model is registered yet: run `make all`." in page
    assert "No evaluation yet" in page
