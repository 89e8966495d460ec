"""The model file is loaded as data: pickles and types the project's model does not build are
refused in one line; the trusted types are computed from the model the pipeline builds."""

from __future__ import annotations

import os
import pickle

import pytest
import skops.io
from sklearn.preprocessing import FunctionTransformer

from mlplate_runtime.errors import ProjectError
from mlplate_runtime.features.build import feature_matrix
from mlplate_runtime.models.store import expected_types, load_model, save_model
from mlplate_runtime.models.tasks import task_for
from mlplate_runtime.models.train import build_model


class Payload:
    """What an attacker would put in a pickle: code that runs on load."""

    def __reduce__(self):
        return (os.system, ("touch pwned",))


def with_model(settings, **model):
    section = settings.params.model.model_validate({**settings.params.model.as_dict(), **model})
    return settings.model_copy(
        update={"params": settings.params.model_copy(update={"model": section})}
    )


def fit(settings, sample):
    features = feature_matrix(sample, settings.contract)
    task = task_for(settings)
    return build_model(settings).fit(features, task.labels(sample[settings.contract.target]))


@pytest.mark.parametrize("model_type", ["hist_gradient_boosting", "linear"])
def test_every_model_the_project_trains_round_trips(settings, sample, tmp_path, model_type):
    settings = with_model(settings, type=model_type)
    model = fit(settings, sample)
    assert set(skops.io.get_untrusted_types(data=skops.io.dumps(model))) <= expected_types(settings)
    save_model(model, tmp_path / "model.skops")
    loaded = load_model(tmp_path / "model.skops", settings)
    features = feature_matrix(sample, settings.contract)
    task = task_for(settings)
    assert (task.scores(loaded, features) == task.scores(model, features)).all()


def test_a_model_built_with_other_parameters_names_the_real_cause(settings, sample, tmp_path):
    """A linear model's file, read while params.yaml selects gradient boosting (or back)."""
    linear = with_model(settings, type="linear")
    boosting = with_model(settings, type="hist_gradient_boosting")
    save_model(fit(boosting, sample), tmp_path / "model.skops")
    if expected_types(boosting) <= expected_types(linear):
        pytest.skip("both model types need the same types here")
    with pytest.raises(ProjectError, match=r"trained with other model code or parameters"):
        load_model(tmp_path / "model.skops", linear)


def test_a_pickle_in_place_of_the_model_is_refused_and_never_runs(settings, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "model.skops"
    path.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ProjectError, match="is not a model file this project wrote"):
        load_model(path, settings)
    assert not (tmp_path / "pwned").exists()


def test_a_skops_file_with_foreign_types_is_refused(settings, tmp_path):
    path = tmp_path / "model.skops"
    skops.io.dump(FunctionTransformer(func=os.system), path)
    with pytest.raises(ProjectError, match=r"does not build \(posix.system\)"):
        load_model(path, settings)
