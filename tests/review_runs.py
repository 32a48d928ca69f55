"""Simulated reps with known splits and cadence, written as FIT (the SDK's Encoder), TCX (xml.etree) and GPX (gpxpy).

The runner follows a plan's own speed profile from a gun at a known moment (so the true splits are the plan's), and
steps at the plan's cadence, changed through the hold by ``hold_offset_spm`` (so the true hold cadence is known). A
record's cadence is the steps taken since the record before over that time, as a watch reports it; the true cadence of
a segment is integrated here on a fine grid, independently of the reader.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import garmin_fit_sdk
import gpxpy
import gpxpy.gpx
import numpy as np

from stridebeat.activity import EARTH_RADIUS_M

START = datetime(2026, 5, 5, 17, 0, 0, tzinfo=UTC)
FINE_S = 0.005
SLOW_S = 6.0
STAND_S = 10.0


@dataclass
class Truth:
    """A rep as run: its gun (seconds from the first record), elapsed time at each mark, cadence per segment, hold."""

    gun_s: float
    marks_m: list[float]
    elapsed_s: list[float]
    segment_spm: list[float]
    hold_spm: float


@dataclass
class Run:
    time_s: np.ndarray
    distance_m: np.ndarray
    cadence_spm: np.ndarray
    laps: list[tuple[float, float]]
    truth: list[Truth] = field(default_factory=list)


def _hold_from(planned) -> float:
    plan = planned.plan
    return plan.distance_m - (
        planned.hold_last_m if planned.hold_start_s is not None else min(200.0, plan.distance_m / 2)
    )


def _fine_motion(planned, *, gun: float, hold_offset_spm: float, start_m: float):
    """Fine-grid (time, distance, cadence spm) through one rep and a walk after it."""
    plan, prof = planned.plan, planned.profile
    T = plan.target_time_s
    u = np.arange(0.0, T + 1e-9, FINE_S)
    d = prof.position(u)
    f = 60.0 * planned.cadence_at(u)
    f = np.where(d > _hold_from(planned), f + hold_offset_spm, f)
    f = np.where(u < plan.reaction_s, 0.0, f)
    return gun + u, start_m + d, f


def simulate(
    plans,
    *,
    interval=1.0,
    smart: bool = False,
    rest_s: float = 120.0,
    hold_offsets=None,
    warmup_s: float = 60.0,
    cooldown_s: float = 60.0,
    noise_spm: float = 0.0,
    pause: tuple[float, float] | None = None,
    seed: int = 1,
    lap_per_rep: bool = True,
    gun_fraction: float = 0.0,
) -> Run:
    """Records of a session: a jog, then each rep from a standing gun, a walk between, a jog after.

    ``pause`` = (at seconds after the first gun, length): no records for that long (auto-pause), the runner still.
    """
    rng = np.random.default_rng(seed)
    hold_offsets = hold_offsets or [0.0] * len(plans)
    # Piecewise: (t, d, cadence) on a fine grid.
    ts, ds, fs = [], [], []
    t, d = 0.0, 0.0
    jog = np.arange(0.0, warmup_s, FINE_S)
    ts.append(jog)
    ds.append(3.0 * jog)
    fs.append(np.full(len(jog), 160.0))
    t, d = warmup_s, 3.0 * warmup_s
    stand = np.arange(t, t + 20.0 + gun_fraction, FINE_S)
    ts.append(stand)
    ds.append(np.full(len(stand), d))
    fs.append(np.zeros(len(stand)))
    t = t + 20.0 + gun_fraction
    truths, laps = [], []
    for planned, offset in zip(plans, hold_offsets):
        rt, rd, rf = _fine_motion(planned, gun=t, hold_offset_spm=offset, start_m=d)
        truths.append(_truth(planned, t, rt, rd - d, rf))
        laps.append((t, t + planned.plan.target_time_s))
        ts.append(rt[1:])
        ds.append(rd[1:])
        fs.append(rf[1:])
        t, d = float(rt[-1]), float(rd[-1])
        # Slowing down over a few seconds after the line, to a walk.
        v_end = float(planned.profile.velocity(planned.plan.target_time_s))
        f_end = float(rf[-1])
        slow = np.arange(FINE_S, SLOW_S + 1e-9, FINE_S)
        share = slow / SLOW_S
        ts.append(t + slow)
        ds.append(d + v_end * slow + (1.2 - v_end) * slow * share / 2)
        fs.append(f_end + (110.0 - f_end) * share)
        t, d = t + SLOW_S, float(ds[-1][-1])
        # A walk, then standing at the line for the next start.
        walk = np.arange(t + FINE_S, t + rest_s - STAND_S, FINE_S)
        ts.append(walk)
        ds.append(d + 1.2 * (walk - t))
        fs.append(np.full(len(walk), 110.0))
        t, d = t + rest_s - STAND_S, d + 1.2 * (rest_s - STAND_S)
        stand = np.arange(t + FINE_S, t + STAND_S, FINE_S)
        ts.append(stand)
        ds.append(np.full(len(stand), d))
        fs.append(np.zeros(len(stand)))
        t += STAND_S
    cool = np.arange(t + FINE_S, t + cooldown_s, FINE_S)
    ts.append(cool)
    ds.append(d + 3.0 * (cool - t))
    fs.append(np.full(len(cool), 160.0))
    T, D, F = np.concatenate(ts), np.concatenate(ds), np.concatenate(fs)
    steps = np.concatenate([[0.0], np.cumsum((F[1:] + F[:-1]) / 2 / 60.0 * np.diff(T))])
    rec = _record_times(T[-1], interval, smart, rng)
    if pause is not None:
        at = truths[0].gun_s + pause[0]
        rec = rec[(rec < at) | (rec > at + pause[1])]
    dist = np.interp(rec, T, D)
    st = np.interp(rec, T, steps)
    cad = np.concatenate([[0.0], np.diff(st) / np.diff(rec) * 60.0])
    if noise_spm:
        cad = np.maximum(cad + rng.normal(0.0, noise_spm, len(cad)), 0.0)
    return Run(time_s=rec, distance_m=dist, cadence_spm=cad, laps=laps if lap_per_rep else [], truth=truths)


def _record_times(t_end: float, interval: float, smart: bool, rng) -> np.ndarray:
    if not smart:
        return np.arange(0.0, t_end, interval)
    gaps = rng.integers(1, 5, size=int(t_end) + 1).astype(float)  # smart recording: 1 to 4 s apart, whole seconds
    times = np.concatenate([[0.0], np.cumsum(gaps)])
    return times[times < t_end]


def _truth(planned, gun: float, t: np.ndarray, d: np.ndarray, f: np.ndarray) -> Truth:
    plan = planned.plan
    marks = [r.distance_m for r in planned.splits]
    steps = np.concatenate([[0.0], np.cumsum((f[1:] + f[:-1]) / 2 / 60.0 * np.diff(t))])
    at = np.interp(marks, d, t)
    elapsed = list(at - gun)
    spm = []
    t0 = gun
    for i, t1 in enumerate(at):
        n = np.interp(t1, t, steps) - np.interp(t0, t, steps)
        running = (t1 - t0) - (plan.reaction_s if i == 0 else 0.0)
        spm.append(60.0 * n / running)
        t0 = t1
    th = float(np.interp(_hold_from(planned), d, t))
    hold = 60.0 * (np.interp(at[-1], t, steps) - np.interp(th, t, steps)) / (at[-1] - th)
    return Truth(gun_s=gun, marks_m=marks, elapsed_s=elapsed, segment_spm=spm, hold_spm=float(hold))


# --- Writers --------------------------------------------------------------------------------------------------------


def fit_bytes(
    run: Run, *, cadence: bool = True, distance: bool = True, speed_noise: float = 0.0, seed: int = 2
) -> bytes:
    rng = np.random.default_rng(seed)
    num = garmin_fit_sdk.Profile["mesg_num"]
    enc = garmin_fit_sdk.Encoder()
    enc.on_mesg(
        num["FILE_ID"],
        {"type": "activity", "manufacturer": "development", "product": 0, "serial_number": 1, "time_created": START},
    )
    speeds = np.concatenate([[0.0], np.diff(run.distance_m) / np.diff(run.time_s)])
    lap_i = 0
    for t, d, c, v in zip(run.time_s, run.distance_m, run.cadence_spm, speeds):
        while lap_i < len(run.laps) and run.laps[lap_i][1] <= t:
            _lap(enc, num, run.laps[lap_i])
            lap_i += 1
        record = {
            "timestamp": START + timedelta(seconds=float(t)),
            "speed": max(0.0, float(v + rng.normal(0, speed_noise) if speed_noise else v)),
        }
        if distance:
            record["distance"] = float(d)
        if cadence:
            strides = float(c) / 2.0
            whole = math.floor(strides)
            record.update(cadence=int(whole), fractional_cadence=strides - whole)
        enc.on_mesg(num["RECORD"], record)
    for lap in run.laps[lap_i:]:
        _lap(enc, num, lap)
    enc.on_mesg(
        num["SESSION"],
        {"timestamp": START + timedelta(seconds=float(run.time_s[-1])), "start_time": START, "sport": "running"},
    )
    return enc.close()


def _lap(enc, num, lap) -> None:
    a, b = lap
    enc.on_mesg(
        num["LAP"],
        {
            "timestamp": START + timedelta(seconds=b),
            "start_time": START + timedelta(seconds=a),
            "total_elapsed_time": b - a,
        },
    )


def _stamp(t: float) -> str:
    return (START + timedelta(seconds=float(t))).isoformat().replace("+00:00", "Z")


def tcx_bytes(run: Run) -> bytes:
    ns = "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
    tpx = "http://www.garmin.com/xmlschemas/ActivityExtension/v2"
    ElementTree.register_namespace("", ns)
    ElementTree.register_namespace("tpx", tpx)
    root = ElementTree.Element(f"{{{ns}}}TrainingCenterDatabase")
    act = ElementTree.SubElement(
        ElementTree.SubElement(root, f"{{{ns}}}Activities"), f"{{{ns}}}Activity", Sport="Running"
    )
    ElementTree.SubElement(act, f"{{{ns}}}Id").text = _stamp(0)
    # Laps: the warm-up up to the first rep, each rep, and what follows until the next rep.
    bounds = [0.0] + [x for lap in run.laps for x in lap] + [float(run.time_s[-1]) + 1]
    for a, b in zip(bounds, bounds[1:]):
        lap = ElementTree.SubElement(act, f"{{{ns}}}Lap", StartTime=_stamp(a))
        track = ElementTree.SubElement(lap, f"{{{ns}}}Track")
        for t, d, c in zip(run.time_s, run.distance_m, run.cadence_spm):
            if not a <= t < b:
                continue
            p = ElementTree.SubElement(track, f"{{{ns}}}Trackpoint")
            ElementTree.SubElement(p, f"{{{ns}}}Time").text = _stamp(t)
            ElementTree.SubElement(p, f"{{{ns}}}DistanceMeters").text = f"{d:.2f}"
            ext = ElementTree.SubElement(ElementTree.SubElement(p, f"{{{ns}}}Extensions"), f"{{{tpx}}}TPX")
            ElementTree.SubElement(ext, f"{{{tpx}}}RunCadence").text = str(round(c / 2))
    return ElementTree.tostring(root, xml_declaration=True, encoding="UTF-8")


def gpx_bytes(run: Run) -> bytes:
    gpx = gpxpy.gpx.GPX()
    gpx.nsmap["gpxtpx"] = "http://www.garmin.com/xmlschemas/TrackPointExtension/v1"
    track = gpxpy.gpx.GPXTrack()
    gpx.tracks.append(track)
    seg = gpxpy.gpx.GPXTrackSegment()
    track.segments.append(seg)
    for t, d, c in zip(run.time_s, run.distance_m, run.cadence_spm):
        point = gpxpy.gpx.GPXTrackPoint(0.0, math.degrees(d / EARTH_RADIUS_M), time=START + timedelta(seconds=float(t)))
        ext = ElementTree.Element("{http://www.garmin.com/xmlschemas/TrackPointExtension/v1}TrackPointExtension")
        ElementTree.SubElement(ext, "{http://www.garmin.com/xmlschemas/TrackPointExtension/v1}cad").text = str(
            round(c / 2)
        )
        point.extensions.append(ext)
        seg.points.append(point)
    return gpx.to_xml().encode()
