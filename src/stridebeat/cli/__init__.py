"""The command line: parses, calls the core, and maps the core's one error base to exit codes.

Start-up is part of every command's time (a render is measured against sox), so: heavy modules (numpy, soundfile,
sounddevice) are imported inside the commands, a command's module is imported only when that command runs
(``_LazyGroup``), and the interpreter's last garbage collections are skipped at exit (``_skip_final_collections``).
"""

from __future__ import annotations

import atexit
import gc
import importlib
import os
import sys

import click

from stridebeat import __version__
from stridebeat.errors import StridebeatError

CONTEXT = dict(help_option_names=["-h", "--help"], max_content_width=110)


# Where each command is defined; its module registers it on ``cli`` when imported.
COMMAND_MODULES = {
    "plan": "stridebeat.cli.render",
    "render": "stridebeat.cli.render",
    "live": "stridebeat.cli.live",
    "devices": "stridebeat.cli.live",
    "preset": "stridebeat.cli.preset",
}


class _LazyGroup(click.Group):
    """A group that imports a command's module on first use (click's documented pattern for lazy subcommands):
    ``stridebeat render`` does not pay for the live player's or the preset manager's imports."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(COMMAND_MODULES))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(cmd_name)
        if cmd_name not in self.commands and module is not None:
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as exc:  # a shell left out of a build of the package: the command is absent
                if exc.name != module:
                    raise
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGroup, context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="stridebeat")
def cli() -> None:
    """Cadence click tracks for 400 m runners: a click on every footstrike, split calls, the tempo held to the line.

    \b
    Examples:
      stridebeat plan --time 51                  the race plan, per 100 m
      stridebeat render --time 51 -o race51.wav  a headphone track of it
      stridebeat render --cadence 190 --duration 20m -o drills.wav
    """


def _skip_final_collections() -> None:
    # Runs at exit, after the command. The interpreter's final garbage collections walk every object numpy and click
    # created only to free memory the exit frees anyway: 36–52 ms of a ~330 ms render on a two-core machine, about
    # 10 ms frozen. Frozen objects are skipped by those passes; they are still released by reference count.
    gc.freeze()


atexit.register(_skip_final_collections)


def _fail(message: str, code: int) -> int:
    click.echo(f"Error: {message}", err=True)
    return code


def main(argv: list[str] | None = None) -> None:
    """Entry point: every failure becomes one line on stderr and an exit code (2 usage, 1 other), never a traceback."""
    # No command multiplies matrices, and OpenBLAS would otherwise start a thread per core on numpy's import that
    # spins for a while (measured: a third of the CPU time of `import numpy` on two cores). A user's setting wins.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
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
