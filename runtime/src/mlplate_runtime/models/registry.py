"""Register the trained model and move the `champion` alias only through the gate."""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from mlplate_runtime.config import Settings
from mlplate_runtime.errors import ProjectError
from mlplate_runtime.lineage import TAG_PREFIX
from mlplate_runtime.models.evaluate import load_holdout, score
from mlplate_runtime.models.lock import gate_lock
from mlplate_runtime.models.promotion import (
    Decision,
    Secondary,
    decide,
    hold_to_slice_floors,
    slice_floor_misses,
)
from mlplate_runtime.models.tasks import secondary_metric, task_for
from mlplate_runtime.tracking import client, read_run_info

CHAMPION = "champion"
CHALLENGER = "challenger"
GATE_PASSED_TAG = "gate.passed"  # on every version: did it beat the champion offline?
GATE_REASON_TAG = "gate.reason"
# On a version when it first becomes champion: when, and which champion it replaced. They are
# never rewritten, so they record the history of the alias that `rollback` walks back.
PROMOTED_AT_TAG = "promoted_at"
PREVIOUS_CHAMPION_TAG = "previous_champion"
log = logging.getLogger(__name__)


def alias_version(mlflow_client: Any, name: str, alias: str) -> Any | None:
    """The version holding ``alias``, or None."""
    from mlflow.exceptions import MlflowException

    try:
        return mlflow_client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def utc_now() -> str:
    """The time as ISO 8601 UTC text (what the registry tags record)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def record_first_promotion(
    mlflow_client: Any, name: str, version: Any, replaced: Any | None
) -> None:
    """Tag ``version`` with when it became champion and the champion it replaced, unless it
    was champion before (its first promotion is the one the history keeps)."""
    if PROMOTED_AT_TAG in version.tags:
        return
    mlflow_client.set_model_version_tag(name, version.version, PROMOTED_AT_TAG, utc_now())
    if replaced is not None:
        mlflow_client.set_model_version_tag(
            name, version.version, PREVIOUS_CHAMPION_TAG, str(replaced.version)
        )


def make_champion(mlflow_client: Any, name: str, version: Any, champion: Any | None) -> None:
    """Move `champion` to ``version``, recording its first promotion (when, and over which
    champion) if it was never champion before."""
    if champion is None or str(champion.version) != str(version.version):
        record_first_promotion(mlflow_client, name, version, champion)
    mlflow_client.set_registered_model_alias(name, CHAMPION, version.version)


def _version_for_run(
    settings: Settings, mlflow_client: Any, name: str, run_info: dict[str, Any]
) -> Any:
    """The registered version of this run's model, registering it on first call."""
    import mlflow

    for existing in mlflow_client.search_model_versions(f"name='{name}'"):
        if existing.run_id == run_info["run_id"]:
            return existing
    mlflow.set_tracking_uri(settings.tracking_uri)
    return mlflow.register_model(run_info["model_uri"], name, tags=run_info["tags"])


def log_evaluation(settings: Settings, mlflow_client: Any, run_id: str) -> None:
    """Attach the holdout metrics, per-group metrics and plots to the training run."""
    params = settings.params.evaluate
    metrics = json.loads(settings.path(params.metrics_path).read_text())
    baseline = metrics.pop("baseline", None)
    for key, value in metrics.items():  # blocks (per class, predictions) stay in the report
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            mlflow_client.log_metric(run_id, f"test_{key}", value)
    for key, value in (baseline or {}).items():  # the constant prediction, beside the model
        if isinstance(value, (int, float)) and math.isfinite(value):
            mlflow_client.log_metric(run_id, f"baseline_{key}", value)
    mlflow_client.log_artifact(run_id, str(settings.path(params.fairness_path)))
    mlflow_client.log_artifacts(run_id, str(settings.path(params.plots_dir)), "plots")
    _log_explanations(settings, mlflow_client, run_id)


def _log_explanations(settings: Settings, mlflow_client: Any, run_id: str) -> None:
    """Attach the slice metrics and the importance ranking, when evaluate wrote them."""
    params = settings.params.evaluate
    for path in (settings.path(params.slices_path), settings.path(params.importance_path)):
        if path.is_file():
            mlflow_client.log_artifact(run_id, str(path))


def _holdout_metrics(settings: Settings, model_uri: str) -> dict[str, float]:
    """A registered model's metrics on today's holdout (the candidate's), not on the one it
    was evaluated on when it was trained."""
    import mlflow.sklearn

    mlflow.set_tracking_uri(settings.tracking_uri)
    frame = load_holdout(settings)
    task = task_for(settings)
    return task.metrics(
        task.labels(frame[settings.contract.target]),
        score(mlflow.sklearn.load_model(model_uri), frame, settings),
    )


