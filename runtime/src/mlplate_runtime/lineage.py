"""Lineage: which commit, data and parameters produced a model (tagged on runs and versions)."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import yaml

TAG_PREFIX = "lineage."
# Files the pipeline itself rewrites: they do not make a training run "dirty".
# The data contract and the data pointer (data/raw.dvc) do count: they define the training data.
PIPELINE_OUTPUTS = (
    "dvc.lock",
    "reports",
    "models",
    "data/.gitignore",
    "data/raw",
    "data/prepared",
    "data/features",
    "data/monitoring",
)


def _git(root: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip()


def git_user(root: Path) -> str | None:
    """`git config user.name` in ``root`` (None outside git or when unset)."""
    return _git(root, "config", "user.name") or None


def git_state(root: Path) -> dict[str, str]:
    """Return the current commit and whether tracked files differ from it.

    Outside a git checkout (a pipeline container) the commit comes from LINEAGE_GIT_COMMIT,
    which `make pipeline-image` bakes into the image.
    """
    commit = _git(root, "rev-parse", "HEAD")
    if commit is None:
        return {
            "git_commit": os.environ.get("LINEAGE_GIT_COMMIT", "unknown"),
            "git_dirty": "unknown",
        }
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
    a stage runs outside `dvc repro` and dvc.lock is stale. A step that runs without
    the file (a pipeline container) reads the md5 from the file's `.dvc` pointer.
    """
    return {path.as_posix(): _recorded_md5(root / path) for path in paths}


def _recorded_md5(path: Path) -> str:
    if path.exists():
        return file_md5(path)
    pointer = path.with_name(f"{path.name}.dvc")
    if pointer.exists():
        return str(yaml.safe_load(pointer.read_text())["outs"][0]["md5"])
    return "unknown"


def lineage_tags(root: Path, *, data_paths: list[Path], params_hash: str) -> dict[str, str]:
    """All lineage tags for a training run: git state, data hashes, params hash."""
    tags = {f"{TAG_PREFIX}{key}": value for key, value in git_state(root).items()}
    for path, md5 in data_hashes(root, data_paths).items():
        tags[f"{TAG_PREFIX}data.{path}"] = md5
    tags[f"{TAG_PREFIX}params_hash"] = params_hash
    return tags
