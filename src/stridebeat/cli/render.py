"""`stridebeat plan` and `stridebeat render`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from stridebeat.cli import cli, is_terminal
from stridebeat.cli.options import SettingsCommand, job_for, preset_argument

if TYPE_CHECKING:
    from stridebeat.core.races import Race
    from stridebeat.core.session import Job

PROGRESS_MIN_S = 120.0  # show a progress bar for tracks longer than this, on a terminal
# The music options that decide where the songs' beats land: plan reports it (render's other music options, such as
# --clicks, change only the sound).
PLAN_MUSIC_KEYS = ("music", "music_every", "music_bpm", "music_offset", "music_in_rest")


@cli.command("plan", cls=SettingsCommand, settings=("plan", "stride"), setting_keys=PLAN_MUSIC_KEYS)
@preset_argument
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON (shape in the README).")
@click.option("--csv", "as_csv", is_flag=True, help="Print a per-step timetable as CSV.")
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False),
    help="Also draw speed, cadence and step length against distance to a .png or .svg file "
    "(needs: pip install 'stridebeat[plot]').",
)
@click.option("-f", "--force", is_flag=True, help="Replace the --plot file if it exists.")
@click.option(
    "--compare",
    metavar="RACE",
    help="Print the plan beside a race of the library scaled to the plan's time, with the differences per split "
    "('stridebeat races' lists them).",
)
def plan_cmd(
    preset: str | None,
    as_json: bool,
    as_csv: bool,
    plot_path: str | None,
    force: bool,
    compare: str | None,
    **kwargs: Any,
) -> None:
    """Show the race plan: splits, speed, cadence and step length per 100 m (each rep's, for a session).

    PRESET: a preset name ('stridebeat preset list') or a .toml file; options given here override its values.

    \b
    Examples:
      stridebeat plan --time 51
      stridebeat plan --time 1:05.3 --distance 500 --start standing --strategy even
      stridebeat plan --splits 12.2,11.9,12.6,14.3 --steps-per-100m 45 --json
      stridebeat plan cadence-500-85 --reference-time 49.5
      stridebeat plan rhythm-3x500
      stridebeat plan --time 51 --plot race51.png
      stridebeat plan --time 51 --like van-niekerk-2016 --sex M
      stridebeat plan --time 51 --compare hall-2024
    """
    if as_json and as_csv:
        raise click.UsageError("give either --json or --csv, not both")
    if compare is not None and (as_json or as_csv):
        raise click.UsageError("--compare prints a table: leave out --json and --csv")
    reference = _reference(compare if compare is not None else kwargs.get("like"))
    plot = None
    if plot_path is not None:
        from stridebeat.api import Output, OutputKind, check_outputs

        plot = Output(OutputKind.PLOT, Path(plot_path))
        check_outputs([plot], force=force)  # a wrong extension or a missing matplotlib fails before any work
    job = job_for(preset, kwargs)
    if job.is_metronome:
        raise click.UsageError(f"{preset} is a plain metronome: there is no race plan to show; render or play it")
    if plot is not None:
        from stridebeat.api import render

        render(job, [plot], force=force, reference=reference)
        click.echo(f"wrote {plot_path}", err=True)  # stderr: --json and --csv keep stdout clean for programs
    click.echo(_plan_text(job, as_json=as_json, as_csv=as_csv, compare=reference if compare else None), nl=False)


def _reference(name: str | None) -> Race | None:
    """The library race of --compare or --like (one line with close names when it is unknown)."""
    if name is None:
        return None
    from stridebeat.core.races import get_race

    return get_race(name)


def _plan_text(job: Job, *, as_json: bool, as_csv: bool, compare: Race | None) -> str:
    """What plan prints: the JSON timeline, the per-step CSV, the comparison with a race, or the table."""
    from stridebeat.views import table, timeline

    if as_csv:
        return timeline.steps_csv(job)
    if compare is not None:
        from stridebeat.views.compare import compare_text

        return compare_text(job, compare)
    music = None
    if job.music is not None:  # the songs' tempo and where their beats land, as render maps them (nothing stretched)
        from stridebeat.music.job import plan_music

        music = plan_music(job)
    if as_json:
        return timeline.to_json(timeline.timeline(job, music=music))
    from stridebeat.views.music import report_lines

    return table.plan_text(job) + "".join(f"{line}\n" for line in report_lines(music))


@cli.command("render", cls=SettingsCommand, settings=("plan", "stride", "metronome", "sound", "voice"))
@preset_argument
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    required=True,
    help="File to write, by extension: .wav (16-bit PCM), .flac, .ogg or .mp3 audio, or .fit, a watch workout.",
)
@click.option("-f", "--force", is_flag=True, help="Replace the output file if it exists.")
@click.option(
    "--timeline",
    type=click.Path(dir_okay=False),
    help="Also write the plan as JSON, with gun_offset_s: the gun's position in the audio file.",
)
@click.option(
    "--labels",
    type=click.Path(dir_okay=False),
    help="Also write the markers (gun, splits, hold, finish, reps, rests) as an Audacity label track (.txt).",
)
@click.option(
    "--markers/--no-markers",
    default=True,
    help="Put the same markers in the audio: cue points in a .wav file (audio editors show them), chapters in "
    ".mp3, .flac and .ogg (phone players show them).  [default: on]",
)
def render_cmd(
    preset: str | None, output: str, force: bool, timeline: str | None, labels: str | None, markers: bool, **kwargs: Any
) -> None:
    """Render a click track of a race plan, a whole session, or a plain metronome, to an audio file.

    PRESET: a preset name ('stridebeat preset list') or a .toml file; options given here override its values.

    \b
    Examples:
      stridebeat render --time 51 -o race51.wav
      stridebeat render --time 48.5 --steps-per-100m 44 --pan --accent 2 -o race.flac
      stridebeat render --cadence 190 --duration 20m -o drills.wav
      stridebeat render rhythm-3x500 --steps-per-100m 46 -o session.wav
      stridebeat render rhythm-3x500 -o session.fit
    """
    from stridebeat.api import Output, OutputKind, check_outputs, render
    from stridebeat.views import report

    main = Output.of(output, among=(OutputKind.AUDIO, OutputKind.FIT))
    outputs = [main]
    outputs += [Output(OutputKind.TIMELINE, Path(timeline))] if timeline is not None else []
    outputs += [Output(OutputKind.LABELS, Path(labels))] if labels is not None else []
    # Settle every output before any work: a wrong extension or an existing file should not cost a render.
    check_outputs(outputs, force=True)  # everything but existence first: a bad name must not reach the prompt
    taken = [str(o.path) for o in outputs if o.path.exists()]
    if taken and not force and is_terminal(sys.stdin):
        force = click.confirm(f"{', '.join(taken)} exist{'s' if len(taken) == 1 else ''}. Replace?", err=True)
        if not force:
            raise click.ClickException(f"{', '.join(taken)} left as {'it was' if len(taken) == 1 else 'they were'}")
    check_outputs(outputs, force=force)

    job = job_for(preset, kwargs)
    if is_terminal(sys.stderr) and main.kind is OutputKind.AUDIO and job.duration_s > PROGRESS_MIN_S:
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task(f"rendering {main.path.name}", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            rendered = render(job, outputs, force=force, markers=markers, progress=progress)
    else:
        rendered = render(job, outputs, force=force, markers=markers)
    if rendered.track is None:
        click.echo(f"wrote {output}: a watch workout")
    elif is_terminal(sys.stdout):
        click.echo("\n".join(report.summary_after_render(rendered.track, job, output, rendered.music)))
    else:
        click.echo(report.render_line(rendered.track, job, output, rendered.music))
