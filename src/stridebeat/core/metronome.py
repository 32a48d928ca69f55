"""Pure sources for live playback: a metronome whose tempo changes while it plays, and a count-in before a run.

A *source* is anything with ``render(start, out)`` (fill ``out`` with frames [start, start + n)) and ``n_frames`` (None:
plays until stopped); the block ``Renderer`` of a track is one. Sources follow the renderer's real-time rules: they
write into the caller's buffer and preallocated scratch only, never block and never print.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Protocol

import numpy as np

from stridebeat.core.render import MAX_BLOCK, Renderer, mix
from stridebeat.core.schedule import CADENCE_RANGE_SPM, Schedule
from stridebeat.core.track import SoundOptions, build_track

COUNT_IN_SOUND = {"beep": "tick"}  # the count-in sounds unlike the click; "beep" otherwise


class Source(Protocol):
    @property
    def n_frames(self) -> int | None: ...

    def render(self, start: int, out: np.ndarray) -> None: ...


class TempoMetronome:
    """An endless metronome whose cadence can change while it plays (``render(start, out)`` like ``Renderer``).

    The tempo map is data: segments (f0, k0, beat_s), beat k of a segment on frame f0 + round((k − k0) · beat_s · sr),
    each beat computed from its segment's start in absolute frames, never by adding intervals. Segment 0 starts on the
    track's origin, so until the first change the output equals the open-ended metronome track's, sample for sample.

    ``target_spm`` is the one attribute another thread writes. The change takes effect on the next beat that has not
    started: it lands one new period after the last beat (or at once, if that moment has passed), and the beats after
    it follow the new period. Every interval is then at least 60/400 s, longer than any click, so only the previous
    segment can still be sounding and two segments are all the map keeps.
    """

    def __init__(
        self,
        click: np.ndarray,
        gains: np.ndarray,
        *,
        samplerate: int,
        beat_s: float,
        origin: int = 0,
        every: int = 1,
        max_block: int = MAX_BLOCK,
    ) -> None:
        if len(click) >= 60.0 * every / CADENCE_RANGE_SPM[1] * samplerate:
            raise ValueError("the click is longer than the shortest beat interval")
        self.sr = samplerate
        self.every = every  # steps per click: the cadence counts steps
        self.n_frames = None
        self.cadence_spm = self.target_spm = every * 60.0 / beat_s
        self._click = click
        self._gains = gains  # float32 (P, 2): the gain pattern, beat k uses row k % P
        self._cur = (origin, 0, beat_s)  # the schedule's own beat, not one recomputed from the cadence
        self._prev: tuple[int, int, float] | None = None
        self._scratch = np.zeros(max(max_block, len(click)), dtype=np.float32)

    def nudge(self, delta_spm: float) -> None:
        """Ask for a cadence ``delta_spm`` higher (main thread); the callback applies it at the next beat."""
        lo, hi = CADENCE_RANGE_SPM
        # Rounded: 180 spm read back from its beat is 180.00000000000003; +1 should give 181 exactly.
        self.target_spm = min(hi, max(lo, round(self.target_spm + delta_spm, 6)))

    def _onset(self, seg: tuple[int, int, float], k: int) -> int:
        f0, k0, beat_s = seg
        # Same operations as the schedule and track ((k · 60/spm) · sr, rounded half to even): same frames.
        return f0 + round((k - k0) * beat_s * self.sr)

    def _retempo(self, start: int) -> None:
        cur = self._cur
        k = cur[1] + max(0, math.floor((start - cur[0]) / (cur[2] * self.sr)))
        while self._onset(cur, k) < start:  # k: the first beat not yet started
            k += 1
        beat_s = self.every * (60.0 / self.target_spm)
        if k == 0:
            f0 = cur[0]
        else:
            # A beat before the current segment's first belongs to the previous one, which exists once k > k0.
            seg = cur if k - 1 >= cur[1] or self._prev is None else self._prev
            last = self._onset(seg, k - 1)
            f0 = max(start, last + round(beat_s * self.sr))
        if k > cur[1]:
            self._prev = cur
        self._cur = (f0, k, beat_s)  # when k == k0 the current segment never played a beat: replace it
        self.cadence_spm = self.target_spm

    def _mix(self, seg: tuple[int, int, float], k_stop: int | None, start: int, out: np.ndarray) -> None:
        end = start + out.shape[0]
        n = len(self._click)
        k = seg[1] + max(0, math.floor((start - n - seg[0]) / (seg[2] * self.sr)))
        while k_stop is None or k < k_stop:
            onset = self._onset(seg, k)
            if onset >= end:
                break
            a, b = max(start, onset), min(end, onset + n)
            if b > a:
                mix(
                    out[a - start : b - start],
                    self._click[a - onset : b - onset],
                    self._gains[k % len(self._gains)],
                    self._scratch,
                )
            k += 1

    def render(self, start: int, out: np.ndarray) -> None:
        if self.target_spm != self.cadence_spm:
            self._retempo(start)
        out.fill(0.0)
        if self._prev is not None:
            self._mix(self._prev, self._cur[1], start, out)
        self._mix(self._cur, None, start, out)


class Sequence:
    """``first`` for frames [0, offset), then ``second`` from its frame 0: a count-in before the run."""

    def __init__(self, first: Source, offset: int, second: Source) -> None:
        self.first, self.offset, self.second = first, offset, second
        self.n_frames = None if second.n_frames is None else offset + second.n_frames

    def render(self, start: int, out: np.ndarray) -> None:
        n = out.shape[0]
        cut = min(max(self.offset - start, 0), n)
        if cut:
            self.first.render(start, out[:cut])
        if cut < n:
            self.second.render(start + cut - self.offset, out[cut:])


def with_count_in(source: Source, sound: SoundOptions, beats: int, beat_s: float) -> tuple[Sequence, int]:
    """``beats`` clicks of another sound, one beat apart, then ``source`` one beat after the last of them.

    Returns the sequence and the frame where ``source`` starts in it.
    """
    options = replace(
        sound, click=COUNT_IN_SOUND.get(sound.click, "beep"), accent_every=0, pan=False, lead_in_s=0.0, tail_s=0.0
    )
    steps = np.arange(beats) * beat_s
    schedule = Schedule(steps_s=steps, feet=np.zeros(beats, dtype=np.int8), cues=(), end_s=beats * beat_s)
    count = build_track(schedule, options)
    offset = round(beats * beat_s * sound.samplerate)
    return Sequence(Renderer(count, max_block=MAX_BLOCK), offset, source), offset
