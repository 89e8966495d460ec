"""Derived features: columns computed from the raw columns of data/contract.yaml.

What belongs here: new columns built from the ones a record already has (ratios, buckets,
dates split into parts). Declare each in DERIVED_FEATURES with its kind; add_features receives
the contract's feature columns typed (numbers as floats, categories as text, gaps as NaN) and
returns them with the derived columns added. The runtime makes this the model's first step,
so training, the API (which still takes the raw columns), batch scoring and monitoring all
use it, and a change here is a new version of the same registered model.
What does not: cleaning or reshaping the dataset (that is `make use-data` and the contract).
"""

from __future__ import annotations

import pandas as pd

# name -> "numeric" or "categorical". For example {"charges_per_month": "numeric"}.
DERIVED_FEATURES: dict[str, str] = {}


def add_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with the DERIVED_FEATURES columns added (none yet).

    For example::

        return frame.assign(
            charges_per_month=frame["total_charges"] / frame["tenure_months"].clip(lower=1)
        )
    """
    return frame
