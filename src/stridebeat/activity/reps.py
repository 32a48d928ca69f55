"""Finding the reps of a plan in a recorded run: from the watch's laps, the fastest stretches of the plan's distance,
or a window given by hand.

A :class:`Trace` is the run ready for that: times checked (no record going back in time, none twice), one distance
for every sample (the watch's, or summed from GPS positions), and the cadence in steps per minute, each record's value
covering the time since the record before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

import numpy as np

from stridebeat.activity.record import Activity, CadenceUnit, DistanceSource
from stridebeat.errors import UsageError

# A lap is the rep when it covers the plan's distance within these shares (a watch measures a track lap a little
# long or short) at no less than SLOWEST_SHARE of the plan's speed (a jogged lap of the same length is not a rep).
LAP_SHARE = (0.98, 1.25)
SHORT_LAP_SHARE = 0.3
SLOWEST_SHARE = 0.8
# A start found without a lap is moved back to where the runner stood, if that is this close before it.
REST_SNAP_M = 20.0
REST_SPEED_MPS = 0.5
GRID_M = 0.5  # start positions tried for the fastest stretch
MAX_STARTS = 200_000  # at most this many (a longer run is searched on a coarser grid), so memory stays bounded
# A watch's cadence outside this is a sensor's glitch, not a step rate (the engine's own range).
CADENCE_RANGE_SPM = (0.0, 400.0)


class FoundBy(StrEnum):
    LAP = "lap"
    FASTEST = "fastest stretch"
    HAND = "--from/--to"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Trace:
    """A run checked for review: seconds from the first record, distance (m), cadence (spm) and steps so far."""

    source: str
    activity: Activity
    time_s: np.ndarray
    distance_m: np.ndarray
    cadence_spm: np.ndarray
    steps: np.ndarray  # steps taken by each record's time, from the first record
    distance_source: DistanceSource

    def clock(self, t_s: float) -> str:
        """The time of day (UTC) of ``t_s``, as the file's times are."""
        return clock_of(self.activity, t_s)

    def distance_at(self, t_s: float) -> float:
        return float(np.interp(t_s, self.time_s, self.distance_m))

    def steps_between(self, a: float, b: float) -> float:
        """Steps taken between times ``a`` and ``b`` (each record's cadence spread over the time before it)."""
        return float(np.interp(b, self.time_s, self.steps) - np.interp(a, self.time_s, self.steps))

    def arrival(self, distance: float | np.ndarray, *, after: float = -np.inf, at_m: float | None = None) -> np.ndarray:
        """The first time the runner reaches ``distance`` after time ``after``, where he was at ``at_m`` (linear
        between records); ``np.inf`` where he never does."""
        keep = self.time_s > after
        t, d = self.time_s[keep], self.distance_m[keep]
        if after > -np.inf:
            start = self.distance_at(after) if at_m is None else at_m
            t, d = np.concatenate([[after], t]), np.concatenate([[start], d])
        rising = np.concatenate([[True], np.diff(d) > 0])
        return np.asarray(np.interp(distance, d[rising], t[rising], right=np.inf), dtype=float)

    def standing_at(self, t_s: float) -> float | None:
        """Where the runner stood at ``t_s``, if the records around it show him still (a standing or blocks start
        between two records), else None."""
        i = int(np.searchsorted(self.time_s, t_s, side="right")) - 1
        if i < 1:
            return float(self.distance_m[0]) if i == 0 else None
        dt = self.time_s[i] - self.time_s[i - 1]
        still = (self.distance_m[i] - self.distance_m[i - 1]) / dt < REST_SPEED_MPS
        return float(self.distance_m[i]) if still else None

    def departure(self, distance: float | np.ndarray) -> np.ndarray:
        """The last time the runner is at ``distance`` before moving past it."""
        last = np.concatenate([np.diff(self.distance_m) > 0, [True]])
        return np.asarray(np.interp(distance, self.distance_m[last], self.time_s[last]), dtype=float)


def clock_of(activity: Activity, t_s: float) -> str:
    """The time of day (UTC) ``t_s`` seconds after the first record of ``activity``."""
    if not np.isfinite(t_s) or abs(t_s) > 1e7:
        return "a time far outside the run"
    return (activity.start + timedelta(seconds=float(t_s))).strftime("%H:%M:%S UTC")


