"""A job for people: the per-100 m table, the plan of a whole session, and one-line summaries of presets."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table

from stridebeat.config import settings
from stridebeat.config.jobs import prepare, prepare_session
from stridebeat.config.presets import Preset
from stridebeat.core.clock import format_time, say_duration
from stridebeat.core.plan import RacePlan
from stridebeat.core.schedule import PlannedRace
from stridebeat.core.session import Job, Rep, rep_brief


def summary_lines(planned: PlannedRace) -> list[str]:
    p = planned.plan
    lines = [
        f"{p.distance_m:g} m in {format_time(p.target_time_s)} ({shape_text(p)}, {p.start} start"
        f"{reaction_text(p)}); stride {planned.stride.source}",
        f"{planned.total_steps} footstrikes, race-average cadence {planned.average_cadence_spm:.1f} spm, "
        f"peak {planned.cadence.peak_cadence * 60:.1f} spm",
    ]
    if planned.held_cadence_spm is not None and planned.hold_step_m:
        (d0, l0), (_, l1) = planned.hold_step_m[0], planned.hold_step_m[-1]
        change = (l1 - l0) / l0
        why = " as the speed fades" if change < -0.005 else ""
        lines.append(
            f"hold {planned.held_cadence_spm:.1f} spm from {d0:g} m: step length {l0:.2f} m → {l1:.2f} m at the "
            f"finish ({change:+.0%}){why}"
        )
    return lines


def race_table(planned: PlannedRace) -> str:
    """The per-100 m table and summary, as terminal text (rich renders it; plain when not on a terminal)."""
    table = Table(title=None, box=None, pad_edge=False)
    for name in ("distance", "split", "elapsed", "speed m/s", "cadence spm", "step m", "steps", ""):
        table.add_column(name, justify="right")
    for r in planned.splits:
        table.add_row(
            f"{r.distance_m:g} m",
            f"{r.split_s:.2f}",
            format_time(r.elapsed_s),
            f"{r.speed_mps:.2f}",
            f"{r.cadence_spm:.1f}",
            f"{r.step_length_m:.2f}",
            str(r.steps),
            "hold" if r.held else "",
        )
    out = io.StringIO()
    console = Console(file=out, width=100, color_system=None)
    console.print(table)
    for line in summary_lines(planned):
        console.print(line, highlight=False)
    return out.getvalue()


def plan_text(job: Job) -> str:
    """What ``stridebeat plan`` prints: a race's table, or each rep's with where it falls in the session."""
    if job.session is None:
        planned = job.reps[0].planned
        return race_table(planned) if planned is not None else f"{rep_brief(job.reps[0])}\n"
    out = [
        f"session {job.session}: {len(job.reps)} reps, {format_time(job.duration_s)} from the first start to the "
        "last finish (times below: from the first gun)"
    ]
    for rep in job.reps:
        out.append("")
        out.append(
            f"rep {rep.number} of {len(job.reps)} ({rep.label}): gun at {format_time(rep.gun_s)}, "
            f"finish at {format_time(rep.finish_s)}"
        )
        if rep.planned is not None:
            out.append(race_table(rep.planned).rstrip("\n"))
        if rep.rest_after_s is not None:
            out.append(f"rest {say_duration(rep.rest_after_s)}: from the finish to the next start command")
    return "\n".join(out) + "\n"


def preset_job(preset: Preset) -> Job:
    """The job a preset makes on its own (a metronome preset without a duration plays until stopped)."""
    return prepare_session(preset) if preset.kind == "session" else prepare(preset.values, open_ended=True)


def preset_summary(preset: Preset, job: Job | None = None) -> str:
    """One line: what the preset plans (planned in full, so a preset that cannot be run raises UsageError)."""
    job = job or preset_job(preset)
    if preset.kind == "rep":
        return values_summary(preset.values, job.reps[0])
    groups: list[list[Any]] = []  # [what, rest, count]: runs of the same rep with the same rest after it
    for rep in job.reps:
        what = rep_brief(rep) if rep.label == "inline" else f"{rep.label} ({rep_brief(rep)})"
        if groups and groups[-1][0] == what and rep.rest_after_s in (groups[-1][1], None):
            groups[-1][2] += 1
        else:
            groups.append([what, rep.rest_after_s, 1])
    parts = [
        (f"{n} × " if n > 1 else "") + what + (f", {say_duration(rest)} rest" if rest else "")
        for what, rest, n in groups
    ]
    return f"{'; '.join(parts)}; {format_time(job.duration_s)} in all"


def values_summary(values: Mapping[str, Any], rep: Rep) -> str:
    """One line for a rep made from ``values``: distance and time, intensity, start and strategy (or the metronome)."""
    parsed = settings.parse_values(values)
    if rep.planned is None:
        open_ended = parsed.get("duration") is None
        length = " until stopped" if open_ended else f" for {format_time(rep.schedule.end_s)}"
        return f"metronome at {parsed['cadence']:g} spm{length}"
    plan = rep.planned.plan
    text = f"{plan.distance_m:g} m in {format_time(plan.target_time_s)}"
    share = parsed.get("intensity")
    if share is not None:
        if parsed.get("reference_time") is not None:
            ref_d = parsed.get("reference_distance") or 400.0
            text += f" ({share:.0%} of {ref_d:g} m in {format_time(parsed['reference_time'])})"
        else:
            text += f" ({share:.0%} of {parsed['max_speed']:g} m/s)"
    return f"{text}, {plan.start} start, {shape_text(plan)}"


def shape_text(plan: RacePlan) -> str:
    """How the plan is shaped, in words: "race strategy", or "paced like Steven Gardiner 2019 (43.48)"."""
    if plan.like is None:
        return f"{plan.strategy} strategy"
    from stridebeat.core.races import get_race

    return f"paced like {get_race(plan.like).label}"


def reaction_text(plan: RacePlan) -> str:
    return "" if plan.reaction_time_s is None else f", reaction {plan.reaction_time_s:.3f} s"
