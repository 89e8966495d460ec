"""Typed settings: params.yaml plus the few values that come from the environment.

This is the only module that reads params.yaml or environment variables.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from mlplate_runtime.data.contract import (
    Contract,
    first_error,
    load_contract,
)
from mlplate_runtime.data.slices import (
    SliceError,
    check_condition,
    check_slice_name,
    parse_condition,
)
from mlplate_runtime.errors import ProjectError
from mlplate_runtime.yaml_limits import load_yaml

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"  # params.yaml's mlflow.tracking_uri when absent
Split = Literal["train", "test"]


class Section(BaseModel):
    """A strict, read-only block of params.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)


RAW_DIR = Path("data/raw")  # the folder DVC tracks (data/raw.dvc) and dvc.yaml depends on
# evaluate.slices: name -> condition (data/slices.py's grammar), both checked when params load.
SliceName = Annotated[str, AfterValidator(check_slice_name)]
SliceCondition = Annotated[str, AfterValidator(lambda text: parse_condition(text).text)]


# Every setting has its default here, the value params.yaml is generated with, except the
# team's choices (the dataset, the metric and its thresholds, names, the tuning space): a
# release that adds a setting adds a line to params.yaml only when a team must choose it.
class DataParams(Section):
    raw_path: Path
    contract_path: Path = Path("data/contract.yaml")
    example_rows: int = Field(default=5000, gt=0)
    test_size: float = Field(default=0.2, gt=0, lt=1)
    # random: a stratified sample is held out; time: the latest rows (by time_column, or the
    # contract's one datetime feature), as a model of the past is used on the future
    split: Literal["random", "time"] = "random"
    time_column: str | None = None
    validation_report: Path = Path("reports/validation.json")
    prepared_dir: Path = Path("data/prepared")
    features_dir: Path = Path("data/features")

    @field_validator("raw_path")
    @classmethod
    def _inside_raw_dir(cls, path: Path) -> Path:
        if path.parent != RAW_DIR:
            raise ValueError(f"must be a file directly in {RAW_DIR}/ (the folder DVC tracks)")
        return path

    def prepared_split(self, split: Split) -> Path:
        """data/prepared/train.csv or test.csv (`prepare` writes them)."""
        return self.prepared_dir / f"{split}.csv"

    def features_split(self, split: Split) -> Path:
        """data/features/train.csv or test.csv (`featurize` writes them)."""
        return self.features_dir / f"{split}.csv"


