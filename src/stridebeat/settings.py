"""One vocabulary for command-line options, preset keys and plan objects, and one gate from it to the objects.

Every setting has a key (``steps_per_100m``: the preset key and the Python name) and a flag (``--steps-per-100m``).
``SETTINGS`` is the only list of them; the CLI builds its options from it, presets validate their keys against it, and
``build`` is the only place where a dict of values becomes a RacePlan, a StrideModel and SoundOptions. Values may be
strings as typed ("1:05.3", "48%", "12.2,11.9") or native TOML values (65.3, 0.48, [12.2, 11.9]).

Deliberately free of numpy and click: importing it costs nothing, so the CLI can validate before loading the engine.
"""

from __future__ import annotations

import math
from typing import Any

from stridebeat.errors import UsageError
from stridebeat.record import Record
from stridebeat.units import parse_duration, parse_time

STARTS = ("blocks", "standing", "rolling")
STRATEGIES = ("race", "even", "custom")
CLICK_SOUNDS = ("woodblock", "tick", "beep")
VOICE_CHOICES = ("female", "male", "none")
CALLS = ("time", "distance", "both", "none")


class Setting(Record):
    key: str
    kind: str  # float, int, time, duration, share, splits, choice, bool
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
    Setting("distance", "float", "plan", "Race or rep distance in metres, 100 to 1000.", 400.0, metavar="M"),
    Setting("time", "time", "plan", "Target time: 51, 51.0, 0:51.0 or 1:05.3 (default 51 s for 400 m).",
            metavar="TIME"),
    Setting("start", "choice", "plan", "blocks (reaction + acceleration), standing, or rolling (already at speed).",
            "blocks", STARTS),
    Setting("strategy", "choice", "plan",
            "race: realistic splits (first 200 m ≈ 48 % of the time); even: constant pace after the start; "
            "custom: your --splits.", "race", STRATEGIES),
    Setting("splits", "splits", "plan", "Custom splits per 100 m, e.g. 12.2,11.9,12.6,14.3 (implies --strategy custom).",
            metavar="S1,S2,…"),
    Setting("first_half", "share", "plan", "Share of the time spent in the first half, e.g. 48% or 0.48 (race strategy).",
            metavar="SHARE"),
    Setting("differential", "float", "plan",
            "Seconds the second half is slower than the first, e.g. 2.0 (race strategy).", metavar="S"),
    Setting("intensity", "percent", "plan",
            "Run at this share of a reference speed instead of a --time, e.g. 85% (with --reference-time or "
            "--max-speed): 500 m at 85% of a 51.0 s 400 m takes 500 / (400 / 51.0 × 0.85) = 75.0 s.", metavar="PCT"),
    Setting("reference_time", "time", "plan", "The athlete's race time that --intensity refers to, e.g. 51.0.",
            metavar="TIME"),
    Setting("reference_distance", "float", "plan", "The distance of that reference race, in metres.", 400.0,
            metavar="M"),
    Setting("max_speed", "float", "plan", "A maximum speed in m/s that --intensity refers to (instead of a race).",
            metavar="M/S"),
    Setting("allow_faster_than_record", "bool", "plan", "Accept a target faster than the world record.", False),
    # The stride model
    Setting("steps_per_100m", "float", "stride", "Steps you take per 100 m at race pace (counted: most reliable).",
            metavar="N"),
    Setting("step_length", "float", "stride", "Your step length at race pace, in metres.", metavar="M"),
    Setting("height", "float", "stride", "Your height in metres (a rough estimate of step length).", metavar="M"),
    Setting("hold_last", "float", "stride",
            "Hold the cadence constant through the last this many metres (0 turns it off; default 200 m, or half "
            "of a shorter distance).", metavar="M"),
    # The metronome (instead of a race plan)
    Setting("cadence", "float", "metronome", "Plain metronome at this many steps per minute (no race plan).",
            metavar="SPM"),
    Setting("duration", "duration", "metronome", "Length of a metronome track: 90s, 5m, 20m, 1:30.", metavar="DUR"),
    # How it sounds
    Setting("sound", "choice", "sound", "Click sound.", "woodblock", CLICK_SOUNDS),
    Setting("accent", "int", "sound", "Accent every N steps (2: every stride; 0: no accent).", 0, metavar="N"),
    Setting("pan", "bool", "sound", "Pan each footstrike to the side of the landing foot.", False),
    Setting("volume", "float", "sound", "Level in dB, -60 to 0.", 0.0, metavar="DB"),
    Setting("split_tone", "bool", "sound", "Chime at every 100 m (default: only when there is no voice).",),
    Setting("gun", "bool", "sound", "A starter's gun at the start of a race.", True),
    Setting("samplerate", "int", "sound", "Output sample rate (22050, 32000, 44100, 48000, 88200, 96000).", 44100,
            metavar="HZ"),
    Setting("lead_in", "duration", "sound", "Silence before the gun (default 5 s for a race, 0 for a metronome).",
            metavar="DUR"),
    Setting("tail", "duration", "sound", "Silence after the finish.", 2.0, metavar="DUR"),
)
SETTINGS += (
    # Spoken cues
    Setting("voice", "choice", "voice", "Voice of the calls; none for a bare click track.", "female", VOICE_CHOICES),
    Setting("calls", "choice", "voice", "What is called at each 100 m: the planned elapsed time, the distance, both, "
            "or nothing.", "time", CALLS),
    Setting("call_hold", "bool", "voice", "Call \"hold the rhythm\" where the held cadence begins.", True),
    Setting("call_finish", "bool", "voice", "Call the finish time.", True),
    Setting("start_sequence", "bool", "voice", "\"On your marks … Set …\" before the gun (blocks and standing starts).",
            True),
    Setting("settle", "duration", "voice", "Pause between \"on your marks\" and \"set\".", 5.0, metavar="DUR"),
    Setting("set_hold", "range", "voice", "Time from \"set\" to the gun, in seconds, or a range such as 1.5-2.2 "
            "for a random hold (start practice).", (1.75, 1.75), metavar="S|LO-HI"),
    Setting("seed", "int", "voice", "Seed for a random --set-hold range (the same seed gives the same hold).",
            metavar="N"),
    Setting("cue_lead", "float", "voice", "Start each call this many seconds before its mark (0: on the mark).", 0.0,
            metavar="S"),
    Setting("duck", "float", "voice", "Lower the clicks by this many dB while a voice speaks (they never stop).", 4.0,
            metavar="DB"),
)
BY_KEY = {s.key: s for s in SETTINGS}

