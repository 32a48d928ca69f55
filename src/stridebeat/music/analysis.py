"""Loading a song and finding its beats.

Beats come from a dynamic-programming beat tracker (Ellis 2007, ``track_beats``, the algorithm of
``librosa.beat.beat_track`` re-implemented in numpy) on librosa's onset-strength envelope at 22 050 Hz with a 512-sample
hop, at the tempo that ``librosa.feature.tempo`` estimates from that envelope (both computed as librosa does, in numpy
alone, by ``stridebeat.music.onset``). That envelope is 23 ms coarse, too coarse for footstrikes, so every beat is
then refined on the full-rate signal (1 ms hop): within −60…+20 ms of the tracker's beat, the instant where the
energy of the next 3 ms most exceeds that of the previous 10 ms (weighted towards 20 ms before the tracker's beat) is
the beat's attack. A beat without a clear attack there (under +3 dB) keeps the tracker's time. The tests hold the
refined beats to the synthetic songs' true attacks.

The confidence is the share of beats that sit on a clear onset: the onset envelope within one frame of the beat peaks
at least ``SALIENCE_RATIO`` times the envelope's median (and over an absolute floor, ``MIN_ONSET``). The tracker
always returns a regular-looking grid, even on noise, so regularity alone says nothing; a beat that you can hear has a
strong onset on it.

Overrides: ``bpm`` constrains the tracker's tempo (it still finds the phase); ``offset_s`` puts the first beat there
(the detected beats are shifted as a whole so that their phase agrees with it); both together bypass detection and
give a regular grid ``offset_s + k·60/bpm`` to the end of the song.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from stridebeat.errors import UsageError
from stridebeat.music.songs import MAX_SAMPLE, MIN_SONG_S, load_song

__all__ = ["MIN_SONG_S", "BeatGrid", "detect_beats", "load_song", "track_beats"]

ANALYSIS_SR = 22050
HOP = 512
MIN_BEATS = 8
MIN_CONFIDENCE = 0.3
SALIENCE_RATIO = 2.0
MIN_ONSET = 1.0  # librosa's envelope is a mean rise in dB over mel bands: a drum hit gives 10–20, a steady tone < 0.1
BPM_RANGE = (40.0, 320.0)
TIGHTNESS = 100.0  # of the tracker's tempo penalty, librosa's default
REFINE_AFTER_MS, REFINE_BEFORE_MS = 3, 10  # energy windows after and before a candidate attack
REFINE_WINDOW_MS = (-60, 20)  # search window around a tracker beat
REFINE_CENTRE_MS, REFINE_SIGMA_MS = -20.0, 30.0  # Gaussian weight: the tracker's beats lag the attack
REFINE_MIN_JUMP = 0.3  # an attack raises the energy by at least 3 dB, else the tracker's time is kept
SILENCE_PEAK = 1e-4  # −80 dBFS


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class BeatGrid:
    """The beats of one song on the song's own clock (seconds from its first sample)."""

    beats_s: np.ndarray  # float64, strictly increasing
    bpm: float  # 60 / median inter-beat interval
    confidence: float  # 0..1: share of beats on a clear onset (1.0 when the grid was given)
    method: str  # "detected", "bpm" (tempo given), "offset" (first beat given), "given" (both given)
    duration_s: float  # length of the song

    @property
    def interval_s(self) -> float:
        return 60.0 / self.bpm


