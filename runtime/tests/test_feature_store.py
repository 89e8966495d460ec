"""The Feast feature store: built from the contract, joined point-in-time for training, looked up by id by the API."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from mlplate_runtime.config import ServingSettings, Settings
from mlplate_runtime.data.synthetic import json_records
from mlplate_runtime.errors import ProjectError
from mlplate_runtime.features.build import feature_matrix
from mlplate_runtime.features.store import (
    TIMESTAMP,
    build_store,
    feature_refs,
    feature_table,
    historical_features,
    id_column,
    open_store,
)
from mlplate_runtime.models.loaded import LoadedModel
from mlplate_runtime.models.tasks import task_for
from mlplate_runtime.serving.app import create_app
from support import PROJECTS

PROJECT_ROOT = PROJECTS / "feast"  # whatever project the rest of the suite runs on


@pytest.fixture(scope="module")
def mlplate_project_root() -> Path:
    return PROJECT_ROOT


def with_as_of(settings: Settings, shift: timedelta) -> Settings:
    """The same project, with the label time of the join moved by ``shift``."""
    store = settings.params.feature_store
    assert store is not None
    moved = store.model_copy(update={"as_of": store.as_of + shift})
    return settings.model_copy(
        update={"params": settings.params.model_copy(update={"feature_store": moved})}
    )


@pytest.fixture(scope="module")
def store_settings(app_settings: Settings) -> Settings:
    """A project folder with featurized splits (300 train rows) and a built store."""
    return app_settings


@pytest.mark.parametrize("split", ["train", "test"])
def test_the_point_in_time_join_returns_the_frame_training_expects(store_settings, split):
    contract = store_settings.contract
    expected = pd.read_csv(store_settings.features(split))
    joined = historical_features(store_settings, split)
    assert list(joined.columns) == list(expected.columns)
    assert joined[id_column(contract)].tolist() == expected[id_column(contract)].tolist()
    pd.testing.assert_frame_equal(
        feature_matrix(joined, contract), feature_matrix(expected, contract)
    )
    assert joined[contract.target].tolist() == expected[contract.target].tolist()


def test_the_join_takes_each_value_as_of_the_label_time(store_settings, tmp_path):
    """A newer value of a feature is invisible before its event time, and values expire (ttl)."""
    root = tmp_path / "project"
    shutil.copytree(store_settings.root, root)
    settings = store_settings.model_copy(update={"root": root})
    contract, params = settings.contract, settings.params.feature_store
    assert params is not None
    key, column = id_column(contract), contract.numeric_features[0]
    table = feature_table(settings)
    newer = table.iloc[:1].copy()
    newer[column] = -12345.0
    newer[TIMESTAMP] = params.as_of + timedelta(days=30)
    pd.concat([table, newer]).to_parquet(settings.path(params.table_path), index=False)

    def value_at(moment):
        entities = pd.DataFrame({key: [table[key].iloc[0]], TIMESTAMP: [moment]})
        joined = open_store(settings).get_historical_features(
            entity_df=entities, features=feature_refs(contract)
        )
        found = joined.to_df()
        return found[column].iloc[0] if len(found) else None  # expired rows are left out

    assert value_at(params.as_of + timedelta(days=29)) == table[column].iloc[0]
    assert value_at(params.as_of + timedelta(days=31)) == -12345.0
    assert value_at(params.as_of + timedelta(days=30 + params.ttl_days + 1)) is None


def test_training_stops_in_one_line_when_the_store_has_no_values_yet(store_settings):
    too_early = with_as_of(store_settings, -timedelta(days=1))
    with pytest.raises(ProjectError, match=r"^300 train rows have no feature values in the store"):
        historical_features(too_early, "train")


def test_the_store_needs_exactly_one_id_column(store_settings):
    contract = store_settings.contract
    key = id_column(contract)
    columns = dict(contract.columns)
    columns[key] = columns[key].model_copy(update={"role": "ignored"})
    without = contract.model_copy(update={"columns": columns})
    with pytest.raises(ProjectError, match="no column has role: id in the contract"):
        id_column(without)


def test_a_repeated_id_is_refused_before_anything_is_written(store_settings, tmp_path):
    settings = store_settings.model_copy(update={"root": tmp_path})
    frame = pd.read_csv(store_settings.features("train"))
    settings.features("train").parent.mkdir(parents=True)
    pd.concat([frame, frame.iloc[:1]]).to_csv(settings.features("train"), index=False)
    shutil.copy(store_settings.features("test"), settings.features("test"))
    with pytest.raises(ProjectError, match=r"repeats .*one row per id and event time"):
        build_store(settings)
    assert not settings.path(settings.params.feature_store.dir).exists()


@pytest.fixture(scope="module")
def api(store_settings, fitted, tmp_path_factory):
    contract = store_settings.contract

    def loader(settings, _serving):
        return LoadedModel(
            "champion", "models:/fs@champion", fitted, contract, task_for(settings), version="1"
        ), None

    log = tmp_path_factory.mktemp("by-id") / "predictions.jsonl"
    app = create_app(store_settings, ServingSettings(prediction_log=log), loader=loader)
    with TestClient(app) as client:
        yield client


def test_scoring_by_id_uses_the_online_features(api, store_settings, sample):
    key = id_column(store_settings.contract)
    rows = sample.iloc[[0, 5, 42]]
    by_id = api.post("/predict/by-id", json={"ids": rows[key].tolist()})
    assert by_id.status_code == 200, by_id.text
    direct = api.post("/predict", json={"records": json_records(rows, store_settings.contract)})
    assert by_id.json()["ids"] == rows[key].tolist()

    def answers(response):
        return [
            {name: value for name, value in p.items() if name != "record_id"}
            for p in response.json()["predictions"]
        ]

    assert answers(by_id) == answers(direct)  # the same inputs, from the store


def test_an_unknown_id_is_a_404_naming_it(api, store_settings, sample):
    key = id_column(store_settings.contract)
    known = sample[key].tolist()
    integer = store_settings.contract.columns[key].type == "integer"
    unknown = max(known) + 1000 if integer else "no-such-id"
    response = api.post("/predict/by-id", json={"ids": [known[0], unknown]})
    assert response.status_code == 404
    assert repr(unknown) in response.json()["detail"]


def test_a_store_that_is_not_built_is_a_503_with_the_reason(fitted, module_settings, tmp_path):
    settings = module_settings.model_copy(update={"root": tmp_path})
    shutil.copytree(PROJECT_ROOT / "feature_repo", tmp_path / "feature_repo")  # but no store

    def loader(loaded_settings, _serving):
        return LoadedModel(
            "champion", "models:/fs@champion", fitted, settings.contract, task_for(settings)
        ), None

    serving = ServingSettings(prediction_log=tmp_path / "log.jsonl")
    with TestClient(create_app(settings, serving, loader=loader)) as client:
        response = client.post("/predict/by-id", json={"ids": [1]})
    assert response.status_code == 503
    assert "run `make features`" in response.json()["detail"]
