"""Azure ML pipeline job (CLI v2 YAML) built from dvc.yaml and params.yaml.

One command job per dvc.yaml stage runs `<project> pipeline-step <stage>` in the
project's pipeline image. A job's inputs are the output folders of the stages it depends
on, so the job graph has the same edges as `dvc dag`. Every parameter the stages use is a
pipeline input whose value is its value in params.yaml (override one at submit time with
`--set inputs.<name>=<value>`). Each DVC-tracked data file the stages read is a data input
whose path is the local file, which `az ml job create` uploads; point it at a registered
data asset instead with `--set inputs.<name>.path=azureml:<asset>:<version>`.

`build_batch_job` is the batch-predictions job as one command job: it scores the file in its
`records` input (a local file `az ml job create` uploads, or `--set
inputs.records.path=azureml:<asset>:<version>`) with the champion (MODEL_URI in
`environment_variables` picks another) into its `predictions` folder.

The YAML is written directly (no SDK needed to compile); the tests load it with
`azure.ai.ml.load_job`, the SDK's own parser and validator.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from mlplate_runtime.errors import ProjectError
from mlplate_runtime.orchestration.stages import (
    BATCH_OUTPUT_FILE,
    PipelineSpec,
    Stage,
    data_inputs,
    parameter_name,
    read_spec,
    stage_keys,
)
from mlplate_runtime.project import command_name, current_project

PIPELINE_NAME = f"{current_project().name}-training"
BATCH_JOB_NAME = f"{current_project().name}-batch"
COMMAND_SCHEMA = "https://azuremlschemas.azureedge.net/latest/commandJob.schema.json"
DEFAULT_BATCH_INPUT = "data/prepared/test.csv"  # the held-out split: a batch to try it on
DESCRIPTION = current_project().summary  # from pyproject.toml
SCHEMA = "https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json"
WORKSPACE = "workspace"
DEFAULT_COMPUTE = "azureml:cpu-cluster"


def binding(path: str) -> str:
    """Azure ML's expression for a value known at run time (dollar sign, double braces)."""
    return "$" + "{" * 2 + path + "}" * 2


def data_input_name(path: str) -> str:
    """Pipeline input name for a data path (`data/raw/churn.csv` -> `data_raw_churn_csv`)."""
    return re.sub(r"\W+", "_", path).strip("_")


def literal(value: Any) -> Any:
    """A params.yaml value as an Azure ML literal input (lists and maps as YAML text)."""
    if isinstance(value, bool | int | float | str):
        return value
    return yaml.safe_dump(value, default_flow_style=True).strip()


def _step_job(stage: Stage, spec: PipelineSpec, data: list[str], image: str) -> dict[str, Any]:
    keys = stage_keys(stage, spec.parameters)
    needed = [path for path in data if path in stage.deps]
    args = ["--output", binding(f"outputs.{WORKSPACE}")]
    inputs: dict[str, str] = {}
    for upstream in stage.upstream:
        args += ["--input", binding(f"inputs.{upstream}")]
        inputs[upstream] = binding(f"parent.jobs.{upstream}.outputs.{WORKSPACE}")
    for path in needed:
        name = data_input_name(path)
        args += ["--data", f"{path}={binding(f'inputs.{name}')}"]
        inputs[name] = binding(f"parent.inputs.{name}")
    for key in keys:
        args += ["--set", f"{key}={binding(f'inputs.{parameter_name(key)}')}"]
        inputs[parameter_name(key)] = binding(f"parent.inputs.{parameter_name(key)}")
    command = [command_name(), "pipeline-step", stage.name, *args]
    return {
        "type": "command",
        "display_name": stage.name,
        "command": shlex.join(command),
        "environment": {"image": image},
        "inputs": inputs,
        "outputs": {WORKSPACE: {"type": "uri_folder"}},
    }


def build_job(root: Path, image: str, compute: str, relative_to: Path) -> dict[str, Any]:
    """The pipeline job for the project at ``root``; data paths are relative to ``relative_to``."""
    spec = read_spec(root)
    data = data_inputs(spec, root)
    inputs: dict[str, Any] = {
        parameter_name(key): literal(value) for key, value in spec.parameters.items()
    }
    for path in data:
        name = data_input_name(path)
        if name in inputs:
            raise ProjectError(f"data path {path!r} and a parameter share the input name {name}")
        kind = "uri_folder" if (root / path).is_dir() else "uri_file"
        local = Path(os.path.relpath(root / path, relative_to)).as_posix()
        inputs[name] = {"type": kind, "path": f"./{local}"}
    return {
        "$schema": SCHEMA,
        "type": "pipeline",
        "display_name": PIPELINE_NAME,
        "experiment_name": PIPELINE_NAME,
        "description": DESCRIPTION,
        "settings": {"default_compute": compute},
        "inputs": inputs,
        "jobs": {stage.name: _step_job(stage, spec, data, image) for stage in spec.stages},
    }


def compile_job(root: Path, image: str, output: Path, compute: str = DEFAULT_COMPUTE) -> Path:
    """Write the pipeline job YAML to ``output``."""
    job = build_job(root, image, compute, relative_to=output.resolve().parent)
    output.write_text(yaml.safe_dump(job, sort_keys=False, width=1000), encoding="utf-8")
    return output


def build_batch_job(image: str, compute: str, records: str) -> dict[str, Any]:
    """The batch-predictions command job; ``records`` is the default input path."""
    command = [
        command_name(),
        "predict-batch",
        "--input",
        binding("inputs.records"),
        "--output",
        f"{binding('outputs.predictions')}/{BATCH_OUTPUT_FILE}",
    ]
    return {
        "$schema": COMMAND_SCHEMA,
        "type": "command",
        "display_name": BATCH_JOB_NAME,
        "experiment_name": BATCH_JOB_NAME,
        "description": DESCRIPTION,
        "command": shlex.join(command),
        "environment": {"image": image},
        "compute": compute,
        "inputs": {"records": {"type": "uri_file", "path": records}},
        "outputs": {"predictions": {"type": "uri_folder"}},
    }


def compile_batch_job(root: Path, image: str, output: Path, compute: str = DEFAULT_COMPUTE) -> Path:
    """Write the batch-predictions command job YAML to ``output``."""
    local = os.path.relpath(root / DEFAULT_BATCH_INPUT, output.resolve().parent)
    job = build_batch_job(image, compute, f"./{Path(local).as_posix()}")
    output.write_text(yaml.safe_dump(job, sort_keys=False, width=1000), encoding="utf-8")
    return output
