"""Sessions: reps on one clock, and the job that a render, live playback and every view take.

A single rep is a session of one: every shell (render, live, views) walks ``job.reps`` and never asks which it has.
A ``Job`` is data; functions render it (``job_track`` here, ``stridebeat.music.job.track_with_music`` with its songs),
and the gun's place in the audio and the markers follow from the job alone (``gun_offset_s``, ``job_marks``).

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
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from stridebeat.core import speech
from stridebeat.core.clock import format_time, say_duration
from stridebeat.core.schedule import Cue, PlannedRace, Schedule, steps_spm
from stridebeat.core.speech import VoiceOptions
from stridebeat.core.track import Mark, SoundOptions, Track, build_track, origin_frame, track_marks
from stridebeat.core.vocabulary import ClickLevel, CueKind, RestMusic, Stretcher

# The rest call waits for the finish call ("fifty-one point zero") to end; the other rest calls are dropped when they
# would come less than MIN_SPACING_S after it (a short rest has no room for "one minute").
REST_CALL_AFTER_S = 3.0
MIN_SPACING_S = 2.0
REMAINING_S = (60.0, 30.0)  # "one minute", "thirty seconds" before the next start
NEXT_BEFORE_S = 15.0  # "next rep", before the countdown
COUNTDOWN = (10, 5, 4, 3, 2, 1)
MUSIC_DUCK_DB = 20.0  # the default of --music-duck


@dataclass(frozen=True, slots=True, kw_only=True)
class MusicOptions:
    """The music settings of a job (``--music`` and friends); ``stridebeat.music.job`` plays them.

    It lives in the core because a ``Job`` holds it and the core may not import the music package: the record is
    plain data, and only the music package (above the core) knows how to play it.
    """

    songs: tuple[Path, ...]
    every: str | None = None  # a MusicBeat, or None: whichever stretches less
    bpm: float | None = None
    offset_s: float | None = None
    in_rest: str = RestMusic.SOFT  # a RestMusic
    duck_db: float = MUSIC_DUCK_DB  # the music under the calls
    clicks: str = ClickLevel.ON  # a ClickLevel
    stretch: str = Stretcher.CLEAN  # a Stretcher (stridebeat.music.stretch.ENGINES)


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
    music: MusicOptions | None = None  # the runner's songs on the beat

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

    def with_schedule(self, schedule: Schedule) -> Job:
        """The same job sounding another schedule (live's every-second-step click)."""
        return replace(self, schedule=schedule)


def single(
    rep: Rep, *, sound: SoundOptions, voice: VoiceOptions, open_ended: bool = False, music: MusicOptions | None = None
) -> Job:
    """The job of one rep (or metronome) on its own clock."""
    return Job(reps=(rep,), schedule=rep.schedule, sound=sound, voice=voice, open_ended=open_ended, music=music)


def _sound(job: Job, samplerate: int | None) -> SoundOptions:
    return job.sound if samplerate is None else replace(job.sound, samplerate=samplerate)


def voiced_track(job: Job, *, samplerate: int | None = None) -> tuple[Track, list[tuple[int, int]]]:
    """The job's track without its music, and the frames (start, end) where the voice speaks (the music ducks there).

    Parameters
    ----------
    job : Job
        What to render.
    samplerate : int, optional
        The rate of the track (default: the job's own).

    Returns
    -------
    (Track, list of (int, int))

    Raises
    ------
    UsageError
        A lead-in too short for the start sequence, or a call the voice cannot say.
    """
    sound = _sound(job, samplerate)
    spoken = speech.speech_events(job.schedule, job.voice, sound.samplerate)
    track = build_track(job.schedule, sound, speech=spoken, duck_db=job.voice.duck_db)
    spans = [(track.frame_of(t), track.frame_of(t) + len(audio)) for t, audio in spoken]
    return track, spans


def job_track(job: Job, *, samplerate: int | None = None) -> Track:
    """The job's track at ``samplerate`` (default: the job's own), voiced, without music (``voiced_track``)."""
    return voiced_track(job, samplerate=samplerate)[0]


def gun_offset_s(job: Job) -> float:
    """Where the job's clock zero (the first gun, or the first click) is in its audio, in seconds: computed from the
    job alone, the same as its rendered track's ``origin_frame / samplerate``, with or without music.

    Raises
    ------
    UsageError
        A lead-in too short for the start sequence.
    """
    return origin_frame(job.schedule, job.sound) / job.sound.samplerate


def job_marks(job: Job, samplerate: int | None = None) -> tuple[Mark, ...]:
    """The markers of the job's audio ((frame, label) each, as its rendered track's ``marks``), from the job alone.

    Raises
    ------
    UsageError
        A lead-in too short for the start sequence.
    """
    sound = _sound(job, samplerate)
    return track_marks(job.schedule, origin_frame(job.schedule, sound), sound.samplerate)


def assemble(name: str, reps: Sequence[Rep], *, sound: SoundOptions, voice: VoiceOptions) -> Job:
    """Reps, each on its own clock, laid out on the session clock with the rests and their calls between them."""
    placed: list[Rep] = []
    steps, feet, cues = [], [], []
    total = len(reps)
    for n, rep in enumerate(reps, 1):
        sched = rep.schedule
        lead = rep.gun_s - rep.start_s  # from the first start command to the gun
        start = -lead
        if placed:
            prev = placed[-1]
            rest = prev.rest_after_s or 0.0  # presets give every rep but the last a rest
            start = prev.finish_s + rest
            cues += rest_cues(prev.finish_s, rest, start, n, rep_brief(rep))
        gun = start + lead
        placed.append(replace(rep, number=n, start_s=start, gun_s=gun))
        text = f"rep {n} of {total}: {rep_brief(rep)}"
        cues.append(Cue(t_s=start, kind=CueKind.REP, text=text, value=float(n), of=total))
        steps.append(gun + sched.steps_s)
        feet.append(sched.feet)
        cues += [replace(c, t_s=gun + c.t_s, text=f"rep {n}: {c.text}") for c in sched.cues]
    # A stable sort keeps the rep marker before the start command at the same instant.
    cues.sort(key=lambda c: c.t_s)
    schedule = Schedule(
        steps_s=np.concatenate(steps), feet=np.concatenate(feet), cues=tuple(cues), end_s=placed[-1].finish_s
    )
    return Job(reps=tuple(placed), schedule=schedule, sound=sound, voice=voice, session=name)


def rest_cues(finish: float, rest: float, start: float, next_rep: int, brief: str) -> list[Cue]:
    """The calls of one rest, from the finish to the next start sequence (``start`` = finish + rest)."""
    call = finish + REST_CALL_AFTER_S
    cues = [Cue(t_s=call, kind=CueKind.REST, text=f"rest, {say_duration(rest)}", value=rest)]
    planned = [(start - s, CueKind.REMAINING, f"{say_duration(s)} to go", s) for s in REMAINING_S]
    planned.append((start - NEXT_BEFORE_S, CueKind.NEXT, f"next: rep {next_rep}, {brief}", float(next_rep)))
    planned += [(start - k, CueKind.COUNTDOWN, str(k), float(k)) for k in COUNTDOWN]
    cues += [
        Cue(t_s=t, kind=kind, text=text, value=value) for t, kind, text, value in planned if t >= call + MIN_SPACING_S
    ]
    return cues


def rep_brief(rep: Rep) -> str:
    """``500 m in 1:15.00``: what a rep is, in a few words."""
    if rep.planned is None:
        spm = steps_spm(rep.schedule.steps_s)
        return f"metronome {spm:.0f} spm for {format_time(rep.schedule.end_s)}"
    plan = rep.planned.plan
    return f"{plan.distance_m:g} m in {format_time(plan.target_time_s)}"
