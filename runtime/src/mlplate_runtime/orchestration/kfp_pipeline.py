"""Kubeflow Pipelines definition built from dvc.yaml and params.yaml.

`build_batch_pipeline` is the batch-predictions job as a pipeline of one step: it imports
the file at the run's `input_uri` (gs://, s3://...) and scores it with the champion (or the
run's `model_uri`) into the step's `predictions` dataset.

One container component per dvc.yaml stage runs `<project> pipeline-step <stage>`
in the project's image. A stage's inputs are the output artifacts of the stages it depends
on, so the KFP graph has the same edges as `dvc dag`. Every parameter the stages use is a
pipeline parameter whose default is its value in params.yaml; a run may override any of
them. The compiled YAML is the KFP IR that Kubeflow and Vertex AI Pipelines both run.

KFP reads a component's inputs from its function signature; the stage list lives in
dvc.yaml, so the signatures are built here instead of written by hand.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
DESCRIPTION = current_project().summary  # from pyproject.toml
WORKSPACE = "workspace"


def _argument(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> Any:
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    return inspect.Parameter(name, kind, annotation=annotation, default=default)


def stage_component(stage: Stage, spec: PipelineSpec, image: str) -> Callable[..., Any]:
    """A KFP container component that runs one stage."""
    from kfp import dsl

    keys = stage_keys(stage, spec.parameters)
    arguments = [_argument(parameter_name(key), type(spec.parameters[key])) for key in keys]
    arguments += [_argument(upstream, dsl.Input[dsl.Artifact]) for upstream in stage.upstream]
    arguments.append(_argument(WORKSPACE, dsl.Output[dsl.Artifact]))
    names = [argument.name for argument in arguments]

    def component(*placeholders: Any) -> Any:
        given = dict(zip(names, placeholders, strict=True))
        args = ["--output", given[WORKSPACE].path]
        for upstream in stage.upstream:
            args += ["--input", given[upstream].path]
        for key in keys:
            args += ["--set", f"{key}={given[parameter_name(key)]}"]
        command = [command_name(), "pipeline-step", stage.name]
        return dsl.ContainerSpec(image=image, command=command, args=args)

    component.__name__ = stage.name
    component.__doc__ = f"dvc.yaml stage {stage.name!r}: {stage.cmd}"
    component.__signature__ = inspect.Signature(arguments)  # type: ignore[attr-defined]
    return dsl.container_component(component)


def build_pipeline(root: Path, image: str) -> Any:
    """The KFP pipeline for the project at ``root``, with steps running in ``image``."""
    from kfp import dsl

    spec = read_spec(root)
    components = {stage.name: stage_component(stage, spec, image) for stage in spec.stages}
    arguments = [
        _argument(parameter_name(key), type(value), default=value)
        for key, value in spec.parameters.items()
    ]
    names = [argument.name for argument in arguments]

    def pipeline(*values_in_order: Any) -> None:
        given = dict(zip(names, values_in_order, strict=True))
        tasks: dict[str, Any] = {}
        for stage in spec.stages:
            inputs = {
                parameter_name(key): given[parameter_name(key)]
                for key in stage_keys(stage, spec.parameters)
            }
            inputs |= {up: tasks[up].outputs[WORKSPACE] for up in stage.upstream}
            tasks[stage.name] = components[stage.name](**inputs)

    pipeline.__name__ = PIPELINE_NAME.replace("-", "_")
    pipeline.__signature__ = inspect.Signature(arguments)  # type: ignore[attr-defined]
    return dsl.pipeline(name=PIPELINE_NAME, description=DESCRIPTION)(pipeline)


def compile_pipeline(root: Path, image: str, output: Path) -> Path:
    """Compile the pipeline to KFP IR YAML at ``output``."""
    from kfp import compiler

    compiler.Compiler().compile(build_pipeline(root, image), str(output))
    return output


def build_batch_pipeline(image: str) -> Any:
    """The batch-predictions pipeline: import the input file, score it in ``image``."""
    from kfp import dsl

    def predict_batch(records: Any, predictions: Any, model_uri: Any) -> Any:
        output = dsl.ConcatPlaceholder([predictions.path, f"/{BATCH_OUTPUT_FILE}"])
        return dsl.ContainerSpec(
            image=image,
            command=[command_name(), "predict-batch"],
            args=["--input", records.path, "--output", output, "--model-uri", model_uri],
        )

    predict_batch.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            _argument("records", dsl.Input[dsl.Dataset]),
            _argument("predictions", dsl.Output[dsl.Dataset]),
            _argument("model_uri", str),
        ]
    )
    step = dsl.container_component(predict_batch)

    def batch(input_uri: Any, model_uri: Any) -> None:
        records = dsl.importer(artifact_uri=input_uri, artifact_class=dsl.Dataset)
        records.set_caching_options(False)  # the file at a URI may change between runs
        task = step(records=records.output, model_uri=model_uri)
        task.set_caching_options(False)  # and the champion too: always score

    batch.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [_argument("input_uri", str), _argument("model_uri", str, default="")]
    )
    return dsl.pipeline(name=BATCH_PIPELINE_NAME, description=DESCRIPTION)(batch)


def compile_batch_pipeline(image: str, output: Path) -> Path:
    """Compile the batch-predictions pipeline to KFP IR YAML at ``output``."""
    from kfp import compiler

    compiler.Compiler().compile(build_batch_pipeline(image), str(output))
    return output
