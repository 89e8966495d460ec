"""What every orchestrator's compiled definition is checked against, and step containers.

A compiled definition must have the stage graph of `dvc dag` and the parameters of
params.yaml; its steps, run one by one in bare folders as their containers would be,
must train and evaluate the model.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from mlplate_runtime.config import Settings
from mlplate_runtime.data.synthetic import synthetic_frame, write_table
from mlplate_runtime.project import RUNTIME_COMMAND, command_name
from support import PROJECT_ROOT

IMAGE = "registry.example.com/demo-model-pipeline:test"
CLI = Path(sys.executable).with_name(RUNTIME_COMMAND)
# Run overrides that keep a test pipeline fast, as a user would pass them when submitting.
FAST = {"model.hist_gradient_boosting.max_iter": 20, "data.test_size": 0.25}
# What a pipeline image holds besides the code (see pipeline.Dockerfile).
IMAGE_FILES = ("dvc.yaml", "params.yaml", "data/contract.yaml")


def dvc_edges() -> set[tuple[str, str]]:
    """The stage graph as DVC itself computes it: {(upstream, stage)}."""
    dot = subprocess.run(
        [Path(sys.executable).with_name("dvc"), "dag", "--dot"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(re.findall(r'"([\w-]+)" -> "([\w-]+)"', dot))


def stage_parameters() -> dict[str, object]:
    """params.yaml values of every parameter dvc.yaml declares, named `a__b` for `a.b`."""
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text())
    stages = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())["stages"]
    leaves: dict[str, object] = {}

    def walk(key: str, value: object) -> None:
        if isinstance(value, dict):
            for inner, item in value.items():
                walk(f"{key}__{inner}", item)
        else:
            leaves[key] = value

    for spec in stages.values():
        for key in spec.get("params", []):
            value: object = params
            for part in key.split("."):
                value = value[part]  # type: ignore[index]
            walk(key.replace(".", "__"), value)
    return leaves


def fast_parameters() -> dict[str, object]:
    """The pipeline's parameter values with the FAST overrides."""
    values = stage_parameters()
    values.update({key.replace(".", "__"): value for key, value in FAST.items()})
    return values


def container(folder: Path) -> Path:
    """A bare project folder holding only what the pipeline image holds."""
    (folder / "data").mkdir(parents=True)
    for file in IMAGE_FILES:
        shutil.copy(PROJECT_ROOT / file, folder / file)
    if (PROJECT_ROOT / "feature_repo").is_dir():  # the feature store's configuration
        shutil.copytree(PROJECT_ROOT / "feature_repo", folder / "feature_repo")
    return folder


def tracked_project(folder: Path, settings: Settings) -> Path:
    """The project's pipeline files, with the raw data tracked by DVC as `make data` leaves it."""
    root = container(folder)
    raw = root / settings.params.data.raw_path
    raw_data(settings, raw.parent)
    subprocess.run([CLI.with_name("dvc"), "init", "--no-scm", "--quiet"], cwd=root, check=True)
    subprocess.run([CLI.with_name("dvc"), "add", "--quiet", raw.parent], cwd=root, check=True)
    return root


def raw_data(settings: Settings, folder: Path) -> Path:
    """Raw data in the contract's shape, as the platform would mount or DVC would pull it."""
    frame = synthetic_frame(settings.contract, 400, seed=1)
    return write_table(folder / Path(settings.params.data.raw_path).name, frame)


def run_step_command(command: list[str], root: Path, env: dict[str, str]) -> None:
    """Run a compiled step's command as its container would (PIPELINE_ROOT is the image's)."""
    path = f"{CLI.parent}{os.pathsep}{env.get('PATH', '')}"  # the image's environment comes first
    result = subprocess.run(
        command,
        cwd=root.parent,
        env={**env, "PATH": path, "PIPELINE_ROOT": str(root)},
        capture_output=True,
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]


def run_in_process(command: list[str], root: Path, env: dict[str, str], monkeypatch: Any) -> None:
    """Run a project command as its container would (from outside the project folder, with
    PIPELINE_ROOT and ``env``), in this process: the CLI without an interpreter start."""
    from typer.testing import CliRunner

    from mlplate_runtime import cli

    assert command[0] == command_name(), command
    monkeypatch.chdir(root.parent)
    result = CliRunner().invoke(cli.app, command[1:], env={**env, "PIPELINE_ROOT": str(root)})
    assert result.exit_code == 0, result.output[-2000:]


def assert_pipeline_ran(settings: Settings, artifacts: Path) -> None:
    """The steps' outputs hold a trained model and metrics computed with the FAST overrides."""
    metrics = json.loads(
        (artifacts / "evaluate" / settings.params.evaluate.metrics_path).read_text()
    )
    expected_test_rows = 400 * FAST["data.test_size"]
    assert abs(metrics["n_test"] - expected_test_rows) <= len(settings.contract.classes) + 1
    if settings.contract.task == "regression":
        assert metrics["r2"] > 0.3
    else:
        assert metrics["roc_auc"] > 0.5
    assert (artifacts / "train" / settings.params.train.model_path).stat().st_size > 0
    assert not (artifacts / "train" / "data").exists()  # a step saves only its own outputs


def logged_model(fitted: Any, store: str) -> str:
    """``fitted`` logged to the MLflow ``store``: the model URI a batch step scores with."""
    import mlflow

    from mlplate_runtime.models.train import (
        pip_requirements,
        trusted_types,
    )

    mlflow.set_tracking_uri(store)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            fitted,
            name="model",
            pip_requirements=pip_requirements(),
            skops_trusted_types=trusted_types(fitted),
        )
    return str(info.model_uri)


def batch_records(settings: Settings, folder: Path) -> Path:
    """A file to score: 50 records in the contract's shape."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "records.csv"
    synthetic_frame(settings.contract, 50, seed=3).to_csv(path, index=False)
    return path


def assert_batch_scored(predictions: Path, model_uri: str) -> None:
    """The batch step wrote a prediction for each of the 50 records, with that model."""
    import pandas as pd

    frame = pd.read_parquet(predictions)
    assert len(frame) == 50 and frame["prediction"].notna().all()
    assert set(frame["model_version"]) == {model_uri}
