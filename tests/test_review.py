"""Reviewing recorded reps: simulated runs with known splits and cadence (tests/review_runs.py), written as FIT, TCX and
GPX by their own libraries, read back and held against the plan they were run to."""

from __future__ import annotations

import numpy as np
import pytest

import stridebeat
from review_runs import fit_bytes, gpx_bytes, simulate, tcx_bytes
from stridebeat.activity import DistanceSource, read_activity
from stridebeat.activity.reps import FoundBy
from stridebeat.activity.review import DEFAULT_THRESHOLD_SPM, review

WRITERS = {"fit": fit_bytes, "tcx": tcx_bytes, "gpx": gpx_bytes}


def plans_of(preset=None, **options):
    return [rep.planned for rep in stridebeat.build_job(preset, **options).reps]


def reviewed(tmp_path, run, ext="fit", plans=None, **kwargs):
    path = tmp_path / f"run.{ext}"
    path.write_bytes(WRITERS[ext](run))
    return review(read_activity(path), plans or plans_of(time=51), **kwargs)


def check_against_truth(rep, truth, *, split_s: float, spm: float) -> None:
    actual = np.cumsum([s.actual_s for s in rep.segments])
    assert [s.distance_m for s in rep.segments] == truth.marks_m
    assert np.abs(actual - truth.elapsed_s).max() <= split_s
    assert np.abs(np.diff(actual, prepend=0) - np.diff(truth.elapsed_s, prepend=0)).max() <= split_s
    assert np.abs(np.array([s.actual_spm for s in rep.segments]) - truth.segment_spm).max() <= spm
    assert rep.hold_cadence_spm == pytest.approx(truth.hold_spm, abs=spm)


# --- The numbers against the truth -----------------------------------------------------------------------------------


@pytest.mark.parametrize("laps", [True, False], ids=["lap", "fastest-stretch"])
def test_fit_at_one_second_with_watch_distance(tmp_path, laps):
    """1 s records, the watch's distance, noise on cadence and speed, a warm-up and a cool-down around the rep."""
    plans = plans_of(time=51)
    run = simulate(plans, noise_spm=1.0, lap_per_rep=laps, gun_fraction=0.0 if laps else 0.37)
    path = tmp_path / "run.fit"
    path.write_bytes(fit_bytes(run, speed_noise=0.2))
    result = review(read_activity(path), plans)
    (rep,) = result.reps
    assert rep.found_by is (FoundBy.LAP if laps else FoundBy.FASTEST)
    assert result.recording.interval_s == 1.0 and not result.recording.smart
    assert result.recording.distance_source is DistanceSource.WATCH
    check_against_truth(rep, run.truth[0], split_s=0.15, spm=1.0)
    assert rep.gun_s == pytest.approx(run.truth[0].gun_s, abs=0.05)


@pytest.mark.parametrize("ext", ["tcx", "gpx"])
def test_tcx_and_gpx(tmp_path, ext):
    """TCX carries the watch's distance and laps; GPX only positions (the rep is the fastest stretch). Both hold
    cadence as whole strides per minute, so a segment's cadence is within one stride (2 spm) of the truth."""
    plans = plans_of(time=51)
    run = simulate(plans)
    result = reviewed(tmp_path, run, ext, plans)
    (rep,) = result.reps
    assert rep.found_by is (FoundBy.LAP if ext == "tcx" else FoundBy.FASTEST)
    assert result.recording.distance_source is (DistanceSource.WATCH if ext == "tcx" else DistanceSource.GPS)
    check_against_truth(rep, run.truth[0], split_s=0.15, spm=1.0)
    if ext == "gpx":
        assert rep.split_error_s > reviewed(tmp_path, run, "tcx", plans).reps[0].split_error_s


@pytest.mark.parametrize("laps", [True, False], ids=["lap", "fastest-stretch"])
def test_smart_recording(tmp_path, laps):
    """Records 1 to 4 s apart: splits still within a few tenths, and the review says the recording is smart."""
    plans = plans_of(time=51)
    run = simulate(plans, smart=True, lap_per_rep=laps, gun_fraction=0.0 if laps else 0.6)
    result = reviewed(tmp_path, run, "fit", plans)
    assert result.recording.smart
    (rep,) = result.reps
    check_against_truth(rep, run.truth[0], split_s=0.3, spm=1.5)
    assert rep.split_error_s > 0.15


def test_a_session_of_three_reps_with_a_pause_in_a_rest(tmp_path):
    """rhythm-3x500: three 500 m reps, each its own lap, auto-pause during the first rest; each rep matched in order."""
    plans = plans_of("rhythm-3x500")
    assert len(plans) == 3
    run = simulate(plans, rest_s=90.0, hold_offsets=[0.0, -2.0, -6.0], pause=(80.0, 30.0), noise_spm=0.5)
    result = reviewed(tmp_path, run, "fit", plans)
    assert [r.number for r in result.reps] == [1, 2, 3]
    for rep, truth in zip(result.reps, run.truth):
        assert rep.found_by is FoundBy.LAP
        assert rep.gun_s == pytest.approx(truth.gun_s, abs=0.01)
        check_against_truth(rep, truth, split_s=0.15, spm=1.0)
    assert [r.held for r in result.reps] == [True, True, False]
    last = result.reps[2]
    word, by, drop, unit = last.verdict.split()
    assert (word, by, unit) == ("dropped", "by", "spm") and float(drop) == pytest.approx(6.0, abs=0.5)


def test_a_session_without_laps_is_found_in_order(tmp_path):
    plans = plans_of("rhythm-3x500")
    run = simulate(plans, rest_s=90.0, lap_per_rep=False, gun_fraction=0.25)
    result = reviewed(tmp_path, run, "fit", plans)
    for rep, truth in zip(result.reps, run.truth):
        assert rep.found_by is FoundBy.FASTEST
        check_against_truth(rep, truth, split_s=0.15, spm=1.0)