class ModelParams(BaseModel):
    """params.yaml's `model:` section, read by the project's model.py (free-form).

    ``type`` names the estimator the default model.py builds; a team's model.py may read any
    keys it adds here. A section named by ``type`` holds that estimator's hyperparameters.
    """

    model_config = ConfigDict(extra="allow", frozen=True)
    type: str = "custom"
    # Classification: weigh each class by the inverse of its frequency (the runtime sets it on
    # whatever estimator model.py builds: models/weights.py). Absent: every row counts the same.
    class_weight: Literal["balanced"] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The section as params.yaml has it (what build_estimator receives)."""
        # class_weight only when params.yaml has it: model.py gets exactly the section's keys
        return self.model_dump(exclude={"class_weight"} if self.class_weight is None else None)

    def hyperparameters(self) -> dict[str, Any]:
        """The scalar settings of the selected estimator (logged with every run)."""
        section = self.as_dict()
        chosen = section.get(self.type)
        values = chosen if isinstance(chosen, dict) else section
        return {
            key: value
            for key, value in values.items()
            if key not in ("type", "class_weight") and isinstance(value, (int, float, str, bool))
        }


class TrainParams(Section):
    model_path: Path = Path("models/model.skops")
    run_info_path: Path = Path("reports/train_run.json")


class EvaluateParams(Section):
    metrics_path: Path = Path("reports/metrics.json")
    fairness_path: Path = Path("reports/fairness.json")
    plots_dir: Path = Path("reports/plots")
    primary_metric: str  # checked against the task's metrics (models/tasks.py)
    # Decides a tie on primary_metric (both at 1.0, say); None: the task's default (log_loss
    # for classification, rmse for regression: models/tasks.py secondary_metric).
    secondary_metric: str | None = None
    threshold: float = Field(default=0.5, gt=0, lt=1)  # binary classification only
    importance_path: Path = Path("reports/importance.json")
    slices_path: Path = Path("reports/slices.json")
    slices: dict[SliceName, SliceCondition] = Field(default_factory=dict)


class PromotionParams(Section):
    min_delta: float = Field(ge=0)  # in the primary metric's units: the team's choice
    max_regression: float = Field(ge=0)
    report_path: Path = Path("reports/promotion.json")
    # The worst primary-metric value a slice may have (a minimum, or a maximum for rmse/mae).
    slice_floors: dict[SliceName, Annotated[float, Field(allow_inf_nan=False)]] = Field(
        default_factory=dict
    )


class MonitoringParams(Section):
    current_path: Path = Path("data/monitoring/current.csv")
    prediction_log: Path = Path("logs/predictions.jsonl")
    feedback_path: Path = Path("data/monitoring/feedback.csv")
    report_dir: Path = Path("reports/monitoring")
    p_value: float = Field(default=0.01, gt=0, lt=1)
    drift_share_threshold: float = Field(default=0.3, ge=0, le=1)
    min_samples: int = Field(default=100, ge=1)


class FeatureStoreParams(Section):
    repo_path: Path
    dir: Path
    as_of: datetime
    ttl_days: int = Field(gt=0)

    @field_validator("as_of")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2025-01-01T00:00:00+00:00")
        return value

    @property
    def table_path(self) -> Path:
        """The feature table (Parquet) the feature view reads."""
        return self.dir / "features.parquet"


class SearchRange(Section):
    """One dimension of the tuning search: a range (``low``, ``high``, ``log``) or ``choices``."""

    low: int | float | None = None
    high: int | float | None = None
    log: bool = False
    choices: tuple[str | int | float | bool, ...] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _range_or_choices(self) -> SearchRange:
        ranged = self.low is not None and self.high is not None
        if self.choices is not None:
            if self.low is not None or self.high is not None or self.log:
                raise ValueError("give either choices or low/high, not both")
        elif not ranged:
            raise ValueError("give low and high (a range) or choices")
        elif self.low >= self.high:  # type: ignore[operator]
            raise ValueError(f"low {self.low} must be below high {self.high}")
        elif self.log and self.low <= 0:  # type: ignore[operator]
            raise ValueError("a log range needs low > 0")
        return self


class TuneParams(Section):
    n_trials: int = Field(default=20, gt=0)
    timeout_seconds: float = Field(default=900, gt=0)
    cv_folds: int = Field(default=3, ge=2, le=20)
    n_jobs: int = Field(default=1, ge=-1, le=64)  # -1: one trial per core
    storage: str = "sqlite:///optuna.db"
    report_path: Path = Path("reports/tuning.json")
    space: dict[str, SearchRange] = Field(min_length=1)

    @field_validator("space")
    @classmethod
    def _model_keys(cls, space: dict[str, SearchRange]) -> dict[str, SearchRange]:
        outside = [key for key in space if not key.startswith("model.")]
        if outside:
            raise ValueError(f"tune only model parameters (keys under model.), not {outside}")
        return space

    @field_validator("n_jobs")
    @classmethod
    def _not_zero(cls, n_jobs: int) -> int:
        if n_jobs == 0:
            raise ValueError("give the number of trials at once (1, 2, ...) or -1 for one per core")
        return n_jobs


class MlflowParams(Section):
    experiment: str
    registered_model: str
    tracking_uri: str = DEFAULT_TRACKING_URI  # MLFLOW_TRACKING_URI overrides it


class Params(Section):
    """params.yaml. Sections the runtime does not know are the team's (its own stages)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    seed: int = 42
    data: DataParams
    model: ModelParams
    train: TrainParams = Field(default_factory=TrainParams)
    evaluate: EvaluateParams
    promotion: PromotionParams
    monitoring: MonitoringParams = Field(default_factory=MonitoringParams)
    mlflow: MlflowParams
    feature_store: FeatureStoreParams | None = None  # the feature_store answer `feast` adds it
    tune: TuneParams | None = None  # `make tune` needs it


class Settings(Section):
    """Everything a stage needs: the parameters and where MLflow lives."""

    params: Params
    contract: Contract
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

    def prepared(self, split: Split) -> Path:
        """A split of the prepared data, in the project."""
        return self.path(self.params.data.prepared_split(split))

    def features(self, split: Split) -> Path:
        """A split with the engineered features, in the project."""
        return self.path(self.params.data.features_split(split))


