"""Typed settings: params.yaml plus the few values that come from the environment.

This is the only module that reads params.yaml or environment variables.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

{% if cookiecutter.mlflow_tracking == 'server' -%}
# The team's MLflow server (`make mlflow-server` starts one here); MLFLOW_TRACKING_URI overrides it.
DEFAULT_TRACKING_URI = "{{ cookiecutter.mlflow_tracking_uri }}"
{% else -%}
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
{% endif %}

class Section(BaseModel):
    """A strict, read-only block of params.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DataParams(Section):
    raw_path: Path
    n_rows: int = Field(gt=0)
    test_size: float = Field(gt=0, lt=1)
    target: str
    sensitive_feature: str
    prepared_dir: Path
    features_dir: Path


class HistGradientBoostingParams(Section):
    learning_rate: float = Field(gt=0)
    max_iter: int = Field(gt=0)
    max_leaf_nodes: int = Field(gt=1)
    l2_regularization: float = Field(ge=0)


{% if cookiecutter.task == 'classification' -%}
class LogisticRegressionParams(Section):
    C: float = Field(gt=0)
    max_iter: int = Field(gt=0)


{% endif -%}
{% if cookiecutter.task == 'regression' -%}
class RidgeParams(Section):
    alpha: float = Field(ge=0)


class ModelParams(Section):
    type: Literal["hist_gradient_boosting", "ridge"]
    hist_gradient_boosting: HistGradientBoostingParams
    ridge: RidgeParams
{%- else -%}
class ModelParams(Section):
    type: Literal["hist_gradient_boosting", "logistic_regression"]
    hist_gradient_boosting: HistGradientBoostingParams
    logistic_regression: LogisticRegressionParams
{%- endif %}

    def hyperparameters(self) -> dict[str, float | int]:
        """Return the hyperparameters of the selected model type."""
        return getattr(self, self.type).model_dump()


class TrainParams(Section):
    model_path: Path
    run_info_path: Path


class EvaluateParams(Section):
    metrics_path: Path
    fairness_path: Path
    plots_dir: Path
{%- if cookiecutter.task == 'regression' %}
    primary_metric: Literal["rmse", "mae", "r2"]
{%- else %}
    primary_metric: Literal["roc_auc", "f1", "accuracy", "precision", "recall"]
    threshold: float = Field(gt=0, lt=1)
{%- endif %}


class PromotionParams(Section):
    min_delta: float = Field(ge=0)
    max_regression: float = Field(ge=0)
    report_path: Path


class MonitoringParams(Section):
    current_path: Path
    prediction_log: Path
    feedback_path: Path
    report_dir: Path
    p_value: float = Field(gt=0, lt=1)
    drift_share_threshold: float = Field(ge=0, le=1)


class MlflowParams(Section):
    experiment: str
    registered_model: str


class Params(Section):
    seed: int
    data: DataParams
    model: ModelParams
    train: TrainParams
    evaluate: EvaluateParams
    promotion: PromotionParams
    monitoring: MonitoringParams
    mlflow: MlflowParams


class Settings(Section):
    """Everything a stage needs: the parameters and where MLflow lives."""

    params: Params
    tracking_uri: str = DEFAULT_TRACKING_URI
    root: Path = Path(".")

    @property
    def params_hash(self) -> str:
        """A short, stable hash of the parameters (tagged on every run for lineage)."""
        canonical = json.dumps(self.params.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def path(self, relative: Path) -> Path:
        """Resolve a path from params.yaml against the project root."""
        return self.root / relative


class ServingSettings(Section):
    """Runtime options of the serving app (environment variables, not parameters)."""

    model_uri: str | None = None
    challenger_uri: str | None = None
    canary_fraction: float = Field(default=0.0, ge=0, le=1)
    shadow: bool = False
    max_batch_size: int = Field(default=1000, gt=0)
    prediction_log: Path | None = None


def load_serving_settings(settings: Settings) -> ServingSettings:
    """Read MODEL_URI, CHALLENGER_MODEL_URI, CANARY_FRACTION, SHADOW, MAX_BATCH_SIZE, PREDICTION_LOG."""
    env = os.environ
    log = env.get("PREDICTION_LOG")
    return ServingSettings(
        model_uri=env.get("MODEL_URI") or None,
        challenger_uri=env.get("CHALLENGER_MODEL_URI") or None,
        canary_fraction=float(env.get("CANARY_FRACTION") or 0),
        shadow=env.get("SHADOW", "").strip().lower() in {"1", "true", "yes"},
        max_batch_size=int(env.get("MAX_BATCH_SIZE") or 1000),
        prediction_log=Path(log)
        if log
        else settings.path(settings.params.monitoring.prediction_log),
    )


def load_settings(params_path: Path | str = "params.yaml") -> Settings:
    """Build Settings from params.yaml and the environment (MLFLOW_TRACKING_URI)."""
    params_path = Path(params_path)
    raw = yaml.safe_load(params_path.read_text(encoding="utf-8"))
    return Settings(
        params=Params.model_validate(raw),
        tracking_uri=os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI,
        root=params_path.parent,
    )
