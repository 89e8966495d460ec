"""Stages `validate` and `prepare`: check the raw data against the contract, then split it."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd

from mlplate_runtime.config import Settings, Split
from mlplate_runtime.data.contract import validate, validation_problems
from mlplate_runtime.data.ingest import read_table
from mlplate_runtime.errors import DataValidationError, ProjectError

log = logging.getLogger(__name__)
MIN_ROWS = 20  # fewer cannot train a model and still hold out a test split
MIN_ROWS_PER_CLASS = 2


def check_raw_data(settings: Settings) -> dict[str, int]:
    """Validate the raw file against the contract (stage `validate`); return its shape.

    Nothing is written on invalid data, so DVC never runs the stages after it and their
    outputs stay as they were.
    """
    path = settings.path(settings.params.data.raw_path)
    frame = read_table(path)
    problems = validation_problems(frame, settings.contract)
    if problems:
        raise DataValidationError(f"{path} breaks the data contract: " + "; ".join(problems))
    labelled = frame[settings.contract.target].notna()
    check_trainable(frame[labelled], settings)
    summary = {
        "rows": len(frame),
        "columns": len(frame.columns),
        "rows_without_target": int((~labelled).sum()),  # `prepare` drops them
    }
    report = settings.path(settings.params.data.validation_report)
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def check_trainable(frame: pd.DataFrame, settings: Settings) -> None:
    """Enough rows, and for classification at least two classes with two rows each."""
    contract, path = settings.contract, settings.params.data.raw_path
    if len(frame) < MIN_ROWS:
        raise DataValidationError(
            f"{path} has {len(frame)} rows; at least {MIN_ROWS} are needed to train and hold out a test split"
        )
    if contract.task == "classification":
        counts = frame[contract.target].value_counts()
        if len(counts) < 2:
            raise DataValidationError(
                f"{path}: the target '{contract.target}' has a single class ({counts.index[0]!r}); "
                "a classifier needs at least two"
            )
        rare = sorted(str(label) for label, n in counts.items() if n < MIN_ROWS_PER_CLASS)
        if rare:
            raise DataValidationError(
                f"{path}: classes {rare} of '{contract.target}' have fewer than {MIN_ROWS_PER_CLASS} rows; "
                "collect more examples or merge them into another class"
            )


def test_rows(strata: pd.Series, *, test_size: float, seed: int) -> np.ndarray:
    """A mask of held-out rows: each stratum's share is the same in train and test.

    Works on the strata alone (row positions per stratum), so the data is never copied.
    """
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(strata), dtype=bool)
    for _, positions in sorted(strata.groupby(strata, sort=True).indices.items()):
        n_test = max(1, round(len(positions) * test_size)) if len(positions) > 1 else 0
        mask[positions[rng.permutation(len(positions))[:n_test]]] = True
    return mask


def split_strata(frame: pd.DataFrame, settings: Settings) -> pd.Series:
    """Classes for classification; deciles of the target for regression."""
    target = frame[settings.contract.target]
    if settings.contract.task == "classification":
        return target.astype(str)
    return pd.qcut(target, q=10, labels=False, duplicates="drop")


def time_column(settings: Settings) -> str:
    """The column a time split orders rows by: data.time_column, or the one datetime column."""
    contract, chosen = settings.contract, settings.params.data.time_column
    times = [name for name in contract.kept if contract.columns[name].type == "datetime"]
    if chosen is not None:
        if chosen not in times:
            raise ProjectError(
                f"params.yaml data.time_column {chosen!r} is not a datetime column the contract "
                f"keeps (an ignored one is left out: give it role id); its datetime columns: {times}"
            )
        return chosen
    if len(times) != 1:
        raise ProjectError(
            "params.yaml data.split is time: name the column that orders the rows in "
            f"data.time_column (the contract's datetime columns: {times or 'none'})"
        )
    return times[0]


def latest_rows(times: pd.Series, *, test_size: float) -> np.ndarray:
    """A mask of the latest ``test_size`` share of rows (missing times count as the earliest)."""
    n_test = max(1, round(len(times) * test_size))
    # sorted in the times' own unit (nanoseconds cannot hold 9999-12-31, a common sentinel)
    ordered = times.reset_index(drop=True).sort_values(kind="stable", na_position="first")
    order = ordered.index.to_numpy()
    mask = np.zeros(len(times), dtype=bool)
    mask[order[len(order) - n_test :]] = True
    return mask


def _warn_of_unseen_classes(frame: pd.DataFrame, held_out: np.ndarray, settings: Settings) -> None:
    """A time split can hold out every row of a class (one that appeared lately): the model
    never learns it. Said, not refused: the holdout is still the honest future."""
    contract = settings.contract
    if contract.task != "classification":
        return
    target = frame[contract.target].astype(str)
    unseen = sorted(set(target[held_out]) - set(target[~held_out]))
    if unseen:
        log.warning(
            "the time split holds out every row of the classes %s of %r: the model never sees "
            "them in training (a smaller data.test_size trains on more recent rows)",
            unseen,
            contract.target,
        )


def prepare(settings: Settings) -> tuple[int, int]:
    """Run the stage; return the (train, test) row counts. Writes nothing on invalid data."""
    data = settings.params.data
    path = settings.path(data.raw_path)
    ordered_by = time_column(settings) if data.split == "time" else None
    frame = validate(read_table(path), settings.contract, source=str(path))
    unlabelled = frame[settings.contract.target].isna()
    if unlabelled.any():  # nothing to learn from or score against; counted by `validate`
        log.info("dropping %d rows without a target", int(unlabelled.sum()))
        frame = frame[~unlabelled].reset_index(drop=True)
    check_trainable(frame, settings)
    if ordered_by is not None:
        held_out = latest_rows(frame[ordered_by], test_size=data.test_size)
        _warn_of_unseen_classes(frame, held_out, settings)
    else:
        held_out = test_rows(
            split_strata(frame, settings), test_size=data.test_size, seed=settings.params.seed
        )
    settings.path(data.prepared_dir).mkdir(parents=True, exist_ok=True)
    splits: tuple[tuple[Split, pd.Series], ...] = (("train", ~held_out), ("test", held_out))
    for name, rows in splits:  # one split in memory at a time
        frame[rows].to_csv(settings.prepared(name), index=False)
    return int((~held_out).sum()), int(held_out.sum())
