"""How a recorded rep went against its plan: per-100 m splits, cadence and step length, the hold, the fade.

Conventions. Elapsed times count from the gun: a lap's start, ``--start``, or, for a rep found as the fastest stretch
of its distance, the moment the plan's own start (reaction and acceleration) puts the runner where the watch saw him
first moving. A segment's cadence is its steps (each record's cadence spread over the time since the record before)
over its running time, which for the first segment leaves out the plan's reaction time, as the plan's figure does.
The hold is the plan's (``hold_last``), or the last 200 m of a plan without one. The fatigue index is Hanon and
Gajer's: the speed lost from the fastest 50 m to the last 50 m, as a share of the fastest.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from stridebeat.activity.record import Activity, CadenceUnit, DistanceSource
from stridebeat.activity.reps import FoundBy, Trace, Wanted, Window, by_hand, fastest, from_laps, trace
from stridebeat.core.plan import fatigue_index, level_400
from stridebeat.core.schedule import PlannedRace
from stridebeat.errors import UsageError

DEFAULT_THRESHOLD_SPM = 3.0  # the watch workout's cadence target band is the plan's ±3 spm
DEFAULT_HOLD_M = 200.0
FASTEST_MPS = 12.5  # above the fastest average speed ever run over 100 m: a jump in the distance, not a rep
# Hanon & Gajer (2009): fatigue index of 400 m runners, world class and national level; the band is ± the spread of
# the world-class races around their mean.
PUBLISHED_FATIGUE = {"world class": 0.230, "national": 0.144, "regional": 0.139}
# Slower than a "good" 400 m (the coaching article's level: 50 s men, 58 s women) is read against the regional figure.
GOOD_400_S = {"M": 50.0, "F": 58.0}
FATIGUE_SPREAD = 0.04
# A record this long after the one before (and longer than GAP_INTERVALS of the usual interval) is a pause.
GAP_S = 8.0
GAP_INTERVALS = 4.0
# The watch's own distance (track mode, a foot pod, its filtered GPS) and GPS positions summed here: how far off a
# 100 m mark typically is, for the likely error of a split.
MARK_ERROR_M = {DistanceSource.WATCH: 1.0, DistanceSource.GPS: 3.0}


@dataclass(frozen=True, slots=True, kw_only=True)
class Segment:
    """One 100 m segment (the last may be shorter): ``distance_m`` is where it ends."""

    distance_m: float
    planned_s: float
    actual_s: float
    planned_spm: float
    actual_spm: float
    planned_step_m: float
    actual_step_m: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Recording:
    """How the run was recorded: the usual time between records, whether it varies (smart recording), the source
    of distance."""

    interval_s: float
    smart: bool
    distance_source: DistanceSource


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class RepReview:
    """One rep against its plan. ``curve_*`` are the records through the rep, for the plot: speed and cadence over
    each interval between records, at the distance (from the start) halfway through it."""

    number: int
    planned: PlannedRace
    found_by: FoundBy
    gun_s: float
    gun_clock: str
    segments: tuple[Segment, ...]
    time_s: float
    hold_from_m: float
    hold_cadence_spm: float
    planned_hold_cadence_spm: float
    threshold_spm: float
    fatigue_index: float
    planned_fatigue_index: float
    level: str
    published_fatigue: tuple[float, float]
    split_error_s: float
    curve_m: np.ndarray
    curve_speed_mps: np.ndarray
    curve_cadence_spm: np.ndarray

    @property
    def held(self) -> bool:
        return abs(self.hold_cadence_spm - self.planned_hold_cadence_spm) <= self.threshold_spm

    @property
    def verdict(self) -> str:
        """ "held", "dropped by N spm" or "rose by N spm"."""
        diff = self.hold_cadence_spm - self.planned_hold_cadence_spm
        if self.held:
            return "held"
        return f"{'dropped' if diff < 0 else 'rose'} by {abs(diff):.1f} spm"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Review:
    source: str
    recording: Recording
    reps: tuple[RepReview, ...]


def review(
    activity: Activity,
    plans: Sequence[PlannedRace],
    *,
    start_s: float | None = None,
    end_s: float | None = None,
    threshold_spm: float = DEFAULT_THRESHOLD_SPM,
    unit: CadenceUnit | str = CadenceUnit.AUTO,
) -> Review:
    """Find each planned rep in the recorded run and hold it against its plan.

    Parameters
    ----------
    activity : Activity
        The run, as ``read_activity`` decoded it.
    plans : sequence of PlannedRace
        The reps of the plan, in order (one for a single rep).
    start_s, end_s : float, optional
        The rep by hand, in seconds from the first record (one rep only).
    threshold_spm : float
        How far the hold's cadence may be from the plan's and still be "held".

    Returns
    -------
    Review

    Raises
    ------
    UsageError
        A recording that cannot be reviewed (no cadence, no distance, times going back or doubled, a pause inside a
        rep), a rep shorter than its plan, no stretch at the plan's pace, or a bad threshold or window.
    """
    if not (math.isfinite(threshold_spm) and 0.5 <= threshold_spm <= 30):
        raise UsageError(f"threshold {threshold_spm:g} spm is out of range: give 0.5 to 30 spm")
    if not plans:
        raise UsageError("the plan has no reps to review: give a race time or a session preset")
    tr = trace(activity, unit=unit)
    wanted = [Wanted(distance_m=p.plan.distance_m, time_s=p.plan.target_time_s) for p in plans]
    if start_s is not None:
        if len(plans) > 1:
            raise UsageError("--from/--to choose one rep: review a session's reps from their laps, or one at a time")
        windows = [by_hand(tr, wanted[0], start_s=start_s, end_s=end_s)]
    elif end_s is not None:
        raise UsageError("--to goes with --from: give both, or neither to find the rep")
    else:
        windows = from_laps(tr, wanted) or fastest(tr, wanted)
    recording = _recording(tr)
    reps = tuple(_rep(tr, i + 1, p, w, recording, threshold_spm) for i, (p, w) in enumerate(zip(plans, windows)))
    return Review(source=activity.source, recording=recording, reps=reps)


def _recording(tr: Trace) -> Recording:
    dt = np.diff(tr.time_s)
    interval = float(np.median(dt))
    smart = interval > 1.5 or float(np.percentile(dt, 90)) > 1.5 * interval
    return Recording(interval_s=interval, smart=smart, distance_source=tr.distance_source)


def _gun(tr: Trace, planned: PlannedRace, window: Window) -> float:
    """The gun of a rep found as a stretch: where the plan's start puts the runner at the first records that moved
    (the watch sees the first metres, not the gun); a lap's or --from's time is the gun itself."""
    if window.found_by is not FoundBy.FASTEST or planned.plan.start == "rolling":
        return window.start_s
    after = tr.time_s > window.start_s
    moved = (tr.distance_m - window.start_m)[after]
    t = tr.time_s[after]
    early = (moved > 0) & (moved < 15.0)
    if not early.any():
        return window.start_s
    since_gun = planned.profile.time_at(moved[early][:3], t_max=planned.plan.target_time_s * 1.2)
    return float(np.median(t[early][:3] - since_gun))


def _rep(
    tr: Trace, number: int, planned: PlannedRace, window: Window, recording: Recording, threshold: float
) -> RepReview:
    plan = planned.plan
    gun = _gun(tr, planned, window)
    d0 = window.start_m

    def arrive(marks: np.ndarray) -> np.ndarray:
        return tr.arrival(d0 + marks / window.scale, after=gun, at_m=d0)

    marks = np.asarray([r.distance_m for r in planned.splits])
    t_marks = arrive(marks)
    if not np.isfinite(t_marks[-1]) or t_marks[-1] > window.until_s + 30.0:
        raise UsageError(
            f"{tr.source}: rep {number} from {tr.clock(gun)} does not reach {plan.distance_m:g} m: "
            "review a whole rep, or plan the distance run (--distance)"
        )
    finish = float(t_marks[-1])
    average = plan.distance_m / (finish - gun)
    if average > FASTEST_MPS:
        raise UsageError(
            f"{tr.source}: rep {number} from {tr.clock(gun)} would be {average:.1f} m/s, faster than any runner: "
            "the distance jumps (GPS lost track?): give the rep with --from and --to"
        )
    _check_gaps(tr, number, gun, finish, recording)
    segments = _segments(tr, planned, gun, t_marks, marks, window.scale)
    hold_from, hold_spm, planned_hold = _hold(tr, planned, arrive, finish)
    fifties = np.append(np.arange(50.0, plan.distance_m, 50.0), plan.distance_m)
    v50 = np.diff(np.concatenate([[0.0], fifties])) / np.diff(np.concatenate([[gun], arrive(fifties)]))
    level, band = published_band(plan.target_time_s * 400.0 / plan.distance_m, plan.sex)
    inside = (tr.time_s >= gun) & (tr.time_s <= finish)
    t_in, d_in = tr.time_s[inside], (tr.distance_m[inside] - d0) * window.scale
    speed = np.diff(d_in) / np.diff(t_in) if len(t_in) > 1 else np.zeros(0)
    return RepReview(
        number=number,
        planned=planned,
        found_by=window.found_by,
        gun_s=gun,
        gun_clock=tr.clock(gun),
        segments=segments,
        time_s=finish - gun,
        hold_from_m=hold_from,
        hold_cadence_spm=hold_spm,
        planned_hold_cadence_spm=planned_hold,
        threshold_spm=threshold,
        fatigue_index=float((v50.max() - v50[-1]) / v50.max()),
        planned_fatigue_index=fatigue_index(planned.profile, plan.distance_m, plan.target_time_s),
        level=level,
        published_fatigue=band,
        split_error_s=_split_error(recording, plan.distance_m / (finish - gun), window.found_by),
        curve_m=(d_in[1:] + d_in[:-1]) / 2.0,  # a record's speed and cadence are its interval's
        curve_speed_mps=speed,
        curve_cadence_spm=tr.cadence_spm[inside][1:],
    )


def _check_gaps(tr: Trace, number: int, gun: float, finish: float, recording: Recording) -> None:
    t = tr.time_s
    inside = (t > gun) & (t <= finish + recording.interval_s)
    first = max(int(np.argmax(inside)), 1) if inside.any() else len(t)
    gaps = np.diff(t[first - 1 : first + int(np.count_nonzero(inside))])
    limit = max(GAP_S, GAP_INTERVALS * recording.interval_s)
    if gaps.size and float(gaps.max()) > limit:
        at = t[first - 1 + int(np.argmax(gaps))]
        raise UsageError(
            f"{tr.source}: the watch stopped recording for {gaps.max():.0f} s at {tr.clock(at)}, inside rep {number} "
            "(auto-pause?): turn auto-pause off for reps, or give the rep with --from and --to"
        )


def _segments(
    tr: Trace, planned: PlannedRace, gun: float, t_marks: np.ndarray, marks: np.ndarray, scale: float
) -> tuple[Segment, ...]:
    out = []
    t0, m0 = gun, 0.0
    # Standing at the gun, the runner took no step in the record that spans it before the gun: count all of them.
    first = tr.time_s[max(int(np.searchsorted(tr.time_s, gun, side="right")) - 1, 0)]
    counted_from = float(first) if tr.standing_at(gun) is not None else gun
    for row, t1, m1 in zip(planned.splits, t_marks, marks):
        running = (t1 - t0) - (planned.plan.reaction_s if m0 == 0.0 else 0.0)
        steps = tr.steps_between(counted_from if m0 == 0.0 else t0, float(t1))
        out.append(
            Segment(
                distance_m=float(m1),
                planned_s=row.split_s,
                actual_s=float(t1 - t0),
                planned_spm=row.cadence_spm,
                actual_spm=60.0 * steps / running if running > 0 else math.nan,
                planned_step_m=row.step_length_m,
                actual_step_m=(m1 - m0) / steps if steps > 0 else math.nan,
            )
        )
        t0, m0 = float(t1), float(m1)
    return tuple(out)


def _hold(
    tr: Trace, planned: PlannedRace, arrive: Callable[[np.ndarray], np.ndarray], finish: float
) -> tuple[float, float, float]:
    """(where the hold starts, the cadence run through it, the plan's)."""
    plan = planned.plan
    if planned.hold_start_s is not None and planned.held_cadence_spm is not None:
        hold_from, planned_spm = plan.distance_m - planned.hold_last_m, planned.held_cadence_spm
    else:
        hold_from = plan.distance_m - min(DEFAULT_HOLD_M, plan.distance_m / 2.0)
        t_h = float(planned.profile.time_at(hold_from, t_max=plan.target_time_s * 1.2))
        grid = np.linspace(t_h, plan.target_time_s, 2001)
        planned_spm = 60.0 * float(np.mean(planned.cadence_at(grid)))
    t_from = float(arrive(np.asarray([hold_from]))[0])
    spm = 60.0 * tr.steps_between(t_from, finish) / (finish - t_from)
    return hold_from, spm, planned_spm


def published_band(time_400_s: float, sex: str | None) -> tuple[str, tuple[float, float]]:
    """The level a 400 m time (or the 400 m pace of a rep) sits at, and the fatigue index published for it.

    Returns
    -------
    (level, (low, high)) : tuple
        World class, national, between the two (blended as the plan's own fade is) or regional (slower than a good
        400 m); the published index ± the spread of world-class races.
    """
    if time_400_s > GOOD_400_S.get(sex or "M", GOOD_400_S["M"]):
        centre = PUBLISHED_FATIGUE["regional"]
        return "regional", (centre - FATIGUE_SPREAD, centre + FATIGUE_SPREAD)
    w = level_400(time_400_s, sex)
    centre = (1.0 - w) * PUBLISHED_FATIGUE["world class"] + w * PUBLISHED_FATIGUE["national"]
    name = "world class" if w == 0.0 else "national" if w == 1.0 else "world class to national"
    return name, (centre - FATIGUE_SPREAD, centre + FATIGUE_SPREAD)


def _split_error(recording: Recording, speed: float, found_by: FoundBy) -> float:
    """The likely error of a split: two marks placed to the distance's usual error, at the rep's speed, plus the
    linear interpolation between records; a start found without a lap adds half an interval to the first split."""
    marks = math.sqrt(2.0) * MARK_ERROR_M.get(recording.distance_source, 3.0) / speed
    between = 0.05 * recording.interval_s
    start = 0.5 * recording.interval_s if found_by is FoundBy.FASTEST else 0.0
    return math.sqrt(marks**2 + between**2 + start**2)


def profile_points(result: Review) -> tuple[np.ndarray, np.ndarray]:
    """The points a rep adds to a stride profile (``review --save-profile``).

    Returns
    -------
    (speed, cadence) : tuple of arrays
        Speed (m/s) over each interval between records through every rep, and the watch's cadence (spm) for it.
    """
    speed = np.concatenate([r.curve_speed_mps for r in result.reps])
    cadence = np.concatenate([r.curve_cadence_spm for r in result.reps])
    return speed, cadence
