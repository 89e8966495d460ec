"""The team's derived features (features.py). Add a test for each column you derive."""

from __future__ import annotations

import numpy as np
import pandas as pd
from mlplate_runtime.features.build import feature_matrix

from {{ cookiecutter.__package_name }}.features import DERIVED_FEATURES, add_features


def test_add_features_keeps_the_rows_and_adds_finite_declared_columns(project_settings, sample):
    typed = feature_matrix(sample, project_settings.contract)
    derived = add_features(typed.copy())
    assert len(derived) == len(typed)
    assert list(derived.index) == list(typed.index)
    for name, kind in DERIVED_FEATURES.items():
        assert name in derived.columns, f"add_features does not add {name!r}"
        if kind == "numeric":
            values = pd.to_numeric(derived[name], errors="raise").to_numpy(dtype=float)
            assert not np.isinf(values).any(), f"{name} is infinite for some rows"
