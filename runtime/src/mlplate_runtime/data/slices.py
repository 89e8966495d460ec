"""Slice conditions (params.yaml `evaluate.slices`): a small grammar, parsed, never evaluated.

A condition names a subgroup of rows by comparing columns with values::

    island == "Biscoe"
    body_mass_g > 5000
    contract in ["one-year", "two-year"]
    `Plan Type` != "basic" and tenure_months >= 12

Grammar: ``comparison ("and" comparison)*``; a comparison is ``column OP value`` with OP one
of ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, or ``column in [value, ...]`` /
``column not in [value, ...]``. A column is a bare name (letters, digits, ``_``) or any name
in backquotes. A value is a number, text in double or single quotes, or ``true``/``false``.
Numbers are ordered; categories and booleans are compared for (in)equality only. A row whose
value is missing belongs to no slice that tests that column. The text is read by the parser
below, never handed to ``eval`` or pandas' ``query``.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlplate_runtime.data.contract import (
    ColumnSpec,
    Contract,
    as_boolean,
    as_numbers,
    category_text,
)

Value = bool | int | float | str
ORDERING = ("<", "<=", ">", ">=")
EQUALITY = ("==", "!=")
MAX_LENGTH = 1000  # characters of one condition
NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # a slice's name: a key in JSON, DVC and Markdown
TOKEN = re.compile(
    r"""\s*(?:
      (?P<column>`[^`]+`)
    | (?P<text>"[^"]*"|'[^']*')
    | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
    | (?P<op>==|!=|<=|>=|<|>)
    | (?P<punct>[\[\],])
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)


class SliceError(ValueError):
    """A condition that does not parse, or does not fit the data contract."""


@dataclass(frozen=True)
class Comparison:
    """One test of a column: ``column op value`` (``in``/``not in``: one of ``values``)."""

    column: str
    op: str
    values: tuple[Value, ...]


@dataclass(frozen=True)
class Condition:
    """A parsed condition: every comparison must hold."""

    text: str
    comparisons: tuple[Comparison, ...]


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    position: int


def _tokens(text: str) -> list[_Token]:
    tokens, position = [], 0
    while position < len(text):
        if not text[position:].strip():
            break
        match = TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            rest = text[position:].lstrip()
            start = len(text) - len(rest)
            hint = (
                " (an unclosed quote or backquote?)"
                if rest[0] in "\"'`"
                else " (compare with ==)"
                if rest[0] == "="
                else " (put a column name with spaces or symbols in `backquotes`)"
            )
            raise SliceError(f"cannot read {rest[:20]!r} at character {start + 1}{hint}")
        tokens.append(
            _Token(match.lastgroup, match.group(match.lastgroup), match.start(match.lastgroup))
        )
        position = match.end()
    return tokens


class _Parser:
    """Recursive descent over the tokens of one condition."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.index = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, wanted: str) -> _Token:
        token = self.peek()
        if token is None:
            raise SliceError(f"expected {wanted}, found the end")
        self.index += 1
        return token

    def fail(self, token: _Token, wanted: str) -> SliceError:
        return SliceError(
            f"expected {wanted} at character {token.position + 1}, found {token.text!r}"
        )

    def condition(self) -> tuple[Comparison, ...]:
        comparisons = [self.comparison()]
        while (token := self.peek()) is not None:
            if token.kind != "word" or token.text != "and":
                raise self.fail(token, "`and` or the end")
            self.index += 1
            comparisons.append(self.comparison())
        return tuple(comparisons)

    def comparison(self) -> Comparison:
        token = self.take("a column name")
        if token.kind == "column":
            column = token.text[1:-1]
        elif token.kind == "word" and token.text not in ("and", "in", "not"):
            column = token.text
        else:
            raise self.fail(token, "a column name (in backquotes if it has spaces or symbols)")
        token = self.take("an operator (==, !=, <, <=, >, >=, in, not in)")
        if token.kind == "op":
            return Comparison(column, token.text, (self.value(),))
        if token.kind == "word" and token.text == "not":
            following = self.take("`in` after `not`")
            if following.text != "in":
                raise self.fail(following, "`in` after `not`")
            return Comparison(column, "not in", self.values())
        if token.kind == "word" and token.text == "in":
            return Comparison(column, "in", self.values())
        raise self.fail(token, "an operator (==, !=, <, <=, >, >=, in, not in)")

    def values(self) -> tuple[Value, ...]:
        token = self.take("[")
        if token.text != "[":
            raise self.fail(token, 'a list in brackets, e.g. ["a", "b"]')
        found = [self.value()]
        while (token := self.take("`,` or `]`")).text == ",":
            found.append(self.value())
        if token.text != "]":
            raise self.fail(token, "`,` or `]`")
        return tuple(found)

    def value(self) -> Value:
        token = self.take('a value (a number, "text" in quotes, true or false)')
        if token.kind == "number":
            number = float(token.text)
            return int(number) if re.fullmatch(r"[-+]?\d+", token.text) else number
        if token.kind == "text":
            return token.text[1:-1]
        if token.kind == "word" and token.text.lower() in ("true", "false"):
            return token.text.lower() == "true"
        if token.kind == "word":
            raise SliceError(
                f"{token.text!r} at character {token.position + 1} is not a value: put text in "
                f'quotes ("{token.text}"), or a column name on the left'
            )
        raise self.fail(token, 'a value (a number, "text" in quotes, true or false)')


def parse_condition(text: str) -> Condition:
    """Parse a condition; a SliceError says what is wrong and where."""
    if not text.strip():
        raise SliceError('the condition is empty; write e.g. island == "Biscoe"')
    if len(text) > MAX_LENGTH:
        raise SliceError(f"the condition is longer than {MAX_LENGTH} characters")
    return Condition(text, _Parser(text).condition())


def check_slice_name(name: str) -> str:
    """A slice name is letters, digits, `_` or `-` (at most 64): it is a key in reports."""
    if not NAME.fullmatch(name):
        raise SliceError(
            f"slice name {name!r}: use letters, digits, _ or - (at most 64), e.g. biscoe_heavy"
        )
    return name


def _text(value: Value) -> str:
    """A value as category_text writes a cell (1.0 is '1', True is 'True')."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _time(text: str, spec: ColumnSpec) -> Any:
    """A slice's date or time as the column's times are read (UTC); NaT when it is none."""
    return spec.datetimes(pd.Series([text], dtype=object)).iloc[0]


