"""One vocabulary for command-line options, preset keys, API keywords and form fields, and its conversion.

Every setting has a key (``steps_per_100m``: the preset key and the Python name), a flag (``--steps-per-100m``) and a
converter that turns what people type ("1:05.3", "48%", "12.2,11.9") or a preset holds (65.3, [12.2, 11.9]) into the
engine's value, its range checked first (``config/convert.py``). ``SETTINGS`` is the only list of them
(``config/plan_settings.py`` and ``config/sound_settings.py``); the CLI builds its options from it and presets
validate their keys against it. ``stridebeat.config.gate`` turns converted values into the engine's objects.

A value of ``None`` means "not given", from every source alike: the preset's value (or the default) stays.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stridebeat.config.plan_settings import PLAN_SETTINGS
from stridebeat.config.setting import Setting
from stridebeat.config.sound_settings import SOUND_SETTINGS
from stridebeat.errors import UsageError

__all__ = ["BY_KEY", "DISPLACES", "SETTINGS", "TRACK_GROUPS", "Setting", "override", "parse_value", "parse_values"]

SETTINGS: tuple[Setting, ...] = (*PLAN_SETTINGS, *SOUND_SETTINGS)
BY_KEY = {s.key: s for s in SETTINGS}
TRACK_GROUPS = ("sound", "voice")  # settings that describe the whole track: one value per session

# An option typed on the command line displaces the preset's settings that say the same thing another way, so the
# override wins instead of colliding ("give either --time or --intensity"). Keys are settings.SETTINGS keys.
_PLAN_KEYS = tuple(s.key for s in SETTINGS if s.group in ("plan", "stride"))
_SAME_THING = {
    "time": ("intensity",),
    "intensity": ("time",),
    "splits": ("time", "intensity", "strategy", "first_half", "differential", "splits_from", "like"),
    "splits_from": ("time", "intensity", "strategy", "first_half", "differential", "splits", "like"),
    "like": ("strategy", "first_half", "differential", "splits", "splits_from"),
    "strategy": ("splits",),
    "first_half": ("differential",),
    "differential": ("first_half",),
    "steps_per_100m": ("step_length", "height", "stride"),
    "step_length": ("steps_per_100m", "height", "stride"),
    "height": ("steps_per_100m", "step_length", "stride"),
    "stride": ("steps_per_100m", "step_length", "height"),
    "reference_time": ("max_speed",),
    "max_speed": ("reference_time",),
}
# A race plan and a plain metronome exclude each other: a plan option drops the preset's metronome and vice versa.
DISPLACES: dict[str, tuple[str, ...]] = {
    **{key: (*_SAME_THING.get(key, ()), "cadence", "duration") for key in _PLAN_KEYS if key != "hold_last"},
    "cadence": _PLAN_KEYS,
    "duration": _PLAN_KEYS,
}


def parse_value(setting: Setting, value: Any) -> Any:
    """The setting's Python value of ``value`` (None stays None: not given).

    Raises
    ------
    UsageError
        With ``key`` and ``value`` set and the reason as message, when the value does not fit the setting.
    """
    return None if value is None else setting.convert(value, setting.key)


def parse_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Validate and convert a dict of raw values.

    Raises
    ------
    UsageError
        An unknown key (``key`` set to it), or a value that does not fit its setting.
    """
    out = {}
    for key, raw in values.items():
        setting = BY_KEY.get(key) if isinstance(key, str) else None
        if setting is None:
            raise UsageError(f"unknown setting {key!r}", key=key if isinstance(key, str) else None)
        out[key] = parse_value(setting, raw)
    return out


def with_defaults(values: Mapping[str, Any]) -> dict[str, Any]:
    return {s.key: s.default if values.get(s.key) is None else values[s.key] for s in SETTINGS}


def override(values: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with ``overrides`` on top; an override also removes the settings it displaces (``DISPLACES``).

    An override of None is "not given": it neither replaces nor displaces anything.
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    out = dict(values)
    for key in given:
        for other in DISPLACES.get(key, ()):
            if other not in given:
                out.pop(other, None)
    out.update(given)
    return out
