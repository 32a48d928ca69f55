"""The music for a whole plan: the mapped songs stretched onto the footstrikes, joined, and set to their loudness.

Where the beats go is ``stridebeat.music.mapping``'s (its module docstring: the rules).

Spans and joins. Each span is one Rubber Band time-map stretch with an anchor on every beat,
so a span has no joins inside. At a join the outgoing song fades out and the incoming one fades in over
``crossfade_s`` ending on the incoming song's first beat (equal-power sine/cosine); the incoming song's audio before
its first beat (up to ``crossfade_s``) is its lead-in. After the last footstrike the music runs on for one beat and
fades out.

Loudness. The whole track gets one gain to ``TARGET_LUFS`` (−16 LUFS integrated, ITU-R BS.1770-4 as pyloudnorm
measures it: ``stridebeat.music.loudness``). Where that would put the true peak (4× oversampled: ``true_peak_dbtp``)
over ``MAX_TRUE_PEAK_DBTP`` (−1 dBTP), a look-ahead peak limiter (``stridebeat.music.limiter``: attack
``LIMIT_ATTACK_S``, release ``LIMIT_RELEASE_S``) lowers the peaks alone; the loudness is then measured again and the
gain corrected, a few times, until the music is within ``LOUDNESS_TOLERANCE_LU`` of the target with its true peak
under the ceiling. The report says how loud it is and how much the limiter took (``limiter``).

``map_music`` is the mapping alone (no audio, no Rubber Band): what ``stridebeat plan`` reports, and what
``music_track`` plays.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from stridebeat.errors import UsageError
from stridebeat.music.analysis import BeatGrid
from stridebeat.music.limiter import MAX_TRUE_PEAK_DBTP, GainStats, normalise, true_peak_dbtp
from stridebeat.music.loudness import integrated_lufs
from stridebeat.music.mapping import (
    Every,
    MusicMap,
    SongSpan,
    Span,
    check_steps,
    factors,
    lead_frames,
    map_music,
    plan_spans,
    steady_entry,
)
from stridebeat.music.stretch import ENGINE_ARGS, timemap_stretch

__all__ = [
    "MusicMap", "MusicReport", "SongSpan", "integrated_lufs", "map_music", "music_track", "steady_entry",
    "true_peak_dbtp",
]  # fmt: skip

TARGET_LUFS = -16.0
PAD_S = 0.05  # extra song audio past a span's last anchor, so the stretcher has context there


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class MusicReport(MusicMap):
    """What ``music_track`` did: the map it played, where the music is in the output, and its level."""

    start_frame: int  # first and last+1 frame of the output that carry music
    end_frame: int
    gain_db: float  # applied to the stretched songs
    loudness_lufs: float  # integrated loudness of the result (−inf for silence)
    true_peak_dbtp: float
    limiter: GainStats  # what the peak limiter took away, over the music


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _Grid:
    """The beat slots on the output's frames: what every span of one map is placed on."""

    slot_frames: np.ndarray  # output frame of every beat slot
    last_slot: int
    tail_frames: int  # the music runs on this long after the last slot (one beat), fading out
    crossfade: int  # frames

    @property
    def end_frame(self) -> int:
        return int(self.slot_frames[-1] + self.tail_frames)

    @staticmethod
    def of(slots_s: np.ndarray, *, origin_frame: int, crossfade_s: float, sr: int) -> _Grid:
        slot_frames = origin_frame + np.rint(slots_s * sr).astype(np.int64)
        return _Grid(
            slot_frames=slot_frames,
            last_slot=slot_frames.size - 1,
            tail_frames=int(slot_frames[-1] - slot_frames[-2]),
            crossfade=round(crossfade_s * sr),
        )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _Stretch:
    """One span's Rubber Band call: source anchors onto output anchors, placed at ``o_start`` in the output."""

    src_anchor: np.ndarray  # frames in the song excerpt
    tgt_anchor: np.ndarray  # frames from o_start
    n_frames: int
    o_start: int
    first: int  # output frame of the span's first beat …
    last: int  # … and of its last
    final: bool  # the last span: it fades out over the tail


