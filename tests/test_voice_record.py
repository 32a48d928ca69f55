"""`stridebeat voice record` against a real sound server: a PulseAudio null sink's monitor is the microphone.

A shipped clip, padded with silence, is played into the null sink while the recorder records from the sink's monitor
(PULSE_SOURCE), so the recorder hears a real stream through PortAudio, ALSA's pulse plugin and the server. Slow and
marked ``soundserver``: each test starts PulseAudio (tests/soundserver.py) and waits on real-time takes.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from soundserver import SINK, running_server
from stridebeat.core.assets import audio_dir

pytestmark = [pytest.mark.slow, pytest.mark.soundserver]

CLIP = Path(audio_dir()) / "voice" / "joe" / "fifty_one.wav"


@pytest.fixture(scope="module")
def server():
    with running_server() as started:
        yield started


def _recorder(server, folder: Path, *args: str) -> subprocess.Popen:
    env = {**server.env, "PULSE_SOURCE": f"{SINK}.monitor", "PULSE_SINK": SINK, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "stridebeat", "voice", "record", str(folder), "--device", "pulse", *args]
    return subprocess.Popen(
        cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
    )


def _wait_for(proc: subprocess.Popen, text: str, timeout: float = 30.0) -> list[str]:
    """Lines of the recorder's output up to the first that holds ``text``."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line.rstrip("\n"))
        if text in line:
            return seen
    proc.kill()
    raise AssertionError(f"no {text!r} from the recorder: {seen} / {proc.stderr.read()}")


def _play(server, path: Path, tmp_path: Path) -> None:
    """Play ``path`` padded with 0.3 s of silence before it, into the null sink (paplay, float32 at the sink's rate)."""
    clip, rate = sf.read(path, dtype="float32")
    padded = np.concatenate([np.zeros(int(0.3 * rate), np.float32), clip, np.zeros(int(0.3 * rate), np.float32)])
    wav = tmp_path / "played.wav"
    sf.write(str(wav), padded, rate, "FLOAT")
    subprocess.run(["paplay", f"--device={SINK}", str(wav)], env=server.env, check=True, timeout=30)


def _best_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """The highest normalised cross-correlation of two signals over every shift (1.0: the same up to level)."""
    n = len(a) + len(b)
    corr = np.fft.irfft(np.fft.rfft(a, n) * np.conj(np.fft.rfft(b, n)), n)
    return float(np.max(np.abs(corr)) / (np.linalg.norm(a) * np.linalg.norm(b)))


def _temps(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


def test_a_kept_take_is_the_word_trimmed_and_levelled(server, tmp_path):
    folder = tmp_path / "coach"
    proc = _recorder(server, folder, "--words", "fifty one", "--count-in", "0", "--seconds", "2.5")
    _wait_for(proc, "recording: speak now")
    _play(server, CLIP, tmp_path)
    lines = _wait_for(proc, "usable")
    proc.stdin.write("k\n")
    proc.stdin.flush()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "saved 1 clip(s)" in out
    saved, rate = sf.read(folder / "fifty_one.wav", dtype="float64")  # libsndfile reads it back
    info = sf.info(folder / "fifty_one.wav")
    assert (info.subtype, info.channels, rate) == ("PCM_16", 1, 44100)
    played, _ = sf.read(CLIP, dtype="float64")
    # Trimmed: about as long as the word played, not the 2.5 s take (the trimming keeps a few ms either side).
    assert abs(len(saved) - len(played)) / 44100 < 0.08, lines
    # It is that word: the recording matches the clip played, up to a level and a shift (normalised correlation).
    assert _best_correlation(played, saved) > 0.9
    # Levelled to the shipped voices' loudness, under their peak.
    n10 = 441
    frames = saved[: len(saved) // n10 * n10].reshape(-1, n10)
    rms = np.sqrt((frames**2).mean(axis=1))
    voiced = rms[rms > rms.max() * 10 ** (-30 / 20)]
    assert abs(20 * np.log10(np.sqrt((voiced**2).mean())) - (-19.2)) < 0.5
    assert np.max(np.abs(saved)) <= 10 ** (-1 / 20) + 1e-4
    assert _temps(folder) == []


def test_an_interrupted_session_keeps_saved_clips_and_no_part_of_the_next(server, tmp_path):
    folder = tmp_path / "coach"
    proc = _recorder(server, folder, "--words", "fifty one,go", "--count-in", "0", "--seconds", "3")
    _wait_for(proc, "recording: speak now")
    _play(server, CLIP, tmp_path)
    _wait_for(proc, "usable")
    proc.stdin.write("k\n")
    proc.stdin.flush()
    _wait_for(proc, 'say: "go"')
    _wait_for(proc, "recording: speak now")
    time.sleep(0.5)  # in the middle of the second take
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGINT
    assert err.strip().splitlines()[-1] == "Interrupted."
    assert "saved 1 clip(s)" in out
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == ["fifty_one.wav", "voice.toml"]
    assert sf.info(folder / "fifty_one.wav").frames > 0
    assert _temps(folder) == []
