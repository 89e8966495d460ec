"""Stage `train`: fit the model, save it, and log the run with lineage to MLflow."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlplate_runtime.config import Settings
from mlplate_runtime.errors import ProjectError
from mlplate_runtime.features.build import (
    DateParts,
    ProjectInputs,
    derived_features,
    feature_matrix,
    model_columns,
    read_features,
)
from mlplate_runtime.lineage import lineage_tags
from mlplate_runtime.models.estimators import build_estimator
from mlplate_runtime.models.store import save_model, trusted_types
from mlplate_runtime.models.tasks import task_for
from mlplate_runtime.models.weights import ESTIMATOR_STEP, fit_options, weigh_classes
from mlplate_runtime.tracking import start_tracking

# The serving environment of a logged model: pinned to what trained it (inferring costs ~3 s).
RUNTIME_PACKAGES = ("scikit-learn", "pandas", "numpy", "scipy", "skops")


def build_model(settings: Settings) -> Pipeline:
    """The project's derived features, preprocessing and estimator in one scikit-learn pipeline.

    It takes the contract's feature columns, typed (``feature_matrix``): what serving, batch
    scoring and monitoring hold.
    """
    derived = derived_features()
    numeric_columns, categorical_columns = model_columns(settings.contract, derived)
    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("encode", OneHotEncoder(handle_unknown="ignore")),
        ]
    )
    preprocess = ColumnTransformer(
        [
            ("numeric", numeric, list(numeric_columns)),
            ("categorical", categorical, list(categorical_columns)),
        ]
    )
    estimator = build_estimator(
        settings.params.model.as_dict(),
        task=settings.contract.task,
        seed=settings.params.seed,
    )
    estimator = weigh_classes(
        estimator, class_weight=settings.params.model.class_weight, task=settings.contract.task
    )
    steps: list[tuple[str, Any]] = [("inputs", ProjectInputs(derived))]
    if settings.contract.datetime_features:  # the model takes dates apart itself
        steps.append(("dates", DateParts(settings.contract.datetime_features)))
    return Pipeline([*steps, ("preprocess", preprocess), (ESTIMATOR_STEP, estimator)])


def fit_model(settings: Settings, features: pd.DataFrame, target: np.ndarray) -> Pipeline:
    """A new ``build_model`` pipeline fitted on ``features`` (class-weighted when params.yaml
    asks: the weights of an estimator without ``class_weight`` go through ``fit``)."""
    model = build_model(settings)
    options = fit_options(
        model.named_steps[ESTIMATOR_STEP], target, class_weight=settings.params.model.class_weight
    )
    return model.fit(features, target, **options)


def pip_requirements() -> list[str]:
    """Exact versions of the packages the model needs at load time."""
    return [f"{name}=={version(name)}" for name in RUNTIME_PACKAGES] + [
        f"mlflow=={version('mlflow')}"
    ]


def train(settings: Settings) -> dict[str, Any]:
    """Run the stage; return the run info written to the run-info file."""
    params = settings.params
    train_path = params.data.features_split("train")
    frame = read_features(settings, "train")
    task = task_for(settings)
    features = feature_matrix(frame, settings.contract)
    target = task.labels(frame[settings.contract.target])  # class positions, or values
    try:
        model = fit_model(settings, features, target)
    except ValueError as error:  # e.g. a single class left in the training split
        raise ProjectError(
            f"training failed on {train_path}: {str(error).splitlines()[0]}"
        ) from None

    save_model(model, settings.path(params.train.model_path))

    tags = lineage_tags(
        settings.root,
        data_paths=[params.data.raw_path, train_path],
        params_hash=settings.params_hash,
    )
    fit_metrics = task.metrics(target, task.scores(model, features))
    mlflow = start_tracking(settings)
    from mlflow.models import infer_signature

    with mlflow.start_run() as run:
        mlflow.set_tags(tags)
        mlflow.log_params(
            {
                "model_type": params.model.type,
                "seed": params.seed,
                "n_train": len(frame),
                "dataset": settings.contract.name,
                "task": settings.contract.task,
                "class_weight": params.model.class_weight or "none",
                **params.model.hyperparameters(),
            }
        )
        mlflow.log_metrics({f"train_{name}": value for name, value in fit_metrics.items()})
        example = features.head(5).copy()
        for name in settings.contract.datetime_features:  # as clients send them: ISO 8601 text
            example[name] = example[name].map(
                lambda time: None if pd.isna(time) else time.isoformat()
            )
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(example, model.predict(example)),
            input_example=example,
            pip_requirements=pip_requirements(),
            skops_trusted_types=trusted_types(model),
        )
    run_info = {
        "run_id": run.info.run_id,
        "experiment_id": run.info.experiment_id,
        "model_uri": info.model_uri,
        "tags": tags,
        "baseline": task.baseline(target),  # evaluate scores it on the holdout beside the model
    }
    run_info_path: Path = settings.path(params.train.run_info_path)
    run_info_path.parent.mkdir(parents=True, exist_ok=True)
    run_info_path.write_text(json.dumps(run_info, indent=2) + "\n")
    return run_info
