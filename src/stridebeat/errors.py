"""One error base for the whole package.

The core raises these; only the CLI turns them into exit codes (``UsageError`` → 2, anything else → 1), so the core is
usable from Python without click. Messages are one line: what is wrong, then what to do about it.
"""


class StridebeatError(Exception):
    """Base class: a failure the user can understand and act on (exit code 1)."""

    exit_code = 1


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
