"""The one kind of job: a single rep, a plain metronome or a whole session, as reps on one clock.

A job is built from setting values (strings as typed, or preset values) through ``gate.build``, the one gate. A
single rep is a session of one: every shell (render, live, views) walks ``job.reps`` and never asks which it has.

The session clock's zero is the first rep's gun. Each rep's own schedule (start sequence included) is placed whole at
its gun offset G: every step and cue of the rep is at G + t, one addition to the rep's own absolute time, never a sum
of intervals. The rest after rep i runs from its finish F_i = G_i + T_i to the first command of rep i+1's start
sequence, S_{i+1} = F_i + rest ("on your marks"; the gun itself when the rep has no start sequence):

    G_{i+1} = F_i + rest + lead_{i+1},     lead = time from the first command to the gun (0 without commands),

so a coach's "6 minutes' rest" is six minutes from the line to the next "on your marks", as on the track.

A track has one sound and one voice: the first rep's sound and voice settings, overridden by the session's own and then
by the command line, apply to every rep.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from stridebeat.config import gate, settings
from stridebeat.config.music import MusicMix, MusicOptions
from stridebeat.core import speech
from stridebeat.core.clock import format_time, say_duration
from stridebeat.core.schedule import Cue, PlannedRace, Schedule, metronome_schedule, plan_race
from stridebeat.core.speech import VoiceOptions
from stridebeat.core.track import SoundOptions, Track, build_track
from stridebeat.errors import UsageError

if TYPE_CHECKING:
    from stridebeat.config.presets import Preset

# A metronome without --duration plays live until stopped; its schedule covers this long.
OPEN_ENDED_S = 4 * 3600.0

# The rest call waits for the finish call ("fifty-one point zero") to end; the other rest calls are dropped when they
# would come less than MIN_SPACING_S after it (a short rest has no room for "one minute").
REST_CALL_AFTER_S = 3.0
MIN_SPACING_S = 2.0
REMAINING_S = (60.0, 30.0)  # "one minute", "thirty seconds" before the next start
NEXT_BEFORE_S = 15.0  # "next rep", before the countdown
COUNTDOWN = (10, 5, 4, 3, 2, 1)
REST_CUE_KINDS = ("rest", "remaining", "countdown", "next")  # calls that happen during a rest


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Rep:
    """One rep on the job's clock."""

    number: int  # 1-based
    label: str  # the preset it came from, or "inline"
    planned: PlannedRace | None  # None for a plain metronome
    schedule: Schedule  # on the rep's own clock (its gun, or its first click, at 0), start sequence included
    start_s: float  # its first start command (or its gun) on the job's clock
    gun_s: float  # rep time 0 on the job's clock
    rest_after_s: float | None  # None after the last rep

    @property
    def finish_s(self) -> float:
        return self.gun_s + self.schedule.end_s


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Job:
    """Reps on one clock, and how they sound: what render, live and the views all take."""

    reps: tuple[Rep, ...]
    schedule: Schedule  # every rep's steps and cues on the job's clock; cue times are when they sound
    sound: SoundOptions
    voice: VoiceOptions
    session: str | None = None  # the session preset's name; None for a single rep or metronome
    open_ended: bool = False  # a metronome that plays until stopped (live only)
    music: MusicOptions | None = None  # the runner's songs on the beat (config/music.py)

    @property
    def duration_s(self) -> float:
        """From the first start command to the last finish."""
        return self.reps[-1].finish_s - self.reps[0].start_s

    @property
    def is_metronome(self) -> bool:
        return self.session is None and self.reps[0].planned is None

    def rep_at(self, t_s: float) -> Rep:
        """The rep running at job time ``t_s``, or the one whose rest it is (the first before the start)."""
        i = bisect.bisect_right([r.start_s for r in self.reps], t_s) - 1
        return self.reps[max(i, 0)]

    def track(self, *, samplerate: int | None = None) -> Track:
        """The job's track at ``samplerate`` (default: the job's own), voiced and mixed."""
        return self.track_with_music(samplerate=samplerate)[0]

    def track_with_music(self, *, samplerate: int | None = None) -> tuple[Track, MusicMix | None]:
        """The job's track, and with music what it plays where (the views' music report; None without music)."""
        sound = self.sound if samplerate is None else replace(self.sound, samplerate=samplerate)
        spoken = speech.speech_events(self.schedule, self.voice, sound.samplerate)
        track = build_track(self.schedule, sound, speech=spoken, duck_db=self.voice.duck_db)
        if self.music is None:
            return track, None
        from stridebeat.config.music import with_job_music  # the music code loads only for music

        spans = [(track.frame_of(t), track.frame_of(t) + len(audio)) for t, audio in spoken]
        return with_job_music(self, track, spans)

    def with_schedule(self, schedule: Schedule) -> Job:
        """The same job sounding another schedule (live's every-second-step click)."""
        return replace(self, schedule=schedule)


