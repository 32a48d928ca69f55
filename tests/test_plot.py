"""The plan plot: a real image whose curves are the plan's, and a one-line error without matplotlib."""

from __future__ import annotations

import builtins
import errno

import numpy as np
import pytest

from stridebeat.api import Output, OutputKind, check_outputs, publish
from stridebeat.config.jobs import prepare
from stridebeat.errors import OutputError, UsageError
from stridebeat.views.plot import CADENCE_COLOR, REFERENCE_COLOR, SPEED_COLOR, STEP_COLOR, figure

try:
    import matplotlib.image as mpimg
except ImportError:  # the error-message test below still runs, and is the one that matters then
    mpimg = None
needs_matplotlib = pytest.mark.skipif(
    mpimg is None, reason="matplotlib is not installed: pip install 'stridebeat[plot]' to run the plot tests"
)


def rgb_of(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))


def plot_plan(planned, path, *, reference=None):
    """Plot a plan (or each rep of a list, side by side) as ``stridebeat.render`` does for an output of kind plot:
    the target checked by the pipeline, the figure drawn, the file published whole. Returns the series drawn."""
    plans = planned if isinstance(planned, list) else [planned]
    check_outputs([Output(OutputKind.PLOT, path)], force=True)
    fig, series = figure(plans, reference=reference)

    def save(tmp):
        with open(tmp, "wb") as fh:
            fig.savefig(fh, format=str(path).rsplit(".", 1)[-1])

    publish([(path, save)], force=True)
    return series if isinstance(planned, list) else series[0]


@pytest.fixture(scope="module")
def planned():
    return prepare({"time": "51"}).reps[0].planned


def _non_blank(img: np.ndarray) -> float:
    """Share of pixels that are not white."""
    return float(np.mean(np.any(img[..., :3] < 0.95, axis=-1)))


@needs_matplotlib
def test_png_is_a_real_picture(tmp_path, planned):
    path = tmp_path / "race.png"
    plot_plan(planned, path)
    img = mpimg.imread(path)
    assert img.shape == (800, 900, 4)  # 9 × 8 inches at 100 dpi
    assert 0.15 < _non_blank(img) < 0.9
    # The curves' colours are drawn: speed, cadence and step length.
    for rgb in (rgb_of(SPEED_COLOR), rgb_of(CADENCE_COLOR), rgb_of(STEP_COLOR)):
        close = np.all(np.abs(img[..., :3] * 255 - rgb) < 8, axis=-1)
        assert close.sum() > 300, rgb


@needs_matplotlib
def test_svg_carries_the_split_times(tmp_path, planned):
    path = tmp_path / "race.svg"
    plot_plan(planned, path)
    text = path.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    for row in planned.splits:
        assert f"{row.elapsed_s:.2f}" in text  # matplotlib embeds the annotations' text as comments/glyph ids


@needs_matplotlib
def test_series_equal_the_plan(tmp_path, planned):
    s = plot_plan(planned, tmp_path / "race.png")
    prof, t = planned.profile, s["time_s"]
    np.testing.assert_allclose(s["velocity_mps"], prof.velocity(t), rtol=0, atol=1e-12)
    np.testing.assert_allclose(s["distance_m"], prof.position(t), rtol=0, atol=1e-9)
    assert s["distance_m"][0] == pytest.approx(0.0) and s["distance_m"][-1] == pytest.approx(400.0)
    # Step length is speed over cadence from the first footstrike; before it, the first step's own length.
    stepping = t >= s["first_step_s"]
    assert s["first_step_s"] == planned.schedule.steps_s[0]
    np.testing.assert_allclose(
        (s["step_length_m"] * s["cadence_spm"] / 60.0)[stepping], s["velocity_mps"][stepping], atol=1e-9
    )
    np.testing.assert_allclose(s["step_length_m"][~stepping], prof.position(s["first_step_s"]), rtol=1e-12)
    np.testing.assert_array_equal(s["split_distance_m"], [r.distance_m for r in planned.splits])
    np.testing.assert_array_equal(s["split_elapsed_s"], [r.elapsed_s for r in planned.splits])
    assert s["hold_start_m"] == 200.0
    # The shaded acceleration ends at the speed peak.
    peak = float(np.max(prof.velocity(np.linspace(0, 51, 20001))))
    assert prof.velocity(np.interp(s["accel_end_m"], s["distance_m"], t)) == pytest.approx(peak, rel=1e-4)
    held = s["distance_m"] > 200.0 + 1e-6
    np.testing.assert_allclose(s["cadence_spm"][held], planned.held_cadence_spm, rtol=1e-12)
    # The plotted cadence integrates to the schedule's footstrikes in every split: Σ f dt over the split equals the
    # split's cadence times its running time, which the schedule derives from its own phase.
    f = s["cadence_spm"] / 60.0
    phase = np.concatenate([[0.0], np.cumsum((f[1:] + f[:-1]) / 2 * np.diff(t))])
    at = np.interp(s["split_elapsed_s"], t, phase)
    steps = np.diff(np.concatenate([[0.0], at]))
    starts = np.concatenate([[planned.plan.reaction_s], s["split_elapsed_s"][:-1]])
    cadence = 60.0 * steps / (s["split_elapsed_s"] - starts)
    np.testing.assert_allclose(cadence, [r.cadence_spm for r in planned.splits], rtol=2e-3)
    assert abs(at[-1] - planned.total_steps) < 1.0