def _finite(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def input_columns(model_uri: str) -> list[str]:
    """The input column names in a logged model's signature."""
    from mlflow.models import get_model_info

    signature = get_model_info(model_uri).signature
    return list(signature.inputs.input_names()) if signature is not None else []


def check_same_inputs(settings: Settings, champion: Any, candidate_uri: str) -> None:
    """Refuse (before registering anything) a candidate whose inputs differ from the champion's."""
    name = settings.params.mlflow.registered_model
    old = input_columns(f"models:/{name}/{champion.version}")
    new = input_columns(candidate_uri)
    if old == new:
        return
    missing = [column for column in old if column not in new]
    added = [column for column in new if column not in old]
    difference = "; ".join(
        part
        for part in (
            f"no longer has {missing}" if missing else "",
            f"adds {added}" if added else "",
            "orders them differently" if not (missing or added) else "",
        )
        if part
    )
    suggestion = f"{name}-{settings.contract.name}".lower().replace(" ", "-")
    raise ProjectError(
        f"the candidate's inputs differ from champion version {champion.version} of {name!r} "
        f"({difference}): a new dataset starts a new model lineage; set mlflow.registered_model "
        f"in params.yaml to a new name such as {suggestion!r} and run `make register`"
    )


def uncommitted_reason(run_info: dict[str, Any]) -> str | None:
    """Why a run cannot become champion: it was trained from uncommitted changes."""
    if run_info["tags"].get(f"{TAG_PREFIX}git_dirty") == "true":
        return (
            "trained from uncommitted code, params or data pointers: commit them and run "
            "`make all` again, or `make register ALLOW_UNCOMMITTED=1` to promote it anyway"
        )
    return None


def _baseline_score(settings: Settings, metric: str) -> tuple[str, float] | None:
    """(strategy, score) of the constant prediction evaluate scored, if it did."""
    path = settings.path(settings.params.evaluate.metrics_path)
    baseline = json.loads(path.read_text()).get("baseline") if path.is_file() else None
    if not isinstance(baseline, dict):
        return None
    value = baseline.get(metric)
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return str(baseline.get("strategy", "constant")), float(value)


def _slice_floors(settings: Settings, decision: Decision) -> Decision:
    """Refuse promotion when the candidate misses a promotion.slice_floors on its slice."""
    floors = settings.params.promotion.slice_floors
    if not floors or not decision.promote:
        return decision
    metric = settings.params.evaluate.primary_metric
    path = settings.path(settings.params.evaluate.slices_path)
    found = json.loads(path.read_text()).get("slices", {}) if path.is_file() else {}
    scores = {
        name: score
        for name, value in found.items()
        if isinstance(value, dict) and isinstance(score := value.get(metric), (int, float))
    }
    misses = slice_floor_misses(
        scores, floors, metric=metric, higher_is_better=task_for(settings).higher_is_better[metric]
    )
    return hold_to_slice_floors(decision, misses)


def _gate(
    settings: Settings,
    candidate: Any,
    champion: Any | None,
    candidate_metrics: dict[str, Any],
    run_info: dict[str, Any],
    allow_uncommitted: bool,
) -> Decision:
    """The gate's decision for ``candidate`` against the champion read under the lock."""
    params = settings.params
    name, metric = params.mlflow.registered_model, params.evaluate.primary_metric
    task = task_for(settings)
    higher_is_better = task.higher_is_better[metric]
    candidate_score = float(candidate_metrics[metric])
    tie_breaker = secondary_metric(settings, task)
    # The candidate's from evaluate (metrics.json; None from a release before it was computed).
    secondary = Secondary(
        tie_breaker,
        _finite(candidate_metrics.get(tie_breaker)),
        None,
        task.higher_is_better[tie_breaker],
    )
    champion_score = None
    if champion is not None and champion.version == candidate.version:
        decision = Decision(
            True,
            "the candidate is already champion",
            metric,
            candidate_score,
            candidate_score,
            0.0,
            params.promotion.min_delta,
        )
    else:
        if champion is not None:
            # Both scores of the champion come from scoring it again on the same holdout.
            scored = _holdout_metrics(settings, f"models:/{name}/{champion.version}")
            champion_score = scored[metric]
            secondary = replace(secondary, champion=_finite(scored.get(tie_breaker)))
        baseline = _baseline_score(settings, metric)
        decision = decide(
            candidate_score,
            champion_score,
            metric=metric,
            min_delta=params.promotion.min_delta,
            higher_is_better=higher_is_better,
            baseline=baseline[1] if baseline else None,
            baseline_name=f"baseline ({baseline[0]})" if baseline else "baseline",
            secondary=secondary,
        )
        decision = _slice_floors(settings, decision)
        blocked = uncommitted_reason(run_info)
        if decision.promote and blocked and not allow_uncommitted:
            decision = replace(decision, promote=False, reason=f"{decision.reason}, but {blocked}")
    return decision


def stale_outputs(settings: Settings) -> list[tuple[str, str]]:
    """(path, stage) of the model and metrics files that differ from what dvc.lock records for
    the stage that wrote them: changed outside the pipeline, or left by an interrupted run."""
    import hashlib

    import yaml

    lock = settings.root / "dvc.lock"
    if not lock.is_file():  # no DVC run yet (or a folder without DVC): nothing to compare
        return []
    stages = (yaml.safe_load(lock.read_text(encoding="utf-8")) or {}).get("stages") or {}
    watched = {settings.params.train.model_path, settings.params.evaluate.metrics_path}
    stale = []
    for stage, body in stages.items():
        for out in (body or {}).get("outs") or []:
            path = Path(str(out.get("path", "")))
            if path not in watched or not out.get("md5") or out.get("hash", "md5") != "md5":
                continue
            file = settings.path(path)
            digest = hashlib.md5(usedforsecurity=False)
            if file.is_file():
                with file.open("rb") as handle:
                    while block := handle.read(1 << 20):
                        digest.update(block)
            if not file.is_file() or digest.hexdigest() != out["md5"]:
                stale.append((path.as_posix(), str(stage)))
    return stale


def register(settings: Settings, *, allow_uncommitted: bool = False) -> dict[str, Any]:
    """Register the candidate, compare it with the champion on the holdout, write the report.

    Nothing is registered when the candidate's metric is not a number or its inputs differ
    from the champion's; a model trained from uncommitted changes stays challenger unless
    ``allow_uncommitted``.
    """
    params = settings.params
    name, metric = params.mlflow.registered_model, params.evaluate.primary_metric
    metrics_path = settings.path(params.evaluate.metrics_path)
    if not metrics_path.exists():
        raise ProjectError(f"{metrics_path} does not exist; run `dvc repro` first")
    stale = stale_outputs(settings)
    if stale:
        changed, stage = stale[0]
        raise ProjectError(
            f"{changed} is not what dvc.lock records for stage {stage!r} (changed outside the "
            "pipeline, or left by an interrupted run); nothing registered: run `make repro`"
        )
    candidate_metrics = json.loads(metrics_path.read_text())
    candidate_score = candidate_metrics.get(metric)
    if not isinstance(candidate_score, (int, float)) or not math.isfinite(candidate_score):
        raise ProjectError(
            f"{metrics_path} has no number for {metric} ({candidate_score!r}); "
            "nothing registered: run `dvc repro` and check the evaluation"
        )
    run_info = read_run_info(settings)
    mlflow_client = client(settings)
    # Read the champion, register and move the alias as one step: a concurrent gate waits.
    with gate_lock(mlflow_client, name):
        champion = alias_version(mlflow_client, name, CHAMPION)
        if champion is not None and champion.run_id != run_info["run_id"]:
            check_same_inputs(settings, champion, run_info["model_uri"])
        log_evaluation(settings, mlflow_client, run_info["run_id"])
        candidate = _version_for_run(settings, mlflow_client, name, run_info)
        decision = _gate(
            settings, candidate, champion, candidate_metrics, run_info, allow_uncommitted
        )
        alias = CHAMPION if decision.promote else CHALLENGER
        if decision.promote:
            make_champion(mlflow_client, name, candidate, champion)
        else:
            mlflow_client.set_registered_model_alias(name, CHALLENGER, candidate.version)
        mlflow_client.set_model_version_tag(
            name, candidate.version, GATE_PASSED_TAG, str(decision.promote).lower()
        )
        mlflow_client.set_model_version_tag(
            name, candidate.version, GATE_REASON_TAG, decision.reason
        )
    log.info(
        "model %s version %s is %s: %s",
        name,
        candidate.version,
        alias,
        decision.reason,
        extra={"model": name, "version": str(candidate.version), "alias": alias},
    )
    report = {
        **decision.as_dict(),
        "model": name,
        "candidate_version": int(candidate.version),
        "champion_version": int(champion.version) if champion is not None else None,
        "alias_set": alias,
    }
    path = settings.path(params.promotion.report_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    return report


def champion_lineage(settings: Settings) -> dict[str, str]:
    """Version, run and lineage tags of the current champion."""
    name = settings.params.mlflow.registered_model
    champion = alias_version(client(settings), name, CHAMPION)
    if champion is None:
        raise ProjectError(f"model {name!r} has no champion yet; run `make all` first")
    lineage = {
        k[len(TAG_PREFIX) :]: v for k, v in champion.tags.items() if k.startswith(TAG_PREFIX)
    }
    return {"model": name, "version": str(champion.version), "run_id": champion.run_id, **lineage}
