"""The command line: parses, calls the public API, and maps the package's one error base to exit codes.

A command's module is imported only when that command runs (click's documented lazy-group pattern), so ``--help`` and
one command do not pay for the others' imports.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import IO, NoReturn

import click

from stridebeat import __version__
from stridebeat.errors import StridebeatError, show_value

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110}

# Where each command is defined; its module registers it on ``cli`` when imported.
COMMAND_MODULES = {
    "plan": "stridebeat.cli.render",
    "render": "stridebeat.cli.render",
    "live": "stridebeat.cli.live",
    "devices": "stridebeat.cli.live",
    "preset": "stridebeat.cli.preset",
    "calibrate": "stridebeat.cli.calibrate",
    "races": "stridebeat.cli.races",
    "review": "stridebeat.cli.review",
    "serve": "stridebeat.cli.serve",
    "voice": "stridebeat.cli.voice",
}


class _LazyGroup(click.Group):
    """A group that imports a command's module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(COMMAND_MODULES))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(cmd_name)
        if cmd_name not in self.commands and module is not None:
            importlib.import_module(module)
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


def is_terminal(stream: IO[str] | None) -> bool:
    """Whether ``stream`` is an open terminal (a closed or missing stream is not)."""
    try:
        return stream is not None and stream.isatty()
    except (ValueError, OSError):
        return False


class Interrupted(BaseException):
    """An interrupt (SIGINT, SIGTERM, SIGHUP), raised where the program is, so every cleanup runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _interrupt(signum: int, frame: object) -> None:
    raise Interrupted(signum)


@contextlib.contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP end a command alike: its temporary files removed, one line, 128 + the signal."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    # A signal ignored by whoever started us (nohup, a background job) stays ignored.
    wanted = [sig for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP) if signal.getsignal(sig) != signal.SIG_IGN]
    saved = {sig: signal.signal(sig, _interrupt) for sig in wanted}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def _say(message: str) -> None:
    """One line on stderr, if there is a stderr to write to."""
    try:
        click.echo(message, err=True)
    except (OSError, ValueError):
        pass


NO_ANSWER = "nothing was replaced; pass --force to replace without asking"


def error_line(exc: StridebeatError) -> str:
    """The error's line in the command line's words: an error about a setting's value names its option and the
    value as typed (``--steps-per-100m 1000 is out of range: give 35 to 80``)."""
    if not exc.about_value:
        return str(exc)
    from stridebeat.config.settings import BY_KEY

    setting = BY_KEY.get(exc.key or "")
    if setting is None:
        return str(exc)
    value = exc.value
    items = value if isinstance(value, (tuple, list)) else (value,)  # a repeated option (--music a --music b)
    return exc.line(f"{setting.flag} {','.join(show_value(v, typed=True) for v in items)}")


def _fail(message: str, code: int) -> int:
    # One line, whatever a file name or a value holds: control characters are shown escaped, never sent.
    _say("Error: " + "".join(c if c.isprintable() else repr(c)[1:-1] for c in message))
    return code


def run(argv: list[str] | None = None) -> int:
    """Run one command and return its exit code: every failure becomes one line on stderr and a code (2 usage, 1
    other, 128 + the signal for an interrupt), never a traceback."""
    try:
        with _signals_interrupt():
            code = cli.main(args=argv, prog_name="stridebeat", standalone_mode=False)
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        code = _fail(exc.format_message().rstrip(".") + hint, 2)
    except click.ClickException as exc:
        code = _fail(exc.format_message(), exc.exit_code)
    except StridebeatError as exc:
        code = _fail(error_line(exc), exc.exit_code)
    except click.Abort as exc:
        if isinstance(exc.__context__, EOFError):  # click turns both Ctrl-C and end of input into Abort
            code = _fail(f"no answer at the prompt (end of input): {NO_ANSWER}", 1)
        else:
            _say("Interrupted.")
            code = 128 + signal.SIGINT
    except KeyboardInterrupt:
        _say("Interrupted.")
        code = 128 + signal.SIGINT
    except Interrupted as exc:
        _say("Interrupted." if exc.signum == signal.SIGINT else f"Interrupted ({signal.Signals(exc.signum).name}).")
        code = 128 + exc.signum
    except RecursionError:
        code = _fail("the input is nested too deeply to read", 2)
    except OSError as exc:
        # Standard output or error closed or full, or a file system failure not met anywhere else.
        code = _fail(f"{exc.strerror or exc}", 1)
    except SystemExit as exc:
        # click's own way out when the reader of the output left (`stridebeat plan --csv | head`): 1, no message.
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    return code if isinstance(code, int) else 0


def main(argv: list[str] | None = None) -> NoReturn:
    """The console script and ``python -m stridebeat``."""
    code = run(argv)
    try:
        if sys.stdout is not None:  # None when the program started with standard output closed
            sys.stdout.flush()
    except (OSError, ValueError):
        # The reader left or stdout is full: nothing more can be delivered, and the interpreter must not try again
        # at exit (it would print "Exception ignored" lines).
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        code = code or 1
    sys.exit(code)
