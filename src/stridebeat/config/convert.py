"""Converters: what a person types (``"1:05.3"``, ``"48%"``, ``"12.2,11.9"``) or a preset holds (65.3, [12.2, 11.9])
turned into the setting's Python value, with its range checked before any arithmetic.

A converter is called as ``convert(value, key)``; it returns the value or raises ``UsageError(reason, key=key,
value=value)`` with a reason that follows the setting's subject ("is out of range: give 35 to 80"): the command line,
a preset or the API puts the subject in its own words before it (see ``stridebeat.errors``). A number is compared
with its range before it is converted, so a 400-digit integer or ``1e400`` is refused in one line instead of
overflowing, and NaN never passes.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stridebeat.config.units import TimeText, clock, duration_seconds, time_seconds
from stridebeat.errors import UsageError, show_value

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")
MAX_TEXT = 4096  # a path or a name longer than any file system takes


def refuse(reason: str, key: str, value: Any) -> UsageError:
    return UsageError(reason, key=key, value=value)


def real(value: Any, key: str, *, percent: bool = False) -> float:
    """A number from an int, a float or its text (``"48%"`` with ``percent``): NaN is refused, and a number too large
    for a float is infinite, which every range refuses."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise refuse("is not a number", key, value)
    if isinstance(value, int):
        return float(value) if abs(value) <= 1e300 else (math.inf if value > 0 else -math.inf)
    text = value.strip().removesuffix("%") if isinstance(value, str) and percent else value
    try:
        number = float(text)
    except (ValueError, OverflowError):
        raise refuse("is not a number", key, value) from None
    if math.isnan(number):
        raise refuse("is not a number", key, value)
    return number


@dataclass(frozen=True, slots=True)
class Number:
    """A number from ``lo`` to ``hi`` (inclusive), in ``unit``; ``whole`` for whole numbers."""

    lo: float
    hi: float
    unit: str = ""
    whole: bool = False

    def __call__(self, value: Any, key: str) -> float | int:
        number = _whole(value, key) if self.whole else real(value, key)
        if not self.lo <= number <= self.hi:
            raise refuse(f"is out of range: give {_num(self.lo)} to {_num(self.hi)}{self.unit}", key, value)
        return int(number) if self.whole else float(number)


