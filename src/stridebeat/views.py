"""Ways to look at a plan: a table and summary for people, JSON and CSV for programs. Pure: they return text or dicts."""

from __future__ import annotations

import csv
import io
import json

import numpy as np

from stridebeat.schedule import PlannedRace, Schedule
from stridebeat.units import format_time


def timeline(planned: PlannedRace | None, schedule: Schedule, *, gun_offset_s: float | None = None) -> dict:
    """The plan as data (times in seconds from the gun). The README documents this shape."""
    data: dict = {}
    if planned is not None:
        data["distance_m"] = planned.plan.distance_m
        data["target_time_s"] = planned.plan.target_time_s
        data["splits"] = [
            {
                "distance_m": r.distance_m,
                "elapsed_s": round(r.elapsed_s, 6),
                "split_s": round(r.split_s, 6),
                "cadence_spm": round(r.cadence_spm, 3),
                "step_length_m": round(r.step_length_m, 4),
                "steps": r.steps,
            }
            for r in planned.splits
        ]
    if gun_offset_s is not None:
        data["gun_offset_s"] = gun_offset_s
    feet = ("R", "L")
    # Nine decimals: a nanosecond, far below one sample at any rate, so a reader can recompute exact sample positions.
    data["steps"] = [{"t_s": round(float(t), 9), "foot": feet[int(f)]} for t, f in zip(schedule.steps_s, schedule.feet)]
    data["cues"] = [_cue(c) for c in schedule.cues]
    return data


def _cue(c) -> dict:
    cue = {"t_s": round(c.t_s, 9), "kind": c.kind, "text": c.text}
    if c.value is not None:
        cue["value"] = c.value
    if c.mark_s is not None:
        cue["mark_s"] = round(c.mark_s, 9)
    return cue


def to_json(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def steps_csv(planned: PlannedRace) -> str:
    """One row per footstrike: time, foot, distance, the step just taken, and the cadence heard (60 / the interval
    since the previous click; empty on the first, which has no previous click)."""
    s = planned.schedule
    x = planned.profile.position(s.steps_s)
    step = np.diff(np.concatenate([[0.0], x]))
    heard = np.concatenate([[np.nan], 60.0 / np.diff(s.steps_s)])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["step", "t_s", "foot", "distance_m", "step_length_m", "cadence_spm"])
    for i, (t, f) in enumerate(zip(s.steps_s, s.feet)):
        cadence = "" if i == 0 else f"{heard[i]:.1f}"
        w.writerow([i + 1, f"{t:.6f}", "RL"[int(f)], f"{x[i]:.3f}", f"{step[i]:.3f}", cadence])
    return buf.getvalue()


def summary_lines(planned: PlannedRace) -> list[str]:
    p = planned.plan
    lines = [
        f"{p.distance_m:g} m in {format_time(p.target_time_s)} ({p.strategy} strategy, {p.start} start); "
        f"stride {planned.stride.source}",
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


def render_table(planned: PlannedRace) -> str:
    """The per-100 m table and summary, as terminal text (rich renders it; plain when not on a terminal)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=None, box=None, pad_edge=False)
    for name in ("distance", "split", "elapsed", "speed m/s", "cadence spm", "step m", "steps", ""):
        table.add_column(name, justify="right")
    for r in planned.splits:
        table.add_row(
            f"{r.distance_m:g} m", f"{r.split_s:.2f}", format_time(r.elapsed_s), f"{r.speed_mps:.2f}",
            f"{r.cadence_spm:.1f}", f"{r.step_length_m:.2f}", str(r.steps), "hold" if r.held else "",
        )
    console = Console(file=io.StringIO(), width=100, color_system=None)
    console.print(table)
    for line in summary_lines(planned):
        console.print(line, highlight=False)
    return console.file.getvalue()
