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

``Limiter`` is the music's peak limiter on one piece of audio at any gain, and ``loudness_loop`` the secant search
for the gain that puts limited audio at a loudness: the music's own level (``plan``) and its level in the mix
(``mix``) both use them.

The peaks (``block_peaks``: each block's, 4× oversampled where the sample peak comes near the ceiling;
``true_peak_dbtp``: the whole signal's) come from ``stridebeat.core.peaks``, which the click track's own ceiling uses
too.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from stridebeat.core.peaks import BLOCK, TRUE_PEAK_SEARCH_DB, block_peaks, channel_max, true_peak_dbtp
from stridebeat.music.loudness import integrated_lufs

__all__ = [
    "BLOCK", "MAX_TRUE_PEAK_DBTP", "TRUE_PEAK_SEARCH_DB", "GainStats", "Limiter", "apply_gain", "block_peaks",
    "boundary_gains", "envelope", "limit", "loudness_loop", "required_gain", "stats", "true_peak_dbtp",
]  # fmt: skip

T = TypeVar("T")
FLOOR = 1e-4  # −80 dB: the lowest gain an envelope gives
CHUNK = 1 << 20  # frames interpolated at once when a gain is applied
MAX_TRUE_PEAK_DBTP = -1.0
# Attack 2 ms: a kick's first peak keeps most of its snap while the gain ramp stays far longer than one cycle of the
# treble it shapes; release 80 ms: four periods of a 50 Hz bass note (slower gain moves do not distort it) and yet
# back to full well before the next beat (≥ 250 ms apart at up to 240 steps per minute).
LIMIT_ATTACK_S = 0.002
LIMIT_RELEASE_S = 0.080
LOUDNESS_TOLERANCE_LU = 0.2  # the loop stops this close to the target: a fifth of the smallest loudness step heard
LOUDNESS_ROUNDS = 6  # at most this many measure-and-correct rounds


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


class Limiter:
    """The music's peak limiter on one piece of audio, for any gain (module docstring): ``limiter(gain_db)`` gives
    the audio raised by ``gain_db`` with its true peak at most ``max_tp`` dBTP, the block gains and the true peak.

    The block peaks are measured once (true peaks where the gains asked so far could bring them near the ceiling);
    a result whose ramps made an inter-sample peak over the ceiling is made again aiming lower.
    """

    def __init__(self, audio: np.ndarray, samplerate: int, max_tp: float = MAX_TRUE_PEAK_DBTP) -> None:
        self.audio = audio
        self.samplerate = samplerate
        self.max_tp = max_tp
        self.aim_db = max_tp - 0.02  # a little under the ceiling: the gain ramps are not band-limited
        self.attack = max(1, round(LIMIT_ATTACK_S * samplerate / BLOCK))
        self.release = LIMIT_RELEASE_S * samplerate / BLOCK
        self._covered_db = -math.inf  # the block peaks are true peaks wherever gains up to this bring them near
        self._peaks = np.zeros((0, 2), np.float32)
        self._sample_peak = float(np.max(block_peaks(audio), initial=0.0))
        self._true_peak_db: float | None = None  # of the audio as given, once needed

    def __call__(self, gain_db: float) -> tuple[np.ndarray, np.ndarray, float]:
        scale = 10.0 ** (gain_db / 20.0)
        bound_db = 20.0 * math.log10(max(self._sample_peak * scale, 1e-12)) + TRUE_PEAK_SEARCH_DB
        if bound_db <= self.aim_db:  # far under the ceiling even between samples: a plain gain
            if self._true_peak_db is None:
                self._true_peak_db = true_peak_dbtp(self.audio, self.samplerate)
            blocks = -(-self.audio.shape[0] // BLOCK)
            return self.audio * np.float32(scale), np.ones(blocks), self._true_peak_db + gain_db
        for _ in range(4):
            if gain_db > self._covered_db:
                self._covered_db = gain_db + 6.0
                above = 10.0 ** ((self.aim_db - self._covered_db) / 20.0)
                self._peaks = block_peaks(self.audio, oversample_above=above)
            result, block_gain = limit(
                self.audio, scale=10.0 ** (gain_db / 20.0), ceiling=10.0 ** (self.aim_db / 20.0),
                attack=self.attack, release=self.release, peaks=self._peaks,
            )  # fmt: skip
            tp = true_peak_dbtp(result, self.samplerate)
            if tp <= self.max_tp:
                return result, block_gain, tp
            self.aim_db -= tp - self.max_tp + 0.02
        # never seen: the ramps keep overshooting; scale the last result under the ceiling
        fix = np.float32(10.0 ** ((self.max_tp - 0.05 - tp) / 20.0))
        return result * fix, block_gain * float(fix), tp + 20.0 * math.log10(float(fix))


def loudness_loop(
    measure: Callable[[float], tuple[float, T]], gain_db: float, target_lufs: float, *, most_db: float = math.inf
) -> tuple[float, float, T]:
    """The gain (dB, at most ``most_db``) at which ``measure(gain)`` (loudness, and what was measured) gives
    ``target_lufs`` within ``LOUDNESS_TOLERANCE_LU``: secant steps from ``gain_db`` (limiting makes loudness grow
    slower than the gain), at most ``LOUDNESS_ROUNDS`` measures; the closest one is returned as (gain, loudness,
    what was measured)."""
    tried: list[tuple[float, float]] = []
    best: tuple[float, float, float, T] | None = None  # (|error|, gain, loudness, what was measured)
    for _ in range(LOUDNESS_ROUNDS):
        lufs, payload = measure(gain_db)
        error = lufs - target_lufs
        if best is None or abs(error) < best[0]:
            best = (abs(error), gain_db, lufs, payload)
        if abs(error) <= LOUDNESS_TOLERANCE_LU or not math.isfinite(error):
            break
        tried.append((gain_db, lufs))
        slope = 1.0
        if len(tried) >= 2 and tried[-1][0] != tried[-2][0]:
            slope = min(max((tried[-1][1] - tried[-2][1]) / (tried[-1][0] - tried[-2][0]), 0.2), 1.0)
        step = min(gain_db - error / slope, most_db)
        if step == gain_db:  # at the limit already
            break
        gain_db = step
    assert best is not None
    return best[1], best[2], best[3]


@dataclass(frozen=True, slots=True, kw_only=True)
class Level:
    gain_db: float
    lufs: float
    true_peak_dbtp: float
    limiter: GainStats


def normalise(out: np.ndarray, samplerate: int, start: int, end: int, target_lufs: float, max_tp: float) -> Level:
    """Scale ``out[start:end]`` in place: loudness to ``target_lufs``, true peak at most ``max_tp`` (module
    docstring: one gain, then the limiter and the loudness loop where the peak needs them)."""
    music = out[start:end]
    if music.shape[0] < round(0.4 * samplerate) or not np.any(music):
        return Level(gain_db=0.0, lufs=-math.inf, true_peak_dbtp=true_peak_dbtp(music, samplerate),
                      limiter=GainStats.none())  # fmt: skip
    loudness = integrated_lufs(music, samplerate)
    peak = true_peak_dbtp(music, samplerate)
    if not math.isfinite(loudness):
        return Level(gain_db=0.0, lufs=loudness, true_peak_dbtp=peak, limiter=GainStats.none())
    gain_db = target_lufs - loudness
    if peak + gain_db <= max_tp:  # the peak allows the gain (or no ceiling is asked for): nothing to limit
        music *= np.float32(10.0 ** (gain_db / 20.0))
        return Level(gain_db=gain_db, lufs=target_lufs, true_peak_dbtp=peak + gain_db, limiter=GainStats.none())
    stem = Limiter(music, samplerate, max_tp)

    def measure(g: float) -> tuple[float, tuple[np.ndarray, np.ndarray, float]]:
        result, block_gain, tp = stem(g)
        return integrated_lufs(result, samplerate), (result, block_gain, tp)

    gain_db, lufs, (result, block_gain, tp) = loudness_loop(measure, gain_db, target_lufs)
    music[...] = result
    return Level(gain_db=gain_db, lufs=lufs, true_peak_dbtp=tp, limiter=stats(block_gain))
