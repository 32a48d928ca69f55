"""Calibrate a runner's step length from a recorded run (FIT, TCX or GPX).

A watch or foot pod records speed and cadence about once a second. Step length is speed / step frequency, and over the
speeds of a session (easy running to sprints) it follows a power law, the form the stride model uses:

    L(v) = a · (v / v_ref)^b        a: step length (m) at the reference speed v_ref, b: elasticity

fitted by least squares on log L against log v. :func:`read_run` reads the samples, :func:`fit_stride` fits and checks
them, and :class:`StrideFit` is saved as a TOML stride profile.

Cadence units. Every file format here stores *running* cadence in strides (cycles of one leg) per minute, half the
steps per minute that runners and this package use, so each reader doubles it:

* FIT ``record.cadence`` (uint8, units "rpm" in the FIT profile) plus ``record.fractional_cadence`` (scale 128, rpm):
  steps/min = 2 × (cadence + fractional_cadence); ``cadence256`` (scale 256, rpm) is read where a device writes that.
* TCX ``Trackpoint/Extensions/TPX/RunCadence`` in Garmin's ActivityExtension v2 schema (strides per minute, an
  unsigned byte). ``Trackpoint/Cadence`` is the schema's cycling cadence (rpm), read as strides too when RunCadence is
  absent.
* GPX ``gpxtpx:TrackPointExtension/gpxtpx:cad`` in Garmin's TrackPointExtension v1/v2 schemas ("revolutions per
  minute"). Some apps (Strava's GPX export among them) write steps per minute there; ``read_run`` tells them apart by
  the session's median (see there), and ``cadence_unit`` overrides it. A unit still wrong gives step lengths half or
  twice the truth, and the plausibility check (0.8–3 m) refuses the fit rather than saving a wrong profile.

TCX is parsed with the standard library's ``xml.etree``. The most used PyPI reader, python-tcxparser (2.4), returns
each field as its own list over the whole file (``//Cadence`` also matching the laps' averages), so one trackpoint
without a value shifts every later value against its time, and it reads neither ``TPX/Speed`` nor ``TPX/RunCadence``,
the two values needed here; the other TCX packages on PyPI are unmaintained. Expat, which ``xml.etree`` uses, does
not fetch external entities and, from 2.4.1, limits entity expansion.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from xml.etree import ElementTree

import numpy as np

from stridebeat.errors import UsageError

__all__ = [
    "DEFAULT_REF_SPEED_MPS",
    "CadenceUnit",
    "RunSamples",
    "StrideFit",
    "fit_stride",
    "read_run",
]

DEFAULT_REF_SPEED_MPS = 8.0  # a 50 s 400 m: inside every 400 m runner's calibration range, so a is easy to read
EARTH_RADIUS_M = 6_371_008.8  # the IUGG mean radius: GPS distances on a sphere are within ~0.3 % of the ellipsoid's
PLAUSIBLE_STEP_M = (0.8, 3.0)
PLAUSIBLE_EXPONENT = (0.0, 1.5)
PROFILE_VERSION = 1
# A GPX cadence median above this cannot be strides per minute (it would be > 260 steps/min all session long).
GPX_STEPS_THRESHOLD = 130.0

CadenceUnit = Literal["auto", "strides", "steps"]

_TCX_NS = "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
_TPX_NS = "http://www.garmin.com/xmlschemas/ActivityExtension/v2"


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


@dataclass(frozen=True, slots=True, kw_only=True)
class StrideFit:
    """A fitted step-length law ``L(v) = a_m · (v / ref_speed_mps)^b`` and how well it fits.

    ``points`` samples were used, at speeds ``speed_min_mps``–``speed_max_mps``; ``rms_m`` is the RMS of the step
    length residuals in metres and ``rms_pct`` the RMS of the relative residuals in percent.
    """

    a_m: float
    b: float
    ref_speed_mps: float = DEFAULT_REF_SPEED_MPS
    points: int
    speed_min_mps: float
    speed_max_mps: float
    rms_m: float
    rms_pct: float
    source: str = ""

    def __post_init__(self) -> None:
        numbers = (
            self.a_m,
            self.b,
            self.ref_speed_mps,
            self.speed_min_mps,
            self.speed_max_mps,
            self.rms_m,
            self.rms_pct,
        )
        if not all(isinstance(x, int | float) and math.isfinite(x) for x in numbers):
            raise UsageError("a stride profile value is missing or not a finite number: calibrate again")
        if not (self.a_m > 0 and self.ref_speed_mps > 0 and 0 < self.speed_min_mps <= self.speed_max_mps):
            raise UsageError("a stride profile has a non-positive step length or speed: calibrate again")
        # The same bound fit_stride applies, so a hand-edited profile cannot bring in a law no runner follows.
        if not PLAUSIBLE_EXPONENT[0] <= self.b <= PLAUSIBLE_EXPONENT[1] or self.points < 1:
            raise UsageError(
                f"a stride profile has exponent b = {self.b:g} (plausible: {PLAUSIBLE_EXPONENT[0]:g}-"
                f"{PLAUSIBLE_EXPONENT[1]:g}) or no samples: calibrate again"
            )

    def step_length_at(self, speed_mps: float) -> float:
        """The step length (m) at ``speed_mps``."""
        return float(self.a_m * (speed_mps / self.ref_speed_mps) ** self.b)

    def cadence_at(self, speed_mps: float) -> float:
        """The cadence (steps per minute) at ``speed_mps``: speed over step length."""
        return 60.0 * speed_mps / self.step_length_at(speed_mps)

    def summary(self) -> str:
        """One line for the terminal."""
        return (
            f"step length {self.a_m:.3f} m at {self.ref_speed_mps:g} m/s, L ∝ v^{self.b:.3f}; "
            f"{self.points} samples at {self.speed_min_mps:.2f}-{self.speed_max_mps:.2f} m/s, "
            f"residual {self.rms_m * 100:.1f} cm ({self.rms_pct:.1f} %)"
        )

    def to_toml(self) -> str:
        """The profile as a TOML document (``[stride]`` table; ``version`` for later formats)."""
        import tomli_w

        doc = {
            "version": PROFILE_VERSION,
            "stride": {
                "model": "L = a_m * (v / ref_speed_mps) ** b",
                "a_m": self.a_m,
                "b": self.b,
                "ref_speed_mps": self.ref_speed_mps,
                "points": self.points,
                "speed_min_mps": self.speed_min_mps,
                "speed_max_mps": self.speed_max_mps,
                "rms_m": self.rms_m,
                "rms_pct": self.rms_pct,
                "source": self.source,
            },
        }
        return "# stridebeat stride profile, fitted from a recorded run\n" + tomli_w.dumps(doc)

    @classmethod
    def from_toml(cls, text: str) -> StrideFit:
        """Read a profile written by :meth:`to_toml`; anything else raises a one-line UsageError."""
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"the stride profile is not valid TOML ({exc}): calibrate again") from None
        version = doc.get("version")
        if version != PROFILE_VERSION:
            raise UsageError(
                f"the stride profile has version {version!r}, this stridebeat reads {PROFILE_VERSION}: calibrate again"
            )
        table = doc.get("stride")
        if not isinstance(table, dict):
            raise UsageError("the stride profile has no [stride] table: calibrate again")
        floats = ("a_m", "b", "ref_speed_mps", "speed_min_mps", "speed_max_mps", "rms_m", "rms_pct")
        values: dict[str, Any] = {}
        for key in (*floats, "points"):
            value = table.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise UsageError(f"the stride profile's {key} is missing or not a number: calibrate again")
            values[key] = float(value) if key in floats else value
        if not isinstance(values["points"], int):
            raise UsageError("the stride profile's points is not a whole number: calibrate again")
        source = table.get("source", "")
        return cls(**values, source=source if isinstance(source, str) else "")


# --- Reading ---------------------------------------------------------------------------------------------------------


def read_run(path: str | os.PathLike[str], *, cadence_unit: CadenceUnit = "auto") -> RunSamples:
    """The samples of the recorded run at ``path``, by extension: ``.fit``, ``.tcx`` or ``.gpx``.

    Speed is the device's where it recorded one, else distance (or position) over time since the previous sample.
    ``cadence_unit`` says what the file's cadence counts: ``"strides"`` (doubled into steps), ``"steps"`` (taken as
    is) or ``"auto"``: strides for FIT and TCX, whose schemas fix it; for GPX, strides unless the median of the
    recorded values is above 130, which as strides would be a whole session above 260 steps per minute, so the file
    is one of the apps (Strava among them) that write steps per minute against the schema.
    A file that cannot be read, is not of its kind, is corrupt or truncated, or has no cadence raises UsageError.
    """
    if cadence_unit not in ("auto", "strides", "steps"):
        raise UsageError(f"cadence unit {cadence_unit!r} is not auto, strides or steps: give one of those")
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    readers = {".fit": _read_fit, ".tcx": _read_tcx, ".gpx": _read_gpx}
    reader = readers.get(ext)
    if reader is None:
        raise UsageError(f"{path} is not a .fit, .tcx or .gpx file: export the run from the watch in one of those")
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}: check the file name") from None
    times, speeds, raw_cadences = reader(data, path)
    cadences = np.asarray(raw_cadences, dtype=float) * _steps_per_value(raw_cadences, ext, cadence_unit)
    if not times:
        raise UsageError(f"{path} holds no samples of a run: export the activity itself, not a course or workout")
    # A time without a zone is taken as UTC (GPX and TCX times are UTC), so it can be compared with one that has.
    times = [x if x.tzinfo is not None else x.replace(tzinfo=UTC) for x in times]
    t = np.asarray([(x - times[0]).total_seconds() for x in times], dtype=float)
    order = np.argsort(t, kind="stable")  # files are in time order; a merged one might not be
    samples = RunSamples(
        time_s=t[order],
        speed_mps=np.asarray(speeds, dtype=float)[order],
        cadence_spm=cadences[order],
        source=os.path.basename(path),
    )
    if not np.any(np.isfinite(samples.cadence_spm) & (samples.cadence_spm > 0)):
        raise UsageError(f"{path} has no cadence: record the run with a watch or foot pod that counts steps")
    return samples


def _steps_per_value(raw: list[float], ext: str, unit: CadenceUnit) -> float:
    """What one unit of the file's cadence is in steps: 2 for strides, 1 for steps (see read_run)."""
    if unit == "steps":
        return 1.0
    if unit == "strides" or ext != ".gpx":
        return 2.0
    values = np.asarray(raw, dtype=float)
    moving = values[np.isfinite(values) & (values > 0)]
    return 1.0 if moving.size and float(np.median(moving)) > GPX_STEPS_THRESHOLD else 2.0