def _check_times(comparison: Comparison, spec: ColumnSpec) -> None:
    unreadable = [
        v for v in comparison.values if not isinstance(v, str) or _time(v, spec) is pd.NaT
    ]
    if unreadable:
        raise SliceError(
            f"column {comparison.column!r} holds dates and times: compare it with ISO 8601 text "
            f'in quotes ("2024-07-01"), not {unreadable[0]!r}'
        )


def _check_comparison(comparison: Comparison, contract: Contract) -> None:
    name, op = comparison.column, comparison.op
    spec = contract.columns.get(name)
    if spec is None:
        close = difflib.get_close_matches(name, list(contract.columns), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise SliceError(f"column {name!r} is not in the data contract{hint}")
    if spec.role == "ignored":
        raise SliceError(f"column {name!r} has role: ignored, so the holdout does not carry it")
    if spec.type in ("numeric", "integer"):
        wrong = [v for v in comparison.values if isinstance(v, (bool, str))]
        if wrong:
            raise SliceError(
                f"column {name!r} is {spec.type}: compare it with numbers, not {wrong[0]!r}"
            )
        return
    if spec.type == "datetime":  # dates compare as times: `order date` >= "2024-07-01"
        _check_times(comparison, spec)
        return
    if op in ORDERING:
        raise SliceError(f"column {name!r} is {spec.type}: compare it with ==, != or in, not {op}")
    if spec.type == "boolean":
        if any(not isinstance(v, bool) and v not in (0, 1) for v in comparison.values):
            raise SliceError(f"column {name!r} is boolean: compare it with true or false")
        return
    allowed = {_text(category) for category in spec.categories or ()}
    unknown = [v for v in comparison.values if _text(v) not in allowed]
    if unknown:  # a typo, or a value training never held: the slice would be empty
        raise SliceError(
            f"{unknown[0]!r} is not a category of {name!r}; its categories: "
            f"{list(spec.categories or ())}"
        )


def check_condition(condition: Condition, contract: Contract) -> None:
    """Raise a SliceError when a condition names a column or value the contract does not have."""
    for comparison in condition.comparisons:
        _check_comparison(comparison, contract)


def _compare(values: pd.Series, op: str, targets: tuple[Value, ...]) -> np.ndarray:
    present = values.notna().to_numpy(dtype=bool)
    if op in ("in", "not in"):
        hit = values.isin(list(targets)).fillna(False).to_numpy(dtype=bool)
        return present & (hit if op == "in" else ~hit)
    target = targets[0]
    result = {
        "==": values == target,
        "!=": values != target,
        "<": values < target,
        "<=": values <= target,
        ">": values > target,
        ">=": values >= target,
    }[op]
    return present & result.fillna(False).to_numpy(dtype=bool)


def slice_mask(frame: pd.DataFrame, condition: Condition, contract: Contract) -> np.ndarray:
    """True for the rows of ``frame`` the condition selects (checked against the contract)."""
    check_condition(condition, contract)
    mask = np.ones(len(frame), dtype=bool)
    for comparison in condition.comparisons:
        spec = contract.columns[comparison.column]
        if comparison.column not in frame.columns:
            raise SliceError(f"column {comparison.column!r} is not in the evaluated data")
        column = frame[comparison.column]
        targets: tuple[Value, ...]
        if spec.type in ("numeric", "integer"):
            values, targets = as_numbers(column), comparison.values
        elif spec.type == "boolean":
            values = column.map(as_boolean)
            targets = tuple(float(bool(v)) for v in comparison.values)
        elif spec.type == "datetime":
            values = spec.datetimes(column)
            targets = tuple(_time(str(v), spec) for v in comparison.values)
        else:
            values = category_text(column)
            targets = tuple(_text(v) for v in comparison.values)
        mask &= _compare(values, comparison.op, targets)
    return mask
