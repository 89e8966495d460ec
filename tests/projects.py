"""Build generated projects for the slow tests, sharing one installed environment.

Installing a generated project's dependencies dominates test time. The first project a test
process builds is installed as `make setup` installs it, with mlplate-runtime's every extra
in the same install (what any answers can ask for: they install together, as the runtime's
own test environment shows). Every later project links to it, checks that its own dependencies resolve
(offline, from uv's cache and the project's runtime wheel), and re-points the editable install
at itself (a second or two instead of ~20).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from mlplate import __version__
from mlplate.api import generate
from tests.shell import project_env, run

PROJECT_NAME = "demo-model"
PACKAGE = "demo_model"
EVERY_EXTRA = "serving,s3,kubeflow,feast,azureml,sagemaker,testing"


class SharedEnvironments:
    """One `.venv` per test process, holding what any generated project needs."""

    _venv: ClassVar[Path | None] = None

    def setup(self, project: Path) -> None:
        """Give ``project`` a working `.venv`: installed the first time, shared after."""
        python = str(project / ".venv" / "bin" / "python")
        wheels = ("--find-links", ".mlplate/wheels")
        venv = SharedEnvironments._venv
        if venv is None or not venv.is_dir():
            # `make setup`'s own commands (its tests: test_project_setup, test_lockfile), with
            # every extra of the runtime in the same install.
            superset = f"mlplate-runtime[{EVERY_EXTRA}]=={__version__}"
            run("uv", "venv", "--quiet", "--python", sys.executable,
                ".venv", cwd=project)  # fmt: skip
            run("uv", "pip", "install", "--quiet", "--compile-bytecode", "--python", python,
                *wheels, "-e", ".[dev]", superset, cwd=project)  # fmt: skip
            SharedEnvironments._venv = project / ".venv"
            return
        os.symlink(venv, project / ".venv")
        # The project's own dependency set resolves (a wrong pin or extra fails here).
        run("uv", "pip", "install", "--dry-run", "--quiet", "--python", python, *wheels,
            "-e", ".[dev]", cwd=project)  # fmt: skip
        run("uv", "pip", "install", "--quiet", "--no-deps", "--python", python, "-e", ".",
            cwd=project)  # fmt: skip


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
