"""One error base for the whole package.

The core raises these; only the shells turn them into exit codes (``UsageError`` → 2, anything else → 1), so the core
is usable from Python without click. Messages are one line: what is wrong, then what to do about it.

An error may know the setting it is about (``key``, a ``stridebeat.config.settings`` key such as
``"steps_per_100m"``), and the value it refuses (``value``, as it was given). Such an error carries only the reason
(``"is out of range: give 35 to 80"``); the edge that knows the user's words puts the subject before it: the command
line ``--steps-per-100m 1000``, a preset ``x.toml, line 5: steps_per_100m = 1000``, the Python API
``steps_per_100m = 1000`` (``str(exc)``). Nothing ever reads the message to learn what it was about.
"""

from __future__ import annotations

import math
import re


class _NoValue:
    """The marker of an error that refuses no single value (a clash of settings, a missing file …)."""

    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE = _NoValue()
SHOWN_MAX = 40  # characters of a refused value shown in a message: a 400-digit number is not echoed whole
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class StridebeatError(Exception):
    """Base class: a failure the user can understand and act on (exit code 1).

    Parameters
    ----------
    message : str
        The whole line, or with ``value`` given the reason that follows the subject (``"is out of range: …"``).
    key : str, optional
        The setting the error is about.
    value : object, optional
        The value refused, as given; the message then starts with the subject that names it (see ``line``).
    """

    exit_code = 1

    def __init__(self, message: str = "", *, key: str | None = None, value: object = NO_VALUE) -> None:
        super().__init__(message)
        self.reason = message
        self.key = key
        self.value = value

    @property
    def about_value(self) -> bool:
        """Whether the message is a reason about one refused value (the edge then names the setting and value)."""
        return self.key is not None and self.value is not NO_VALUE

    def line(self, subject: str) -> str:
        """The one line with ``subject`` (the setting and its value in the user's words) before the reason."""
        return f"{subject} {self.reason}" if self.about_value else self.reason

    def __str__(self) -> str:
        if self.about_value:
            return self.line(f"{self.key} = {show_value(self.value)}")
        return self.reason


class UsageError(StridebeatError, ValueError):
    """The user asked for something impossible or malformed (exit code 2)."""

    exit_code = 2


class PlanError(UsageError):
    """A race plan or stride model that cannot be built from the given numbers."""


class OutputError(StridebeatError):
    """The output file cannot be written (permissions, missing folder, disk)."""


class AudioDeviceError(StridebeatError):
    """Live playback cannot open or keep the sound device."""


class PresetError(UsageError):
    """A preset file or name is invalid."""


def show_value(value: object, *, typed: bool = False) -> str:
    """A refused value as a message shows it: TOML-like (``"85%"``, ``1000``, ``true``, ``[12.2, 11.9]``), or as
    typed on a command line with ``typed`` (text unquoted); cut to ``SHOWN_MAX`` characters, control characters
    escaped so that the message stays one line and nothing reaches a terminal as a command."""
    if isinstance(value, str):
        text = value if typed else '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        text = str(value) if abs(value) < 10**SHOWN_MAX else f"a number of {_digits(value)} digits"
    elif isinstance(value, float):
        whole = typed and value.is_integer() and abs(value) < 1e15  # typed as "400", not "400.0"
        text = str(int(value)) if whole else repr(value) if math.isfinite(value) else str(value)
    elif isinstance(value, (list, tuple)):
        text = "[" + ", ".join(show_value(v) for v in value[:8]) + (", …" if len(value) > 8 else "") + "]"
    elif value is None:
        text = "None"
    else:
        text = f"a {type(value).__name__}"
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text if len(text) <= SHOWN_MAX else text[: SHOWN_MAX - 1] + "…"


def _digits(value: int) -> str:
    # int → str refuses numbers of over 4300 digits; bit_length gives the count without converting.
    estimate = int(abs(value).bit_length() * math.log10(2)) + 1
    return f"about {estimate}"
