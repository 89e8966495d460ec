"""Every answer combination renders to files that parse and pass ruff (fast: no installs)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
import yaml

from tests.conftest import render
from tests.matrix import combinations, combo_id

RUFF = str(Path(sys.executable).parent / "ruff")
COMBOS = combinations()


def ruff_passes(project: Path) -> None:
    for args in (["check", "--no-cache", "."], ["format", "--no-cache", "--check", "."]):
        result = subprocess.run([RUFF, *args], cwd=project, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def parse_data_files(project: Path) -> int:
    parsed = 0
    for path in project.rglob("*"):
        if ".git" in path.parts or not path.is_file():
            continue
        if path.suffix in (".yml", ".yaml") or path.name == ".copier-answers.yml":
            yaml.safe_load(path.read_text())
        elif path.suffix == ".toml":
            tomllib.loads(path.read_text())
        elif path.suffix == ".json":
            json.loads(path.read_text())
        else:
            continue
        parsed += 1
    return parsed


@pytest.mark.parametrize("combo", COMBOS, ids=[combo_id(combo) for combo in COMBOS])
def test_rendered_project_parses_and_passes_ruff(tmp_path, combo):
    project = render(tmp_path / "p", **combo)
    assert parse_data_files(project) >= 4  # params.yaml, dvc.yaml, pyproject.toml, answers...
    ruff_passes(project)


@pytest.mark.parametrize("name", ["m", "a-forty-character-project-name-for-format"[:40]])
def test_generated_code_is_formatted_for_short_and_longest_names(tmp_path, name):
    ruff_passes(render(tmp_path / "p", project_name=name, python_version="3.10"))
