"""The raw data's place under DVC: `make data` checks it and tracks it, never overwriting it.

DVC tracks the whole data/raw folder (data/raw.dvc). The example dataset is written only
while the contract says `example: true`; a tracked file that is missing locally must come
from the DVC remote (`make pull`), never be regenerated over the pointer.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from mlplate_runtime.config import Settings
from mlplate_runtime.data.contract import validation_problems
from mlplate_runtime.data.example import write_example_data
from mlplate_runtime.data.ingest import read_table
from mlplate_runtime.data.prepare import check_raw_data, check_trainable
from mlplate_runtime.errors import DataValidationError, ProjectError


def pointer_path(settings: Settings) -> Path:
    """The DVC pointer of the raw data folder (data/raw.dvc)."""
    folder = settings.path(settings.params.data.raw_path).parent
    return folder.with_name(f"{folder.name}.dvc")


def refuse_links(folder: Path) -> None:
    """Refuse a symbolic link or a special file (FIFO, device, socket) under ``folder``: DVC
    would store what a link points to (any file the user can read) and push it to the remote."""
    for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
        if path.is_symlink():
            raise ProjectError(
                f"{path} is a symbolic link; DVC would track and push the file it points to. "
                "Replace it with a copy of the data, or remove it"
            )
        if not (path.is_file() or path.is_dir()):
            raise ProjectError(f"{path} is not a regular file; remove it from {folder}")


def dvc_add(settings: Settings, folder: Path) -> None:
    """Track ``folder`` with DVC (writes its pointer and caches the files); links refused."""
    refuse_links(folder)
    result = subprocess.run(
        [sys.executable, "-m", "dvc", "add", "--quiet", str(folder.relative_to(settings.root))],
        cwd=settings.root,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip().splitlines()
        raise ProjectError(
            f"dvc add {folder} failed: {message[-1] if message else result.returncode}"
        )


def ensure_raw_data(settings: Settings) -> str:
    """Make sure the raw data is present and valid, then track it; return what happened."""
    data, contract = settings.params.data, settings.contract
    raw, pointer = settings.path(data.raw_path), pointer_path(settings)
    tracked_before = pointer.read_text() if pointer.exists() else None
    made = False
    if not raw.exists():
        if tracked_before is not None and not contract.example:
            raise ProjectError(
                f"{data.raw_path} is tracked by DVC ({pointer.name}) but missing here; "
                "run `make pull` to download it (check that the DVC remote is configured and reachable)"
            )
        if not contract.example:
            raise ProjectError(
                f"{data.raw_path} does not exist; bring your data with "
                "`make use-data DATA=path/to/file.csv TARGET=column`"
            )
        write_example_data(
            raw, n_rows=data.example_rows, seed=settings.params.seed, target=contract.target
        )
        made = True
    summary = check_raw_data(settings)  # nothing enters the DVC cache before it is valid
    dvc_add(settings, raw.parent)
    if made and tracked_before is not None and pointer.read_text() != tracked_before:
        pointer.write_text(tracked_before)
        raw.unlink()
        raise ProjectError(
            f"the regenerated example differs from the data {pointer.name} tracks; "
            "run `make pull` to get the tracked version"
        )
    action = "wrote the example dataset" if made else "checked"
    return f"{action} {data.raw_path}: {summary['rows']} rows, {summary['columns']} columns, valid; tracked in {pointer.name}"


def ingest_drop(settings: Settings, source: Path) -> str:
    """Replace the raw data with a new drop of the same dataset, only if it meets the contract.

    The hand-over point for upstream pipelines (Airflow, dbt, Glue, Data Factory...): the drop is
    read and validated where it landed; the current raw file is replaced (atomically) and
    tracked only when the drop is valid, so a bad drop changes nothing.
    """
    raw = settings.path(settings.params.data.raw_path)
    if source.suffix.lower() != raw.suffix.lower():
        raise ProjectError(
            f"{source} is a {source.suffix or 'suffix-less'} file but data.raw_path is "
            f"{raw.name}; deliver the drop in the same format"
        )
    frame = read_table(source)
    problems = validation_problems(frame, settings.contract)
    if problems:
        raise DataValidationError(f"{source} breaks the data contract: " + "; ".join(problems))
    check_trainable(frame, settings)
    raw.parent.mkdir(parents=True, exist_ok=True)
    staged = raw.with_name(f".{raw.name}.incoming")
    shutil.copyfile(source, staged)
    os.replace(staged, raw)
    dvc_add(settings, raw.parent)
    return (
        f"ingested {source} into {settings.params.data.raw_path}: {len(frame)} rows, valid; "
        f"tracked in {pointer_path(settings).name}; run `make all` to retrain"
    )
