"""Hostile but valid answers, in a hostile folder path: written literally, quoted for every
format, and never executed, with either engine. (The slow build matrix runs the full CI,
serving and docs build of projects carrying the same text.)"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import tomllib
import yaml
from markupsafe import escape

MARKER = "pwned-by-answer"
HOSTILE_TEXT = (
    'Churn: "who" cancels # next {{ 7*7 }} ${{ github.token }} $(touch ' + MARKER + ") "
    "`touch " + MARKER + "` <script>alert(1)</script> a|b {% raw %} café ✓ " + "long " * 60
).strip()
HOSTILE_AUTHOR = 'Ana O\'Neil "the data" $(touch ' + MARKER + ") {{ 6*7 }} — ¿"
HOSTILE_ANSWERS = {
    "description": HOSTILE_TEXT,
    "author_name": HOSTILE_AUTHOR,
    "mlflow_tracking": "server",
    "mlflow_tracking_uri": "https://mlflow.internal:5000/team?x=1&y=2",
    "dvc_remote": "s3",
    "s3_bucket": "team.ml-data",
    "s3_endpoint_url": "http://minio.internal:9000",
}


def parsed_files(project: Path) -> int:
    """Parse every YAML, TOML, JSON and notebook file; return how many."""
    count = 0
    for path in project.rglob("*"):
        if ".git" in path.parts or not path.is_file():
            continue
        text = (
            path.read_text()
            if path.suffix in {".yml", ".yaml", ".toml", ".json", ".ipynb"}
            else None
        )
        if text is None:
            continue
        if path.suffix in {".yml", ".yaml"}:
            yaml.safe_load(text)
        elif path.suffix == ".toml":
            tomllib.loads(text)
        else:
            json.loads(text)
        count += 1
    return count


@pytest.mark.parametrize("engine", ["cookiecutter", "copier"])
def test_hostile_answers_are_literal_quoted_and_never_run(cli, tmp_path, engine):
    parent = tmp_path / "dir with space $(touch pwned-by-path) 'q' (x)"
    parent.mkdir()
    dest = parent / "hostile-model"
    pairs = [arg for key, value in HOSTILE_ANSWERS.items() for arg in ("--data", f"{key}={value}")]
    result = cli("new", str(dest), "--defaults", "--engine", engine, *pairs)
    assert result.exit_code == 0, result.stderr

    assert parsed_files(dest) >= 8
    project = tomllib.loads((dest / "pyproject.toml").read_text())["project"]
    assert project["description"] == HOSTILE_TEXT
    assert project["authors"][0]["name"] == HOSTILE_AUTHOR
    assert yaml.safe_load((dest / "mkdocs.yml").read_text())["site_description"] == str(
        escape(HOSTILE_TEXT)
    )  # the theme writes it into HTML as is
    readme = (dest / "README.md").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in readme  # HTML in Markdown stays text
    assert "{{ 7*7 }}" in readme and "49" not in readme.split("\n")[2]
    assert HOSTILE_AUTHOR in (dest / "LICENSE").read_text()

    targets = re.findall(r"^([a-z][a-z-]*):", (dest / "mlplate.mk").read_text(), re.MULTILINE)
    assert len(targets) > 20
    for target in targets:
        dry = subprocess.run(["make", "-n", target], cwd=dest, capture_output=True, text=True)
        assert dry.returncode == 0, (target, dry.stderr)
    assert not list(tmp_path.rglob(f"*{MARKER}*"))
    assert not list(tmp_path.rglob("pwned-by-path"))
