"""A job: settings → plan → schedule → track, the one path every shell (render, live, presets) goes through."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stridebeat import settings
from stridebeat.errors import UsageError
from stridebeat.schedule import PlannedRace, Schedule, metronome_schedule, plan_race
from stridebeat.track import SoundOptions, Track, build_track


@dataclass(frozen=True)
class Job:
    planned: PlannedRace | None  # None for a plain metronome
    schedule: Schedule
    sound: SoundOptions

    def track(self) -> Track:
        return build_track(self.schedule, self.sound)


def prepare(values: dict[str, Any], *, open_ended: bool = False) -> Job:
    """Build a job from raw setting values (strings as typed, or preset values).

    ``open_ended``: a metronome without --duration is allowed (live playback runs until stopped); the schedule then
    covers ``OPEN_ENDED_S`` and the player loops or stops by itself.
    """
    parsed = settings.parse_values(values)
    plan, stride, hold, sound, metronome = settings.build(parsed)
    if metronome is not None:
        cadence, duration = metronome
        if duration is None:
            if not open_ended:
                raise UsageError("--cadence needs --duration for a file, e.g. --duration 20m")
            duration = OPEN_ENDED_S
        return Job(None, metronome_schedule(cadence, duration), sound)
    planned = plan_race(plan, stride, hold_last_m=hold)
    return Job(planned, planned.schedule, sound)


OPEN_ENDED_S = 4 * 3600.0