def detect_beats(
    audio: np.ndarray,
    samplerate: int,
    *,
    bpm: float | None = None,
    offset_s: float | None = None,
    name: str = "the song",
) -> BeatGrid:
    """The beats of ``audio`` (``(n,)`` or ``(n, channels)``), see the module docstring.

    ``name`` only goes into error messages. A silent song, or one without a steady beat (fewer than ``MIN_BEATS``
    beats or a confidence under ``MIN_CONFIDENCE``), raises ``UsageError`` suggesting ``bpm``/``offset_s``.
    """
    mono = _mono(audio)
    duration = mono.size / samplerate
    if bpm is not None and not (BPM_RANGE[0] <= bpm <= BPM_RANGE[1]):
        raise UsageError(f"a tempo of {bpm:g} bpm is out of range; give one from {BPM_RANGE[0]:g} to {BPM_RANGE[1]:g}")
    if offset_s is not None and not (0.0 <= offset_s < duration):
        raise UsageError(f"first beat at {offset_s:g} s is outside {name} (0 to {duration:.1f} s); give a time in it")
    if bpm is not None and offset_s is not None:
        beats = np.arange(offset_s, duration, 60.0 / bpm)
        return _grid(beats, 1.0, "given", duration, name)
    peak = float(np.max(np.abs(mono), initial=0.0))
    if not peak < MAX_SAMPLE:  # NaN and infinities too: their powers would overflow the onset envelope
        raise UsageError(f"{name} holds samples of magnitude {peak:.3g}, far beyond full scale (1.0); give audio")
    if peak < SILENCE_PEAK:
        raise UsageError(f"{name} is silent, so it has no beat to follow; choose another song")

    import soxr

    from stridebeat.music import onset

    y = soxr.resample(mono, samplerate, ANALYSIS_SR, quality="HQ") if samplerate != ANALYSIS_SR else mono
    env = onset.onset_strength(y, ANALYSIS_SR, HOP)
    frames = np.zeros(0, dtype=np.int64)
    if env.any():  # a flat envelope has no beat (librosa's tracker says so too)
        tempo = bpm
        if tempo is None:  # librosa's estimate, the one its beat_track would use
            tempo = onset.tempo(env, ANALYSIS_SR, HOP)
        if math.isfinite(tempo) and tempo > 0:  # an envelope without a rhythm can give none
            frames = track_beats(env, tempo, ANALYSIS_SR / HOP)
    if frames.size < MIN_BEATS:
        raise UsageError(
            f"no steady beat found in {name} ({frames.size} beats); give its tempo and first beat (bpm and offset) "
            "or choose a song with a clear beat"
        )
    confidence = _salience(env, frames)
    if confidence < MIN_CONFIDENCE:
        raise UsageError(
            f"no clear beat in {name} (confidence {confidence:.2f} < {MIN_CONFIDENCE}); give its tempo and first "
            "beat (bpm and offset) or choose a song with a clearer beat"
        )
    beats = frames * HOP / ANALYSIS_SR
    beats = _refine(mono, samplerate, beats)
    method = "bpm" if bpm is not None else "detected"
    if offset_s is not None:
        beats = _anchor_phase(beats, offset_s)
        method = "offset"
    return _grid(beats, confidence, method, duration, name)


def track_beats(envelope: np.ndarray, bpm: float, frame_rate: float, *, tightness: float = TIGHTNESS) -> np.ndarray:
    """Frame indices of the beats in an onset-strength ``envelope`` at a tempo of about ``bpm``.

    Ellis's dynamic-programming tracker ("Beat tracking by dynamic programming", JNMR 36(1), 2007), step for step as
    ``librosa.beat.beat_track(onset_envelope=..., bpm=bpm, trim=True)`` in librosa 0.11 does it, and so giving the
    same frames. Why not call it: importing ``librosa.beat`` compiles its numba kernels afresh in every process (not
    from numba's cache), which alone would take most of a race render's time budget. The envelope is divided by
    its standard deviation and smoothed by a Gaussian of the beat period into a local score; each frame's best
    predecessor lies half a period to two periods back, penalised by ``tightness`` times the squared log of the ratio
    of that gap to the period; the beats are backtracked from the last strong peak of the cumulative score, and the
    leading and trailing ones on a weak local score are dropped.
    """
    env = np.asarray(envelope)
    if env.dtype not in (np.float32, np.float64):
        env = env.astype(np.float64)
    if not (math.isfinite(bpm) and bpm > 0.0):
        raise ValueError(f"bpm must be positive, got {bpm}")
    period = float(np.round(frame_rate * 60.0 / bpm))  # frames per beat
    if env.ndim != 1 or env.size < 2 or period < 2.0 or not env.any():
        return np.zeros(0, dtype=np.int64)
    local = _local_score(env, period)
    cumscore, backlink = _beat_dp(local, period, tightness)
    beats = _backtrack(backlink, _last_beat(cumscore))
    return _trim_weak(local, beats)


