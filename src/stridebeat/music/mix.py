"""Music into a track, without touching how the track is built: a new ``Track`` with the music as more events.

The music is cut into chunks of at most ``CHUNK_S`` (left and right each a mono sound, gains (1, 0) and (0, 1)), so the
renderer's look-back for sounding events and its scratch stay small: a chunk is no longer than a voice clip, and the
chunks are contiguous, so the sum is the music sample for sample. The music is ducked under the calls by the clicks'
depth (smooth ramps), the clicks can be softer or gone, and the master level keeps the sum under −1 dBFS (the track's
own peak bound, with the music counted per short block; when that bound is over, the track is rendered once and
lowered only as far as its real peak needs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from stridebeat.core.render import Renderer
from stridebeat.core.track import CEILING, Track, _peak_bound

CHUNK_S = 1.0
DUCK_RAMP_S = 0.05
BOUND_BLOCK = 1024  # frames: the music's peak is counted per block of this many frames in the peak bound
CLICK_ID = 0  # build_track puts the click first in the bank


def duck(audio: np.ndarray, start_frame: int, spans: Sequence[tuple[int, int]], duck_db: float, sr: int) -> None:
    """Lower ``audio`` (``(n, 2)``, placed at ``start_frame``) by ``duck_db`` under each span, in place, with ramps of
    ``DUCK_RAMP_S`` before and after (overlapping or close spans merge)."""
    if duck_db <= 0 or not spans:
        return
    r = max(1, int(round(DUCK_RAMP_S * sr)))
    depth = 10 ** (-duck_db / 20.0)
    merged: list[list[int]] = []
    for a, b in sorted(spans):
        if merged and a - r <= merged[-1][1] + r:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    n = len(audio)
    for a, b in merged:
        lo, hi = max(a - r - start_frame, 0), min(b + r - start_frame, n)
        if hi <= lo:
            continue
        x = np.arange(lo, hi) + start_frame
        env = np.interp(x, [a - r, a, b, b + r], [1.0, depth, depth, 1.0]).astype(np.float32)
        audio[lo:hi] *= env[:, None]


def with_music(
    track: Track,
    segments: Sequence[tuple[int, np.ndarray]],
    speech_spans: Sequence[tuple[int, int]],
    *,
    duck_db: float,
    click_gain: float = 1.0,
) -> Track:
    """``track`` with the music ``segments`` ((start frame, ``(n, 2)`` float32), not overlapping) added.

    The music is ducked by ``duck_db`` under ``speech_spans`` (frames); the clicks' gains are scaled by ``click_gain``
    (0 drops them); the segments are ducked in place. If the sum passes −1 dBFS, every gain is lowered together,
    just enough.
    """
    sr = track.samplerate
    keep = np.ones(len(track.onsets), dtype=bool)
    gains = track.gains.astype(np.float32).copy()
    clicks = track.sound_ids == CLICK_ID
    if click_gain <= 0:
        keep &= ~clicks
    else:
        gains[clicks] *= np.float32(click_gain)
    bank = list(track.sounds)
    onsets = [track.onsets[keep]]
    ids = [track.sound_ids[keep]]
    gain_rows = [gains[keep]]
    chunk = max(1, int(CHUNK_S * sr))
    b_on: list[np.ndarray] = []
    b_peak: list[np.ndarray] = []  # (blocks, 2): the music's peak per block and channel, for the bound
    end = track.n_frames
    for start, audio in segments:
        audio = np.ascontiguousarray(audio, dtype=np.float32)  # ours: ducked in place
        duck(audio, start, speech_spans, duck_db, sr)
        for c0 in range(0, len(audio), chunk):
            piece = audio[c0 : c0 + chunk]
            for ch in (0, 1):
                bank.append(np.ascontiguousarray(piece[:, ch]))
                onsets.append(np.array([start + c0], dtype=np.int64))
                ids.append(np.array([len(bank) - 1], dtype=np.intp))
                gain_rows.append(np.array([[1.0, 0.0] if ch == 0 else [0.0, 1.0]], dtype=np.float32))
        nb = -(-len(audio) // BOUND_BLOCK)
        padded = np.zeros((nb * BOUND_BLOCK, 2), dtype=np.float32)
        padded[: len(audio)] = np.abs(audio)
        b_peak.append(padded.reshape(nb, BOUND_BLOCK, 2).max(axis=1))
        b_on.append(start + BOUND_BLOCK * np.arange(nb, dtype=np.int64))
        end = max(end, start + len(audio))
    onsets_a = np.concatenate(onsets)
    ids_a = np.concatenate(ids)
    gains_a = np.concatenate(gain_rows).astype(np.float32)
    order = np.argsort(onsets_a, kind="stable")
    onsets_a, ids_a, gains_a = onsets_a[order], ids_a[order], gains_a[order]

    # The peak bound per channel: every non-music event at its peak, plus the music's block peaks.
    music = ids_a >= len(track.sounds)
    other = ~music
    lengths = np.array([len(s) for s in bank])[ids_a[other]]
    peaks = np.array([float(np.max(np.abs(s))) if len(s) else 0.0 for s in track.sounds])[ids_a[other]]
    m_on = np.concatenate(b_on) if b_on else np.zeros(0, dtype=np.int64)
    m_peak = np.concatenate(b_peak) if b_peak else np.zeros((0, 2), dtype=np.float32)
    bound = 0.0
    for ch in (0, 1):
        pos = np.concatenate([onsets_a[other], m_on])
        lens = np.concatenate([lengths, np.full(len(m_on), BOUND_BLOCK)])
        w = np.concatenate([peaks * gains_a[other, ch], m_peak[:, ch]])
        bound = max(bound, _peak_bound(pos, lens, w))
    mixed = replace(track, n_frames=int(end), onsets=onsets_a, sound_ids=ids_a, gains=gains_a, sounds=tuple(bank))
    if bound <= CEILING:
        return mixed
    # The bound adds peaks that may not meet: render once and lower everything only as far as the real peak needs.
    peak = rendered_peak(mixed)
    if peak <= CEILING:
        return mixed
    return replace(mixed, gains=(gains_a * np.float32(CEILING / peak * (1 - 1e-4))).astype(np.float32))


def rendered_peak(track: Track) -> float:
    """The largest absolute sample of the whole track, as the renderer makes it."""
    peak = 0.0
    for _, block in Renderer(track).blocks():
        peak = max(peak, float(np.max(np.abs(block))))
    return peak
