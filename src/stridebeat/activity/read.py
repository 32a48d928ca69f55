"""Reading a recorded run: the file read once (bounded, regular files only), decoded by its format's reader into one
:class:`~stridebeat.activity.record.Activity`."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from stridebeat.activity.record import Activity, CadenceUnit, FileKind, Lap, RunSamples
from stridebeat.errors import UsageError
from stridebeat.inputs import MiB, read_input

__all__ = ["MAX_BYTES", "Columns", "assemble", "read_activity", "read_run"]

# A day of 1 s records with every field is a few tens of MB in TCX or GPX; a larger file is not a run.
MAX_BYTES = 200 * MiB
# What a recorded value can be: outside these it is a corrupt field, read as missing, so no arithmetic overflows on it.
LIMITS = {
    "distance": (-1e7, 1e7),  # metres: a quarter of the way round the earth
    "speed": (0.0, 1e3),
    "cadence": (0.0, 1e4),
    "lat": (-90.0, 90.0),
    "lon": (-180.0, 180.0),
}


@dataclass(slots=True)
class Columns:
    """What a reader collects, one entry per sample, before :func:`assemble` makes the record."""

    times: list[datetime] = field(default_factory=list)
    distance: list[float] = field(default_factory=list)
    speed: list[float] = field(default_factory=list)
    cadence: list[float] = field(default_factory=list)
    lat: list[float] = field(default_factory=list)
    lon: list[float] = field(default_factory=list)
    segment: list[int] = field(default_factory=list)
    laps: list[tuple[datetime, datetime]] = field(default_factory=list)

    def add(
        self,
        stamp: datetime,
        *,
        distance: float = math.nan,
        speed: float = math.nan,
        cadence: float = math.nan,
        position: tuple[float, float] | None = None,
        segment: int = 0,
    ) -> None:
        self.times.append(stamp)
        self.distance.append(distance)
        self.speed.append(speed)
        self.cadence.append(cadence)
        lat, lon = position if position is not None else (math.nan, math.nan)
        self.lat.append(lat)
        self.lon.append(lon)
        self.segment.append(segment)


def read_activity(path: str | os.PathLike[str]) -> Activity:
    """The recorded run at ``path``, by extension: ``.fit``, ``.tcx`` or ``.gpx``, decoded once.

    Parameters
    ----------
    path : path-like
        A regular file of at most ``MAX_BYTES``.

    Returns
    -------
    Activity

    Raises
    ------
    UsageError
        Another extension; a file that cannot be read, is not of its kind, is corrupt or truncated; no samples; times
        with and without a time zone mixed; values that are not numbers.
    """
    name = os.fspath(path)
    ext = os.path.splitext(name)[1].lower()
    try:
        kind = FileKind(ext[1:]) if ext else None
    except ValueError:
        kind = None
    if kind is None:
        raise UsageError(f"{name} is not a .fit, .tcx or .gpx file: export the run from the watch in one of those")
    data = read_input(path, what=name, max_bytes=MAX_BYTES)
    if kind is FileKind.FIT:
        from stridebeat.activity.fit import read_fit as reader
    elif kind is FileKind.TCX:
        from stridebeat.activity.tcx import read_tcx as reader
    else:
        from stridebeat.activity.gpx import read_gpx as reader
    return assemble(reader(data, name), source=name, kind=kind)


def read_run(path: str | os.PathLike[str], *, cadence_unit: CadenceUnit | str = CadenceUnit.AUTO) -> RunSamples:
    """The samples of the recorded run at ``path`` for a stride fit (:meth:`Activity.samples`).

    ``cadence_unit`` says what the file's cadence counts: ``"strides"`` (doubled into steps), ``"steps"`` (taken as
    is) or ``"auto"``: strides for FIT and TCX, whose schemas fix it; for GPX, strides unless the median of the
    recorded values is above 130, which as strides would be a whole session above 260 steps per minute.

    Raises
    ------
    UsageError
        As :func:`read_activity`; an unknown unit; a run without cadence.
    """
    try:
        unit = CadenceUnit(cadence_unit)
    except ValueError:
        raise UsageError(f"cadence unit {cadence_unit!r} is not auto, strides or steps: give one of those") from None
    samples = read_activity(path).samples(unit)
    if not np.any(np.isfinite(samples.cadence_spm) & (samples.cadence_spm > 0)):
        raise UsageError(f"{os.fspath(path)} has no cadence: record the run with a watch or foot pod that counts steps")
    return samples


def assemble(columns: Columns, *, source: str, kind: FileKind) -> Activity:
    """The record of what a reader collected: times as seconds from the first sample, arrays, laps."""
    if not columns.times:
        raise UsageError(f"{source} holds no samples of a run: export the activity itself, not a course or workout")
    stamps = _utc(columns.times + [t for lap in columns.laps for t in lap], source)
    times, lap_times = stamps[: len(columns.times)], stamps[len(columns.times) :]
    start = times[0]

    def seconds(xs: Sequence[datetime]) -> np.ndarray:
        return np.asarray([(x - start).total_seconds() for x in xs], dtype=float)

    lap_s = seconds(lap_times).reshape(-1, 2) if lap_times else np.zeros((0, 2))
    return Activity(
        source=os.path.basename(source),
        kind=kind,
        start=start,
        time_s=seconds(times),
        distance_m=_within(columns.distance, LIMITS["distance"]),
        speed_mps=_within(columns.speed, LIMITS["speed"]),
        cadence=_within(columns.cadence, LIMITS["cadence"]),
        lat=_within(columns.lat, LIMITS["lat"]),
        lon=_within(columns.lon, LIMITS["lon"]),
        segment=np.asarray(columns.segment, dtype=np.int64),
        laps=tuple(Lap(start_s=float(a), end_s=float(b)) for a, b in lap_s if b > a),
    )


def _within(values: list[float], bounds: tuple[float, float]) -> np.ndarray:
    """The values as an array, NaN (missing) where a value is outside what any recording holds."""
    out = np.asarray(values, dtype=float)
    out[~((out >= bounds[0]) & (out <= bounds[1]))] = np.nan
    return out


def _utc(stamps: list[datetime], source: str) -> list[datetime]:
    """Times as UTC. GPX and TCX times are UTC whether or not they say so; a file that gives some times a zone and
    leaves it off others is refused, as nothing says the bare ones are UTC."""
    zoned = [t.tzinfo is not None for t in stamps]
    if any(zoned) and not all(zoned):
        bare = stamps[zoned.index(False)]
        raise UsageError(
            f"{source} mixes times with a time zone and without one (e.g. {bare.isoformat()}): "
            "export the run from the watch again"
        )
    return [t.astimezone(UTC) if t.tzinfo is not None else t.replace(tzinfo=UTC) for t in stamps]


def number(text: str | None, source: str) -> float:
    """A number as the XML formats write it; NaN where there is none; UsageError where it is not a number."""
    if text is None or not text.strip():
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise UsageError(
            f"{source} has a value that is not a number ({text.strip()[:40]!r}): export it again"
        ) from None


def iso_time(text: str | None, source: str) -> datetime | None:
    """An ISO 8601 time as TCX writes it; None where there is none."""
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{source} has a time that is not ISO 8601 ({text.strip()[:40]!r}): export it again") from None


def local(tag: str) -> str:
    """An XML tag without its namespace."""
    return tag.rsplit("}", 1)[-1]