# (times, speeds in m/s, cadence as the file records it: strides per minute by each format's schema)
Columns = tuple[list[datetime], list[float], list[float]]


def _read_fit(data: bytes, path: str) -> Columns:
    # Imported here: only FIT files need the SDK and its large profile.
    from garmin_fit_sdk import Decoder, Stream

    if not Decoder(Stream.from_byte_array(bytearray(data))).is_fit():
        raise UsageError(f"{path} is not a FIT file: export the activity's original FIT file")
    if not Decoder(Stream.from_byte_array(bytearray(data))).check_integrity():
        raise UsageError(f"{path} is corrupt or truncated (its FIT checksum fails): copy it from the watch again")
    messages, errors = Decoder(Stream.from_byte_array(bytearray(data))).read()
    if errors:
        reason = str(errors[0]).splitlines()[0] if str(errors[0]) else type(errors[0]).__name__
        raise UsageError(f"{path} cannot be decoded ({reason}): copy it from the watch again")
    sports = {m.get("sport") for m in messages.get("session_mesgs", []) + messages.get("sport_mesgs", [])}
    sports.discard(None)
    if sports and not sports & {"running", "generic", "training", "walking", "hiking"}:
        raise UsageError(f"{path} is a {'/'.join(sorted(map(str, sports)))} activity: calibrate from a run")
    times: list[datetime] = []
    speeds: list[float] = []
    cadences: list[float] = []
    for record in messages.get("record_mesgs", []):
        stamp = record.get("timestamp")
        if not isinstance(stamp, datetime):
            continue  # a record without a time cannot be placed; devices write one in every record
        speed = record.get("enhanced_speed", record.get("speed"))
        if "cadence" in record and record["cadence"] is not None:
            strides = float(record["cadence"]) + float(record.get("fractional_cadence") or 0.0)
        elif record.get("cadence256") is not None:
            strides = float(record["cadence256"])
        else:
            strides = math.nan
        times.append(stamp)
        speeds.append(float(speed) if isinstance(speed, int | float) else math.nan)
        cadences.append(strides)
    _fill_speeds(times, speeds, None, None)
    return times, speeds, cadences


