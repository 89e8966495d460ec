"""Answer combinations computed from copier.yml, for parametrized tests."""

from __future__ import annotations

import itertools
from typing import Any

from mlplate.answers import questions

# Answers whose value changes nothing but text inside files: cycled, not multiplied.
INDEPENDENT = {"python_version", "license"}


def choice_values() -> dict[str, tuple[Any, ...]]:
    """Return every choice question (bool included) with its possible values."""
    values: dict[str, tuple[Any, ...]] = {}
    for question in questions():
        if question.type == "bool":
            values[question.name] = (True, False)
        elif question.choices:
            values[question.name] = question.choices
    return values


def combinations() -> list[dict[str, Any]]:
    """Full product of the interacting answers, cycling through the independent ones."""
    values = choice_values()
    interacting = {name: vals for name, vals in values.items() if name not in INDEPENDENT}
    independent = {name: vals for name, vals in values.items() if name in INDEPENDENT}
    combos = []
    for index, product in enumerate(itertools.product(*interacting.values())):
        combo = dict(zip(interacting, product, strict=True))
        for name, vals in independent.items():
            combo[name] = vals[index % len(vals)]
        combos.append(combo)
    # Every value of an independent answer appears at least once.
    for name, vals in independent.items():
        seen = {combo[name] for combo in combos}
        for missing in [value for value in vals if value not in seen]:
            combos.append({**combos[0], name: missing})
    return combos


def combo_id(combo: dict[str, Any]) -> str:
    """A readable test id such as ``github-py3.11-MIT``."""
    parts = []
    for name, value in combo.items():
        if isinstance(value, bool):
            parts.append(name if value else f"no-{name}")
        elif name == "python_version":
            parts.append(f"py{value}")
        else:
            parts.append(str(value))
    return "-".join(parts)


def pairwise(values: dict[str, tuple[Any, ...]]) -> list[dict[str, Any]]:
    """A small set of combinations in which every pair of values of two answers appears.

    Greedy: repeatedly take the combination (in product order) covering the most pairs not
    covered yet. Deterministic, so test ids are stable.
    """
    names = list(values)
    uncovered = {
        ((a, va), (b, vb))
        for i, a in enumerate(names)
        for b in names[i + 1 :]
        for va in values[a]
        for vb in values[b]
    }
    candidates = [
        dict(zip(names, combo, strict=True)) for combo in itertools.product(*values.values())
    ]
    chosen = []

    def pairs_of(combo: dict[str, Any]) -> set:
        return {((a, combo[a]), (b, combo[b])) for i, a in enumerate(names) for b in names[i + 1 :]}

    while uncovered:
        best = max(candidates, key=lambda combo: len(pairs_of(combo) & uncovered))
        chosen.append(best)
        uncovered -= pairs_of(best)
    return chosen
