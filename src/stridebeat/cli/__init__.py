"""The command line: parses, calls the core, and maps the core's one error base to exit codes.

Heavy modules (numpy, soundfile, sounddevice) are imported inside the commands, so ``stridebeat --help`` stays fast.
"""

from __future__ import annotations

import sys

import click

from stridebeat import __version__
from stridebeat.errors import StridebeatError

CONTEXT = dict(help_option_names=["-h", "--help"], max_content_width=110)


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="stridebeat")
def cli() -> None:
    """Cadence click tracks for 400 m runners: a click on every footstrike, split calls, the tempo held to the line.

    \b
    Examples:
      stridebeat plan --time 51                  the race plan, per 100 m
      stridebeat render --time 51 -o race51.wav  a headphone track of it
      stridebeat render --cadence 190 --duration 20m -o drills.wav
    """


def _register() -> None:
    from stridebeat.cli import render as _render  # noqa: F401  (commands register themselves on ``cli``)

    for name in ("live", "preset"):  # shells that may not be present in every build of the package
        try:
            __import__(f"stridebeat.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"stridebeat.cli.{name}":
                raise


_register()


def _fail(message: str, code: int) -> int:
    click.echo(f"Error: {message}", err=True)
    return code


def main(argv: list[str] | None = None) -> None:
    """Entry point: every failure becomes one line on stderr and an exit code (2 usage, 1 other), never a traceback."""
    try:
        code = cli.main(args=argv, prog_name="stridebeat", standalone_mode=False)
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        code = _fail(exc.format_message().rstrip(".") + hint, 2)
    except click.ClickException as exc:
        code = _fail(exc.format_message(), exc.exit_code)
    except StridebeatError as exc:
        code = _fail(str(exc), exc.exit_code)
    except (click.Abort, KeyboardInterrupt):
        click.echo("Interrupted.", err=True)
        code = 130
    except BrokenPipeError:
        # `stridebeat plan --csv | head`: the reader left; not an error worth a message.
        sys.stderr.close()
        code = 0
    sys.exit(code if isinstance(code, int) else 0)
