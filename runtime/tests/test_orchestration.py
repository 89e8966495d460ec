"""The step command every orchestrator runs: its errors are one line and lose nothing."""

from __future__ import annotations

import subprocess

import pytest

from mlplate_runtime.errors import ProjectError
from mlplate_runtime.orchestration.stages import run_step
from pipeline_support import CLI, container


def test_step_rejects_an_unknown_parameter(tmp_path):
    root = container(tmp_path / "step")
    with pytest.raises(ProjectError, match=r"'model\.depth' is not in"):
        run_step(
            "train", root=root, inputs=[], output=tmp_path / "out", overrides={"model.depth": "3"}
        )


def test_step_names_a_data_mount_that_is_missing(tmp_path, project_settings):
    root = container(tmp_path / "step")
    raw_path = str(project_settings.params.data.raw_path)
    with pytest.raises(ProjectError, match=r"data input for .* is missing"):
        run_step(
            "validate",
            root=root,
            inputs=[],
            output=tmp_path / "out",
            overrides={},
            data={raw_path: tmp_path / "not-mounted.csv"},
        )


@pytest.mark.parametrize(("option", "value"), [("--set", "seed"), ("--data", "data/raw/x.csv")])
def test_step_command_refuses_a_malformed_pair_in_one_line(tmp_path, option, value):
    result = subprocess.run(
        [CLI, "pipeline-step", "validate", "--output", tmp_path / "out", option, value],
        cwd=container(tmp_path / "step"),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: {option} {value!r} is not KEY=VALUE, e.g. "
        + ("--set seed=7" if option == "--set" else "--data x.csv=/in/x.csv")
    )
