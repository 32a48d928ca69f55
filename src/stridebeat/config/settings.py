"""One vocabulary for command-line options, preset keys and plan objects, and one gate from it to the objects.

Every setting has a key (``steps_per_100m``: the preset key and the Python name) and a flag (``--steps-per-100m``).
``SETTINGS`` is the only list of them; the CLI builds its options from it and presets validate their keys against it.
Values may be strings as typed ("1:05.3", "48%", "12.2,11.9") or native TOML values (65.3, 0.48, [12.2, 11.9]).
``stridebeat.config.gate`` turns parsed values into the engine's objects.

"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stridebeat.config.units import parse_duration, parse_time
from stridebeat.core.vocabulary import CALLS, CLICK_SOUNDS, SEXES, STARTS, STRATEGIES, VOICE_CHOICES
from stridebeat.errors import UsageError


@dataclass(frozen=True, slots=True, kw_only=True)
class Setting:
    key: str
    kind: str  # float, int, time, duration, share, splits, choice, bool, name, path, paths
    group: str  # plan, stride, sound, metronome
    help: str
    default: Any = None
    choices: tuple[str, ...] = ()
    metavar: str | None = None

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")


SETTINGS: tuple[Setting, ...] = (
    # The race plan
    Setting(
        key="distance",
        kind="float",
        group="plan",
        help="Race or rep distance in metres, 100 to 1000.",
        default=400.0,
        metavar="M",
    ),
    Setting(
        key="time",
        kind="time",
        group="plan",
        help="Target time: 51, 51.0, 0:51.0 or 1:05.3 (default 51 s for 400 m).",
        metavar="TIME",
    ),
    Setting(
        key="start",
        kind="choice",
        group="plan",
        help="blocks (reaction + acceleration), standing, or rolling (already at speed).",
        default="blocks",
        choices=STARTS,
    ),
    Setting(
        key="strategy",
        kind="choice",
        group="plan",
        help="race: realistic splits (first 200 m ≈ 48 % of the time); even: constant pace after the start; "
        "custom: your --splits.",
        default="race",
        choices=STRATEGIES,
    ),
    Setting(
        key="splits",
        kind="splits",
        group="plan",
        help="Custom splits per 100 m, e.g. 12.2,11.9,12.6,14.3 (implies --strategy custom).",
        metavar="S1,S2,…",
    ),
    Setting(
        key="splits_from",
        kind="path",
        group="plan",
        help="Custom splits from a file: a CSV of 100 m splits (or elapsed times), or the JSON of 'stridebeat plan "
        "--json' (replay your own race).",
        metavar="FILE",
    ),
    Setting(
        key="like",
        kind="name",
        group="plan",
        help="Pace it like a race of the library, scaled to --time (its own time without): e.g. van-niekerk-2016 "
        "('stridebeat races' lists them).",
        metavar="RACE",
    ),
    Setting(
        key="reaction",
        kind="float",
        group="plan",
        help="Reaction time out of the blocks in seconds, 0.1 to 0.4, e.g. 0.16 (default 0.15; with --like, the "
        "race's own where it is published).",
        metavar="S",
    ),
    Setting(
        key="sex",
        kind="choice",
        group="plan",
        help="M or F: the default 400 m shape, and the level a time implies (without it, the men's bands).",
        choices=SEXES,
    ),
    Setting(
        key="first_half",
        kind="share",
        group="plan",
        help="Share of the time spent in the first half, e.g. 48% or 0.48 (race strategy).",
        metavar="SHARE",
    ),
    Setting(
        key="differential",
        kind="float",
        group="plan",
        help="Seconds the second half is slower than the first, e.g. 2.0 (race strategy).",
        metavar="S",
    ),
    Setting(
        key="intensity",
        kind="percent",
        group="plan",
        help="Run at this share of a reference speed instead of a --time, e.g. 85% (with --reference-time or "
        "--max-speed): 500 m at 85% of a 51.0 s 400 m takes 500 / (400 / 51.0 × 0.85) = 75.0 s.",
        metavar="PCT",
    ),
    Setting(
        key="reference_time",
        kind="time",
        group="plan",
        help="The athlete's race time that --intensity refers to, e.g. 51.0.",
        metavar="TIME",
    ),
    Setting(
        key="reference_distance",
        kind="float",
        group="plan",
        help="The distance of that reference race, in metres.",
        default=400.0,
        metavar="M",
    ),
    Setting(
        key="max_speed",
        kind="float",
        group="plan",
        help="A maximum speed in m/s that --intensity refers to (instead of a race).",
        metavar="M/S",
    ),
    Setting(
        key="allow_faster_than_record",
        kind="bool",
        group="plan",
        help="Accept a target faster than the world record.",
        default=False,
    ),
    # The stride model
    Setting(
        key="steps_per_100m",
        kind="float",
        group="stride",
        help="Steps you take per 100 m at race pace, 35 to 80 (counted: most reliable).",
        metavar="N",
    ),
    Setting(
        key="step_length",
        kind="float",
        group="stride",
        help="Your step length at race pace, 1.25 to 2.9 m.",
        metavar="M",
    ),
    Setting(
        key="height",
        kind="float",
        group="stride",
        help="Your height, 1.2 to 2.3 m (a rough estimate of step length).",
        metavar="M",
    ),
    Setting(
        key="stride",
        kind="profile",
        group="stride",
        help="Your stride profile, saved by 'stridebeat calibrate RUN --save NAME' from a recorded run.",
        metavar="NAME",
    ),
    Setting(
        key="hold_last",
        kind="float",
        group="stride",
        help="Hold the cadence constant through the last this many metres, starting after the first 100 m (0 turns "
        "it off; default 200 m, or half of a shorter distance).",
        metavar="M",
    ),
    # The metronome (instead of a race plan)
    Setting(
        key="cadence",
        kind="float",
        group="metronome",
        help="Plain metronome at this many steps per minute, 120 to 300 (no race plan).",
        metavar="SPM",
    ),
    Setting(
        key="allow_any_cadence",
        kind="bool",
        group="metronome",
        help="Accept a metronome cadence outside 120–300 spm (30 to 400, for drills).",
        default=False,
    ),
    Setting(
        key="duration",
        kind="duration",
        group="metronome",
        help="Length of a metronome track: 90s, 5m, 20m, 1:30.",
        metavar="DUR",
    ),
    # How it sounds
    Setting(key="sound", kind="choice", group="sound", help="Click sound.", default="woodblock", choices=CLICK_SOUNDS),
    Setting(
        key="accent",
        kind="int",
        group="sound",
        help="Accent every N steps (2: every stride; 0: no accent).",
        default=0,
        metavar="N",
    ),
    Setting(
        key="pan",
        kind="bool",
        group="sound",
        help="Pan each footstrike to the side of the landing foot.",
        default=False,
    ),
    Setting(key="volume", kind="float", group="sound", help="Level in dB, -60 to 0.", default=0.0, metavar="DB"),
    Setting(
        key="split_tone",
        kind="bool",
        group="sound",
        help="Chime at every 100 m (default: only when there is no voice).",
    ),
    Setting(key="gun", kind="bool", group="sound", help="A starter's gun at the start of a race.", default=True),
    Setting(
        key="samplerate",
        kind="int",
        group="sound",
        help="Output sample rate (22050, 32000, 44100, 48000, 88200, 96000).",
        default=44100,
        metavar="HZ",
    ),
    Setting(
        key="quality",
        kind="choice",
        group="sound",
        help="Encoding of .ogg and .mp3 files: high keeps the calls as in the WAV; medium and small are smaller files.",
        default="high",
        choices=("high", "medium", "small"),  # core.track.QUALITIES; the words stay here so --help loads no numpy
    ),
    Setting(
        key="lead_in",
        kind="duration",
        group="sound",
        help="Silence before the gun (default 5 s for a race, 0 for a metronome).",
        metavar="DUR",
    ),
    Setting(key="tail", kind="duration", group="sound", help="Silence after the finish.", default=2.0, metavar="DUR"),
    # Your own music on the beat of the plan (config/music.py; needs the music extra)
    Setting(
        key="music",
        kind="paths",
        group="sound",
        help="Your songs, on the beat of the plan: files or folders (a playlist, in name order); repeat the option or "
        "separate them with commas; "
        "needs pip install 'stridebeat[music]' and the rubberband program.",
        metavar="FILE,…",
    ),
    Setting(
        key="music_every",
        kind="choice",
        group="sound",
        help="A beat of the music on every step or every stride (default: whichever needs the smaller stretch).",
        choices=("step", "stride"),
    ),
    Setting(
        key="music_bpm",
        kind="float",
        group="sound",
        help="The songs' tempo when beat detection fails, e.g. 120.",
        metavar="BPM",
    ),
    Setting(
        key="music_offset",
        kind="float",
        group="sound",
        help="Time of a song's first beat in seconds, when detection misplaces it.",
        metavar="S",
    ),
    Setting(
        key="music_stretch",
        kind="choice",
        group="sound",
        help="The time-stretch (Rubber Band): clean (R3, short window: held notes as clean as Rubber Band gets), "
        "crisp (R2: the sharpest kicks, phasier held notes) or fine (R3, standard window: several times slower).",
        default="clean",
        choices=("clean", "crisp", "fine"),
    ),
    Setting(
        key="music_duck",
        kind="float",
        group="sound",
        help="Lower the music by this many dB while a voice speaks (deeper than the clicks' --duck: the music is "
        "louder than the calls).",
        default=20.0,
        metavar="DB",
    ),
    Setting(
        key="music_in_rest",
        kind="choice",
        group="sound",
        help="Music in a session's rests: soft (12 dB lower, unstretched) or off.",
        default="soft",
        choices=("off", "soft"),
    ),
    Setting(
        key="clicks",
        kind="choice",
        group="sound",
        help="The footstrike clicks: on, soft (12 dB lower) or off; soft and off only with --music.",
        default="on",
        choices=("on", "soft", "off"),
    ),
)
SETTINGS += (
    # Spoken cues
    Setting(
        key="voice",
        kind="choice",
        group="voice",
        help="Voice of the calls; none for a bare click track.",
        default="female",
        choices=VOICE_CHOICES,
    ),
    Setting(
        key="calls",
        kind="choice",
        group="voice",
        help="What is called at each 100 m: the planned elapsed time, the distance, both, or nothing.",
        default="time",
        choices=CALLS,
    ),
    Setting(
        key="call_hold",
        kind="bool",
        group="voice",
        help='Call "hold the rhythm" where the held cadence begins.',
        default=True,
    ),
    Setting(key="call_finish", kind="bool", group="voice", help="Call the finish time.", default=True),
    Setting(
        key="start_sequence",
        kind="bool",
        group="voice",
        help='"On your marks … Set …" before the gun (blocks and standing starts).',
        default=True,
    ),
    Setting(
        key="settle",
        kind="duration",
        group="voice",
        help='Pause between "on your marks" and "set".',
        default=5.0,
        metavar="DUR",
    ),
    Setting(
        key="set_hold",
        kind="range",
        group="voice",
        help='Time from "set" to the gun, in seconds, or a range such as 1.5-2.2 for a random hold (start practice).',
        default=(1.75, 1.75),
        metavar="S|LO-HI",
    ),
    Setting(
        key="seed",
        kind="int",
        group="voice",
        help="Seed for a random --set-hold range (the same seed gives the same hold).",
        metavar="N",
    ),
    Setting(
        key="cue_lead",
        kind="float",
        group="voice",
        help="Start each call this many seconds before its mark (0: on the mark).",
        default=0.0,
        metavar="S",
    ),
    Setting(
        key="duck",
        kind="float",
        group="voice",
        help="Lower the clicks by this many dB while a voice speaks (they never stop).",
        default=10.0,
        metavar="DB",
    ),
)
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
    """Turn a typed string or a TOML value into the setting's Python value (UsageError when it does not fit)."""
    flag = setting.flag
    if value is None:
        return None
    kind = setting.kind
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "yes", "on", "1"):
            return True
        if text in ("false", "no", "off", "0"):
            return False
        raise UsageError(f"{flag} takes true or false, got {value!r}")
    if kind == "choice":
        if value not in setting.choices:
            raise UsageError(f"{flag} {value!r} is not one of {', '.join(setting.choices)}")
        return value
    if kind in ("name", "path", "profile"):
        text = str(value).strip()
        if not text:
            what = {"name": "race name", "path": "file name", "profile": "stride profile name"}[kind]
            raise UsageError(f"{flag} needs a {what}")
        return text
    if kind == "paths":  # one or more files or folders: a TOML list, or comma-separated as typed
        from stridebeat.config.music import parse_paths

        return parse_paths(value, flag)
    if kind == "time":
        return parse_time(value, what="time" if setting.key == "time" else flag)
    if kind == "duration":
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0:
            return 0.0  # no lead-in / no tail
        if str(value).strip() in ("0", "0s"):
            return 0.0
        return parse_duration(value, what=flag)
    if kind == "range":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            lo = hi = float(value)
        elif isinstance(value, (list, tuple)) and len(value) == 2:
            lo, hi = (float(x) for x in value)
        else:
            parts = str(value).replace("..", "-").split("-")
            try:
                lo, hi = (float(parts[0]), float(parts[-1])) if len(parts) in (1, 2) else (math.nan, math.nan)
            except ValueError:
                lo = hi = math.nan
        if not (math.isfinite(lo) and math.isfinite(hi) and 0.5 <= lo <= hi <= 5.0):
            raise UsageError(f"{flag} {value!r} is not a hold in seconds: give e.g. 1.75 or 1.5-2.2 (0.5 to 5 s)")
        return (lo, hi)
    if kind == "splits":
        items = value if isinstance(value, (list, tuple)) else [p for p in str(value).split(",") if p.strip()]
        return tuple(parse_time(p, what="split") for p in items)
    if kind == "int":
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise UsageError(f"{flag} takes a whole number, got {value!r}")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise UsageError(f"{flag} takes a whole number, got {value!r}") from None
    if kind in ("float", "share", "percent"):
        text = str(value).strip()
        percent = kind in ("share", "percent") and text.endswith("%")
        try:
            number = float(text.rstrip("%")) if isinstance(value, str) else float(value)
        except (TypeError, ValueError):
            raise UsageError(f"{flag} takes a number, got {value!r}") from None
        if isinstance(value, bool) or not math.isfinite(number):
            raise UsageError(f"{flag} takes a finite number, got {value!r}")
        if kind == "share":
            number = number / 100.0 if (percent or number > 1.0) else number
            if not 0.3 < number < 0.7:
                raise UsageError(f"{flag} {value!r} is not a plausible share of the time: give e.g. 48% or 0.48")
        if kind == "percent":
            number = number / 100.0 if (percent or number > 1.5) else number
            if not 0.3 <= number <= 1.05:
                raise UsageError(f"{flag} {value!r} is out of range: give 30% to 105%")
        return number
    raise AssertionError(f"unknown setting kind {kind}")  # a programming error in SETTINGS, not user input


def parse_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Validate and convert a dict of raw values (unknown keys are a UsageError)."""
    out = {}
    for key, raw in values.items():
        setting = BY_KEY.get(key)
        if setting is None:
            raise UsageError(f"unknown setting {key!r}")
        out[key] = parse_value(setting, raw)
    return out


def with_defaults(values: Mapping[str, Any]) -> dict[str, Any]:
    return {s.key: s.default if values.get(s.key) is None else values[s.key] for s in SETTINGS}


def override(values: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with ``overrides`` on top; an override also removes the settings it displaces (``DISPLACES``)."""
    out = dict(values)
    for key in overrides:
        for other in DISPLACES.get(key, ()):
            if other not in overrides:
                out.pop(other, None)
    out.update(overrides)
    return out
