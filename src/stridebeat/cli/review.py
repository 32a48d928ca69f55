"""`stridebeat review`: a recorded rep held against its plan, per 100 m, with the verdict on the hold."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from stridebeat.cli import cli
from stridebeat.cli.options import SettingsCommand, job_for, preset_argument
from stridebeat.errors import UsageError

if TYPE_CHECKING:
    from stridebeat.activity import Activity, StrideFit
    from stridebeat.activity.review import Review

CLOCK_RE = re.compile(r"^\d{1,2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$")


@cli.command("review", cls=SettingsCommand, settings=("plan", "stride"))
@click.argument("run", metavar="RUN", type=click.Path(dir_okay=False))
@preset_argument
@click.option(
    "--from",
    "rep_from",
    metavar="TIME",
    help="The rep's start by hand: a time of day (17:03:10, UTC unless it "
    "carries an offset, e.g. 19:03:10+02:00) or the time since the recording began (3:10 or 190).",
)
@click.option("--to", "rep_to", metavar="TIME", help="The rep's end by hand, as --from (the rep ends at its distance).")
@click.option(
    "--threshold",
    type=float,
    default=3.0,
    show_default=True,
    metavar="SPM",
    help="How far the hold's cadence may be from the plan's and still be held (the watch workout's band).",
)
@click.option(
    "--cadence-unit",
    type=click.Choice(["auto", "strides", "steps"]),
    default="auto",
    show_default=True,
    help="What the file's cadence counts (see 'stridebeat calibrate --help').",
)
@click.option("--json", "as_json", is_flag=True, help="Print the review as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print one row per 100 m segment as CSV.")
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False),
    help="Draw plan against actual speed and cadence over distance to a .png or .svg file.",
)
@click.option(
    "--splits-out",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Write the rep's actual splits as a CSV that --splits-from reads.",
)
@click.option(
    "--rep",
    "rep_number",
    type=click.IntRange(min=1),
    metavar="N",
    help="The rep of a session whose splits --splits-out writes.",
)
@click.option(
    "--save-profile",
    metavar="NAME",
    help="Add the reps' speed and cadence to your stride profile NAME (refitted), or start it.",
)
@click.option("-f", "--force", is_flag=True, help="Replace the --plot and --splits-out files if they exist.")
def review_cmd(
    run: str,
    preset: str | None,
    rep_from: str | None,
    rep_to: str | None,
    threshold: float,
    cadence_unit: str,
    as_json: bool,
    as_csv: bool,
    plot_path: str | None,
    splits_out: str | None,
    rep_number: int | None,
    save_profile: str | None,
    force: bool,
    **kwargs: Any,
) -> None:
    """Hold a recorded rep against its plan: splits, cadence and step length per 100 m, and whether you held the
    rhythm through the hold.

    RUN: the .fit, .tcx or .gpx file of the session, from a watch that records cadence. The plan is given as for
    'stridebeat plan' (options or a PRESET). Each rep is found from the watch's laps (press lap at the start and
    finish), else as the fastest stretch of the plan's distance; --from and --to give it by hand (--start is the
    plan's start: blocks, standing or rolling).

    \b
    Examples:
      stridebeat review tuesday.fit --time 51
      stridebeat review tuesday.fit rhythm-3x500 --json
      stridebeat review tuesday.gpx --time 51 --from 17:03:10 --plot tuesday.png
      stridebeat review tuesday.fit --time 51 --splits-out tuesday.csv --save-profile me
      stridebeat plan --splits-from tuesday.csv
    """
    if as_json and as_csv:
        raise click.UsageError("give either --json or --csv, not both")
    targets = _check_outputs(plot_path, splits_out, save_profile, force=force)
    result = _review(run, preset, kwargs, (rep_from, rep_to), threshold=threshold, unit=cadence_unit)
    chosen = _chosen_rep(result, rep_number) if splits_out is not None else None
    fit = _profile_fit(result, save_profile) if save_profile is not None else None
    writers = _writers(result, plot_path, splits_out, chosen)
    if writers:
        from stridebeat.api import publish

        publish(writers, force=force, checked=bool(targets))
    _print(result, as_json=as_json, as_csv=as_csv)
    for path, _ in writers:
        click.echo(f"wrote {path}", err=True)
    if fit is not None and save_profile is not None:
        from stridebeat.config.strides import save_profile as save

        saved = save(save_profile, fit, force=True)
        click.echo(f"stride profile {save_profile!r} ({saved}): {fit.summary()}", err=True)


def _review(
    run: str,
    preset: str | None,
    kwargs: dict[str, Any],
    window: tuple[str | None, str | None],
    *,
    threshold: float,
    unit: str,
) -> Review:
    """The plan (as ``plan`` builds it), the run decoded once, and the review of one against the other."""
    job = job_for(preset, kwargs)
    plans = [rep.planned for rep in job.reps if rep.planned is not None]
    if not plans:
        raise UsageError("a plain metronome has no plan to review against: give --time, --splits or a rep preset")
    from stridebeat.activity import read_activity
    from stridebeat.activity.review import review

    activity = read_activity(run)
    rep_from, rep_to = window
    return review(
        activity,
        plans,
        start_s=None if rep_from is None else moment(rep_from, activity, what="--from"),
        end_s=None if rep_to is None else moment(rep_to, activity, what="--to"),
        threshold_spm=threshold,
        unit=unit,
    )


def _check_outputs(plot: str | None, splits: str | None, profile: str | None, *, force: bool) -> bool:
    """Every output checked before the run is read: the plot's kind, the targets, the profile's name."""
    if plot is not None:
        from stridebeat.views.plot import check_plot_path

        check_plot_path(plot)
    if profile is not None:
        from stridebeat.config.strides import check_profile_name

        check_profile_name(profile)
    paths = [p for p in (plot, splits) if p is not None]
    if paths:
        from stridebeat.atomic import check_targets

        check_targets(paths, force=force)
    return bool(paths)


def _chosen_rep(result: Review, number: int | None) -> int:
    if number is None:
        if len(result.reps) > 1:
            raise UsageError(f"--splits-out writes one rep's splits: give --rep 1 to {len(result.reps)}")
        return 0
    if number > len(result.reps):
        raise UsageError(f"--rep {number}: the plan has {len(result.reps)} rep(s): give 1 to {len(result.reps)}")
    return number - 1


def _profile_fit(result: Review, name: str) -> StrideFit:
    """The profile ``name`` refitted with the reps' points (or fitted from them alone when it is new)."""
    from stridebeat.activity import refit
    from stridebeat.activity.review import profile_points
    from stridebeat.config.strides import list_profiles, load_profile

    previous = load_profile(name) if name in list_profiles() else None
    speed, cadence = profile_points(result)
    return refit(previous, speed, cadence, source=result.source)


