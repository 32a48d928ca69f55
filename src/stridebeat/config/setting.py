"""One setting of the vocabulary (option = preset key = API keyword = form field), and the ranges of the numbers.

The ranges are the engine's (``core/plan.py``, ``core/stride.py``, ``core/track.py`` …), written here so that the
command line's ``--help`` loads no numpy; ``tests/test_plan.py`` holds the two to each other. A value is
checked against its range when it is converted, before any arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stridebeat.config.convert import Choice, Duration, Number, Paths, Time, flag

DISTANCE_RANGE_M = (100.0, 1000.0)  # core.plan.DISTANCE_RANGE_M
MAX_TIME_S = 500.0  # 1000 m at 2 m/s (core.plan.MIN_AVERAGE_SPEED): the longest time any plan takes
REACTION_RANGE_S = (0.1, 0.4)  # core.plan.REACTION_RANGE_S
DIFFERENTIAL_RANGE_S = (-60.0, 60.0)
MAX_SPEED_RANGE = (3.0, 13.0)
STEPS_RANGE = (35.0, 80.0)  # core.stride.STEPS_RANGE
STEP_LENGTH_RANGE_M = (1.25, 2.9)  # core.stride.STEP_LENGTH_RANGE
HEIGHT_RANGE_M = (1.2, 2.3)  # core.stride.HEIGHT_RANGE
HOLD_RANGE_M = (0.0, 1000.0)  # where in the race the hold may start is the engine's check
CADENCE_RANGE_SPM = (30.0, 400.0)  # core.schedule.CADENCE_RANGE_SPM; 120-300 without --allow-any-cadence (the gate)
MAX_TRACK_S = 24 * 3600.0  # core.track.MAX_TRACK_S
ACCENT_RANGE = (0, 64)
VOLUME_RANGE_DB = (-60.0, 0.0)
SAMPLERATES = (22050, 32000, 44100, 48000, 88200, 96000)  # core.track.SAMPLERATES
QUALITIES = ("high", "medium", "small")  # core.track.QUALITIES
SILENCE_MAX_S = 600.0  # lead-in and tail
DEFAULT_TAIL_S = 2.0  # the tail's default (a metronome has no lead-in by default)
MUSIC_BPM_RANGE = (40.0, 320.0)
MUSIC_OFFSET_RANGE_S = (0.0, 600.0)
MUSIC_DUCK_RANGE_DB = (0.0, 40.0)
SETTLE_RANGE_S = (1.0, 60.0)
SEED_RANGE = (-(2**63), 2**63 - 1)  # any 64-bit seed, as before
CUE_LEAD_RANGE_S = (0.0, 5.0)
DUCK_RANGE_DB = (0.0, 20.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Setting:
    """A setting: its key (``steps_per_100m``: preset key and Python keyword), its converter (value → Python value,
    range included; ``UsageError(key=…)`` otherwise), its group and its help text.

    ``group``: plan, stride, metronome, sound or voice (sound and voice settings hold for a whole track).
    """

    key: str
    convert: Callable[[Any, str], Any]
    group: str
    help: str
    default: Any = None
    metavar: str | None = None

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")

    @property
    def kind(self) -> str:
        """How a shell asks for it: ``bool`` (a flag), ``choice`` (one of ``choices``), ``paths`` (repeatable) or
        ``text`` (anything typed)."""
        if self.convert is flag:
            return "bool"
        if isinstance(self.convert, Choice):
            return "choice"
        if isinstance(self.convert, Paths):
            return "paths"
        return "text"

    @property
    def choices(self) -> tuple[str, ...]:
        return self.convert.choices if isinstance(self.convert, Choice) else ()

    @property
    def range(self) -> tuple[float, float] | None:
        """The lowest and highest value taken (seconds for times and durations), where the setting has a range."""
        c = self.convert
        if isinstance(c, (Number, Duration)):
            return (c.lo, c.hi)
        return (0.0, c.hi) if isinstance(c, Time) else None
