"""A picture of a review: the plan's and the run's speed and cadence against distance, one column per rep, the hold
shaded.

Drawn on the Agg canvas directly (no pyplot), as ``views.plot`` draws plans, so plotting changes no global state.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from stridebeat.activity.review import Review
from stridebeat.core.clock import format_time
from stridebeat.views.plot import DPI, HOLD_COLOR, check_plot_path, plan_series

PLAN_COLOR, ACTUAL_COLOR = "#1f77b4", "#d62728"


def review_figure(review: Review) -> Any:
    """The figure: per rep, speed (top) and cadence (bottom) against distance; lines labelled "plan" and "actual".

    Raises
    ------
    UsageError
        matplotlib is not installed.
    """
    check_plot_path("review.png")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = len(review.reps)
    fig = Figure(figsize=(4.0 + 4.0 * n if n > 1 else 9.0, 6.5), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, n, sharex="col", sharey="row", squeeze=False)
    for col, rep in enumerate(review.reps):
        series: dict[str, Any] = plan_series(rep.planned)
        plan = rep.planned.plan
        rows = (
            (series["velocity_mps"], rep.curve_speed_mps, "speed (m/s)"),
            (series["cadence_spm"], rep.curve_cadence_spm, "cadence (spm)"),
        )
        for ax, (planned, actual, label) in zip(axes[:, col], rows):
            ax.axvspan(rep.hold_from_m, plan.distance_m, color=HOLD_COLOR, lw=0)
            ax.plot(series["distance_m"], planned, color=PLAN_COLOR, lw=1.6, label="plan")
            ax.plot(rep.curve_m, actual, color=ACTUAL_COLOR, lw=1.2, marker=".", ms=3, label="actual")
            ax.set_ylabel(label)
            ax.set_xlim(0.0, plan.distance_m)
            ax.grid(True, axis="y", color="0.9")
        top, bottom = axes[0, col], axes[1, col]
        top.set_title(
            f"rep {rep.number}: {format_time(rep.time_s)} (plan {format_time(plan.target_time_s)})", fontsize=10
        )
        bottom.axhline(rep.planned_hold_cadence_spm, xmin=rep.hold_from_m / plan.distance_m, color=PLAN_COLOR, ls=":")
        bottom.annotate(
            f"hold: {rep.verdict}",
            ((rep.hold_from_m + plan.distance_m) / 2, 0.04),
            xycoords=("data", "axes fraction"),
            ha="center",
            fontsize=8,
        )
        bottom.set_xlabel("distance (m)")
        # Cadence on an axis fitted to the running (the start's first step is far below it).
        stepping = series["time_s"] >= series["first_step_s"]
        lo = min(float(series["cadence_spm"][stepping].min()), float(rep.curve_cadence_spm.min(initial=1e9)))
        hi = max(float(series["cadence_spm"].max()), float(rep.curve_cadence_spm.max(initial=0.0)))
        bottom.set_ylim(max(lo, 100.0) - 5.0, hi + 5.0)
    axes[0, 0].legend(loc="lower center", fontsize=8, frameon=False)
    return fig


def write_plot(review: Review, path: str | os.PathLike[str], *, fmt: str) -> None:
    """Draw the review into ``path`` (a temporary file of the output pipeline) as ``png`` or ``svg``."""
    fig = review_figure(review)
    with open(Path(path), "wb") as fh:
        fig.savefig(fh, format=fmt)