def _num(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


def _whole(value: Any, key: str) -> int | float:
    """A whole number (an int, or a float or text that is one); infinite when too large for a float."""
    if isinstance(value, bool):
        raise refuse("is not a whole number", key, value)
    if isinstance(value, int):
        return value
    number = real(value, key)
    if math.isinf(number):
        return number
    if not number.is_integer():
        raise refuse("is not a whole number", key, value)
    return int(number)


@dataclass(frozen=True, slots=True)
class OneOf:
    """One of a few whole numbers (sample rates)."""

    values: tuple[int, ...]
    what: str

    def __call__(self, value: Any, key: str) -> int:
        number = _whole(value, key)
        if number not in self.values:  # an infinite or huge number is in no list
            raise refuse(f"is not a {self.what}: give one of {', '.join(map(str, self.values))}", key, value)
        return int(number)


@dataclass(frozen=True, slots=True)
class Time:
    """A time in seconds (``51``, ``"1:05.3"``), above 0 and at most ``hi``."""

    hi: float

    def __call__(self, value: Any, key: str) -> float:
        seconds = _seconds(value, key, time_seconds)
        if seconds > self.hi:
            raise refuse(f"is out of range: give a time up to {clock(self.hi)}", key, value)
        return seconds


@dataclass(frozen=True, slots=True)
class Duration:
    """A duration (``90s``, ``5m``, ``1:30``) from ``lo`` to ``hi`` seconds; 0 is "none" when ``lo`` is 0."""

    lo: float
    hi: float
    whole: bool = False  # whole seconds only (what the voice can say)
    longest: str = ""  # what ``hi`` is, for the message ("the longest track (24 h)")
    most: float | None = None  # the longest that plays with the default silence around it, named in that message

    def __call__(self, value: Any, key: str) -> float:
        if self.lo == 0 and _is_zero(value):
            return 0.0
        seconds = _seconds(value, key, duration_seconds)
        if seconds > self.hi and self.longest:
            most = self.hi if self.most is None else self.most
            raise refuse(f"is longer than {self.longest}: give {_dur(most)} or less", key, value)
        if not self.lo <= seconds <= self.hi:
            span = f"{_dur(self.lo)} to {_dur(self.hi)}" if self.lo else f"{_dur(self.hi)} or less"
            raise refuse(f"is out of range: give {span}", key, value)
        if self.whole and not math.isclose(seconds, round(seconds), abs_tol=1e-9):
            raise refuse("is not a whole number of seconds: give e.g. 90s or 6m", key, value)
        return float(round(seconds)) if self.whole else seconds


def _dur(seconds: float) -> str:
    """``24h``, ``6m``, ``59:59``, ``23:59:58``, ``10s``: as short as the number allows."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g}h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g}m"
    return clock(seconds) if seconds >= 60 else f"{seconds:g}s"


def _is_zero(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return value == 0
    return isinstance(value, str) and value.strip().lower() in ("0", "0s", "0.0")


def _seconds(value: Any, key: str, parse: Callable[[Any], float]) -> float:
    """Seconds from a number or its text through ``parse`` (``units.time_seconds`` or ``duration_seconds``)."""
    try:
        return parse(value)
    except TimeText as exc:
        raise refuse(exc.reason, key, value) from None


def fraction(value: Any, key: str, *, bare_percent_above: float) -> float:
    """A fraction from ``48%`` or 0.48; a bare number above ``bare_percent_above`` is read as per cent (48)."""
    number = real(value, key, percent=True)
    percent = isinstance(value, str) and value.strip().endswith("%")
    return number / 100.0 if (percent or number > bare_percent_above) else number


@dataclass(frozen=True, slots=True)
class Share:
    """A share of the time in the first half: ``48%`` or 0.48, strictly between ``lo`` and ``hi``."""

    lo: float = 0.3
    hi: float = 0.7

    def __call__(self, value: Any, key: str) -> float:
        number = fraction(value, key, bare_percent_above=1.0)
        if not self.lo < number < self.hi:
            raise refuse("is not a plausible share of the time: give e.g. 48% or 0.48", key, value)
        return number


@dataclass(frozen=True, slots=True)
class Percent:
    """An intensity: ``85%`` or 0.85 (above 1.5 a bare number is read as per cent), from ``lo`` to ``hi``."""

    lo: float = 0.3
    hi: float = 1.05

    def __call__(self, value: Any, key: str) -> float:
        number = fraction(value, key, bare_percent_above=1.5)
        if not self.lo <= number <= self.hi:
            raise refuse(f"is out of range: give {self.lo:.0%} to {self.hi:.0%}", key, value)
        return number


@dataclass(frozen=True, slots=True)
class Choice:
    """One of ``choices`` (a vocabulary tuple of the core)."""

    choices: tuple[str, ...]

    def __call__(self, value: Any, key: str) -> str:
        if isinstance(value, str):
            for choice in self.choices:
                if choice == value:
                    return choice
        raise refuse(f"is not one of {', '.join(self.choices)}", key, value)


def flag(value: Any, key: str) -> bool:
    """true or false (also yes/no, on/off, 1/0 as typed)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, str)):
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise refuse("is not true or false", key, value)


@dataclass(frozen=True, slots=True)
class Text:
    """A name or a path as text: not empty, one line, no control characters."""

    what: str  # "a race name", "a file name" …

    def __call__(self, value: Any, key: str) -> str:
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        if not isinstance(value, str):
            raise refuse(f"is not text: give {self.what}", key, value)
        text = value.strip()
        if not text:
            raise refuse(f"is empty: give {self.what}", key, value)
        if _CONTROL.search(text) or len(text) > MAX_TEXT:
            raise refuse(f"is not {self.what} (control characters or too long)", key, value)
        return text


