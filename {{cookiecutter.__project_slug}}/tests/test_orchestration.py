"""The Kubeflow pipeline mirrors dvc.yaml, and its steps run the pipeline like containers would."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.__package_name }}.config import load_settings
from {{ cookiecutter.__package_name }}.data.synthetic import synthetic_frame, write_table
from {{ cookiecutter.__package_name }}.errors import ProjectError
from {{ cookiecutter.__package_name }}.orchestration.kfp_pipeline import compile_pipeline
from {{ cookiecutter.__package_name }}.orchestration.stages import run_step

PROJECT_ROOT = Path(__file__).parents[1]
IMAGE = "registry.example.com/{{ cookiecutter.__project_slug }}-pipeline:test"


def dvc_edges() -> set[tuple[str, str]]:
    """The stage graph as DVC itself computes it."""
    dot = subprocess.run(
        [Path(sys.executable).with_name("dvc"), "dag", "--dot"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(re.findall(r'"([\w-]+)" -> "([\w-]+)"', dot))


def params_leaves() -> dict[str, object]:
    """params.yaml values of every parameter dvc.yaml declares, flattened to leaves."""
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


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict:
    output = tmp_path_factory.mktemp("kfp") / "pipeline.yaml"
    compile_pipeline(PROJECT_ROOT, IMAGE, output)
    return yaml.safe_load(output.read_text())


def test_one_step_per_stage_with_the_edges_of_dvc_dag(compiled):
    tasks = compiled["root"]["dag"]["tasks"]
    stages = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())["stages"]
    assert set(tasks) == set(stages)
    edges = {
        (upstream, name)
        for name, task in tasks.items()
        for upstream in task.get("dependentTasks", [])
    }
    assert edges == dvc_edges()


def test_every_step_runs_its_stage_in_the_project_image(compiled):
    executors = compiled["deploymentSpec"]["executors"]
    for name, task in compiled["root"]["dag"]["tasks"].items():
        component = compiled["components"][task["componentRef"]["name"]]
        container = executors[component["executorLabel"]]["container"]
        assert container["image"] == IMAGE
        assert container["command"] == [
            "{{ cookiecutter.__package_name }}",
            "kfp-step",
            name,
        ]


def test_pipeline_parameters_are_params_yaml(compiled):
    parameters = compiled["root"]["inputDefinitions"]["parameters"]
    expected = params_leaves()
    assert set(parameters) == set(expected)
    for name, value in expected.items():
        assert parameters[name]["defaultValue"] == value, name


def test_steps_run_the_pipeline_in_separate_folders(tmp_path, mlflow_store, monkeypatch):
    """Each step starts from a bare copy of the project, as in its own container."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_store)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    settings = load_settings(PROJECT_ROOT / "params.yaml")
    raw = synthetic_frame(settings.contract, 400, seed=1)
    order = ["validate", "prepare", "featurize", "train", "evaluate"]
    upstream = {
        "prepare": ["validate"],
        "featurize": ["prepare"],
        "train": ["featurize"],
        "evaluate": ["featurize", "train"],
    }
    for name in order:
        container = tmp_path / "containers" / name
        (container / "data").mkdir(parents=True)
        for file in ("dvc.yaml", "params.yaml", "data/contract.yaml"):
            shutil.copy(PROJECT_ROOT / file, container / file)
        if name in ("validate", "prepare"):  # the raw data a container pulls from the DVC remote
            write_table(container / settings.params.data.raw_path, raw)
        run_step(
            name,
            root=container,
            inputs=[tmp_path / "artifacts" / up for up in upstream.get(name, [])],
            output=tmp_path / "artifacts" / name,
            overrides={"model.hist_gradient_boosting.max_iter": "20", "data.test_size": "0.25"},
        )
    metrics = json.loads((tmp_path / "artifacts/evaluate/reports/metrics.json").read_text())
    assert (
        abs(metrics["n_test"] - 100) <= len(settings.contract.classes) + 1
    )  # test_size 0.25 reached prepare
    if settings.contract.task == "regression":
        assert metrics["r2"] > 0.3
    else:
        assert metrics["roc_auc"] > 0.5
    assert (tmp_path / "artifacts/train/models/model.skops").stat().st_size > 0
    trained = yaml.safe_load((tmp_path / "containers/train/params.yaml").read_text())
    assert trained["model"]["hist_gradient_boosting"]["max_iter"] == 20
    assert not (tmp_path / "artifacts/train/data").exists()  # a step saves only its own outputs


def test_step_rejects_an_unknown_parameter(tmp_path):
    (tmp_path / "data").mkdir()
    for file in ("dvc.yaml", "params.yaml", "data/contract.yaml"):
        shutil.copy(PROJECT_ROOT / file, tmp_path / file)
    with pytest.raises(ProjectError, match=r"'model\.depth' is not in"):
        run_step(
            "train",
            root=tmp_path,
            inputs=[],
            output=tmp_path / "out",
            overrides={"model.depth": "3"},
        )
