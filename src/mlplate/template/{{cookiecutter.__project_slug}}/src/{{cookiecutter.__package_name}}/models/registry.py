"""Register the trained model and move the `champion` alias only through the gate."""

from __future__ import annotations

import json
from typing import Any

from {{ cookiecutter.__package_name }}.config import Settings
from {{ cookiecutter.__package_name }}.errors import ProjectError
from {{ cookiecutter.__package_name }}.lineage import TAG_PREFIX
from {{ cookiecutter.__package_name }}.models.evaluate import load_holdout, score
from {{ cookiecutter.__package_name }}.models.metrics import (
    HIGHER_IS_BETTER,
    quality_metrics,
)
from {{ cookiecutter.__package_name }}.models.promotion import Decision, decide
from {{ cookiecutter.__package_name }}.tracking import client, read_run_info

CHAMPION = "champion"
CHALLENGER = "challenger"


def _alias_version(mlflow_client: Any, name: str, alias: str) -> Any | None:
    from mlflow.exceptions import MlflowException

    try:
        return mlflow_client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


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
    for key, value in metrics.items():
        mlflow_client.log_metric(run_id, f"test_{key}", value)
    mlflow_client.log_artifact(run_id, str(settings.path(params.fairness_path)))
    mlflow_client.log_artifacts(run_id, str(settings.path(params.plots_dir)), "plots")


def _holdout_score(settings: Settings, model_uri: str) -> float:
    import mlflow.sklearn

    mlflow.set_tracking_uri(settings.tracking_uri)
    params = settings.params
    frame = load_holdout(settings)
    metrics = quality_metrics(
        frame[params.data.target].to_numpy(),
        score(mlflow.sklearn.load_model(model_uri), frame),
        params.evaluate,
    )
    return metrics[params.evaluate.primary_metric]


def register(settings: Settings) -> dict[str, Any]:
    """Register the candidate, compare it with the champion on the holdout, write the report."""
    params = settings.params
    name, metric = params.mlflow.registered_model, params.evaluate.primary_metric
    metrics_path = settings.path(params.evaluate.metrics_path)
    if not metrics_path.exists():
        raise ProjectError(f"{metrics_path} does not exist; run `dvc repro` first")
    candidate_score = json.loads(metrics_path.read_text())[metric]

    run_info = read_run_info(settings)
    mlflow_client = client(settings)
    log_evaluation(settings, mlflow_client, run_info["run_id"])
    candidate = _version_for_run(settings, mlflow_client, name, run_info)
    champion = _alias_version(mlflow_client, name, CHAMPION)
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
            champion_score = _holdout_score(settings, f"models:/{name}/{champion.version}")
        decision = decide(
            candidate_score,
            champion_score,
            metric=metric,
            min_delta=params.promotion.min_delta,
            higher_is_better=HIGHER_IS_BETTER[metric],
        )
    alias = CHAMPION if decision.promote else CHALLENGER
    mlflow_client.set_registered_model_alias(name, alias, candidate.version)
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
    champion = _alias_version(client(settings), name, CHAMPION)
    if champion is None:
        raise ProjectError(f"model {name!r} has no champion yet; run `make all` first")
    lineage = {
        k[len(TAG_PREFIX) :]: v for k, v in champion.tags.items() if k.startswith(TAG_PREFIX)
    }
    return {"model": name, "version": str(champion.version), "run_id": champion.run_id, **lineage}
