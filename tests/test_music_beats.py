"""stridebeat's own dynamic-programming beat tracker (issue 16, speed): ``analysis.track_beats``.

It replaces ``librosa.beat.beat_track``, whose import compiles numba kernels in every process. The reference here is
an installed librosa's tracker, run on the same onset envelope at the same tempo: the beat frames must agree within a
frame (tests/test_music_reference.py holds the tracker to stored frames without librosa). The synthetic
songs of tests/test_music.py (known beat times) then check ``detect_beats`` where the change matters: a tempo given
slightly off, a 4-minute song with a drifting tempo (many DP blocks), and a fresh process that never imports
``librosa.beat``.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

_EXTRA = "the music tests' reference libraries are not installed: pip install 'stridebeat[test]'"
pytest.importorskip("librosa", reason=_EXTRA)
pytest.importorskip("pyloudnorm", reason=_EXTRA)
pytest.importorskip(
    "aubio", reason="aubio, the independent beat checker, is not installed: pip install 'stridebeat[test]'"
)

import librosa  # noqa: E402
import librosa.beat  # noqa: E402  (the reference implementation; stridebeat itself never imports it)
import soxr  # noqa: E402  (a dependency of stridebeat)

from musicsynth import SR, beat_grid, synth_song, tempo_change  # noqa: E402
from stridebeat.music.analysis import ANALYSIS_SR, HOP, detect_beats, track_beats  # noqa: E402

FRAME_RATE = ANALYSIS_SR / HOP
from test_music_reference import AGREE, TEMPO_RTOL  # noqa: E402  (one set of tolerances)


def drift(bpm_from: float, bpm_to: float, duration_s: float, first_s: float = 0.5) -> np.ndarray:
    """Beat times of a tempo gliding linearly from ``bpm_from`` to ``bpm_to`` over ``duration_s``."""
    beats = [first_s]
    while True:
        bpm = bpm_from + (bpm_to - bpm_from) * beats[-1] / duration_s
        nxt = beats[-1] + 60.0 / bpm
        if nxt > duration_s - 0.3:
            return np.asarray(beats)
        beats.append(nxt)


def envelope(song: np.ndarray) -> np.ndarray:
    """librosa's onset envelope of a song, as ``detect_beats`` computes it."""
    y = soxr.resample(song.mean(axis=1, dtype=np.float32), SR, ANALYSIS_SR, quality="HQ")
    return librosa.onset.onset_strength(y=y, sr=ANALYSIS_SR, hop_length=HOP)


def agreement(ours: np.ndarray, ref: np.ndarray) -> float:
    """The smaller of the two shares: our beats within one frame of one of the reference's, and the other way round."""
    if ours.size == 0 or ref.size == 0:
        return float(ours.size == ref.size)
    dist = np.abs(ours[:, None] - ref[None, :])
    return min(float(np.mean(dist.min(axis=1) <= 1)), float(np.mean(dist.min(axis=0) <= 1)))


def reference(env: np.ndarray, bpm: float | None) -> tuple[float, np.ndarray]:
    """librosa's tracker as ``detect_beats`` used to call it, and the tempo it tracked at."""
    tempo, frames = librosa.beat.beat_track(
        onset_envelope=env, sr=ANALYSIS_SR, hop_length=HOP, bpm=bpm, units="frames", trim=True
    )
    return float(np.atleast_1d(tempo)[0]), np.asarray(frames)


# ------------------------------------------------------------------------------------- against librosa's tracker
SONGS = {
    "straight": (beat_grid(120, 24), {}, None),
    "tempo-change": (tempo_change(112, 124, 24, 12), {}, None),
    "swing": (beat_grid(110, 24), {"swing": 2 / 3}, None),
    "given-bpm": (beat_grid(120, 24), {}, 118.0),
    "given-bpm-tempo-change": (tempo_change(112, 124, 24, 12), {"seed": 1}, 120.0),
}


