"""The project's own monitoring checks (its `checks.py`), run beside the drift tests.

A project adds checks by listing functions in ``CHECKS``; each receives the reference and the
current model inputs (the contract's feature columns, typed as `features.py` receives them)
and returns the measured value and whether it should raise the alarm::

    def large_charges(reference: pd.DataFrame, current: pd.DataFrame) -> dict:
        share = float((current["monthly_charges"] > 100).mean())
        return {"value": share, "alarm": share > 0.2}

    CHECKS = [large_charges]

Extra keys in the returned mapping (a threshold, a note) are kept in drift.json.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from mlplate_runtime.errors import ProjectError
from mlplate_runtime.project import team_module

Check = Callable[[pd.DataFrame, pd.DataFrame], Mapping[str, Any]]
log = logging.getLogger(__name__)


def project_checks() -> list[Check]:
    """The functions in the project's ``checks.CHECKS`` (none when it has no such module)."""
    module = team_module("checks")
    if module is None:
        return []
    checks = getattr(module, "CHECKS", None)
    if not isinstance(checks, (list, tuple)) or not all(callable(check) for check in checks):
        raise ProjectError(
            "checks.py must define CHECKS, a list of functions (reference, current) -> dict"
        )
    return list(checks)


def _result(name: str, answer: Any) -> dict[str, Any]:
    """``answer`` checked: a mapping with a finite number ``value`` and a bool ``alarm``."""
    value = answer.get("value") if isinstance(answer, Mapping) else None
    alarm = answer.get("alarm") if isinstance(answer, Mapping) else None
    if (
        not isinstance(value, Real)
        or isinstance(value, bool)
        or not math.isfinite(float(value))
        or not isinstance(alarm, (bool, np.bool_))  # a comparison of numpy values gives np.bool_
    ):
        raise ProjectError(
            f"monitoring check {name} returned {answer!r:.80}; return "
            '{"value": <a finite number>, "alarm": <True or False>}'
        )
    extra = {key: item for key, item in answer.items() if key not in ("value", "alarm")}
    return {"name": name, "value": float(value), "alarm": bool(alarm), **extra}


def run_checks(
    checks: list[Check], reference: pd.DataFrame, current: pd.DataFrame
) -> list[dict[str, Any]]:
    """Every check's result; a check that fails stops monitoring with its name and error."""
    results = []
    for check in checks:
        name = getattr(check, "__name__", repr(check))
        try:
            answer = check(reference.copy(), current.copy())
        except Exception as error:
            raise ProjectError(
                f"monitoring check {name} failed: {type(error).__name__}: {error}"
            ) from None
        result = _result(name, answer)
        log.info("check %s: %s%s", name, result["value"], " (alarm)" if result["alarm"] else "")
        results.append(result)
    return results
