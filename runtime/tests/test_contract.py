"""The data contract: loading it, and validation naming the column and the file's lines."""

from __future__ import annotations

import pandas as pd
import pytest

from mlplate_runtime.data.contract import Contract, load_contract, validate
from mlplate_runtime.data.example import make_customers
from mlplate_runtime.data.synthetic import synthetic_frame
from mlplate_runtime.errors import DataValidationError, ProjectError

CONTRACT = Contract.model_validate(
    {
        "name": "shop",
        "task": "classification",
        "target": "Bought?",
        "columns": {
            "id": {"type": "integer", "role": "id", "min": 1},
            "Unit Price": {"type": "numeric", "min": 0, "max": 100},
            "visits": {"type": "integer", "min": 0, "nullable": True},
            "member": {"type": "boolean"},
            "channel": {"type": "categorical", "categories": ["web", "store"]},
            "region": {"type": "categorical", "role": "sensitive", "categories": ["n", "s"]},
            "Bought?": {"type": "categorical", "role": "target", "categories": [0, 1]},
        },
    }
)


@pytest.fixture
def rows() -> pd.DataFrame:
    return synthetic_frame(CONTRACT, 50, seed=3)


def test_synthetic_rows_satisfy_the_contract_and_the_project_contract(
    rows, project_settings, sample
):
    assert validate(rows, CONTRACT).shape == rows.shape
    typed = validate(sample, project_settings.contract)
    assert list(typed.columns) == list(project_settings.contract.kept)


def test_roles_split_features_from_target_id_and_sensitive_columns():
    assert CONTRACT.features == ("Unit Price", "visits", "member", "channel")
    assert CONTRACT.numeric_features == ("Unit Price", "visits", "member")
    assert CONTRACT.categorical_features == ("channel",)
    assert CONTRACT.sensitive == ("region",)


def test_rejects_a_missing_column(rows):
    with pytest.raises(DataValidationError, match="missing column 'channel'"):
        validate(rows.drop(columns="channel"), CONTRACT)


def test_text_in_a_numeric_column_names_the_lines_as_a_spreadsheet_shows_them(rows):
    broken = rows.astype({"Unit Price": object})
    broken.loc[[0, 7], "Unit Price"] = "n/a"
    with pytest.raises(DataValidationError, match=r"'Unit Price'.*found text at lines 2, 9"):
        validate(broken, CONTRACT)


def test_rejects_infinite_values(rows):
    broken = rows.copy()
    broken.loc[4, "Unit Price"] = float("inf")
    with pytest.raises(DataValidationError, match=r"'Unit Price': infinite values at lines 6"):
        validate(broken, CONTRACT)


def test_rejects_out_of_range_fractional_and_missing_values(rows):
    broken = rows.astype({"visits": float, "member": object})
    broken.loc[1, "Unit Price"] = 140
    broken.loc[2, "visits"] = 2.5
    broken.loc[3, "member"] = None
    with pytest.raises(DataValidationError) as error:
        validate(broken, CONTRACT)
    message = str(error.value)
    assert "'Unit Price': values above 100 at lines 3" in message
    assert "'visits': expected whole numbers at lines 4" in message
    assert "'member': missing values at lines 5" in message


def test_rejects_unknown_categories_and_bad_booleans(rows):
    broken = rows.astype({"member": object})
    broken.loc[0, "channel"] = "phone"
    broken.loc[1, "member"] = "maybe"
    with pytest.raises(DataValidationError) as error:
        validate(broken, CONTRACT)
    assert "'channel': unknown categories ['phone'] at lines 2" in str(error.value)
    assert "'member': expected true/false values at lines 3" in str(error.value)


def test_whole_floats_match_integer_categories(rows):
    read_back = rows.astype({"Bought?": float})
    assert validate(read_back, CONTRACT)["Bought?"].isin([0, 1]).all()


def test_rejects_an_empty_dataset(rows):
    with pytest.raises(DataValidationError, match="has no rows"):
        validate(rows.iloc[0:0], CONTRACT)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "name: x\ntask: classification\ntarget: y\ncolumns: {y: {type: categorical, role: target, categories: [a, b]}, x: {type: numeric}}\nextra: 1\n",
            "extra: unknown key",
        ),
        (
            "name: x\ntask: regression\ntarget: z\ncolumns: {y: {type: numeric}, x: {type: numeric}}\n",
            "target 'z' is not one of the columns",
        ),
        (
            "name: x\ntask: classification\ntarget: y\ncolumns: {y: {type: categorical, role: target, categories: [a, b]}, x: {type: categorical}}\n",
            "needs a list of categories",
        ),
        (
            "name: x\ntask: regression\ntarget: y\ncolumns: {y: {type: numeric, role: target}, x: {type: numeric, min: 5, max: 1}}\n",
            "min 5.0 is above max 1.0",
        ),
        (
            "name: x\ntask: regression\ntarget: y\ncolumns: {y: {type: numeric, role: target}, x: {type: datetime, max: 1}}\n",
            "a datetime column takes no min/max",
        ),
        (
            "name: x\ntask: regression\ntarget: y\ncolumns: {y: {type: numeric, role: target}, x: {type: numeric, open: true}}\n",
            "a numeric column takes no categories or open",
        ),
        (
            "name: x\ntask: regression\ntarget: y\ncolumns: {y: {type: numeric, role: target}, x: {type: numeric, observed_min: 3, observed_max: 1}}\n",
            "observed_min 3.0 is above observed_max 1.0",
        ),
        (
            "name: x\ntask: regression\ntarget: y\ncolumns: {y: {type: numeric, role: target}, x: {type: datetime, format: '%Q'}}\n",
            "format '%Q'",
        ),
        (
            "name: x\ntask: classification\ntarget: y\ncolumns: {y: {type: categorical, role: target, categories: [a, b], open: true}, x: {type: numeric}}\n",
            "cannot be open",
        ),
        ("name: [unclosed\n", "not valid YAML"),
    ],
)
def test_a_broken_contract_is_one_line_naming_the_problem(tmp_path, text, message):
    path = tmp_path / "contract.yaml"
    path.write_text(text)
    with pytest.raises(ProjectError, match=r"contract\.yaml") as error:
        load_contract(path)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_example_data_is_deterministic_with_gaps_and_fits_the_example_contract(project_settings):
    customers = make_customers(300, seed=7)
    pd.testing.assert_frame_equal(customers, make_customers(300, seed=7))
    assert customers["total_charges"].isna().any()  # realistic: some values are missing
    assert set(customers["churned"]) == {0, 1}
    spend = make_customers(300, seed=7, target="next_year_spend")["next_year_spend"]
    assert (spend >= 0).all() and spend.std() > 50
    contract = project_settings.contract
    if contract.example:  # while the project still uses the example, it must validate
        target = contract.target
        validate(make_customers(300, seed=7, target=target), contract)


