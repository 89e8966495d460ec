"""The pipeline as dvc.yaml declares it, and how one stage runs as a container step.

Every orchestrator's definition is built from what this module reads: the stages, the
stages each one depends on, and the params.yaml values the stages use (the pipeline's
parameters). A step starts in an empty container built from the project: it restores the
outputs of the stages it depends on, takes the data files the platform mounted, applies
the run's parameter values to params.yaml, pulls any other missing input with DVC, runs
the stage's own `cmd` (the command `dvc repro` runs) and saves its outputs for the next
steps.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlplate_runtime.errors import ProjectError
from mlplate_runtime.params_file import read_pipeline

# The batch-predictions job every engine's batch definition runs (`predict-batch`): the file
# it writes in the folder the platform keeps.
BATCH_OUTPUT_FILE = "predictions.parquet"


@dataclass(frozen=True)
class Stage:
    """One stage of dvc.yaml."""

    name: str
    cmd: str
    deps: tuple[str, ...]
    outs: tuple[str, ...]
    params: tuple[str, ...]
    upstream: tuple[str, ...]


def _paths(entries: list[Any]) -> tuple[str, ...]:
    """Paths of a dvc.yaml list whose items are strings or {path: options}."""
    return tuple(next(iter(entry)) if isinstance(entry, dict) else entry for entry in entries)


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def read_stages(dvc_yaml: Path) -> list[Stage]:
    """Read the stages of dvc.yaml in order, each with the stages whose outputs it uses."""
    raw = read_pipeline(dvc_yaml.parent)["stages"]
    stages: list[Stage] = []
    for name, spec in raw.items():
        outs = _paths(spec.get("outs", []) + spec.get("metrics", []) + spec.get("plots", []))
        deps = _paths(spec.get("deps", []))
        upstream = tuple(
            other.name
            for other in stages
            if any(_inside(dep, out) or _inside(out, dep) for dep in deps for out in other.outs)
        )
        params = tuple(key for key in _paths(spec.get("params", [])) if isinstance(key, str))
        stages.append(Stage(name, spec["cmd"], deps, outs, params, upstream))
    return stages


@dataclass(frozen=True)
class PipelineSpec:
    """The stages of dvc.yaml and the params.yaml values they use, flattened to leaves."""

    stages: list[Stage]
    parameters: dict[str, Any]


def read_spec(root: Path) -> PipelineSpec:
    """What every orchestrator builds its definition from."""
    stages = read_stages(root / "dvc.yaml")
    values = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))
    keys = tuple(dict.fromkeys(key for stage in stages for key in stage.params))
    return PipelineSpec(stages, flatten(values, keys))


def parameter_name(key: str) -> str:
    """Pipeline parameter name for a dotted params.yaml key (`data.test_size` -> `data__test_size`)."""
    return key.replace(".", "__")


def stage_keys(stage: Stage, parameters: Mapping[str, Any]) -> list[str]:
    """The flattened parameter keys one stage uses (`model` -> `model.type`, ...)."""
    return [
        key
        for key in parameters
        if any(key == used or key.startswith(used + ".") for used in stage.params)
    ]


def dvc_tracked(path: str, root: Path) -> bool:
    """Whether DVC tracks ``path`` (it or a parent folder has a `.dvc` file beside it)."""
    parts = Path(path).parts
    return any(
        (root / Path(*parts[:end]).with_name(parts[end - 1] + ".dvc")).is_file()
        for end in range(len(parts), 0, -1)
    )


def data_inputs(spec: PipelineSpec, root: Path) -> list[str]:
    """DVC-tracked data the stages read and no stage writes: what a platform must provide."""
    found = (path for stage in spec.stages for path in external_inputs(stage, spec.stages))
    return [path for path in dict.fromkeys(found) if dvc_tracked(path, root)]


def external_inputs(stage: Stage, stages: list[Stage], source_dir: str = "src") -> list[str]:
    """Data the stage reads that no stage writes and that is not code (DVC-tracked input)."""
    produced = [out for other in stages for out in other.outs]
    return [
        dep
        for dep in stage.deps
        if not _inside(dep, source_dir) and not any(_inside(dep, out) for out in produced)
    ]


def flatten(params: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The leaf values under the given dotted keys, as {dotted.key: value}."""
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}", inner)
        else:
            flat[prefix] = value

    for key in keys:
        value: Any = params
        for part in key.split("."):
            if not isinstance(value, dict) or part not in value:
                raise ProjectError(f"dvc.yaml uses parameter {key!r}, which params.yaml lacks")
            value = value[part]
        walk(key, value)
    return flat


def apply_overrides(params_path: Path, overrides: dict[str, str]) -> None:
    """Write KEY=VALUE overrides (values in YAML syntax) into params.yaml."""
    params = yaml.safe_load(params_path.read_text(encoding="utf-8"))
    for key, text in overrides.items():
        *parents, leaf = key.split(".")
        node = params
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or leaf not in node:
            raise ProjectError(f"parameter {key!r} is not in {params_path}")
        node[leaf] = yaml.safe_load(text)
    params_path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True)
    else:
        shutil.copy2(source, target)


def _pull(paths: list[str], root: Path) -> None:
    """Fetch DVC-tracked inputs from the project's remote (containers have no git)."""
    if not (root / ".git").exists():
        subprocess.run(["dvc", "config", "--local", "core.no_scm", "true"], cwd=root, check=True)
    # dvc.yaml's paths are operands, never options ("--"): a pull request can change them.
    result = subprocess.run(["dvc", "pull", "--", *paths], cwd=root, capture_output=True, text=True)
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no output"])[0]
        raise ProjectError(f"cannot pull {', '.join(paths)} with DVC: {reason}")


def step_root() -> Path:
    """The project folder inside a step's container (the pipeline image sets PIPELINE_ROOT)."""
    return Path(os.environ.get("PIPELINE_ROOT", "."))


def run_step(
    name: str,
    *,
    root: Path,
    inputs: list[Path],
    output: Path,
    overrides: dict[str, str],
    data: Mapping[str, Path] | None = None,
) -> None:
    """Run one stage as a pipeline step; its outputs end up under ``output``.

    ``inputs`` are upstream steps' output folders; ``data`` maps a dvc.yaml data path to
    the file or folder the platform mounted for it (anything else missing is pulled).
    """
    stages = read_stages(root / "dvc.yaml")
    stage = next((stage for stage in stages if stage.name == name), None)
    if stage is None:
        raise ProjectError(f"no stage {name!r} in dvc.yaml; stages: {[s.name for s in stages]}")
    for folder in inputs:
        _copy(folder, root)
    for path, source in (data or {}).items():
        if not source.exists():
            raise ProjectError(f"data input for {path} is missing: {source} does not exist")
        _copy(source, root / path)
    apply_overrides(root / "params.yaml", overrides)
    # Only DVC-tracked data is pulled; code and configuration (pyproject.toml) are in the image.
    missing = [
        path
        for path in external_inputs(stage, stages)
        if not (root / path).exists() and dvc_tracked(path, root)
    ]
    if missing:
        _pull(missing, root)
    result = subprocess.run(shlex.split(stage.cmd), cwd=root)
    if result.returncode != 0:
        raise ProjectError(f"stage {name!r} failed (exit {result.returncode}): {stage.cmd}")
    output.mkdir(parents=True, exist_ok=True)
    for out in stage.outs:
        _copy(root / out, output / out)
