"""A realistic, deterministic example dataset: customers of a subscription service.

It exists so that a new project runs end to end offline; `make use-data` replaces it
with yours. `make data` writes it only while data/contract.yaml says `example: true`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

CONTRACTS = ("month-to-month", "one-year", "two-year")
PAYMENT_METHODS = ("electronic-check", "mailed-check", "bank-transfer", "credit-card")
GENDERS = ("female", "male")


def _churned(columns: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Churn within 90 days (0/1): month-to-month, short tenure and support calls raise it."""
    contract, payment = columns["contract"], columns["payment_method"]
    logit = (
        -1.2
        + 1.3 * (contract == "month-to-month")
        - 0.7 * (contract == "two-year")
        - 0.045 * columns["tenure_months"]
        + 0.018 * (columns["monthly_charges"] - 60.0)
        + 0.40 * columns["support_calls"]
        + 0.55 * (payment == "electronic-check")
        - 0.010 * (columns["age"] - 45)
    )
    return (rng.random(len(logit)) < 1.0 / (1.0 + np.exp(-logit))).astype(int)


def _next_year_spend(columns: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Amount billed next year: long contracts and tenure keep customers, support calls lose them."""
    contract, monthly = columns["contract"], columns["monthly_charges"]
    staying = (
        1.5
        + 1.0 * (contract == "two-year")
        + 0.6 * (contract == "one-year")
        + 0.03 * columns["tenure_months"]
        - 0.35 * columns["support_calls"]
        - 0.4 * (columns["payment_method"] == "electronic-check")
    )
    months_billed = 12.0 / (1.0 + np.exp(-staying))
    return np.round(np.maximum(monthly * months_billed * rng.normal(1.0, 0.08, len(monthly)), 0), 2)


TARGETS: dict[str, Callable[[dict[str, np.ndarray], np.random.Generator], np.ndarray]] = {
    "churned": _churned,
    "next_year_spend": _next_year_spend,
}


def make_customers(n_rows: int, *, seed: int, target: str = "churned") -> pd.DataFrame:
    """Return ``n_rows`` customers with the ``target`` column and a few missing values."""
    rng = np.random.default_rng(seed)
    # The draws keep one order so that a seed always gives the same customers.
    tenure = rng.integers(0, 73, n_rows)
    contract = rng.choice(CONTRACTS, n_rows, p=[0.55, 0.25, 0.20])
    payment = rng.choice(PAYMENT_METHODS, n_rows).astype(object)
    monthly = np.round(rng.uniform(18.0, 120.0, n_rows), 2)
    total = np.round(monthly * np.maximum(tenure, 1) * rng.uniform(0.9, 1.1, n_rows), 2)
    support_calls = rng.poisson(1.5, n_rows)
    columns: dict[str, np.ndarray] = {
        "customer_id": np.arange(1, n_rows + 1),
        "age": rng.integers(18, 86, n_rows),
        "gender": rng.choice(GENDERS, n_rows),
        "tenure_months": tenure,
        "contract": contract,
        "payment_method": payment,
        "monthly_charges": monthly,
        "total_charges": total,
        "support_calls": support_calls,
    }
    columns[target] = TARGETS[target](columns, rng)
    columns["total_charges"][rng.random(n_rows) < 0.02] = np.nan
    columns["payment_method"][rng.random(n_rows) < 0.02] = None
    return pd.DataFrame(columns)


def write_example_data(path: Path, *, n_rows: int, seed: int, target: str) -> Path:
    """Write the example dataset to ``path`` (CSV)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    make_customers(n_rows, seed=seed, target=target).to_csv(path, index=False)
    return path