def _stretch_of(sp: Span, song: np.ndarray, grid: _Grid, f: np.ndarray, *, xf_s: float, sr: int
                ) -> tuple[np.ndarray, _Stretch]:  # fmt: skip
    """The song excerpt a span stretches (its lead-in and, for the last span, its tail included) and its call."""
    q = sp.beats_s.size - 1
    last = sp.first_slot + q
    tgt_abs = grid.slot_frames[sp.first_slot : last + 1]
    b = sp.beats_s
    post_src = float(f[-1]) * grid.tail_frames / sr if last == grid.last_slot else 0.0
    src_end = b[-1] + post_src + PAD_S
    lead = lead_frames(sp, f, xf_s, sr)
    i0 = round((b[0] - min(xf_s * float(f[0]), float(b[0]))) * sr)
    o_start = int(tgt_abs[0]) - lead
    o_end = int(tgt_abs[-1]) + round((src_end - b[-1]) / float(f[-1]) * sr)
    chunk = _slice_padded(song, i0, round(src_end * sr))
    call = _Stretch(
        src_anchor=np.rint(b * sr).astype(np.int64) - i0,
        tgt_anchor=tgt_abs - o_start,
        n_frames=o_end - o_start,
        o_start=o_start,
        first=int(tgt_abs[0]),
        last=int(tgt_abs[-1]),
        final=last == grid.last_slot,
    )
    return chunk, call


def _stretch_all(
    chunks: list[np.ndarray | None], calls: list[_Stretch], out: np.ndarray, grid: _Grid, *, sr: int,
    engine_args: tuple[str, ...], workers: int | None,
) -> int:  # fmt: skip
    """Stretch every span (up to ``workers`` rubberband processes at once) and add it, faded, into ``out``; the
    first frame that carries music."""

    def run(i: int) -> np.ndarray:
        chunk, chunks[i] = chunks[i], None  # the stretcher has the song excerpt now: let it go
        c = calls[i]
        return timemap_stretch(chunk, sr, c.src_anchor, c.tgt_anchor, c.n_frames, engine_args=engine_args)  # type: ignore[arg-type]

    music_start = out.shape[0]
    n_workers = max(1, min(workers if workers is not None else (os.cpu_count() or 1), len(calls)))
    with ThreadPoolExecutor(max_workers=n_workers) as pool:  # each call is a rubberband process: threads suffice
        # map yields in order and forgets each result once taken, so few stretched spans are held at once
        for c, stretched in zip(calls, pool.map(run, range(len(calls))), strict=True):
            tail = grid.tail_frames if c.final else None
            gain = _envelope(c.o_start, c.o_start + c.n_frames, c.first, c.last, grid.crossfade, tail)
            stretched *= gain[:, None]
            _add(out, stretched, c.o_start)
            del stretched
            music_start = min(music_start, max(c.o_start + int(np.argmax(gain > 0)), 0))
    return music_start