def _read_tcx(data: bytes, path: str) -> Columns:
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise UsageError(f"{path} is not complete XML ({exc}): export the TCX file again") from None
    if root.tag != f"{{{_TCX_NS}}}TrainingCenterDatabase":
        raise UsageError(f"{path} is not a Garmin TCX file (its root is {_local(root.tag)}): export the run as TCX")
    ns = {"t": _TCX_NS, "x": _TPX_NS}
    times: list[datetime] = []
    speeds: list[float] = []
    cadences: list[float] = []
    distances: list[float] = []
    positions: list[tuple[float, float] | None] = []
    for point in root.iterfind(".//t:Trackpoint", ns):
        stamp = _iso_time(point.findtext("t:Time", None, ns), path)
        if stamp is None:
            continue
        times.append(stamp)
        speeds.append(_number(point.findtext("t:Extensions/x:TPX/x:Speed", None, ns), path))
        strides = _number(point.findtext("t:Extensions/x:TPX/x:RunCadence", None, ns), path)
        if math.isnan(strides):
            strides = _number(point.findtext("t:Cadence", None, ns), path)
        cadences.append(strides)
        distances.append(_number(point.findtext("t:DistanceMeters", None, ns), path))
        lat = _number(point.findtext("t:Position/t:LatitudeDegrees", None, ns), path)
        lon = _number(point.findtext("t:Position/t:LongitudeDegrees", None, ns), path)
        positions.append(None if math.isnan(lat) or math.isnan(lon) else (lat, lon))
    _fill_speeds(times, speeds, distances, positions)
    return times, speeds, cadences