# An option typed on the command line displaces the preset's settings that say the same thing another way, so the
# override wins instead of colliding ("give either --time or --intensity"). Keys are settings.SETTINGS keys.
_PLAN_KEYS = tuple(s.key for s in SETTINGS if s.group in ("plan", "stride"))
_SAME_THING = {
    "time": ("intensity",),
    "intensity": ("time",),
    "splits": ("time", "intensity", "strategy", "first_half", "differential"),  # typed splits define the time
    "strategy": ("splits",),
    "first_half": ("differential",),
    "differential": ("first_half",),
    "steps_per_100m": ("step_length", "height"),
    "step_length": ("steps_per_100m", "height"),
    "height": ("steps_per_100m", "step_length"),
    "reference_time": ("max_speed",),
    "max_speed": ("reference_time",),
}
# A race plan and a plain metronome exclude each other: a plan option drops the preset's metronome and vice versa.
DISPLACES: dict[str, tuple[str, ...]] = {
    **{key: (*_SAME_THING.get(key, ()), "cadence", "duration") for key in _PLAN_KEYS if key != "hold_last"},
    "cadence": _PLAN_KEYS,
    "duration": _PLAN_KEYS,
}

DEFAULT_TIME_400 = 51.0
DEFAULT_HOLD_M = 200.0  # the article: "in the last 200 m … maintain the tempo and rhythm"


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


def parse_values(values: dict[str, Any]) -> dict[str, Any]:
    """Validate and convert a dict of raw values (unknown keys are a UsageError)."""
    out = {}
    for key, raw in values.items():
        setting = BY_KEY.get(key)
        if setting is None:
            raise UsageError(f"unknown setting {key!r}")
        out[key] = parse_value(setting, raw)
    return out


def with_defaults(values: dict[str, Any]) -> dict[str, Any]:
    return {s.key: s.default if values.get(s.key) is None else values[s.key] for s in SETTINGS}


def is_metronome(values: dict[str, Any]) -> bool:
    return values.get("cadence") is not None


class Built(Record):
    """What the gate makes of a set of values."""

    plan: Any  # RacePlan, or None for a plain metronome
    stride: Any  # StrideModel
    hold_last_m: float
    sound: Any  # SoundOptions
    voice: Any  # VoiceOptions
    metronome: tuple[float, float | None] | None  # (cadence_spm, duration_s or None) for a plain metronome


