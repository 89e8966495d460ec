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

from tests.conftest import render, tree

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


@pytest.mark.parametrize("engine", ["copier", "cookiecutter"])
def test_a_runtime_only_release_changes_only_the_runtime_pins(tmp_path, engine):
    """A release that changes only the runtime reaches a project as its version pins (and the
    wheel `mlplate update` puts in .mlplate/wheels): no other rendered line names it."""
    from mlplate import __version__
    from mlplate.answers import resolve_answers
    from mlplate.render import RENDERERS

    answers = resolve_answers({"project_name": "demo-model"}, {"serving": "fastapi"})
    key = "runtime_version" if engine == "copier" else "_runtime_version"
    RENDERERS[engine](tmp_path / "now", answers)
    RENDERERS[engine](tmp_path / "next", {**answers, key: "9.9.9"})
    now, later = tree(tmp_path / "now"), tree(tmp_path / "next")
    assert now.keys() == later.keys()
    changed = {path for path in now if now[path] != later[path]}
    assert changed <= {"pyproject.toml", ".copier-answers.yml"} and "pyproject.toml" in changed
    before = now["pyproject.toml"].decode().splitlines()
    after = later["pyproject.toml"].decode().splitlines()
    differing = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert len(differing) >= 2  # the project's dependency and the dev extra
    for old, new in differing:
        assert "mlplate-runtime" in old and old.replace(__version__, "9.9.9") == new
