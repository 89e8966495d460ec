"""Inferring a contract for a new dataset, and editing params.yaml in place."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from mlplate_runtime.data.contract import unusual_counts, validate
from mlplate_runtime.data.infer import infer_contract, infer_task
from mlplate_runtime.errors import DataValidationError, ProjectError
from mlplate_runtime.params_file import set_values


@pytest.fixture
def awkward() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 200
    return pd.DataFrame(
        {
            "Customer ID": np.arange(100, 100 + n),
            "Annual Income (k$)": np.where(rng.random(n) < 0.1, np.nan, rng.uniform(10, 90, n)),
            "num.visits": rng.integers(0, 30, n),
            "is-member": rng.choice(["yes", "no"], n),
            "Plan": rng.choice(["basic", "pro", None], n),
            "comment": [f"free text {i}" for i in range(n)],
            "Segment": rng.choice(["a", "b", "c"], n),
        }
    )


def test_infers_types_roles_ranges_and_nullability(awkward):
    contract, notes = infer_contract(awkward, name="shop", target="Segment")
    columns = contract.columns
    assert contract.task == "classification" and contract.classes == ("a", "b", "c")
    assert columns["Customer ID"].role == "id"
    income = columns["Annual Income (k$)"]
    assert income.type == "numeric" and income.nullable
    # what the data held is observed (soft), never a declared limit
    assert income.min is None and income.max is None
    low, high = awkward["Annual Income (k$)"].min(), awkward["Annual Income (k$)"].max()
    assert income.observed_min <= low and income.observed_max >= high
    assert high - income.observed_max < 1e-4 * high  # rounded outward to 6 digits, no margin
    assert columns["num.visits"].type == "integer" and not columns["num.visits"].nullable
    assert columns["is-member"].type == "boolean"
    plan = columns["Plan"]
    assert plan.type == "categorical" and plan.nullable and plan.open
    assert contract.columns["Segment"].open is False  # the classes are the target's limit
    assert columns["comment"].role == "ignored"
    assert any("comment" in note for note in notes) and any("Customer ID" in note for note in notes)
    typed = validate(awkward, contract)
    assert typed["is-member"].isin([0.0, 1.0]).all()


def test_task_follows_the_target_values():
    assert infer_task(pd.Series([0, 1, 1, 0])) == "classification"
    assert infer_task(pd.Series(["x", "y"])) == "classification"
    assert infer_task(pd.Series(np.linspace(0, 1, 100))) == "regression"
    assert infer_task(pd.Series(range(100))) == "regression"


def test_a_sensitive_column_is_kept_out_of_the_features(awkward):
    contract, _ = infer_contract(
        awkward, name="shop", target="num.visits", task="regression", sensitive=("Plan",)
    )
    assert contract.task == "regression"
    assert "Plan" not in contract.features and contract.sensitive == ("Plan",)


def test_set_values_changes_only_the_named_keys_and_keeps_comments(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("data:\n  raw_path: a.csv   # where\n  other: 1\nmodel:\n  raw_path: keep\n")
    set_values(path, {"data.raw_path": "data/raw/b c.csv", "model.raw_path": "x: y"})
    text = path.read_text()
    assert "# where" in text
    assert yaml.safe_load(text) == {
        "data": {"raw_path": "data/raw/b c.csv", "other": 1},
        "model": {"raw_path": "x: y"},
    }
    with pytest.raises(ProjectError, match=r"no key 'data\.missing'"):
        set_values(path, {"data.missing": 1})


def test_excluded_columns_are_ignored_and_rows_without_a_target_do_not_shape_it(awkward):
    awkward.loc[:9, "Segment"] = None
    contract, _ = infer_contract(awkward, name="shop", target="Segment", exclude=("Plan",))
    assert contract.columns["Plan"].role == "ignored" and "Plan" not in contract.features
    segment = contract.columns["Segment"]
    assert segment.categories == ("a", "b", "c") and not segment.nullable
    assert validate(awkward, contract)["Segment"].isna().sum() == 10  # prepare drops them


def test_values_outside_what_training_held_are_scored_but_counted(awkward):
    contract, _ = infer_contract(awkward, name="shop", target="Segment")
    new = awkward.head(3).copy()
    new["Annual Income (k$)"] = [1e6, 50.0, np.nan]  # far above what was seen
    new["Plan"] = ["enterprise", "pro", None]  # a plan training never saw
    typed = validate(new, contract)  # nothing refused
    assert typed["Plan"].tolist()[:2] == ["enterprise", "pro"]
    assert unusual_counts(new, contract) == {"Annual Income (k$)": 1, "Plan": 1}
    declared = contract.model_copy(
        update={
            "columns": {
                **contract.columns,
                "Annual Income (k$)": contract.columns["Annual Income (k$)"].model_copy(
                    update={"max": 1000.0}
                ),
            }
        }
    )
    with pytest.raises(DataValidationError, match=r"values above 1000"):
        validate(new, declared)  # a declared limit is hard