@needs_matplotlib
def test_session_plots_each_rep(tmp_path, planned):
    short = prepare({"time": "24", "distance": "200", "hold_last": "0"}).reps[0].planned
    path = tmp_path / "session.png"
    series = plot_plan([planned, short], path)
    assert len(series) == 2 and series[1]["hold_start_m"] is None
    assert series[1]["distance_m"][-1] == pytest.approx(200.0)
    img = mpimg.imread(path)
    assert img.shape == (800, 1200, 4)
    # Both columns carry curves.
    assert _non_blank(img[:, :600]) > 0.1 and _non_blank(img[:, 600:]) > 0.1


def test_bad_extension_and_empty_session(tmp_path, planned):
    with pytest.raises(UsageError, match=r"cannot plot to '\.jpg': name the file \.png or \.svg"):
        plot_plan(planned, tmp_path / "race.jpg")
    with pytest.raises(UsageError, match="no reps"):
        plot_plan([], tmp_path / "race.png")
    assert list(tmp_path.iterdir()) == []


@needs_matplotlib
def test_a_failed_plot_keeps_the_old_file_and_leaves_no_temporary(tmp_path, planned, monkeypatch):
    from matplotlib.figure import Figure

    target = tmp_path / "race.png"
    target.write_bytes(b"old plot")

    def full_disk(self, fh, **kwargs):
        fh.write(b"\x89PNG half a picture")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", full_disk)
    with pytest.raises(OutputError, match="No space left on device"):
        plot_plan(planned, target)
    assert target.read_bytes() == b"old plot"
    assert [p.name for p in tmp_path.iterdir()] == ["race.png"]
    with pytest.raises(OutputError, match="does not exist|No such file"):
        plot_plan(planned, tmp_path / "missing" / "race.png")


def test_without_matplotlib(tmp_path, planned, monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(UsageError) as info:
        plot_plan(planned, tmp_path / "race.png")
    assert str(info.value) == "plotting needs matplotlib: pip install 'stridebeat[plot]'"
    assert info.value.exit_code == 2
    assert not (tmp_path / "race.png").exists()


# ------------------------------------------------------------------------------------------ looked at as a picture
def _colour(img: np.ndarray, rgb: tuple[int, int, int], tol: int = 10) -> np.ndarray:
    return np.all(np.abs(img[..., :3] * 255 - rgb) < tol, axis=-1)


GREEN, RED, REFERENCE = rgb_of(STEP_COLOR), rgb_of(CADENCE_COLOR), rgb_of(REFERENCE_COLOR)


@needs_matplotlib
@pytest.mark.parametrize("time", ["51", "45", "58"])
def test_step_length_rises_through_the_first_steps(tmp_path, time):
    """The issue's glitch: step length drawn near 1.9 m at the start, dropping to 1.1 m, then rising. Read off the
    picture: the top of the green curve, column by column, must climb (never fall by more than a pixel) through the
    first 20 m."""
    planned = prepare({"time": time}).reps[0].planned
    plot_plan(planned, tmp_path / "race.png")
    green = _colour(mpimg.imread(tmp_path / "race.png"), GREEN)
    cols = np.flatnonzero(green.any(axis=0))
    x0, x1 = cols.min(), cols.max()  # the curve spans the axis: 0 m to the finish
    top = [int(np.flatnonzero(green[:, c]).min()) for c in range(x0, x0 + int(20 / 400 * (x1 - x0)))]
    assert np.all(np.diff(top) <= 1), top


@needs_matplotlib
def test_cadence_axis_shows_its_variation(tmp_path, planned):
    """Peak to held cadence is ~6 spm of ~230: on an axis from 0 it was a few pixels; now it takes a good part of
    the panel."""
    plot_plan(planned, tmp_path / "race.png")
    red = _colour(mpimg.imread(tmp_path / "race.png"), RED)
    rows = np.flatnonzero(red.any(axis=1))
    cols = np.flatnonzero(red.any(axis=0))
    peak_row = rows.min()
    held_row = int(np.median(np.flatnonzero(red[:, cols.max() - 5])))
    spm_per_px = (planned.cadence.peak_cadence * 60.0 - planned.held_cadence_spm) / (held_row - peak_row)
    assert held_row - peak_row >= 20
    assert spm_per_px < 0.5


@needs_matplotlib
def test_reference_race_is_drawn_beside_the_plan(tmp_path, planned):
    from stridebeat.core.races import get_race

    plot_plan(planned, tmp_path / "plain.png")
    plot_plan(planned, tmp_path / "like.png", reference=get_race("hall-2024"))
    plain = _colour(mpimg.imread(tmp_path / "plain.png"), REFERENCE, tol=6).sum()
    like = _colour(mpimg.imread(tmp_path / "like.png"), REFERENCE, tol=6).sum()
    assert like > plain + 300  # the dashed dark grey curve (the plain plot has only a few such pixels, in text)


def test_plan_plot_with_like_and_compare(run_cli, tmp_path):
    if mpimg is None:
        pytest.skip("matplotlib is not installed")
    for args in (["--like", "hall-2024"], ["--compare", "hall-2024"]):
        path = tmp_path / f"{args[0][2:]}.png"
        res = run_cli("plan", "--time", "51", *args, "--plot", str(path))
        assert res.code == 0, res.err
        assert path.stat().st_size > 10_000
