"""Build generated projects for the slow tests, sharing one installed environment.

Installing the generated project's dependencies dominates test time, so the
first project runs its real `make setup` and later projects with the same
dependencies link to that `.venv` and re-point the editable install at
themselves (a fraction of a second).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlplate.api import generate
from tests.shell import project_env, run

PROJECT_NAME = "demo-model"
PACKAGE = "demo_model"


class SharedEnvironments:
    """One `.venv` per distinct dependency set (the generated pyproject's dependencies)."""

    def __init__(self) -> None:
        self._venvs: dict[str, Path] = {}

    def setup(self, project: Path) -> None:
        """Give ``project`` a working `.venv`: a real `make setup` the first time."""
        key = dependency_key(project)
        venv = self._venvs.get(key)
        if venv is None:
            run("make", "setup", cwd=project)
            self._venvs[key] = project / ".venv"
            return
        os.symlink(venv, project / ".venv")
        run(
            "uv",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--python",
            str(project / ".venv" / "bin" / "python"),
            "-e",
            ".",
            cwd=project,
        )


def dependency_key(project: Path) -> str:
    import tomllib

    config = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    return json.dumps([config["dependencies"], config.get("optional-dependencies", {})])


def new_project(parent: Path, **answers: Any) -> Path:
    """Generate a project (git-initialised) named PROJECT_NAME in its own folder."""
    parent.mkdir(parents=True, exist_ok=True)
    return generate(parent / PROJECT_NAME, answers={"project_name": PROJECT_NAME, **answers}).path


def project_python(project: Path, code: str) -> Any:
    """Run Python code in the project's environment; return what it prints as JSON."""
    result = run(str(project / ".venv" / "bin" / "python"), "-c", code, cwd=project)
    return json.loads(result.stdout.strip().splitlines()[-1])


def commit_all(project: Path, message: str) -> None:
    run("git", "add", "--all", cwd=project)
    run("git", "commit", "--quiet", "-m", message, cwd=project)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def served(project: Path, **env: str) -> Iterator[str]:
    """Run `make serve` on a free local port until the app is ready; yield its base URL."""
    import httpx

    port = free_port()
    output = project / "logs" / f"serve-{port}.log"
    output.parent.mkdir(exist_ok=True)
    server = subprocess.Popen(
        ["make", "serve", f"PORT={port}"],
        cwd=project,
        env=project_env(**env),
        stdout=output.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, f"the app exited:\n{output.read_text()[-3000:]}"
            time.sleep(0.5)
        else:
            raise AssertionError(
                f"the app was not ready within 90 s:\n{output.read_text()[-3000:]}"
            )
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