def _writers(
    result: Review, plot: str | None, splits: str | None, chosen: int | None
) -> list[tuple[str, Callable[[Path], None]]]:
    writers: list[tuple[str, Callable[[Path], None]]] = []
    if plot is not None:
        from stridebeat.views.review_plot import write_plot

        fmt = Path(plot).suffix.lower()[1:]
        writers.append((plot, lambda tmp: write_plot(result, tmp, fmt=fmt)))
    if splits is not None and chosen is not None:
        from stridebeat.views.review import splits_csv

        text = splits_csv(result.reps[chosen])

        def write_splits(tmp: Path) -> None:
            tmp.write_text(text, encoding="utf-8")

        writers.append((splits, write_splits))
    return writers


def _print(result: Review, *, as_json: bool, as_csv: bool) -> None:
    from stridebeat.views.review import review_csv, review_json, review_text

    text = review_json(result) if as_json else review_csv(result) if as_csv else review_text(result)
    click.echo(text, nl=False)


def moment(text: str, activity: Activity, *, what: str) -> float:
    """``--from``/``--to`` as seconds from the first record: a time of day (UTC unless it carries an offset, on the
    recording's day) or the time since the recording began.

    Raises
    ------
    UsageError
        Neither form.
    """
    from stridebeat.config.units import parse_time

    text = text.strip()
    if CLOCK_RE.match(text) or "T" in text:
        try:
            when = datetime.fromisoformat(text if "T" in text else f"{activity.start.date().isoformat()}T{text}")
        except ValueError:
            raise UsageError(f"{what} {text}: not a time of day: write e.g. 17:03:10 or 3:10") from None
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when
        return (when - activity.start).total_seconds()
    seconds = parse_time(text, what=what)
    if not math.isfinite(seconds) or seconds > 7 * 86400:
        raise UsageError(f"{what} {text}: longer than a week: give the time since the recording began")
    return seconds