def trace(activity: Activity, *, unit: CadenceUnit | str = CadenceUnit.AUTO) -> Trace:
    """The run checked and made ready for review.

    Raises
    ------
    UsageError
        Fewer than two records, a record earlier than the one before it, two records at one time, no cadence, no
        distance (neither the watch's nor GPS positions).
    """
    name = activity.source
    t = activity.time_s
    if len(t) < 2:
        raise UsageError(f"{name} holds fewer than two records: export the whole activity")
    dt = np.diff(t)

    def clock(t_s: float) -> str:
        return clock_of(activity, t_s)

    if np.any(dt < 0):
        i = int(np.argmax(dt < 0)) + 1
        raise UsageError(
            f"{name} goes back in time at {clock(t[i])} (a record earlier than the one before): "
            "export the activity again from the watch, not a merged or edited file"
        )
    if np.any(dt == 0):
        i = int(np.argmax(dt == 0)) + 1
        raise UsageError(
            f"{name} has two records at {clock(t[i])} (a duplicate): export the activity again from the watch"
        )
    spm = activity.cadence_spm(unit)
    spm[(spm < CADENCE_RANGE_SPM[0]) | (spm > CADENCE_RANGE_SPM[1])] = np.nan
    if not np.any(np.isfinite(spm) & (spm > 0)):
        raise UsageError(f"{name} has no cadence: record the rep with a watch or foot pod that counts steps")
    good = np.isfinite(spm)
    spm = np.interp(t, t[good], spm[good])
    steps = np.concatenate([[0.0], np.cumsum(spm[1:] / 60.0 * dt)])
    source = activity.distance_source
    if source is DistanceSource.WATCH:
        known = np.isfinite(activity.distance_m)
        distance = np.interp(t, t[known], activity.distance_m[known])
    elif source is DistanceSource.GPS:
        track = activity.track_m()
        known = np.isfinite(track)
        distance = np.interp(t, t[known], track[known])
    else:
        raise UsageError(
            f"{name} has no distance (neither the watch's nor GPS positions): record the rep with GPS or a foot pod"
        )
    # The watch's distance never goes back; a correction that does would make a mark be passed twice.
    distance = np.maximum.accumulate(distance)
    return Trace(
        source=name,
        activity=activity,
        time_s=t,
        distance_m=distance,
        cadence_spm=spm,
        steps=steps,
        distance_source=source,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    """Where a rep is in the run: it starts at ``start_s`` at distance ``start_m``; ``scale`` stretches the watch's
    distance to the plan's (a lap the watch measured a little short)."""

    start_s: float
    start_m: float
    found_by: FoundBy
    scale: float = 1.0
    until_s: float = np.inf


@dataclass(frozen=True, slots=True, kw_only=True)
class Wanted:
    """A planned rep to find: its distance and time."""

    distance_m: float
    time_s: float


def from_laps(tr: Trace, wanted: list[Wanted]) -> list[Window] | None:
    """Each rep in order from the laps that cover its distance at its pace; None unless every rep has its lap.

    Raises
    ------
    UsageError
        A lap run at the rep's pace that covers well under its distance (a rep cut short).
    """
    found: list[Window] = []
    laps = list(tr.activity.laps)
    i = 0
    for rep in wanted:
        while i < len(laps):
            lap = laps[i]
            i += 1
            standing = tr.standing_at(lap.start_s)
            d0 = tr.distance_at(lap.start_s) if standing is None else standing
            covered = tr.distance_at(lap.end_s) - d0
            fast = covered / (lap.end_s - lap.start_s) >= SLOWEST_SHARE * rep.distance_m / rep.time_s
            share = covered / rep.distance_m
            if fast and SHORT_LAP_SHARE <= share < LAP_SHARE[0]:
                raise UsageError(
                    f"{tr.source}: the lap at {tr.clock(lap.start_s)} covers {covered:.0f} m of the rep's "
                    f"{rep.distance_m:g} m: review a whole rep, or plan the distance run (--distance)"
                )
            if fast and share <= LAP_SHARE[1]:
                scale = 1.0 / share if share < 1.0 else 1.0
                found.append(
                    Window(start_s=lap.start_s, start_m=d0, found_by=FoundBy.LAP, scale=scale, until_s=lap.end_s)
                )
                break
        else:
            return None
    return found


def fastest(tr: Trace, wanted: list[Wanted]) -> list[Window]:
    """Each rep as the fastest stretch of its distance that no other rep took, matched to the reps in time order.

    Raises
    ------
    UsageError
        The run is shorter than a rep; the fastest stretch is well slower than the plan; the stretches found do not
        follow the session's order of distances.
    """
    taken: list[tuple[float, float, Wanted]] = []
    for rep in wanted:
        start, end = _fastest_one(tr, rep, [(a, b) for a, b, _ in taken])
        taken.append((start, end, rep))
    taken.sort(key=lambda w: w[0])
    if [w[2].distance_m for w in taken] != [r.distance_m for r in wanted]:
        raise UsageError(
            f"{tr.source}: the fastest stretches do not follow the session's order of distances: "
            "press the lap button at each rep's start and finish, or give --from and --to"
        )
    return [Window(start_s=a, start_m=tr.distance_at(a), found_by=FoundBy.FASTEST) for a, _, _ in taken]


def _fastest_one(tr: Trace, rep: Wanted, taken: list[tuple[float, float]]) -> tuple[float, float]:
    d = tr.distance_m
    span = rep.distance_m
    if d[-1] - d[0] < span:
        raise UsageError(
            f"{tr.source} covers {d[-1] - d[0]:.0f} m, shorter than the rep's {span:g} m: "
            "review a run that holds the whole rep, or plan the distance run (--distance)"
        )
    starts = np.arange(d[0], d[-1] - span + 1e-9, max(GRID_M, (d[-1] - span - d[0]) / MAX_STARTS))
    begin, finish = tr.departure(starts), tr.arrival(starts + span)
    duration = finish - begin
    for a, b in taken:
        duration[(begin < b) & (finish > a)] = np.inf
    best = int(np.argmin(duration))
    if not np.isfinite(duration[best]) or duration[best] > rep.time_s / SLOWEST_SHARE:
        _check_cut_short(tr, rep)
        took = f"the fastest {span:g} m took {duration[best]:.1f} s" if np.isfinite(duration[best]) else "none is left"
        raise UsageError(
            f"{tr.source} has no stretch of {span:g} m near the plan's pace ({took}, the plan {rep.time_s:.1f} s): "
            "check the plan's time, or give the rep with --from and --to"
        )
    start_m = _rest_before(tr, float(starts[best]))
    return float(tr.departure(start_m)), float(finish[best])


def _check_cut_short(tr: Trace, rep: Wanted) -> None:
    """A run at the rep's pace that stops well short of its distance is a rep cut short, not a slow one."""
    t, d = tr.time_s, tr.distance_m
    fast = np.diff(d) / np.diff(t) >= SLOWEST_SHARE * rep.distance_m / rep.time_s
    # The longest run of consecutive fast intervals: where each begins and ends.
    edges = np.diff(np.concatenate([[0], fast.astype(np.int8), [0]]))
    begins, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if not len(begins):
        return
    covered = d[ends] - d[begins]
    longest = int(np.argmax(covered))
    if SHORT_LAP_SHARE * rep.distance_m <= covered[longest] < LAP_SHARE[0] * rep.distance_m:
        raise UsageError(
            f"{tr.source}: the run at the rep's pace from {tr.clock(t[begins[longest]])} covers "
            f"{covered[longest]:.0f} m, shorter than the rep's {rep.distance_m:g} m: review a whole rep, or plan the "
            "distance run (--distance)"
        )


def _rest_before(tr: Trace, start_m: float) -> float:
    """The distance where the runner stood just before ``start_m`` (a standing or blocks start), else ``start_m``:
    the fastest stretch of a distance begins a few metres after a start from rest, where the runner is already fast."""
    t, d = tr.time_s, tr.distance_m
    dt = np.diff(t)
    still = np.concatenate([[False], np.diff(d) / np.where(dt > 0, dt, 1.0) < REST_SPEED_MPS])
    near = still & (d <= start_m) & (d >= start_m - REST_SNAP_M)
    return float(d[np.flatnonzero(near)[-1]]) if near.any() else start_m


def by_hand(tr: Trace, rep: Wanted, *, start_s: float, end_s: float | None) -> Window:
    """The rep from ``start_s`` (the gun) to ``end_s`` (or the end of the run).

    Raises
    ------
    UsageError
        A start outside the run, an end before it, or a window shorter than the rep.
    """
    t = tr.time_s
    if not t[0] <= start_s < t[-1] or (end_s is not None and end_s <= start_s):
        given = tr.clock(start_s) + (f" to {tr.clock(end_s)}" if end_s is not None else "")
        raise UsageError(
            f"--from/--to give {given}, but the run goes from {tr.clock(t[0])} to {tr.clock(t[-1])}: "
            "give times inside it, the start before the end"
        )
    end = t[-1] if end_s is None else min(end_s, t[-1])
    standing = tr.standing_at(start_s)
    d0 = tr.distance_at(start_s) if standing is None else standing
    covered = tr.distance_at(end) - d0
    if covered < LAP_SHARE[0] * rep.distance_m:
        raise UsageError(
            f"{tr.source}: {tr.clock(start_s)} to {tr.clock(end)} covers {covered:.0f} m of the rep's "
            f"{rep.distance_m:g} m: widen --from/--to, or plan the distance run (--distance)"
        )
    scale = rep.distance_m / covered if covered < rep.distance_m else 1.0
    return Window(start_s=start_s, start_m=d0, found_by=FoundBy.HAND, scale=scale, until_s=end)
