"""CSV text as pandas' ``to_csv`` writes it, made from Arrow arrays in a few C passes.

The prepared splits are read back with ``pd.read_csv`` by the stages after `prepare`, so they
keep pandas' notation: floats as Python writes them (``1.0``, ``1e-05``, ``1e+16``), whole
numbers as digits, times as ``2024-01-31 09:30:00+00:00`` with the fraction digits the finest
value of the split needs (as pandas 3 writes them; pandas 2 gives each value its own: the same
instants), a gap as an empty field, and a field quoted only when it holds a
comma, a quote or a line break.
"""

from __future__ import annotations

from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

FRACTION_DIGITS = {"s": 0, "ms": 3, "us": 6, "ns": 9}
UNIT_OF_DIGITS = {digits: unit for unit, digits in FRACTION_DIGITS.items()}
NEEDS_QUOTES = '[,"\n]'


def float_text(values: pa.Array) -> pa.Array:
    """float64 values as Python's repr writes them (gaps stay null).

    pyarrow writes the same shortest digits but its own notation (``1`` for 1.0, ``1e+15``
    where Python writes 1000000000000000.0): its text is kept where Python writes a plain
    number (1e-4 <= |x| < 1e16) and pyarrow did too, with ``.0`` added to a whole number; the
    few others are formatted by numpy (Python's notation).
    """
    numbers = values.to_numpy(zero_copy_only=False)
    text = pc.cast(values, pa.string())
    magnitude = np.abs(numbers)
    with np.errstate(invalid="ignore"):
        plain = ((magnitude >= 1e-4) & (magnitude < 1e16)) | (numbers == 0)
    plain &= ~_flags(pc.match_substring(text, "e"))
    whole = plain & ~_flags(pc.match_substring(text, "."))
    if whole.any():
        text = pc.if_else(pa.array(whole), pc.binary_join_element_wise(text, ".0", ""), text)
    other = ~plain & ~np.isnan(numbers)
    if other.any():
        written = np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)
        written[other] = numbers[other].astype(str)
        text = pa.array(written, type=pa.string(), mask=np.isnan(numbers))
    return text


# A number written as Python writes it: no sign but '-', no leading zero, a fraction that ends
# in a non-zero digit, at least 1e-4 (0.0001); with at most 15 characters it has at most 15
# significant digits, which a float64 keeps exactly (so its repr is this text).
PYTHON_NUMBER = r"^-?([1-9][0-9]*(\.[0-9]*[1-9])?|0(\.0{0,3}[1-9]([0-9]*[1-9])?)?)$"
MAX_PLAIN_CHARS = 15


def number_text(text: pa.Array) -> pa.Array:
    """Numbers read as text, as pandas writes them once parsed as float64 (gaps stay null):
    text already in Python's notation is kept (``.0`` added to a whole number), the rest is
    parsed and formatted."""
    lengths = pc.fill_null(pc.binary_length(text), MAX_PLAIN_CHARS + 1)
    plain = _flags(pc.match_substring_regex(text, PYTHON_NUMBER)) & (
        lengths.to_numpy(zero_copy_only=False) <= MAX_PLAIN_CHARS
    )
    whole = plain & ~_flags(pc.match_substring(text, "."))
    if whole.any():
        text = pc.if_else(pa.array(whole), pc.binary_join_element_wise(text, ".0", ""), text)
    other = ~plain & ~text.is_null().to_numpy(zero_copy_only=False)
    if other.any():
        positions = pa.array(np.flatnonzero(other))
        written = float_text(pc.cast(pc.take(text, positions), pa.float64()))
        text = pc.replace_with_mask(text, pa.array(other), written)
    return text


def _flags(found: Any) -> np.ndarray:
    """A boolean Arrow array as numpy (null: False)."""
    return np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False), dtype=bool)


def integer_text(values: pa.Array, *, as_floats: bool) -> pa.Array:
    """Whole numbers as digits, or as floats (``3.0``) where pandas held them as floats."""
    if as_floats:
        return float_text(pc.cast(values, pa.float64()))
    return pc.cast(values, pa.string())


def time_text(values: pa.Array, unit: str, digits: int) -> pa.Array:
    """int64 times (in ``unit`` since the epoch, UTC; null: none) as pandas 3 writes a UTC
    column whose finest value needs ``digits`` fraction digits."""
    missing = values.is_null().to_numpy(zero_copy_only=False)
    ticks = pc.fill_null(values, 0).to_numpy(zero_copy_only=False)
    times = ticks.astype("int64").view(f"datetime64[{unit}]")
    shown: Any = UNIT_OF_DIGITS[digits]  # one of numpy's unit names
    text = np.char.replace(np.datetime_as_string(times, unit=shown), "T", " ")
    return pa.array(np.char.add(text, "+00:00"), type=pa.string(), mask=missing)


def time_digits(ticks: np.ndarray, unit: str) -> np.ndarray:
    """Per time (int64 in ``unit``), the fraction digits pandas writes it with: 0, 3, 6 or 9."""
    own = FRACTION_DIGITS[unit]
    fraction = ticks % 10**own
    digits = np.zeros(len(ticks), dtype=np.int8)
    for shown in (3, 6, 9):
        if shown <= own:  # a fraction that is no whole number of the previous step
            digits[fraction % 10 ** (own - shown + 3) != 0] = shown
    return digits


def needs_quotes(text: str) -> bool:
    return any(mark in text for mark in ',"\n')


def quoted(text: pa.Array) -> pa.Array:
    """Text fields, quoted (quotes doubled) where they hold a comma, a quote or a line break."""
    needs = pc.match_substring_regex(text, NEEDS_QUOTES)
    if not pc.any(needs).as_py():
        return text
    escaped = pc.replace_substring(text, '"', '""')
    wrapped = pc.binary_join_element_wise('"', escaped, '"', "")
    return pc.if_else(pc.fill_null(needs, False), wrapped, text)


def header_line(names: list[str]) -> bytes:
    return (",".join(quoted(pa.array(names, type=pa.string())).to_pylist()) + "\n").encode()


def csv_lines(columns: list[Any]) -> pa.Array:
    """Rows made of the given text columns (a null is an empty field), each ending in a line
    break, as one string array."""
    last = pc.binary_join_element_wise(
        columns[-1], "", "\n", null_handling="replace", null_replacement=""
    )
    lines = pc.binary_join_element_wise(
        *columns[:-1], last, ",", null_handling="replace", null_replacement=""
    )
    return lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines


def write_lines(handle: IO[bytes], lines: pa.Array) -> None:
    """Write the text of ``csv_lines`` (no copy)."""
    if len(lines) == 0:
        return
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[
        lines.offset : lines.offset + len(lines) + 1
    ]
    handle.write(memoryview(lines.buffers()[2])[offsets[0] : offsets[-1]])