def _local_score(env: np.ndarray, period: float) -> np.ndarray:
    """The envelope over its standard deviation, convolved ('same' mode) with a Gaussian of σ = period / 32.

    As librosa does: the deviation is that of ``env``'s own dtype, the sum in float64, and frame 0 is left out.
    """
    x = (env / (env.std(ddof=1) + np.finfo(env.dtype).tiny)).astype(np.float64)
    x[0] = 0.0
    window = np.exp(-0.5 * (np.arange(-period, period + 1) * 32.0 / period) ** 2)
    half = window.size // 2
    return np.convolve(x, window)[half : half + x.size]


def _beat_dp(local: np.ndarray, period: float, tightness: float) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative score and best predecessor (−1: none) of every frame.

    A frame's predecessors lie ``round(period / 2)`` to ``2 · period`` frames back, so the frames of a block of
    ``round(period / 2)`` depend only on frames before the block: the loop runs over blocks, vectorised within each.
    Ties go to the nearest predecessor; until the local score first reaches 1 % of its maximum a frame has none.
    """
    n = local.size
    step = max(1, int(np.round(period / 2)))
    gaps = np.arange(step, int(2 * period) + 1)
    penalty = tightness * (np.log(gaps) - np.log(period)) ** 2
    cumscore = local.copy()  # frames with no predecessor keep their local score
    backlink = np.full(n, -1, dtype=np.int64)
    for start in range(step, n, step):
        frames = np.arange(start, min(start + step, n))
        prev = frames[:, None] - gaps[None, :]
        score = np.where(prev >= 0, cumscore[np.maximum(prev, 0)] - penalty, -np.inf)
        best = np.argmax(score, axis=1)
        cumscore[frames] += score[np.arange(frames.size), best]
        backlink[frames] = frames - gaps[best]
    backlink[: int(np.argmax(local >= 0.01 * local.max()))] = -1
    return cumscore, backlink


def _last_beat(cumscore: np.ndarray) -> int:
    """The last local maximum of the cumulative score at or over half the median of its local maxima."""
    peak = np.zeros(cumscore.size, dtype=bool)
    peak[1:-1] = (cumscore[1:-1] > cumscore[:-2]) & (cumscore[1:-1] >= cumscore[2:])
    peak[-1] = cumscore[-1] > cumscore[-2]
    if not peak.any():
        return cumscore.size - 1
    strong = np.flatnonzero(peak & (cumscore >= 0.5 * float(np.median(cumscore[peak]))))
    return int(strong[-1]) if strong.size else cumscore.size - 1


def _backtrack(backlink: np.ndarray, last: int) -> np.ndarray:
    beats = []
    frame = last
    while frame >= 0:
        beats.append(frame)
        frame = int(backlink[frame])
    return np.asarray(beats[::-1], dtype=np.int64)


def _trim_weak(local: np.ndarray, beats: np.ndarray) -> np.ndarray:
    """Drop the beats before the first and after the last frame whose local score exceeds half the RMS of the beats'
    local scores smoothed by a 5-point Hann window (librosa's slice of the full convolution, two values longer)."""
    smooth = np.convolve(local[beats], np.hanning(5))[2 : local.size + 2]
    threshold = 0.5 * math.sqrt(float(np.mean(smooth**2)))
    strong = np.flatnonzero(local > threshold)
    if strong.size == 0:
        return beats[:0]
    return beats[(beats >= strong[0]) & (beats <= strong[-1])]


def _mono(audio: np.ndarray) -> np.ndarray:
    a = np.asarray(audio, dtype=np.float32)
    if a.ndim == 2:
        return a.mean(axis=1, dtype=np.float32)
    if a.ndim != 1:
        raise UsageError(f"audio must be (frames,) or (frames, channels), got shape {a.shape}; pass a song array")
    return a


def _grid(beats: np.ndarray, confidence: float, method: str, duration: float, name: str) -> BeatGrid:
    beats = np.asarray(beats, dtype=np.float64)
    beats = beats[(beats >= 0.0) & (beats < duration)]
    if beats.size >= 2:
        keep = np.r_[True, np.diff(beats) > 1e-3]
        beats = beats[keep]
    if beats.size < MIN_BEATS:
        raise UsageError(
            f"{name} has only {beats.size} beats on that grid; give an earlier first beat or choose a longer song"
        )
    bpm = 60.0 / float(np.median(np.diff(beats)))
    beats.setflags(write=False)
    return BeatGrid(beats_s=beats, bpm=bpm, confidence=float(confidence), method=method, duration_s=duration)


def _salience(env: np.ndarray, frames: np.ndarray) -> float:
    """Share of beats whose onset envelope (max over ±1 frame) is at least ``SALIENCE_RATIO`` × its median and a tenth
    of its 99th percentile and ``MIN_ONSET`` (so that the ripple of a steady tone, whose median is ~0, does not count).
    """
    med = float(np.median(env))
    top = float(np.percentile(env, 99))
    if not math.isfinite(med) or top <= 0.0:
        return 0.0
    padded = np.pad(env, 1)
    local = np.maximum(np.maximum(padded[frames], padded[frames + 1]), padded[frames + 2])
    return float(np.mean(local >= max(SALIENCE_RATIO * med, 0.1 * top, MIN_ONSET)))


def _refine(mono: np.ndarray, samplerate: int, beats: np.ndarray) -> np.ndarray:
    """Move each beat to the attack near it, at 1 ms resolution (see the module docstring).

    The attack is where the energy of the next ``REFINE_AFTER_MS`` over that of the previous ``REFINE_BEFORE_MS``
    is greatest: averaging over a few milliseconds keeps the carrier of a low kick from making false peaks. librosa's
    onset envelope peaks 15–40 ms after the attack, so the search window reaches further back than forward.
    """
    hop = max(1, round(samplerate / 1000))
    n = mono.size // hop
    a, bw = REFINE_AFTER_MS, REFINE_BEFORE_MS
    if n < 4 * (a + bw):
        return beats
    sq = np.square(mono[: n * hop].astype(np.float64)).reshape(n, hop).sum(axis=1)
    cs = np.r_[0.0, np.cumsum(sq)]
    i = np.arange(n)
    after = (cs[np.minimum(i + a, n)] - cs[i]) / a
    before = (cs[i] - cs[np.maximum(i - bw, 0)]) / bw
    jump = np.log10(after + 1e-12) - np.log10(before + 1e-12)  # in decades of energy (1.0 = +10 dB)
    offsets = np.arange(REFINE_WINDOW_MS[0], REFINE_WINDOW_MS[1] + 1)
    weight = np.exp(-0.5 * ((offsets - REFINE_CENTRE_MS) / REFINE_SIGMA_MS) ** 2)
    centre = np.rint(beats * samplerate / hop).astype(np.int64)  # hop is not exactly 1 ms: index by samples
    idx = np.clip(centre[:, None] + offsets[None, :], bw, n - 1 - a)
    rows = np.arange(idx.shape[0])
    best = idx[rows, np.argmax(jump[idx] * weight[None, :], axis=1)]
    clear = jump[best] >= REFINE_MIN_JUMP
    return np.where(clear, best * hop / samplerate, beats)


def _anchor_phase(beats: np.ndarray, offset_s: float) -> np.ndarray:
    """Shift the detected beats as a whole so that their phase agrees with a first beat at ``offset_s``."""
    period = float(np.median(np.diff(beats)))
    phase = (beats - offset_s) / period
    angle = 2 * np.pi * (phase - np.round(phase))
    shift = float(np.angle(np.mean(np.exp(1j * angle)))) / (2 * np.pi) * period
    shifted = beats - shift
    shifted = shifted[shifted >= offset_s - 0.25 * period]
    if shifted.size == 0:
        return shifted
    lead = math.floor((shifted[0] - offset_s) / period + 0.25)  # beats the tracker missed before its first one
    if lead > 0:
        shifted = np.r_[offset_s + period * np.arange(lead), shifted]
    shifted[0] = offset_s
    return shifted
