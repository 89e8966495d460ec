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
from dataclasses import dataclass
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
    from mlplate_runtime.models.train import fit_model

    contract = module_settings.contract
    frame = add_features(sample, contract)
    labels = task_for(module_settings).labels(frame[contract.target])
    return fit_model(module_settings, feature_matrix(frame, contract), labels)


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


@dataclass(frozen=True)
class SmokeResult:
    """What the smoke run of a project produced."""

    metrics: dict[str, float]
    registered_version: int
    answers: list[dict[str, Any]]


def run_smoke(settings: Settings, sample: Any) -> SmokeResult:
    """Run the project through the runtime on ``sample``, in ``settings.root``.

    The stages (validate, prepare, featurize, the feature store if any, train, evaluate), the
    promotion gate, and the champion scoring records as the API and batch scoring do. It
    proves the project's own code (features.py, model.py, params.yaml, the contract) works
    with the runtime; the runtime's own tests cover the machinery itself.
    """
    from mlplate_runtime.data.prepare import check_raw_data, prepare
    from mlplate_runtime.data.synthetic import json_records, write_table
    from mlplate_runtime.features.build import featurize
    from mlplate_runtime.models.evaluate import evaluate
    from mlplate_runtime.models.loaded import load_model
    from mlplate_runtime.models.registry import register
    from mlplate_runtime.models.train import train

    write_table(settings.path(settings.params.data.raw_path), sample)
    check_raw_data(settings)
    prepare(settings)
    featurize(settings)
    if settings.params.feature_store is not None:
        from mlplate_runtime.features.store import build_store

        build_store(settings)
    train(settings)
    metrics = evaluate(settings)
    report = register(settings, allow_uncommitted=True)
    champion = load_model(settings, role="champion", uri=None)
    records = json_records(sample.head(5), settings.contract)
    answers = champion.task.answers(champion.score(records))
    return SmokeResult(metrics, int(report["candidate_version"]), answers)


@pytest.fixture
def smoke(settings: Settings, sample: Any) -> SmokeResult:
    """The project run through the runtime on data made from its contract (see run_smoke)."""
    return run_smoke(settings, sample)
