"""Step-length calibration: FIT, TCX and GPX runs with known speed and cadence, read back and fitted."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import garmin_fit_sdk
import numpy as np
import pytest

from stridebeat.activity import (
    EARTH_RADIUS_M,
    RunSamples,
    StrideFit,
    fit_stride,
    read_run,
)
from stridebeat.errors import UsageError

# The runner: L = 2.1 m · (v / 8 m/s)^0.5.
A, B, VREF = 2.1, 0.5, 8.0
START = datetime(2026, 5, 1, 9, 0, 0, tzinfo=UTC)


def speed_for_strides(strides_per_min: float) -> float:
    """The speed at which this runner's cadence is ``strides_per_min``: v = L(v)·f solved for v."""
    f = 2.0 * strides_per_min / 60.0  # steps per second
    return (A * f / VREF**B) ** (1.0 / (1.0 - B))


def session(whole_strides: bool) -> list[tuple[float, float]]:
    """(speed m/s, cadence strides/min) once a second: standing, a jog below the cut-off, then runs at 4–9 m/s.

    TCX and GPX store cadence as whole strides per minute, so their runs use whole cadences and the speed that goes
    with each; FIT stores 1/128 stride, so its runs step through speeds directly.
    """
    rows = [(0.0, 0.0)] * 5 + [(2.5, 75.0)] * 20
    if whole_strides:
        for c in range(81, 122, 2):  # 4.0 to 9.0 m/s
            rows += [(speed_for_strides(c), float(c))] * 12
    else:
        for v in np.linspace(4.0, 9.0, 21):
            strides = 30.0 * v / (A * (v / VREF) ** B)
            rows += [(float(v), strides)] * 12
    return rows


def check_recovered(fit: StrideFit, *, a_rel: float, b_abs: float, points: int) -> None:
    assert fit.a_m == pytest.approx(A, rel=a_rel)
    assert fit.b == pytest.approx(B, abs=b_abs)
    assert fit.points == points
    assert fit.speed_min_mps == pytest.approx(4.0, abs=0.05)
    assert fit.speed_max_mps == pytest.approx(9.0, abs=0.05)
    assert fit.rms_pct < 0.5


# --- FIT: an activity made with the SDK's Encoder, as the workout writer makes its files ---------------------------


def fit_activity(rows, *, cadence: bool = True, sport: str = "running") -> bytes:
    Encoder, Profile = garmin_fit_sdk.Encoder, garmin_fit_sdk.Profile
    num = Profile["mesg_num"]
    enc = Encoder()
    enc.on_mesg(
        num["FILE_ID"],
        {"type": "activity", "manufacturer": "development", "product": 0, "serial_number": 1234, "time_created": START},
    )
    distance = 0.0
    for i, (v, strides) in enumerate(rows):
        distance += v
        record = {"timestamp": START + timedelta(seconds=i), "distance": distance, "speed": v}
        if cadence:
            whole = math.floor(strides)
            record.update(cadence=whole, fractional_cadence=strides - whole)
        enc.on_mesg(num["RECORD"], record)
    enc.on_mesg(
        num["SESSION"],
        {
            "timestamp": START + timedelta(seconds=len(rows)),
            "start_time": START,
            "sport": sport,
            "total_elapsed_time": float(len(rows)),
        },
    )
    return enc.close()


def test_fit_run_recovers_the_stride_law(tmp_path):
    rows = session(whole_strides=False)
    path = tmp_path / "run.fit"
    path.write_bytes(fit_activity(rows))
    samples = read_run(path)
    assert len(samples) == len(rows)
    assert samples.time_s[-1] == len(rows) - 1
    # Steps per minute: twice the strides, fractional part included (1/128 stride resolution).
    assert np.allclose(samples.cadence_spm, [2 * c for _, c in rows], atol=2 / 128)
    assert np.allclose(samples.speed_mps, [v for v, _ in rows], atol=0.001)
    check_recovered(fit_stride(samples), a_rel=1e-3, b_abs=2e-3, points=21 * 12)


def test_fit_without_cadence_is_refused(tmp_path):
    path = tmp_path / "run.fit"
    path.write_bytes(fit_activity(session(False), cadence=False))
    with pytest.raises(UsageError, match="no cadence"):
        read_run(path)


