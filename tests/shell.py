"""Run commands of generated projects and report their output on failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def project_env(**extra: str) -> dict[str, str]:
    """The environment for a generated project's commands: uv on PATH, offline-friendly."""
    env = dict(os.environ)
    tools = str(Path(sys.executable).parent)
    env["PATH"] = f"{tools}{os.pathsep}{env.get('PATH', '')}"
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["PYTHON"] = sys.executable
    env.pop("VIRTUAL_ENV", None)
    env.update(extra)
    return env


def run(
    *args: str, cwd: Path, check: bool = True, timeout: float = 600, **extra: str
) -> subprocess.CompletedProcess[str]:
    """Run a command; on an unexpected exit code fail with its output."""
    result = subprocess.run(
        list(args),
        cwd=cwd,
        env=project_env(**extra),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} exited {result.returncode} in {cwd}\n"
            f"--- stdout\n{result.stdout[-6000:]}\n--- stderr\n{result.stderr[-6000:]}"
        )
    return result
