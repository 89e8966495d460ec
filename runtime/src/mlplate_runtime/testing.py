"""pytest fixtures for a project's tests: settings on temporary folders, data made from the
project's data contract, a fitted model, one MLflow store per session.

A project uses them with ``pytest_plugins = ["mlplate_runtime.testing"]`` in its conftest.py.
The project is the folder holding params.yaml: pytest's root folder, or what the
``mlplate_project_root`` fixture returns when a conftest overrides it. Nothing here names a
column: the fixtures follow data/contract.yaml, so they work for any dataset.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from mlplate_runtime.config import Settings, load_settings

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
CONFIG_FOLDERS = ("feature_repo",)  # configuration a temporary project root needs too


def project_folder(project_root: Path, root: Path) -> Path:
    """A temporary project ``root`` holding the project's configuration folders."""
    for name in CONFIG_FOLDERS:
        if (project_root / name).is_dir() and not (root / name).exists():
            shutil.copytree(project_root / name, root / name)
    return root


# The project fixtures are module-scoped so that a test module may point at another project by
# overriding ``mlplate_project_root``.
@pytest.fixture(scope="module")
def mlplate_project_root(pytestconfig: pytest.Config) -> Path:
    """The project under test: the folder holding params.yaml (pytest's root folder)."""
    return Path(pytestconfig.rootpath)


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One SQLite tracking store for the session (schema creation costs ~1.5 s once)."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture(scope="module")
def project_settings(mlplate_project_root: Path) -> Settings:
    """The project's params.yaml and data contract, rooted at the project."""
    return load_settings(mlplate_project_root / "params.yaml")


@pytest.fixture(scope="module")
def module_settings(
    tmp_path_factory: pytest.TempPathFactory, project_settings: Settings, mlplate_project_root: Path
) -> Settings:
    """The project's params and contract, rooted in a temporary folder shared by a test module."""
    root = project_folder(mlplate_project_root, tmp_path_factory.mktemp("module"))
    return project_settings.model_copy(update={"root": root})


@pytest.fixture
def settings(
    tmp_path: Path, mlflow_store: str, project_settings: Settings, mlplate_project_root: Path
) -> Settings:
    """The project's params and contract in a temporary folder, with its own MLflow model name."""
    params = project_settings.params
    mlflow = params.mlflow.model_copy(update={"registered_model": f"test-{tmp_path.name}"})
    return project_settings.model_copy(
        update={
            "params": params.model_copy(update={"mlflow": mlflow}),
            "tracking_uri": mlflow_store,
            "root": project_folder(mlplate_project_root, tmp_path),
        }
    )


@pytest.fixture(scope="module")
def sample(project_settings: Settings) -> Any:
    """400 valid rows of the project's dataset shape, with a learnable target."""
    from mlplate_runtime.data.synthetic import synthetic_frame

    return synthetic_frame(project_settings.contract, 400, seed=7)


@pytest.fixture(scope="module")
def fitted(module_settings: Settings, sample: Any) -> Any:
    """The project's model fitted on the sample (what the API tests serve)."""
    from mlplate_runtime.features.build import add_features, feature_matrix
    from mlplate_runtime.models.tasks import task_for
    from mlplate_runtime.models.train import build_model

    contract = module_settings.contract
    frame = add_features(sample, contract)
    labels = task_for(module_settings).labels(frame[contract.target])
    return build_model(module_settings).fit(feature_matrix(frame, contract), labels)


@pytest.fixture(scope="module")
def app_settings(module_settings: Settings, sample: Any) -> Settings:
    """What the API tests serve from (with a feature store: featurized splits and a built
    store, as `make features` leaves them)."""
    if module_settings.params.feature_store is not None:
        from mlplate_runtime.features.build import add_features
        from mlplate_runtime.features.store import build_store

        frame = add_features(sample, module_settings.contract)
        module_settings.features("train").parent.mkdir(parents=True, exist_ok=True)
        frame.iloc[:300].to_csv(module_settings.features("train"), index=False)
        frame.iloc[300:].to_csv(module_settings.features("test"), index=False)
        build_store(module_settings)
    return module_settings
