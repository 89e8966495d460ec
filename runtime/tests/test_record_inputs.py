"""The direct record path: the same scores as the pipeline through pandas, or no direct path."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from mlplate_runtime.data.synthetic import json_records, synthetic_frame
from mlplate_runtime.models.loaded import LoadedModel
from mlplate_runtime.models.record_inputs import checked_encoder, encoder_for, probe_records
from mlplate_runtime.models.tasks import task_for


def loaded(settings, model):
    return LoadedModel(
        "champion", "models:/demo@champion", model, settings.contract, task_for(settings)
    )


def general_scores(model: LoadedModel, records):
    return model.scores_of(pd.DataFrame.from_records(records))


@pytest.fixture(scope="module")
def records(module_settings):
    """Request records unlike the training rows: other draws, gaps in every nullable column."""
    contract = module_settings.contract
    rows = json_records(synthetic_frame(contract, 300, seed=99), contract)
    for index, name in enumerate(contract.features):
        if contract.columns[name].nullable:
            rows[index][name] = None
    return rows


def test_the_runtimes_pipeline_scores_records_directly_with_the_same_numbers(
    module_settings, fitted, records
):
    model = loaded(module_settings, fitted)
    direct = model.score(records)
    assert model._encoder is not None  # the direct path was taken
    np.testing.assert_array_equal(direct, general_scores(model, records))
    one = model.score(records[:1])
    np.testing.assert_array_equal(one, general_scores(model, records[:1]))


def test_values_of_other_types_and_unseen_categories_score_as_the_pipeline_does(
    module_settings, fitted, records
):
    contract = module_settings.contract
    model = loaded(module_settings, fitted)
    model.score(records[:1])
    odd = [dict(record) for record in records[:4]]
    categorical = [n for n in contract.features if contract.columns[n].type == "categorical"]
    numeric = [n for n in contract.features if contract.columns[n].type in ("numeric", "integer")]
    if categorical:
        odd[0][categorical[0]] = "a category never seen"  # one-hot all zeros
        odd[1][categorical[0]] = 3  # a number for a category: the general path reads it
    if numeric:
        odd[2][numeric[0]] = 7  # an integer for a float column
    np.testing.assert_array_equal(model.score(odd), general_scores(model, odd))


def test_no_direct_path_for_pipelines_it_does_not_know(module_settings, fitted, records):
    own = Pipeline([("double", FunctionTransformer(lambda x: x)), *fitted.steps[1:]])
    assert checked_encoder(own, None, probe_records(module_settings.contract)) is None
    model = loaded(module_settings, fitted)
    model.model = Pipeline(fitted.steps)  # the same steps: still the runtime's shape
    assert encoder_for(model.model) is not None
    inputs = fitted.named_steps["inputs"]
    derived = Pipeline([("inputs", type(inputs)({"ratio": "numeric"})), *fitted.steps[1:]])
    assert checked_encoder(derived, None, records) is None


def test_a_direct_matrix_unlike_the_pipelines_is_never_used(
    module_settings, fitted, records, caplog
):
    """The safety net: the encoder is only trusted after it matched the pipeline on probes."""

    def shifted(probes):
        return encoder_for(fitted).matrix(probes) + 1e-12

    with caplog.at_level(logging.WARNING):
        assert checked_encoder(fitted, shifted, probe_records(module_settings.contract)) is None
    assert "differs" in caplog.text


def test_a_probe_that_fails_leaves_the_general_path_and_the_model_serving(
    module_settings, fitted, records, monkeypatch, caplog
):
    from mlplate_runtime.models import loaded as loaded_module

    def broken_probes(contract):
        raise ValueError("cannot draw synthetic rows for this contract")

    monkeypatch.setattr(loaded_module, "probe_records", broken_probes)
    model = loaded(module_settings, fitted)
    with caplog.at_level(logging.WARNING):
        assert model.prepare_direct() is False
    assert "through pandas" in caplog.text
    np.testing.assert_array_equal(model.score(records[:3]), general_scores(model, records[:3]))