@pytest.mark.parametrize("kind", list(SONGS))
def test_the_tracker_finds_librosas_beats_on_songs(kind):
    beats, kw, bpm = SONGS[kind]
    env = envelope(synth_song(beats, 24, **kw))
    tempo, ref = reference(env, bpm)
    if bpm is None:  # the tempo detect_beats tracks at when none is given: librosa's estimate, as beat_track's
        estimate = float(librosa.feature.tempo(onset_envelope=env, sr=ANALYSIS_SR, hop_length=HOP)[0])
        assert estimate == pytest.approx(tempo, rel=TEMPO_RTOL)
    ours = track_beats(env, tempo, FRAME_RATE)
    assert ours.dtype == np.int64 and np.all(np.diff(ours) > 0)
    assert abs(ours.size - ref.size) <= 1 and ref.size >= beats.size - 3
    assert agreement(ours, ref) >= AGREE


@pytest.mark.parametrize("seed", range(12))
def test_the_tracker_finds_librosas_beats_on_random_envelopes(seed):
    """Envelopes no song makes: white, spiky, or sparse pulses after silence; float32 and float64; any tempo."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(300, 6000))
    if seed % 3 == 0:
        env = np.abs(rng.standard_normal(n))
    elif seed % 3 == 1:
        env = np.abs(rng.standard_normal(n)) ** 4
    else:
        env = 0.05 * np.abs(rng.standard_normal(n))
        period = rng.uniform(8, 60)
        pulses = np.arange(rng.uniform(0, period), n, period).astype(int)
        env[pulses] += rng.uniform(0.5, 2.0, pulses.size)
        env[: int(rng.integers(0, n // 4))] = 0.0
    env = env.astype(np.float32 if seed % 2 else np.float64)
    bpm = None if seed % 4 == 0 else float(rng.uniform(40, 320))
    tempo, ref = reference(env, bpm)
    assert agreement(track_beats(env, tempo, FRAME_RATE), ref) >= AGREE


def test_the_tracker_is_quick_on_a_long_song():
    """A 4-minute envelope (~10 000 frames) at 120 bpm: the DP loops over blocks of half a beat, not over frames."""
    rng = np.random.default_rng(0)
    env = np.abs(rng.standard_normal(round(240 * FRAME_RATE))).astype(np.float32)
    env[:: round(FRAME_RATE / 2)] += 5.0
    start = time.perf_counter()
    ours = track_beats(env, 120.0, FRAME_RATE)
    elapsed = time.perf_counter() - start
    assert agreement(ours, reference(env, 120.0)[1]) >= AGREE
    assert elapsed < 1.0  # generous: a loop over frames in Python would be near it, the block loop is far under


def test_a_flat_envelope_has_no_beats():
    assert track_beats(np.zeros(1000, np.float32), 120.0, FRAME_RATE).size == 0
    with pytest.raises(ValueError):
        track_beats(np.ones(1000), 0.0, FRAME_RATE)


# --------------------------------------------------------------------------------- detect_beats on known beats
def on_the_beats(found: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """(share of found beats within 2 ms of a true one, share of true beats with a found one within 2 ms)."""
    dist = np.abs(found[:, None] - truth[None, :])
    return float(np.mean(dist.min(axis=1) <= 0.002)), float(np.mean(dist.min(axis=0) <= 0.002))


@pytest.mark.parametrize(
    ("truth", "kw", "bpm"),
    [
        (beat_grid(120, 24), {}, 117.0),
        (beat_grid(120, 24), {}, 123.0),
        (beat_grid(110, 24), {"swing": 2 / 3}, 108.0),
        (tempo_change(112, 124, 24, 12), {}, 118.0),
    ],
    ids=["120-given-117", "120-given-123", "swing-110-given-108", "112-124-given-118"],
)
def test_a_tempo_given_slightly_off_still_finds_the_true_beats(truth, kw, bpm):
    """``--music-bpm`` without ``--music-offset``: the tracker runs at the given tempo, the beats stay on the song's."""
    grid = detect_beats(synth_song(truth, 24, **kw), SR, bpm=bpm)
    found, recalled = on_the_beats(grid.beats_s, truth)
    assert grid.method == "bpm" and found >= 0.95 and recalled >= 0.95
    assert abs(grid.bpm - 60 / np.median(np.diff(truth))) < 1.0


def test_a_long_song_with_a_drifting_tempo():
    truth = drift(116, 124, 240)
    grid = detect_beats(synth_song(truth, 240, swing=0.6), SR)
    found, recalled = on_the_beats(grid.beats_s, truth)
    assert grid.method == "detected" and found >= 0.95 and recalled >= 0.95