def _read_gpx(data: bytes, path: str) -> Columns:
    import gpxpy  # imported here: only GPX files need it
    import gpxpy.gpx

    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise UsageError(f"{path} is not complete XML ({exc}): export the run as GPX again") from None
    # gpxpy reads any XML, finding no track in a web page; the root says whether it is GPX at all.
    if _local(root.tag) != "gpx":
        raise UsageError(f"{path} is not a GPX file (its root is {_local(root.tag)}): export the run as GPX")
    try:
        gpx = gpxpy.parse(data.decode("utf-8-sig"))
    except (gpxpy.gpx.GPXException, UnicodeDecodeError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(f"{path} is not a readable GPX file ({reason}): export the run as GPX again") from None
    times: list[datetime] = []
    speeds: list[float] = []
    cadences: list[float] = []
    for track in gpx.tracks:
        for segment in track.segments:
            seg_times: list[datetime] = []
            seg_speeds: list[float] = []
            seg_positions: list[tuple[float, float] | None] = []
            for point in segment.points:
                if point.time is None:
                    continue  # without a time a point gives no speed or rate
                seg_times.append(point.time)
                cad, ext_speed = _gpx_extension_values(point.extensions)
                speed = point.speed if point.speed is not None else ext_speed
                seg_speeds.append(float(speed) if speed is not None else math.nan)
                cadences.append(cad)
                seg_positions.append((point.latitude, point.longitude))
            # Per segment: a gap between segments (a pause) is not running.
            _fill_speeds(seg_times, seg_speeds, None, seg_positions)
            times += seg_times
            speeds += seg_speeds
    return times, speeds, cadences


def _gpx_extension_values(extensions: list[Any]) -> tuple[float, float | None]:
    """(cadence in strides/min or NaN, speed in m/s or None) from a GPX point's TrackPointExtension, v1 or v2."""
    cad, speed = math.nan, None
    for ext in extensions:
        for element in ext.iter():
            name = _local(element.tag)
            text = (element.text or "").strip()
            if not text:
                continue
            try:
                value = float(text)
            except ValueError:
                continue
            if name == "cad" and math.isfinite(value):
                cad = value
            elif name == "speed" and math.isfinite(value):
                speed = value
    return cad, speed


def _fill_speeds(
    times: list[datetime],
    speeds: list[float],
    distances: list[float] | None,
    positions: list[tuple[float, float] | None] | None,
) -> None:
    """Where a sample has no recorded speed: distance covered since the previous sample over the time since it."""
    for i in range(1, len(times)):
        if not math.isnan(speeds[i]):
            continue
        dt = (times[i] - times[i - 1]).total_seconds()
        if dt <= 0:
            continue
        if distances is not None and not (math.isnan(distances[i]) or math.isnan(distances[i - 1])):
            speeds[i] = (distances[i] - distances[i - 1]) / dt
        elif positions is not None:
            p, q = positions[i - 1], positions[i]
            if p is not None and q is not None:
                speeds[i] = _haversine_m(p, q) / dt


def _haversine_m(p: tuple[float, float], q: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*p, *q))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _iso_time(text: str | None, path: str) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{path} has a time that is not ISO 8601 ({text.strip()[:40]!r}): export it again") from None


