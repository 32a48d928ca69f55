"""Regenerate tests/data/music_reference.json: librosa's onset envelope, tempo and beat frames on the synthetic songs
and signals that tests/test_music_reference.py holds stridebeat's own analysis to.

    PYTHONPATH=src:tests python tests/data/make_music_reference.py

The file records the librosa version it came from. The tests compare with tolerances (a different float summation,
a neighbouring tempo bin, a beat one frame off), so a later librosa release that agrees need not regenerate it.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import librosa
import librosa.beat
import numpy as np
import soxr

from musicsynth import SR, beat_grid, synth_song, tempo_change
from stridebeat.music.analysis import ANALYSIS_SR, HOP

OUT = Path(__file__).with_name("music_reference.json")

# (beats, synth keywords, tempo given to the tracker or None)
SONGS = {
    "straight": (beat_grid(120, 24), {}, None),
    "tempo-change": (tempo_change(112, 124, 24, 12), {}, None),
    "swing": (beat_grid(110, 24), {"swing": 2 / 3}, None),
    "given-bpm": (beat_grid(120, 24), {}, 118.0),
}


def signals() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    n = 20 * ANALYSIS_SR
    t = np.arange(5 * ANALYSIS_SR) / ANALYSIS_SR
    return {
        "white-noise": rng.standard_normal(10 * ANALYSIS_SR).astype(np.float32),
        "pure-tone": (0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32),
        "sparse-clicks": (rng.standard_normal(n) * (np.arange(n) % 11025 < 300)).astype(np.float32),
    }


def analysed(song: np.ndarray) -> np.ndarray:
    return soxr.resample(song.mean(axis=1, dtype=np.float32), SR, ANALYSIS_SR, quality="HQ")


def entry(y: np.ndarray, bpm: float | None) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        env = librosa.onset.onset_strength(y=y, sr=ANALYSIS_SR, hop_length=HOP)
    tempo = float(librosa.feature.tempo(onset_envelope=env, sr=ANALYSIS_SR, hop_length=HOP)[0])
    tracked, frames = librosa.beat.beat_track(
        onset_envelope=env, sr=ANALYSIS_SR, hop_length=HOP, bpm=bpm, units="frames", trim=True
    )
    return {
        "envelope": [round(float(v), 5) for v in env],
        "tempo": tempo,
        "tracked_bpm": float(np.atleast_1d(tracked)[0]),
        "frames": [int(f) for f in frames],
    }


def main() -> None:
    data = {"librosa": librosa.__version__, "songs": {}, "signals": {}}
    for name, (beats, kw, bpm) in SONGS.items():
        data["songs"][name] = {"bpm": bpm, **entry(analysed(synth_song(beats, 24, **kw)), bpm)}
    for name, y in signals().items():
        data["signals"][name] = entry(y, None)
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} (librosa {librosa.__version__})", file=sys.stderr)


if __name__ == "__main__":
    main()
