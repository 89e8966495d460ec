"""Fixtures: settings on temporary folders, and data made from the project's data contract.

Nothing here names a column: the tests follow data/contract.yaml, so they keep passing
after `make use-data` brings another dataset.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.__package_name }}.config import Settings, load_settings
from {{ cookiecutter.__package_name }}.data.synthetic import synthetic_frame

os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
PROJECT_ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One SQLite tracking store for the session (schema creation costs ~1.5 s once)."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture(scope="session")
def project_settings() -> Settings:
    return load_settings(PROJECT_ROOT / "params.yaml")


@pytest.fixture(scope="module")
def module_settings(
    tmp_path_factory: pytest.TempPathFactory, project_settings: Settings
) -> Settings:
    """The project's params and contract, rooted in a temporary folder shared by a test module."""
    return project_settings.model_copy(update={"root": tmp_path_factory.mktemp("module")})


@pytest.fixture
def settings(tmp_path: Path, mlflow_store: str, project_settings: Settings) -> Settings:
    """The project's params and contract, rooted in a temporary folder with its own MLflow model name."""
    params = project_settings.params
    mlflow = params.mlflow.model_copy(update={"registered_model": f"test-{tmp_path.name}"})
    return project_settings.model_copy(
        update={
            "params": params.model_copy(update={"mlflow": mlflow}),
            "tracking_uri": mlflow_store,
            "root": tmp_path,
        }
    )


@pytest.fixture(scope="session")
def sample(project_settings: Settings) -> pd.DataFrame:
    """400 valid rows of the project's dataset shape, with a learnable target."""
    return synthetic_frame(project_settings.contract, 400, seed=7)
