"""SageMaker Pipelines definition built from dvc.yaml and params.yaml with the SageMaker SDK.

One processing step per dvc.yaml stage runs `<project> pipeline-step <stage>` in
the project's pipeline image (no code is uploaded: the image holds it). A step's inputs are
the S3 outputs of the stages it depends on, so the step graph has the same edges as
`dvc dag`. Every parameter the stages use is a pipeline parameter whose default is its
value in params.yaml. Nothing account-specific is compiled in: the IAM role the steps run
as and the S3 prefix their outputs go to are parameters given when an execution starts.
Steps pull DVC-tracked data from the project's DVC remote with the role's permissions.

`build_batch_pipeline` is the batch-predictions job as a pipeline of one processing step: it
scores the file `InputFile` under the S3 prefix `InputUri` with the champion (or `ModelUri`)
and uploads the predictions under `OutputUri`.

Building the definition needs no AWS account: a region is set if none is, and the cloud
metadata lookup is turned off, so the SDK never goes to the network.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import yaml

from mlplate_runtime.orchestration.stages import (
    BATCH_OUTPUT_FILE,
    PipelineSpec,
    Stage,
    parameter_name,
    read_spec,
    stage_keys,
)
from mlplate_runtime.project import command_name, current_project

PIPELINE_NAME = f"{current_project().name}-training"
BATCH_PIPELINE_NAME = f"{current_project().name}-batch"
WORKSPACE = "workspace"
OUTPUT_PATH = "/opt/ml/processing/output"
INPUT_ROOT = "/opt/ml/processing/input"
DEFAULT_INSTANCE_TYPE = "ml.m5.large"


def _offline() -> None:
    """Let the SDK build a definition with no AWS account or network."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("sagemaker", "sagemaker.config", "botocore"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _parameter(name: str, value: Any) -> Any:
    """A typed pipeline parameter defaulting to a params.yaml value (others as YAML text)."""
    from sagemaker.core.workflow.parameters import (
        ParameterBoolean,
        ParameterFloat,
        ParameterInteger,
        ParameterString,
    )

    if isinstance(value, bool):
        return ParameterBoolean(name=name, default_value=value)
    if isinstance(value, int):
        return ParameterInteger(name=name, default_value=value)
    if isinstance(value, float):
        return ParameterFloat(name=name, default_value=value)
    if isinstance(value, str):
        return ParameterString(name=name, default_value=value)
    text = yaml.safe_dump(value, default_flow_style=True).strip()
    return ParameterString(name=name, default_value=text)


def _step(
    stage: Stage, spec: PipelineSpec, image: str, given: dict[str, Any], steps: dict[str, Any]
) -> Any:
    from sagemaker.core.processing import Processor
    from sagemaker.core.shapes import (
        ProcessingInput,
        ProcessingOutput,
        ProcessingS3Input,
        ProcessingS3Output,
    )
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join
    from sagemaker.mlops.workflow.steps import ProcessingStep

    arguments: list[Any] = ["--output", OUTPUT_PATH]
    inputs = []
    for upstream in stage.upstream:
        local = f"{INPUT_ROOT}/{upstream}"
        arguments += ["--input", local]
        source = steps[upstream].properties.ProcessingOutputConfig.Outputs[WORKSPACE]
        s3_input = ProcessingS3Input(
            s3_uri=source.S3Output.S3Uri,
            local_path=local,
            s3_data_type="S3Prefix",
            s3_input_mode="File",
        )
        inputs.append(ProcessingInput(input_name=upstream, s3_input=s3_input))
    for key in stage_keys(stage, spec.parameters):
        arguments += ["--set", Join(on="", values=[f"{key}=", given[parameter_name(key)]])]
    destination = Join(
        on="/", values=[given["ArtifactsUri"], ExecutionVariables.PIPELINE_EXECUTION_ID, stage.name]
    )
    output = ProcessingOutput(
        output_name=WORKSPACE,
        s3_output=ProcessingS3Output(
            s3_uri=destination, local_path=OUTPUT_PATH, s3_upload_mode="EndOfJob"
        ),
    )
    processor = Processor(
        role=given["RoleArn"],
        image_uri=image,
        entrypoint=[command_name(), "pipeline-step", stage.name],
        instance_count=1,
        instance_type=given["InstanceType"],
        base_job_name=f"{PIPELINE_NAME}-{stage.name}",
        sagemaker_session=given["session"],
    )
    step_args = processor.run(inputs=inputs, outputs=[output], arguments=arguments)
    return ProcessingStep(name=stage.name, step_args=step_args, description=stage.cmd)


