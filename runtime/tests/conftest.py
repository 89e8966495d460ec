"""The runtime's tests use the fixtures it ships to projects, on a project from tests/projects."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import PROJECT_ROOT

pytest_plugins = ["mlplate_runtime.testing"]


@pytest.fixture(scope="module")
def mlplate_project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture
def champion(module_settings, fitted, monkeypatch):
    """The fitted model standing in for the registry's champion (version 7): what batch
    scoring, local or on Spark, loads."""
    from mlplate_runtime.models import batch
    from mlplate_runtime.models.loaded import LoadedModel
    from mlplate_runtime.models.tasks import task_for

    model = LoadedModel(
        "champion",
        "models:/demo@champion",
        fitted,
        module_settings.contract,
        task_for(module_settings),
        version="7",
    )
    monkeypatch.setattr(batch, "load_model", lambda *_args, **_kwargs: model)
    return model
