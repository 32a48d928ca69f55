"""A plan beside a reference race of the library, scaled to the plan's time: the differences per split."""

from __future__ import annotations

import numpy as np

from stridebeat.core.plan import RacePlan, build_profile
from stridebeat.core.profile import Profile
from stridebeat.core.races import Race, like_splits
from stridebeat.core.session import Job
from stridebeat.errors import UsageError


def reference_profile(race: Race, distance_m: float, time_s: float) -> Profile:
    """The reference race's speed curve scaled to ``time_s``: a custom plan through its scaled 100 m splits."""
    return build_profile(RacePlan.custom(like_splits(race, distance_m, time_s), distance_m=distance_m))


def compare_text(job: Job, race: Race) -> str:
    """The plan's splits beside the race's (scaled to the plan's time), with plan − race per split."""
    plans = [rep.planned for rep in job.reps if rep.planned is not None]
    if len(plans) != 1:
        raise UsageError("--compare takes a single race plan, not a session or a metronome")
    planned = plans[0]
    plan = planned.plan
    ref = np.cumsum(like_splits(race, plan.distance_m, plan.target_time_s))
    lines = [
        f"{plan.distance_m:g} m in {plan.target_time_s:.2f} beside {race.label}, scaled by "
        f"{plan.target_time_s / race.final_s:.4f} to the same time",
        "distance   plan split  race split   diff    plan elapsed  race elapsed   diff",
    ]
    prev = 0.0
    for row, at in zip(planned.splits, ref):
        split = at - prev
        lines.append(
            f"{row.distance_m:6g} m   {row.split_s:9.2f}  {split:10.2f}  {row.split_s - split:+6.2f}"
            f"   {row.elapsed_s:12.2f}  {at:12.2f}  {row.elapsed_s - at:+6.2f}"
        )
        prev = float(at)
    published = ", ".join(f"{m} m" for m in race.marks_m)
    missing = [row.distance_m for row in planned.splits if race.elapsed_at(row.distance_m) is None]
    filled = "; the others from the default model, moved to pass through them" if missing else ""
    lines.append(f"race times published at {published}{filled}. Source: {race.source}")
    return "\n".join(lines) + "\n"
