"""A job as data for programs: the timeline JSON (shape documented in the README) and the per-step CSV."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

import numpy as np

from stridebeat.core.schedule import FEET, Cue, PlannedRace, Schedule
from stridebeat.core.session import Job, Rep
from stridebeat.views.music import timeline_music

if TYPE_CHECKING:  # the music package loads only for a job with music
    from stridebeat.music.job import MusicMix


def timeline(job: Job, *, gun_offset_s: float | None = None, music: MusicMix | None = None) -> dict[str, Any]:
    """The job as data, times in seconds from the (first) gun; ``gun_offset_s`` is that gun's place in the audio.

    A single rep gives its plan (distance, target, splits); a session gives each rep (its plan, where it starts, its
    rest) under ``reps``. Both list every step and cue on the job's clock. Cues carry ``value`` where they speak a
    number and ``mark_s`` where a cue lead moves the call ahead of its mark. ``music`` (what a render played, or
    ``plan_music``'s map) adds each song span under ``music``.
    """
    data: dict[str, Any] = {}
    if job.session is None:
        if job.reps[0].planned is not None:
            data.update(_plan(job.reps[0].planned))
    else:
        data["session"] = job.session
        data["duration_s"] = round(job.duration_s, 9)
        data["reps"] = [_rep(rep) for rep in job.reps]
    if gun_offset_s is not None:
        data["gun_offset_s"] = gun_offset_s
    data.update(_events(job.schedule))
    if music is not None:  # with --music: each song's span and beat → step map
        data["music"] = timeline_music(music)
    return data


def _plan(planned: PlannedRace) -> dict[str, Any]:
    return {
        "distance_m": planned.plan.distance_m,
        "target_time_s": planned.plan.target_time_s,
        "splits": [
            {
                "distance_m": r.distance_m,
                "elapsed_s": round(r.elapsed_s, 6),
                "split_s": round(r.split_s, 6),
                "cadence_spm": round(r.cadence_spm, 3),
                "step_length_m": round(r.step_length_m, 4),
                "steps": r.steps,
            }
            for r in planned.splits
        ],
    }


def _rep(rep: Rep) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "rep": rep.number,
        "preset": rep.label,
        "start_s": round(rep.start_s, 9),
        "gun_s": round(rep.gun_s, 9),
        "finish_s": round(rep.finish_s, 9),
        "rest_after_s": rep.rest_after_s,
    }
    if rep.planned is not None:
        entry.update(_plan(rep.planned))
    return entry


def _events(schedule: Schedule) -> dict[str, Any]:
    # Nine decimals: a nanosecond, far below one sample at any rate, so a reader can recompute exact sample positions.
    steps = [{"t_s": round(float(t), 9), "foot": FEET[int(f)]} for t, f in zip(schedule.steps_s, schedule.feet)]
    return {"steps": steps, "cues": [_cue(c) for c in schedule.cues]}


def _cue(c: Cue) -> dict[str, Any]:
    cue: dict[str, Any] = {"t_s": round(c.t_s, 9), "kind": str(c.kind), "text": c.text}
    if c.value is not None:
        cue["value"] = c.value
    if c.mark_s is not None:
        cue["mark_s"] = round(c.mark_s, 9)
    return cue


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def steps_csv(job: Job) -> str:
    """One row per footstrike of every planned rep: time from its gun, foot, distance, the step just taken, and the
    cadence heard (60 / the interval since the previous click; empty on a rep's first). A session adds the rep."""
    session = job.session is not None
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    header = ["step", "t_s", "foot", "distance_m", "step_length_m", "cadence_spm"]
    w.writerow(["rep", *header] if session else header)
    for rep in job.reps:
        if rep.planned is None:
            continue
        for row in _step_rows(rep.planned):
            w.writerow([rep.number, *row] if session else row)
    return buf.getvalue()


def _step_rows(planned: PlannedRace) -> list[list[object]]:
    s = planned.schedule
    x = planned.profile.position(s.steps_s)
    step = np.diff(np.concatenate([[0.0], x]))
    heard = np.concatenate([[np.nan], 60.0 / np.diff(s.steps_s)])
    return [
        [i + 1, f"{t:.6f}", FEET[int(f)], f"{x[i]:.3f}", f"{step[i]:.3f}", "" if i == 0 else f"{heard[i]:.1f}"]
        for i, (t, f) in enumerate(zip(s.steps_s, s.feet))
    ]