def test_fit_of_a_bike_ride_is_refused(tmp_path):
    path = tmp_path / "ride.fit"
    path.write_bytes(fit_activity(session(False), sport="cycling"))
    with pytest.raises(UsageError, match="cycling"):
        read_run(path)


def test_fit_workout_file_has_no_samples(tmp_path):
    from stridebeat.export.fit import Workout, WorkoutStep, encode_workout

    path = tmp_path / "plan.fit"
    path.write_bytes(encode_workout(Workout(name="plan", steps=(WorkoutStep(name="400", distance_m=400.0),))))
    with pytest.raises(UsageError, match="no samples"):
        read_run(path)


# --- TCX ------------------------------------------------------------------------------------------------------------


def tcx_text(rows, *, speed: bool = True, cadence: bool = True) -> str:
    points = []
    distance = 0.0
    for i, (v, strides) in enumerate(rows):
        distance += v
        stamp = (START + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        tpx = (f"<ns3:Speed>{v!r}</ns3:Speed>" if speed else "") + (
            f"<ns3:RunCadence>{int(strides)}</ns3:RunCadence>" if cadence else ""
        )
        points.append(
            f"<Trackpoint><Time>{stamp}</Time><DistanceMeters>{distance!r}</DistanceMeters>"
            f"<Extensions><ns3:TPX>{tpx}</ns3:TPX></Extensions></Trackpoint>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2" '
        'xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2">'
        '<Activities><Activity Sport="Running"><Id>2026-05-01T09:00:00.000Z</Id>'
        f'<Lap StartTime="2026-05-01T09:00:00.000Z"><Track>{"".join(points)}</Track></Lap>'
        "</Activity></Activities></TrainingCenterDatabase>\n"
    )


@pytest.mark.parametrize("speed", [True, False], ids=["tpx-speed", "speed-from-distance"])
def test_tcx_run_recovers_the_stride_law(tmp_path, speed):
    rows = session(whole_strides=True)
    path = tmp_path / "run.tcx"
    path.write_text(tcx_text(rows, speed=speed), encoding="utf-8")
    samples = read_run(path)
    assert len(samples) == len(rows)
    assert np.array_equal(samples.cadence_spm, [2 * c for _, c in rows])
    check_recovered(fit_stride(samples), a_rel=1e-4, b_abs=1e-4, points=21 * 12)


def test_tcx_without_cadence_is_refused(tmp_path):
    path = tmp_path / "run.tcx"
    path.write_text(tcx_text(session(True), cadence=False), encoding="utf-8")
    with pytest.raises(UsageError, match="no cadence"):
        read_run(path)


# --- GPX: speed from positions along the equator ----------------------------------------------------------------------


def gpx_text(rows, *, cadence: bool = True) -> str:
    points = []
    lon = 0.0
    for i, (v, strides) in enumerate(rows):
        lon += math.degrees(v / EARTH_RADIUS_M)  # v metres east along the equator in the second before this point
        stamp = (START + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        ext = (
            f"<extensions><gpxtpx:TrackPointExtension><gpxtpx:cad>{int(strides)}</gpxtpx:cad>"
            "</gpxtpx:TrackPointExtension></extensions>"
            if cadence
            else ""
        )
        points.append(f'<trkpt lat="0.0" lon="{lon:.10f}"><time>{stamp}</time>{ext}</trkpt>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gpx version="1.1" creator="stridebeat tests" xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">'
        f"<trk><name>run</name><trkseg>{''.join(points)}</trkseg></trk></gpx>\n"
    )


def test_gpx_run_recovers_the_stride_law(tmp_path):
    rows = session(whole_strides=True)
    path = tmp_path / "run.gpx"
    path.write_text(gpx_text(rows), encoding="utf-8")
    samples = read_run(path)
    assert len(samples) == len(rows)
    assert math.isnan(samples.speed_mps[0])  # no previous point to measure from
    assert np.allclose(samples.speed_mps[1:], [v for v, _ in rows[1:]], rtol=1e-6, atol=1e-5)
    check_recovered(fit_stride(samples), a_rel=1e-4, b_abs=1e-4, points=21 * 12)


def test_gpx_in_steps_per_minute_is_recognised(tmp_path):
    """Strava's GPX export writes steps per minute in gpxtpx:cad, against the schema: the session median tells."""
    rows = [(v, 2 * c) for v, c in session(whole_strides=True)]
    path = tmp_path / "strava.gpx"
    path.write_text(gpx_text(rows), encoding="utf-8")
    samples = read_run(path)
    assert np.array_equal(samples.cadence_spm, [c for _, c in rows])
    check_recovered(fit_stride(samples), a_rel=1e-4, b_abs=1e-4, points=21 * 12)
    # Forced to strides, the step lengths halve and the fit is refused rather than saved wrong.
    with pytest.raises(UsageError, match="steps, not strides"):
        fit_stride(read_run(path, cadence_unit="strides"))


def test_cadence_unit_can_be_forced(tmp_path):
    rows = session(whole_strides=True)
    path = tmp_path / "run.tcx"
    path.write_text(tcx_text(rows), encoding="utf-8")
    assert np.array_equal(read_run(path, cadence_unit="steps").cadence_spm, [c for _, c in rows])
    with pytest.raises(UsageError) as info:
        read_run(path, cadence_unit="rpm")  # type: ignore[arg-type]
    one_line(info)


def test_gpx_without_cadence_is_refused(tmp_path):
    path = tmp_path / "run.gpx"
    path.write_text(gpx_text(session(True), cadence=False), encoding="utf-8")
    with pytest.raises(UsageError, match="no cadence"):
        read_run(path)


# --- Broken and foreign files -----------------------------------------------------------------------------------------


def one_line(info) -> str:
    message = str(info.value)
    assert message and "\n" not in message and ": " in message
    return message


def good_file(tmp_path, ext: str) -> bytes:
    rows = session(whole_strides=True)
    if ext == "fit":
        return fit_activity(rows)
    return (tcx_text(rows) if ext == "tcx" else gpx_text(rows)).encode()


@pytest.mark.parametrize("ext", ["fit", "tcx", "gpx"])
def test_truncated_files_are_refused(tmp_path, ext):
    data = good_file(tmp_path, ext)
    path = tmp_path / f"cut.{ext}"
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(UsageError) as info:
        read_run(path)
    one_line(info)


@pytest.mark.parametrize("ext", ["fit", "tcx", "gpx"])
def test_corrupt_files_are_refused(tmp_path, ext):
    data = bytearray(good_file(tmp_path, ext))
    if ext == "fit":
        data[len(data) // 2] ^= 0xFF  # the CRC catches any flipped byte
    else:
        data[len(data) // 2 : len(data) // 2 + 8] = b"<<&&>>\0\0"  # no longer XML
    path = tmp_path / f"bad.{ext}"
    path.write_bytes(bytes(data))
    with pytest.raises(UsageError) as info:
        read_run(path)
    one_line(info)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("run.fit", b"\x89PNG\r\n\x1a\n" + b"\0" * 64),
        ("run.fit", b""),
        ("run.tcx", b'<?xml version="1.0"?><gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"/>'),
        ("run.tcx", b""),
        ("run.gpx", b"<html><body>not a track</body></html>"),
        ("run.gpx", b"\xff\xfe\x00garbage"),
        ("run.csv", b"time,speed\n"),
    ],
)
def test_foreign_files_are_refused(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UsageError) as info:
        read_run(path)
    one_line(info)


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(UsageError) as info:
        read_run(tmp_path / "nowhere.fit")
    one_line(info)


# --- The fit's own refusals -----------------------------------------------------------------------------------------


def samples_of(speeds, cadences) -> RunSamples:
    speeds = np.asarray(speeds, dtype=float)
    return RunSamples(
        time_s=np.arange(len(speeds), dtype=float),
        speed_mps=speeds,
        cadence_spm=np.asarray(cadences, dtype=float),
        source="test run",
    )


def lawful(speeds, a=A, b=B):
    speeds = np.asarray(speeds, dtype=float)
    return 60.0 * speeds / (a * (speeds / VREF) ** b)


@pytest.mark.parametrize(
    ("samples", "match"),
    [
        (samples_of([5.0] * 50, [np.nan] * 50), "no cadence"),
        (samples_of(np.linspace(4, 9, 20), lawful(np.linspace(4, 9, 20))), "20 samples"),
        (samples_of(np.linspace(6.0, 6.8, 100), lawful(np.linspace(6.0, 6.8, 100))), "covers only"),
        (samples_of(np.linspace(4, 9, 100), lawful(np.linspace(4, 9, 100), b=2.0)), "plausible"),
        (samples_of(np.linspace(4, 9, 100), 2 * lawful(np.linspace(4, 9, 100))), "steps, not strides"),
        (samples_of(np.linspace(4, 9, 100), 0.5 * lawful(np.linspace(4, 9, 100), a=1.6)), "outside the plausible"),
    ],
)
def test_fit_refusals(samples, match):
    with pytest.raises(UsageError, match=match) as info:
        fit_stride(samples)
    one_line(info)


def test_slow_and_standing_samples_are_left_out():
    speeds = np.concatenate([np.zeros(20), np.full(30, 2.0), np.linspace(4, 9, 60)])
    cadence = np.concatenate([np.zeros(20), np.full(30, 150.0), lawful(np.linspace(4, 9, 60))])
    fit = fit_stride(samples_of(speeds, cadence))
    assert fit.points == 60
    assert fit.a_m == pytest.approx(A) and fit.b == pytest.approx(B)
    assert fit.rms_m == pytest.approx(0.0, abs=1e-9)
    assert fit.step_length_at(8.0) == pytest.approx(2.1)
    assert fit.cadence_at(8.0) == pytest.approx(60 * 8 / 2.1)


def test_noise_shows_in_the_residual():
    rng = np.random.default_rng(7)
    speeds = np.linspace(4, 9, 400)
    cadence = lawful(speeds) * (1 + 0.02 * rng.standard_normal(400))
    fit = fit_stride(samples_of(speeds, cadence))
    assert fit.a_m == pytest.approx(A, rel=0.01)
    assert fit.b == pytest.approx(B, abs=0.02)
    assert 1.5 < fit.rms_pct < 2.5
    assert fit.rms_m == pytest.approx(fit.rms_pct / 100 * 1.8, rel=0.25)  # % of a ~1.8 m mean step


# --- The saved profile ----------------------------------------------------------------------------------------------


def test_profile_round_trips_through_toml():
    fit = fit_stride(samples_of(np.linspace(4, 9, 60), lawful(np.linspace(4, 9, 60))))
    text = fit.to_toml()
    assert "[stride]" in text and "version = 1" in text
    assert StrideFit.from_toml(text) == fit


TAIL = (
    "b = 0.5\nref_speed_mps = 8.0\npoints = 10\nspeed_min_mps = 4.0\nspeed_max_mps = 9.0\nrms_m = 0.01\nrms_pct = 0.5\n"
)


@pytest.mark.parametrize(
    "text",
    [
        "this is = not toml [",
        "version = 2\n[stride]\na_m = 2.1\n",
        "version = 1\n",
        'version = 1\n[stride]\na_m = "long"\n' + TAIL,
        "version = 1\n[stride]\na_m = -2.1\n" + TAIL,
        "version = 1\n[stride]\na_m = nan\n" + TAIL,
        "version = 1\n[stride]\na_m = 2.1\n" + TAIL.replace("b = 0.5", "b = 3.0"),
        "version = 1\n[stride]\na_m = 2.1\n" + TAIL.replace("points = 10", "points = 10.5"),
    ],
)
def test_bad_profiles_are_refused(text):
    with pytest.raises(UsageError) as info:
        StrideFit.from_toml(text)
    one_line(info)


def test_gpx_speed_extension_is_used_when_present(tmp_path):
    """TrackPointExtension v2 carries the device's speed: it wins over positions (here all at one spot)."""
    rows = session(whole_strides=True)
    points = "".join(
        f'<trkpt lat="10.0" lon="20.0"><time>{(START + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")}</time>'
        f"<extensions><gpxtpx:TrackPointExtension><gpxtpx:speed>{v!r}</gpxtpx:speed><gpxtpx:cad>{int(c)}</gpxtpx:cad>"
        "</gpxtpx:TrackPointExtension></extensions></trkpt>"
        for i, (v, c) in enumerate(rows)
    )
    path = tmp_path / "run.gpx"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v2">'
        f"<trk><trkseg>{points}</trkseg></trk></gpx>\n",
        encoding="utf-8",
    )
    samples = read_run(path)
    assert np.allclose(samples.speed_mps, [v for v, _ in rows])
    check_recovered(fit_stride(samples), a_rel=1e-6, b_abs=1e-6, points=21 * 12)
