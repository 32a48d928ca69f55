"""stridebeat's onset envelope, tempo estimate and beat tracker held to reference results stored in the tests.

tests/data/music_reference.json holds what librosa (the version named in the file) computes on the synthetic songs of
tests/musicsynth.py and on a few signals: the onset-strength envelope, the tempo, and the beat frames its tracker
finds (tests/data/make_music_reference.py regenerates it). These tests need no librosa: they hold the numpy code to
the stored results with tolerances that admit a different float summation or a beat one frame off, not a wrong
window, band, prior or tracker. tests/test_music_onset.py and test_music_beats.py compare with an installed librosa
too, within the same tolerances.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soxr

from musicsynth import SR, beat_grid, synth_song, tempo_change
from stridebeat.music import onset
from stridebeat.music.analysis import ANALYSIS_SR, HOP, detect_beats, track_beats

REFERENCE = json.loads((Path(__file__).parent / "data" / "music_reference.json").read_text())
# The envelope is a mean over mel bands of rises in dB (a drum hit gives 10-20): a different summation order moves it
# by far less than these; a wrong window, band or padding moves it by whole units.
ENV_ATOL = 1e-3
ENV_RTOL = 1e-4
TEMPO_RTOL = 0.01  # the tempogram's bins near 120 bpm are about 1.4 % apart: a neighbouring bin fails
AGREE = 0.95  # share of beats within one frame of the reference's
SONGS = {
    "straight": (beat_grid(120, 24), {}),
    "tempo-change": (tempo_change(112, 124, 24, 12), {}),
    "swing": (beat_grid(110, 24), {"swing": 2 / 3}),
    "given-bpm": (beat_grid(120, 24), {}),
}


def analysed(song: np.ndarray) -> np.ndarray:
    """A stereo song at ``SR`` as ``detect_beats`` analyses it: mono float32 at 22 050 Hz."""
    return soxr.resample(song.mean(axis=1, dtype=np.float32), SR, ANALYSIS_SR, quality="HQ")


def signal(name: str) -> np.ndarray:
    """The signals of make_music_reference.py, drawn from the same generator in the same order."""
    rng = np.random.default_rng(0)
    n = 20 * ANALYSIS_SR
    t = np.arange(5 * ANALYSIS_SR) / ANALYSIS_SR
    made = {"white-noise": rng.standard_normal(10 * ANALYSIS_SR).astype(np.float32)}
    made["pure-tone"] = (0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
    made["sparse-clicks"] = (rng.standard_normal(n) * (np.arange(n) % 11025 < 300)).astype(np.float32)
    return made[name]


def agreement(ours: np.ndarray, ref: np.ndarray) -> float:
    """The smaller of the two shares: our beats within one frame of one of the reference's, and the other way round."""
    if ours.size == 0 or ref.size == 0:
        return float(ours.size == ref.size)
    dist = np.abs(ours[:, None] - ref[None, :])
    return min(float(np.mean(dist.min(axis=1) <= 1)), float(np.mean(dist.min(axis=0) <= 1)))


def cases() -> list[tuple[str, str]]:
    return [("songs", k) for k in REFERENCE["songs"]] + [("signals", k) for k in REFERENCE["signals"]]


def audio(group: str, name: str) -> np.ndarray:
    if group == "songs":
        beats, kw = SONGS[name]
        return analysed(synth_song(beats, 24, **kw))
    return signal(name)


@pytest.mark.parametrize(("group", "name"), cases())
def test_the_envelope_and_tempo_are_the_references(group, name):
    ref = REFERENCE[group][name]
    env = onset.onset_strength(audio(group, name), ANALYSIS_SR, HOP)
    assert env.shape == (len(ref["envelope"]),)
    np.testing.assert_allclose(env, ref["envelope"], rtol=ENV_RTOL, atol=ENV_ATOL)
    assert onset.tempo(env, ANALYSIS_SR, HOP) == pytest.approx(ref["tempo"], rel=TEMPO_RTOL)


@pytest.mark.parametrize(("group", "name"), cases())
def test_the_tracker_finds_the_reference_beats(group, name):
    ref = REFERENCE[group][name]
    env = onset.onset_strength(audio(group, name), ANALYSIS_SR, HOP)
    frames = track_beats(env, ref["tracked_bpm"], ANALYSIS_SR / HOP)
    expected = np.asarray(ref["frames"])
    assert frames.dtype == np.int64 and np.all(np.diff(frames) > 0)
    assert abs(frames.size - expected.size) <= 1
    assert agreement(frames, expected) >= AGREE


@pytest.mark.parametrize("name", ["straight", "tempo-change", "swing"])
def test_detected_beats_keep_the_reference_beats_where_no_attack_moves_them(name):
    """``detect_beats`` refines each tracked beat onto its attack, at most 60 ms earlier or 20 ms later: every
    detected beat lies in that window around a reference beat, and the reference's tempo is the grid's."""
    beats, kw = SONGS[name]
    ref = REFERENCE["songs"][name]
    grid = detect_beats(synth_song(beats, 24, **kw), SR)
    tracked = np.asarray(ref["frames"]) * HOP / ANALYSIS_SR
    offset = grid.beats_s[:, None] - tracked[None, :]
    near = np.any((offset >= -0.061) & (offset <= 0.021), axis=1)
    assert np.mean(near) >= AGREE
    assert abs(grid.beats_s.size - tracked.size) <= 1
