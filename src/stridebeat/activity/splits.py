"""A race's 100 m splits from a file (``--splits-from``): a CSV as spreadsheets write it, or ``plan --json``.

CSV: UTF-8 (with or without a byte-order mark) or Windows-1252 text; cells separated by commas, semicolons or tabs;
with semicolons or tabs a decimal comma is read as a point (``12,3``); a time may be seconds (``12.3``) or
minutes:seconds (``1:05.3``). Under a header, a column named ``split``/``split_s`` holds splits, or
``elapsed``/``elapsed_s`` elapsed times; without a header every cell is a split. JSON: the output of
``stridebeat plan --json`` for one rep (its ``splits``); a session's JSON holds several reps' splits and is refused
unless it has a single rep, since which rep to run is not the file's to say.
"""

from __future__ import annotations

import csv
import json
import math
import os
from typing import Any

from stridebeat.errors import UsageError
from stridebeat.inputs import read_input

MAX_BYTES = 1 << 20  # a race's splits are a few lines; a megabyte is far past any such file
SPLIT_RANGE_S = (1.0, 600.0)  # config.setting: the range of one 100 m split
MOST_SPLITS = 10
_HEADERS = ((("split_s", "split"), False), (("elapsed_s", "elapsed"), True))


def read_splits(path: str | os.PathLike[str], *, what: str, key: str | None = None) -> tuple[float, ...]:
    """The 100 m splits in the file at ``path``.

    Parameters
    ----------
    path : str or PathLike
        A CSV or the JSON of ``stridebeat plan --json``.
    what : str
        How messages name the file (``--splits-from race.csv``).
    key : str, optional
        The setting the errors are about (``splits_from``).

    Returns
    -------
    tuple of float
        Splits in seconds, each from 1 to 600 s.

    Raises
    ------
    UsageError
        Not a regular file, too large, not text, not splits, or splits out of range (one line naming ``what``).
    """
    text = _decode(read_input(path, what=what, max_bytes=MAX_BYTES))
    try:
        splits = _from_json(text, what, key) if text.lstrip().startswith("{") else _from_csv(text)
    except UsageError:
        raise
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, RecursionError):
        raise UsageError(
            f"{what}: not a CSV of 100 m splits nor the JSON of 'stridebeat plan --json'", key=key
        ) from None
    if not splits:
        raise UsageError(f"{what}: no splits in the file", key=key)
    if len(splits) > MOST_SPLITS:
        raise UsageError(f"{what}: {len(splits)} splits: a race of 1000 m at most has {MOST_SPLITS}", key=key)
    lo, hi = SPLIT_RANGE_S
    for n, split in enumerate(splits, 1):
        if not lo <= split <= hi:
            raise UsageError(
                f"{what}: split {n} is {split:.6g} s: give each 100 m split from {lo:g} to {hi:g} s", key=key
            )
    return tuple(splits)


def _decode(raw: bytes) -> str:
    """UTF-8 (a byte-order mark dropped), else Windows-1252, as spreadsheets on Windows save CSV."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _from_json(text: str, what: str, key: str | None) -> list[float]:
    data = json.loads(text)
    reps = data.get("reps") if isinstance(data, dict) else None
    if isinstance(reps, list) and data.get("splits") is None:
        if len(reps) != 1:
            raise UsageError(
                f"{what}: the plan of a session of {len(reps)} reps: give the JSON of one rep's plan "
                "('stridebeat plan REP --json')",
                key=key,
            )
        data = reps[0]
    return [_seconds(row["split_s"]) for row in data.get("splits") or []]


def _from_csv(text: str) -> list[float]:
    lines = [line for line in text.splitlines() if line.strip()]
    sample = "\n".join(lines[:5])
    delimiter = ";" if ";" in sample else "\t" if "\t" in sample else ","
    table = [[c.strip() for c in row] for row in csv.reader(lines, delimiter=delimiter)]
    table = [row for row in table if any(row)]
    if delimiter != ",":  # a decimal comma: only where commas do not separate cells
        table = [[c.replace(",", ".") for c in row] for row in table]
    header = [c.lower() for c in table[0]] if table else []
    for names, elapsed in _HEADERS:
        col = next((header.index(n) for n in names if n in header), None)
        if col is not None:
            values = [_seconds(row[col]) for row in table[1:] if col < len(row) and row[col]]
            if elapsed:
                values = [b - a for a, b in zip([0.0, *values], values)]
            return values
    return [_seconds(c) for row in table for c in row if c]


def _seconds(cell: Any) -> float:
    """Seconds of a cell: ``12.3`` or ``1:05.3`` (ValueError otherwise)."""
    if isinstance(cell, bool) or not isinstance(cell, (int, float, str)):
        raise ValueError(cell)
    if isinstance(cell, str) and ":" in cell:
        minutes, _, secs = cell.partition(":")
        if not (minutes.strip().isdigit() and len(minutes.strip()) <= 4):
            raise ValueError(cell)
        seconds = int(minutes) * 60 + float(secs)
    else:
        seconds = float(cell) if not isinstance(cell, int) or abs(cell) < 10**300 else math.inf
    if not math.isfinite(seconds):
        raise ValueError(cell)
    return seconds
