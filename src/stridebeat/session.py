"""A training session as one track: its reps on one clock, and between them a rest with its calls.

The session clock's zero is the first rep's gun. Each rep's own schedule (``job.prepare`` on its values, start
sequence included) is placed whole at its gun offset G: every step and cue of the rep is at G + t, one addition to the
rep's own absolute time, never a sum of intervals.

The rest, precisely: the rest after rep i runs from its finish F_i = G_i + T_i (T_i: the rep's planned time, the end of
its schedule) to the first command of rep i+1's start sequence, S_{i+1} = F_i + rest ("on your marks"; the gun itself
when the rep has no start sequence, e.g. a rolling start or no voice). Its gun follows its own sequence:

    G_{i+1} = F_i + rest + lead_{i+1},     lead = time from the first command to the gun (0 without commands),

so a coach's "6 minutes' rest" is six minutes from the line to the next "on your marks", as it is on the track, and in
the audio the rest is exactly ``rest × samplerate`` frames (both ends are rounded from absolute times on one grid).

A track has one sound and one voice: the first rep's sound and voice settings, overridden by the session's own and then
by the command line, apply to every rep.
"""

from __future__ import annotations

import bisect
import csv
import io
from typing import Any

import numpy as np

from stridebeat import presets, settings
from stridebeat.errors import UsageError
from stridebeat.job import Job, prepare
from stridebeat.presets import Preset
from stridebeat.record import Record, replace
from stridebeat.schedule import Cue, PlannedRace, Schedule
from stridebeat.track import Track
from stridebeat.units import format_time

# The rest call waits for the finish call ("fifty-one point oh") to end; the other rest calls are dropped when they
# would come less than MIN_SPACING_S after it (a short rest has no room for "one minute").
REST_CALL_AFTER_S = 3.0
MIN_SPACING_S = 2.0
REMAINING_S = (60.0, 30.0)  # "one minute", "thirty seconds" before the next start
NEXT_BEFORE_S = 15.0  # "next rep", before the countdown
COUNTDOWN = (10, 5, 4, 3, 2, 1)
REST_CUE_KINDS = ("rest", "remaining", "countdown", "next")  # calls that happen during a rest


class SessionRep(Record):
    """One rep on the session clock."""

    number: int  # 1-based
    label: str  # the preset it came from, or "inline"
    job: Job  # on the rep's own clock (its gun at 0)
    start_s: float  # its first start command (or its gun)
    gun_s: float  # rep time 0 on the session clock
    rest_after_s: float | None  # None after the last rep

    @property
    def planned(self) -> PlannedRace | None:
        return self.job.planned

    @property
    def finish_s(self) -> float:
        return self.gun_s + self.job.schedule.end_s


class SessionJob(Record):
    """What render, live and the plan views need from a session: one schedule, one sound, and the reps behind it.

    ``planned`` is None, as for a metronome: a session has no single plan; ``reps`` carries each rep's.
    """

    name: str
    reps: tuple[SessionRep, ...]
    schedule: Schedule
    planned: None = None

    @property
    def sound(self):
        return self.reps[0].job.sound

    @property
    def duration_s(self) -> float:
        """From the first start command to the last finish."""
        return self.reps[-1].finish_s - self.reps[0].start_s

    def rep_at(self, t_s: float) -> SessionRep:
        """The rep running at session time ``t_s``, or the one whose rest it is (the first before the session)."""
        i = bisect.bisect_right([r.start_s for r in self.reps], t_s) - 1
        return self.reps[max(i, 0)]

    def track(self) -> Track:
        # The first rep's job carries the track's sound and voice; the session schedule replaces its schedule, so the
        # session is voiced and mixed by exactly the code that voices a single rep.
        return replace(self.reps[0].job, planned=None, schedule=self.schedule).track()

    def timeline(self, *, gun_offset_s: float | None = None) -> dict:
        return timeline(self, gun_offset_s=gun_offset_s)


def _track_level(key: str) -> bool:
    return settings.BY_KEY[key].group in presets.TRACK_GROUPS


def prepare_session(preset: Preset, overrides: dict[str, Any] | None = None) -> SessionJob:
    """Build the session's schedule from a session preset, with command-line ``overrides`` applied to every rep.

    Raises
    ------
    UsageError
        A rep that cannot be planned (the message names the rep).
    """
    if preset.kind != "session":
        raise UsageError(f"{preset.name!r} is a single rep, not a session")
    overrides = overrides or {}
    first = presets.override(preset.reps[0].values, preset.values)
    track_values = {k: v for k, v in presets.override(first, overrides).items() if _track_level(k)}
    jobs = []
    for n, spec in enumerate(preset.reps, 1):
        own = {k: v for k, v in spec.values.items() if not _track_level(k)}
        try:
            jobs.append(prepare(presets.override({**own, **track_values}, overrides)))
        except UsageError as exc:
            raise type(exc)(f"{preset.name}, rep {n} ({spec.label}): {exc}") from None
    return _assemble(preset.name, preset.reps, jobs)