@dataclass(frozen=True, slots=True)
class Splits:
    """Splits per 100 m: a list, or comma-separated text; each a time from ``lo`` to ``hi`` seconds."""

    lo: float = 1.0
    hi: float = 600.0
    most: int = 10  # 1000 m, the longest distance

    def __call__(self, value: Any, key: str) -> tuple[float, ...]:
        if isinstance(value, str):
            items: list[Any] = [p for p in value.split(",") if p.strip()]
        elif isinstance(value, (list, tuple)):
            items = list(value)
        else:
            raise refuse("is not a list of splits: give e.g. 12.2,11.9,12.6,14.3", key, value)
        if not items or len(items) > self.most:
            raise refuse(f"is not 1 to {self.most} splits (one per 100 m): give e.g. 12.2,11.9,12.6,14.3", key, value)
        out = []
        for item in items:
            try:
                split = Time(self.hi)(item, key)
            except UsageError:
                split = math.nan
            if not self.lo <= split <= self.hi:
                shown = show_value(item.strip() if isinstance(item, str) else item, typed=True)
                raise refuse(
                    f"has a split of {shown}: give each 100 m split from {self.lo:g} to {self.hi:g} s", key, value
                ) from None
            out.append(split)
        return tuple(out)


@dataclass(frozen=True, slots=True)
class HoldRange:
    """The hold from "set" to the gun: seconds, or a range ``lo-hi`` drawn at random, within ``lo`` to ``hi``."""

    lo: float = 0.5
    hi: float = 5.0

    def __call__(self, value: Any, key: str) -> tuple[float, float]:
        try:
            if isinstance(value, str):
                parts = value.replace("..", "-").split("-")
                if len(parts) not in (1, 2):
                    raise ValueError
                pair = (real(parts[0], key), real(parts[-1], key))
            elif isinstance(value, (list, tuple)) and len(value) == 2:
                pair = (real(value[0], key), real(value[1], key))
            else:
                pair = (real(value, key),) * 2
        except (UsageError, ValueError):
            pair = (math.nan, math.nan)
        lo, hi = pair
        if not self.lo <= lo <= hi <= self.hi:
            raise refuse(
                f"is not a hold in seconds: give e.g. 1.75 or 1.5-2.2 ({self.lo:g} to {self.hi:g} s)", key, value
            )
        return (lo, hi)


@dataclass(frozen=True, slots=True)
class Paths:
    """Files or folders that exist: a list, or text typed once or more (``a.mp3,b.mp3``; a name that exists is
    taken whole, so a song named ``Artist, Song.wav`` works)."""

    what: str = "a song file or a folder of songs"

    def __call__(self, value: Any, key: str) -> tuple[str, ...]:
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        paths: list[str] = []
        for item in items:
            text = Text(self.what)(item, key)
            parts = [text] if os.path.exists(text) else [p.strip() for p in text.split(",") if p.strip()]
            paths += parts
        if not paths:
            raise refuse(f"is empty: give {self.what}", key, value)
        for p in paths:
            if not os.path.exists(p):
                raise refuse(f"names {p}: no such file or folder; check the path", key, value)
        return tuple(paths)


@dataclass(frozen=True, slots=True)
class Voice:
    """A shipped voice, ``none``, or a folder of one's own clips."""

    choices: tuple[str, ...]

    def __call__(self, value: Any, key: str) -> str:
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        if isinstance(value, str):
            for choice in self.choices:
                if choice == value:
                    return choice
            if value.strip() and not _CONTROL.search(value) and os.path.isdir(value):
                return value
        raise refuse(
            f"is not a voice: give {', '.join(self.choices)} or a folder of clips (see 'stridebeat voice words')",
            key,
            value,
        )
