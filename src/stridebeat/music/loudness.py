"""Integrated loudness (ITU-R BS.1770-4) in numpy alone.

The meter is pyloudnorm's: the same K-weighting biquads (RBJ cookbook high shelf +4 dB at 1500 Hz, Q 1/√2, then a
38 Hz high pass, Q 0.5), the same 400 ms blocks with 75 % overlap and the same two gates. Only the filtering differs:
instead of ``scipy.signal.lfilter`` (importing scipy.signal costs over a second in every process that renders music),
the cascade's impulse response, run for ``IR_SECONDS`` until it has decayed below 1e-15, is convolved block-wise by
FFT (overlap-add). The tests hold the result to pyloudnorm's meter.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

IR_SECONDS = 0.2  # the 38 Hz high pass is a double pole: its response is n·rⁿ, under 1e-15 of its peak by then
FFT_SIZE = 1 << 16
FFT_GROUP = 32  # segments transformed at once: bounded memory for long tracks
BLOCK_S, OVERLAP_STEP = 0.4, 0.25  # BS.1770 gating blocks: 400 ms, hop a quarter of that
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0


def k_weighting_biquads(samplerate: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """The two stages ``(b, a)`` (normalised, ``a[0] = 1``) of the K-weighting filter at ``samplerate``, as
    pyloudnorm designs them (its ``IIRfilter`` ``high_shelf`` and ``high_pass``)."""
    w0 = 2.0 * math.pi * 1500.0 / samplerate
    big_a = 10.0 ** (4.0 / 40.0)
    alpha = math.sin(w0) / (2.0 * (1.0 / math.sqrt(2.0)))
    c, root = math.cos(w0), 2.0 * math.sqrt(big_a) * alpha
    shelf_b = [
        big_a * ((big_a + 1) + (big_a - 1) * c + root),
        -2 * big_a * ((big_a - 1) + (big_a + 1) * c),
        big_a * ((big_a + 1) + (big_a - 1) * c - root),
    ]
    shelf_a = [
        (big_a + 1) - (big_a - 1) * c + root,
        2 * ((big_a - 1) - (big_a + 1) * c),
        (big_a + 1) - (big_a - 1) * c - root,
    ]
    w0 = 2.0 * math.pi * 38.0 / samplerate
    alpha, c = math.sin(w0) / (2.0 * 0.5), math.cos(w0)
    hp_b = [(1 + c) / 2, -(1 + c), (1 + c) / 2]
    hp_a = [1 + alpha, -2 * c, 1 - alpha]
    return tuple((np.array(b) / a[0], np.array(a) / a[0]) for b, a in ((shelf_b, shelf_a), (hp_b, hp_a)))


@lru_cache(maxsize=4)
def k_weighting_ir(samplerate: int) -> np.ndarray:
    """Impulse response of the K-weighting cascade over ``IR_SECONDS`` (float64), run sample by sample once per rate."""
    n = max(1, int(IR_SECONDS * samplerate))
    y = [1.0] + [0.0] * (n - 1)
    for b, a in k_weighting_biquads(samplerate):
        b0, b1, b2 = (float(v) for v in b)
        a1, a2 = float(a[1]), float(a[2])
        x1 = x2 = y1 = y2 = 0.0
        out = [0.0] * n
        for i, xi in enumerate(y):
            yi = b0 * xi + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
            out[i] = yi
            x2, x1, y2, y1 = x1, xi, y1, yi
        y = out
    ir = np.array(y)
    ir.setflags(write=False)
    return ir


def k_weighted(signal: np.ndarray, samplerate: int) -> np.ndarray:
    """One channel through the K-weighting filter (zero initial state, like ``lfilter``), float32."""
    x = np.asarray(signal, dtype=np.float32)
    h = k_weighting_ir(samplerate).astype(np.float32)
    size = max(FFT_SIZE, 1 << int(math.ceil(math.log2(2 * h.size))))
    step = size - h.size + 1
    n = x.size
    segments = -(-n // step)
    out = np.zeros(segments * step + size, np.float32)
    padded = np.zeros(segments * step, np.float32)
    padded[:n] = x
    rows = padded.reshape(segments, step)
    spectrum = np.fft.rfft(h, n=size)
    tail = size - step
    for g0 in range(0, segments, FFT_GROUP):
        y = np.fft.irfft(np.fft.rfft(rows[g0 : g0 + FFT_GROUP], n=size, axis=1) * spectrum, n=size, axis=1)
        k, base = y.shape[0], g0 * step
        out[base : base + k * step] += y[:, :step].reshape(-1)
        spill = np.zeros((k, step), np.float32)  # each segment's tail runs into the next segment's head
        spill[:, :tail] = y[:, step:]
        out[base + step : base + (k + 1) * step] += spill.reshape(-1)
    return out[:n]


def integrated_lufs(audio: np.ndarray, samplerate: int) -> float:
    """Integrated loudness (LUFS) of ``(n, channels)`` audio, channel gains 1 (mono or stereo); −inf for silence.

    The block energies are sums of four 100 ms hops, each channel filtered once, and both gates are computed at once,
    where ``pyloudnorm.Meter.integrated_loudness`` loops over the blocks in Python.
    """
    x = np.asarray(audio)
    if x.ndim == 1:
        x = x[:, None]
    n_blocks = int(np.round((x.shape[0] / samplerate - BLOCK_S) / (BLOCK_S * OVERLAP_STEP))) + 1
    if n_blocks < 1:
        return -math.inf
    hop = BLOCK_S * OVERLAP_STEP * samplerate
    end = min(int(BLOCK_S * ((n_blocks - 1) * OVERLAP_STEP + 1) * samplerate), x.shape[0])  # pyloudnorm's last block
    hop_starts = (hop * np.arange(n_blocks + 3)).astype(np.int64)
    hop_starts = hop_starts[hop_starts < end]
    hops = np.zeros(hop_starts.size)
    for c in range(x.shape[1]):
        y = k_weighted(x[:end, c], samplerate).astype(np.float64)
        np.square(y, out=y)
        hops += np.add.reduceat(y, hop_starts)
        del y
    hops = np.r_[hops, np.zeros(4)]
    z = hops[:n_blocks] + hops[1 : n_blocks + 1] + hops[2 : n_blocks + 2] + hops[3 : n_blocks + 3]
    z /= BLOCK_S * samplerate  # mean square summed over channels (gains 1)
    with np.errstate(divide="ignore"):
        block_lufs = -0.691 + 10.0 * np.log10(z)
        gated = z[block_lufs >= ABSOLUTE_GATE_LUFS]
        if gated.size == 0:
            return -math.inf
        relative = -0.691 + 10.0 * np.log10(gated.mean()) + RELATIVE_GATE_LU
        keep = z[(block_lufs > relative) & (block_lufs > ABSOLUTE_GATE_LUFS)]
        return float(-0.691 + 10.0 * np.log10(keep.mean())) if keep.size else -math.inf