def _assemble(name: str, specs, jobs: list[Job]) -> SessionJob:
    reps: list[SessionRep] = []
    steps, feet, cues = [], [], []
    total = len(jobs)
    gun = 0.0
    for n, (spec, job) in enumerate(zip(specs, jobs), 1):
        sched = job.schedule
        lead = max(0.0, -min((c.t_s for c in sched.cues), default=0.0))
        if reps:
            prev = reps[-1]
            start = prev.finish_s + prev.rest_after_s
            gun = start + lead
            cues += _rest_cues(prev.finish_s, prev.rest_after_s, start, n, rep_brief(job))
        else:
            start = gun - lead
        reps.append(SessionRep(n, spec.label, job, start, gun, spec.rest_after_s))
        cues.append(Cue(start, "rep", f"rep {n} of {total}: {rep_brief(job)}", value=float(n)))
        steps.append(gun + sched.steps_s)
        feet.append(sched.feet)
        cues += [replace(c, t_s=gun + c.t_s, text=f"rep {n}: {c.text}") for c in sched.cues]
    # A stable sort keeps the rep marker before the start command at the same instant.
    cues.sort(key=lambda c: c.t_s)
    schedule = Schedule(
        steps_s=np.concatenate(steps), feet=np.concatenate(feet), cues=tuple(cues), end_s=reps[-1].finish_s
    )
    return SessionJob(name, tuple(reps), schedule)


def _rest_cues(finish: float, rest: float, start: float, next_rep: int, brief: str) -> list[Cue]:
    """The calls of one rest, from the finish to the next start sequence (``start`` = finish + rest)."""
    call = finish + REST_CALL_AFTER_S
    cues = [Cue(call, "rest", f"rest, {say_duration(rest)}", value=rest)]
    planned = [(start - s, "remaining", f"{say_duration(s)} to go", s) for s in REMAINING_S]
    planned.append((start - NEXT_BEFORE_S, "next", f"next: rep {next_rep}, {brief}", float(next_rep)))
    planned += [(start - k, "countdown", str(k), float(k)) for k in COUNTDOWN]
    cues += [Cue(t, kind, text, value=value) for t, kind, text, value in planned if t >= call + MIN_SPACING_S]
    return cues


def say_duration(seconds: float) -> str:
    """``360`` → ``6 minutes``, ``90`` → ``1 minute 30 seconds``, ``30`` → ``30 seconds``."""
    minutes, secs = divmod(round(seconds), 60)
    parts = []
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    if secs or not minutes:
        parts.append(f"{secs} second{'s' if secs != 1 else ''}")
    return " ".join(parts)


def rep_brief(job: Job) -> str:
    """``500 m in 1:15.00``: what a rep is, in a few words."""
    if job.planned is None:
        steps = job.schedule.steps_s
        spm = 60.0 * (len(steps) - 1) / float(steps[-1] - steps[0]) if len(steps) > 1 else 0.0
        return f"metronome {spm:.0f} spm for {format_time(job.schedule.end_s)}"
    plan = job.planned.plan
    return f"{plan.distance_m:g} m in {format_time(plan.target_time_s)}"


# ------------------------------------------------------------------------------------------------------------ views


def timeline(job: SessionJob, *, gun_offset_s: float | None = None) -> dict:
    """The session as data: each rep (its plan, where it starts, its rest), and every step and cue on the session clock.

    Times are seconds from the first rep's gun; ``gun_offset_s`` is that gun's position in the audio file. Cues carry
    their ``value`` (rest length, seconds to go, countdown count, rep number, split time) where they have one.
    """
    from stridebeat import views

    data = {"session": job.name, "duration_s": round(job.duration_s, 9), "reps": []}
    for rep in job.reps:
        entry = {"rep": rep.number, "preset": rep.label, "start_s": round(rep.start_s, 9),
                 "gun_s": round(rep.gun_s, 9), "finish_s": round(rep.finish_s, 9), "rest_after_s": rep.rest_after_s}
        if rep.planned is not None:
            plan = views.timeline(rep.planned, rep.job.schedule)
            entry.update({k: plan[k] for k in ("distance_m", "target_time_s", "splits")})
        data["reps"].append(entry)
    data.update(views.timeline(None, job.schedule, gun_offset_s=gun_offset_s))
    return data


def plan_text(job: SessionJob) -> str:
    """Each rep's table, with where it falls in the session and the rest after it."""
    from stridebeat import views

    out = [f"session {job.name}: {len(job.reps)} reps, {format_time(job.duration_s)} from the first start to the "
           "last finish (times below: from the first gun)"]
    for rep in job.reps:
        out.append("")
        out.append(f"rep {rep.number} of {len(job.reps)} ({rep.label}): gun at {format_time(rep.gun_s)}, "
                   f"finish at {format_time(rep.finish_s)}")
        if rep.planned is not None:
            out.append(views.render_table(rep.planned).rstrip("\n"))
        if rep.rest_after_s is not None:
            out.append(f"rest {say_duration(rep.rest_after_s)}: from the finish to the next start command")
    return "\n".join(out) + "\n"


def steps_csv(job: SessionJob) -> str:
    """Every rep's per-step timetable (times from its own gun), with the rep number in front."""
    from stridebeat import views

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    header_done = False
    for rep in job.reps:
        if rep.planned is None:
            continue
        rows = list(csv.reader(io.StringIO(views.steps_csv(rep.planned))))
        if not header_done:
            writer.writerow(["rep", *rows[0]])
            header_done = True
        writer.writerows([rep.number, *row] for row in rows[1:])
    return buf.getvalue()


def to_json(job: SessionJob, *, gun_offset_s: float | None = None) -> str:
    from stridebeat import views

    return views.to_json(timeline(job, gun_offset_s=gun_offset_s))