def prepare(values: Mapping[str, Any], *, open_ended: bool = False, label: str = "inline") -> Job:
    """A single rep or metronome from raw setting values.

    ``open_ended``: a metronome without --duration is allowed (live playback runs until stopped).
    """
    rep, built = _rep(values, open_ended=open_ended, label=label)
    open_metronome = built.metronome is not None and built.metronome[1] is None
    if open_metronome and built.music is not None:
        raise UsageError("--music needs a --duration or a plan")
    return Job(
        reps=(rep,),
        schedule=rep.schedule,
        sound=built.sound,
        voice=built.voice,
        open_ended=open_metronome,
        music=built.music,
    )


def _rep(values: Mapping[str, Any], *, open_ended: bool, label: str) -> tuple[Rep, gate.Built]:
    built = gate.build(settings.parse_values(values))
    planned = None
    if built.metronome is not None:
        cadence, duration = built.metronome
        if duration is None:
            if not open_ended:
                raise UsageError("--cadence needs --duration for a file, e.g. --duration 20m")
            duration = OPEN_ENDED_S
        schedule = metronome_schedule(cadence, duration)
    else:
        assert built.plan is not None  # the gate gives a plan or a metronome
        planned = plan_race(built.plan, built.stride, hold_last_m=built.hold_last_m)
        schedule = speech.with_start_sequence(planned.schedule, built.voice, built.plan.start)
        schedule = speech.with_lead(schedule, built.voice)
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
    assert built is not None  # a session preset has at least one rep
    return replace(assemble(preset.name, reps, sound=built.sound, voice=built.voice), music=built.music)


def assemble(name: str, reps: Sequence[Rep], *, sound: SoundOptions, voice: VoiceOptions) -> Job:
    """Reps, each on its own clock, laid out on the session clock with the rests and their calls between them."""
    placed: list[Rep] = []
    steps, feet, cues = [], [], []
    total = len(reps)
    for n, rep in enumerate(reps, 1):
        sched = rep.schedule
        lead = rep.gun_s - rep.start_s  # from the first start command to the gun
        if placed:
            prev = placed[-1]
            assert prev.rest_after_s is not None  # presets give every rep but the last a rest
            start = prev.finish_s + prev.rest_after_s
            cues += _rest_cues(prev.finish_s, prev.rest_after_s, start, n, rep_brief(rep))
        else:
            start = -lead
        gun = start + lead
        placed.append(replace(rep, number=n, start_s=start, gun_s=gun))
        cues.append(Cue(t_s=start, kind="rep", text=f"rep {n} of {total}: {rep_brief(rep)}", value=float(n), of=total))
        steps.append(gun + sched.steps_s)
        feet.append(sched.feet)
        cues += [replace(c, t_s=gun + c.t_s, text=f"rep {n}: {c.text}") for c in sched.cues]
    # A stable sort keeps the rep marker before the start command at the same instant.
    cues.sort(key=lambda c: c.t_s)
    schedule = Schedule(
        steps_s=np.concatenate(steps), feet=np.concatenate(feet), cues=tuple(cues), end_s=placed[-1].finish_s
    )
    return Job(reps=tuple(placed), schedule=schedule, sound=sound, voice=voice, session=name)


def _rest_cues(finish: float, rest: float, start: float, next_rep: int, brief: str) -> list[Cue]:
    """The calls of one rest, from the finish to the next start sequence (``start`` = finish + rest)."""
    call = finish + REST_CALL_AFTER_S
    cues = [Cue(t_s=call, kind="rest", text=f"rest, {say_duration(rest)}", value=rest)]
    planned = [(start - s, "remaining", f"{say_duration(s)} to go", s) for s in REMAINING_S]
    planned.append((start - NEXT_BEFORE_S, "next", f"next: rep {next_rep}, {brief}", float(next_rep)))
    planned += [(start - k, "countdown", str(k), float(k)) for k in COUNTDOWN]
    cues += [
        Cue(t_s=t, kind=kind, text=text, value=value) for t, kind, text, value in planned if t >= call + MIN_SPACING_S
    ]
    return cues


def rep_brief(rep: Rep) -> str:
    """``500 m in 1:15.00``: what a rep is, in a few words."""
    if rep.planned is None:
        steps = rep.schedule.steps_s
        spm = 60.0 * (len(steps) - 1) / float(steps[-1] - steps[0]) if len(steps) > 1 else 0.0
        return f"metronome {spm:.0f} spm for {format_time(rep.schedule.end_s)}"
    plan = rep.planned.plan
    return f"{plan.distance_m:g} m in {format_time(plan.target_time_s)}"
