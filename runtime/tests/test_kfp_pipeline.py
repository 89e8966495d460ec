"""The Kubeflow pipeline mirrors dvc.yaml, and its steps run the pipeline like containers would."""

from __future__ import annotations

import json
import os
import sys
from graphlib import TopologicalSorter
from pathlib import Path

import pytest
import yaml

from mlplate_runtime.orchestration.kfp_pipeline import (
    compile_batch_pipeline,
    compile_pipeline,
)
from mlplate_runtime.orchestration.stages import run_step
from mlplate_runtime.project import command_name
from pipeline_support import (
    FAST,
    IMAGE,
    PROJECT_ROOT,
    assert_batch_scored,
    assert_pipeline_ran,
    batch_records,
    container,
    dvc_edges,
    logged_model,
    raw_data,
    run_in_process,
    stage_parameters,
)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict:
    output = tmp_path_factory.mktemp("kfp") / "pipeline.yaml"
    compile_pipeline(PROJECT_ROOT, IMAGE, output)
    return yaml.safe_load(output.read_text())


@pytest.fixture
def on_path(monkeypatch: pytest.MonkeyPatch, mlflow_store: str) -> None:
    """Stage commands find this environment's tools and log to a test MLflow store."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_store)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")


def step_stages(compiled: dict) -> dict[str, str]:
    """The dvc.yaml stage each KFP task runs (KFP spells `feature_store` as `feature-store`)."""
    executors = compiled["deploymentSpec"]["executors"]
    stages = {}
    for name, task in compiled["root"]["dag"]["tasks"].items():
        component = compiled["components"][task["componentRef"]["name"]]
        stages[name] = executors[component["executorLabel"]]["container"]["command"][2]
    return stages


def test_steps_run_the_pipeline_in_separate_folders(compiled, tmp_path, project_settings, on_path):
    """Each step of the compiled graph starts from a bare copy of the project, as in its container."""
    raw_path = str(project_settings.params.data.raw_path)
    mounted = raw_data(project_settings, tmp_path / "mount")
    overrides = {key: str(value) for key, value in FAST.items()}
    stage_of = step_stages(compiled)
    graph = {
        stage_of[name]: [stage_of[up] for up in task.get("dependentTasks", [])]
        for name, task in compiled["root"]["dag"]["tasks"].items()
    }
    for stage in TopologicalSorter(graph).static_order():
        run_step(
            stage,
            root=container(tmp_path / "containers" / stage),
            inputs=[tmp_path / "artifacts" / up for up in graph[stage]],
            output=tmp_path / "artifacts" / stage,
            overrides=overrides,
            data={raw_path: mounted} if stage in ("validate", "prepare") else {},
        )
    assert_pipeline_ran(project_settings, tmp_path / "artifacts")
    trained = (tmp_path / "containers/train/params.yaml").read_text()
    assert "max_iter: 20" in trained


def test_one_step_per_stage_with_the_edges_of_dvc_dag(compiled):
    stage_of = step_stages(compiled)
    stages = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())["stages"]
    assert sorted(stage_of.values()) == sorted(stages)
    edges = {
        (stage_of[upstream], stage_of[name])
        for name, task in compiled["root"]["dag"]["tasks"].items()
        for upstream in task.get("dependentTasks", [])
    }
    assert edges == dvc_edges()


def test_every_step_runs_its_stage_in_the_project_image(compiled):
    executors = compiled["deploymentSpec"]["executors"]
    for name, task in compiled["root"]["dag"]["tasks"].items():
        component = compiled["components"][task["componentRef"]["name"]]
        container = executors[component["executorLabel"]]["container"]
        assert container["image"] == IMAGE
        command = container["command"]
        assert command[:2] == [command_name(), "pipeline-step"]
        assert name == command[2].replace("_", "-")  # the task is named after its stage


def test_pipeline_parameters_are_params_yaml(compiled):
    parameters = compiled["root"]["inputDefinitions"]["parameters"]
    expected = stage_parameters()
    assert set(parameters) == set(expected)
    for name, value in expected.items():
        assert parameters[name]["defaultValue"] == value, name


def placeholder(expression: str) -> str:
    """A KFP run-time placeholder: the expression in double braces."""
    return "{" * 2 + expression + "}" * 2


def test_the_batch_pipeline_imports_the_input_and_its_step_scores_it(
    tmp_path, project_settings, fitted, mlflow_store, monkeypatch
):
    compiled = yaml.safe_load(compile_batch_pipeline(IMAGE, tmp_path / "batch.yaml").read_text())
    tasks = compiled["root"]["dag"]["tasks"]
    assert tasks["predict-batch"]["dependentTasks"] == ["importer"]
    assert all(task["cachingOptions"] == {} for task in tasks.values())  # always runs
    assert set(compiled["root"]["inputDefinitions"]["parameters"]) == {"input_uri", "model_uri"}
    step = compiled["deploymentSpec"]["executors"]["exec-predict-batch"]["container"]
    assert step["image"] == IMAGE

    # The step's command with KFP's placeholders filled, run as its container would.
    records = batch_records(project_settings, tmp_path / "input")
    model_uri = logged_model(fitted, mlflow_store)
    filled = {
        placeholder("$.inputs.artifacts['records'].path"): str(records),
        placeholder("$.outputs.artifacts['predictions'].path"): str(tmp_path / "out"),
        placeholder("$.inputs.parameters['model_uri']"): model_uri,
    }

    def fill(argument: str) -> str:
        if argument.startswith('{"Concat"'):
            return "".join(filled.get(part, part) for part in json.loads(argument)["Concat"])
        return filled.get(argument, argument)

    command = step["command"] + [fill(argument) for argument in step["args"]]
    env = {**os.environ, "MLFLOW_TRACKING_URI": mlflow_store}
    run_in_process(command, container(tmp_path / "container"), env, monkeypatch)
    assert_batch_scored(tmp_path / "out" / "predictions.parquet", model_uri)
