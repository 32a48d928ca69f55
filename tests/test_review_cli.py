"""`stridebeat review` through the real entry point: the outputs, what it learns, and the recordings it refuses."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

import stridebeat
from review_runs import fit_bytes, gpx_bytes, simulate, tcx_bytes
from stridebeat.activity import StrideFit
from stridebeat.config import strides

SEGMENT_KEYS = {"distance_m", "planned_s", "actual_s", "planned_spm", "actual_spm", "planned_step_m", "actual_step_m"}
REP_KEYS = {"held", "hold_cadence_spm", "planned_hold_cadence_spm", "fatigue_index", "segments"}


@pytest.fixture
def strides_dir(tmp_path, monkeypatch):
    folder = tmp_path / "strides"
    monkeypatch.setenv(strides.ENV_DIR, str(folder))
    return folder


def plans_of(preset=None, **options):
    return [rep.planned for rep in stridebeat.build_job(preset, **options).reps]


@pytest.fixture(scope="module")
def rep51():
    """One 400 m rep to a 51 s plan, run to it but 5 spm slow through the hold, with a lap."""
    return simulate(plans_of(time=51), hold_offsets=[-5.0], noise_spm=0.5)


@pytest.fixture
def fit_run(tmp_path, rep51):
    path = tmp_path / "tuesday.fit"
    path.write_bytes(fit_bytes(rep51))
    return path


def test_json_has_the_documented_keys_and_the_truth(fit_run, run_cli, rep51):
    result = run_cli("review", fit_run, "--time", "51", "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    (rep,) = data["reps"]
    assert REP_KEYS <= set(rep)
    assert rep["held"] is False
    assert rep["hold_cadence_spm"] == pytest.approx(rep["planned_hold_cadence_spm"] - 5.0, abs=0.3)
    assert rep["hold_cadence_spm"] == pytest.approx(rep51.truth[0].hold_spm, abs=0.3)
    assert 0.0 < rep["fatigue_index"] < 0.3
    assert [set(s) for s in rep["segments"]] == [SEGMENT_KEYS] * 4
    assert [s["distance_m"] for s in rep["segments"]] == [100, 200, 300, 400]
    elapsed = np.cumsum([s["actual_s"] for s in rep["segments"]])
    assert np.allclose(elapsed, rep51.truth[0].elapsed_s, atol=0.15)
    assert data["recording"] == {"interval_s": 1.0, "smart": False, "distance_source": "watch"}


@pytest.mark.parametrize("ext", ["fit", "tcx", "gpx"])
def test_every_format_end_to_end(tmp_path, run_cli, rep51, ext):
    path = tmp_path / f"tuesday.{ext}"
    path.write_bytes({"fit": fit_bytes, "tcx": tcx_bytes, "gpx": gpx_bytes}[ext](rep51))
    result = run_cli("review", path, "race-51", "--json")
    assert result.code == 0, result.err
    (rep,) = json.loads(result.out)["reps"]
    assert rep["found_by"] == ("fastest stretch" if ext == "gpx" else "lap")
    elapsed = np.cumsum([s["actual_s"] for s in rep["segments"]])
    assert np.allclose(elapsed, rep51.truth[0].elapsed_s, atol=0.15)
    assert rep["held"] is False and rep["verdict"].startswith("dropped by")


def test_the_table_and_the_csv_say_the_same(fit_run, run_cli):
    table = run_cli("review", fit_run, "--time", "51")
    assert table.code == 0, table.err
    assert "a record every 1.0 s, distance from the watch's distance" in table.out
    assert "DROPPED BY" in table.out and "(±3 spm)" in table.out
    data = json.loads(run_cli("review", fit_run, "--time", "51", "--json").out)
    rows = list(csv.DictReader(io.StringIO(run_cli("review", fit_run, "--time", "51", "--csv").out)))
    assert len(rows) == 4
    for row, seg in zip(rows, data["reps"][0]["segments"]):
        assert float(row["actual_s"]) == pytest.approx(seg["actual_s"], abs=0.001)
        assert float(row["actual_spm"]) == pytest.approx(seg["actual_spm"], abs=0.01)
        assert float(row["diff_spm"]) == pytest.approx(seg["actual_spm"] - seg["planned_spm"], abs=0.02)


def test_splits_out_is_what_splits_from_reads(tmp_path, fit_run, run_cli):
    out = tmp_path / "tuesday.csv"
    result = run_cli("review", fit_run, "--time", "51", "--splits-out", out)
    assert result.code == 0, result.err
    assert f"wrote {out}" in result.err
    data = json.loads(run_cli("review", fit_run, "--time", "51", "--json").out)
    actual = [s["actual_s"] for s in data["reps"][0]["segments"]]
    job = stridebeat.build_job(splits_from=str(out))
    assert [r.split_s for r in job.reps[0].planned.splits] == pytest.approx(actual, abs=0.006)
    # An existing file is replaced only with --force, checked before the run is read.
    again = run_cli("review", fit_run, "--time", "51", "--splits-out", out)
    assert again.code == 1 and again.out == "" and "--force" in again.err
    assert run_cli("review", fit_run, "--time", "51", "--splits-out", out, "--force").code == 0


def test_a_session_needs_rep_for_splits_out(tmp_path, run_cli):
    run = simulate(plans_of("rhythm-3x500"), rest_s=60.0)
    path = tmp_path / "session.fit"
    path.write_bytes(fit_bytes(run))
    out = tmp_path / "rep2.csv"
    refused = run_cli("review", path, "rhythm-3x500", "--splits-out", out)
    assert refused.code == 2 and "--rep 1 to 3" in refused.err and not out.exists()
    result = run_cli("review", path, "rhythm-3x500", "--splits-out", out, "--rep", "2", "--json")
    assert result.code == 0, result.err
    reps = json.loads(result.out)["reps"]
    assert len(reps) == 3
    written = [float(x) for x in out.read_text().split()[1:]]
    assert written == pytest.approx([s["actual_s"] for s in reps[1]["segments"]], abs=0.006)


def test_plot_is_written(tmp_path, fit_run, run_cli):
    pytest.importorskip("matplotlib", reason="the plot extra (matplotlib) is needed for --plot")
    out = tmp_path / "tuesday.png"
    result = run_cli("review", fit_run, "--time", "51", "--plot", out)
    assert result.code == 0, result.err
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_save_profile_starts_then_refits_a_profile(tmp_path, run_cli, strides_dir):
    """A session of three 500 m reps at different paces (for a speed span); then a second session adds its points."""
    plans = plans_of(time=60, distance=500) + plans_of(time=75, distance=500) + plans_of(time=68, distance=500)
    run = simulate(plans, rest_s=60.0)  # guns at 1:20, 3:26 and 5:47 from the first record
    path = tmp_path / "mixed.fit"
    path.write_bytes(fit_bytes(run))
    first = run_cli("review", path, "--time", "1:00", "--distance", "500", "--save-profile", "me")
    assert first.code == 0, first.err
    fit = strides.load_profile("me")
    n1 = fit.points
    assert len(fit.data) == n1 > 30
    second = run_cli("review", path, "--time", "1:15", "--distance", "500", "--from", "3:26", "--save-profile", "me")
    assert second.code == 0, second.err
    refit = strides.load_profile("me")
    alone = run_cli("review", path, "--time", "1:15", "--distance", "500", "--from", "3:26", "--save-profile", "two")
    assert alone.code == 0, alone.err
    two = strides.load_profile("two")
    # The refit is the fit of both reps' points together: as many points, its law between the two reps' own.
    assert refit.points == n1 + two.points
    assert sorted(refit.data) == sorted(fit.data + two.data)
    lo, hi = sorted((fit.step_length_at(7.0), two.step_length_at(7.0)))
    assert lo - 0.01 <= refit.step_length_at(7.0) <= hi + 0.01
    # Every point kept is a record of a rep while running: speed over its interval and the watch's cadence for it.
    v, c = np.array(refit.data).T
    assert v.min() >= 3.0 and c.min() >= 120.0


def test_save_profile_adds_to_a_profile_without_points(tmp_path, fit_run, run_cli, strides_dir):
    """A profile saved before points were kept counts as its law sampled over its range, as many points as it had."""
    old = StrideFit(a_m=2.0, b=0.5, points=200, speed_min_mps=4.0, speed_max_mps=9.0, rms_m=0.01, rms_pct=0.5)
    strides.save_profile("me", old)
    result = run_cli("review", fit_run, "--time", "51", "--save-profile", "me")
    assert result.code == 0, result.err
    fit = strides.load_profile("me")
    assert 200 < fit.points < 300


def test_help_lists_the_command_and_examples(run_cli):
    assert "review" in run_cli("--help").out
    result = run_cli("review", "--help")
    assert result.code == 0
    assert "stridebeat review tuesday.fit --time 51" in result.out
    assert "--splits-out" in result.out and "--save-profile" in result.out


# --- Bad recordings: one line, exit 2, nothing written ---------------------------------------------------------------


def _bad(kind: str, tmp_path):
    plans = plans_of(time=51)
    if kind == "no stretch at the plan's pace":
        run = simulate(plans_of(time=70), lap_per_rep=False)  # ran 70 s, reviewed against 51 s
        return fit_bytes(run), "fit", "near the plan's pace"
    run = simulate(plans, lap_per_rep=kind != "rep shorter than the plan (no laps)")
    if kind == "no cadence":
        return fit_bytes(run, cadence=False), "fit", "no cadence"
    if kind == "no distance":
        return fit_bytes(run, distance=False), "fit", "no distance"
    if kind == "rep shorter than the plan (lap)":
        a, _ = run.laps[0]
        run.laps[0] = (a, a + 36.0)  # the lap button pressed at about 300 m
        return fit_bytes(run), "fit", "of the rep's 400 m"
    if kind == "rep shorter than the plan (no laps)":
        keep = run.time_s < run.truth[0].gun_s + 40.0  # the recording stops at about 330 m
        for name in ("time_s", "distance_m", "cadence_spm"):
            setattr(run, name, getattr(run, name)[keep])
        return fit_bytes(run), "fit", "shorter than the rep's 400 m"
    if kind == "a pause inside the rep":
        gun = run.truth[0].gun_s
        keep = (run.time_s < gun + 20) | (run.time_s > gun + 35)
        for name in ("time_s", "distance_m", "cadence_spm"):
            setattr(run, name, getattr(run, name)[keep])
        return fit_bytes(run), "fit", "stopped recording"
    i = int(np.searchsorted(run.time_s, run.truth[0].gun_s + 10))
    if kind == "timestamps going backwards":
        run.time_s[[i, i + 1]] = run.time_s[[i + 1, i]]
        return tcx_bytes(run), "tcx", "back in time"
    if kind == "duplicate records":
        for name in ("time_s", "distance_m", "cadence_spm"):
            arr = getattr(run, name)
            setattr(run, name, np.insert(arr, i, arr[i]))
        return tcx_bytes(run), "tcx", "duplicate"
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "no cadence",
        "no distance",
        "rep shorter than the plan (lap)",
        "rep shorter than the plan (no laps)",
        "a pause inside the rep",
        "timestamps going backwards",
        "duplicate records",
        "no stretch at the plan's pace",
    ],
)
def test_bad_recordings_are_one_line_exit_2_and_nothing_is_written(tmp_path, run_cli, strides_dir, kind):
    data, ext, words = _bad(kind, tmp_path)
    path = tmp_path / f"bad.{ext}"
    path.write_bytes(data)
    outputs = tmp_path / "out"
    outputs.mkdir()
    args = ["--plot", outputs / "r.png", "--splits-out", outputs / "r.csv", "--save-profile", "me"]
    result = run_cli("review", path, "--time", "51", *args)
    assert result.code == 2, result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and words in lines[0], result.err
    assert "Traceback" not in result.err and result.out == ""
    assert list(outputs.iterdir()) == []
    assert not strides_dir.exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--from", "25:99:00"), "not a time of day"),
        (("--from", "soon"), "--from"),
        (("--to", "1:00"), "--to goes with --from"),
        (("--threshold", "nan"), "threshold"),
        (("--threshold", "0"), "threshold"),
        (("--json", "--csv"), "either --json or --csv"),
        (("--plot", "x.gif"), ".png or .svg"),
        (("--save-profile", "../up"), "stride profile name"),
        (("--from", "5:00", "--to", "4:00"), "the start before the end"),
    ],
)
def test_bad_options_are_one_line_exit_2(tmp_path, fit_run, run_cli, strides_dir, args, words):
    result = run_cli("review", fit_run, "--time", "51", *args)
    assert result.code == 2, result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], result.err
    assert result.out == ""