def _number(text: str | None, path: str) -> float:
    if text is None or not text.strip():
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise UsageError(f"{path} has a value that is not a number ({text.strip()[:40]!r}): export it again") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


# --- Fitting ---------------------------------------------------------------------------------------------------------


def fit_stride(
    samples: RunSamples,
    *,
    min_speed_mps: float = 3.0,
    min_cadence_spm: float = 120.0,
    min_points: int = 30,
    min_speed_span_mps: float = 1.0,
    ref_speed_mps: float = DEFAULT_REF_SPEED_MPS,
) -> StrideFit:
    """Fit ``L = a · (v / ref_speed_mps)^b`` to the samples taken while running (speed and cadence at least the
    minimums), by least squares on logarithms.

    Refused with a one-line UsageError: no cadence, fewer than ``min_points`` running samples, a speed span narrower
    than ``min_speed_span_mps`` (between the 5th and 95th percentiles, so one GPS spike cannot make the span), or an
    implausible fit (b outside 0–1.5, or fitted step lengths outside 0.8–3 m over the speeds run).
    """
    name = samples.source or "the run"
    v = np.asarray(samples.speed_mps, dtype=float)
    spm = np.asarray(samples.cadence_spm, dtype=float)
    if not np.any(np.isfinite(spm) & (spm > 0)):
        raise UsageError(f"{name} has no cadence: record the run with a watch or foot pod that counts steps")
    running = np.isfinite(v) & np.isfinite(spm) & (v >= min_speed_mps) & (spm >= min_cadence_spm)
    n = int(np.count_nonzero(running))
    if n < min_points:
        raise UsageError(
            f"{name} has {n} samples at {min_speed_mps:g} m/s or faster with cadence: at least {min_points} are "
            "needed, so record a session with runs at several speeds"
        )
    v, spm = v[running], spm[running]
    low, high = np.percentile(v, [5, 95])
    if high - low < min_speed_span_mps:
        raise UsageError(
            f"{name} covers only {low:.2f}-{high:.2f} m/s: runs spanning at least {min_speed_span_mps:g} m/s are "
            "needed, so add faster and slower runs"
        )
    step = v * 60.0 / spm
    x = np.log(v / ref_speed_mps)
    y = np.log(step)
    b, log_a = np.polyfit(x, y, 1)
    a = float(math.exp(log_a))
    fitted = a * (v / ref_speed_mps) ** b
    rms_m = float(np.sqrt(np.mean((step - fitted) ** 2)))
    rms_pct = float(100.0 * np.sqrt(np.mean((step / fitted - 1.0) ** 2)))
    if not PLAUSIBLE_EXPONENT[0] <= b <= PLAUSIBLE_EXPONENT[1]:
        raise UsageError(
            f"{name} gives step length ∝ v^{b:.2f}, outside the plausible {PLAUSIBLE_EXPONENT[0]:g}-"
            f"{PLAUSIBLE_EXPONENT[1]:g}: check the recording (speed and cadence sensors) or record another session"
        )
    v_min, v_max = float(v.min()), float(v.max())
    l_lo, l_hi = sorted((a * (v_min / ref_speed_mps) ** b, a * (v_max / ref_speed_mps) ** b))
    if l_lo < PLAUSIBLE_STEP_M[0] or l_hi > PLAUSIBLE_STEP_M[1]:
        hint = (
            "the cadence may be in steps, not strides, per minute"
            if l_lo < PLAUSIBLE_STEP_M[0]
            else "the speed may be wrong (GPS) or the cadence in strides where steps were expected"
        )
        raise UsageError(
            f"{name} gives step lengths {l_lo:.2f}-{l_hi:.2f} m, outside the plausible {PLAUSIBLE_STEP_M[0]:g}-"
            f"{PLAUSIBLE_STEP_M[1]:g} m: {hint}"
        )
    return StrideFit(
        a_m=a,
        b=float(b),
        ref_speed_mps=ref_speed_mps,
        points=n,
        speed_min_mps=v_min,
        speed_max_mps=v_max,
        rms_m=rms_m,
        rms_pct=rms_pct,
        source=samples.source,
    )