# --- The verdict ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "held", "word"),
    [(0.0, True, "held"), (-2.6, True, "held"), (-3.5, False, "dropped"), (2.6, True, "held"), (3.5, False, "rose")],
)
def test_the_verdict_on_both_sides_of_the_threshold(tmp_path, offset, held, word):
    plans = plans_of(time=51)
    run = simulate(plans, hold_offsets=[offset])
    (rep,) = reviewed(tmp_path, run, "fit", plans).reps
    assert rep.threshold_spm == DEFAULT_THRESHOLD_SPM
    assert rep.hold_cadence_spm - rep.planned_hold_cadence_spm == pytest.approx(offset, abs=0.2)
    assert rep.held is held
    assert rep.verdict.split()[0] == word
    if not held:
        assert rep.verdict == f"{word} by {abs(offset):.1f} spm"


def test_a_rep_run_exactly_to_its_plan_is_held_in_every_segment(tmp_path):
    """The runner steps the plan's own cadence at the plan's own speed: every segment within its tolerance, held, the
    fatigue index the plan's."""
    plans = plans_of(time=53, hold_last=150, steps_per_100m=46)
    run = simulate(plans)
    (rep,) = reviewed(tmp_path, run, "fit", plans).reps
    for s in rep.segments:
        assert s.actual_s == pytest.approx(s.planned_s, abs=0.15)
        assert s.actual_spm == pytest.approx(s.planned_spm, abs=1.0)
        assert s.actual_step_m == pytest.approx(s.planned_step_m, abs=0.01)
    assert rep.held and rep.verdict == "held"
    assert rep.hold_from_m == 250.0
    assert rep.fatigue_index == pytest.approx(rep.planned_fatigue_index, abs=0.01)
    lo, hi = rep.published_fatigue
    assert lo < hi and rep.level == "regional"  # 53 s is slower than a good men's 400 m (50 s)
    assert (lo + hi) / 2 == pytest.approx(0.139)


def test_a_plan_without_a_hold_is_judged_on_its_last_200_m(tmp_path):
    plans = plans_of(time=51, hold_last=0)
    run = simulate(plans, hold_offsets=[-4.0])
    (rep,) = reviewed(tmp_path, run, "fit", plans).reps
    assert rep.hold_from_m == 200.0
    assert not rep.held


# --- The picture -----------------------------------------------------------------------------------------------------


def test_the_plot_draws_plan_and_actual_where_they_belong(tmp_path):
    pytest.importorskip("matplotlib", reason="the plot extra (matplotlib) is needed for --plot")
    from stridebeat.views.review_plot import ACTUAL_COLOR, PLAN_COLOR, review_figure

    plans = plans_of(time=51)
    run = simulate(plans, hold_offsets=[-6.0])
    result = reviewed(tmp_path, run, "fit", plans)
    rep = result.reps[0]
    fig = review_figure(result)
    speed_ax, cadence_ax = fig.axes[0], fig.axes[1]
    planned = rep.planned
    for ax, quantity in ((speed_ax, "speed"), (cadence_ax, "cadence")):
        lines = {line.get_label(): line for line in ax.get_lines() if line.get_label() in ("plan", "actual")}
        x, y = (np.asarray(a, dtype=float) for a in lines["actual"].get_data())
        px, py = (np.asarray(a, dtype=float) for a in lines["plan"].get_data())
        assert lines["plan"].get_color() == PLAN_COLOR and lines["actual"].get_color() == ACTUAL_COLOR
        # The plan's curve is the plan's own: speed or cadence at the time the plan reaches each distance.
        t = planned.profile.time_at(px[1:], t_max=60.0)
        expect = planned.profile.velocity(t) if quantity == "speed" else 60.0 * planned.cadence_at(t)
        assert np.allclose(py[1:], expect, rtol=1e-6, atol=1e-6)
        # The actual curve follows the run: the plan's speed throughout (past the start), the plan's cadence until
        # the hold and 6 spm under it through the hold.
        running = x > 30.0
        t_x = planned.profile.time_at(x[running], t_max=60.0)
        if quantity == "speed":
            assert np.allclose(y[running], planned.profile.velocity(t_x), atol=0.05)
        else:
            hold = x[running] > rep.hold_from_m + 5.0
            before = x[running] < rep.hold_from_m - 5.0
            spm = 60.0 * planned.cadence_at(t_x)
            assert np.allclose(y[running][before], spm[before], atol=0.5)
            assert np.allclose(y[running][hold], rep.planned_hold_cadence_spm - 6.0, atol=0.5)
    # The hold is shaded from where it starts to the finish.
    # (The span's extent in its own coordinates: distance across, the axes' fraction up; Rectangle or Polygon alike.)
    extents = [p.get_path().get_extents(p.get_patch_transform()) for p in cadence_ax.patches]
    assert any(abs(e.x0 - rep.hold_from_m) < 1e-9 and abs(e.x1 - 400.0) < 1e-9 for e in extents)


@pytest.mark.parametrize(
    ("time_s", "sex", "level", "centre"),
    [
        (45.0, "M", "world class", 0.230),
        (48.5, "M", "national", 0.144),
        (51.0, "M", "regional", 0.139),
        (57.0, "F", "national", 0.144),
        (52.0, "F", "world class", 0.230),
    ],
)
def test_the_published_band_follows_the_level(time_s, sex, level, centre):
    from stridebeat.activity.review import published_band

    name, (lo, hi) = published_band(time_s, sex)
    assert name == level
    assert (lo + hi) / 2 == pytest.approx(centre) and hi - lo == pytest.approx(0.08)