def build_pipeline(root: Path, image: str) -> Any:
    """The SageMaker pipeline for the project at ``root``, with steps running in ``image``."""
    _offline()
    from sagemaker.core.workflow.parameters import ParameterString
    from sagemaker.core.workflow.pipeline_context import PipelineSession
    from sagemaker.mlops.workflow.pipeline import Pipeline

    spec = read_spec(root)
    platform = [
        ParameterString(name="RoleArn"),
        ParameterString(name="ArtifactsUri"),
        ParameterString(name="InstanceType", default_value=DEFAULT_INSTANCE_TYPE),
    ]
    stage_parameters = [
        _parameter(parameter_name(key), value) for key, value in spec.parameters.items()
    ]
    given: dict[str, Any] = {p.name: p for p in platform + stage_parameters}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no job is started within a PipelineSession"
        given["session"] = PipelineSession()
        steps: dict[str, Any] = {}
        for stage in spec.stages:
            steps[stage.name] = _step(stage, spec, image, given, steps)
    return Pipeline(
        name=PIPELINE_NAME,
        parameters=platform + stage_parameters,
        steps=list(steps.values()),
        sagemaker_session=given["session"],
    )


def compile_pipeline(root: Path, image: str, output: Path) -> Path:
    """Write the pipeline definition JSON to ``output``."""
    definition = json.loads(build_pipeline(root, image).definition())
    output.write_text(json.dumps(definition, indent=2) + "\n", encoding="utf-8")
    return output


def build_batch_pipeline(image: str) -> Any:
    """The batch-predictions pipeline: one processing step scoring an S3 file in ``image``."""
    _offline()
    from sagemaker.core.processing import Processor
    from sagemaker.core.shapes import (
        ProcessingInput,
        ProcessingOutput,
        ProcessingS3Input,
        ProcessingS3Output,
    )
    from sagemaker.core.workflow.functions import Join
    from sagemaker.core.workflow.parameters import ParameterString
    from sagemaker.core.workflow.pipeline_context import PipelineSession
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.steps import ProcessingStep

    given = {
        name: ParameterString(name=name, default_value=default)
        for name, default in (
            ("RoleArn", None),
            ("InputUri", None),  # the S3 prefix holding the file
            ("InputFile", "records.csv"),
            ("OutputUri", None),
            ("ModelUri", ""),  # empty: the registry's champion
            ("InstanceType", DEFAULT_INSTANCE_TYPE),
        )
    }
    local = f"{INPUT_ROOT}/records"
    records = ProcessingInput(
        input_name="records",
        s3_input=ProcessingS3Input(
            s3_uri=Join(on="/", values=[given["InputUri"], given["InputFile"]]),
            local_path=local,
            s3_data_type="S3Prefix",
            s3_input_mode="File",
        ),
    )
    predictions = ProcessingOutput(
        output_name="predictions",
        s3_output=ProcessingS3Output(
            s3_uri=given["OutputUri"], local_path=OUTPUT_PATH, s3_upload_mode="EndOfJob"
        ),
    )
    arguments = [
        "--input",
        Join(on="/", values=[local, given["InputFile"]]),
        "--output",
        f"{OUTPUT_PATH}/{BATCH_OUTPUT_FILE}",
        "--model-uri",
        given["ModelUri"],
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no job is started within a PipelineSession"
        session = PipelineSession()
        processor = Processor(
            role=given["RoleArn"],
            image_uri=image,
            entrypoint=[command_name(), "predict-batch"],
            instance_count=1,
            instance_type=given["InstanceType"],
            base_job_name=BATCH_PIPELINE_NAME,
            sagemaker_session=session,
        )
        step_args = processor.run(inputs=[records], outputs=[predictions], arguments=arguments)
        step = ProcessingStep(name="predict-batch", step_args=step_args)
    return Pipeline(
        name=BATCH_PIPELINE_NAME,
        parameters=list(given.values()),
        steps=[step],
        sagemaker_session=session,
    )


def compile_batch_pipeline(image: str, output: Path) -> Path:
    """Write the batch-predictions pipeline definition JSON to ``output``."""
    definition = json.loads(build_batch_pipeline(image).definition())
    output.write_text(json.dumps(definition, indent=2) + "\n", encoding="utf-8")
    return output
