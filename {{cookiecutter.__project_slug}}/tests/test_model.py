"""The team's estimator (model.py), built from params.yaml's model section."""

from __future__ import annotations

import pytest
from sklearn.base import clone, is_classifier, is_regressor

from {{ cookiecutter.__package_name }}.model import build_estimator


@pytest.mark.parametrize("task", ["classification", "regression"])
@pytest.mark.parametrize("model_type", ["hist_gradient_boosting", "linear"])
def test_each_model_type_builds_an_estimator_for_the_task(project_settings, task, model_type):
    params = {**project_settings.params.model.as_dict(), "type": model_type}
    estimator = build_estimator(params, task=task, seed=7)
    assert is_regressor(estimator) if task == "regression" else is_classifier(estimator)
    assert clone(estimator).get_params() == estimator.get_params()  # a plain sklearn estimator


def test_params_yaml_selects_an_estimator_for_this_project(project_settings):
    params, task = project_settings.params, project_settings.contract.task
    estimator = build_estimator(params.model.as_dict(), task=task, seed=params.seed)
    assert is_regressor(estimator) if task == "regression" else is_classifier(estimator)
