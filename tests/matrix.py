"""Answer combinations computed from copier.yml, for parametrized tests."""

from __future__ import annotations

import itertools
import math
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


def pairwise(values: dict[str, tuple[Any, ...]], seeds: int = 20) -> list[dict[str, Any]]:
    """A small set of combinations in which every pair of values of two answers appears.

    Tries the smallest possible size first (the product of the two largest value counts),
    then one row more at a time: each try is a seeded local search that repeatedly takes a
    pair no row covers yet and writes it into a random row, keeping the change when it loses
    no more covered pairs than it gains (or, rarely, anyway). Deterministic, so test ids are
    stable.
    """
    sizes = sorted((len(options) for options in values.values()), reverse=True)
    for rows in itertools.count(_fewest_rows(sizes)):
        for seed in range(seeds):
            found = _cover(values, rows, seed)
            if found is not None:
                return found
    raise AssertionError("unreachable: enough rows always cover every pair")


def _fewest_rows(sizes: list[int]) -> int:
    """A lower bound on the rows covering every pair: the product of the two largest value
    counts, and for yes/no answers only, the fewest rows that can hold ``len(sizes)`` distinct
    columns (Kleitman and Spencer: k columns need comb(rows - 1, ceil(rows / 2)) >= k)."""
    rows = sizes[0] * sizes[1]
    if sizes[0] == 2:
        while math.comb(rows - 1, math.ceil(rows / 2)) < len(sizes):
            rows += 1
    return rows


class _Rows:
    """Combinations as value positions, with how many of them cover each pair of values."""

    def __init__(self, domains: list[list[Any]], n_rows: int, rng: random.Random) -> None:
        self.rows = [[rng.randrange(len(domain)) for domain in domains] for _ in range(n_rows)]
        columns = list(itertools.combinations(range(len(domains)), 2))
        self.counts = {
            (a, x, b, y): 0
            for a, b in columns
            for x in range(len(domains[a]))
            for y in range(len(domains[b]))
        }
        for row in self.rows:
            for a, b in columns:
                self.counts[(a, row[a], b, row[b])] += 1
        self.uncovered = {pair for pair, count in self.counts.items() if count == 0}

    def _pairs(self, row: list[int], column: int, value: int) -> list[tuple[int, ...]]:
        return [
            (column, value, other, row[other])
            if column < other
            else (other, row[other], column, value)
            for other in range(len(row))
            if other != column
        ]

    def loss(self, row: list[int], column: int, value: int) -> int:
        """Covered pairs lost minus pairs gained by writing ``value`` into ``row[column]``."""
        lost = sum(self.counts[pair] == 1 for pair in self._pairs(row, column, row[column]))
        return lost - sum(self.counts[pair] == 0 for pair in self._pairs(row, column, value))

    def write(self, row: list[int], column: int, value: int) -> None:
        for pair in self._pairs(row, column, row[column]):
            self.counts[pair] -= 1
            if self.counts[pair] == 0:
                self.uncovered.add(pair)
        for pair in self._pairs(row, column, value):
            self.counts[pair] += 1
            self.uncovered.discard(pair)
        row[column] = value


def _cover(
    values: dict[str, tuple[Any, ...]], n_rows: int, seed: int
) -> list[dict[str, Any]] | None:
    """``n_rows`` combinations covering every pair, found by local search, or None."""
    names, domains = list(values), [list(options) for options in values.values()]
    rng = random.Random(seed)
    state = _Rows(domains, n_rows, rng)
    temperature = 1.0
    for _ in range(50_000):
        if not state.uncovered:
            return [
                {name: domains[i][row[i]] for i, name in enumerate(names)} for row in state.rows
            ]
        a, x, b, y = rng.choice(sorted(state.uncovered))
        row = state.rows[rng.randrange(n_rows)]
        for column, value in ((a, x), (b, y)):
            if row[column] != value:
                lost = state.loss(row, column, value)
                if lost <= 0 or rng.random() < math.exp(-lost / temperature):
                    state.write(row, column, value)
        temperature = max(0.05, temperature * 0.9999)
    return None
