"""The one gate from setting values to the engine's objects: a RacePlan or a metronome, a StrideModel, SoundOptions
and VoiceOptions. The command line, presets, sessions and the Python API all pass through ``build``.

``build`` takes converted values (``settings.parse_values``: each in its range already) and resolves what depends on
several of them, one small resolver each: the plan's shape, its target time, the stride, the metronome. An error
about a setting carries its key (``UsageError(..., key="differential")``), so a preset can point at its line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stridebeat.config.music import MusicOptions, music_options
from stridebeat.config.setting import MAX_TRACK_S
from stridebeat.config.settings import SETTINGS, with_defaults
from stridebeat.config.units import clock
from stridebeat.core.plan import RacePlan, check_distance
from stridebeat.core.schedule import HUMAN_CADENCE_SPM
from stridebeat.core.speech import VoiceOptions
from stridebeat.core.stride import StrideModel
from stridebeat.core.track import SoundOptions
from stridebeat.errors import PlanError, UsageError

if TYPE_CHECKING:
    from stridebeat.core.races import Race

DEFAULT_TIME_400 = 51.0
DEFAULT_HOLD_M = 200.0  # the article: "in the last 200 m … maintain the tempo and rhythm"
SPLITS_FILE_MAX = 1 << 20  # a file of a race's splits is a few lines; a megabyte is far past any


def is_metronome(values: Mapping[str, Any]) -> bool:
    return values.get("cadence") is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class Metronome:
    """A plain metronome: its cadence, and its length (None: it plays until stopped, live only)."""

    cadence_spm: float
    duration_s: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Built:
    """What the gate makes of a set of values."""

    plan: RacePlan | None  # None for a plain metronome
    stride: StrideModel
    hold_last_m: float
    sound: SoundOptions
    voice: VoiceOptions
    metronome: Metronome | None  # a plain metronome instead of a plan
    music: MusicOptions | None = None  # the runner's songs (--music), None without


def build(values: Mapping[str, Any]) -> Built:
    """The gate: converted values → plan objects.

    Parameters
    ----------
    values : Mapping
        Setting keys → values converted by ``settings.parse_values`` (missing or None: the default).

    Returns
    -------
    Built
        A race plan with its stride and hold, or a plain metronome; the sound, the voice and the music.

    Raises
    ------
    UsageError
        Settings that do not go together or make no plan; ``key`` names the setting at fault where one is.
    """
    v = with_defaults(values)
    voice, sound, music = _voice(v), _sound(v), music_options(v)
    if is_metronome(v):
        return _metronome(v, values, sound=sound, voice=voice, music=music)
    if values.get("duration") is not None:
        raise UsageError("--duration goes with --cadence (a plain metronome); a race lasts its --time", key="duration")
    plan = _plan(v, values)
    stride = _stride(v, plan)
    hold = v["hold_last"] if v["hold_last"] is not None else min(DEFAULT_HOLD_M, plan.distance_m / 2)
    return Built(plan=plan, stride=stride, hold_last_m=hold, sound=sound, voice=voice, metronome=None, music=music)


def _voice(v: dict[str, Any]) -> VoiceOptions:
    return VoiceOptions(
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


def _sound(v: dict[str, Any]) -> SoundOptions:
    split_tone = v["split_tone"] if v["split_tone"] is not None else v["voice"] == "none"
    return SoundOptions(
        click=v["sound"],
        accent_every=v["accent"],
        pan=v["pan"],
        volume_db=v["volume"],
        split_tone=split_tone,
        gun=v["gun"],
        samplerate=v["samplerate"],
        lead_in_s=v["lead_in"],
        tail_s=v["tail"],
        quality=v["quality"],
    )


def _metronome(
    v: dict[str, Any], given: Mapping[str, Any], *, sound: SoundOptions, voice: VoiceOptions, music: MusicOptions | None
) -> Built:
    """A plain metronome: a cadence (in a runner's range unless drills are allowed) and an optional duration."""
    plan_keys = [s for s in SETTINGS if s.group in ("plan", "stride") and s.key != "hold_last"]
    extra = [s for s in plan_keys if given.get(s.key) is not None]
    if extra:
        raise UsageError(
            f"--cadence plays a plain metronome: leave out {', '.join(s.flag for s in extra)}", key=extra[0].key
        )
    cadence = v["cadence"]
    if not v["allow_any_cadence"]:
        lo, hi = HUMAN_CADENCE_SPM
        if not lo <= cadence <= hi:
            nearest = min(max(cadence, lo), hi)
            raise UsageError(
                f"spm is out of range: give {lo:g} to {hi:g}, e.g. {nearest:g} (--allow-any-cadence takes 30 to 400 "
                "for drills)",
                key="cadence",
                value=cadence,
            )
    _check_length(v)
    return Built(
        plan=None,
        stride=StrideModel(),
        hold_last_m=0.0,
        sound=sound,
        voice=voice,
        metronome=Metronome(cadence_spm=cadence, duration_s=v["duration"]),
        music=music,
    )


def _check_length(v: dict[str, Any]) -> None:
    """A metronome's duration with its lead-in and tail fits the longest track (the limit named is one that plays)."""
    if v["duration"] is None:
        return
    silence = (v["lead_in"] or 0.0) + v["tail"]
    if v["duration"] + silence > MAX_TRACK_S:
        raise UsageError(
            f"s with the lead-in and tail ({silence:g} s) is longer than the longest track (24 h): give "
            f"{clock(MAX_TRACK_S - silence)} or less",
            key="duration",
            value=v["duration"],
        )


def _plan(v: dict[str, Any], given: Mapping[str, Any]) -> RacePlan:
    """The race plan: a custom one from splits (given, read from a file, or a race's), or a shaped one."""
    splits = _splits(v)
    like = _like(v, given, splits)
    if given.get("splits") is not None and given.get("strategy") not in (None, "custom"):
        raise UsageError(f"--splits gives a custom plan: leave out --strategy {given['strategy']}", key="strategy")
    strategy = "custom" if splits is not None else v["strategy"]
    time = _time_from_intensity(v, given) if v["intensity"] is not None else v["time"]
    if like is not None:
        from stridebeat.core.races import like_splits

        # The race's own pacing at its own time, unless a time is given: then scaled to it.
        time = like.final_s if time is None else time
        splits, strategy = like_splits(like, v["distance"], time), "custom"
    if time is None and v["distance"] == 400.0 and strategy != "custom":
        time = DEFAULT_TIME_400
    reaction = v["reaction"]
    if like is not None and reaction is None and v["start"] == "blocks":
        reaction = like.reaction_s  # the race's own, where published
    common = dict(start=v["start"], allow_record=v["allow_faster_than_record"], sex=v["sex"], reaction_time_s=reaction)
    share = _first_half(v, time)
    try:
        if strategy == "custom":
            return RacePlan.custom(
                splits or (),
                distance_m=v["distance"],
                target_time_s=time,
                like=like.id if like is not None else None,
                **common,
            )
        if time is None:
            check_distance(v["distance"])  # a distance out of range is the first thing to fix
            raise PlanError("no target time: give --time (e.g. --time 51 or --time 1:05.3)", key="time")
        return RacePlan(
            distance_m=v["distance"], target_time_s=time, strategy=strategy, first_half_share=share, **common
        )
    except PlanError as exc:
        if exc.key is not None:
            raise
        raise PlanError(str(exc), key=_plan_key(given, custom=strategy == "custom")) from None


def _plan_key(given: Mapping[str, Any], *, custom: bool) -> str | None:
    """The setting a plan the engine refuses comes from: what shaped it, else what timed it (a preset's line)."""
    order = ("splits", "splits_from", "like", "time") if custom else ("first_half", "differential", "time")
    keys = (*order, "intensity", "reference_time", "max_speed", "reaction", "start", "distance")
    return next((k for k in keys if given.get(k) is not None), None)


def _splits(v: dict[str, Any]) -> tuple[float, ...] | None:
    """The custom splits: given, or read from ``splits_from`` (a file)."""
    if v["splits_from"] is None:
        return v["splits"]
    if v["splits"] is not None:
        raise UsageError("give either --splits or --splits-from, not both", key="splits_from")
    from stridebeat.activity.splits import read_splits

    return read_splits(v["splits_from"], what=f"--splits-from {v['splits_from']}", key="splits_from")


def _like(v: dict[str, Any], given: Mapping[str, Any], splits: tuple[float, ...] | None) -> Race | None:
    """The library race the plan is paced like (``--like``), which sets the plan's whole shape."""
    if v["like"] is None:
        return None
    from stridebeat.core.races import get_race

    shaped = [k for k in ("splits", "first_half", "differential") if v[k] is not None or (k == "splits" and splits)]
    if shaped or given.get("strategy") is not None:
        flags = ", ".join(f"--{k.replace('_', '-')}" for k in shaped) or "--strategy"
        raise UsageError(f"--like sets the shape of the plan: leave out {flags}", key="like")
    try:
        return get_race(v["like"])
    except UsageError as exc:
        raise UsageError(str(exc), key="like") from None


def _first_half(v: dict[str, Any], time: float | None) -> float | None:
    """The share of the time in the first half: given, or from the seconds the second half is slower."""
    share = v["first_half"]
    if v["differential"] is None:
        return share
    if share is not None:
        raise UsageError("give either --first-half or --differential, not both", key="differential")
    if time is None:
        raise UsageError("--differential needs --time", key="differential")
    return (time - v["differential"]) / 2.0 / time


def _stride(v: dict[str, Any], plan: RacePlan) -> StrideModel:
    """The stride: the runner's calibrated profile, or a count, a step length or a height (or the published means)."""
    if v["stride"] is not None:
        return _profile_stride(v, plan)
    race_pace = None
    if v["intensity"] is not None and v["reference_time"] is not None:
        race_pace = v["reference_distance"] / v["reference_time"]
    given = [k for k in ("steps_per_100m", "step_length", "height") if v[k] is not None]
    try:
        return StrideModel(
            steps_per_100m=v["steps_per_100m"],
            step_length_m=v["step_length"],
            height_m=v["height"],
            race_pace_mps=race_pace,
        )
    except UsageError as exc:
        raise PlanError(str(exc), key=given[-1] if given else None) from None


def _profile_stride(v: dict[str, Any], plan: RacePlan) -> StrideModel:
    """The runner's own calibrated step length, at the rep's own average speed: the profile knows it there."""
    given = [f"--{k.replace('_', '-')}" for k in ("steps_per_100m", "step_length", "height") if v[k] is not None]
    if given:
        raise UsageError(f"give --stride or {', '.join(given)}, not both", key="stride")
    from stridebeat.config.strides import load_profile  # profiles (files, the fit) load only when one is named

    try:
        fit = load_profile(v["stride"])
    except UsageError as exc:
        raise type(exc)(str(exc), key="stride") from None
    speed = plan.distance_m / plan.target_time_s
    step = fit.step_length_at(speed)
    try:
        return StrideModel(step_length_m=step, race_pace_mps=speed)
    except PlanError:
        raise PlanError(
            f"stride profile {v['stride']!r} gives {step:.2f} m steps at {speed:.2f} m/s, outside what plans take: "
            "calibrate with a run nearer this pace",
            key="stride",
        ) from None


def _time_from_intensity(v: dict[str, Any], given: Mapping[str, Any]) -> float:
    """Coaches' intensity: a share of a reference speed. 85 % of a 51.0 s 400 m is 400 / 51.0 × 0.85 m/s."""
    if given.get("time") is not None:
        raise UsageError("give either --time or --intensity, not both", key="intensity")
    if (v["reference_time"] is None) == (v["max_speed"] is None):
        raise UsageError(
            "--intensity needs a reference: --reference-time (a race, e.g. 51.0) or --max-speed (m/s)", key="intensity"
        )
    speed = v["max_speed"] if v["max_speed"] is not None else v["reference_distance"] / v["reference_time"]
    return v["distance"] / (speed * v["intensity"])
