"""librosa's onset-strength envelope and tempo estimate, in numpy alone.

``onset_strength`` computes what ``librosa.onset.onset_strength(y=y, sr=sr, hop_length=hop_length)`` does and
``tempo`` what ``librosa.feature.tempo(onset_envelope=..., sr=sr, hop_length=hop_length)[0]`` does, with librosa
0.11's defaults, step for step and in the same dtypes. Why not call librosa: importing ``librosa.onset`` pulls in
scipy.signal, numba and most of librosa, and every ``stridebeat render --music`` process would pay for that import
before it analyses a single sample, a large part of a render's time budget. Only numpy (and its FFT) is needed here.

librosa stays the reference: tests/test_music_onset.py holds these functions to librosa's results on songs, noise,
tones, silence and short signals.

The envelope: a centred STFT (2048-sample periodic Hann window, zero padding), its power through a 128-band Slaney
mel filterbank up to ``sr / 2``, converted to dB (floor 1e-10, at most 80 dB under the loudest bin), then the mean over
bands of each band's rise since the previous frame (falls count as zero), delayed by the STFT's centring. The tempo:
the envelope's windowed autocorrelation over 8 s around each frame (the tempogram), each frame's normalised to a peak
of 1, averaged over time and weighted by a log-normal prior around 120 bpm; the lag with the highest weighted value,
under 320 bpm, gives the tempo.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

N_FFT = 2048
N_MELS = 128
AMIN = 1e-10  # power floor before the dB conversion
TOP_DB = 80.0  # dynamic range kept under the loudest mel bin
AC_SIZE_S = 8.0  # tempogram window
START_BPM, STD_OCTAVES = 120.0, 1.0  # the prior on the tempo: log-normal, in octaves
MAX_BPM = 320.0
_BLOCK = 1024  # frames per FFT batch: bounds the memory of a long song's intermediate arrays

_MEL_BASES: dict[tuple[float, int, int], np.ndarray] = {}


def onset_strength(y: np.ndarray, sr: float, hop_length: int = 512) -> np.ndarray:
    """The onset-strength envelope of mono audio ``y``: one value per hop, ``1 + len(y) // hop_length`` of them.

    float32 for float32 audio (float64 for float64). Silence and audio shorter than a frame give zeros, as librosa's
    does (without its warning about short input). Non-float, multi-channel or non-finite audio raises ``ValueError``.
    """
    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.floating):
        raise ValueError(f"audio must be one-dimensional floating point, got {y.dtype} of shape {y.shape}")
    if not np.isfinite(y).all():
        raise ValueError("audio holds NaN or infinite samples")
    if hop_length < 1:
        raise ValueError(f"hop_length must be positive, got {hop_length}")
    mel_db = _power_to_db(_mel_power(y, sr, hop_length))
    rise = np.maximum(0.0, mel_db[:, 1:] - mel_db[:, :-1])
    env = rise.mean(axis=0)  # over bands, summed row by row as librosa's layout does
    # The first frame has no predecessor, and a centred frame's content is half a window late
    delay = 1 + N_FFT // (2 * hop_length)
    return np.pad(env, (delay, 0))[: mel_db.shape[1]]


def tempo(envelope: np.ndarray, sr: float, hop_length: int = 512) -> float:
    """The tempo (bpm) of an onset-strength ``envelope`` at ``sr / hop_length`` frames per second.

    A flat envelope has no autocorrelation, so the prior alone decides: the lag nearest 120 bpm.
    """
    env = np.asarray(envelope)
    if env.ndim != 1 or env.size == 0:
        raise ValueError(f"the envelope must be one-dimensional and not empty, got shape {env.shape}")
    win_length = int(AC_SIZE_S * sr) // hop_length
    if win_length < 1:
        raise ValueError(f"hop_length {hop_length} is longer than the {AC_SIZE_S:g} s tempogram window")
    autocorr = _mean_tempogram(env, win_length)
    with np.errstate(divide="ignore"):  # lag 0 is an infinite tempo
        bpms = 60.0 * sr / (hop_length * np.arange(win_length, dtype=np.float64))
    logprior = -0.5 * ((np.log2(bpms) - np.log2(START_BPM)) / STD_OCTAVES) ** 2
    logprior[: int(np.argmax(bpms < MAX_BPM))] = -np.inf
    return float(bpms[np.argmax(np.log1p(1e6 * autocorr) + logprior)])


def mel_basis(sr: float, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """librosa's default mel filterbank, ``(n_mels, 1 + n_fft // 2)`` float32: Slaney's mel scale, triangles from 0 Hz
    to ``sr / 2``, each scaled to unit area in Hz (``norm='slaney'``). Built once per key and cached; do not modify."""
    key = (float(sr), int(n_fft), int(n_mels))
    basis = _MEL_BASES.get(key)
    if basis is None:
        basis = _MEL_BASES[key] = _build_mel_basis(*key)
        basis.flags.writeable = False
    return basis


# ------------------------------------------------------------------------------------------------- the envelope
def _mel_power(y: np.ndarray, sr: float, hop_length: int) -> np.ndarray:
    """The mel power spectrogram ``(N_MELS, frames)`` of the centred, zero-padded STFT, batch by batch."""
    window = _hann(N_FFT)
    padded = np.pad(y, N_FFT // 2)
    frames = sliding_window_view(padded, N_FFT)[::hop_length]
    basis = mel_basis(sr)
    # librosa stores the float64 FFT in complex64 for float32 audio: the rounding there is part of its result
    spec_dtype = np.result_type(y.dtype, np.complex64)
    out = np.empty((N_MELS, frames.shape[0]), dtype=np.result_type(y.dtype, basis.dtype))
    for start in range(0, frames.shape[0], _BLOCK):
        stop = min(start + _BLOCK, frames.shape[0])
        spec = np.fft.rfft(frames[start:stop] * window, axis=-1).astype(spec_dtype, copy=False)
        out[:, start:stop] = basis @ (np.abs(spec) ** 2.0).T
    return out


def _power_to_db(power: np.ndarray) -> np.ndarray:
    db = 10.0 * np.log10(np.maximum(AMIN, power))
    return np.maximum(db, db.max() - TOP_DB)


def _hann(n: int) -> np.ndarray:
    """The periodic ("DFT-even") Hann window, float64, computed as scipy.signal.get_window('hann', n) does."""
    if n <= 1:
        return np.ones(n)
    fac = np.linspace(-np.pi, np.pi, n + 1)
    w = np.zeros(n + 1)
    w += 0.5 * np.cos(0.0 * fac)  # scipy's general cosine sum, term by term, for the same rounding
    w += 0.5 * np.cos(fac)
    return w[:-1]


def _build_mel_basis(sr: float, n_fft: int, n_mels: int) -> np.ndarray:
    weights = np.zeros((n_mels, 1 + n_fft // 2), dtype=np.float32)
    fft_freqs = np.fft.rfftfreq(n=n_fft, d=1.0 / sr)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(sr / 2.0), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fft_freqs)
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    # Scaled in place, after the float32 rounding above, as librosa does
    weights *= (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, np.newaxis]
    return weights


# Slaney's mel scale: linear to 1 kHz (200/3 Hz per mel), logarithmic above (27 mels per factor 6.4)
_F_SP = 200.0 / 3
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = np.log(6.4) / 27.0


def _hz_to_mel(hz: float) -> float:
    if hz >= _MIN_LOG_HZ:
        return float(_MIN_LOG_MEL + np.log(hz / _MIN_LOG_HZ) / _LOGSTEP)
    return hz / _F_SP


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    hz = _F_SP * mels
    log = mels >= _MIN_LOG_MEL
    hz[log] = _MIN_LOG_HZ * np.exp(_LOGSTEP * (mels[log] - _MIN_LOG_MEL))
    return hz


# ------------------------------------------------------------------------------------------------- the tempo
def _mean_tempogram(env: np.ndarray, win_length: int) -> np.ndarray:
    """The time average of the autocorrelation tempogram, ``(win_length,)`` float64.

    Each frame: the envelope's ``win_length`` values centred on it (the ends ramp down to zero), Hann-windowed,
    autocorrelated through a zero-padded FFT, divided by its largest magnitude (an all-zero frame stays zero).
    """
    n = env.size
    padded = np.pad(env, win_length // 2, mode="linear_ramp", end_values=0)
    frames = sliding_window_view(padded, win_length)[:n]
    window = _hann(win_length)
    n_fft = _next_fast_len_real(2 * win_length - 1)  # the FFT size librosa (scipy) picks, for the same rounding
    total = np.zeros(win_length)
    for start in range(0, n, _BLOCK):
        spec = np.fft.rfft(frames[start : start + _BLOCK] * window, n=n_fft, axis=-1)
        autocorr = np.fft.irfft(spec.real**2 + spec.imag**2, n=n_fft, axis=-1)[:, :win_length]
        peak = np.abs(autocorr).max(axis=1, keepdims=True)
        peak[peak < np.finfo(autocorr.dtype).tiny] = 1.0
        total += (autocorr / peak).sum(axis=0)
    return total / n


def _next_fast_len_real(n: int) -> int:
    """The smallest 5-smooth number (2^a 3^b 5^c) at least ``n``: scipy.fft.next_fast_len(n, real=True)."""
    best = None
    p5 = 1
    while p5 < 2 * n:
        p35 = p5
        while p35 < 2 * n:
            p = p35
            while p < n:
                p *= 2
            best = p if best is None else min(best, p)
            p35 *= 3
        p5 *= 5
    assert best is not None
    return best
