"""The reference race library: published races with intermediate splits (``races.toml``, shipped in the package).

Each row cites where its numbers come from; the file's header describes the fields. The library checks the default
race model (``bench/validate_model.py``) and gives ``--like`` and ``--compare`` a real race to pace a plan after.
"""

from __future__ import annotations

import difflib
import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stridebeat.core.vocabulary import LEVELS, SEXES
from stridebeat.errors import UsageError

RACES_FILE = Path(__file__).with_name("races.toml")


@dataclass(frozen=True, slots=True, kw_only=True)
class Race:
    """One published race: elapsed times at the marks where its source gives them."""

    id: str
    athlete: str
    sex: str
    event_m: int
    level: str
    final_s: float
    competition: str
    date: str
    marks_m: tuple[int, ...]
    elapsed_s: tuple[float, ...]
    source: str
    reaction_s: float | None = None
    note: str | None = None

    @property
    def label(self) -> str:
        """How a person names it: athlete, final time, competition and year."""
        return f"{self.athlete} {self.final_s:.2f} ({self.competition.split(',')[0]}, {self.date[:4]})"

    def elapsed_at(self, mark_m: float) -> float | None:
        """The published elapsed time at ``mark_m``, or None where the source gives none."""
        for m, t in zip(self.marks_m, self.elapsed_s):
            if m == mark_m:
                return t
        return None

    def has_marks(self, marks_m: tuple[float, ...]) -> bool:
        return all(self.elapsed_at(m) is not None for m in marks_m)

    def splits_per(self, step_m: float) -> tuple[float, ...] | None:
        """Segment times every ``step_m`` metres to the finish, or None unless every such mark is published."""
        n = round(self.event_m / step_m)
        if n * step_m != self.event_m:
            return None
        at = [self.elapsed_at(step_m * (i + 1)) for i in range(n)]
        if any(t is None for t in at):
            return None
        elapsed = [0.0] + [float(t) for t in at if t is not None]
        return tuple(b - a for a, b in zip(elapsed, elapsed[1:]))


def _race(row: dict[str, object]) -> Race:
    return Race(
        id=str(row["id"]),
        athlete=str(row["athlete"]),
        sex=str(row["sex"]),
        event_m=int(row["event_m"]),  # type: ignore[call-overload]
        level=str(row["level"]),
        final_s=float(row["final_s"]),  # type: ignore[arg-type]
        competition=str(row["competition"]),
        date=str(row["date"]),
        marks_m=tuple(int(m) for m in row["marks_m"]),  # type: ignore[attr-defined]
        elapsed_s=tuple(float(t) for t in row["elapsed_s"]),  # type: ignore[attr-defined]
        source=str(row["source"]),
        reaction_s=float(row["reaction_s"]) if "reaction_s" in row else None,  # type: ignore[arg-type]
        note=str(row["note"]) if "note" in row else None,
    )


@functools.cache
def all_races() -> tuple[Race, ...]:
    """Every race of the library, in the file's order (read once)."""
    with RACES_FILE.open("rb") as fh:
        data = tomllib.load(fh)
    return tuple(_race(row) for row in data["race"])


def find_races(*, event_m: float | None = None, sex: str | None = None, level: str | None = None) -> tuple[Race, ...]:
    """The races of one event, sex and level (None: any); UsageError for a sex or level the library does not use."""
    if sex is not None and sex.upper() not in SEXES:
        raise UsageError(f"sex {sex!r} is not one of {', '.join(SEXES)}")
    if level is not None and level.lower() not in LEVELS:
        raise UsageError(f"level {level!r} is not one of {', '.join(LEVELS)}")
    return tuple(
        r
        for r in all_races()
        if (event_m is None or r.event_m == event_m)
        and (sex is None or r.sex == sex.upper())
        and (level is None or r.level == level.lower())
    )


def get_race(name: str) -> Race:
    """The race with id ``name`` (case and surrounding spaces ignored); UsageError naming close matches otherwise."""
    key = name.strip().lower().replace(" ", "-").replace("_", "-")
    ids = {r.id: r for r in all_races()}
    if key in ids:
        return ids[key]
    close = difflib.get_close_matches(key, list(ids), n=3, cutoff=0.5)
    if not close:
        # An athlete's name alone ("van niekerk") is a prefix of the ids of their races.
        close = [i for i in ids if i.startswith(key) or key in i][:3]
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise UsageError(f"no race {name!r} in the library: {hint}'stridebeat races' lists them")


def per_100m(race: Race) -> tuple[float, ...]:
    """The race's elapsed times at every 100 m (and the finish): the published ones where given; between them, the
    default model at the race's time, stretched piecewise linearly so that it passes through every published mark."""
    from stridebeat.core.plan import RacePlan, build_profile

    plan = RacePlan(distance_m=float(race.event_m), target_time_s=race.final_s, sex=race.sex, allow_record=True)
    marks = plan.split_marks_m
    model_at = build_profile(plan).time_at(np.asarray(marks), t_max=race.final_s * 1.2)
    known_m = np.array([0.0, *race.marks_m])
    known_t = np.array([0.0, *race.elapsed_s])
    model_known = np.interp(known_m, np.array([0.0, *marks]), np.array([0.0, *model_at]))
    # Published marks are kept as they are; a model time between two of them is moved by the model's own error there,
    # interpolated linearly in distance.
    correction = np.interp(np.asarray(marks), known_m, known_t - model_known)
    out = model_at + correction
    out[-1] = race.final_s
    return tuple(float(t) for t in out)


def like_splits(race: Race, distance_m: float, time_s: float) -> tuple[float, ...]:
    """Per-100 m splits of ``race``'s pacing scaled to ``time_s`` (same distance only); UsageError otherwise."""
    if distance_m != race.event_m:
        raise UsageError(
            f"{race.id} is a {race.event_m} m race and the plan is {distance_m:g} m: "
            f"pace a {race.event_m} m plan like it, or pick a {distance_m:g} m race ('stridebeat races')"
        )
    elapsed = np.array([0.0, *per_100m(race)])
    return tuple(float(s) for s in np.diff(elapsed) * (time_s / race.final_s))
