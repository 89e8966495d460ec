"""Fixtures: settings that point every path and the MLflow store at temporary folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from {{ cookiecutter.__package_name }}.config import Settings, load_settings

os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
PROJECT_ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One SQLite tracking store for the session (schema creation costs ~1.5 s once)."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture(scope="module")
def module_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The project's params.yaml, rooted in a temporary folder shared by a test module."""
    base = load_settings(PROJECT_ROOT / "params.yaml")
    return Settings(params=base.params, root=tmp_path_factory.mktemp("module"))


@pytest.fixture
def settings(tmp_path: Path, mlflow_store: str) -> Settings:
    """The project's params.yaml on a tiny dataset, rooted in a temporary folder."""
    base = load_settings(PROJECT_ROOT / "params.yaml")
    params = base.params.model_copy(
        update={"data": base.params.data.model_copy(update={"n_rows": 400})}
    )
    return Settings(params=params, tracking_uri=mlflow_store, root=tmp_path)
