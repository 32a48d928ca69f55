"""stridebeat's own onset envelope and tempo estimate (issue 16, speed): ``stridebeat.music.onset``.

It replaces ``librosa.onset.onset_strength`` and ``librosa.feature.tempo``, whose import (scipy.signal, numba, most of
librosa) every render with ``--music`` paid for. The reference here is an installed librosa, on the same audio, within
the tolerances of tests/test_music_reference.py (which holds the same code to stored results without librosa): on the
synthetic songs (straight, swung, with a tempo change), on noise, a pure tone, silence, audio shorter than a frame and
odd lengths. A fresh process that detects beats must never import librosa or scipy.signal.
"""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
import soundfile as sf

# librosa is the reference here; tests/test_music_reference.py holds the same code to stored results without it.
librosa = pytest.importorskip("librosa", reason="librosa is not installed: pip install 'stridebeat[test]'")
import soxr  # noqa: E402  (a dependency of stridebeat)

from musicsynth import SR, beat_grid, synth_song, tempo_change  # noqa: E402
from stridebeat.music import onset  # noqa: E402
from stridebeat.music.analysis import ANALYSIS_SR, HOP  # noqa: E402
from test_music_reference import ENV_ATOL, ENV_RTOL, TEMPO_RTOL  # noqa: E402  (one set of tolerances)


def analysed(song: np.ndarray) -> np.ndarray:
    """A stereo song at ``SR`` as ``detect_beats`` analyses it: mono float32 at 22 050 Hz."""
    return soxr.resample(song.mean(axis=1, dtype=np.float32), SR, ANALYSIS_SR, quality="HQ")


def librosa_envelope(y: np.ndarray, sr: float = ANALYSIS_SR, hop: int = HOP) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "n_fft is too large for input signal": the short signals are on purpose
        return librosa.onset.onset_strength(y=y, sr=sr, hop_length=hop)


def librosa_tempo(env: np.ndarray, sr: float = ANALYSIS_SR, hop: int = HOP) -> float:
    return float(librosa.feature.tempo(onset_envelope=env, sr=sr, hop_length=hop)[0])


def assert_same_envelope(ours: np.ndarray, ref: np.ndarray) -> None:
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    np.testing.assert_allclose(ours, ref, rtol=ENV_RTOL, atol=ENV_ATOL)


def assert_same_tempo(ours: float, ref: float) -> None:
    assert ours == pytest.approx(ref, rel=TEMPO_RTOL)


def _tone(seconds: float) -> np.ndarray:
    t = np.arange(round(seconds * ANALYSIS_SR)) / ANALYSIS_SR
    return (0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)


