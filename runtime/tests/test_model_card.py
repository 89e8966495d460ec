"""Generated docs pages: pipeline from dvc.yaml, data card from the schema, model card."""

from __future__ import annotations

import json

import yaml

from mlplate_runtime.model_card import (
    data_card_page,
    model_card_page,
    pipeline_page,
)
from support import PROJECT_ROOT, with_slices


def test_pipeline_page_lists_every_dvc_stage_with_its_inputs():
    dvc_yaml = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())
    page = pipeline_page(dvc_yaml)
    for name, stage in dvc_yaml["stages"].items():
        assert f"## {name}" in page
        assert f"`{stage['cmd']}`" in page


def test_data_card_has_a_row_per_contract_column(settings):
    page = data_card_page(settings)
    for name, column in settings.contract.columns.items():
        assert f"| `{name}` | {column.type} | {column.role} |" in page


def test_model_card_shows_lineage_metrics_and_fairness(settings):
    params = settings.params.evaluate
    metrics = settings.path(params.metrics_path)
    metrics.parent.mkdir(parents=True)
    primary = params.primary_metric
    metrics.write_text(json.dumps({primary: 0.8123, "n_test": 200}))
    female = {"n": 90, primary: 0.80}
    male = {"n": 110, primary: 0.83}
    settings.path(params.fairness_path).write_text(
        json.dumps({"groups_by": {"gender": {"female": female, "male": male}}})
    )
    champion = {
        "model": "m",
        "version": "2",
        "run_id": "abc",
        "git_commit": "f" * 40,
        "data.data/raw/x.csv": "0" * 32,
    }
    page = model_card_page(settings, {"intended_use": "Ranking churn risk."}, champion)
    assert "| champion version | 2 |" in page
    assert f"| **{primary}** | 0.8123 |" in page
    assert f"| gender | n | {primary} |" in page
    assert "| female | 90 | 0.8000 |" in page
    assert f"Largest gap in `{primary}` between groups of `gender`: 0.0300." in page
    assert "| `data/raw/x.csv` | `" + "0" * 32 + "` |" in page
    assert "Ranking churn risk." in page


def test_model_card_without_sensitive_columns_says_so(settings):
    params = settings.params.evaluate
    settings.path(params.fairness_path).parent.mkdir(parents=True)
    settings.path(params.fairness_path).write_text(json.dumps({"groups_by": {}}))
    page = model_card_page(settings, {}, None)
    assert "declares no sensitive attribute" in page


def test_model_card_without_a_model_says_what_to_run(settings):
    page = model_card_page(settings, {}, None)
    assert "No champion model is registered yet: run `make all`." in page
    assert "No evaluation yet" in page


def test_model_card_shows_the_baseline_beside_the_model(settings):
    params = settings.params.evaluate
    metrics = settings.path(params.metrics_path)
    metrics.parent.mkdir(parents=True)
    primary = params.primary_metric
    baseline = {"strategy": "mean", primary: 0.5}
    metrics.write_text(json.dumps({primary: 0.8123, "n_test": 200, "baseline": baseline}))
    page = model_card_page(settings, {}, None)
    assert "| metric | holdout value | baseline (mean) |" in page
    assert f"| **{primary}** | 0.8123 | 0.5000 |" in page
    assert "| n_test | 200 | - |" in page
    assert "promotes none that does not beat the baseline" in page


def test_model_card_shows_each_class_and_names_the_rarest(settings):
    params = settings.params.evaluate
    metrics = settings.path(params.metrics_path)
    metrics.parent.mkdir(parents=True)
    per_class = {
        "common": {"precision": 0.9, "recall": 0.95, "f1": 0.9243, "support": 180},
        "rare | odd": {"precision": 0.5, "recall": 0.25, "f1": 0.3333, "support": 20},
    }
    primary = params.primary_metric
    metrics.write_text(json.dumps({primary: 0.8, "n_test": 200, "per_class": per_class}))
    page = model_card_page(settings, {}, None)
    assert "| class | precision | recall | f1 | support |" in page
    assert "| common | 0.9000 | 0.9500 | 0.9243 | 180 |" in page
    assert "| rare \\| odd | 0.5000 | 0.2500 | 0.3333 | 20 |" in page
    assert "rarest class on the holdout, `rare \\| odd`, has recall 0.2500" in page
    assert "per_class" not in page  # not a row of the metrics table


def test_model_card_counts_predictions_outside_the_targets_observed_values(settings):
    params = settings.params.evaluate
    metrics = settings.path(params.metrics_path)
    metrics.parent.mkdir(parents=True)
    predictions = {
        "n": 200,
        "clipped_to_declared_range": 7,
        "outside_observed_target": 9,
        "observed_target": [0.0, 41.5],
        "min": -1.25,
        "max": 40.0,
    }
    primary = params.primary_metric
    metrics.write_text(json.dumps({primary: 0.8, "n_test": 200, "predictions": predictions}))
    page = model_card_page(settings, {}, None)
    assert "range from -1.25 to 40; 9 of 200 lie outside the target values" in page
    assert "(0 to 41.5)" in page and "7 were clipped to the target's declared limits" in page
    assert "| predictions |" not in page  # a section of its own, not a row of the table


def test_model_card_shows_metrics_per_slice_with_floors_and_ranked_inputs(settings):
    from mlplate_runtime.models.importance import ColumnImportance, Importance, write_importance
    from mlplate_runtime.models.tasks import task_for

    primary = settings.params.evaluate.primary_metric
    others = [name for name in task_for(settings).higher_is_better if name != primary][:2]
    settings = with_slices(
        settings, {"big": "monthly_charges > 50", "none": "monthly_charges > 9999"}, {"big": 0.7}
    )
    evaluate = settings.params.evaluate
    settings.path(evaluate.slices_path).parent.mkdir(parents=True)
    big = {"n": 41, primary: 0.8, others[0]: 0.5, others[1]: 0.25}
    empty = {"n": 0, primary: None, others[0]: None, others[1]: None}
    settings.path(evaluate.slices_path).write_text(
        json.dumps({"slices": {"big": big, "none": empty}})
    )
    write_importance(
        settings.path(evaluate.importance_path),
        Importance(
            primary,
            80,
            5,
            (ColumnImportance("tenure_months", 0.12, 0.01), ColumnImportance("age", -0.001, 0.0)),
        ),
    )
    page = model_card_page(settings, {}, None)
    assert (
        f"| slice | condition | n | {primary} | {' | '.join(others)} | floor ({primary}) |" in page
    )
    assert "| big | `monthly_charges > 50` | 41 | 0.8000 | 0.5000 | 0.2500 | 0.7 |" in page
    assert "| none | `monthly_charges > 9999` | 0 | - | - | - | - |" in page
    assert "## Input importance" in page
    assert f"how much `{primary}` worsens when one input column's values are shuffled" in page
    assert "| 1 | `tenure_months` | 0.1200 | 0.0100 |" in page
    assert "| 2 | `age` | -0.0010 | 0.0000 |" in page


def test_model_card_has_no_slice_section_when_params_name_none(settings):
    page = model_card_page(settings, {}, None)
    assert "## Slices" not in page
    assert "No importance yet: run `make all`." in page


def test_a_condition_naming_a_backquoted_column_stays_one_code_span():
    from mlplate_runtime.model_card import _code

    assert _code('`Plan Type` == "pro"') == '`` `Plan Type` == "pro" ``'
    assert _code("seats > 10") == "`seats > 10`"
