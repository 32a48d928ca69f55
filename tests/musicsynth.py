"""Synthetic songs with known beats for the music tests (numpy only, deterministic): a band on given beats (kick on
every beat, snare on 2 and 4, hats on the eighths, bass on the beats, a chord per bar), straight, swung or with a tempo
change, and the footstrikes of a 400 m shape. tests/data/make_music_reference.py analyses the same songs with librosa.
"""

from __future__ import annotations

import numpy as np

SR = 44100


def _decay(n: int, tau_s: float) -> np.ndarray:
    return np.exp(-np.arange(n) / (tau_s * SR))


def synth_song(
    beats_s: np.ndarray, duration_s: float, *, swing: float = 0.5, tone_hz: float | None = None, seed: int = 0
) -> np.ndarray:
    """A band on the given beats: ``(n, 2)`` float32. ``swing`` is where the off-beat hat sits (0.5 straight, 2/3
    swung); ``tone_hz`` adds a steady sine for pitch checks."""
    rng = np.random.default_rng(seed)
    n = round(duration_s * SR)
    out = np.zeros(n)
    beats = np.asarray(beats_s, dtype=np.float64)
    ibis = np.diff(beats, append=2 * beats[-1] - beats[-2])
    tk = np.arange(round(0.25 * SR)) / SR
    kick = np.sin(2 * np.pi * (45 * tk + 75 * 0.03 * (1 - np.exp(-tk / 0.03)))) * _decay(tk.size, 0.12)
    ns = round(0.18 * SR)
    snare = 0.5 * rng.standard_normal(ns) * _decay(ns, 0.05) + 0.4 * np.sin(
        2 * np.pi * 185 * np.arange(ns) / SR
    ) * _decay(ns, 0.06)
    nh = round(0.05 * SR)
    hat = np.diff(rng.standard_normal(nh + 1)) * _decay(nh, 0.012)
    roots = [55.0, 55.0 * 2 ** (5 / 12), 55.0 * 2 ** (7 / 12), 55.0 * 2 ** (3 / 12)]

    def add(sig: np.ndarray, at_s: float, gain: float) -> None:
        i = round(at_s * SR)
        if 0 <= i < n:
            m = min(sig.size, n - i)
            out[i : i + m] += gain * sig[:m]

    for j, (b, ibi) in enumerate(zip(beats, ibis, strict=True)):
        add(kick, b, 0.8)
        if j % 2 == 1:
            add(snare, b, 0.35)
        add(hat, b, 0.12)
        add(hat, b + swing * ibi, 0.09)
        root = roots[(j // 4) % 4]
        tb = np.arange(round(0.9 * ibi * SR)) / SR
        bass = sum(np.sin(2 * np.pi * root * h * tb) / h for h in (1, 2, 3))
        add(bass * np.minimum(1, tb / 0.008) * _decay(tb.size, 0.25), b, 0.18)
        if j % 4 == 0:
            tc = np.arange(round(min(4 * ibi, duration_s - b) * SR)) / SR
            env = np.minimum(1, tc / 0.04) * np.minimum(1, (tc[-1] - tc) / 0.05)
            add(sum(np.sin(2 * np.pi * root * 4 * r * tc) for r in (1, 2 ** (4 / 12), 2 ** (7 / 12))) * env, b, 0.05)
    if tone_hz:
        out += 0.15 * np.sin(2 * np.pi * tone_hz * np.arange(n) / SR)
    out *= 0.7
    return np.stack([out, out], axis=1).astype(np.float32)


def beat_grid(bpm: float, duration_s: float, first_s: float = 0.5) -> np.ndarray:
    return np.arange(first_s, duration_s - 0.3, 60.0 / bpm)


def tempo_change(bpm1: float, bpm2: float, duration_s: float, change_s: float, first_s: float = 0.5) -> np.ndarray:
    a = np.arange(first_s, change_s, 60.0 / bpm1)
    return np.r_[a, np.arange(a[-1] + 60.0 / bpm2, duration_s - 0.3, 60.0 / bpm2)]


def race_steps(
    duration_s: float = 51.0,
    *,
    start: float = 180.0,
    top: float = 235.0,
    ramp_s: float = 5.0,
    settle: float = 228.0,
    settle_at_s: float = 30.0,
) -> np.ndarray:
    """Footstrike times of a 400 m shape: 180 → 235 spm in 5 s, fading to 228 spm by 30 s, then held."""
    dt = 0.001
    t = np.arange(0.0, duration_s + dt, dt)
    spm = np.where(
        t < ramp_s,
        start + (top - start) * t / ramp_s,
        np.where(t < settle_at_s, top + (settle - top) * (t - ramp_s) / (settle_at_s - ramp_s), settle),
    )
    phase = np.r_[0.0, np.cumsum(0.5 * (spm[1:] + spm[:-1]) / 60.0 * dt)]
    return np.interp(np.arange(int(phase[-1]) + 1), phase, t)
