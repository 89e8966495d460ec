"""The one way mlplate runs git: output captured, a failure turned into one MlplateError line."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from mlplate.errors import MlplateError


def _subcommand(args: tuple[str, ...]) -> str:
    """The git sub-command among ``args`` (skipping ``-c key=value`` and other options)."""
    words = iter(args)
    for word in words:
        if word == "-c":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return "command"


def _run(
    args: tuple[str, ...],
    cwd: Path | None,
    env: Mapping[str, str] | None,
    *,
    text: bool,
    stdin: str | None = None,
) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=text,
        env={**os.environ, **env} if env else None,
        check=False,
    )


def git(
    *args: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    context: str | None = None,
    stdin: str | None = None,
) -> str:
    """Run git and return its output; on failure raise MlplateError with git's last line."""
    result = _run(args, cwd, env, text=True, stdin=stdin)
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no message"])[-1]
        where = context or (f"in {cwd}" if cwd is not None else "")
        raise MlplateError(f"git {_subcommand(args)} failed {where}: {reason}".replace(" :", ":"))
    return str(result.stdout)


def git_bytes(*args: str, cwd: Path) -> bytes:
    """Run git and return its raw output (file contents); a failure raises MlplateError."""
    result = _run(args, cwd, None, text=False)
    if result.returncode != 0:
        reason = (result.stderr.decode(errors="replace").strip().splitlines() or ["?"])[-1]
        raise MlplateError(f"git {_subcommand(args)} failed in {cwd}: {reason}")
    return bytes(result.stdout)


def git_succeeds(*args: str, cwd: Path | None = None) -> bool:
    """Whether git succeeds (a probe: does this ref, setting or path exist?)."""
    return _run(args, cwd, None, text=True).returncode == 0
