"""The model file is loaded as data: pickles and unknown types are refused in one line."""

from __future__ import annotations

import os
import pickle

import pytest
import skops.io
from sklearn.preprocessing import FunctionTransformer

from mlplate_runtime.errors import ProjectError
from mlplate_runtime.features.build import add_features, feature_matrix
from mlplate_runtime.models.store import (
    TRUSTED_TYPES,
    load_model,
    save_model,
)
from mlplate_runtime.models.tasks import task_for
from mlplate_runtime.models.train import build_model


class Payload:
    """What an attacker would put in a pickle: code that runs on load."""

    def __reduce__(self):
        return (os.system, ("touch pwned",))


@pytest.mark.parametrize("model_type", ["hist_gradient_boosting", "linear"])
def test_every_model_the_project_trains_round_trips(settings, sample, tmp_path, model_type):
    model_params = settings.params.model.model_copy(update={"type": model_type})
    settings = settings.model_copy(
        update={"params": settings.params.model_copy(update={"model": model_params})}
    )
    frame = add_features(sample, settings.contract)
    features = feature_matrix(frame, settings.contract)
    task = task_for(settings)
    model = build_model(settings).fit(features, task.labels(frame[settings.contract.target]))
    assert set(skops.io.get_untrusted_types(data=skops.io.dumps(model))) <= set(TRUSTED_TYPES)
    save_model(model, tmp_path / "model.skops")
    loaded = load_model(tmp_path / "model.skops")
    assert (task.scores(loaded, features) == task.scores(model, features)).all()


def test_a_pickle_in_place_of_the_model_is_refused_and_never_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "model.skops"
    path.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ProjectError, match="is not a model file this project wrote"):
        load_model(path)
    assert not (tmp_path / "pwned").exists()


def test_a_skops_file_with_foreign_types_is_refused(tmp_path):
    path = tmp_path / "model.skops"
    skops.io.dump(FunctionTransformer(func=os.system), path)
    with pytest.raises(
        ProjectError, match=r"holds types this project never writes \(posix.system\)"
    ):
        load_model(path)