class ServingSettings(Section):
    """Runtime options of the serving app (environment variables, not parameters)."""

    model_uri: str | None = None
    challenger_uri: str | None = None
    canary_fraction: float = Field(default=0.0, ge=0, le=1)
    canary_allow_failed: bool = False  # send canary traffic to a challenger that failed the gate
    shadow: bool = False
    max_batch_size: int = Field(default=1000, gt=0)
    max_request_bytes: int = Field(default=2_000_000, gt=0)
    load_retry_seconds: float = Field(default=1.0, gt=0)  # first wait; doubles up to 60 s
    # How often the app asks the registry where its aliases point, and loads a model whose
    # alias moved (a promotion or a rollback); 0: never, the models load once.
    reload_seconds: float = Field(default=60.0, ge=0)
    prediction_log: Path | None = None


# The serving options given as numbers, by the environment variable that sets each.
NUMBER_VARIABLES = {
    "canary_fraction": "CANARY_FRACTION",
    "max_batch_size": "MAX_BATCH_SIZE",
    "max_request_bytes": "MAX_REQUEST_BYTES",
    "reload_seconds": "MODEL_RELOAD_SECONDS",
}


def serving_numbers() -> dict[str, str]:
    """The serving options the environment gives as numbers, checked: one that is no valid
    number (or out of range) is one line naming its variable."""
    numbers = {
        field: os.environ[name] for field, name in NUMBER_VARIABLES.items() if os.environ.get(name)
    }
    try:
        ServingSettings.model_validate(numbers)
    except ValidationError as error:
        found = error.errors(include_url=False)[0]
        name = NUMBER_VARIABLES.get(str(found["loc"][0]), str(found["loc"][0]))
        raise ProjectError(f"{name}={found['input']!r}: {found['msg']}") from None
    return numbers


def load_serving_settings(settings: Settings) -> ServingSettings:
    """Read MODEL_URI, CHALLENGER_MODEL_URI, CANARY_FRACTION, CANARY_ALLOW_FAILED, SHADOW,
    MAX_BATCH_SIZE, MAX_REQUEST_BYTES, MODEL_RELOAD_SECONDS, PREDICTION_LOG (a path, or `off`)."""
    env = os.environ
    log = env.get("PREDICTION_LOG", "")
    return ServingSettings.model_validate(
        {
            "model_uri": env.get("MODEL_URI") or None,
            "challenger_uri": env.get("CHALLENGER_MODEL_URI") or None,
            "canary_allow_failed": env.get("CANARY_ALLOW_FAILED", "").strip().lower()
            in {"1", "true", "yes"},
            "shadow": env.get("SHADOW", "").strip().lower() in {"1", "true", "yes"},
            "prediction_log": None
            if log.strip().lower() == "off"
            else Path(log)
            if log
            else settings.path(settings.params.monitoring.prediction_log),
            **serving_numbers(),
        }
    )


def load_settings(params_path: Path | str = "params.yaml") -> Settings:
    """Build Settings from params.yaml and the environment (MLFLOW_TRACKING_URI)."""
    params_path = Path(params_path)
    try:
        raw = load_yaml(params_path.read_text(encoding="utf-8"), str(params_path))
    except yaml.YAMLError as error:
        raise ProjectError(
            f"{params_path} is not valid YAML: {str(error).splitlines()[0]}"
        ) from None
    try:
        params = Params.model_validate(raw)
    except ValidationError as error:
        raise ProjectError(f"{params_path}: {first_error(error, Params)}") from None
    root = params_path.parent
    contract = load_contract(root / params.data.contract_path)
    check_slices(params, contract, source=str(params_path))
    return Settings(
        params=params,
        contract=contract,
        tracking_uri=os.environ.get("MLFLOW_TRACKING_URI") or params.mlflow.tracking_uri,
        root=root,
    )


def check_slices(params: Params, contract: Contract, *, source: str) -> None:
    """Check evaluate.slices against the contract's columns, and that every
    promotion.slice_floors key names a slice; one line naming the key otherwise."""
    slices = params.evaluate.slices
    for name, text in slices.items():
        try:
            check_condition(parse_condition(text), contract)
        except SliceError as error:
            raise ProjectError(f"{source}: evaluate.slices.{name}: {error}") from None
    for name in params.promotion.slice_floors:
        if name not in slices:
            raise ProjectError(
                f"{source}: promotion.slice_floors.{name}: no slice {name!r} in evaluate.slices "
                f"(it has {sorted(slices) or 'none'})"
            )
