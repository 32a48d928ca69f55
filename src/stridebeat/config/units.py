"""Parsing the numbers people type: race times and durations."""

from __future__ import annotations

import math
import re

from stridebeat.errors import UsageError

_CLOCK = re.compile(r"^(?:(\d+):)?(\d+):(\d+(?:\.\d*)?)$")
_DURATION = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)\s*(h|m|min|s|sec|ms)?$")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "min": 60.0, "s": 1.0, "sec": 1.0, "ms": 0.001, None: 1.0}


def parse_time(text: str | float, *, what: str = "time") -> float:
    """Parse a race time: ``51``, ``51.0``, ``0:51.0``, ``1:05.3`` or ``1:02:03``.

    Parameters
    ----------
    text : str or float
        What the user typed (or a number from a preset).
    what : str
        The name used in the error message (``time``, ``split`` …).

    Returns
    -------
    float
        Seconds, finite and strictly positive.

    Raises
    ------
    UsageError
        For anything that is not a positive, finite time.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        seconds = float(text)
    else:
        s = str(text).strip()
        m = _CLOCK.match(s) if ":" in s else None
        if m:
            hours, minutes, secs = m.group(1), m.group(2), m.group(3)
            if float(secs) >= 60 or (hours is not None and int(minutes) >= 60):
                raise UsageError(f"{what} {s!r} is not a valid clock time: seconds and minutes must be below 60")
            seconds = int(hours or 0) * 3600 + int(minutes) * 60 + float(secs)
        else:
            try:
                seconds = float(s)
            except ValueError:
                raise UsageError(
                    f"{what} {s!r} is not a time: write seconds (51.0) or minutes:seconds (1:05.3)"
                ) from None
    if math.isnan(seconds) or math.isinf(seconds):
        raise UsageError(f"{what} {text!r} is not a finite number: write seconds (51.0) or minutes:seconds (1:05.3)")
    if seconds <= 0:
        raise UsageError(f"{what} must be positive, got {text!r}: write seconds (51.0) or minutes:seconds (1:05.3)")
    return seconds


def parse_duration(text: str | float, *, what: str = "duration") -> float:
    """Parse a duration: ``90`` or ``90s``, ``5m``, ``1.5h``, ``250ms``, ``1:30`` (minutes:seconds).

    Returns seconds (positive, finite); raises UsageError otherwise.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        seconds = float(text)
    else:
        s = str(text).strip().lower()
        if ":" in s:
            return parse_time(s, what=what)
        m = _DURATION.match(s)
        if not m:
            raise UsageError(f"{what} {text!r} is not a duration: write e.g. 90s, 5m, 1.5h or 1:30")
        seconds = float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
    if not math.isfinite(seconds) or seconds <= 0:
        raise UsageError(f"{what} must be a positive duration, got {text!r}: write e.g. 90s, 5m or 1:30")
    return seconds
