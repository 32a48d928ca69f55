"""`stridebeat preset list|show|save|delete|path`: presets kept by name, built in or the user's own."""

from __future__ import annotations

import io
import re
import shutil
import sys

import click

from stridebeat.cli import cli, is_terminal
from stridebeat.cli.options import GROUPS, SettingsCommand, gather

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@cli.group("preset")
def preset_group() -> None:
    """Presets: a rep or a whole session saved once, used by name with plan, render and live.

    Built-in presets ship with stridebeat; your own live in your configuration folder ('stridebeat preset path';
    the STRIDEBEAT_PRESETS_DIR environment variable moves it). A preset of yours with a built-in's name replaces it.
    Options typed on the command line override a preset's values.

    \b
    Intensity: --intensity 85% --reference-time 51.0 runs at 85 % of the speed of a 51.0 s 400 m:
    500 m then take 500 / (400 / 51.0 × 0.85) = 75.0 s.

    \b
    Examples:
      stridebeat preset list
      stridebeat plan cadence-500-85 --reference-time 49.5
      stridebeat render rhythm-3x500 -o session.wav
    """


@preset_group.command("list")
def list_cmd() -> None:
    """List built-in and user presets, one line each; a broken user preset is listed with the reason.

    \b
    Example:
      stridebeat preset list
    """
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from stridebeat.config import presets
    from stridebeat.views.table import preset_summary

    rows: list[tuple[str, str, str, str]] = []
    for entry in presets.entries():
        where = "built-in" if entry.builtin else "user"
        if entry.shadowed:
            where += " (shadowed by user)" if entry.builtin else " (shadows built-in)"
        if entry.preset is None:
            rows.append((entry.name, "broken", where, entry.error or ""))
            continue
        try:
            brief = preset_summary(entry.preset)
        except (ValueError, TypeError) as exc:  # UsageError: plans that load but cannot be run are broken too
            rows.append((entry.name, "broken", where, str(exc)))
            continue
        first_line = entry.preset.description.strip().split("\n")[0]
        text = f"{brief} — {first_line}" if first_line else brief
        rows.append((entry.name, entry.preset.kind, where, text))
    # On a terminal only the summary gives way (cut at the terminal's width); piped, every line is whole.
    terminal = is_terminal(sys.stdout)
    table = Table(box=None, pad_edge=False, show_edge=False, expand=terminal)
    for i, name in enumerate(("name", "kind", "where")):
        table.add_column(name, no_wrap=True, min_width=max(len(name), *(len(_CONTROL.sub("", r[i])) for r in rows)))
    table.add_column("summary", no_wrap=True, overflow="ellipsis", ratio=1, min_width=10)
    for row in rows:
        # Text from files is shown as text: no markup ("[/b]"), no escape sequences reaching the terminal.
        table.add_row(*(escape(_CONTROL.sub("", cell)) for cell in row))
    width = shutil.get_terminal_size().columns if terminal else 10_000
    out = io.StringIO()
    Console(file=out, width=width, color_system=None, highlight=False).print(table)
    click.echo("\n".join(line.rstrip() for line in out.getvalue().splitlines()))


@preset_group.command("show")
@click.argument("name")
def show_cmd(name: str) -> None:
    """Show a preset: its TOML file and the plan it makes.

    \b
    Example:
      stridebeat preset show cadence-500-85
    """
    from stridebeat.config import presets
    from stridebeat.views.table import plan_text, preset_job, values_summary

    preset = presets.load(name)
    where = "built-in" if preset.builtin else "user"
    click.echo(f"# {preset.path} ({where})")
    click.echo(preset.text.rstrip("\n"))
    click.echo("")
    job = preset_job(preset)
    click.echo(f"{values_summary(preset.values, job.reps[0])}\n" if job.is_metronome else plan_text(job), nl=False)


@preset_group.command("save", cls=SettingsCommand, settings=GROUPS)
@click.argument("name")
@click.option("--from", "base", metavar="PRESET", help="Start from this rep preset; the options given change it.")
@click.option("-d", "--description", help="What the preset trains (default: a summary of the plan).")
@click.option("-f", "--force", is_flag=True, help="Replace a user preset of that name.")
def save_cmd(name: str, base: str | None, description: str | None, force: bool, **kwargs) -> None:
    """Save the given plan options as your preset NAME (refuses to replace one without --force).

    NAME: letters, digits, '-', '_' and '.', up to 64 characters.

    \b
    Examples:
      stridebeat preset save my-500 --distance 500 --intensity 85% --reference-time 49.8 --start standing
      stridebeat preset save my-race --from race-51 --time 49.5 --steps-per-100m 46
    """
    from stridebeat.api import build_job, save_preset
    from stridebeat.config import presets
    from stridebeat.errors import UsageError
    from stridebeat.views.table import values_summary

    presets.check_name(name)
    values = gather(base, kwargs)
    if not values:
        raise UsageError("nothing to save: give plan options (e.g. --distance 500 --time 1:15) or --from PRESET")
    brief = description or values_summary(values, build_job(open_ended=True, **values).reps[0])
    path = save_preset(name, description=brief, force=force, **values)
    click.echo(f"saved {name}: {path}")
    if (presets.builtin_dir() / path.name).is_file():
        click.echo(f"note: it replaces the built-in {name}; 'stridebeat preset delete {name}' brings that back")


@preset_group.command("delete")
@click.argument("name")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation on a terminal.")
def delete_cmd(name: str, yes: bool) -> None:
    """Delete your preset NAME (built-in presets stay).

    \b
    Example:
      stridebeat preset delete my-500
    """
    from stridebeat.config import presets

    presets.check_name(name)
    if not yes and is_terminal(sys.stdin) and not _confirm(f"Delete your preset {name}?"):
        raise click.ClickException(f"{name} left as it was")
    path = presets.delete(name)
    click.echo(f"deleted {path}")


def _confirm(question: str) -> bool:
    """A yes at the prompt; end of input is no answer, said as such (not as an interrupt)."""
    try:
        return click.confirm(question, default=False, err=True)
    except click.Abort as exc:
        if isinstance(exc.__context__, EOFError):
            raise click.ClickException(
                "no answer at the prompt (end of input): pass --yes to delete without asking"
            ) from None
        raise


@preset_group.command("path")
@click.argument("name", required=False)
def path_cmd(name: str | None) -> None:
    """Print the folder of your presets, or the file a preset NAME comes from.

    \b
    Examples:
      stridebeat preset path
      stridebeat preset path race-51
    """
    from stridebeat.config import presets

    click.echo(presets.locate(name)[0] if name else presets.user_dir())
