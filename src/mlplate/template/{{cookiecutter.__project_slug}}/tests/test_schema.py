"""Data validation: the schema rejects bad data with the column and rows named."""

from __future__ import annotations

import pandas as pd
import pytest

from {{ cookiecutter.__package_name }}.data.example import make_customers
from {{ cookiecutter.__package_name }}.data.schema import validate
from {{ cookiecutter.__package_name }}.errors import DataValidationError


@pytest.fixture
def customers() -> pd.DataFrame:
    return make_customers(200, seed=7)


def test_example_data_is_valid_and_deterministic(customers):
    assert validate(customers).shape == customers.shape
    pd.testing.assert_frame_equal(customers, make_customers(200, seed=7))
    assert customers["total_charges"].isna().any()  # realistic: some values are missing
{%- if cookiecutter.task == 'regression' %}
    assert (customers["next_year_spend"] >= 0).all()
    assert customers["next_year_spend"].std() > 50  # a target worth predicting
{%- else %}
    assert set(customers["churned"]) == {0, 1}
{%- endif %}


def test_rejects_a_missing_column(customers):
    with pytest.raises(DataValidationError, match="missing column 'tenure_months'"):
        validate(customers.drop(columns="tenure_months"))


def test_rejects_text_in_a_numeric_column_naming_the_rows(customers):
    broken = customers.astype({"monthly_charges": object})
    broken.loc[[3, 9], "monthly_charges"] = "n/a"
    with pytest.raises(DataValidationError, match=r"'monthly_charges'.*found text in rows 3, 9"):
        validate(broken)


def test_rejects_out_of_range_values(customers):
    broken = customers.copy()
    broken.loc[5, "age"] = 140
    with pytest.raises(DataValidationError, match=r"'age': values above 100 in rows 5"):
        validate(broken)


def test_rejects_unknown_categories(customers):
    broken = customers.copy()
    broken.loc[0, "contract"] = "weekly"
    with pytest.raises(DataValidationError, match=r"'contract': unknown categories \['weekly'\]"):
        validate(broken)


def test_rejects_missing_values_in_a_required_column(customers):
    broken = customers.astype({"age": float})
    broken.loc[[1, 2], "age"] = None
    with pytest.raises(DataValidationError, match=r"'age': missing values in rows 1, 2"):
        validate(broken)


def test_rejects_an_empty_dataset(customers):
    with pytest.raises(DataValidationError, match="dataset has no rows"):
        validate(customers.iloc[0:0])
