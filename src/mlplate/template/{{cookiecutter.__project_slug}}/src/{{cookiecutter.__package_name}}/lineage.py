"""Lineage: which commit, data and parameters produced a model (tagged on runs and versions)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

TAG_PREFIX = "lineage."
# Files the pipeline itself rewrites: they do not make a training run "dirty".
PIPELINE_OUTPUTS = ("dvc.lock", "reports", "data", "models")


def _git(root: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip()


def git_state(root: Path) -> dict[str, str]:
    """Return the current commit and whether tracked files differ from it."""
    commit = _git(root, "rev-parse", "HEAD")
    if commit is None:
        return {"git_commit": "unknown", "git_dirty": "unknown"}
    excluded = [f":(exclude){path}" for path in PIPELINE_OUTPUTS]
    status = _git(root, "status", "--porcelain", "--untracked-files=no", "--", ".", *excluded)
    return {"git_commit": commit, "git_dirty": str(bool(status)).lower()}


def file_md5(path: Path) -> str:
    """The md5 of a file's bytes (what DVC 3 records for a file)."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_hashes(root: Path, paths: list[Path]) -> dict[str, str]:
    """Return the md5 of each data file, the same value DVC records in dvc.lock.

    Hashing the file itself (milliseconds for tabular data) stays right even when
    a stage runs outside `dvc repro` and dvc.lock is stale.
    """
    return {path.as_posix(): file_md5(root / path) for path in paths}


def lineage_tags(root: Path, *, data_paths: list[Path], params_hash: str) -> dict[str, str]:
    """All lineage tags for a training run: git state, data hashes, params hash."""
    tags = {f"{TAG_PREFIX}{key}": value for key, value in git_state(root).items()}
    for path, md5 in data_hashes(root, data_paths).items():
        tags[f"{TAG_PREFIX}data.{path}"] = md5
    tags[f"{TAG_PREFIX}params_hash"] = params_hash
    return tags
