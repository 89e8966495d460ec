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
{%- if cookiecutter.task == 'regression' %}
    """Return ``n_rows`` customers with a ``next_year_spend`` target and a few missing values."""
{%- else %}
    """Return ``n_rows`` customers with a binary ``churned`` target and a few missing values."""
{%- endif %}
    rng = np.random.default_rng(seed)
    tenure = rng.integers(0, 73, n_rows)
    contract = rng.choice(CONTRACTS, n_rows, p=[0.55, 0.25, 0.20])
    payment = rng.choice(PAYMENT_METHODS, n_rows).astype(object)
    monthly = np.round(rng.uniform(18.0, 120.0, n_rows), 2)
    total = np.round(monthly * np.maximum(tenure, 1) * rng.uniform(0.9, 1.1, n_rows), 2)
    support_calls = rng.poisson(1.5, n_rows)
    age = rng.integers(18, 86, n_rows)
    gender = rng.choice(GENDERS, n_rows)

{%- if cookiecutter.task == 'regression' %}

    # Months billed next year: long contracts and tenure keep customers, support calls lose them.
    staying = (
        1.5
        + 1.0 * (contract == "two-year")
        + 0.6 * (contract == "one-year")
        + 0.03 * tenure
        - 0.35 * support_calls
        - 0.4 * (payment == "electronic-check")
    )
    months_billed = 12.0 / (1.0 + np.exp(-staying))
    target = np.round(np.maximum(monthly * months_billed * rng.normal(1.0, 0.08, n_rows), 0.0), 2)
{%- else %}

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
    target = (rng.random(n_rows) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
{%- endif %}

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
            "{{ 'next_year_spend' if cookiecutter.task == 'regression' else 'churned' }}": target,
        }
    )
