"""The team's estimator (model.py), built from params.yaml's model section."""

from __future__ import annotations

from sklearn.base import clone, is_classifier, is_regressor

from {{ cookiecutter.__package_name }}.model import build_estimator


def test_params_yaml_selects_an_estimator_for_the_task(project_settings):
    params, task = project_settings.params, project_settings.contract.task
    estimator = build_estimator(params.model.as_dict(), task=task, seed=params.seed)
    assert is_regressor(estimator) if task == "regression" else is_classifier(estimator)


def test_the_estimator_is_a_plain_scikit_learn_estimator(project_settings):
    params, task = project_settings.params, project_settings.contract.task
    estimator = build_estimator(params.model.as_dict(), task=task, seed=params.seed)
    assert clone(estimator).get_params() == estimator.get_params()
