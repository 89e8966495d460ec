"""`model.class_weight: balanced` reaches whatever estimator model.py builds: its own
class_weight, else balanced sample weights at every fit (tuning's folds too), else one line."""

from __future__ import annotations

import shutil
from typing import ClassVar

import numpy as np
import pytest
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier

from mlplate_runtime.config import ModelParams, load_settings
from mlplate_runtime.errors import ProjectError
from mlplate_runtime.features.build import add_features, feature_matrix
from mlplate_runtime.models import train as training
from mlplate_runtime.models.tasks import task_for
from mlplate_runtime.models.weights import weigh_classes
from support import PROJECT_ROOT


class RecordingNB(GaussianNB):
    """Naive Bayes (no class_weight parameter) that keeps the sample weights of each fit."""

    seen: ClassVar[list] = []

    def fit(self, X, y, sample_weight=None):
        RecordingNB.seen.append((np.asarray(y), sample_weight))
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.fixture
def balanced(settings):
    if settings.contract.task != "classification":
        pytest.skip("class weights are for classification")
    model = ModelParams.model_validate(
        {**settings.params.model.as_dict(), "class_weight": "balanced"}
    )
    return settings.model_copy(
        update={"params": settings.params.model_copy(update={"model": model})}
    )


@pytest.fixture
def data(balanced, sample):
    """Features and class positions of the sample, its first class made rare (about 1 in 10)."""
    contract = balanced.contract
    frame = add_features(sample, contract)
    labels = task_for(balanced).labels(frame[contract.target])
    rare = np.flatnonzero(labels == 0)
    keep = np.setdiff1d(np.arange(len(labels)), rare[len(rare) // 8 :])
    return feature_matrix(frame, contract).iloc[keep], labels[keep]


def _estimator(monkeypatch, estimator):
    monkeypatch.setattr(training, "build_estimator", lambda *args, **kwargs: estimator)


def _balanced(labels, weights):
    totals = [weights[labels == k].sum() for k in np.unique(labels)]
    return np.allclose(totals, totals[0])


def test_an_estimator_with_class_weight_gets_it_set(balanced, data):
    model = training.fit_model(balanced, *data)  # the default: gradient boosting
    assert model.named_steps["estimator"].class_weight == "balanced"


def test_without_class_weight_the_estimator_gets_balanced_sample_weights(
    balanced, data, monkeypatch
):
    _estimator(monkeypatch, RecordingNB())
    RecordingNB.seen.clear()
    model = training.fit_model(balanced, *data)
    ((labels, weights),) = RecordingNB.seen
    assert weights is not None and _balanced(labels, weights)
    fitted = model.named_steps["estimator"]
    assert np.allclose(
        fitted.class_prior_, 1 / len(fitted.classes_)
    )  # the rare class counts as much


def test_an_estimator_that_cannot_weigh_classes_is_named(balanced, data, monkeypatch):
    _estimator(monkeypatch, KNeighborsClassifier())
    with pytest.raises(ProjectError) as raised:
        training.fit_model(balanced, *data)
    message = str(raised.value)
    assert "model.class_weight" in message and "KNeighborsClassifier" in message
    assert "\n" not in message


def test_without_the_setting_nothing_is_weighted(settings, data, monkeypatch):
    _estimator(monkeypatch, RecordingNB())
    RecordingNB.seen.clear()
    training.fit_model(settings, *data)
    assert [weights for _, weights in RecordingNB.seen] == [None]
    assert "class_weight" not in settings.params.model.as_dict()  # model.py gets params.yaml's keys


def test_every_fold_of_tuning_is_weighted(balanced, data, monkeypatch):
    import optuna
    import pandas as pd

    from mlplate_runtime.models import tune as tuning

    _estimator(monkeypatch, RecordingNB())
    RecordingNB.seen.clear()
    features, labels = data
    frame = features.assign(
        **{balanced.contract.target: np.asarray(balanced.contract.classes)[labels]}
    )
    objective = tuning._Objective(balanced, pd.DataFrame(frame))
    space = tuning.tune_params(balanced).space
    objective(optuna.trial.FixedTrial(tuning.current_values(balanced, space)))
    assert len(RecordingNB.seen) == tuning.tune_params(balanced).cv_folds
    assert all(w is not None and _balanced(y, w) for y, w in RecordingNB.seen)


def test_class_weights_for_regression_are_refused_in_one_line():
    with pytest.raises(ProjectError) as raised:
        weigh_classes(GaussianNB(), class_weight="balanced", task="regression")
    assert "model.class_weight" in str(raised.value) and "regression" in str(raised.value)


def test_a_bad_class_weight_in_params_names_the_key(tmp_path):
    (tmp_path / "data").mkdir()
    for name in ("params.yaml", "data/contract.yaml"):
        shutil.copy(PROJECT_ROOT / name, tmp_path / name)
    params = tmp_path / "params.yaml"
    params.write_text(params.read_text().replace("model:\n", "model:\n  class_weight: yes\n", 1))
    with pytest.raises(ProjectError) as raised:
        load_settings(params)
    assert "model.class_weight" in str(raised.value) and "\n" not in str(raised.value)


def test_weighted_tuning_is_another_study(settings, balanced, data):
    import pandas as pd

    from mlplate_runtime.models import tune as tuning

    frame = pd.DataFrame(data[0])
    search = tuning.tune_params(settings)
    assert tuning.study_name(balanced, search, frame) != tuning.study_name(settings, search, frame)
