"""The one record of a recorded run: what a FIT, TCX or GPX file holds, decoded once, in one shape.

Every reader (``activity.fit``, ``activity.tcx``, ``activity.gpx``) fills an :class:`Activity`; ``calibrate`` takes
its running samples from it (:meth:`Activity.samples`) and ``review`` its distance, cadence and laps.

Cadence units. Every file format here stores *running* cadence in strides (cycles of one leg) per minute, half the
steps per minute that runners and this package use:

* FIT ``record.cadence`` (uint8, units "rpm" in the FIT profile) plus ``record.fractional_cadence`` (scale 128, rpm):
  steps/min = 2 × (cadence + fractional_cadence); ``cadence256`` (scale 256, rpm) is read where a device writes that.
* TCX ``Trackpoint/Extensions/TPX/RunCadence`` in Garmin's ActivityExtension v2 schema (strides per minute).
  ``Trackpoint/Cadence`` is the schema's cycling cadence (rpm), read as strides too when RunCadence is absent.
* GPX ``gpxtpx:TrackPointExtension/gpxtpx:cad`` in Garmin's TrackPointExtension v1/v2 schemas ("revolutions per
  minute"). Some apps (Strava's GPX export among them) write steps per minute there; :meth:`Activity.cadence_spm`
  tells them apart by the session's median, and ``unit`` overrides it.

A record's cadence is the watch's rate over the time since the previous record (the watch counts steps between
records), which is how ``review`` turns cadence into a step count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import numpy as np

from stridebeat.errors import UsageError

__all__ = [
    "EARTH_RADIUS_M",
    "Activity",
    "CadenceUnit",
    "DistanceSource",
    "FileKind",
    "Lap",
    "RunSamples",
]

EARTH_RADIUS_M = 6_371_008.8  # the IUGG mean radius: GPS distances on a sphere are within ~0.3 % of the ellipsoid's
# A GPX cadence median above this cannot be strides per minute (it would be > 260 steps/min all session long).
GPX_STEPS_THRESHOLD = 130.0


class CadenceUnit(StrEnum):
    """What a file's cadence counts: ``auto`` (by the format, see the module), ``strides`` or ``steps``."""

    AUTO = "auto"
    STRIDES = "strides"
    STEPS = "steps"


class FileKind(StrEnum):
    FIT = "fit"
    TCX = "tcx"
    GPX = "gpx"


class DistanceSource(StrEnum):
    """Where a run's distance comes from: the watch's own (FIT/TCX ``distance``: foot pod, track mode, its GPS
    filter), GPS positions summed here, or nowhere."""

    WATCH = "watch"
    GPS = "gps"
    NONE = "none"


@dataclass(frozen=True, slots=True, kw_only=True)
class Lap:
    """A lap the watch recorded (lap button, auto lap, track mode), in seconds from the activity's first sample."""

    start_s: float
    end_s: float


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class RunSamples:
    """A recorded run, one entry per sample: seconds from the first sample, speed (m/s) and cadence (steps/min).

    Missing values are NaN. ``source`` names the file, for messages and the saved profile.
    """

    time_s: np.ndarray
    speed_mps: np.ndarray
    cadence_spm: np.ndarray
    source: str = ""

    def __post_init__(self) -> None:
        if not (len(self.time_s) == len(self.speed_mps) == len(self.cadence_spm)):
            raise UsageError("time, speed and cadence have different lengths: give one value of each per sample")

    def __len__(self) -> int:
        return len(self.time_s)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Activity:
    """A recorded run, in file order, one entry per sample (NaN where the file has no value).

    ``time_s`` counts seconds from the first sample's time ``start`` (UTC); ``distance_m`` is the watch's own
    distance; ``speed_mps`` the watch's speed; ``cadence`` the file's raw value (see the module for the unit);
    ``lat``/``lon`` degrees; ``segment`` numbers the GPX track segments (a new one after a pause), 0 elsewhere.
    """

    source: str
    kind: FileKind
    start: datetime
    time_s: np.ndarray
    distance_m: np.ndarray
    speed_mps: np.ndarray
    cadence: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    segment: np.ndarray
    laps: tuple[Lap, ...] = ()

    def __len__(self) -> int:
        return len(self.time_s)

    @property
    def distance_source(self) -> DistanceSource:
        """The watch's distance where most samples carry it, else GPS positions where there are any."""
        if np.count_nonzero(np.isfinite(self.distance_m)) >= max(2, len(self) // 2):
            return DistanceSource.WATCH
        if np.count_nonzero(np.isfinite(self.lat) & np.isfinite(self.lon)) >= 2:
            return DistanceSource.GPS
        return DistanceSource.NONE

    def cadence_spm(self, unit: CadenceUnit | str = CadenceUnit.AUTO) -> np.ndarray:
        """The cadence in steps per minute: the file's values doubled (strides) or as they are (steps)."""
        try:
            unit = CadenceUnit(unit)
        except ValueError:
            raise UsageError(f"cadence unit {unit!r} is not auto, strides or steps: give one of those") from None
        raw = np.asarray(self.cadence, dtype=float)
        if unit is CadenceUnit.STEPS:
            return raw.copy()
        if unit is CadenceUnit.AUTO and self.kind is FileKind.GPX:
            moving = raw[np.isfinite(raw) & (raw > 0)]
            if moving.size and float(np.median(moving)) > GPX_STEPS_THRESHOLD:
                return raw.copy()
        return 2.0 * raw

    def track_m(self) -> np.ndarray:
        """Distance along the GPS positions from the first sample (NaN until the first position); a new GPX
        segment (a pause) adds nothing for the jump between segments."""
        lat, lon = np.radians(self.lat), np.radians(self.lon)
        h = np.sin(np.diff(lat) / 2) ** 2 + np.cos(lat[:-1]) * np.cos(lat[1:]) * np.sin(np.diff(lon) / 2) ** 2
        step = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))
        step = np.where(np.isfinite(step) & (np.diff(self.segment) == 0), step, 0.0)
        out = np.concatenate([[0.0], np.cumsum(step)])
        seen = np.isfinite(self.lat) & np.isfinite(self.lon)
        out[: int(np.argmax(seen))] = np.nan
        return out

    def samples(self, unit: CadenceUnit | str = CadenceUnit.AUTO) -> RunSamples:
        """The samples for a stride fit, in time order: where the watch gave no speed, the distance (or track)
        covered since the previous sample over the time since it."""
        speed = self.speed_mps.copy()
        dt = np.diff(self.time_s)
        same = np.diff(self.segment) == 0
        with np.errstate(invalid="ignore", divide="ignore"):
            by_distance = np.diff(self.distance_m) / dt
            by_track = np.diff(self.track_m()) / dt
        derived = np.where(np.isfinite(by_distance), by_distance, np.where(same, by_track, np.nan))
        derived = np.where((dt > 0) & np.isfinite(derived), derived, np.nan)
        missing = np.isnan(speed[1:])
        speed[1:][missing] = derived[missing]
        order = np.argsort(self.time_s, kind="stable")  # files are in time order; a merged one might not be
        return RunSamples(
            time_s=self.time_s[order],
            speed_mps=speed[order],
            cadence_spm=self.cadence_spm(unit)[order],
            source=self.source,
        )
