"""A realistic, deterministic example dataset: customers of a subscription service.

Replace ``ingest.read_raw`` with your own source; this module only exists so the
pipeline runs end to end on a fresh clone with no downloads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CONTRACTS = ("month-to-month", "one-year", "two-year")
PAYMENT_METHODS = ("electronic-check", "mailed-check", "bank-transfer", "credit-card")
GENDERS = ("female", "male")


def make_customers(n_rows: int, *, seed: int) -> pd.DataFrame:
    """Return ``n_rows`` customers with a binary ``churned`` target and a few missing values."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(0, 73, n_rows)
    contract = rng.choice(CONTRACTS, n_rows, p=[0.55, 0.25, 0.20])
    payment = rng.choice(PAYMENT_METHODS, n_rows).astype(object)
    monthly = np.round(rng.uniform(18.0, 120.0, n_rows), 2)
    total = np.round(monthly * np.maximum(tenure, 1) * rng.uniform(0.9, 1.1, n_rows), 2)
    support_calls = rng.poisson(1.5, n_rows)
    age = rng.integers(18, 86, n_rows)
    gender = rng.choice(GENDERS, n_rows)

    logit = (
        -1.2
        + 1.3 * (contract == "month-to-month")
        - 0.7 * (contract == "two-year")
        - 0.045 * tenure
        + 0.018 * (monthly - 60.0)
        + 0.40 * support_calls
        + 0.55 * (payment == "electronic-check")
        - 0.010 * (age - 45)
    )
    churned = (rng.random(n_rows) < 1.0 / (1.0 + np.exp(-logit))).astype(int)

    total[rng.random(n_rows) < 0.02] = np.nan
    payment[rng.random(n_rows) < 0.02] = None
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, n_rows + 1),
            "age": age,
            "gender": gender,
            "tenure_months": tenure,
            "contract": contract,
            "payment_method": payment,
            "monthly_charges": monthly,
            "total_charges": total,
            "support_calls": support_calls,
            "churned": churned,
        }
    )
