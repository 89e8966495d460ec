"""The Azure ML pipeline job mirrors dvc.yaml, loads in the Azure ML SDK, and its steps run."""

from __future__ import annotations

import os
import re
import shlex
from graphlib import TopologicalSorter
from pathlib import Path

import pytest
import yaml

from mlplate_runtime.config import Settings
from mlplate_runtime.orchestration.azureml_pipeline import (
    compile_batch_job,
    compile_job,
    data_input_name,
)
from mlplate_runtime.project import command_name
from pipeline_support import (
    IMAGE,
    PROJECT_ROOT,
    assert_batch_scored,
    assert_pipeline_ran,
    batch_records,
    container,
    dvc_edges,
    fast_parameters,
    logged_model,
    raw_data,
    run_in_process,
    run_step_command,
    stage_parameters,
    tracked_project,
)

BINDING = re.compile(r"\$\{\{(inputs|outputs)\.(\w+)\}\}")
PARENT = re.compile(r"\$\{\{parent\.(inputs\.(\w+)|jobs\.([\w-]+)\.outputs\.workspace)\}\}")


@pytest.fixture(scope="module")
def job_file(tmp_path_factory: pytest.TempPathFactory, project_settings: Settings) -> Path:
    root = tracked_project(tmp_path_factory.mktemp("project"), project_settings)
    output = tmp_path_factory.mktemp("azureml") / "azureml-pipeline.yml"
    return compile_job(root, IMAGE, output, compute="azureml:test-cluster")


@pytest.fixture(scope="module")
def job(job_file: Path) -> dict:
    return yaml.safe_load(job_file.read_text())


def upstream_jobs(step: dict) -> set[str]:
    return {
        match.group(3)
        for value in step["inputs"].values()
        if (match := PARENT.fullmatch(value)) and match.group(3)
    }


def test_one_job_per_stage_with_the_edges_of_dvc_dag(job):
    stages = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())["stages"]
    assert list(job["jobs"]) == list(stages)
    edges = {(up, name) for name, step in job["jobs"].items() for up in upstream_jobs(step)}
    assert edges == dvc_edges()


def test_inputs_are_params_yaml_and_the_dvc_tracked_data(job, job_file, project_settings):
    raw_path = project_settings.params.data.raw_path
    data_name = data_input_name(str(raw_path))
    parameters = {name: value for name, value in job["inputs"].items() if name != data_name}
    assert parameters == stage_parameters()
    # The raw data file, by a path relative to the job file (what `az ml job create` uploads).
    data = job["inputs"][data_name]
    assert data["type"] == "uri_file"
    uploaded = (job_file.parent / data["path"]).resolve()
    assert uploaded.parts[-len(raw_path.parts) :] == raw_path.parts and uploaded.is_file()
    assert job["settings"]["default_compute"] == "azureml:test-cluster"


def test_every_job_runs_its_stage_in_the_image_with_only_declared_inputs(job):
    for name, step in job["jobs"].items():
        assert step["environment"] == {"image": IMAGE}
        command = shlex.split(step["command"])
        assert command[:3] == [command_name(), "pipeline-step", name]
        # Azure ML does not check that a command's bindings exist: this test does.
        for kind, input_name in BINDING.findall(step["command"]):
            assert input_name in step[kind], (name, input_name)
        for value in step["inputs"].values():
            match = PARENT.fullmatch(value)
            assert match, value
            assert match.group(2) is None or match.group(2) in job["inputs"]


def test_the_azure_ml_sdk_loads_and_validates_the_job(job_file):
    from azure.ai.ml import load_job

    loaded = load_job(job_file)
    assert set(loaded.jobs) == set(yaml.safe_load(job_file.read_text())["jobs"])
    result = loaded._validate()  # the SDK's offline validation (no workspace involved)
    assert result.passed, result.error_messages


def test_the_sdk_rejects_a_job_without_compute(job, tmp_path):
    """The validation above can fail: without a compute target it does."""
    from azure.ai.ml import load_job

    broken = tmp_path / "broken.yml"
    broken.write_text(
        yaml.safe_dump({key: value for key, value in job.items() if key != "settings"})
    )
    result = load_job(broken)._validate()
    assert not result.passed
    assert "compute" in str(result.error_messages)


def test_the_compiled_commands_run_the_pipeline_in_bare_folders(
    job, tmp_path, project_settings, mlflow_store
):
    """Each job's command, with its bindings filled as Azure ML fills them, in its own folder."""
    data_name = data_input_name(str(project_settings.params.data.raw_path))
    # Submit-time choices: the FAST parameter values and another file for the data input.
    pipeline_inputs: dict[str, object] = {
        **fast_parameters(),
        data_name: raw_data(project_settings, tmp_path / "asset"),
    }
    artifacts = tmp_path / "artifacts"
    env = {**os.environ, "MLFLOW_TRACKING_URI": mlflow_store}
    graph = {name: upstream_jobs(step) for name, step in job["jobs"].items()}
    for name in TopologicalSorter(graph).static_order():
        step = job["jobs"][name]
        values = {"outputs.workspace": str(artifacts / name)}
        for input_name, value in step["inputs"].items():
            match = PARENT.fullmatch(value)
            assert match
            given = (
                pipeline_inputs[match.group(2)] if match.group(2) else artifacts / match.group(3)
            )
            values[f"inputs.{input_name}"] = str(given)
        command = BINDING.sub(
            lambda m, values=values: values[f"{m.group(1)}.{m.group(2)}"], step["command"]
        )
        run_step_command(shlex.split(command), container(tmp_path / name), env)
    assert_pipeline_ran(project_settings, artifacts)


def test_the_batch_job_validates_and_its_command_scores_the_input(
    tmp_path, project_settings, fitted, mlflow_store, monkeypatch
):
    from azure.ai.ml import load_job

    root = container(tmp_path / "project")
    records = batch_records(project_settings, root / "data" / "prepared")
    path = compile_batch_job(root, IMAGE, root / "azureml-batch.yml", compute="azureml:test")
    result = load_job(path)._validate()
    assert result.passed, result.error_messages
    job = yaml.safe_load(path.read_text())
    assert job["inputs"]["records"] == {"type": "uri_file", "path": "./data/prepared/test.csv"}
    assert job["environment"] == {"image": IMAGE} and job["compute"] == "azureml:test"

    model_uri = logged_model(fitted, mlflow_store)
    values = {"inputs.records": str(records), "outputs.predictions": str(tmp_path / "out")}
    command = BINDING.sub(lambda m: values[f"{m.group(1)}.{m.group(2)}"], job["command"])
    env = {**os.environ, "MLFLOW_TRACKING_URI": mlflow_store, "MODEL_URI": model_uri}
    run_in_process(shlex.split(command), container(tmp_path / "container"), env, monkeypatch)
    assert_batch_scored(tmp_path / "out" / "predictions.parquet", model_uri)
