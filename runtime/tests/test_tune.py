"""Tuning: a small study beats or matches params.yaml, on the training split only, resumably."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
import yaml

from mlplate_runtime.config import TuneParams, load_settings
from mlplate_runtime.errors import ProjectError
from mlplate_runtime.features.build import add_features
from mlplate_runtime.models import tune as tuning
from mlplate_runtime.models.tasks import task_for
from support import PROJECT_ROOT

SPACE = {
    "model.hist_gradient_boosting.learning_rate": {"low": 0.03, "high": 0.3, "log": True},
    "model.hist_gradient_boosting.max_iter": {"low": 10, "high": 60},
    "model.hist_gradient_boosting.max_leaf_nodes": {"low": 4, "high": 31},
    "model.linear.alpha": {"low": 0.01, "high": 10.0, "log": True},
}


def small_study(settings, n_trials, space=SPACE):
    """``settings`` with a quick study (2 folds, small models) over ``space``, in its folder."""
    search = TuneParams.model_validate(
        {
            "n_trials": n_trials,
            "timeout_seconds": 120,
            "cv_folds": 2,
            "n_jobs": 1,
            "storage": "sqlite:///optuna.db",
            "report_path": "reports/tuning.json",
            "space": space,
        }
    )
    quick = tuning.with_values(settings, {"model.hist_gradient_boosting.max_iter": 30})
    return quick.model_copy(update={"params": quick.params.model_copy(update={"tune": search})})


@pytest.fixture
def splits(settings, sample):
    """Train and test feature splits in the settings' folder; the test split's ids."""
    frame = add_features(sample, settings.contract)
    settings.features("train").parent.mkdir(parents=True, exist_ok=True)
    frame.iloc[:300].to_csv(settings.features("train"), index=False)
    frame.iloc[300:].to_csv(settings.features("test"), index=False)
    return frame.iloc[:300], frame.iloc[300:]


@pytest.fixture
def reads(monkeypatch):
    """The splits tuning reads, in order. It reads them with read_features, as training does
    (through the feature store where there is one: tests/test_feature_store.py); here it
    reads the split files."""
    splits = []

    def read(settings, split):
        splits.append(split)
        return pd.read_csv(settings.features(split))

    monkeypatch.setattr(tuning, "read_features", read)
    return splits


def test_a_small_study_matches_or_beats_params_yaml_on_the_training_split_only(
    settings, splits, reads
):
    train, test = splits
    study = small_study(settings, 4)
    result = tuning.tune(study)
    report = result.report

    assert reads == ["train"]  # the holdout is never read
    assert report["training_rows"] == len(train)
    ids = [name for name, spec in settings.contract.columns.items() if spec.role == "id"]
    if ids:  # the rows used are the training rows, by id
        assert set(result.row_ids) == set(train[ids[0]])
        assert not set(result.row_ids) & set(test[ids[0]])
    higher = task_for(settings).higher_is_better[report["metric"]]
    assert report["direction"] == ("maximize" if higher else "minimize")
    best, baseline = report["best"]["value"], report["baseline"]["value"]
    assert best >= baseline if higher else best <= baseline
    model = study.params.model
    assert report["baseline"]["params"] == {
        f"model.{model.type}.{key}": value
        for key, value in model.hyperparameters().items()
        if f"model.{model.type}.{key}" in SPACE
    }  # trial 0 is params.yaml; model.linear.* is not searched for another model type
    assert sum(report["trials"].values()) == 4

    import mlflow

    mlflow.set_tracking_uri(settings.tracking_uri)
    children = mlflow.search_runs(
        search_all_experiments=True,
        filter_string=f"tags.mlflow.parentRunId = '{report['mlflow_parent_run']}'",
    )
    assert sorted(children["tags.mlflow.runName"]) == [f"trial {n}" for n in range(4)]
    parent = mlflow.get_run(report["mlflow_parent_run"])
    assert parent.data.metrics[f"best_cv_{report['metric']}"] == pytest.approx(best)
    assert report["mlflow_seconds_per_trial"] > 0


def test_a_study_resumes_where_it_stopped_and_applies_only_when_asked(settings, splits, reads):
    first = tuning.tune(small_study(settings, 2)).report
    params_path = settings.root / "params.yaml"
    shutil.copy(PROJECT_ROOT / "params.yaml", params_path)
    before = params_path.read_text()
    second = tuning.tune(small_study(settings, 3), params_path=params_path).report
    assert second["study"] == first["study"]
    assert sum(second["trials"].values()) == 3  # one more trial, not three
    assert params_path.read_text() == before  # nothing applied unless asked

    third = tuning.tune(small_study(settings, 3), apply=True, params_path=params_path).report
    assert sum(third["trials"].values()) == 3 and third["applied"]
    written = yaml.safe_load(params_path.read_text())
    for key, value in third["best"]["params"].items():
        node = written
        for part in key.split("."):
            node = node[part]
        assert node == pytest.approx(value)
    assert "# or linear" in params_path.read_text()  # comments kept


@pytest.mark.parametrize(
    ("space", "message"),
    [
        ({"seed": {"low": 1, "high": 5}}, "tune only model parameters"),
        ({"model.linear.alpha": {"low": 5.0, "high": 1.0}}, "must be below high"),
        ({"model.linear.alpha": {"low": 0.0, "high": 1.0, "log": True}}, "log range needs low > 0"),
        ({"model.linear.alpha": {"low": 0.1}}, "give low and high"),
        ({"model.type": {"choices": ["linear"], "low": 1, "high": 2}}, "not both"),
    ],
)
def test_a_bad_search_space_is_one_line_naming_the_key(tmp_path, space, message):
    shutil.copytree(PROJECT_ROOT / "data", tmp_path / "data", ignore=shutil.ignore_patterns("raw"))
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text())
    params["tune"]["space"] = space
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    with pytest.raises(ProjectError, match=f"tune.space.*{message}"):
        load_settings(tmp_path / "params.yaml")


def test_a_space_key_params_yaml_lacks_is_refused_before_any_work(settings):
    space = {"model.hist_gradient_boosting.depth": {"low": 1, "high": 5}}
    with pytest.raises(
        ProjectError, match=r"'model\.hist_gradient_boosting\.depth' is not in params"
    ):
        tuning.tune(small_study(settings, 1, space))
