"""The SageMaker pipeline mirrors dvc.yaml, is built by the SageMaker SDK, and its steps run."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlplate_runtime.orchestration.sagemaker_pipeline import (
    compile_batch_pipeline,
    compile_pipeline,
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
)

STEP_OUTPUT = re.compile(r"Steps\.([\w-]+)\.ProcessingOutputConfig\.Outputs\['workspace'\]")
PLATFORM = {"RoleArn", "ArtifactsUri", "InstanceType"}


@pytest.fixture(scope="module")
def definition(tmp_path_factory: pytest.TempPathFactory) -> dict:
    output = tmp_path_factory.mktemp("sagemaker") / "sagemaker-pipeline.json"
    compile_pipeline(PROJECT_ROOT, IMAGE, output)
    return json.loads(output.read_text())


def upstream_steps(step: dict) -> set[str]:
    return {
        match.group(1)
        for source in step["Arguments"].get("ProcessingInputs", [])
        if (match := STEP_OUTPUT.match(source["S3Input"]["S3Uri"]["Get"]))
    }


def test_one_step_per_stage_with_the_edges_of_dvc_dag(definition):
    stages = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())["stages"]
    assert [step["Name"] for step in definition["Steps"]] == list(stages)
    edges = {(up, step["Name"]) for step in definition["Steps"] for up in upstream_steps(step)}
    assert edges == dvc_edges()


def test_parameters_are_params_yaml_and_the_account_is_given_at_run_time(definition):
    parameters = {p["Name"]: p for p in definition["Parameters"]}
    expected = stage_parameters()
    assert set(parameters) == set(expected) | PLATFORM
    for name, value in expected.items():
        assert parameters[name]["DefaultValue"] == value, name
    # No account, bucket or role is compiled in: an execution must give them.
    assert "DefaultValue" not in parameters["RoleArn"]
    assert "DefaultValue" not in parameters["ArtifactsUri"]
    assert "arn:aws" not in json.dumps(definition)


def test_every_step_runs_its_stage_in_the_image_and_writes_under_the_artifacts_uri(definition):
    for step in definition["Steps"]:
        arguments = step["Arguments"]
        assert step["Type"] == "Processing"
        assert arguments["AppSpecification"]["ImageUri"] == IMAGE
        assert arguments["AppSpecification"]["ContainerEntrypoint"] == [
            command_name(),
            "pipeline-step",
            step["Name"],
        ]
        assert arguments["RoleArn"] == {"Get": "Parameters.RoleArn"}
        (output,) = arguments["ProcessingOutputConfig"]["Outputs"]
        values = output["S3Output"]["S3Uri"]["Std:Join"]["Values"]
        assert values[0] == {"Get": "Parameters.ArtifactsUri"} and values[-1] == step["Name"]


def resolve(value: Any, parameters: dict[str, Any]) -> str:
    """A definition value as SageMaker resolves it at run time."""
    if isinstance(value, str):
        return value
    if "Get" in value:
        return str(parameters[value["Get"].removeprefix("Parameters.")])
    join = value["Std:Join"]
    return join["On"].join(resolve(item, parameters) for item in join["Values"])


def test_the_compiled_steps_run_the_pipeline_in_bare_folders(
    definition, tmp_path, project_settings, mlflow_store
):
    """Each step's entrypoint and arguments, resolved as SageMaker would, in its own folder."""
    parameters = fast_parameters()
    artifacts = tmp_path / "artifacts"
    env = {**os.environ, "MLFLOW_TRACKING_URI": mlflow_store}
    for step in definition["Steps"]:  # SageMaker runs them in dependency order: so is the list
        arguments = step["Arguments"]
        local = {
            arguments["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["LocalPath"]: artifacts
            / step["Name"]
        }
        for source in arguments.get("ProcessingInputs", []):
            upstream = STEP_OUTPUT.match(source["S3Input"]["S3Uri"]["Get"]).group(1)
            assert (artifacts / upstream).is_dir(), f"{step['Name']} runs before {upstream}"
            local[source["S3Input"]["LocalPath"]] = artifacts / upstream
        command = arguments["AppSpecification"]["ContainerEntrypoint"] + [
            str(local.get(item, item))
            for item in (
                resolve(a, parameters) for a in arguments["AppSpecification"]["ContainerArguments"]
            )
        ]
        root = container(tmp_path / step["Name"])
        # The image pulls the raw data from the DVC remote; here it is already in place.
        raw_data(project_settings, root / Path(project_settings.params.data.raw_path).parent)
        run_step_command(command, root, env)
    assert_pipeline_ran(project_settings, artifacts)


def test_the_batch_pipeline_is_one_step_that_scores_the_s3_file(
    tmp_path, project_settings, fitted, mlflow_store, monkeypatch
):
    output = compile_batch_pipeline(IMAGE, tmp_path / "sagemaker-batch.json")
    definition = json.loads(output.read_text())
    parameters = {p["Name"]: p.get("DefaultValue") for p in definition["Parameters"]}
    assert set(parameters) == {
        "RoleArn",
        "InputUri",
        "InputFile",
        "OutputUri",
        "ModelUri",
        "InstanceType",
    }
    [step] = definition["Steps"]
    arguments = step["Arguments"]
    assert arguments["AppSpecification"]["ImageUri"] == IMAGE
    [source] = arguments["ProcessingInputs"]
    [target] = arguments["ProcessingOutputConfig"]["Outputs"]

    # The step as SageMaker runs it: the S3 file downloaded under the input's local path.
    model_uri = logged_model(fitted, mlflow_store)
    given = {**parameters, "InputUri": "s3://bucket/batch", "ModelUri": model_uri}
    assert resolve(source["S3Input"]["S3Uri"], given) == "s3://bucket/batch/records.csv"
    local = {
        source["S3Input"]["LocalPath"]: tmp_path / "input",
        target["S3Output"]["LocalPath"]: tmp_path / "out",
    }
    batch_records(project_settings, tmp_path / "input")

    def on_disk(argument: str) -> str:
        folder = next((path for path in local if argument.startswith(path)), None)
        return argument if folder is None else str(local[folder]) + argument[len(folder) :]

    command = arguments["AppSpecification"]["ContainerEntrypoint"] + [
        on_disk(resolve(a, given)) for a in arguments["AppSpecification"]["ContainerArguments"]
    ]
    env = {**os.environ, "MLFLOW_TRACKING_URI": mlflow_store}
    run_in_process(command, container(tmp_path / "container"), env, monkeypatch)
    assert_batch_scored(tmp_path / "out" / "predictions.parquet", model_uri)
