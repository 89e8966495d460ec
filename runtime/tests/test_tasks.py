"""Classification metrics for imbalanced classes, per-class metrics, and the tie-breaking metric."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from mlplate_runtime.config import EvaluateParams
from mlplate_runtime.errors import ProjectError
from mlplate_runtime.models.tasks import Classification, Regression, secondary_metric, task_for

THREE = Classification(("a", "b", "rare"))


def _scores(seed=0, n=60, k=3):
    rng = np.random.default_rng(seed)
    return rng.integers(0, k, n), rng.dirichlet(np.ones(k), size=n)


def test_imbalance_metrics_match_scikit_learns():
    y_true, scores = _scores()
    y_pred = scores.argmax(axis=1)
    metrics = THREE.metrics(y_true, scores)
    assert metrics["log_loss"] == pytest.approx(skm.log_loss(y_true, scores))
    assert metrics["balanced_accuracy"] == pytest.approx(
        skm.balanced_accuracy_score(y_true, y_pred)
    )
    assert metrics["f1_macro"] == pytest.approx(skm.f1_score(y_true, y_pred, average="macro"))
    assert not THREE.higher_is_better["log_loss"]
    assert THREE.higher_is_better["f1_macro"] and THREE.higher_is_better["balanced_accuracy"]


def test_binary_f1_macro_counts_the_negative_class_too():
    binary = Classification(("no", "yes"))
    y_true = np.array([0] * 9 + [1])
    scores = np.tile([0.9, 0.1], (10, 1))  # always "no"
    metrics = binary.metrics(y_true, scores)
    assert metrics["f1"] == 0.0  # the positive class's F1
    assert metrics["f1_macro"] == pytest.approx((2 * 0.9 / 1.9) / 2)
    assert metrics["balanced_accuracy"] == pytest.approx(0.5)
    assert metrics["accuracy"] == pytest.approx(0.9)


def test_log_loss_takes_rounded_logged_scores_and_skips_labels_that_are_no_class():
    y_true, scores = _scores(seed=1)
    rounded = scores.round(6)
    assert THREE.metrics(y_true, rounded)["log_loss"] == pytest.approx(
        skm.log_loss(y_true, scores), abs=1e-5
    )
    unknown = y_true.copy()
    unknown[0] = -1
    expected = skm.log_loss(y_true[1:], scores[1:], labels=[0, 1, 2])
    assert THREE.metrics(unknown, scores)["log_loss"] == pytest.approx(expected)


def test_per_class_metrics_name_each_class_with_its_support():
    y_true = np.array([0, 0, 0, 0, 1, 1, 1, 2])
    scores = np.eye(3)[[0, 0, 0, 1, 1, 1, 1, 0]]  # the rare class is never predicted
    per_class = THREE.per_class(y_true, scores)
    assert list(per_class) == ["a", "b", "rare"]
    assert per_class["rare"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert per_class["a"]["recall"] == pytest.approx(0.75)
    assert per_class["b"]["precision"] == pytest.approx(0.75)


def _with_evaluate(settings, **values):
    evaluate = EvaluateParams.model_validate({**settings.params.evaluate.model_dump(), **values})
    return settings.model_copy(
        update={"params": settings.params.model_copy(update={"evaluate": evaluate})}
    )


def test_the_secondary_metric_defaults_to_log_loss_or_rmse_and_never_to_the_primary(
    project_settings,
):
    settings = project_settings
    regression = settings.contract.task == "regression"
    task = task_for(settings)
    default = "rmse" if regression else "log_loss"
    primary = settings.params.evaluate.primary_metric
    assert secondary_metric(settings, task) == (default if primary != default else "mae")
    as_primary = _with_evaluate(settings, primary_metric=default)
    assert secondary_metric(as_primary, task) == ("mae" if regression else "roc_auc")
    chosen = _with_evaluate(settings, secondary_metric="r2" if regression else "accuracy")
    assert secondary_metric(chosen, task_for(chosen)) == ("r2" if regression else "accuracy")
    assert Regression.tie_breakers[0] == "rmse" and Classification.tie_breakers[0] == "log_loss"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("auc", "evaluate.secondary_metric is 'auc'; for"),
        (None, "evaluate.secondary_metric is the primary metric"),
    ],
)
def test_a_bad_secondary_metric_is_one_line_naming_the_key(project_settings, value, message):
    chosen = value or project_settings.params.evaluate.primary_metric
    settings = _with_evaluate(project_settings, secondary_metric=chosen)
    with pytest.raises(ProjectError) as raised:
        task_for(settings)
    assert message in str(raised.value) and "\n" not in str(raised.value)


class _Constant:
    """A fitted "model" whose predictions are given."""

    def __init__(self, values):
        self.values = np.asarray(values, dtype=float)

    def predict(self, features):
        return self.values[: len(features)]


def test_regression_predictions_are_clipped_to_the_targets_declared_limits():
    model, rows = _Constant([-2.5, 0.3, 7.0, 12.0]), np.zeros((4, 1))
    assert Regression().scores(model, rows).tolist() == [-2.5, 0.3, 7.0, 12.0]  # none declared
    assert Regression(low=0.0, high=10.0).scores(model, rows).tolist() == [0.0, 0.3, 7.0, 10.0]
    assert Regression(low=0.0).unclipped(model, rows).tolist()[0] == -2.5


def test_multi_class_averages_leave_out_a_class_neither_present_nor_predicted():
    # a slice of the holdout with two of the three classes, all right
    y_true = np.array([0, 0, 1, 1])
    scores = np.array([[0.8, 0.1, 0.1], [0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.7, 0.1]])
    metrics = THREE.metrics(y_true, scores)
    assert metrics["f1_macro"] == metrics["f1"] == metrics["recall"] == 1.0  # not 2/3
    wrong = np.array([[0.1, 0.1, 0.8], [0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.7, 0.1]])
    assert THREE.metrics(y_true, wrong)["f1_macro"] < 1.0  # a class predicted wrongly counts
