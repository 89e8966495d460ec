"""The whole project through mlplate's runtime, on data made from data/contract.yaml:
stages, promotion gate, and the champion answering records as the API does."""

from __future__ import annotations

import math


def test_the_project_trains_registers_and_answers(smoke, project_settings):
    metric = project_settings.params.evaluate.primary_metric
    assert math.isfinite(smoke.metrics[metric])
    assert smoke.registered_version == 1
    answer = "prediction" if project_settings.contract.task == "regression" else "label"
    assert len(smoke.answers) == 5 and all(answer in each for each in smoke.answers)
