"""Gain envelopes that keep audio under a ceiling: the music's limiter and the room it leaves for the clicks.

Both work on blocks of ``BLOCK`` frames. A block's *required* gain is the most it may have (ceiling over the block's
peak, at most 1); ``envelope`` smooths it without ever exceeding it, all in numpy (no per-sample loop):

1. hold: the minimum of the required gain over the last ``attack`` blocks;
2. attack: the mean of that hold over the next ``attack`` blocks, a linear ramp that starts ``attack`` blocks before
   a peak (look-ahead) and is, at every block, at most the required gain (each term of the mean holds the block);
3. release: in dB, the reduction falls back exponentially with the time constant ``release`` (blocks), as a running
   maximum of log-reductions shifted by the decay (a one-pole peak hold, vectorised);
4. the gain at each block boundary is the lower of its two blocks' gains and samples interpolate linearly between
   boundaries, so every sample's gain is at most its block's required gain.

The peaks (``block_peaks``: each block's, 4× oversampled where the sample peak comes near the ceiling;
``true_peak_dbtp``: the whole signal's) come from ``stridebeat.core.peaks``, which the click track's own ceiling uses
too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stridebeat.core.peaks import BLOCK, TRUE_PEAK_SEARCH_DB, block_peaks, channel_max, true_peak_dbtp

__all__ = [
    "BLOCK", "TRUE_PEAK_SEARCH_DB", "GainStats", "apply_gain", "block_peaks", "boundary_gains", "envelope", "limit",
    "required_gain", "stats", "true_peak_dbtp",
]  # fmt: skip

FLOOR = 1e-4  # −80 dB: the lowest gain an envelope gives
CHUNK = 1 << 20  # frames interpolated at once when a gain is applied


@dataclass(frozen=True, slots=True, kw_only=True)
class GainStats:
    """How much a gain envelope took away, over the frames it covers."""

    max_db: float  # the deepest reduction
    mean_db: float  # mean reduction over the frames
    share: float  # share of the frames reduced by more than 0.1 dB …
    share_1db: float  # … and by more than 1 dB

    @staticmethod
    def none() -> GainStats:
        return GainStats(max_db=0.0, mean_db=0.0, share=0.0, share_1db=0.0)


def required_gain(peaks: np.ndarray, allowed: np.ndarray | float) -> np.ndarray:
    """Per block: the largest gain (≤ 1) that keeps every channel's ``peaks`` at or under ``allowed``."""
    p = np.asarray(peaks, dtype=np.float64)
    if p.ndim == 1:
        p = p[:, None]
    room = np.maximum(np.asarray(allowed, dtype=np.float64), 0.0)
    if room.ndim == 1:
        room = room[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(p > room, room / np.where(p > 0, p, 1.0), 1.0)
    return np.clip(-channel_max(-g), FLOOR, 1.0)


def envelope(required: np.ndarray, *, attack: int, release: float) -> np.ndarray:
    """Block gains at most ``required`` at every block, ramping down over ``attack`` blocks ahead of each dip and
    back up with a time constant of ``release`` blocks (module docstring). ``(blocks,)`` float64."""
    r = np.clip(np.asarray(required, dtype=np.float64), FLOOR, 1.0)
    n = r.size
    if n == 0 or np.all(r >= 1.0):
        return np.ones(n)
    a = max(1, int(attack))
    # 1. hold: h[j] = min r[j − a + 1 .. j]
    padded = np.concatenate([np.ones(a - 1), r])
    hold = np.lib.stride_tricks.sliding_window_view(padded, a).min(axis=1)
    # 2. attack: mean of hold[j .. j + a − 1]; every term holds block j, so the mean is at most r[j]
    c = np.concatenate([[0.0], np.cumsum(np.concatenate([hold, np.ones(a - 1)]))])
    ramped = np.minimum((c[a : a + n] - c[:n]) / a, r)  # the minimum only absorbs rounding
    # 3. release: reduction d (dB ≥ 0), d_out[j] = max(d[j], d_out[j − 1] · e^(−1/release))
    d = -20.0 * np.log10(ramped)
    if release > 0:
        k = np.arange(n, dtype=np.float64) / release
        with np.errstate(divide="ignore"):
            held = np.maximum.accumulate(np.log(d) + k) - k
        d = np.maximum(d, np.exp(held))
    return 10.0 ** (-d / 20.0)


def boundary_gains(block_gain: np.ndarray) -> np.ndarray:
    """Gains at the ``blocks + 1`` block boundaries: each the lower of the two blocks it joins."""
    g = np.asarray(block_gain, dtype=np.float64)
    if g.size == 0:
        return np.ones(1)
    return np.minimum(np.r_[g[0], g], np.r_[g, g[-1]])


def apply_gain(
    audio: np.ndarray,
    points: np.ndarray,
    *,
    block: int = BLOCK,
    scale: float = 1.0,
    first: int = 0,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """``audio`` · ``scale`` · the gain interpolated linearly between block boundaries ``points`` (boundary i at frame
    i · ``block``; the audio's first frame is frame ``first``), a million frames at a time; into ``out`` (may be
    ``audio`` itself) or a new float32 array."""
    x = np.asarray(audio)
    y = np.empty(x.shape, np.float32) if out is None else out
    where = np.arange(points.size, dtype=np.float64) * block
    for s in range(0, x.shape[0], CHUNK):
        e = min(s + CHUNK, x.shape[0])
        g = (np.interp(np.arange(first + s, first + e, dtype=np.float64), where, points) * scale).astype(np.float32)
        np.multiply(x[s:e], g[:, None] if x.ndim == 2 else g, out=y[s:e])
    return y


def limit(
    audio: np.ndarray,
    *,
    scale: float,
    ceiling: float,
    attack: int,
    release: float,
    peaks: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``audio`` · ``scale`` with every block's true peak held at or under ``ceiling`` (linear) by a smooth gain:
    the result (a new float32 array) and the block gains. ``peaks``: ``block_peaks`` of ``audio``, true peaks at least
    where ``scale`` brings them near the ceiling (computed when None)."""
    if peaks is None:
        peaks = block_peaks(audio, oversample_above=ceiling / scale)
    block_gain = envelope(required_gain(peaks * scale, ceiling), attack=attack, release=release)
    return apply_gain(audio, boundary_gains(block_gain), scale=scale), block_gain


def stats(block_gain: np.ndarray, *, block: int = BLOCK, frames: int | None = None) -> GainStats:
    """How much ``block_gain`` reduces, per block (each block counts as ``block`` frames; ``frames``: the last may be
    shorter)."""
    g = np.asarray(block_gain, dtype=np.float64)
    if g.size == 0:
        return GainStats.none()
    w = np.full(g.size, float(block))
    if frames is not None:
        w[-1] = max(frames - block * (g.size - 1), 0)
    d = -20.0 * np.log10(np.clip(g, FLOOR, 1.0))
    total = float(w.sum()) or 1.0
    return GainStats(
        max_db=float(d.max()),
        mean_db=float(np.dot(d, w) / total),
        share=float(w[d > 0.1].sum() / total),
        share_1db=float(w[d > 1.0].sum() / total),
    )
