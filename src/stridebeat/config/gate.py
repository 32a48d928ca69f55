"""The one gate from setting values to the engine's objects: a RacePlan or a metronome, a StrideModel, SoundOptions
and VoiceOptions. The command line, presets, sessions and the Python API all pass through ``build``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stridebeat.config.music import MusicOptions, music_options
from stridebeat.config.settings import SETTINGS, with_defaults
from stridebeat.core.plan import RacePlan, check_distance
from stridebeat.core.schedule import CADENCE_RANGE_SPM, HUMAN_CADENCE_SPM
from stridebeat.core.speech import VoiceOptions
from stridebeat.core.stride import StrideModel
from stridebeat.core.track import MAX_TRACK_S, SoundOptions
from stridebeat.errors import PlanError, UsageError

DEFAULT_TIME_400 = 51.0
DEFAULT_HOLD_M = 200.0  # the article: "in the last 200 m … maintain the tempo and rhythm"


def is_metronome(values: Mapping[str, Any]) -> bool:
    return values.get("cadence") is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class Built:
    """What the gate makes of a set of values."""

    plan: RacePlan | None  # None for a plain metronome
    stride: StrideModel
    hold_last_m: float
    sound: SoundOptions
    voice: VoiceOptions
    metronome: tuple[float, float | None] | None  # (cadence_spm, duration_s or None) for a plain metronome
    music: MusicOptions | None = None  # the runner's songs (--music), None without


def build(values: Mapping[str, Any]) -> Built:
    """The gate: parsed values → plan objects (see ``Built``)."""
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
        quality=v["quality"],
    )
    music = music_options(v)
    if is_metronome(v):
        given = [
            s.flag
            for s in SETTINGS
            if s.group in ("plan", "stride") and values.get(s.key) is not None and s.key != "hold_last"
        ]
        if given:
            raise UsageError(f"--cadence plays a plain metronome: leave out {', '.join(given)}")
        _check_metronome(v["cadence"], v["duration"], any_cadence=v["allow_any_cadence"])
        return Built(
            plan=None,
            stride=StrideModel(),
            hold_last_m=0.0,
            sound=sound,
            voice=voice,
            metronome=(v["cadence"], v["duration"]),
            music=music,
        )
    if values.get("duration") is not None:
        raise UsageError("--duration goes with --cadence (a plain metronome); a race lasts its --time")
    if v["splits_from"] is not None:
        if v["splits"] is not None:
            raise UsageError("give either --splits or --splits-from, not both")
        v["splits"] = read_splits(v["splits_from"])
    like = None
    if v["like"] is not None:
        from stridebeat.core.races import get_race, like_splits

        shaped = [f"--{k.replace('_', '-')}" for k in ("splits", "first_half", "differential") if v[k] is not None]
        if shaped or values.get("strategy") is not None:
            raise UsageError(f"--like sets the shape of the plan: leave out {', '.join(shaped) or '--strategy'}")
        like = get_race(v["like"])
    strategy = "custom" if v["splits"] is not None else v["strategy"]
    if values.get("splits") is not None and values.get("strategy") not in (None, "custom"):
        raise UsageError(f"--splits gives a custom plan: leave out --strategy {values['strategy']}")
    time = _time_from_intensity(v, values) if v["intensity"] is not None else v["time"]
    if like is not None:
        # The race's own pacing at its own time, unless a time is given: then scaled to it.
        time = like.final_s if time is None else time
        v["splits"], strategy = like_splits(like, v["distance"], time), "custom"
    if time is None and v["distance"] == 400.0 and strategy != "custom":
        time = DEFAULT_TIME_400
    share = v["first_half"]
    if v["differential"] is not None:
        if share is not None:
            raise UsageError("give either --first-half or --differential, not both")
        if time is None:
            raise UsageError("--differential needs --time")
        share = (time - v["differential"]) / 2.0 / time
    start, allow_record = v["start"], v["allow_faster_than_record"]
    reaction = v["reaction"]
    if like is not None and reaction is None and start == "blocks":
        reaction = like.reaction_s  # the race's own, where published
    if strategy == "custom":
        plan = RacePlan.custom(
            v["splits"] or (),
            distance_m=v["distance"],
            target_time_s=time,
            start=start,
            allow_record=allow_record,
            sex=v["sex"],
            reaction_time_s=reaction,
            like=like.id if like is not None else None,
        )
    elif time is None:
        check_distance(v["distance"])  # a distance out of range is the first thing to fix
        raise PlanError("no target time: give --time (e.g. --time 51 or --time 1:05.3)")
    else:
        plan = RacePlan(
            distance_m=v["distance"],
            target_time_s=time,
            start=start,
            strategy=strategy,
            first_half_share=share,
            allow_record=allow_record,
            sex=v["sex"],
            reaction_time_s=reaction,
        )
    race_pace = None
    if v["intensity"] is not None and v["reference_time"] is not None:
        race_pace = v["reference_distance"] / v["reference_time"]
    if v["stride"] is not None:
        stride = _profile_stride(v, plan)
    else:
        stride = StrideModel(
            steps_per_100m=v["steps_per_100m"],
            step_length_m=v["step_length"],
            height_m=v["height"],
            race_pace_mps=race_pace,
        )
    hold = v["hold_last"] if v["hold_last"] is not None else min(DEFAULT_HOLD_M, plan.distance_m / 2)
    return Built(plan=plan, stride=stride, hold_last_m=hold, sound=sound, voice=voice, metronome=None, music=music)


def _profile_stride(v: dict[str, Any], plan: RacePlan) -> StrideModel:
    """The runner's own calibrated step length, at the rep's own average speed: the profile knows it there."""
    given = [f"--{k.replace('_', '-')}" for k in ("steps_per_100m", "step_length", "height") if v[k] is not None]
    if given:
        raise UsageError(f"give --stride or {', '.join(given)}, not both")
    from stridebeat.config.strides import load_profile  # profiles (files, the fit) load only when one is named

    fit = load_profile(v["stride"])
    speed = plan.distance_m / plan.target_time_s
    step = fit.step_length_at(speed)
    try:
        return StrideModel(step_length_m=step, race_pace_mps=speed)
    except PlanError:
        raise PlanError(
            f"stride profile {v['stride']!r} gives {step:.2f} m steps at {speed:.2f} m/s, outside what plans take: "
            "calibrate with a run nearer this pace"
        ) from None


def read_splits(path: str) -> tuple[float, ...]:
    """100 m splits from a file: the JSON of ``plan --json`` (its ``splits``), or a CSV of splits or elapsed times
    (a column named split/split_s or elapsed/elapsed_s under a header, or bare numbers: splits)."""
    import csv
    import json

    try:
        text = open(path, encoding="utf-8").read()  # noqa: SIM115 - read whole, closed at once
    except OSError as exc:
        raise UsageError(f"--splits-from {path}: {exc.strerror or exc}") from None
    try:
        if text.lstrip().startswith("{"):
            rows = json.loads(text).get("splits") or []
            return tuple(float(r["split_s"]) for r in rows) or _no_splits(path)
        table = [[c.strip() for c in row] for row in csv.reader(text.splitlines()) if any(c.strip() for c in row)]
        header = [c.lower() for c in table[0]] if table else []
        for names, elapsed in ((("split_s", "split"), False), (("elapsed_s", "elapsed"), True)):
            col = next((header.index(n) for n in names if n in header), None)
            if col is not None:
                values = [float(row[col]) for row in table[1:]]
                if elapsed:
                    values = [b - a for a, b in zip([0.0, *values], values)]
                return tuple(values) or _no_splits(path)
        return tuple(float(c) for row in table for c in row if c) or _no_splits(path)
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        raise UsageError(
            f"--splits-from {path}: not a CSV of 100 m splits nor the JSON of 'stridebeat plan --json'"
        ) from None


def _no_splits(path: str) -> tuple[float, ...]:
    raise UsageError(f"--splits-from {path}: no splits in the file")


def _check_metronome(cadence: float, duration: float | None, *, any_cadence: bool) -> None:
    lo, hi = CADENCE_RANGE_SPM if any_cadence else HUMAN_CADENCE_SPM
    if not lo <= cadence <= hi:
        nearest = min(max(cadence, lo), hi)
        drills = "" if any_cadence else " (--allow-any-cadence takes 30 to 400 for drills)"
        raise UsageError(f"--cadence {cadence:g} spm is out of range: give {lo:g} to {hi:g}, e.g. {nearest:g}{drills}")
    if duration is not None and duration > MAX_TRACK_S:
        raise UsageError(
            f"--duration {duration / 3600:.1f} h is longer than the longest track ({MAX_TRACK_S / 3600:g} h): "
            f"give {MAX_TRACK_S / 3600:g}h or less"
        )


def _time_from_intensity(v: dict[str, Any], given: Mapping[str, Any]) -> float:
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
