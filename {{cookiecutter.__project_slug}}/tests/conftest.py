"""Fixtures: settings on temporary folders, and data made from the project's data contract.

Nothing here names a column: the tests follow data/contract.yaml, so they keep passing
after `make use-data` brings another dataset.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from {{ cookiecutter.__package_name }}.config import Settings, load_settings
from {{ cookiecutter.__package_name }}.data.synthetic import synthetic_frame
from {{ cookiecutter.__package_name }}.features.build import add_features, feature_matrix
from {{ cookiecutter.__package_name }}.models.tasks import task_for
from {{ cookiecutter.__package_name }}.models.train import build_model

os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
PROJECT_ROOT = Path(__file__).parents[1]


def project_folder(root: Path) -> Path:
    """A temporary project root holding the project's configuration folders (feature_repo)."""
    if (PROJECT_ROOT / "feature_repo").is_dir():
        shutil.copytree(PROJECT_ROOT / "feature_repo", root / "feature_repo")
    return root


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
    root = project_folder(tmp_path_factory.mktemp("module"))
    return project_settings.model_copy(update={"root": root})


@pytest.fixture
def settings(tmp_path: Path, mlflow_store: str, project_settings: Settings) -> Settings:
    """The project's params and contract, rooted in a temporary folder with its own MLflow model name."""
    params = project_settings.params
    mlflow = params.mlflow.model_copy(update={"registered_model": f"test-{tmp_path.name}"})
    return project_settings.model_copy(
        update={
            "params": params.model_copy(update={"mlflow": mlflow}),
            "tracking_uri": mlflow_store,
            "root": project_folder(tmp_path),
        }
    )


@pytest.fixture(scope="session")
def sample(project_settings: Settings) -> pd.DataFrame:
    """400 valid rows of the project's dataset shape, with a learnable target."""
    return synthetic_frame(project_settings.contract, 400, seed=7)


@pytest.fixture(scope="module")
def fitted(module_settings: Settings, sample: pd.DataFrame) -> Any:
    """The project's model fitted on the sample (what the API tests serve)."""
    contract = module_settings.contract
    frame = add_features(sample, contract)
    labels = task_for(module_settings).labels(frame[contract.target])
    return build_model(module_settings).fit(feature_matrix(frame, contract), labels)


@pytest.fixture(scope="module")
def app_settings(module_settings: Settings, sample: pd.DataFrame) -> Settings:
    """What the API tests serve from{% if cookiecutter.feature_store == 'feast' %}: featurized splits and a built feature store (as `make features` leaves them){% endif %}."""
{%- if cookiecutter.feature_store == 'feast' %}
    from {{ cookiecutter.__package_name }}.features.store import build_store

    frame = add_features(sample, module_settings.contract)
    module_settings.features("train").parent.mkdir(parents=True, exist_ok=True)
    frame.iloc[:300].to_csv(module_settings.features("train"), index=False)
    frame.iloc[300:].to_csv(module_settings.features("test"), index=False)
    assert build_store(module_settings) == len(frame)
{%- endif %}
    return module_settings
