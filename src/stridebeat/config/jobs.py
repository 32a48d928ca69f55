"""Building a job from setting values (strings as typed, or preset values) through ``gate.build``, the one gate.

A single rep or metronome is ``prepare``; a preset (a rep or a whole session) with the command line's values on top is
``prepare_preset``; a session preset is ``prepare_session``. The job itself, its reps and how a session lays them out
on one clock are the engine's (``stridebeat.core.session``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from stridebeat.config import gate, settings
from stridebeat.core import speech
from stridebeat.core.schedule import metronome_schedule, plan_race
from stridebeat.core.session import Job, Rep, assemble, single
from stridebeat.errors import StridebeatError, UsageError

if TYPE_CHECKING:
    from stridebeat.config.presets import Preset

# A metronome without --duration plays live until stopped; its schedule covers this long.
OPEN_ENDED_S = 4 * 3600.0


def prepare(values: Mapping[str, Any], *, open_ended: bool = False, label: str = "inline") -> Job:
    """A single rep or metronome from raw setting values.

    ``open_ended``: a metronome without --duration is allowed (live playback runs until stopped).
    """
    rep, built = _rep(values, open_ended=open_ended, label=label)
    open_metronome = built.metronome is not None and built.metronome.duration_s is None
    if open_metronome and built.music is not None:
        raise UsageError("--music needs a --duration or a plan")
    return single(rep, sound=built.sound, voice=built.voice, open_ended=open_metronome, music=built.music)


def _rep(values: Mapping[str, Any], *, open_ended: bool, label: str) -> tuple[Rep, gate.Built]:
    built = gate.build(settings.parse_values(values))
    planned = None
    if built.metronome is not None:
        cadence, duration = built.metronome.cadence_spm, built.metronome.duration_s
        if duration is None:
            if not open_ended:
                raise UsageError("--cadence needs --duration for a file, e.g. --duration 20m")
            duration = OPEN_ENDED_S
        schedule = metronome_schedule(cadence, duration)
    elif built.plan is not None:
        planned = plan_race(built.plan, built.stride, hold_last_m=built.hold_last_m)
        schedule = speech.with_start_sequence(planned.schedule, built.voice, built.plan.start)
        schedule = speech.with_lead(schedule, built.voice)
    else:  # the gate gives a plan or a metronome
        raise StridebeatError("the settings made neither a plan nor a metronome")
    lead = max(0.0, -min((c.t_s for c in schedule.cues), default=0.0))
    rep = Rep(number=1, label=label, planned=planned, schedule=schedule, start_s=-lead, gun_s=0.0, rest_after_s=None)
    return rep, built


def prepare_preset(preset: str | None, overrides: Mapping[str, Any], *, open_ended: bool = False) -> Job:
    """The job of a command: a preset (a rep, or a whole session) with the command line's ``overrides`` on top."""
    if preset is None:
        return prepare(overrides, open_ended=open_ended)
    from stridebeat.config.presets import load  # presets (TOML, the user's folder) load only when one is named

    loaded = load(preset)
    if loaded.kind == "session":
        return prepare_session(loaded, overrides)
    return prepare(settings.override(loaded.values, overrides), open_ended=open_ended, label=loaded.name)


def _track_level(key: str) -> bool:
    return settings.BY_KEY[key].group in settings.TRACK_GROUPS


def prepare_session(preset: Preset, overrides: Mapping[str, Any] | None = None) -> Job:
    """The session's job from a session preset, with command-line ``overrides`` applied to every rep.

    Raises
    ------
    UsageError
        A rep that cannot be planned (the message names the rep).
    """
    if preset.kind != "session":
        raise UsageError(f"{preset.name!r} is a single rep, not a session")
    overrides = overrides or {}
    first = settings.override(preset.reps[0].values, preset.values)
    track_values = {k: v for k, v in settings.override(first, overrides).items() if _track_level(k)}
    reps: list[Rep] = []
    built = None
    for n, spec in enumerate(preset.reps, 1):
        own = {k: v for k, v in spec.values.items() if not _track_level(k)}
        try:
            rep, built_rep = _rep(
                settings.override({**own, **track_values}, overrides), open_ended=False, label=spec.label
            )
        except UsageError as exc:
            raise type(exc)(f"{preset.name}, rep {n} ({spec.label}): {exc}") from None
        built = built or built_rep
        reps.append(replace(rep, number=n, rest_after_s=spec.rest_after_s))
    if built is None:  # presets refuse a session without reps
        raise UsageError(f"{preset.name!r} has no reps: add a [[reps]] table")
    return replace(assemble(preset.name, reps, sound=built.sound, voice=built.voice), music=built.music)
