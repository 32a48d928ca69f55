"""`stridebeat calibrate` and stride profiles: runs with a known stride law, through the real entry point."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

import pytest

import stridebeat.cli.calibrate  # noqa: F401  # registers the command until COMMAND_MODULES names it
from stridebeat.activity import EARTH_RADIUS_M, StrideFit
from stridebeat.config import strides
from stridebeat.errors import OutputError, PresetError, UsageError
from test_calibrate import tcx_text  # the same TCX writer as the reader's tests

# The runner: L = 2.1 m · (v / 8 m/s)^0.5.
A, B, VREF = 2.1, 0.5, 8.0
START = datetime(2026, 5, 1, 9, 0, 0, tzinfo=UTC)


def law(v: float) -> float:
    return A * (v / VREF) ** B


def rows() -> list[tuple[float, int]]:
    """(speed m/s, cadence strides/min) once a second: standing, a jog, then runs at 4-9 m/s at whole cadences."""
    out = [(0.0, 0)] * 5 + [(2.5, 75)] * 20
    for strides_per_min in range(81, 122, 2):
        f = 2.0 * strides_per_min / 60.0  # steps per second; v = L(v)·f solved for v
        out += [((A * f / VREF**B) ** (1.0 / (1.0 - B)), strides_per_min)] * 12
    return out


def gpx_text(samples: list[tuple[float, int]], *, cadence_scale: int = 1) -> str:
    points = []
    lon = 0.0
    for i, (v, cad) in enumerate(samples):
        lon += math.degrees(v / EARTH_RADIUS_M)  # v metres east along the equator in the second before this point
        stamp = (START + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        points.append(
            f'<trkpt lat="0.0" lon="{lon:.10f}"><time>{stamp}</time><extensions><gpxtpx:TrackPointExtension>'
            f"<gpxtpx:cad>{cad * cadence_scale}</gpxtpx:cad></gpxtpx:TrackPointExtension></extensions></trkpt>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gpx version="1.1" creator="stridebeat tests" xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">'
        f"<trk><name>run</name><trkseg>{''.join(points)}</trkseg></trk></gpx>\n"
    )


@pytest.fixture
def strides_dir(tmp_path, monkeypatch):
    """An empty stride profile folder for this test: nothing reads or writes the real configuration."""
    folder = tmp_path / "strides"
    monkeypatch.setenv(strides.ENV_DIR, str(folder))
    return folder


@pytest.fixture
def gpx(tmp_path):
    path = tmp_path / "last-week.gpx"
    path.write_text(gpx_text(rows()), encoding="utf-8")
    return path


ROW = re.compile(r"^\s+(\d+\.\d\d) m/s\s+(\S+)\s+(\d\.\d\d) m\s+(\d+\.\d) spm\s+(\d+\.\d)$")


def table(out: str) -> dict[float, tuple[str, float, float, float]]:
    """The printed rows by speed: (race time, step length, cadence, steps per 100 m)."""
    found = {}
    for line in out.splitlines():
        m = ROW.match(line)
        if m:
            found[float(m[1])] = (m[2], float(m[3]), float(m[4]), float(m[5]))
    return found


@pytest.mark.parametrize("fmt", ["gpx", "tcx"])
def test_the_printed_fit_is_the_runners_law(tmp_path, run_cli, strides_dir, fmt):
    path = tmp_path / f"run.{fmt}"
    path.write_text(gpx_text(rows()) if fmt == "gpx" else tcx_text(rows()), encoding="utf-8")
    result = run_cli("calibrate", path)
    assert result.code == 0, result.err
    assert result.err == ""
    out = result.out
    assert f"Stride fit from run.{fmt}: L = 2.100 m × (v / 8 m/s)^0.500" in out
    assert "samples used  252 " in out  # 21 runs of 12 s; standing and the jog left out
    speeds = re.search(r"speed range\s+(\d+\.\d\d)-(\d+\.\d\d) m/s", out)
    assert speeds is not None
    assert float(speeds[1]) == pytest.approx(4.0, abs=0.05)
    assert float(speeds[2]) == pytest.approx(9.0, abs=0.05)
    assert "residual      0.0 cm RMS (0.0 %)" in out
    rows_by_speed = table(out)
    assert sorted(rows_by_speed) == [5.0, 6.0, 7.0, 8.0]
    for v, (race, length, cadence, per_100) in rows_by_speed.items():
        assert length == pytest.approx(law(v), abs=0.005)
        assert cadence == pytest.approx(60 * v / law(v), abs=0.05)
        assert per_100 == pytest.approx(100 / law(v), abs=0.05)
        assert race == {5.0: "1:20.0", 6.0: "1:06.7", 7.0: "57.1", 8.0: "50.0"}[v]
    assert "--time 51" in out  # how to get the count at race pace
    assert not strides_dir.exists()  # nothing saved without --save


def test_race_pace_gives_the_count_for_plans(gpx, run_cli, strides_dir):
    result = run_cli("calibrate", gpx, "--time", "51")
    assert result.code == 0, result.err
    v = 400 / 51
    assert "At race pace (400 m in 51.0):" in result.out
    assert f"--steps-per-100m {100 / law(v):.1f}" in result.out
    assert f"--steps-per-100m {100 / law(v):.1f}" == "--steps-per-100m 48.1"
    assert table(result.out)[round(v, 2)][1:] == pytest.approx((law(v), 60 * v / law(v), 100 / law(v)), abs=0.05)
    assert "extrapolated" not in result.out


def test_a_race_pace_beyond_the_run_is_flagged(gpx, run_cli, strides_dir):
    result = run_cli("calibrate", gpx, "--time", "20", "--distance", "200")  # 10 m/s; the run reached 9
    assert result.code == 0, result.err
    assert "outside this run's 4.0" in result.out
    assert "extrapolated" in result.out


def test_save_then_load_round_trips(gpx, run_cli, strides_dir):
    result = run_cli("calibrate", gpx, "--time", "51", "--save", "me")
    assert result.code == 0, result.err
    assert f"Saved stride profile 'me' to {strides_dir / 'me.toml'}." in result.out
    assert "--stride me" in result.out
    assert "stridebeat plan --time 51 --stride me" in result.out
    fit = strides.load_profile("me")
    assert isinstance(fit, StrideFit)
    assert fit.a_m == pytest.approx(A, rel=1e-4)
    assert fit.b == pytest.approx(B, abs=1e-4)
    assert fit.points == 252
    assert fit.source == "last-week.gpx"
    assert fit.step_length_at(400 / 51) == pytest.approx(law(400 / 51), rel=1e-4)
    assert strides.list_profiles() == ["me"]


def test_an_existing_profile_needs_force_and_is_checked_first(gpx, run_cli, strides_dir):
    assert run_cli("calibrate", gpx, "--save", "me").code == 0
    before = (strides_dir / "me.toml").read_text(encoding="utf-8")
    result = run_cli("calibrate", gpx, "--save", "me")
    assert result.code == 1
    assert result.out == ""  # refused before the run is read
    assert (
        result.err.strip()
        == f"Error: stride profile 'me' exists ({strides_dir / 'me.toml'}): pass --force to replace it"
    )
    assert (strides_dir / "me.toml").read_text(encoding="utf-8") == before
    assert run_cli("calibrate", gpx, "--save", "me", "--force").code == 0


def test_cadence_in_steps_can_be_forced(tmp_path, run_cli, strides_dir):
    """A GPX that holds steps per minute (as Strava writes) reads right when told so, and 'auto' sees it too."""
    path = tmp_path / "strava.gpx"
    path.write_text(gpx_text(rows(), cadence_scale=2), encoding="utf-8")
    for unit in ("auto", "steps"):
        result = run_cli("calibrate", path, "--cadence-unit", unit)
        assert result.code == 0, result.err
        assert "L = 2.100 m × (v / 8 m/s)^0.500" in result.out
    result = run_cli("calibrate", path, "--cadence-unit", "strides")  # doubled cadence: half-length steps
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("name", "content", "args"),
    [
        ("run.gpx", None, ()),  # missing
        ("run.gpx", b"<gpx", ()),  # not XML
        ("run.tcx", b"", ()),  # empty
        ("run.fit", b"not a fit file at all", ()),
        ("run.csv", b"speed,cadence\n", ()),  # unknown kind
        ("run.gpx", "good", ("--time", "soon")),
        ("run.gpx", "good", ("--cadence-unit", "hops")),
        ("run.gpx", "good", ("--save", "../escape")),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, run_cli, strides_dir, name, content, args):
    path = tmp_path / name
    if content == "good":
        path.write_text(gpx_text(rows()), encoding="utf-8")
    elif content is not None:
        path.write_bytes(content)
    result = run_cli("calibrate", path, *args)
    assert result.code == 2
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in result.err
    assert not strides_dir.exists()


def test_a_run_without_speeds_to_fit_is_refused(tmp_path, run_cli, strides_dir):
    path = tmp_path / "steady.gpx"
    path.write_text(gpx_text([(6.0, 99)] * 200), encoding="utf-8")  # one speed: no law to fit
    result = run_cli("calibrate", path)
    assert result.code == 2
    assert "m/s" in result.err and len(result.err.strip().splitlines()) == 1


def test_the_help_has_examples(run_cli):
    result = run_cli("calibrate", "--help")
    assert result.code == 0
    assert "stridebeat calibrate last-week.fit --time 51 --save me" in result.out
    assert "--cadence-unit" in result.out


# --- Stride profiles without the command line ----------------------------------------------------------------------


def fit_of(a: float = A) -> StrideFit:
    return StrideFit(
        a_m=a, b=B, points=100, speed_min_mps=4.0, speed_max_mps=9.0, rms_m=0.01, rms_pct=0.5, source="x.fit"
    )


def test_profiles_are_listed_and_replaced_only_with_force(strides_dir):
    assert strides.list_profiles() == []
    assert strides.save_profile("sprint", fit_of()) == strides_dir / "sprint.toml"
    strides.save_profile("easy-days", fit_of())
    (strides_dir / "notes.txt").write_text("not a profile", encoding="utf-8")
    assert strides.list_profiles() == ["easy-days", "sprint"]
    with pytest.raises(OutputError, match="pass --force"):
        strides.save_profile("sprint", fit_of(2.0))
    assert strides.load_profile("sprint").a_m == A
    strides.save_profile("sprint", fit_of(2.0), force=True)
    assert strides.load_profile("sprint").a_m == 2.0
    assert [p.name for p in strides_dir.iterdir() if p.name.endswith(".part")] == []


def test_an_unknown_profile_suggests_close_names(strides_dir):
    strides.save_profile("sprint", fit_of())
    with pytest.raises(UsageError, match=r"no stride profile named 'sprnt' in .*: did you mean 'sprint'\?$"):
        strides.load_profile("sprnt")
    with pytest.raises(UsageError, match=r"no stride profile named 'zzz' in .*: saved: sprint$"):
        strides.load_profile("zzz")


def test_with_no_profiles_the_error_says_how_to_make_one(strides_dir):
    with pytest.raises(UsageError, match=r"stridebeat calibrate RUN\.fit --save NAME"):
        strides.load_profile("me")


@pytest.mark.parametrize("name", ["", "../up", "a/b", ".hidden", "me.toml", "con", "x" * 65, "sp ace"])
def test_profile_names_follow_the_preset_rules(strides_dir, name):
    with pytest.raises(PresetError, match="stride profile name|reserved|characters long") as info:
        strides.save_profile(name, fit_of())
    assert "\n" not in str(info.value)
    assert not strides_dir.exists()


def test_a_broken_profile_names_its_file(strides_dir):
    strides_dir.mkdir()
    (strides_dir / "bad.toml").write_text("version = 1\n[stride]\na_m = 'long'\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"bad\.toml: the stride profile's a_m is missing or not a number"):
        strides.load_profile("bad")


def test_the_folder_defaults_to_the_user_config_folder(monkeypatch):
    monkeypatch.delenv(strides.ENV_DIR, raising=False)
    assert strides.user_dir().name == "strides"
    assert strides.user_dir().parent.name.lower() == "stridebeat"
