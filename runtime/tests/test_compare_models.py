"""Champion vs challenger on served traffic that has labels (the feedback file)."""

from __future__ import annotations

import json

import pytest

from mlplate_runtime.errors import ProjectError
from mlplate_runtime.monitoring.compare import compare_models


def _scores(contract, label_position, good):
    """Scores for one record: right (good) or wrong, in the shape the task logs."""
    if contract.task == "regression":
        return [100.0 + label_position if good else 150.0 + label_position]
    k = len(contract.classes)
    position = label_position if good else (label_position + 1) % k
    return [0.9 if i == position else 0.1 / (k - 1) for i in range(k)]


def test_compare_models_joins_logged_predictions_with_feedback(settings):
    contract, monitoring = settings.contract, settings.params.monitoring
    log = settings.path(monitoring.prediction_log)
    log.parent.mkdir(parents=True)
    rows, labels = [], []
    for i in range(40):
        if contract.task == "regression":
            position, label = i, 100.0 + i
        else:
            position = i % len(contract.classes)
            label = contract.classes[position]
        labels.append(label)
        for role, version, good in (("champion", "1", True), ("challenger", "2", False)):
            rows.append(
                {
                    "record_id": f"r-{i}",
                    "model": role,
                    "model_version": version,
                    "scores": _scores(contract, position, good),
                }
            )
    log.write_text("".join(json.dumps(row) + "\n" for row in rows))
    feedback = settings.path(monitoring.feedback_path)
    feedback.parent.mkdir(parents=True)
    feedback.write_text("record_id,label\n" + "".join(f"r-{i},{y}\n" for i, y in enumerate(labels)))
    result = compare_models(settings)
    champion, challenger = result["models"]["champion"], result["models"]["challenger"]
    if contract.task == "regression":
        assert champion["rmse"] == 0.0 and challenger["rmse"] == 50.0
    else:
        assert champion["accuracy"] == 1.0 and challenger["accuracy"] == 0.0
    assert challenger["n_labeled"] == 40


def test_compare_models_without_feedback_is_a_clear_error(settings):
    with pytest.raises(ProjectError, match="feedback"):
        compare_models(settings)
