"""The public API's arguments, checked before any work: every function raises the documented errors only.

Settings given as keywords go through the settings' converters (``config/settings.py``); ``None`` for a setting means
"not given", as an absent keyword: a preset's value (or the default) stays. The other arguments (a preset name, a
flag, an offset) are checked here for their type and range, so a wrong type is a ``UsageError`` naming the argument,
never a ``TypeError`` from deep inside.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

from stridebeat.config import settings
from stridebeat.config.setting import MAX_TRACK_S
from stridebeat.errors import UsageError, show_value


def setting_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The setting keywords of an API call, each converted (None: not given, dropped).

    Returns
    -------
    dict
        Keys of ``settings.SETTINGS`` → converted values, those given as None left out.

    Raises
    ------
    UsageError
        An unknown keyword, or a value that does not fit its setting (``key`` and ``value`` set).
    """
    given = {k: v for k, v in values.items() if v is not None}
    settings.parse_values(given)  # every value checked now, before a preset or a plan is touched
    return given


def preset_ref(preset: Any, *, what: str = "preset") -> str | None:
    """A preset name or a path to a .toml file, as text (None stays None)."""
    if preset is None:
        return None
    if isinstance(preset, os.PathLike):
        preset = os.fspath(preset)
    if not isinstance(preset, str) or not preset.strip():
        raise UsageError(f"{what} {show_value(preset)} is not a preset name or a path to a .toml file")
    if not preset.isprintable():
        raise UsageError(f"{what} {show_value(preset)} holds a control character: give a preset name or a path")
    return preset


def name(value: Any, *, what: str = "name") -> str:
    """A preset's name as text (its characters are checked where the file is named)."""
    if not isinstance(value, str):
        raise UsageError(f"{what} {show_value(value)} is not text: give e.g. 'my-500'")
    return value


def flag(value: Any, *, what: str) -> bool:
    """A True/False argument (``force``, ``open_ended``, ``markers``)."""
    if not isinstance(value, bool):
        raise UsageError(f"{what} {show_value(value)} is not True or False")
    return value


def text(value: Any, *, what: str) -> str:
    """A text argument (a preset's description)."""
    if not isinstance(value, str):
        raise UsageError(f"{what} {show_value(value)} is not text: give a string")
    return value


def offset(value: Any, *, what: str = "gun_offset_s") -> float | None:
    """A time offset in seconds into a track: finite, 0 to the longest track (None stays None)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{what} {show_value(value)} is not a number of seconds")
    if not (0 <= value <= MAX_TRACK_S and math.isfinite(value)):  # compared first: a huge int has no float
        raise UsageError(f"{what} {show_value(value)} is out of range: give 0 to {MAX_TRACK_S:g} s")
    return float(value)


def instance(value: Any, kind: type, *, what: str) -> Any:
    """An argument that must be one of the package's records (a Job, a StrideModel)."""
    if not isinstance(value, kind):
        raise UsageError(f"{what} is a {type(value).__name__}, not a {kind.__name__}: make one with stridebeat's API")
    return value
