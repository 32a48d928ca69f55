"""The command line: parses, calls the core, and maps the core's one error base to exit codes.

Start-up is part of every command's time (a render is measured against sox), so: heavy modules (numpy, soundfile,
sounddevice) are imported inside the commands, a command's module is imported only when that command runs
(``_LazyGroup``), the cyclic garbage collector is off while a command runs (``_run``), and the console script ends
the process without the interpreter's teardown (``run``).
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from typing import NoReturn

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


class _Command(click.Command):
    """A command whose short options (``-o``, ``-f``) are found without a detour.

    click's parser first looks every option up as a long one; for a short one that lookup fails and builds a "no such
    option" error with close-match suggestions, which imports difflib (about 2.5 ms of a render's start-up), before
    the short-option lookup finds it. Listing the short options among the long ones finds them at once. Clustered
    flags (``-fo x.wav``) still go the usual way; if click's parser ever changes shape, nothing is added and parsing
    is click's own.
    """

    def make_parser(self, ctx: click.Context):
        parser = super().make_parser(ctx)
        short, long = getattr(parser, "_short_opt", None), getattr(parser, "_long_opt", None)
        if isinstance(short, dict) and isinstance(long, dict):
            for name, option in short.items():
                long.setdefault(name, option)
        return parser


class _Group(click.Group):
    command_class = _Command


class _LazyGroup(click.Group):
    """A group that imports a command's module on first use (click's documented pattern for lazy subcommands):
    ``stridebeat render`` does not pay for the live player's or the preset manager's imports."""

    command_class = _Command
    group_class = _Group

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


def _fail(message: str, code: int) -> int:
    click.echo(f"Error: {message}", err=True)
    return code


def main(argv: list[str] | None = None) -> NoReturn:
    """Run one command in this process (for callers such as the tests) and ``sys.exit`` with its code."""
    sys.exit(_run(argv))


def run() -> NoReturn:
    """The console script and ``python -m stridebeat``: run the command named on the command line, then end the
    process at once."""
    code = _run(None)
    # Left to itself, the interpreter would now free, object by object, all that numpy, click and the command built:
    # memory the end of the process frees at once, 9–12 ms of a ~260 ms render (measured, final collections already
    # skipped). Every command has closed its files; what is buffered for the terminal is flushed, then the process
    # ends (the practice Instagram described for its servers: atexit.register(os._exit, 0)).
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # the reader of a pipe left, or the stream was closed: nothing to deliver
            pass
    os._exit(code)


def _run(argv: list[str] | None) -> int:
    """The command's exit code: every failure becomes one line on stderr and a code (2 usage, 1 other), never a
    traceback."""
    # No command multiplies matrices, and OpenBLAS would otherwise start a thread per core on numpy's import that
    # spins for a while (measured: a third of the CPU time of `import numpy` on two cores). A user's setting wins.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # A command is short and frees what it allocates by reference count; the cyclic collector's passes over numpy's
    # and our modules' ever more objects (while they are imported) find nothing to free and took about 20 ms of a
    # ~320 ms render (measured). It is off while a command runs; `live`, which may play for hours, turns it back on.
    collecting = gc.isenabled()
    gc.disable()
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
    except SystemExit as exc:
        # click's own way out when the reader of the output left (`stridebeat plan --csv | head`): 1, no message.
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    finally:
        if collecting:  # as it was, for a caller in the same process
            gc.enable()
    return code if isinstance(code, int) else 0
