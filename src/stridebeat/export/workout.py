"""A job as a FIT workout for the runner's watch: its reps, 100 m at a time, with cadence targets and the rests.

Each planned rep becomes one distance step per 100 m split of its plan (the plan's split marks), named by the mark
and the elapsed time due there ("200 m 24.5 hold") and targeting the plan's cadence over that segment ± a tolerance.
A rest between reps is one time step of the rest's length. Where the session repeats (the same rep, then the same
rest, several times over) the workout has one repeat block, as a watch shows "3 of 5" rather than a list of steps.

A repeat block holds a rep *and the rest after it*: FIT has no "skip the last rest", so the last rep of a session,
which has no rest after it, stands on its own after the block (3 × 500 m with 6 minutes' rest is 2 × (500 m, rest),
then 500 m), and the watch never asks for a rest that is not in the plan.
"""

from __future__ import annotations

import math

from stridebeat.core.clock import format_time
from stridebeat.core.schedule import steps_spm
from stridebeat.core.session import Job, Rep
from stridebeat.errors import UsageError
from stridebeat.export.fit import (
    MAX_STEP_NAME_BYTES,
    Repeat,
    Workout,
    WorkoutStep,
    spm_to_fit_cadence,
    workout_from_splits,
)

# ±3 spm is about 1.5 % at race cadence: a band a runner can stay in by ear, narrow enough that a real drift shows.
DEFAULT_TOLERANCE_SPM = 3.0
MAX_TOLERANCE_SPM = 30.0  # the bound fit.workout_from_splits sets, applied to metronome steps too

Item = WorkoutStep | Repeat


def workout_for(job: Job, *, name: str, tolerance_spm: float = DEFAULT_TOLERANCE_SPM) -> Workout:
    """The workout of ``job``: its reps' 100 m steps with cadence targets, rests between, repeat blocks where the
    session repeats.

    Raises
    ------
    UsageError
        A bad ``name`` (empty, or longer than FIT allows) or ``tolerance_spm`` (outside 0-30).
    """
    if not (math.isfinite(tolerance_spm) and 0 <= tolerance_spm <= MAX_TOLERANCE_SPM):
        raise UsageError(f"cadence tolerance {tolerance_spm} spm is not within 0-{MAX_TOLERANCE_SPM:g}: give e.g. 3")
    units = [(_rep_steps(rep, tolerance_spm, job.open_ended), _rest_step(rep.rest_after_s)) for rep in job.reps]
    items: list[Item] = []
    i = 0
    while i < len(units):
        steps, rest = units[i]
        j = i + 1
        # A block runs while the next unit is the same rep with the same rest after it; the last rep has no rest,
        # so it never joins one (see the module's docstring).
        while rest is not None and j < len(units) and _same(units[j], (steps, rest)):
            j += 1
        tail = () if rest is None else (rest,)
        if j - i > 1:
            items.append(Repeat(count=j - i, steps=(*steps, *tail)))
        else:
            items += [*steps, *tail]
        i = j
    return Workout(name=name, steps=tuple(items))


Unit = tuple[tuple[WorkoutStep, ...], WorkoutStep | None]  # a rep's steps and the rest after it


def _same(a: Unit, b: Unit) -> bool:
    """Whether two reps (with their rests) are the same on the watch: what the file holds, not the plan's floats."""
    return _written(a) == _written(b)


def _written(unit: Unit) -> list[tuple[object, ...]]:
    steps, rest = unit
    return [
        (
            s.name,
            s.kind,
            None if s.distance_m is None else round(s.distance_m * 100),
            None if s.duration_s is None else round(s.duration_s * 1000),
            None if s.cadence_spm is None else spm_to_fit_cadence(*s.cadence_spm),
        )
        for s in (*steps, *([] if rest is None else [rest]))
    ]


def _rep_steps(rep: Rep, tolerance_spm: float, open_ended: bool) -> tuple[WorkoutStep, ...]:
    if rep.planned is None:
        return (_metronome_step(rep, tolerance_spm, open_ended),)
    splits = [(row.distance_m, row.split_s, row.cadence_spm, row.held) for row in rep.planned.splits]
    steps = workout_from_splits("rep", splits, tolerance_spm=tolerance_spm).steps
    return tuple(s for s in steps if isinstance(s, WorkoutStep))  # all of them: splits give no repeats


def _metronome_step(rep: Rep, tolerance_spm: float, open_ended: bool) -> WorkoutStep:
    steps = rep.schedule.steps_s
    # An open-ended metronome (live, until stopped) has no length: the lap button ends its step.
    duration = None if open_ended else rep.schedule.end_s
    if len(steps) < 2:  # a track too short for two clicks has no cadence to target
        return WorkoutStep(name="metronome", kind="run", duration_s=duration)
    # Clicks sit at exactly k · 60 / cadence, so the first and last give the cadence back to rounding.
    spm = steps_spm(steps)
    name = f"{spm:.0f} spm" if duration is None else _fit_name(f"{spm:.0f} spm {_clock(duration)}", f"{spm:.0f} spm")
    return WorkoutStep(
        name=name, kind="run", duration_s=duration, cadence_spm=(spm - tolerance_spm, spm + tolerance_spm)
    )


def _rest_step(rest_s: float | None) -> WorkoutStep | None:
    if rest_s is None:
        return None
    return WorkoutStep(name=_fit_name(f"rest {_clock(rest_s)}", "rest"), kind="rest", duration_s=rest_s)


def _fit_name(name: str, short: str) -> str:
    return name if len(name.encode("utf-8")) <= MAX_STEP_NAME_BYTES else short


def _clock(seconds: float) -> str:
    """``360`` → ``6:00``, ``75.5`` → ``1:15.5``: a length as a watch shows it, tenths only when there are some."""
    return format_time(seconds, places=1, minutes=True, whole=True)
