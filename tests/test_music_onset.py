"""stridebeat's own onset envelope and tempo estimate (issue 16, speed): ``stridebeat.music.onset``.

It replaces ``librosa.onset.onset_strength`` and ``librosa.feature.tempo``, whose import (scipy.signal, numba, most of
librosa) every render with ``--music`` paid for. The reference here is librosa itself, on the same audio: the envelope
must agree to float32 rounding and the tempo exactly, on the synthetic songs of tests/test_music.py (straight, swung,
with a tempo change), on noise, a pure tone, silence, audio shorter than a frame and odd lengths. Then
``detect_beats`` must find the very frames that librosa's own tracker finds on librosa's envelope, and a fresh process
that detects beats must never import librosa or scipy.signal.
"""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
import soundfile as sf

_EXTRA = "the music tests' reference libraries are not installed: pip install 'stridebeat[test]'"
pytest.importorskip("librosa", reason=_EXTRA)
pytest.importorskip("pyloudnorm", reason=_EXTRA)
pytest.importorskip(
    "aubio", reason="aubio, the independent beat checker, is not installed: pip install 'stridebeat[test]'"
)

import librosa  # noqa: E402
import librosa.beat  # noqa: E402  (the reference tracker; stridebeat itself never imports it)
import scipy.fft  # noqa: E402  (librosa's dependency: the references for the window and the FFT size)
import scipy.signal  # noqa: E402
import soxr  # noqa: E402  (a dependency of stridebeat)

from stridebeat.music import analysis, onset  # noqa: E402
from stridebeat.music.analysis import ANALYSIS_SR, HOP, detect_beats  # noqa: E402
from test_music import SR, beat_grid, synth_song, tempo_change  # noqa: E402

# The envelope is a mean over mel bands of rises in dB (a drum hit gives 10-20). Measured: bit-identical to
# librosa's on every signal here. The tolerance admits only a different float32 summation order in the mel filterbank
# product (another BLAS, ~1e-6 dB); a wrong window, band or padding would be off by orders of magnitude more.
ENV_ATOL = 1e-5
ENV_RTOL = 1e-6


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
    assert onset.tempo(ours, ANALYSIS_SR, HOP) == librosa_tempo(ref)


@pytest.mark.parametrize("kind", list(SIGNALS))
def test_other_signals_give_librosas_envelope_and_tempo(kind):
    y = SIGNALS[kind]()
    ref = librosa_envelope(y)
    ours = onset.onset_strength(y, ANALYSIS_SR, HOP)
    assert_same_envelope(ours, ref)
    assert ours.size == 1 + y.size // HOP
    assert onset.tempo(ours, ANALYSIS_SR, HOP) == librosa_tempo(ref)


def test_silence_has_a_flat_envelope_and_the_priors_tempo():
    env = onset.onset_strength(np.zeros(5 * ANALYSIS_SR, np.float32), ANALYSIS_SR, HOP)
    assert env.dtype == np.float32 and not env.any()
    assert onset.tempo(env, ANALYSIS_SR, HOP) == librosa_tempo(env) == pytest.approx(117.45, abs=0.01)


@pytest.mark.parametrize(("sr", "hop"), [(44100, 256), (44100, 1024), (16000, 160), (8000, 1000), (22050, 4096)])
def test_other_rates_and_hops_give_librosas_results(sr, hop):
    y = _noise(4 * sr, seed=sr + hop) * (np.arange(4 * sr) % (sr // 3) < sr // 50)
    ref = librosa_envelope(y, sr, hop)
    ours = onset.onset_strength(y, sr, hop)
    assert_same_envelope(ours, ref)
    assert onset.tempo(ours, sr, hop) == librosa_tempo(ref, sr, hop)


@pytest.mark.parametrize("seed", range(8))
def test_the_tempo_of_any_envelope_is_librosas(seed):
    """Envelopes no audio makes: any length (down to one frame, under the 8 s window), float32 or float64."""
    rng = np.random.default_rng(seed)
    n = [1, 7, 200, 343, 344, 345, 3000, 12000][seed]
    env = np.abs(rng.standard_normal(n)) ** 3
    env[:: int(rng.integers(9, 40))] += 4.0
    env = env.astype(np.float32 if seed % 2 else np.float64)
    assert onset.tempo(env, ANALYSIS_SR, HOP) == librosa_tempo(env)


def test_the_building_blocks_are_librosas():
    assert np.array_equal(onset.mel_basis(ANALYSIS_SR), librosa.filters.mel(sr=ANALYSIS_SR, n_fft=2048))
    assert onset.mel_basis(ANALYSIS_SR).dtype == np.float32
    for n in (1, 2, 344, 2048):
        np.testing.assert_allclose(onset._hann(n), scipy.signal.get_window("hann", n, fftbins=True), rtol=0, atol=1e-15)
    assert all(onset._next_fast_len_real(n) == scipy.fft.next_fast_len(n, real=True) for n in range(1, 3000))


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


# -------------------------------------------------------------------------------- detect_beats on these values
@pytest.mark.parametrize("kind", list(SONGS))
def test_detect_beats_finds_librosas_frames(kind, monkeypatch):
    """Beat frames before the full-rate refinement (switched off here) as librosa's whole pipeline finds them, and
    the confidence that librosa's envelope gives them."""
    beats, kw = SONGS[kind]
    song = synth_song(beats, 24, **kw)
    ref_env = librosa_envelope(analysed(song))
    _, ref_frames = librosa.beat.beat_track(
        onset_envelope=ref_env, sr=ANALYSIS_SR, hop_length=HOP, units="frames", trim=True
    )
    monkeypatch.setattr(analysis, "_refine", lambda mono, samplerate, beats: beats)
    grid = detect_beats(song, SR)
    frames = np.round(grid.beats_s * ANALYSIS_SR / HOP).astype(np.int64)
    np.testing.assert_allclose(grid.beats_s, frames * HOP / ANALYSIS_SR, rtol=0, atol=1e-12)
    assert np.array_equal(frames, ref_frames)
    assert grid.confidence == analysis._salience(ref_env, np.asarray(ref_frames))


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
