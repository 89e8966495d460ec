"""Feature engineering (pure functions) and the `featurize` stage."""

from __future__ import annotations

import numpy as np
import pandas as pd

from {{ cookiecutter.__package_name }}.config import Settings

# The columns a caller provides (the API's request fields); features are derived from them.
RAW_INPUTS = (
    "age",
    "tenure_months",
    "contract",
    "payment_method",
    "monthly_charges",
    "total_charges",
    "support_calls",
)
NUMERIC_FEATURES = (
    "age",
    "tenure_months",
    "monthly_charges",
    "total_charges",
    "support_calls",
    "charges_per_month_of_tenure",
    "is_new_customer",
)
CATEGORICAL_FEATURES = ("contract", "payment_method")
FEATURES = NUMERIC_FEATURES + CATEGORICAL_FEATURES


def add_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``frame`` with the engineered columns added."""
    out = frame.copy()
    months = np.maximum(out["tenure_months"].astype(float), 1.0)
    out["charges_per_month_of_tenure"] = (out["total_charges"] / months).round(4)
    out["is_new_customer"] = (out["tenure_months"] < 6).astype("int64")
    return out


def feature_matrix(frame: pd.DataFrame) -> pd.DataFrame:
    """Select the model's input columns, in order; numbers as floats so gaps are allowed."""
    matrix = frame[list(FEATURES)].copy()
    matrix[list(NUMERIC_FEATURES)] = matrix[list(NUMERIC_FEATURES)].astype("float64")
    return matrix


def featurize(settings: Settings) -> None:
    """Run the stage: add features to the prepared train and test splits."""
    data = settings.params.data
    source, out = settings.path(data.prepared_dir), settings.path(data.features_dir)
    out.mkdir(parents=True, exist_ok=True)
    for split in ("train", "test"):
        frame = pd.read_csv(source / f"{split}.csv")
        add_features(frame).to_csv(out / f"{split}.csv", index=False)
