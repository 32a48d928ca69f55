"""A review for people and programs: the terminal table, the JSON, the CSV of segments, and the splits CSV that
``--splits-from`` reads."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from stridebeat.activity.record import DistanceSource
from stridebeat.activity.review import RepReview, Review
from stridebeat.core.clock import format_time

CSV_COLUMNS = (
    "rep",
    "distance_m",
    "planned_s",
    "actual_s",
    "diff_s",
    "planned_spm",
    "actual_spm",
    "diff_spm",
    "planned_step_m",
    "actual_step_m",
    "diff_step_m",
)
DISTANCE_WORDS = {
    DistanceSource.WATCH: "the watch's distance",
    DistanceSource.GPS: "GPS positions",
    DistanceSource.NONE: "none",
}


def recording_line(review: Review) -> str:
    """How sure the review is: the recording rate, where distance came from, the likely error of a split."""
    rec = review.recording
    rate = (
        f"smart recording (a record every {rec.interval_s:.1f} s typically)"
        if rec.smart
        else (f"a record every {rec.interval_s:.1f} s")
    )
    errors = sorted({round(r.split_error_s, 2) for r in review.reps})
    error = "/".join(f"{e:.2f}" for e in errors)
    source = DISTANCE_WORDS[rec.distance_source]
    return f"{review.source}: {rate}, distance from {source}; a split is likely within ±{error} s"


def verdict_lines(rep: RepReview) -> list[str]:
    """The hold's verdict and the fatigue index against the plan's and the published band."""
    lo, hi = rep.published_fatigue
    return [
        f"Hold from {rep.hold_from_m:g} m: {rep.hold_cadence_spm:.1f} spm against the plan's "
        f"{rep.planned_hold_cadence_spm:.1f} (±{rep.threshold_spm:g} spm): {rep.verdict.upper()}",
        f"Fatigue index {rep.fatigue_index:.1%}: the plan's {rep.planned_fatigue_index:.1%}, published "
        f"{lo:.0%}-{hi:.0%} at {rep.level} level (Hanon & Gajer 2009)",
    ]


def review_text(review: Review) -> str:
    """The table of every rep, with its verdict, under the line saying how sure it is."""
    out = io.StringIO()
    console = Console(file=out, width=110, color_system=None)
    console.print(escape(recording_line(review)), highlight=False)
    for rep in review.reps:
        plan = rep.planned.plan
        console.print("")
        console.print(
            escape(
                f"Rep {rep.number}: {plan.distance_m:g} m in {format_time(rep.time_s)} (plan "
                f"{format_time(plan.target_time_s)}), from {rep.gun_clock}, found by {rep.found_by}"
            ),
            highlight=False,
        )
        table = Table(box=None, pad_edge=False)
        for name in ("to", "split", "plan", "diff", "spm", "plan", "diff", "step m", "plan", "diff"):
            table.add_column(name, justify="right")
        for s in rep.segments:
            table.add_row(
                f"{s.distance_m:g} m",
                f"{s.actual_s:.2f}",
                f"{s.planned_s:.2f}",
                f"{s.actual_s - s.planned_s:+.2f}",
                f"{s.actual_spm:.1f}",
                f"{s.planned_spm:.1f}",
                f"{s.actual_spm - s.planned_spm:+.1f}",
                f"{s.actual_step_m:.2f}",
                f"{s.planned_step_m:.2f}",
                f"{s.actual_step_m - s.planned_step_m:+.2f}",
            )
        console.print(table)
        for line in verdict_lines(rep):
            console.print(escape(line), highlight=False)
    return out.getvalue()


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def review_data(review: Review) -> dict[str, Any]:
    """The review as data (``--json``).

    Returns
    -------
    dict
        ``source``, ``recording`` (``interval_s``, ``smart``, ``distance_source``) and ``reps``: per rep ``held``,
        ``hold_cadence_spm``, ``planned_hold_cadence_spm``, ``fatigue_index`` and ``segments`` (each with
        ``distance_m``, ``planned_s``, ``actual_s``, ``planned_spm``, ``actual_spm``, ``planned_step_m``,
        ``actual_step_m``), with the verdict, the band and how the rep was found beside them.
    """
    rec = review.recording
    return {
        "source": review.source,
        "recording": {
            "interval_s": rec.interval_s,
            "smart": rec.smart,
            "distance_source": str(rec.distance_source),
        },
        "reps": [_rep_data(rep) for rep in review.reps],
    }


def _rep_data(rep: RepReview) -> dict[str, Any]:
    plan = rep.planned.plan
    return {
        "rep": rep.number,
        "start": rep.gun_clock,
        "found_by": str(rep.found_by),
        "distance_m": plan.distance_m,
        "time_s": _finite(rep.time_s),
        "planned_time_s": plan.target_time_s,
        "held": rep.held,
        "verdict": rep.verdict,
        "threshold_spm": rep.threshold_spm,
        "hold_from_m": rep.hold_from_m,
        "hold_cadence_spm": _finite(rep.hold_cadence_spm),
        "planned_hold_cadence_spm": _finite(rep.planned_hold_cadence_spm),
        "fatigue_index": _finite(rep.fatigue_index),
        "planned_fatigue_index": _finite(rep.planned_fatigue_index),
        "published_fatigue_index": {
            "level": rep.level,
            "low": rep.published_fatigue[0],
            "high": rep.published_fatigue[1],
        },
        "split_error_s": _finite(rep.split_error_s),
        "segments": [
            {
                "distance_m": s.distance_m,
                "planned_s": s.planned_s,
                "actual_s": s.actual_s,
                "planned_spm": _finite(s.planned_spm),
                "actual_spm": _finite(s.actual_spm),
                "planned_step_m": _finite(s.planned_step_m),
                "actual_step_m": _finite(s.actual_step_m),
            }
            for s in rep.segments
        ],
    }


def review_json(review: Review) -> str:
    """:func:`review_data` as JSON text (no NaN: a value that cannot be measured is null)."""
    return json.dumps(review_data(review), indent=2, allow_nan=False) + "\n"


def review_csv(review: Review) -> str:
    """One row per segment of every rep (``--csv``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for rep in review.reps:
        for s in rep.segments:
            writer.writerow(
                [
                    rep.number,
                    f"{s.distance_m:g}",
                    f"{s.planned_s:.3f}",
                    f"{s.actual_s:.3f}",
                    f"{s.actual_s - s.planned_s:.3f}",
                    f"{s.planned_spm:.2f}",
                    f"{s.actual_spm:.2f}",
                    f"{s.actual_spm - s.planned_spm:.2f}",
                    f"{s.planned_step_m:.3f}",
                    f"{s.actual_step_m:.3f}",
                    f"{s.actual_step_m - s.planned_step_m:.3f}",
                ]
            )
    return out.getvalue()


def splits_csv(rep: RepReview) -> str:
    """The rep's actual 100 m splits as ``--splits-from`` reads them: a ``split`` column under a header."""
    return "split\n" + "".join(f"{s.actual_s:.2f}\n" for s in rep.segments)
