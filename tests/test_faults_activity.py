"""Issue 21, recorded runs: inputs that crashed `calibrate` (and the plans of its profiles) with a traceback are now
one line and exit 2."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import garmin_fit_sdk
import pytest

from stridebeat.config import strides
from test_calibrate import gpx_text, session, tcx_text

START = datetime(2026, 5, 1, 9, 0, 0, tzinfo=UTC)


@pytest.fixture
def strides_dir(tmp_path, monkeypatch):
    folder = tmp_path / "strides"
    monkeypatch.setenv(strides.ENV_DIR, str(folder))
    return folder


def one_line_exit_2(result, *words: str) -> str:
    assert result.code == 2, (result.code, result.err)
    assert "Traceback" not in result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("ext", ["tcx", "gpx"])
def test_zone_marked_and_naive_times_mixed(tmp_path, run_cli, strides_dir, ext):
    text = (tcx_text if ext == "tcx" else gpx_text)(session(whole_strides=True))
    # The third point's time loses its zone: "…09:00:02.000Z" / "…09:00:02Z" → without the Z.
    stamp = (START + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S")
    marked = stamp + (".000Z" if ext == "tcx" else "Z")
    assert marked in text
    text = text.replace(marked, stamp + (".000" if ext == "tcx" else ""), 1)
    path = tmp_path / f"run.{ext}"
    path.write_text(text, encoding="utf-8")
    one_line_exit_2(run_cli("calibrate", path), "mixes times with a time zone and without one")
    assert not strides_dir.exists()


def test_fit_cadence_as_an_array(tmp_path, run_cli, strides_dir):
    num = garmin_fit_sdk.Profile["mesg_num"]
    enc = garmin_fit_sdk.Encoder()
    enc.on_mesg(
        num["FILE_ID"],
        {"type": "activity", "manufacturer": "development", "product": 0, "serial_number": 1, "time_created": START},
    )
    for i in range(60):
        record = {"timestamp": START + timedelta(seconds=i), "speed": 5.0, "distance": 5.0 * i, "cadence": [85, 86]}
        enc.on_mesg(num["RECORD"], record)
    path = tmp_path / "run.fit"
    path.write_bytes(enc.close())
    one_line_exit_2(run_cli("calibrate", path), "cadence is a list of values")
    one_line_exit_2(run_cli("review", path, "--time", "51"), "cadence is a list of values")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--time", "1e308"), "--time 1e308 is not a race time for 400 m"),
        (("--time", "0.001"), "not a race time"),
        (("--time", "51", "--distance", "nan"), "--distance"),
        (("--time", "51", "--distance", "inf"), "--distance"),
        (("--time", "51", "--distance", "1e308"), "--distance"),
    ],
)
def test_calibrate_numbers_out_of_range(tmp_path, run_cli, strides_dir, args, words):
    path = tmp_path / "run.gpx"
    path.write_text(gpx_text(session(whole_strides=True)), encoding="utf-8")
    one_line_exit_2(run_cli("calibrate", path, *args), words)


PROFILE = """version = 1
[stride]
a_m = 2.1
b = 1.5  # with a tiny reference speed, (v / ref) ** 1.5 overflowed
ref_speed_mps = {ref}
points = 100
speed_min_mps = 4.0
speed_max_mps = 9.0
rms_m = 0.01
rms_pct = 0.5
"""


@pytest.mark.parametrize("ref", ["1e-300", "5e-324", "1e300", "1" + "0" * 400, "0.0001"])
def test_a_profile_with_an_absurd_reference_speed(strides_dir, run_cli, ref):
    strides_dir.mkdir()
    (strides_dir / "odd.toml").write_text(PROFILE.format(ref=ref), encoding="utf-8")
    line = one_line_exit_2(run_cli("plan", "--time", "51", "--stride", "odd"), "odd.toml")
    assert "calibrate again" in line


def test_a_profile_with_absurd_data_points(strides_dir, run_cli):
    strides_dir.mkdir()
    text = PROFILE.format(ref=8.0) + "data_speed_mps = [1e400]\ndata_cadence_spm = [180.0]\n"
    (strides_dir / "odd.toml").write_text(text, encoding="utf-8")
    one_line_exit_2(run_cli("plan", "--time", "51", "--stride", "odd"), "odd.toml")
