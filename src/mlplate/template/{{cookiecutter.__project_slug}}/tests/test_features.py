"""Feature engineering is row-wise and leaves the input untouched."""

from __future__ import annotations

import pandas as pd

from {{ cookiecutter.__package_name }}.features.build import (
    FEATURES,
    add_features,
    feature_matrix,
)


def test_add_features_computes_engineered_columns_without_mutating_input():
    frame = pd.DataFrame(
        {
            "tenure_months": [0, 12],
            "total_charges": [50.0, 1200.0],
            "monthly_charges": [50.0, 100.0],
        }
    )
    out = add_features(frame)
    assert out["charges_per_month_of_tenure"].tolist() == [50.0, 100.0]
    assert out["is_new_customer"].tolist() == [1, 0]
    assert "is_new_customer" not in frame.columns


def test_missing_total_charges_stay_missing_for_the_imputer():
    frame = pd.DataFrame({"tenure_months": [3], "total_charges": [float("nan")]})
    assert add_features(frame)["charges_per_month_of_tenure"].isna().all()


def test_feature_matrix_excludes_target_identifier_and_sensitive_column():
    assert {"{{ 'next_year_spend' if cookiecutter.task == 'regression' else 'churned' }}", "customer_id", "gender"}.isdisjoint(FEATURES)
    frame = pd.DataFrame({name: [1] for name in (*FEATURES, "{{ 'next_year_spend' if cookiecutter.task == 'regression' else 'churned' }}", "gender")})
    assert list(feature_matrix(frame).columns) == list(FEATURES)
