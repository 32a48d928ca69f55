"""Parsing the numbers people type: race times and durations, and writing a clock time back."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from stridebeat.errors import UsageError, show_value

# At most six digits before a colon: a clock time is minutes and seconds (or hours), never a 400-digit number.
_CLOCK = re.compile(r"^(?:(\d{1,6}):)?(\d{1,6}):(\d{1,2}(?:\.\d*)?)$")
_DURATION = re.compile(r"^(\d+(?:\.\d*)?(?:e[+-]?\d+)?|\.\d+)\s*(h|m|min|s|sec|ms)?$")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "min": 60.0, "s": 1.0, "sec": 1.0, "ms": 0.001, None: 1.0}
TIME_HINT = "write seconds (51.0) or minutes:seconds (1:05.3)"
DURATION_HINT = "write e.g. 90s, 5m, 1.5h or 1:30"


class TimeText(UsageError):
    """A time or duration that does not read: the message is the reason alone, to follow the subject."""


DurationText = TimeText


def time_seconds(text: str | float) -> float:
    """Seconds of a race time: ``51``, ``51.0``, ``0:51.0``, ``1:05.3`` or ``1:02:03``.

    Parameters
    ----------
    text : str or float
        What the user typed (or a number from a preset).

    Returns
    -------
    float
        Seconds, strictly positive; infinite for a number too large for a float (the caller's range refuses it).

    Raises
    ------
    TimeText
        A UsageError whose message is the reason alone ("is not a time: …"), for anything that is not a positive,
        finite time.
    """
    if isinstance(text, bool) or not isinstance(text, (int, float, str)):
        raise TimeText(f"is not a time: {TIME_HINT}")
    if isinstance(text, int) and abs(text) > 1e300:
        return math.inf if text > 0 else -math.inf  # too large for a float: the caller's range refuses it
    if isinstance(text, (int, float)):
        seconds = float(text)
    else:
        s = text.strip()
        m = _CLOCK.match(s) if ":" in s else None
        if m:
            hours, minutes, secs = m.group(1), m.group(2), m.group(3)
            if float(secs) >= 60 or (hours is not None and int(minutes) >= 60):
                raise TimeText("is not a valid clock time: seconds and minutes must be below 60")
            seconds = int(hours or 0) * 3600 + int(minutes) * 60 + float(secs)
        else:
            try:
                seconds = float(s)
            except ValueError:
                raise TimeText(f"is not a time: {TIME_HINT}") from None
    if math.isnan(seconds) or (math.isinf(seconds) and _spelled_inf(text)):
        raise TimeText(f"is not a finite number: {TIME_HINT}")
    if seconds <= 0:
        raise TimeText(f"is not positive: {TIME_HINT}")
    return seconds


def _spelled_inf(text: object) -> bool:
    """Whether an infinite value was given as such (``inf``), not as a number too large for a float."""
    return not isinstance(text, (int, str)) or "inf" in str(text).lower()


def parse_time(text: str | float, *, what: str = "time") -> float:
    """``time_seconds``, with errors that name ``what`` and the text (``time '51s' is not a time: …``).

    Raises
    ------
    UsageError
        For anything that is not a positive, finite time.
    """
    return _named(time_seconds, text, what=what, infinite=f"is not a finite number: {TIME_HINT}")


def duration_seconds(text: str | float) -> float:
    """Seconds of a duration: ``90`` or ``90s``, ``5m``, ``1.5h``, ``250ms``, ``1:30`` (minutes:seconds).

    Returns seconds, strictly positive; infinite for a number too large for a float.

    Raises
    ------
    TimeText
        The reason alone, for anything that is not a positive duration.
    """
    if isinstance(text, bool) or not isinstance(text, (int, float, str)):
        raise TimeText(f"is not a duration: {DURATION_HINT}")
    if isinstance(text, int) and abs(text) > 1e300:
        return math.inf if text > 0 else -math.inf
    if isinstance(text, (int, float)):
        seconds = float(text)
    else:
        s = text.strip().lower()
        if ":" in s:
            return time_seconds(s)
        m = _DURATION.match(s)
        if not m:
            raise TimeText(f"is not a duration: {DURATION_HINT}")
        seconds = float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
    if math.isnan(seconds) or (math.isinf(seconds) and _spelled_inf(text)) or seconds <= 0:
        raise TimeText(f"is not a positive duration: {DURATION_HINT}")
    return seconds


def parse_duration(text: str | float, *, what: str = "duration") -> float:
    """``duration_seconds``, with errors that name ``what`` and the text.

    Raises
    ------
    UsageError
        For anything that is not a positive, finite duration.
    """
    return _named(duration_seconds, text, what=what, infinite=f"is not a positive duration: {DURATION_HINT}")


def _named(read: Callable[[str | float], float], text: str | float, *, what: str, infinite: str) -> float:
    """``read(text)``, finite, or a UsageError naming ``what`` and the text as typed."""
    try:
        seconds = read(text)
        if math.isinf(seconds):
            raise TimeText(infinite)
        return seconds
    except TimeText as exc:
        raise UsageError(f"{what} {show_value(text, typed=True)!r} {exc}") from None


def clock(seconds: float) -> str:
    """A length as a clock reads: ``59:59``, ``1:00:00``, ``45`` (whole seconds)."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}" if minutes else f"{secs}"
