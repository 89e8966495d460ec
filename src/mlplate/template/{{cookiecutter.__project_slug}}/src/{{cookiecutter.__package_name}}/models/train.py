"""Stage `train`: fit the model, save it, and log the run with lineage to MLflow."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
from sklearn.compose import ColumnTransformer
{%- if cookiecutter.task == 'regression' %}
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
{%- else %}
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
{%- endif %}
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from {{ cookiecutter.__package_name }}.config import Settings
from {{ cookiecutter.__package_name }}.features.build import (
    CATEGORICAL_FEATURES,
    NUMERIC_FEATURES,
    feature_matrix,
)
from {{ cookiecutter.__package_name }}.lineage import lineage_tags
from {{ cookiecutter.__package_name }}.models.metrics import predict_scores, quality_metrics
from {{ cookiecutter.__package_name }}.tracking import start_tracking

# The serving environment of a logged model: pinned to what trained it (inferring costs ~3 s).
RUNTIME_PACKAGES = ("scikit-learn", "pandas", "numpy", "scipy", "skops")


def build_model(settings: Settings) -> Pipeline:
    """Preprocessing and estimator in one scikit-learn pipeline, as params.yaml selects."""
    model = settings.params.model
    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("encode", OneHotEncoder(handle_unknown="ignore")),
        ]
    )
    preprocess = ColumnTransformer(
        [
            ("numeric", numeric, list(NUMERIC_FEATURES)),
            ("categorical", categorical, list(CATEGORICAL_FEATURES)),
        ]
    )
    if model.type == "hist_gradient_boosting":
        estimator: Any = HistGradientBoosting{{ 'Regressor' if cookiecutter.task == 'regression' else 'Classifier' }}(
            random_state=settings.params.seed, **model.hist_gradient_boosting.model_dump()
        )
    else:
{%- if cookiecutter.task == 'regression' %}
        estimator = Ridge(**model.ridge.model_dump())
{%- else %}
        estimator = LogisticRegression(**model.logistic_regression.model_dump())
{%- endif %}
    return Pipeline([("preprocess", preprocess), ("estimator", estimator)])


def pip_requirements() -> list[str]:
    """Exact versions of the packages the model needs at load time."""
    return [f"{name}=={version(name)}" for name in RUNTIME_PACKAGES] + [
        f"mlflow=={version('mlflow')}"
    ]


def trusted_types(model: Pipeline) -> list[str]:
    """The types skops must trust to load this model (we built it, so we trust them)."""
    import skops.io

    return skops.io.get_untrusted_types(data=skops.io.dumps(model))


def train(settings: Settings) -> dict[str, Any]:
    """Run the stage; return the run info written to the run-info file."""
    params = settings.params
    train_path = params.data.features_dir / "train.csv"
    frame = pd.read_csv(settings.path(train_path))
    features, target = feature_matrix(frame), frame[params.data.target].to_numpy()
    model = build_model(settings).fit(features, target)

    model_path = settings.path(params.train.model_path)
    model_path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, model_path)

    tags = lineage_tags(
        settings.root,
        data_paths=[params.data.raw_path, train_path],
        params_hash=settings.params_hash,
    )
    fit_metrics = quality_metrics(target, predict_scores(model, features), params.evaluate)
    mlflow = start_tracking(settings)
    from mlflow.models import infer_signature

    with mlflow.start_run() as run:
        mlflow.set_tags(tags)
        mlflow.log_params(
            {
                "model_type": params.model.type,
                "seed": params.seed,
                "n_train": len(frame),
                **params.model.hyperparameters(),
            }
        )
        mlflow.log_metrics({f"train_{name}": value for name, value in fit_metrics.items()})
        example = features.head(5)
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
    }
    run_info_path: Path = settings.path(params.train.run_info_path)
    run_info_path.parent.mkdir(parents=True, exist_ok=True)
    run_info_path.write_text(json.dumps(run_info, indent=2) + "\n")
    return run_info
