"""Click sounds, synthesised at the output rate.

Every sound is a sum of sinusoids below 8 kHz (or, for the gun, noise), evaluated directly at the output sample rate:
nothing is a naive square or sawtooth, so nothing aliases at 22.05 kHz and up. Each click starts at full carrier
phase (a cosine), so its first sample is already non-zero: the onset of a click is exactly the sample it is scheduled
on, with no ramp that would blur where the beat is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from stridebeat.core.peaks import true_peak
from stridebeat.core.vocabulary import ClickSound
from stridebeat.errors import UsageError

if TYPE_CHECKING:
    from stridebeat.core.arrays import Floats


@dataclass(frozen=True, slots=True, kw_only=True)
class _Voice:
    partials: tuple[tuple[float, float, float], ...]  # (frequency Hz, amplitude, decay time constant s)
    length_s: float
    attack_s: float = 0.0002


# A woodblock is a few inharmonic modes decaying in ~10 ms; a tick is a short bright click; a beep is a tone burst.
# One voice per word of the vocabulary (ClickSound): a word without a sound fails here, at import.
CLICKS: dict[str, _Voice] = {
    ClickSound.WOODBLOCK: _Voice(
        partials=((820.0, 1.0, 0.012), (1960.0, 0.55, 0.006), (3100.0, 0.25, 0.003)), length_s=0.060
    ),
    ClickSound.TICK: _Voice(partials=((3400.0, 1.0, 0.0025), (5200.0, 0.5, 0.0015)), length_s=0.015),
    ClickSound.BEEP: _Voice(partials=((2000.0, 1.0, 0.5),), length_s=0.030),
}
if set(CLICKS) != set(ClickSound):
    raise ImportError("core/sounds.py must define a sound for every ClickSound")
DEFAULT_CLICK = ClickSound.WOODBLOCK.value
CLICK_PEAK = 0.7  # linear; leaves room for an accent and for speech on top, before the −1 dBFS ceiling
ACCENT_GAIN = 1.0
PLAIN_GAIN = 0.6


def _envelope(n: int, sr: int, attack_s: float, release_s: float) -> np.ndarray:
    t = np.arange(n) / sr
    # 1 − e^(−(t + 1/sr)/attack) makes the first sample already ~10 % of full scale; the release keeps the end smooth.
    env = 1.0 - np.exp(-(t + 1.0 / sr) / attack_s)
    tail = max(1, int(release_s * sr))
    env[-tail:] *= 0.5 * (1.0 + np.cos(np.linspace(0.0, np.pi, tail)))
    return env


def click(name: str, samplerate: int) -> np.ndarray:
    """One click (mono float32) at ``samplerate``, peak ``CLICK_PEAK``."""
    try:
        voice = CLICKS[name]
    except KeyError:
        raise UsageError(f"unknown sound {name!r}: use one of {', '.join(CLICKS)}") from None
    n = int(round(voice.length_s * samplerate))
    t = np.arange(n) / samplerate
    x = np.zeros(n)
    for freq, amp, decay in voice.partials:
        if freq < samplerate / 2.5:  # keep clear of Nyquist at low output rates
            x += amp * np.cos(2 * np.pi * freq * t) * np.exp(-t / decay)
    x *= _envelope(n, samplerate, voice.attack_s, min(0.005, voice.length_s / 4))
    return (x * (CLICK_PEAK / float(np.max(np.abs(x))))).astype(np.float32)


def split_tone(samplerate: int) -> np.ndarray:
    """A two-note chime (A5 then E6) that marks a 100 m split when no voice is used."""
    n = int(0.24 * samplerate)
    half = n // 2
    freq = np.where(np.arange(n) < half, 880.0, 1318.5)
    # Phase is the integral of frequency, so the note change has no discontinuity.
    phase = 2 * np.pi * np.cumsum(freq) / samplerate
    x: Floats = np.cos(phase - phase[0]) * _envelope(n, samplerate, 0.002, 0.03)
    return (0.35 * x / float(np.max(np.abs(x)))).astype(np.float32)


def gun(samplerate: int) -> np.ndarray:
    """A starter's pistol: a sharp broadband crack with a short, dark tail (seeded noise, so every render is equal)."""
    n = int(0.35 * samplerate)
    t = np.arange(n) / samplerate
    noise = np.random.default_rng(400).uniform(-1.0, 1.0, n)
    crack = noise * np.exp(-t / 0.004)
    # A one-pole low-pass of the same noise gives the tail its body without a resonance that would read as a pitch;
    # its impulse response is gone within 64 samples, so a short convolution is exact enough and vectorised.
    alpha = np.exp(-2 * np.pi * 1200.0 / samplerate)
    kernel = (1 - alpha) * alpha ** np.arange(64)
    body = np.convolve(noise, kernel)[:n]
    x = crack + 3.0 * body * np.exp(-t / 0.06)
    x[0] = abs(x[0]) + 0.5  # the crack starts on its sample
    # White noise peaks well over its samples between them: scaled by its true peak, the crack cannot push a mix
    # over the ceiling after a DAC or an MP3 decoder.
    return (0.8 * x / true_peak(x)).astype(np.float32)