def build(values: dict[str, Any]) -> Built:
    """The gate: parsed values → plan objects (see ``Built``)."""
    from stridebeat.plan import RacePlan
    from stridebeat.speech import VoiceOptions
    from stridebeat.stride import StrideModel
    from stridebeat.track import SoundOptions

    v = with_defaults(values)
    voice = VoiceOptions(
        voice=v["voice"],
        calls=v["calls"],
        call_hold=v["call_hold"],
        call_finish=v["call_finish"],
        start_sequence=v["start_sequence"],
        settle_s=v["settle"],
        set_hold_s=v["set_hold"],
        seed=v["seed"],
        cue_lead_s=v["cue_lead"],
        duck_db=v["duck"],
    )
    split_tone = v["split_tone"] if v["split_tone"] is not None else v["voice"] == "none"
    sound = SoundOptions(
        click=v["sound"],
        accent_every=v["accent"],
        pan=v["pan"],
        volume_db=v["volume"],
        split_tone=split_tone,
        gun=v["gun"],
        samplerate=v["samplerate"],
        lead_in_s=v["lead_in"],
        tail_s=v["tail"],
    )
    if is_metronome(v):
        given = [s.flag for s in SETTINGS if s.group in ("plan", "stride") and values.get(s.key) is not None
                 and s.key != "hold_last"]
        if given:
            raise UsageError(f"--cadence plays a plain metronome: leave out {', '.join(given)}")
        return Built(None, StrideModel(), 0.0, sound, voice, (v["cadence"], v["duration"]))
    if values.get("duration") is not None:
        raise UsageError("--duration goes with --cadence (a plain metronome); a race lasts its --time")
    strategy = "custom" if v["splits"] is not None else v["strategy"]
    if values.get("splits") is not None and values.get("strategy") not in (None, "custom"):
        raise UsageError(f"--splits gives a custom plan: leave out --strategy {values['strategy']}")
    time = _time_from_intensity(v, values) if v["intensity"] is not None else v["time"]
    if time is None and v["distance"] == 400.0 and strategy != "custom":
        time = DEFAULT_TIME_400
    share = v["first_half"]
    if v["differential"] is not None:
        if share is not None:
            raise UsageError("give either --first-half or --differential, not both")
        if time is None:
            raise UsageError("--differential needs --time")
        share = (time - v["differential"]) / 2.0 / time
    common = dict(distance_m=v["distance"], start=v["start"], allow_record=v["allow_faster_than_record"])
    if strategy == "custom":
        plan = RacePlan.custom(v["splits"] or (), target_time_s=time, **common)
    else:
        plan = RacePlan(target_time_s=time, strategy=strategy, first_half_share=share, **common)
    race_pace = None
    if v["intensity"] is not None and v["reference_time"] is not None:
        race_pace = v["reference_distance"] / v["reference_time"]
    stride = StrideModel(
        steps_per_100m=v["steps_per_100m"], step_length_m=v["step_length"], height_m=v["height"],
        race_pace_mps=race_pace,
    )
    hold = v["hold_last"] if v["hold_last"] is not None else min(DEFAULT_HOLD_M, plan.distance_m / 2)
    return Built(plan, stride, hold, sound, voice, None)


def _time_from_intensity(v: dict[str, Any], given: dict[str, Any]) -> float:
    """Coaches' intensity: a share of a reference speed. 85 % of a 51.0 s 400 m is 400 / 51.0 × 0.85 m/s."""
    if given.get("time") is not None:
        raise UsageError("give either --time or --intensity, not both")
    if (v["reference_time"] is None) == (v["max_speed"] is None):
        raise UsageError("--intensity needs a reference: --reference-time (a race, e.g. 51.0) or --max-speed (m/s)")
    if v["max_speed"] is not None:
        if not 3.0 <= v["max_speed"] <= 13.0:
            raise UsageError(f"--max-speed {v['max_speed']:g} m/s is out of range: give 3 to 13 m/s")
        speed = v["max_speed"]
    else:
        if not 100.0 <= v["reference_distance"] <= 1000.0:
            raise UsageError(f"--reference-distance {v['reference_distance']:g} m is out of range: give 100 to 1000 m")
        speed = v["reference_distance"] / v["reference_time"]
    return v["distance"] / (speed * v["intensity"])
