"""Roll back: move the `champion` alias to the previous champion (or a chosen version).

The previous champion is the one the current champion replaced when it first became champion
(its `previous_champion` tag, written by the promotion gate). A version that was champion
before keeps its tags when the alias comes back to it, so rolling back again walks further
back: 3 -> 2 -> 1. Versions promoted before these tags existed fall back to the highest
earlier version that passed the gate. Who, why and from where are tagged on the version the
alias moves to; a serving app picks the move up at its next reload (MODEL_RELOAD_SECONDS).
"""

from __future__ import annotations

import getpass
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlplate_runtime.config import Settings
from mlplate_runtime.errors import ProjectError
from mlplate_runtime.lineage import git_user
from mlplate_runtime.models.lock import gate_lock
from mlplate_runtime.models.registry import (
    CHAMPION,
    GATE_PASSED_TAG,
    GATE_REASON_TAG,
    PREVIOUS_CHAMPION_TAG,
    PROMOTED_AT_TAG,
    alias_version,
    utc_now,
)
from mlplate_runtime.tracking import client

ROLLBACK_BY_TAG = "rollback_by"
ROLLBACK_REASON_TAG = "rollback_reason"
ROLLED_BACK_FROM_TAG = "rolled_back_from"
ROLLED_BACK_AT_TAG = "rolled_back_at"
NO_REASON = "(no reason given)"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rollback:
    """Where the champion alias moved, why that version, and what was recorded."""

    model: str
    from_version: str
    to_version: str
    chosen_by: str  # how the version was chosen, for the operator to check
    by: str
    reason: str
    gate_reason: str | None  # set when the version failed the promotion gate


def operator(root: Path) -> str:
    """Who runs the command: `git config user.name`, else the login name."""
    name = git_user(root)
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name, no passwd entry (a bare container)
        return "unknown"


def parse_version(text: str) -> str:
    """A VERSION given on the command line, as the registry's version text."""
    value = text.strip()
    if not value.isdigit() or int(value) < 1:
        raise ProjectError(f"VERSION must be a model version number such as 3, not {text!r}")
    return str(int(value))


def _versions(mlflow_client: Any, name: str) -> list[Any]:
    return sorted(
        mlflow_client.search_model_versions(f"name='{name}'"), key=lambda v: int(v.version)
    )


def previous_champion(mlflow_client: Any, name: str, champion: Any) -> tuple[str, str]:
    """(version, how it was chosen) of the champion before ``champion``."""
    current = str(champion.version)
    recorded = champion.tags.get(PREVIOUS_CHAMPION_TAG)
    if recorded:
        return recorded, f"the champion that version {current} replaced"
    if PROMOTED_AT_TAG in champion.tags:
        raise ProjectError(
            f"version {current} was the first champion of {name!r}: there is no earlier one; "
            "choose a version with VERSION=n"
        )
    # Promoted before the history was recorded: the highest earlier version that passed the gate.
    earlier = _passed_below(mlflow_client, name, current)
    if earlier is None:
        raise ProjectError(
            f"no previous champion of {name!r} is recorded and no version below {current} passed "
            "the promotion gate; choose a version with VERSION=n"
        )
    return earlier, (
        f"the highest version below {current} that passed the gate (no promotion history "
        f"is recorded for version {current})"
    )


def _passed_below(mlflow_client: Any, name: str, version: str) -> str | None:
    """The highest version below ``version`` that passed the promotion gate, if any."""
    passed = [
        int(v.version)
        for v in _versions(mlflow_client, name)
        if int(v.version) < int(version) and v.tags.get(GATE_PASSED_TAG) == "true"
    ]
    return str(max(passed)) if passed else None


def _record_history(mlflow_client: Any, name: str, target: Any) -> None:
    """A version that becomes champion by a rollback, with no promotion recorded: when, and the
    champion before it by the rule for old versions (never the version rolled back from, or
    the next rollback would bring that one back)."""
    if PROMOTED_AT_TAG in target.tags:
        return
    version = str(target.version)
    mlflow_client.set_model_version_tag(name, version, PROMOTED_AT_TAG, utc_now())
    earlier = _passed_below(mlflow_client, name, version)
    if earlier is not None:
        mlflow_client.set_model_version_tag(name, version, PREVIOUS_CHAMPION_TAG, earlier)


def _existing(mlflow_client: Any, name: str, version: str, *, chosen_by: str) -> Any:
    from mlflow.exceptions import MlflowException

    try:
        return mlflow_client.get_model_version(name, version)
    except MlflowException:
        known = ", ".join(str(v.version) for v in _versions(mlflow_client, name)) or "none"
        hint = "" if chosen_by == "VERSION" else f" ({chosen_by}); choose one with VERSION=n"
        raise ProjectError(
            f"model {name!r} has no version {version} (its versions: {known}){hint}"
        ) from None


def rollback(
    settings: Settings, *, version: str | None = None, reason: str = "", by: str = ""
) -> Rollback:
    """Point `champion` at ``version``, or at the previous champion when it is None."""
    name = settings.params.mlflow.registered_model
    mlflow_client = client(settings)
    # Under the gate's lock: a promotion running meanwhile cannot move the alias in between.
    with gate_lock(mlflow_client, name):
        champion = alias_version(mlflow_client, name, CHAMPION)
        if champion is None:
            raise ProjectError(f"model {name!r} has no champion: there is nothing to roll back")
        if version is None:
            target_version, chosen_by = previous_champion(mlflow_client, name, champion)
        else:
            target_version, chosen_by = parse_version(version), "VERSION"
        current = str(champion.version)
        if target_version == current:
            raise ProjectError(f"version {current} of {name!r} is already the champion")
        target = _existing(mlflow_client, name, target_version, chosen_by=chosen_by)
        by, reason = by.strip() or operator(settings.root), reason.strip() or NO_REASON
        # The record first, then the move: a refused tag write leaves the alias where it was.
        for key, value in (
            (ROLLBACK_BY_TAG, by),
            (ROLLBACK_REASON_TAG, reason),
            (ROLLED_BACK_FROM_TAG, current),
            (ROLLED_BACK_AT_TAG, utc_now()),
        ):
            mlflow_client.set_model_version_tag(name, target_version, key, value)
        _record_history(mlflow_client, name, target)
        mlflow_client.set_registered_model_alias(name, CHAMPION, target_version)
    log.info(
        "model %s rolled back from version %s to %s by %s: %s",
        name,
        current,
        target_version,
        by,
        reason,
        extra={"model": name, "version": target_version, "from_version": current},
    )
    failed = target.tags.get(GATE_PASSED_TAG) == "false"
    return Rollback(
        model=name,
        from_version=current,
        to_version=target_version,
        chosen_by=chosen_by,
        by=by,
        reason=reason,
        gate_reason=target.tags.get(GATE_REASON_TAG, "no reason recorded") if failed else None,
    )
