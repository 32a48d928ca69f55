"""`stridebeat calibrate`: a runner's step-length law from a recorded run, printed and saved by name."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import click

from stridebeat.cli import cli
from stridebeat.config.units import parse_time
from stridebeat.errors import UsageError

if TYPE_CHECKING:
    from stridebeat.activity import StrideFit

DEFAULT_RACE_M = 400.0
DISTANCE_RANGE_M = (50.0, 10_000.0)
# Race paces --time may give: a walk to beyond the fastest sprint ever run; checked before any arithmetic.
PACE_RANGE_MPS = (1.0, 12.5)


def _distance(ctx: click.Context, param: click.Parameter, value: float) -> float:
    lo, hi = DISTANCE_RANGE_M
    # FloatRange lets NaN through (every comparison with it is false).
    if not (math.isfinite(value) and lo <= value <= hi):
        raise click.BadParameter(f"{value:g} is not a distance from {lo:g} to {hi:g} m", ctx=ctx, param=param)
    return value


def race_pace(race_time: str, distance_m: float) -> float:
    """The average speed of ``race_time`` over ``distance_m``, checked to be a runner's before any arithmetic.

    Raises
    ------
    UsageError
        A time that is not a time, or one no runner runs the distance in.
    """
    seconds = parse_time(race_time, what="--time")
    lo, hi = PACE_RANGE_MPS
    fastest, slowest = distance_m / hi, distance_m / lo
    if not (math.isfinite(seconds) and fastest <= seconds <= slowest):
        raise UsageError(
            f"--time {race_time} is not a race time for {distance_m:g} m: give {fastest:.1f} to {slowest:.0f} s",
            key="time",
        )
    return distance_m / seconds


@cli.command("calibrate")
@click.argument("run", metavar="RUN", type=click.Path(dir_okay=False))
@click.option(
    "--time",
    "race_time",
    metavar="TIME",
    help="Your race time, e.g. 51 or 1:05.3, to show the steps per 100 m you would count at race pace.",
)
@click.option(
    "--distance",
    type=float,
    callback=_distance,
    default=DEFAULT_RACE_M,
    metavar="M",
    show_default=True,
    help="The race distance of --time, in metres.",
)
@click.option("--save", "save_name", metavar="NAME", help="Save the fit as the stride profile NAME, for --stride NAME.")
@click.option("-f", "--force", is_flag=True, help="Replace the --save profile if it exists.")
@click.option(
    "--cadence-unit",
    type=click.Choice(["auto", "strides", "steps"]),
    default="auto",
    show_default=True,
    help="What the file's cadence counts: auto reads FIT and TCX as strides, and GPX by its values "
    "(some apps write steps); force it if the fit says the steps are half or double.",
)
def calibrate_cmd(
    run: str, race_time: str | None, distance: float, save_name: str | None, force: bool, cadence_unit: str
) -> None:
    """Fit your step length to your speed from a recorded run, and save it for planning.

    RUN: a .fit, .tcx or .gpx file from a watch or foot pod that records cadence. Use a session with running at
    several speeds (strides, a progression, intervals): the fit needs at least 1 m/s between slow and fast, and it
    leaves out standing, walking and jogging below 3 m/s.

    It prints the law L = a · (v / 8 m/s)^b, how well it fits (samples used, their speeds, the residual), and the
    step length, cadence and steps per 100 m at a few speeds; with --time, the --steps-per-100m you would count at
    race pace.

    \b
    Examples:
      stridebeat calibrate last-week.fit
      stridebeat calibrate last-week.fit --time 51
      stridebeat calibrate last-week.fit --time 51 --save me
      stridebeat calibrate strava-export.gpx --cadence-unit steps
      stridebeat plan --time 51 --stride me
    """
    # Inside the command, as every command's engine: --help lists the commands without loading numpy.
    from stridebeat.activity import fit_stride, read_run
    from stridebeat.config.strides import check_new, save_profile

    if save_name is not None:
        check_new(save_name, force=force)  # a taken or bad name fails before the run is read, not after
    pace = None if race_time is None else race_pace(race_time, distance)
    samples = read_run(run, cadence_unit=cadence_unit)
    fit = fit_stride(samples)
    for line in report_lines(fit, race_pace_mps=pace, distance_m=distance):
        click.echo(line)
    if save_name is not None:
        path = save_profile(save_name, fit, force=force)
        click.echo("")
        click.echo(f"Saved stride profile {save_name!r} to {path}.")
        race = f"--time {race_time}" + (f" --distance {distance:g}" if distance != DEFAULT_RACE_M else "")
        example = f"stridebeat plan {race if race_time else '--time 51'} --stride {save_name}"
        click.echo(f"Use it with --stride {save_name}, e.g.: {example}")


def report_lines(
    fit: StrideFit, *, race_pace_mps: float | None = None, distance_m: float = DEFAULT_RACE_M
) -> list[str]:
    """What calibrate prints: the law, its quality, a table by speed and the count at race pace."""
    source = f" from {fit.source}" if fit.source else ""
    lines = [
        f"Stride fit{source}: L = {fit.a_m:.3f} m × (v / {fit.ref_speed_mps:g} m/s)^{fit.b:.3f}",
        f"  samples used  {fit.points} (running at 3 m/s or faster, with cadence)",
        f"  speed range   {fit.speed_min_mps:.2f}-{fit.speed_max_mps:.2f} m/s",
        f"  residual      {fit.rms_m * 100:.1f} cm RMS ({fit.rms_pct:.1f} %)",
        "",
        f"  {'speed':>9}  {f'{distance_m:g} m in':>10}  {'step':>6}  {'cadence':>9}  {'steps/100 m':>11}",
    ]
    for v in table_speeds(fit):
        lines.append(_row(fit, v, distance_m))
    if race_pace_mps is None:
        lines += ["", "Give your race time (--time 51) for the steps per 100 m you would count at race pace."]
        return lines
    lines += [
        "",
        f"At race pace ({distance_m:g} m in {_clock(distance_m / race_pace_mps)}):",
        _row(fit, race_pace_mps, distance_m),
    ]
    steps = 100.0 / fit.step_length_at(race_pace_mps)
    lines.append(f"Count for plans: --steps-per-100m {steps:.1f}")
    if not fit.speed_min_mps <= race_pace_mps <= fit.speed_max_mps:
        lines.append(
            f"Note: race pace {race_pace_mps:.2f} m/s is outside this run's {fit.speed_min_mps:.2f}-"
            f"{fit.speed_max_mps:.2f} m/s, so the fit is extrapolated: calibrate with a run that reaches race pace."
        )
    return lines


def table_speeds(fit: StrideFit) -> list[float]:
    """Round speeds across the fitted range: whole m/s, or finer when the range is narrow (at least three rows)."""
    lo, hi = fit.speed_min_mps, fit.speed_max_mps
    for step in (1.0, 0.5, 0.25):
        speeds = [k * step for k in range(math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9) + 1)]
        if len(speeds) >= 3:
            return speeds
    return [lo, (lo + hi) / 2.0, hi]


def _row(fit: StrideFit, v: float, distance_m: float) -> str:
    length = fit.step_length_at(v)
    return (
        f"  {v:5.2f} m/s  {_clock(distance_m / v):>10}  {length:4.2f} m  {fit.cadence_at(v):5.1f} spm"
        f"  {100.0 / length:11.1f}"
    )


def _clock(seconds: float) -> str:
    """``51.04`` → ``51.0``, ``100`` → ``1:40.0``: a race time as runners read it, to the tenth."""
    minutes, tenths = divmod(round(seconds * 10), 600)
    return f"{minutes}:{tenths / 10:04.1f}" if minutes else f"{tenths / 10:.1f}"
