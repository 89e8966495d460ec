"""Champion vs challenger on logged traffic that has labels (canary or shadow)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from mlplate_runtime.config import Settings
from mlplate_runtime.errors import ProjectError
from mlplate_runtime.models.tasks import task_for


def logged_predictions(settings: Settings) -> pd.DataFrame:
    """Every logged prediction (shadow ones included): record id, model, version, score."""
    log = settings.path(settings.params.monitoring.prediction_log)
    if not log.exists():
        raise ProjectError(f"{log} does not exist; serve the model (make serve) to collect traffic")
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return pd.DataFrame(
        [
            {key: row.get(key) for key in ("record_id", "model", "model_version", "scores")}
            for row in rows
        ]
    )


def compare_models(settings: Settings) -> dict[str, Any]:
    """Metrics per model on the logged records that appear in the feedback file."""
    feedback_path = settings.path(settings.params.monitoring.feedback_path)
    if not feedback_path.exists():
        raise ProjectError(
            f"{feedback_path} does not exist; write record_id,label rows for served predictions"
        )
    feedback = pd.read_csv(feedback_path)
    if not {"record_id", "label"} <= set(feedback.columns):
        raise ProjectError(f"{feedback_path} needs the columns record_id and label")
    joined = logged_predictions(settings).merge(feedback, on="record_id")
    if joined.empty:
        raise ProjectError("no logged prediction has a label in the feedback file yet")
    task = task_for(settings)
    models = {}
    for (role, version), rows in joined.groupby(["model", "model_version"], dropna=False):
        scores = np.array(rows["scores"].tolist(), dtype=float)
        models[str(role)] = {
            "version": None if pd.isna(version) else str(version),
            "n_labeled": len(rows),
            **task.metrics(
                task.labels(rows["label"]), scores if scores.shape[1] > 1 else scores[:, 0]
            ),
        }
    result = {"primary_metric": settings.params.evaluate.primary_metric, "models": models}
    out = settings.path(settings.params.monitoring.report_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "compare_models.json").write_text(json.dumps(result, indent=2) + "\n")
    return result
