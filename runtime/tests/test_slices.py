"""Slices (params.yaml evaluate.slices): the condition grammar, its checks, the rows it selects,
metrics per slice, and the per-slice floor of the promotion gate."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml

from mlplate_runtime.config import load_settings
from mlplate_runtime.data.contract import ColumnSpec, Contract
from mlplate_runtime.data.slices import (
    Comparison,
    SliceError,
    check_condition,
    parse_condition,
    slice_mask,
)
from mlplate_runtime.errors import ProjectError
from mlplate_runtime.models.evaluate import slice_metrics
from mlplate_runtime.models.tasks import Regression
from support import PROJECT_ROOT

CONTRACT = Contract(
    name="plans",
    task="regression",
    target="spend",
    columns={
        "Plan Type": ColumnSpec(type="categorical", categories=("basic", "pro")),
        "seats": ColumnSpec(type="integer", nullable=True),
        "trial": ColumnSpec(type="boolean"),
        "code": ColumnSpec(type="categorical", categories=(0, 1)),
        "note": ColumnSpec(type="categorical", role="ignored"),
        "spend": ColumnSpec(type="numeric", role="target"),
    },
)
FRAME = pd.DataFrame(
    {
        "Plan Type": ["basic", "pro", "pro", None, "basic"],
        "seats": [1.0, 10.0, np.nan, 5.0, 20.0],
        "trial": [True, False, False, True, False],
        "code": [0, 1, 1, 0, 1],
        "spend": [1.0, 2.0, 3.0, 4.0, 5.0],
    }
)


@pytest.mark.parametrize(
    ("text", "comparisons"),
    [
        ('island == "Biscoe"', [("island", "==", ("Biscoe",))]),
        ("body_mass_g > 5000", [("body_mass_g", ">", (5000,))]),
        ("x <= -1.5e2", [("x", "<=", (-150.0,))]),
        ("contract in ['one-year', \"two-year\"]", [("contract", "in", ("one-year", "two-year"))]),
        ("code not in [0, 2]", [("code", "not in", (0, 2))]),
        ("trial != true", [("trial", "!=", (True,))]),
        (
            '`Plan Type` == "pro" and seats >= 10',
            [("Plan Type", "==", ("pro",)), ("seats", ">=", (10,))],
        ),
    ],
)
def test_conditions_parse_into_comparisons(text, comparisons):
    assert parse_condition(text).comparisons == tuple(Comparison(*c) for c in comparisons)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("island == Biscoe", r"'Biscoe' at character 11 is not a value: put text in quotes"),
        ("island = 1", r"cannot read '= 1' at character 8 \(compare with ==\)"),
        ("seats > 1 or seats < 0", r"expected `and` or the end at character 11, found 'or'"),
        ("seats", r"expected an operator .*, found the end"),
        ("seats in 3", r"expected a list in brackets"),
        ("seats in [1, 2", r"expected `,` or `]`, found the end"),
        ('island == "Biscoe', r"unclosed quote"),
        ("Plan Type == 'pro'", r"expected an operator .* at character 6, found 'Type'"),
        ("   ", r"the condition is empty"),
    ],
)
def test_a_malformed_condition_says_what_and_where(text, message):
    with pytest.raises(SliceError, match=message):
        parse_condition(text)


@pytest.mark.parametrize(
    "text",
    [
        '__import__("os").system("touch pwned")',
        "seats.__class__ > 1",
        "@seats > 1",
        "seats > 1; import os",
        "seats > (1)",
        "seats == seats",
    ],
)
def test_python_and_pandas_query_syntax_are_refused_not_run(text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SliceError):
        parse_condition(text)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("seat > 1", r"column 'seat' is not in the data contract \(did you mean 'seats'\?\)"),
        ("note == 'x'", r"column 'note' has role: ignored"),
        ("`Plan Type` > 'basic'", r"'Plan Type' is categorical: compare it with ==, != or in"),
        ("`Plan Type` == 'premium'", r"'premium' is not a category of 'Plan Type'.*'basic', 'pro'"),
        ("seats == 'ten'", r"column 'seats' is integer: compare it with numbers, not 'ten'"),
        ("trial == 'yes'", r"column 'trial' is boolean: compare it with true or false"),
    ],
)
def test_a_condition_must_fit_the_contract(text, message):
    with pytest.raises(SliceError, match=message):
        check_condition(parse_condition(text), CONTRACT)


@pytest.mark.parametrize(
    ("text", "rows"),
    [
        ("`Plan Type` == 'pro'", [1, 2]),
        ("`Plan Type` != 'pro'", [0, 4]),  # a missing value is in no slice, != included
        ("seats > 5", [1, 4]),
        ("seats <= 5", [0, 3]),
        ("seats not in [1, 20]", [1, 3]),
        ("trial == true", [0, 3]),
        ("code == 1", [1, 2, 4]),
        ("code in ['0']", [0, 3]),  # categories compare as text: 0 and '0' are one category
        ("`Plan Type` == 'basic' and seats >= 10", [4]),
        ("seats > 100", []),
    ],
)
def test_a_slice_selects_the_rows_its_condition_names(text, rows):
    mask = slice_mask(FRAME, parse_condition(text), CONTRACT)
    assert list(np.flatnonzero(mask)) == rows


def test_metrics_per_slice_with_n_and_null_where_too_few_rows():
    y_true = FRAME["spend"].to_numpy()
    scores = y_true + np.array([0.5, -0.5, 0.5, -0.5, 1.0])
    slices = {"pro": "`Plan Type` == 'pro'", "one": "seats == 20", "none": "seats > 100"}
    result = slice_metrics(
        FRAME, y_true, scores, slices=slices, contract=CONTRACT, task=Regression()
    )
    assert result["pro"] == {
        "n": 2,
        **Regression().metrics(y_true[[1, 2]], scores[[1, 2]]),
    }
    assert result["one"]["n"] == 1 and result["one"]["rmse"] == pytest.approx(1.0)
    assert result["one"]["r2"] is None  # one row: no R²
    assert result["none"] == {"n": 0, "rmse": None, "mae": None, "r2": None}


def _project(tmp_path, **sections):
    """A copy of the test project's params.yaml and contract, with some sections changed."""
    (tmp_path / "data").mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "data" / "contract.yaml", tmp_path / "data" / "contract.yaml")
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text())
    for section, values in sections.items():
        params[section].update(values)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    return tmp_path / "params.yaml"


