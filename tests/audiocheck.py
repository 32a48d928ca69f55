"""Audio checks written for the tests, independent of stridebeat's own code.

The onset detector is deliberately simple so that its behaviour is obvious: an onset is the
first sample whose absolute value exceeds ``threshold`` after at least ``min_gap`` samples that
did not. Clicks in a track are short and separated by silence, so with a threshold well above
the noise floor (and the lossy codecs' ringing) this finds exactly one index per click.

Public API (kept stable, other test modules import it):

- ``read_audio(path) -> (samples float64 [frames, channels], samplerate)``
- ``to_mono_envelope(x) -> float64 [frames]``: max of ``abs`` across channels
- ``detect_onsets(x, *, threshold, min_gap) -> int64 indices``
- ``match_onsets(found, expected, *, tolerance) -> (missing, extra)``
"""

from __future__ import annotations

import os
from typing import Union

import numpy as np
import soundfile as sf

PathLike = Union[str, "os.PathLike[str]"]

__all__ = ["read_audio", "to_mono_envelope", "detect_onsets", "match_onsets", "peak"]


def read_audio(path: PathLike) -> tuple[np.ndarray, int]:
    """Read a whole file with soundfile as float64, always 2-D ``[frames, channels]``."""
    data, samplerate = sf.read(os.fspath(path), dtype="float64", always_2d=True)
    return data, int(samplerate)


def to_mono_envelope(x: np.ndarray) -> np.ndarray:
    """Absolute value, reduced over channels with ``max`` so a hard-panned click still counts."""
    a = np.abs(np.asarray(x, dtype=np.float64))
    if a.ndim == 1:
        return a
    if a.ndim != 2:
        raise ValueError(f"expected a 1-D or 2-D array, got shape {a.shape}")
    return a.max(axis=1)


def detect_onsets(x: np.ndarray, *, threshold: float, min_gap: int) -> np.ndarray:
    """Sample indices where ``|x|`` rises above ``threshold`` after at least ``min_gap`` samples below it.

    Parameters
    ----------
    x : mono ``[frames]`` or multichannel ``[frames, channels]`` array.
    threshold : a sample counts as "above" when ``|x| > threshold`` on any channel.
    min_gap : number of consecutive samples at or below the threshold required before an onset.
        The very start of the signal counts as an unbounded quiet run, so a click on sample 0 is found.

    Returns
    -------
    ``np.ndarray`` of ``int64`` indices, increasing.
    """
    if min_gap < 1:
        raise ValueError("min_gap must be at least 1")
    env = to_mono_envelope(x)
    above = env > threshold
    idx = np.flatnonzero(above)
    if idx.size == 0:
        return idx.astype(np.int64)
    # Quiet run before each above-threshold sample = distance to the previous above sample - 1.
    prev = np.empty_like(idx)
    prev[0] = -(min_gap + 1)  # the start of the file counts as silence
    prev[1:] = idx[:-1]
    quiet_before = idx - prev - 1
    return idx[quiet_before >= min_gap].astype(np.int64)


def match_onsets(found: np.ndarray, expected: np.ndarray, *, tolerance: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Pair each expected onset with a found one within ``tolerance`` samples.

    Returns ``(missing, extra)``: expected indices with no match, found indices matched to nothing.
    """
    found = np.asarray(found, dtype=np.int64)
    expected = np.asarray(expected, dtype=np.int64)
    used = np.zeros(found.size, dtype=bool)
    missing = []
    for e in expected:
        pos = np.searchsorted(found, e - tolerance, side="left")
        hit = False
        while pos < found.size and found[pos] <= e + tolerance:
            if not used[pos]:
                used[pos] = True
                hit = True
                break
            pos += 1
        if not hit:
            missing.append(e)
    return np.asarray(missing, dtype=np.int64), found[~used]


def peak(x: np.ndarray) -> float:
    """Largest absolute sample value."""
    return float(np.max(np.abs(x))) if np.size(x) else 0.0
