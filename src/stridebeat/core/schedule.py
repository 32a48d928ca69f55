"""The schedule: the absolute time of every footstrike and every cue. No audio, no I/O.

Step k (k = 1, 2, …) lands where the step phase Φ(t) — the number of steps taken by time t — reaches k. Φ is the
integral of the cadence; it is evaluated once on a fine grid and inverted, so each step time comes from the absolute
phase, never from adding the previous interval (the error of a long sum of intervals grows with every click; this one
does not). Through the hold zone Φ is linear: t_k = t_hold + (k − Φ_hold) / f_hold, the same period to the last bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from stridebeat.core.clock import format_time
from stridebeat.core.plan import RacePlan, build_profile
from stridebeat.core.profile import Profile
from stridebeat.core.stride import Cadence, StrideModel, cadence_for
from stridebeat.core.vocabulary import CueKind
from stridebeat.errors import PlanError

if TYPE_CHECKING:
    from stridebeat.core.arrays import ArrayLike, Floats


# Trapezoid integration of a smooth cadence at 2 ms spacing: phase error below 1e-6 steps, far under one sample.
PHASE_DT_S = 0.002
FEET = ("R", "L")  # most sprinters set the left foot forward in the blocks, so the rear (right) foot strikes first
CADENCE_RANGE_SPM = (30.0, 400.0)  # what the engine schedules (drills included)
HUMAN_CADENCE_SPM = (120.0, 300.0)  # what a runner steps: plans and, by default, the metronome
FIRST_STEP_SHARE = 0.5


@dataclass(frozen=True, slots=True, kw_only=True)
class Cue:
    """Something to announce at time ``t_s`` (seconds from the gun; negative before it)."""

    t_s: float
    kind: CueKind  # how it sounds: stridebeat.core.cues.KINDS
    text: str  # what a person reads (timeline JSON, markers, labels)
    distance_m: float | None = None
    value: float | None = None  # the number the cue speaks: elapsed time, rest length, countdown count
    mark_s: float | None = None  # the moment it refers to, when it is spoken early (a cue lead); else t_s
    of: int | None = None  # how many there are: a rep cue's number of reps in the session

    @property
    def at_s(self) -> float:
        """The moment the cue marks (markers and labels sit here, whatever the call's lead)."""
        return self.t_s if self.mark_s is None else self.mark_s


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Schedule:
    """Footstrikes and cues on one clock (seconds from the gun, or from the first click of a plain metronome)."""

    steps_s: np.ndarray  # strictly increasing
    feet: np.ndarray  # 0 = first foot, 1 = the other; alternating
    cues: tuple[Cue, ...]
    end_s: float  # the finish, or the end of a metronome track


@dataclass(frozen=True, slots=True, kw_only=True)
class SplitRow:
    distance_m: float
    elapsed_s: float
    split_s: float
    speed_mps: float
    cadence_spm: float
    step_length_m: float
    steps: int
    held: bool


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PlannedRace:
    """Everything the plan views need: inputs, the model and the schedule built from them."""

    plan: RacePlan
    stride: StrideModel
    hold_last_m: float
    profile: Profile
    cadence: Cadence
    schedule: Schedule
    splits: tuple[SplitRow, ...]
    hold_start_s: float | None
    held_cadence_spm: float | None
    hold_step_m: tuple[tuple[float, float], ...] = field(default=())  # (distance, implied step length) in the hold
    phase: _Phase = field(repr=False)

    @property
    def total_steps(self) -> int:
        return len(self.schedule.steps_s)

    @property
    def average_cadence_spm(self) -> float:
        moving = self.plan.target_time_s - self.plan.reaction_s
        return 60.0 * float(self.phase(self.plan.target_time_s)) / moving

    def cadence_at(self, t: ArrayLike) -> Floats:
        """The planned cadence (steps per second) at time ``t`` after the gun, the hold included."""
        return self.phase.cadence(t)


class _Phase:
    """Φ(t): steps taken by time t, with the optional hold (constant cadence from ``t_hold`` on)."""

    def __init__(self, profile: Profile, cadence: Cadence, t_end: float, t_hold: float | None, t_first: float) -> None:
        # The first footstrike from rest is a step of its own: the foot lands ~1 m past the line while the body has
        # barely started (block clearance). Φ runs 0 → 1 linearly until it, then integrates the cadence model.
        react = profile.reaction_s
        n0 = max(2, math.ceil((t_first - react) / PHASE_DT_S) + 1)
        n1 = max(2, math.ceil((t_end - t_first) / PHASE_DT_S) + 1)
        before = np.linspace(react, t_first, n0)
        after = np.linspace(t_first, max(t_end, t_first + PHASE_DT_S), n1)
        v = profile.velocity(after)
        accelerating = np.arange(n1) < int(np.argmax(v))
        f = np.where(accelerating, cadence.accelerating(v), cadence.cruise(v))
        phi_after = 1.0 + np.concatenate([[0.0], np.cumsum((f[1:] + f[:-1]) * 0.5 * np.diff(after))])
        if t_first > react:
            first_rate = 1.0 / (t_first - react)
            lead = np.zeros(1 if react > 0 else 0)  # standing still until the reaction time
            # At the first footstrike itself the cadence is the model's: the rate of the steps that follow.
            t = np.concatenate([lead, before[:-1], after])
            phi = np.concatenate([lead, (before[:-1] - react) * first_rate, phi_after])
            f_grid = np.concatenate([lead, np.zeros(1), np.full(n0 - 2, first_rate), f])
        else:  # a rolling start: no first step from rest, the cadence model from the first instant
            t, phi, f_grid = after, phi_after - 1.0, f
        self.t: Floats = t
        self.phi: Floats = phi
        self.f_grid: Floats = f_grid
        self.t_hold = t_hold
        self.phi_hold = self.f_hold = 0.0
        if t_hold is not None:
            self.phi_hold = float(np.interp(t_hold, self.t, self.phi))
            self.f_hold = float(np.interp(t_hold, self.t, self.f_grid))

    def __call__(self, t: ArrayLike) -> Floats:
        x = np.asarray(t, dtype=float)
        free: Floats = np.interp(x, self.t, self.phi)
        if self.t_hold is None:
            return free
        held: Floats = np.where(x <= self.t_hold, free, self.phi_hold + self.f_hold * (x - self.t_hold))
        return held

    def cadence(self, t: ArrayLike) -> Floats:
        x = np.asarray(t, dtype=float)
        free: Floats = np.interp(x, self.t, self.f_grid)
        if self.t_hold is None:
            return free
        held: Floats = np.where(x <= self.t_hold, free, self.f_hold)
        return held

    def step_times(self, k: Floats) -> Floats:
        """Absolute time of steps with phase k (the inverse of Φ)."""
        free = np.interp(k, self.phi, self.t)
        if self.t_hold is None:
            return free
        held: Floats = np.where(k <= self.phi_hold, free, self.t_hold + (k - self.phi_hold) / self.f_hold)
        return held


def plan_race(plan: RacePlan, stride: StrideModel | None = None, *, hold_last_m: float = 200.0) -> PlannedRace:
    """Build the schedule of a race plan.

    Parameters
    ----------
    plan : RacePlan
        Distance, target time, start and strategy.
    stride : StrideModel, optional
        The athlete's stride calibration; the published race means when omitted.
    hold_last_m : float
        Hold the cadence constant through the last this many metres (0 turns the hold off).

    Returns
    -------
    PlannedRace

    Raises
    ------
    PlanError
        When the hold does not fit the distance or the plan cannot describe a run.
    """
    stride = stride or StrideModel()
    # The hold starts once the runner is up to speed: after the first 100 m (half of a shorter race).
    longest = plan.distance_m - min(100.0, plan.distance_m / 2)
    if not (math.isfinite(hold_last_m) and 0 <= hold_last_m <= longest):
        raise PlanError(
            f"--hold-last {hold_last_m:g} m would start the hold before the runner is up to speed: "
            f"give 0 (off) to {longest:g} m for {plan.distance_m:g} m",
            key="hold_last",
        )
    profile = build_profile(plan)
    T = plan.target_time_s
    cadence, t_hold, phase = _model(plan, stride, profile, hold_last_m)
    k = np.arange(1, math.floor(float(phase(T))) + 1, dtype=float)
    steps = phase.step_times(k)
    rows, cues = _splits(plan, profile, phase, steps, t_hold)
    hold_steps: tuple[tuple[float, float], ...] = ()
    if t_hold is not None:
        cues.append(
            Cue(t_s=t_hold, kind=CueKind.HOLD, text="hold the rhythm", distance_m=plan.distance_m - hold_last_m)
        )
        hold_steps = _hold_steps(plan, profile, phase, hold_last_m)
    cues.sort(key=lambda c: c.t_s)
    feet = (np.arange(len(k)) % 2).astype(np.int8)
    return PlannedRace(
        plan=plan,
        stride=stride,
        hold_last_m=hold_last_m,
        profile=profile,
        cadence=cadence,
        schedule=Schedule(steps_s=steps, feet=feet, cues=tuple(cues), end_s=T),
        splits=rows,
        hold_start_s=t_hold,
        held_cadence_spm=60.0 * phase.f_hold if t_hold is not None else None,
        hold_step_m=hold_steps,
        phase=phase,
    )


def _model(
    plan: RacePlan, stride: StrideModel, profile: Profile, hold_last_m: float
) -> tuple[Cadence, float | None, _Phase]:
    """The cadence model for the plan's speeds, the hold's start, and the step phase through the race (checked to
    be one a runner can step)."""
    T = plan.target_time_s
    cadence = cadence_for(
        stride,
        race_speed=stride.race_pace_mps or plan.distance_m / T,
        peak_speed=float(np.max(profile.velocity(np.linspace(0.0, T, 4001)))),
    )
    t_hold = float(profile.time_at(plan.distance_m - hold_last_m, t_max=T * 1.1)) if hold_last_m > 0 else None
    # From rest, the first step is FIRST_STEP_SHARE of the race-pace step (0.5 × 2.31 m = 1.16 m for the men's mean,
    # 1.05 m for the women's: inside the published 0.85–1.37 m and 0.82–1.07 m).
    t_first = (
        float(profile.time_at(FIRST_STEP_SHARE * cadence.race_step, t_max=T)) if profile.a > 0 else plan.reaction_s
    )
    phase = _Phase(profile, cadence, T, t_hold, t_first)
    _check_human(phase, stride, T)
    return cadence, t_hold, phase


def _splits(
    plan: RacePlan, profile: Profile, phase: _Phase, steps: np.ndarray, t_hold: float | None
) -> tuple[tuple[SplitRow, ...], list[Cue]]:
    """The row of every split mark, and the gun, split and finish cues."""
    T = plan.target_time_s
    marks = plan.split_marks_m
    mark_t = profile.time_at(np.asarray(marks), t_max=T * 1.1)
    mark_t[-1] = T  # the finish is the target by definition; Newton already agrees to ~1e-12 s
    cues = [Cue(t_s=0.0, kind=CueKind.GUN, text="gun", distance_m=0.0)]
    rows = []
    t0, d0 = 0.0, 0.0
    for d, t in zip(marks, mark_t):
        t = float(t)
        n_phase = float(phase(t) - phase(t0))
        rows.append(
            SplitRow(
                distance_m=d,
                elapsed_s=t,
                split_s=t - t0,
                speed_mps=(d - d0) / (t - t0),
                cadence_spm=60.0 * n_phase / (t - t0 - (plan.reaction_s if t0 == 0 else 0.0)),
                step_length_m=(d - d0) / n_phase,
                steps=int(np.count_nonzero((steps > t0) & (steps <= t))),
                held=t_hold is not None and t > t_hold + 1e-9,
            )
        )
        kind = CueKind.FINISH if d == plan.distance_m else CueKind.SPLIT
        cues.append(Cue(t_s=t, kind=kind, text=f"{d:g} m {format_time(t)}", distance_m=d, value=t))
        t0, d0 = t, d
    return tuple(rows), cues


def _hold_steps(plan: RacePlan, profile: Profile, phase: _Phase, hold_last_m: float) -> tuple[tuple[float, float], ...]:
    """(distance, implied step length) at the hold's start and each mark in it: the held cadence at the speed there."""
    T = plan.target_time_s
    at = [plan.distance_m - hold_last_m] + [m for m in plan.split_marks_m if m > plan.distance_m - hold_last_m]
    at_t = profile.time_at(np.asarray(at), t_max=T * 1.1)
    return tuple((float(d), float(profile.velocity(t)) / phase.f_hold) for d, t in zip(at, at_t))


def _check_human(phase: _Phase, stride: StrideModel, t_end: float) -> None:
    """Refuse a plan whose cadence no runner can step: faster than 300 spm anywhere, or under 120 on average."""
    lo, hi = HUMAN_CADENCE_SPM
    peak = 60.0 * float(np.max(phase.f_grid))
    average = 60.0 * float(phase(t_end)) / t_end
    if peak <= hi and average >= lo:
        return
    factor = hi / peak if peak > hi else lo / average  # cadence scales with steps per 100 m, inversely with length
    # The value named is rounded towards the side that fits, so it plans itself.
    if stride.steps_per_100m is not None:
        bound = "or fewer" if peak > hi else "or more"
        steps = (math.floor if peak > hi else math.ceil)(stride.steps_per_100m * factor * 10.0) / 10.0
        fix = f"give --steps-per-100m {steps:.1f} {bound}"
    elif stride.step_length_m is not None:
        bound = "or more" if peak > hi else "or less"
        length = (math.ceil if peak > hi else math.floor)(stride.step_length_m / factor * 100.0) / 100.0
        fix = f"give --step-length {length:.2f} {bound}"
    else:
        fix = "check the time, or count your steps per 100 m (--steps-per-100m)"
    what = f"{peak:.0f} steps per minute at its peak" if peak > hi else f"{average:.0f} steps per minute on average"
    raise PlanError(f"this plan needs {what}; runners step {lo:g} to {hi:g} per minute: {fix}")


def steps_spm(steps_s: np.ndarray) -> float:
    """The mean cadence of footstrikes ``steps_s`` in steps per minute (0 with fewer than two)."""
    if len(steps_s) < 2:
        return 0.0
    return 60.0 * (len(steps_s) - 1) / float(steps_s[-1] - steps_s[0])


def metronome_schedule(cadence_spm: float, duration_s: float) -> Schedule:
    """A plain metronome: a click every 60/cadence seconds from t = 0 for ``duration_s``.

    Click k sits at exactly k · 60 / cadence (one multiplication from k, no running sum).
    """
    lo, hi = CADENCE_RANGE_SPM
    if not (math.isfinite(cadence_spm) and lo <= cadence_spm <= hi):
        raise PlanError(f"cadence {cadence_spm:g} spm is out of range: give {lo:g} to {hi:g} steps per minute")
    if not (math.isfinite(duration_s) and duration_s > 0):
        raise PlanError("duration must be positive: write e.g. 90s, 5m or 1:30")
    n = math.floor(duration_s * cadence_spm / 60.0 - 1e-9) + 1
    steps = np.arange(n, dtype=float) * (60.0 / cadence_spm)
    return Schedule(steps_s=steps, feet=(np.arange(n) % 2).astype(np.int8), cues=(), end_s=duration_s)