def _columns(contract):
    numeric = contract.numeric_features[0]
    category = contract.categorical_features[0]
    return numeric, category, contract.columns[category].categories[0]


def test_slices_are_checked_against_the_contract_when_params_load(tmp_path):
    settings = load_settings(PROJECT_ROOT / "params.yaml")
    numeric, category, value = _columns(settings.contract)
    good = {"top": f"{numeric} > 1", "group": f"{category} == {json.dumps(str(value))}"}
    loaded = load_settings(_project(tmp_path / "good", evaluate={"slices": good}))
    assert loaded.params.evaluate.slices == good

    with pytest.raises(ProjectError) as error:
        load_settings(_project(tmp_path / "bad", evaluate={"slices": {"top": f"{numeric}x > 1"}}))
    assert "params.yaml: evaluate.slices.top: column " in str(error.value)
    assert f"did you mean {numeric!r}" in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ({"evaluate": {"slices": {"top": "x >"}}}, r"evaluate\.slices\.top: Value error, expected"),
        ({"evaluate": {"slices": {"a b": "x > 1"}}}, r"slice name 'a b': use letters, digits"),
        (
            {"evaluate": {"slices": {"top": 5}}},
            r"evaluate\.slices\.top: Input should be a valid str",
        ),
        (
            {"promotion": {"slice_floors": {"top": 0.8}}},
            r"promotion\.slice_floors\.top: no slice 'top' in evaluate\.slices \(it has none\)",
        ),
        (
            {
                "evaluate": {"slices": {"top": "x > 1"}},
                "promotion": {"slice_floors": {"top": "hi"}},
            },
            r"promotion\.slice_floors\.top: Input should be a valid number",
        ),
    ],
)
def test_a_bad_slice_setting_is_one_line_naming_the_key(tmp_path, sections, message):
    with pytest.raises(ProjectError, match=message) as error:
        load_settings(_project(tmp_path, **sections))
    assert "\n" not in str(error.value)


def test_check_params_exits_1_with_one_line_on_a_bad_slice(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from mlplate_runtime import cli

    _project(tmp_path, evaluate={"slices": {"heavy": "no_such_column > 5000"}})
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli.app, ["check-params"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: params.yaml: evaluate.slices.heavy: column 'no_such_column' is not in the data "
        "contract"
    ]


DATED = Contract(
    name="orders",
    task="regression",
    target="spend",
    columns={
        "order date": ColumnSpec(type="datetime", nullable=True),
        "region": ColumnSpec(type="categorical", categories=("north", "south"), open=True),
        "spend": ColumnSpec(type="numeric", role="target"),
    },
)


def test_a_slice_compares_dates_as_times_and_refuses_a_category_training_never_held():
    frame = pd.DataFrame(
        {
            "order date": ["2024-06-30", "2024-07-01T08:00:00+02:00", "2024-08-15", None],
            "region": ["north", "south", "north", "north"],
            "spend": [1.0, 2.0, 3.0, 4.0],
        }
    )
    recent = parse_condition('`order date` >= "2024-07-01" and region == "north"')
    assert slice_mask(frame, recent, DATED).tolist() == [False, False, True, False]
    july_first = parse_condition('`order date` >= "2024-07-01"')  # 06:00 UTC on 1 July
    assert slice_mask(frame, july_first, DATED).tolist() == [False, True, True, False]
    with pytest.raises(SliceError, match="ISO 8601 text in quotes"):
        check_condition(parse_condition("`order date` > 2024"), DATED)
    with pytest.raises(SliceError, match="'nort' is not a category of 'region'"):
        check_condition(parse_condition('region == "nort"'), DATED)  # open, but a typo
