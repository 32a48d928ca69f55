"""One error base for the whole package.

The core raises these; only the shells turn them into exit codes (``UsageError`` → 2, anything else → 1), so the core
is usable from Python without click. Messages are one line: what is wrong, then what to do about it.

An error may know the setting it is about (``key``, a ``stridebeat.config.settings`` key such as
``"steps_per_100m"``): the edge that knows the user's words (an option, a preset's file and line, a form field) adds
them from it, never by reading the message.
"""

from __future__ import annotations


class StridebeatError(Exception):
    """Base class: a failure the user can understand and act on (exit code 1)."""

    exit_code = 1

    def __init__(self, message: str = "", *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


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
