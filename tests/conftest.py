"""Shared fixtures: rendering helpers and an isolated environment for every test."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from mlplate.answers import resolve_answers
from mlplate.render import RENDERERS

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
REAL_UV_CACHE = str(Path.home() / ".cache" / "uv")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Keep cookiecutter's replay files and git config out of the real home folder."""
    home = tmp_path_factory.mktemp("home")
    # Generated projects install with uv: keep its download cache shared, not per test.
    monkeypatch.setenv("UV_CACHE_DIR", os.environ.get("UV_CACHE_DIR") or REAL_UV_CACHE)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test Author")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "author@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test Author")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "author@example.com")


def render(dest: Path, engine: str = "copier", **answers: Any) -> Path:
    """Render the template in-process into ``dest`` (which must not exist)."""
    RENDERERS[engine](dest, resolve_answers({"project_name": "demo-model"}, answers))
    return dest


def tree(root: Path) -> dict[str, bytes]:
    """Map every file below root (relative path) to its bytes, ignoring .git."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


@pytest.fixture
def cli():
    """Run the mlplate CLI in-process; returns click's Result (stdout and stderr apart)."""
    from typer.testing import CliRunner

    from mlplate.cli import app

    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


# The heaviest scheduling units first: `make test` runs xdist with --dist loadscope, which hands
# out modules (and classes) in collection order, so the long ones start at once and the short
# ones fill the gaps. Rough seconds, from the build table below.
SCOPE_SECONDS = {
    "tests/test_project_pipeline.py": 290,
    "tests/test_build_matrix.py::TestFirstHalf": 200,
    "tests/test_build_matrix.py::TestSecondHalf": 160,
    "tests/test_scale_out.py": 160,
    "tests/test_catch_up.py::TestATeamsProject": 150,
    "tests/test_catch_up.py": 80,
    "tests/test_own_data.py": 60,
    "tests/test_project_setup.py": 40,
    "tests/test_lockfile.py": 30,
}


def _scope(item: pytest.Item) -> str:
    """The module, or the class, that loadscope schedules ``item`` with."""
    parts = item.nodeid.split("::")
    return "::".join(parts[:2]) if len(parts) > 2 else parts[0]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the scheduling units by their cost, longest first (tests keep their order)."""
    position = {id(item): index for index, item in enumerate(items)}
    items.sort(key=lambda item: (-SCOPE_SECONDS.get(_scope(item), 0), position[id(item)]))


_BUILD_TIMES: list[tuple[str, float]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect the time of every test that builds and runs a generated project."""
    building = (
        "test_project_pipeline.py",
        "test_catch_up.py",
        "test_build_matrix.py",
        "test_scale_out.py",
        "test_own_data.py",
    )
    if report.when == "call" and report.nodeid.split("::")[0].endswith(building):
        _BUILD_TIMES.append((report.nodeid.split("::", 1)[1], report.duration))


def pytest_terminal_summary(terminalreporter) -> None:
    """Print the per-configuration time table of the generated-project builds."""
    if not _BUILD_TIMES:
        return
    terminalreporter.section("generated-project builds: time per test and configuration")
    for name, seconds in sorted(_BUILD_TIMES, key=lambda item: -item[1]):
        terminalreporter.write_line(f"{seconds:8.1f} s  {name}")
    total = sum(seconds for _, seconds in _BUILD_TIMES)
    terminalreporter.write_line(f"{total:8.1f} s  total (fixture set-up not included)")