def music_track(
    songs: Sequence[np.ndarray],
    beats: Sequence[BeatGrid],
    steps_s: np.ndarray,
    samplerate: int,
    *,
    every: Every | None = None,
    enter_at_s: float | None = None,
    crossfade_s: float = 0.25,
    origin_frame: int = 0,
    frames: int | None = None,
    target_lufs: float = TARGET_LUFS,
    max_true_peak_dbtp: float = MAX_TRUE_PEAK_DBTP,
    engine_args: tuple[str, ...] = ENGINE_ARGS,
    workers: int | None = None,
    limit: bool = True,
) -> tuple[np.ndarray, MusicReport]:
    """The music for the whole plan as ``(frames, 2)`` float32, and a report (module docstring: the rules).

    ``songs``: ``(n, 2)`` float32 at ``samplerate`` (``load_song``), ``beats`` their grids, in play order (only the
    songs that play are read). Plan time t is output frame ``origin_frame + round(t · samplerate)``; the output has
    ``frames`` frames, or ends with the music. Up to ``workers`` rubberband processes run at once (default: one per
    CPU). ``limit=False``: one gain for the loudness, the peaks left to a later limiter (the mix's).

    Raises
    ------
    UsageError
        As ``map_music``, or songs and grids that do not match. ``StridebeatError``: Rubber Band missing or failing.
    """
    check_steps(steps_s)
    if len(songs) == 0:
        raise UsageError("no song given; give at least one song file")
    if len(songs) != len(beats):
        raise UsageError(f"{len(songs)} songs but {len(beats)} beat grids; give one beat grid per song")
    mapping, spans = plan_spans(beats, steps_s, samplerate, every=every, enter_at_s=enter_at_s, crossfade_s=crossfade_s)
    steps = np.asarray(steps_s, dtype=np.float64)
    entry, k = mapping.entry_step, mapping.steps_per_beat
    grid = _Grid.of(steps[entry::k], origin_frame=origin_frame, crossfade_s=crossfade_s, sr=samplerate)
    n_out = frames if frames is not None else max(grid.end_frame, 1)
    out = np.zeros((n_out, 2), dtype=np.float32)
    chunks: list[np.ndarray | None] = []
    calls: list[_Stretch] = []
    for sp in spans:
        song = _check_song(songs[sp.song], sp.song)
        chunk, call = _stretch_of(sp, song, grid, factors(sp, steps, entry, k), xf_s=crossfade_s, sr=samplerate)
        chunks.append(chunk)
        calls.append(call)
    music_start = _stretch_all(chunks, calls, out, grid, sr=samplerate, engine_args=engine_args, workers=workers)
    start, end = max(music_start, 0), max(min(grid.end_frame, n_out), 0)
    level = normalise(out, samplerate, start, end, target_lufs, max_true_peak_dbtp if limit else math.inf)
    report = MusicReport(
        **{name: getattr(mapping, name) for name in MusicMap.__dataclass_fields__},
        start_frame=int(start),
        end_frame=int(end),
        gain_db=level.gain_db,
        loudness_lufs=level.lufs,
        true_peak_dbtp=level.true_peak_dbtp,
        limiter=level.limiter,
    )
    return out, report


def _check_song(song: np.ndarray, i: int) -> np.ndarray:
    a = np.asarray(song, dtype=np.float32)
    if a.ndim == 1:
        a = np.repeat(a[:, None], 2, axis=1)
    if a.ndim != 2 or a.shape[1] != 2 or a.shape[0] < 2:
        raise UsageError(f"song {i + 1} must be an (n, 2) array, got shape {a.shape}; load it with load_song")
    return a


def _slice_padded(audio: np.ndarray, i0: int, i1: int) -> np.ndarray:
    out = np.zeros((i1 - i0, audio.shape[1]), np.float32)
    a, b = max(i0, 0), min(i1, audio.shape[0])
    if b > a:
        out[a - i0 : b - i0] = audio[a:b]
    return out


def _envelope(o_start: int, o_end: int, first: int, last: int, xf: int, tail: int | None) -> np.ndarray:
    """Gain over output frames o_start..o_end: sine fade-in ending at ``first``; cosine fade-out ending at ``last``
    (a join) or, for the final span (``tail`` given), starting at ``last`` and lasting ``tail`` frames."""
    pos = np.arange(o_start, o_end, dtype=np.float64)
    gain = np.ones(pos.size)
    if xf > 0:
        u = np.clip((pos - (first - xf)) / xf, 0.0, 1.0)
        gain *= np.sin(0.5 * np.pi * u)
    else:
        gain *= pos >= first
    if tail is None:
        if xf > 0:
            v = np.clip((last - pos) / xf, 0.0, 1.0)
            gain *= np.sin(0.5 * np.pi * v)
        else:
            gain *= pos < last
    else:
        v = np.clip((last + tail - pos) / max(tail, 1), 0.0, 1.0)
        gain *= np.sin(0.5 * np.pi * v)
    return gain.astype(np.float32)


def _add(out: np.ndarray, chunk: np.ndarray, start: int) -> None:
    a, b = max(start, 0), min(start + chunk.shape[0], out.shape[0])
    if b > a:
        out[a:b] += chunk[a - start : b - start]
