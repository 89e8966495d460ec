"""A registered model ready to score: the champion (or any alias or URI) with its registry facts.

The serving app, batch inference and the monitoring jobs load models through this module, so
they score records the same way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlplate_runtime.config import Settings
from mlplate_runtime.data.contract import Contract
from mlplate_runtime.features.build import add_features, feature_matrix
from mlplate_runtime.lineage import TAG_PREFIX
from mlplate_runtime.models.record_inputs import NotDirect, checked_encoder, probe_records
from mlplate_runtime.models.tasks import Task, task_for

UNSET: Any = object()
log = logging.getLogger(__name__)


@dataclass
class LoadedModel:
    """A model ready to score, with what /metadata reports about it."""

    role: str
    uri: str
    model: Any
    contract: Contract
    task: Task
    version: str | None = None
    run_id: str | None = None
    lineage: dict[str, str] = field(default_factory=dict)
    gate_passed: bool | None = None  # None: loaded by URI, no registry verdict
    gate_reason: str | None = None
    # Records straight to the estimator's input (models.record_inputs), found on first use.
    _encoder: Any = field(default=UNSET, repr=False, compare=False)

    def scores_of(self, frame: pd.DataFrame) -> np.ndarray:
        """The model's scores for a table of raw input rows (see models.tasks), unchecked."""
        inputs = feature_matrix(add_features(frame, self.contract), self.contract)
        return self.task.scores(self.model, inputs)

    def score(self, records: list[dict[str, Any]]) -> np.ndarray:
        """The model's scores for validated API records; a non-finite score is a ValueError."""
        scores = self._direct_scores(records)
        if scores is None:
            scores = self.scores_of(pd.DataFrame.from_records(records))
        if not np.isfinite(scores).all():
            raise ValueError(
                "the model gives a non-finite score (a value far outside the training data?)"
            )
        return scores

    def prepare_direct(self) -> bool:
        """Decide now (not on the first request) whether records can skip pandas; True if so."""
        if self._encoder is UNSET:
            try:
                probes = probe_records(self.contract)
                self._encoder = checked_encoder(self.model, self._inputs, probes)
            except Exception as error:  # a speed-up must never stop a model from serving
                log.warning("scoring records through pandas: %s", str(error)[:200])
                self._encoder = None
        return self._encoder is not None

    def _direct_scores(self, records: list[dict[str, Any]]) -> np.ndarray | None:
        """Scores without pandas where the pipeline allows it (the same numbers), else None."""
        if not self.prepare_direct():
            return None
        try:
            matrix = self._encoder.matrix(records)
        except NotDirect:
            return None
        return self.task.scores(self._encoder.estimator, matrix)

    def _inputs(self, records: list[dict[str, Any]]) -> Any:
        """The estimator's input for ``records`` through pandas and the pipeline's own steps."""
        frame = pd.DataFrame.from_records(records)
        return self.model[:-1].transform(
            feature_matrix(add_features(frame, self.contract), self.contract)
        )

    def metadata(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "uri": self.uri,
            "version": self.version,
            "run_id": self.run_id,
            "lineage": self.lineage,
            "gate_passed": self.gate_passed,
        }


def require_store(tracking_uri: str) -> None:
    """Refuse a local SQLite store that does not exist: MLflow would create an empty one."""
    if tracking_uri.startswith("sqlite:///"):
        path = Path(tracking_uri.removeprefix("sqlite:///"))
        if not path.is_file():
            raise FileNotFoundError(
                f"the MLflow store {path} does not exist yet; run `make all`, or set "
                "MLFLOW_TRACKING_URI (the app keeps retrying)"
            )


def load_model(settings: Settings, *, role: str, uri: str | None) -> LoadedModel:
    """Load ``uri``, or the registered model's alias named ``role`` when no URI is given."""
    import mlflow
    import mlflow.sklearn

    if uri is None or uri.startswith(("models:/", "runs:/")):
        from mlplate_runtime.tracking import require_server

        require_store(settings.tracking_uri)
        require_server(settings.tracking_uri)  # one line in seconds, not MLflow's retries

    mlflow.set_tracking_uri(settings.tracking_uri)
    name = settings.params.mlflow.registered_model
    loaded = LoadedModel(
        role=role,
        uri=uri or f"models:/{name}@{role}",
        model=None,
        contract=settings.contract,
        task=task_for(settings),
    )
    if uri is None:
        from mlflow import MlflowClient

        try:
            version = MlflowClient(settings.tracking_uri).get_model_version_by_alias(name, role)
        except Exception as error:
            if "not found" not in str(error).lower():
                raise
            raise LookupError(
                f"no {role} yet: no version of {name!r} holds the {role} alias"
                + (
                    " (a model must beat the baseline and the champion at the promotion gate; "
                    "reports/promotion.json says why the last one did not)"
                    if role == "champion"
                    else ""
                )
            ) from None
        loaded.version, loaded.run_id = str(version.version), version.run_id
        loaded.lineage = {
            key[len(TAG_PREFIX) :]: value
            for key, value in version.tags.items()
            if key.startswith(TAG_PREFIX)
        }
        if "gate.passed" in version.tags:
            loaded.gate_passed = version.tags["gate.passed"] == "true"
            loaded.gate_reason = version.tags.get("gate.reason")
    loaded.model = mlflow.sklearn.load_model(loaded.uri)
    return loaded