DATED = Contract.model_validate(
    {
        "name": "orders",
        "task": "regression",
        "target": "amount",
        "columns": {
            "placed": {"type": "datetime", "nullable": True},
            "shipped": {"type": "datetime", "format": "%d/%m/%Y"},
            "amount": {"type": "numeric", "role": "target"},
        },
    }
)


def test_dates_and_times_are_validated_and_typed_as_utc():
    frame = pd.DataFrame(
        {
            "placed": ["2024-01-31", "2024-02-01T09:30:00+01:00", None, "yesterday"],
            "shipped": ["01/02/2024", "2024-02-03", "03/02/2024", "15/13/2024"],
            "amount": [1.0, 2.0, 3.0, 4.0],
        }
    )
    with pytest.raises(DataValidationError) as error:
        validate(frame, DATED)
    message = str(error.value)
    assert "column 'placed': expected dates or times (ISO 8601" in message and "lines 5" in message
    assert "column 'shipped'" in message and "or %d/%m/%Y" in message  # the 13th month
    typed = validate(frame.iloc[:3], DATED)
    assert typed["placed"].tolist()[:2] == [
        pd.Timestamp("2024-01-31", tz="UTC"),
        pd.Timestamp("2024-02-01T08:30", tz="UTC"),  # the same moment, in UTC
    ]
    assert typed["shipped"].dt.day.tolist() == [1, 3, 3]  # day first, as the format says


def test_an_open_column_of_whole_numbers_keeps_them_whole_and_unseen_values_as_text():
    spec = {"type": "categorical", "categories": [1, 2, 3], "open": True, "nullable": True}
    contract = Contract.model_validate(
        {
            "name": "shops",
            "task": "regression",
            "target": "sales",
            "columns": {"store": spec, "sales": {"type": "integer", "role": "target"}},
        }
    )
    frame = pd.DataFrame({"store": ["1", "2", "S9", None], "sales": [5, None, 7, 8]})
    typed = validate(frame, contract)  # a target with a gap: prepare drops that row later
    assert typed["store"].tolist() == [1, 2, "S9", None]  # 1, never 1.0 (what serving sends)
    assert typed["sales"].isna().sum() == 1
    unusual = contract.columns["store"].unusual(pd.Series(["1", "S9", None, 4.0], dtype=object))
    assert unusual.tolist() == [False, True, False, True]


def test_dates_read_from_numbers_with_a_format_and_from_date_objects():
    from datetime import date

    numbers = Contract.model_validate(
        {
            "name": "x",
            "task": "regression",
            "target": "y",
            "columns": {
                "day": {"type": "datetime", "format": "%Y%m%d"},
                "on": {"type": "datetime", "nullable": True},
                "y": {"type": "numeric", "role": "target"},
            },
        }
    )
    frame = pd.DataFrame(
        {"day": [20240131, 20240201], "on": [date(2024, 1, 31), None], "y": [1.0, 2.0]}
    )
    frame["on"] = frame["on"].astype(object)
    typed = validate(frame, numbers)
    assert typed["day"].dt.day.tolist() == [31, 1] and typed["on"].dt.month.tolist()[0] == 1


def test_times_with_and_without_a_zone_read_the_same_in_any_row_order():
    """A time without a zone is UTC, whatever zone the column's first value has (pandas 2
    read it in the first value's zone, so a chunk's answer followed the row order)."""
    from mlplate_runtime.data.contract import parse_datetimes

    text = ["2024-02-01T09:30:00.5+01:00", "2024-03-01 10:00:00.123456", None, "2024-01-31"]
    forward = parse_datetimes(pd.Series(text, dtype=object))
    backward = parse_datetimes(pd.Series(text[::-1], dtype=object))
    assert forward.tolist() == backward.tolist()[::-1]
    assert str(forward[1]) == "2024-03-01 10:00:00.123456+00:00"
    assert str(forward[0]) == "2024-02-01 08:30:00.500000+00:00"
