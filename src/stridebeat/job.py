"""A job: settings → plan → schedule → track, the one path every shell (render, live, presets) goes through."""

from __future__ import annotations

from typing import Any

from stridebeat import settings, speech
from stridebeat.errors import UsageError
from stridebeat.record import Record
from stridebeat.schedule import PlannedRace, Schedule, metronome_schedule, plan_race
from stridebeat.speech import VoiceOptions
from stridebeat.track import SoundOptions, Track, build_track


class Job(Record):
    planned: PlannedRace | None  # None for a plain metronome
    schedule: Schedule  # with the start sequence and any cue lead applied: cue times are when they sound
    sound: SoundOptions
    voice: VoiceOptions = VoiceOptions(voice="none")

    def track(self) -> Track:
        spoken = speech.speech_events(self.schedule, self.voice, self.sound.samplerate)
        return build_track(self.schedule, self.sound, speech=spoken, duck_db=self.voice.duck_db)

    def timeline(self, *, gun_offset_s: float | None = None) -> dict:
        """The documented timeline (README): plan, steps and cues, times from the gun."""
        from stridebeat import views

        return views.timeline(self.planned, self.schedule, gun_offset_s=gun_offset_s)


def prepare(values: dict[str, Any], *, open_ended: bool = False) -> Job:
    """Build a job from raw setting values (strings as typed, or preset values).

    ``open_ended``: a metronome without --duration is allowed (live playback runs until stopped); the schedule then
    covers ``OPEN_ENDED_S`` and the player loops or stops by itself.
    """
    built = settings.build(settings.parse_values(values))
    if built.metronome is not None:
        cadence, duration = built.metronome
        if duration is None:
            if not open_ended:
                raise UsageError("--cadence needs --duration for a file, e.g. --duration 20m")
            duration = OPEN_ENDED_S
        return Job(None, metronome_schedule(cadence, duration), built.sound, built.voice)
    planned = plan_race(built.plan, built.stride, hold_last_m=built.hold_last_m)
    schedule = speech.with_start_sequence(planned.schedule, built.voice, built.plan.start)
    schedule = speech.with_lead(schedule, built.voice)
    return Job(planned, schedule, built.sound, built.voice)


OPEN_ENDED_S = 4 * 3600.0


def prepare_preset(preset: str | None, overrides: dict[str, Any], *, open_ended: bool = False):
    """The job of a command: a preset (a rep, or a whole session) with the command line's ``overrides`` on top.

    Returns a ``Job`` for a rep preset or no preset, a ``session.SessionJob`` for a session preset; both have
    ``.schedule``, ``.sound``, ``.planned`` (None for a session: see its ``.reps``) and ``.track()``.
    """
    if preset is None:
        return prepare(overrides, open_ended=open_ended)
    from stridebeat import presets

    loaded = presets.load(preset)
    if loaded.kind == "session":
        from stridebeat.session import prepare_session

        return prepare_session(loaded, overrides)
    return prepare(presets.override(loaded.values, overrides), open_ended=open_ended)