def _noise(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(n).astype(np.float32)


SONGS = {
    "straight": (beat_grid(120, 24), {}),
    "tempo-change": (tempo_change(112, 124, 24, 12), {}),
    "swing": (beat_grid(110, 24), {"swing": 2 / 3}),
}
SIGNALS = {
    "white-noise": lambda: _noise(10 * ANALYSIS_SR),
    "pure-tone": lambda: _tone(5.0),
    "silence": lambda: np.zeros(5 * ANALYSIS_SR, np.float32),
    "empty": lambda: np.zeros(0, np.float32),
    "under-a-hop": lambda: _noise(300),
    "under-n_fft": lambda: _noise(1500),
    "n_fft-minus-1": lambda: _noise(2047),
    "n_fft-plus-1": lambda: _noise(2049),
    "odd-3073": lambda: _noise(3073),
    "odd-seconds": lambda: _noise(3 * ANALYSIS_SR + 333),
    "float64": lambda: np.random.default_rng(1).standard_normal(3 * ANALYSIS_SR),
    "sparse-clicks": lambda: _noise(20 * ANALYSIS_SR) * (np.arange(20 * ANALYSIS_SR) % 11025 < 300),
}


# ------------------------------------------------------------------------------------------- against librosa
@pytest.mark.parametrize("kind", list(SONGS))
def test_songs_give_librosas_envelope_and_tempo(kind):
    beats, kw = SONGS[kind]
    y = analysed(synth_song(beats, 24, **kw))
    ref = librosa_envelope(y)
    ours = onset.onset_strength(y, ANALYSIS_SR, HOP)
    assert_same_envelope(ours, ref)
    assert_same_tempo(onset.tempo(ours, ANALYSIS_SR, HOP), librosa_tempo(ref))


@pytest.mark.parametrize("kind", list(SIGNALS))
def test_other_signals_give_librosas_envelope_and_tempo(kind):
    y = SIGNALS[kind]()
    ref = librosa_envelope(y)
    ours = onset.onset_strength(y, ANALYSIS_SR, HOP)
    assert_same_envelope(ours, ref)
    assert ours.size == 1 + y.size // HOP
    assert_same_tempo(onset.tempo(ours, ANALYSIS_SR, HOP), librosa_tempo(ref))


def test_silence_has_a_flat_envelope_and_the_priors_tempo():
    env = onset.onset_strength(np.zeros(5 * ANALYSIS_SR, np.float32), ANALYSIS_SR, HOP)
    assert env.dtype == np.float32 and not env.any()
    assert_same_tempo(onset.tempo(env, ANALYSIS_SR, HOP), librosa_tempo(env))
    assert onset.tempo(env, ANALYSIS_SR, HOP) == pytest.approx(117.45, abs=0.01)  # the prior's peak bin


@pytest.mark.parametrize(("sr", "hop"), [(44100, 256), (44100, 1024), (16000, 160), (8000, 1000), (22050, 4096)])
def test_other_rates_and_hops_give_librosas_results(sr, hop):
    y = _noise(4 * sr, seed=sr + hop) * (np.arange(4 * sr) % (sr // 3) < sr // 50)
    ref = librosa_envelope(y, sr, hop)
    ours = onset.onset_strength(y, sr, hop)
    assert_same_envelope(ours, ref)
    assert_same_tempo(onset.tempo(ours, sr, hop), librosa_tempo(ref, sr, hop))


@pytest.mark.parametrize("seed", range(8))
def test_the_tempo_of_any_envelope_is_librosas(seed):
    """Envelopes no audio makes: any length (down to one frame, under the 8 s window), float32 or float64."""
    rng = np.random.default_rng(seed)
    n = [1, 7, 200, 343, 344, 345, 3000, 12000][seed]
    env = np.abs(rng.standard_normal(n)) ** 3
    env[:: int(rng.integers(9, 40))] += 4.0
    env = env.astype(np.float32 if seed % 2 else np.float64)
    assert_same_tempo(onset.tempo(env, ANALYSIS_SR, HOP), librosa_tempo(env))


def test_the_mel_filterbank_is_librosas():
    np.testing.assert_allclose(
        onset.mel_basis(ANALYSIS_SR), librosa.filters.mel(sr=ANALYSIS_SR, n_fft=2048), rtol=1e-6, atol=1e-9
    )
    assert onset.mel_basis(ANALYSIS_SR).dtype == np.float32


def test_the_mel_filterbank_is_built_once():
    basis = onset.mel_basis(44100)
    assert onset.mel_basis(44100) is basis and not basis.flags.writeable


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="floating"):
        onset.onset_strength(np.zeros(5000, np.int16), ANALYSIS_SR, HOP)
    with pytest.raises(ValueError, match="one-dimensional"):
        onset.onset_strength(np.zeros((5000, 2), np.float32), ANALYSIS_SR, HOP)
    with pytest.raises(ValueError, match="NaN"):
        onset.onset_strength(np.full(5000, np.nan, np.float32), ANALYSIS_SR, HOP)
    with pytest.raises(ValueError, match="empty"):
        onset.tempo(np.zeros(0, np.float32), ANALYSIS_SR, HOP)


# ------------------------------------------------------------------------------------------ without librosa
def test_detection_imports_neither_librosa_nor_scipy_signal(tmp_path):
    """The point of the module: a render's fresh process does not pay for importing librosa."""
    path = tmp_path / "song.flac"
    sf.write(path, synth_song(beat_grid(120, 12), 12), SR)
    code = (
        "import sys\n"
        "from stridebeat.music.analysis import detect_beats, load_song\n"
        f"grid = detect_beats(load_song({str(path)!r}, {SR}), {SR})\n"
        "assert grid.beats_s.size >= 20, grid.beats_s.size\n"
        "heavy = [m for m in ('librosa', 'scipy.signal', 'numba') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
