"""Answer combinations computed from copier.yml, for parametrized tests."""

from __future__ import annotations

import itertools
import random
from typing import Any

from mlplate.answers import questions

# Answers whose value changes nothing but text inside files: cycled, not multiplied.
INDEPENDENT = {"python_version", "license"}
# Answers that write into the same files, multiplied in full within each group; answers
# outside a group stay at their defaults. ci, serving, docker, docs and pre_commit share the
# Makefile, workflows, README and pyproject; the infrastructure answers share .dvc/config,
# the Makefile, CI pull/push and pyproject with ci, and the image files with docker/serving;
# task changes the model code, its tests, serving responses, the model card and CI reports;
# feature_store adds a pipeline stage (which the orchestrators compile) and an API route.
INTERACTING_GROUPS = (
    ("ci", "serving", "docker", "docs", "pre_commit"),
    ("ci", "dvc_remote", "mlflow_tracking", "orchestrator"),
    ("serving", "docker", "dvc_remote", "orchestrator"),
    ("task", "serving", "docs", "ci"),
    ("feature_store", "serving", "task", "orchestrator"),
)


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
    """Every combination within each interacting group, cycling through the independent answers."""
    values = choice_values()
    defaults = {
        question.name: question.default for question in questions() if question.name in values
    }
    grouped = {name for group in INTERACTING_GROUPS for name in group}
    assert grouped | INDEPENDENT == set(values), "put every choice answer in a group"
    combos: list[dict[str, Any]] = []
    for group in INTERACTING_GROUPS:
        for product in itertools.product(*(values[name] for name in group)):
            combo = {name: defaults[name] for name in values if name not in INDEPENDENT}
            combo.update(zip(group, product, strict=True))
            if combo not in combos:
                combos.append(combo)
    independent = {name: vals for name, vals in values.items() if name in INDEPENDENT}
    for index, combo in enumerate(combos):
        for name, vals in independent.items():
            combo[name] = vals[index % len(vals)]
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


def pairwise(values: dict[str, tuple[Any, ...]], tries: int = 10) -> list[dict[str, Any]]:
    """A small set of combinations in which every pair of values of two answers appears.

    Greedy: repeatedly take the combination covering the most pairs not covered yet,
    scanning candidates in product order first, then in seeded shuffled orders; the
    smallest cover wins. Deterministic, so test ids are stable.
    """
    names = list(values)
    columns = list(itertools.combinations(range(len(names)), 2))
    candidates = list(itertools.product(*values.values()))
    pairs = [frozenset((i, j, combo[i], combo[j]) for i, j in columns) for combo in candidates]
    everything = frozenset().union(*pairs)
    best: list[int] | None = None
    for seed in range(tries):
        order = list(range(len(candidates)))
        if seed:
            random.Random(seed).shuffle(order)
        uncovered, chosen = set(everything), []
        while uncovered:
            pick = max(order, key=lambda index: len(pairs[index] & uncovered))
            chosen.append(pick)
            uncovered -= pairs[pick]
        if best is None or len(chosen) < len(best):
            best = chosen
    return [dict(zip(names, candidates[index], strict=True)) for index in best or []]
