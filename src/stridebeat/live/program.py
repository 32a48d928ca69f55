"""What ``stridebeat live`` plays for a job, and what it says about any frame of it (the status line's data)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from stridebeat.core.metronome import Source, TempoMetronome, with_count_in
from stridebeat.core.render import Renderer
from stridebeat.core.schedule import CADENCE_RANGE_SPM
from stridebeat.core.session import Job, job_track
from stridebeat.core.track import Track
from stridebeat.errors import UsageError


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Program:
    """What to play (``source``) and what to say about any frame of it (``status``)."""

    source: Source
    samplerate: int
    zero_frame: int  # frame of job time 0: the gun, or the first click after any count-in
    job: Job  # as played, before any every-second-step thinning
    marks: tuple[tuple[int, str], ...]  # (frame, label) on the source's frames
    tempo: TempoMetronome | None  # set when the cadence can change while playing

    @property
    def n_frames(self) -> int | None:
        return self.source.n_frames

    def status(self, frame: int) -> dict[str, Any]:
        """elapsed_s (from the gun or first click; negative before), distance_m, cadence_spm, next_cue."""
        t = (frame - self.zero_frame) / self.samplerate
        distance = cadence = None
        if self.tempo is not None:
            cadence = self.tempo.cadence_spm
        else:
            steps = self.job.schedule.steps_s
            i = int(np.searchsorted(steps, t))
            if 0 < i < len(steps):
                heard = 60.0 / float(steps[i] - steps[i - 1])
                cadence = heard if heard >= CADENCE_RANGE_SPM[0] else None  # None in a rest between reps
        rep = self.job.rep_at(t)
        if rep.planned is not None:
            since_gun = max(t - rep.gun_s, 0.0)
            distance = min(float(rep.planned.profile.position(since_gun)), rep.planned.plan.distance_m)
        cue = next((label for f, label in self.marks if f > frame), None)
        return {"elapsed_s": t, "distance_m": distance, "cadence_spm": cadence, "next_cue": cue}


def program(job: Job, *, every: int = 1, count_in: int = 0, samplerate: int | None = None) -> Program:
    """What ``stridebeat live`` plays for ``job``.

    Parameters
    ----------
    job : Job
        An open-ended metronome plays until stopped, with a cadence that can change; everything else plays its
        track, as ``render`` writes it.
    every : int
        1: a click on every step; 2: on every second step.
    count_in : int
        Beats of count-in before a metronome (0: none).
    samplerate : int, optional
        The device's rate, when it differs from the job's.

    Raises
    ------
    UsageError
        A count-in with a race plan or a session.
    """
    if every not in (1, 2):
        raise UsageError(f"--every takes step or stride, got {every}")
    if count_in and not job.is_metronome:
        raise UsageError("--count-in goes with --cadence: a race starts with its own start sequence")
    clicked = job
    if every == 2:
        sched = job.schedule
        clicked = job.with_schedule(replace(sched, steps_s=sched.steps_s[::2], feet=sched.feet[::2]))
    track = _track(clicked, samplerate)
    # A metronome's schedule is k · (60/cadence): its second click is the beat, to the last bit.
    steps = clicked.schedule.steps_s
    beat_s = float(steps[1]) if len(steps) > 1 else clicked.schedule.end_s
    tempo = _tempo(track, job, beat_s, every) if job.open_ended else None
    source: Source = tempo if tempo is not None else Renderer(track)
    sr = track.samplerate
    offset = 0
    if count_in:
        source, offset = with_count_in(source, replace(job.sound, samplerate=sr), count_in, beat_s)
    marks = tuple((f + offset, label) for f, label in track.marks)
    return Program(
        source=source, samplerate=sr, zero_frame=offset + track.origin_frame, job=job, marks=marks, tempo=tempo
    )


def _track(job: Job, samplerate: int | None) -> Track:
    if job.music is None:
        return job_track(job, samplerate=samplerate)
    from stridebeat.music.job import track_with_music  # the music package loads only for music

    return track_with_music(job, samplerate=samplerate)[0]


def _tempo(track: Track, job: Job, beat_s: float, every: int) -> TempoMetronome:
    """An open-ended metronome whose cadence can change while it plays: the track's click, accents and panning."""
    period = math.lcm(job.sound.accent_every or 1, 2)  # accents and panning repeat with this many beats
    clicks = track.sound_ids == track.sound_ids[0]
    return TempoMetronome(
        track.sounds[int(track.sound_ids[0])],
        track.gains[clicks][:period].copy(),
        samplerate=track.samplerate,
        beat_s=beat_s,
        origin=track.origin_frame,
        every=every,
    )
