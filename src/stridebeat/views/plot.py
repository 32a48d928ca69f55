"""A picture of a plan: speed, cadence and step length against distance, for a race or each rep of a session.

matplotlib is an optional extra, imported only here and only when a plot is asked for. The figure is drawn on the Agg
canvas directly (no pyplot), so plotting never changes the backend or global state of a program that imports us.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import IO, Any

import numpy as np

from stridebeat.core.clock import format_time
from stridebeat.core.races import Race
from stridebeat.core.schedule import PlannedRace
from stridebeat.core.session import Job
from stridebeat.errors import UsageError

FORMATS = (".png", ".svg")
SAMPLES = 801  # points per curve: 0.5 m apart over 400 m, smooth at any size the figure is viewed
DPI = 100
ACCEL_COLOR, HOLD_COLOR = "#fde3b0", "#cfe3f7"
# Each curve's colour, named here rather than left to matplotlib's cycle, so the picture is the same on every release.
SPEED_COLOR, CADENCE_COLOR, STEP_COLOR = "#1f77b4", "#d62728", "#2ca02c"
REFERENCE_COLOR = "#404040"


def plan_series(planned: PlannedRace) -> dict[str, np.ndarray | float | None]:
    """The curves and marks that ``plot_plan`` draws, as data.

    Cadence is the schedule's own (``PlannedRace.cadence_at``), the hold included, so its integral over a split is
    that split's step count. Step length is speed over cadence once the runner steps in rhythm; until the first
    footstrike it is that first step's length (the cadence there is one step spread over the push from the blocks,
    and speed over it would draw a long step that shrinks at the first footstrike: an artefact, not a stride).
    """
    prof, T = planned.profile, planned.plan.target_time_s
    # From first movement: before the reaction the runner is still and has no cadence or step length.
    t = np.linspace(prof.reaction_s, T, SAMPLES)
    v = prof.velocity(t)
    t_peak = float(t[int(np.argmax(v))])
    f = planned.cadence_at(t)
    steps = planned.schedule.steps_s
    t_first = float(steps[0]) if len(steps) and prof.a > 0 else float(prof.reaction_s)
    step = np.where(t < t_first, float(prof.position(t_first)), v / np.maximum(f, 1e-9))
    hold_m = planned.plan.distance_m - planned.hold_last_m if planned.hold_start_s is not None else None
    return {
        "time_s": t,
        "distance_m": prof.position(t),
        "velocity_mps": v,
        "cadence_spm": 60.0 * f,
        "step_length_m": step,
        "first_step_s": t_first,
        "split_distance_m": np.array([r.distance_m for r in planned.splits]),
        "split_elapsed_s": np.array([r.elapsed_s for r in planned.splits]),
        "accel_end_m": float(prof.position(t_peak)),
        "hold_start_m": hold_m,
    }


def _draw(axes, planned: PlannedRace, s: dict, title: str, reference: Any = None) -> None:
    x = s["distance_m"]
    rows = (
        ("velocity_mps", "speed (m/s)", SPEED_COLOR),
        ("cadence_spm", "cadence (spm)", CADENCE_COLOR),
        ("step_length_m", "step length (m)", STEP_COLOR),
    )
    for ax, (key, label, color) in zip(axes, rows):
        ax.axvspan(0.0, s["accel_end_m"], color=ACCEL_COLOR, lw=0)
        if s["hold_start_m"] is not None:
            ax.axvspan(s["hold_start_m"], planned.plan.distance_m, color=HOLD_COLOR, lw=0)
        for d in s["split_distance_m"]:
            ax.axvline(d, color="0.6", lw=0.8, ls="--")
        if key == "cadence_spm":
            # Cadence from the first footstrike, on an axis fitted to it: its 5-10 % variation is what matters.
            stepping = s["time_s"] >= s["first_step_s"]
            ax.plot(x[stepping], s[key][stepping], color=color, lw=1.6)
            lo, hi = float(np.min(s[key][stepping])), float(np.max(s[key][stepping]))
            pad = max(2.0, 0.08 * (hi - lo))
            ax.set_ylim(lo - pad, hi + pad)
        else:
            ax.plot(x, s[key], color=color, lw=1.6)
        ax.set_ylabel(label)
        ax.grid(True, axis="y", color="0.9")
        ax.set_xlim(0.0, planned.plan.distance_m)
    top = axes[0]
    if reference is not None:
        label, rx, rv = reference
        top.plot(rx, rv, color=REFERENCE_COLOR, lw=1.2, ls="--", label=label)
        top.legend(loc="lower center", bbox_to_anchor=(0.5, 0.1), fontsize=8, frameon=False)
    top.set_title(title, fontsize=10)
    _annotate(axes, planned, s)
    axes[-1].set_xlabel("distance (m)")


def _annotate(axes, planned: PlannedRace, s: dict) -> None:
    """The split times along the top, the zones' names, and the step lengths the hold implies."""
    top = axes[0]
    for d, t in zip(s["split_distance_m"], s["split_elapsed_s"]):
        top.annotate(
            format_time(t),
            (d, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(-3, -3),
            textcoords="offset points",
            ha="right",
            va="top",
            fontsize=8,
        )
    top.annotate(
        "acceleration",
        (s["accel_end_m"] / 2, 0.04),
        xycoords=("data", "axes fraction"),
        ha="center",
        fontsize=8,
        color="0.35",
    )
    if s["hold_start_m"] is not None:
        top.annotate(
            "hold",
            ((s["hold_start_m"] + planned.plan.distance_m) / 2, 0.04),
            xycoords=("data", "axes fraction"),
            ha="center",
            fontsize=8,
            color="0.35",
        )
    if s["hold_start_m"] is not None and planned.hold_step_m:
        (d0, l0), (_, l1) = planned.hold_step_m[0], planned.hold_step_m[-1]
        text = f"hold {planned.held_cadence_spm:.1f} spm\nstep {l0:.2f} → {l1:.2f} m ({(l1 - l0) / l0:+.0%})"
        axes[2].annotate(
            text,
            (d0, 0.04),
            xycoords=("data", "axes fraction"),
            xytext=(4, 0),
            textcoords="offset points",
            fontsize=8,
            va="bottom",
        )


def _reference_curve(race: Race | None, planned: PlannedRace) -> tuple[str, np.ndarray, np.ndarray] | None:
    """The reference race's speed against distance, scaled to the plan's time (None when it has another distance)."""
    if race is None or race.event_m != planned.plan.distance_m:
        return None
    from stridebeat.views.compare import reference_profile

    T = planned.plan.target_time_s
    prof = reference_profile(race, planned.plan.distance_m, T)
    t = np.linspace(prof.reaction_s, T, SAMPLES)
    return f"like {race.label}, scaled to {format_time(T)}", prof.position(t), prof.velocity(t)


def check_plot_path(path: str | os.PathLike[str]) -> None:
    """UsageError unless the name ends in .png or .svg, or when matplotlib is missing: before any work."""
    ext = Path(path).suffix.lower()
    if ext not in FORMATS:
        raise UsageError(f"cannot plot to {ext or 'a file without extension'!r}: name the file .png or .svg")
    if importlib.util.find_spec("matplotlib") is None:
        raise UsageError("plotting needs matplotlib: pip install 'stridebeat[plot]'")


def write_plot(
    job: Job, fh: IO[bytes], *, fmt: str, reference: Race | None = None
) -> list[dict[str, np.ndarray | float | None]]:
    """Draw every planned rep of ``job`` (one column each) as a PNG or SVG picture into the open file ``fh``;
    ``reference``: a library race whose speed, scaled to each rep's time, is drawn beside the plan's.

    Returns the plotted series (``plan_series``) of each rep. Raises UsageError for a bare metronome, or when
    matplotlib is missing. ``stridebeat.render`` calls it for an output of kind ``plot``.
    """
    plans = [rep.planned for rep in job.reps if rep.planned is not None]
    if not plans:
        raise UsageError("a plain metronome has no race plan to plot")
    fig, series = figure(plans, reference=reference)
    fig.savefig(fh, format=fmt)
    return series


def figure(plans: list[PlannedRace], *, reference: Race | None = None) -> tuple[Any, list[dict[str, Any]]]:
    """The matplotlib Figure of the plans (each rep of a session side by side) and the series it draws.

    Raises
    ------
    UsageError
        No plans, or matplotlib not installed.
    """
    if not plans:
        raise UsageError("nothing to plot: the session has no reps")
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise UsageError("plotting needs matplotlib: pip install 'stridebeat[plot]'") from None

    series = [plan_series(p) for p in plans]
    n = len(plans)
    fig = Figure(figsize=(4.0 + 4.0 * n if n > 1 else 9.0, 8.0), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(3, n, sharex="col", sharey="row", squeeze=False)
    for i, (p, s) in enumerate(zip(plans, series)):
        title = f"{p.plan.distance_m:g} m in {format_time(p.plan.target_time_s)}"
        _draw(axes[:, i], p, s, f"rep {i + 1}: {title}" if n > 1 else title, _reference_curve(reference, p))
    return fig, series
