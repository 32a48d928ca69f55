"""`stridebeat plan` and `stridebeat render`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from stridebeat.cli import cli
from stridebeat.cli.options import given, settings_options

PROGRESS_MIN_S = 120.0  # show a progress bar for tracks longer than this, on a terminal


@cli.command("plan")
@settings_options("plan", "stride")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON (shape in the README).")
@click.option("--csv", "as_csv", is_flag=True, help="Print a per-step timetable as CSV.")
def plan_cmd(as_json: bool, as_csv: bool, **kwargs) -> None:
    """Show the race plan: splits, speed, cadence and step length per 100 m.

    \b
    Examples:
      stridebeat plan --time 51
      stridebeat plan --time 1:05.3 --distance 500 --start standing --strategy even
      stridebeat plan --splits 12.2,11.9,12.6,14.3 --steps-per-100m 45 --json
    """
    from stridebeat import views
    from stridebeat.job import prepare

    if as_json and as_csv:
        raise click.UsageError("give either --json or --csv, not both")
    job = prepare(given(kwargs))
    if as_json:
        click.echo(views.to_json(views.timeline(job.planned, job.schedule)), nl=False)
    elif as_csv:
        click.echo(views.steps_csv(job.planned), nl=False)
    else:
        click.echo(views.render_table(job.planned), nl=False)


@cli.command("render")
@settings_options("plan", "stride", "metronome", "sound")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="File to write; .wav (16-bit PCM), .flac, .ogg or .mp3 by extension.")
@click.option("-f", "--force", is_flag=True, help="Replace the output file if it exists.")
@click.option("--timeline", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the plan as JSON, with gun_offset_s: the gun's position in the audio file.")
def render_cmd(output: Path, force: bool, timeline: Path | None, **kwargs) -> None:
    """Render a click track of a race plan, or a plain metronome, to an audio file.

    \b
    Examples:
      stridebeat render --time 51 -o race51.wav
      stridebeat render --time 48.5 --steps-per-100m 44 --pan --accent 2 -o race.flac
      stridebeat render --cadence 190 --duration 20m -o drills.wav
    """
    from stridebeat import export, views
    from stridebeat.job import prepare

    # Settle the output before any work: a wrong extension or an existing file should not cost a render.
    export.format_for(output)
    if output.exists() and not force and sys.stdin.isatty():
        force = click.confirm(f"{output} exists. Replace it?", default=False, err=True)
        if not force:
            raise click.ClickException(f"{output} left as it was")
    export.check_target(output, force=force)
    if timeline is not None:
        export.check_target(timeline.with_suffix(".wav"), force=True)  # the folder must be writable

    job = prepare(given(kwargs))
    track = job.track()
    gun_offset = track.origin_frame / track.samplerate
    if sys.stderr.isatty() and track.duration_s > PROGRESS_MIN_S:
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task(f"rendering {output.name}", total=track.n_frames)
            export.export_track(track, output, force=force, progress=lambda done, total: bar.update(task, completed=done))
    else:
        export.export_track(track, output, force=force)
    if timeline is not None:
        text = views.to_json(views.timeline(job.planned, job.schedule, gun_offset_s=gun_offset))
        export.write_text_atomic(timeline, text)
    what = f"gun at {gun_offset:.2f} s, " if job.planned is not None else ""
    click.echo(f"wrote {output}: {track.duration_s:.1f} s, {what}{len(job.schedule.steps_s)} clicks, "
               f"{track.samplerate} Hz stereo")
