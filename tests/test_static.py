"""Rendered files parse and pass ruff (fast: no installs): the checks test_parity runs on every
answer combination, and the formatting of the shortest and longest package names."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
import yaml

from tests.conftest import render

RUFF = str(Path(sys.executable).parent / "ruff")


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


@pytest.mark.parametrize("name", ["m", "a-forty-character-project-name-for-format"[:40]])
def test_generated_code_is_formatted_for_short_and_longest_names(tmp_path, name):
    ruff_passes(render(tmp_path / "p", project_name=name, python_version="3.10"))
