"""Features follow the contract: the model sees exactly the feature columns, typed."""

from __future__ import annotations

import pandas as pd

from mlplate_runtime.features.build import add_features, feature_matrix


def test_feature_matrix_has_the_contract_features_only(project_settings, sample):
    contract = project_settings.contract
    matrix = feature_matrix(add_features(sample, contract), contract)
    assert list(matrix.columns) == [*contract.numeric_features, *contract.categorical_features]
    excluded = {contract.target, *contract.sensitive} | {
        name for name, spec in contract.columns.items() if spec.role in ("id", "ignored")
    }
    assert excluded.isdisjoint(matrix.columns)
    for name in contract.numeric_features:
        assert matrix[name].dtype == "float64"


def test_categories_become_text_and_gaps_stay_missing(project_settings):
    from mlplate_runtime.data.contract import Contract

    contract = Contract.model_validate(
        {
            "name": "t",
            "task": "regression",
            "target": "y",
            "columns": {
                "level": {"type": "categorical", "categories": [1, 2], "nullable": True},
                "flag": {"type": "boolean"},
                "y": {"type": "numeric", "role": "target"},
            },
        }
    )
    frame = pd.DataFrame({"level": [1.0, None, 2.0], "flag": ["yes", "no", "True"], "y": [1, 2, 3]})
    matrix = feature_matrix(frame, contract)
    assert matrix["level"].tolist()[0] == "1" and pd.isna(matrix["level"][1])
    assert matrix["flag"].tolist() == [1.0, 0.0, 1.0]
    assert add_features(frame, contract) is not frame  # the input is left untouched
