"""The intelligibility bench in small: Whisper (bench/listen.py) hears the calls of a rendered race, each voice, in the
WAV and in the lossy exports (which must also stay within 30 dB SNR of the WAV, on the same samples).

The full bench (`python bench/listen.py`) scores the race and a session; this keeps one race per shipped voice so it
runs in a few seconds, and one race in the default voice over the bench's demo song (`--music-demo`). It needs the `listen` extra (pip install -e
'.[listen]'); without it the test skips, and STRIDEBEAT_REQUIRE_LISTENER=1 (set by CI) turns that skip into a
failure. The music test also needs the rubberband program and the music tests' dependencies (`.[test,music]`).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from stridebeat.core.vocabulary import VOICES
from stridebeat.core.voice import DEFAULT_VOICE

_BENCH = Path(__file__).resolve().parent.parent / "bench" / "listen.py"


def _load_bench():
    # bench/ is not a package: load the script by path. Importing it needs neither faster-whisper nor the weights.
    spec = importlib.util.spec_from_file_location("stridebeat_bench_listen", _BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


listen = _load_bench()
_MISSING = listen.missing()
if _MISSING and os.environ.get("STRIDEBEAT_REQUIRE_LISTENER") == "1":
    raise RuntimeError(f"STRIDEBEAT_REQUIRE_LISTENER=1 but {_MISSING}")
needs_listener = pytest.mark.skipif(_MISSING is not None, reason=f"{_MISSING} (the 'listen' extra)")
needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffmpeg") is None, reason="ffmpeg is not installed (apt-get install ffmpeg)"
)
needs_rubberband = pytest.mark.skipif(
    shutil.which("rubberband") is None and os.environ.get("STRIDEBEAT_REQUIRE_RUBBERBAND") != "1",
    reason="the rubberband program is not installed (apt-get install rubberband-cli)",
)

# Every call kind a race speaks: the start commands, each split time, the hold and the finish time.
RACE_KINDS = {"marks", "set", "split", "hold", "finish"}


def _render(folder: Path, name: str, *options: str) -> Path:
    cmd = [sys.executable, "-m", "stridebeat", "render", "--time", "51", *options, "-o", str(folder / name)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return folder / name


@pytest.fixture(scope="module", params=VOICES)
def race(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"race-{request.param}")
    wav = _render(folder, "race.wav", "--voice", request.param, "--timeline", str(folder / "race.json"))
    return request.param, wav, folder / "race.json"


def _lossy(wav: Path, voice: str, ext: str) -> Path:
    lossy = wav.with_suffix(f".{ext}")
    return lossy if lossy.exists() else _render(wav.parent, lossy.name, "--voice", voice, "--no-markers")


def _decoded(path: Path) -> np.ndarray:
    # ffmpeg, as a player would decode it: it reads the encoder delay from the MP3's LAME header and drops it.
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "2", "-"], capture_output=True, check=True
    ).stdout
    return np.frombuffer(raw, dtype="<f4").reshape(-1, 2)


def test_bench_imports_without_the_listener():
    # The module's own word builders need nothing beyond numpy: the test suite can use them without the extra.
    assert listen.time_words(65.3) == ["one", "minute", "five", "point", "three"]
    assert listen.normalise("1:00.2") == ["one", "minute", "zero", "point", "two"]


@pytest.mark.slow  # a recogniser
@needs_listener
def test_every_race_call_is_heard(race):
    voice, wav, timeline = race
    calls = listen.score_calls(wav, timeline)
    assert {c["kind"] for c in calls} == RACE_KINDS
    missed = [f"{c['kind']} {c['expected']!r} heard as {c['heard']!r}" for c in calls if not c["ok"]]
    assert not missed, f"{voice}: {'; '.join(missed)}"


@pytest.mark.slow  # a recogniser and Rubber Band
@needs_listener
@needs_rubberband
def test_every_race_call_is_heard_over_the_demo_music(tmp_path):
    # The bench's --music-demo song under the race in the default voice (the voice a runner hears unless they choose
    # another), clicks on, the default --music-duck.
    try:
        song = listen.demo_song(tmp_path / "music-demo.flac")
    except listen.ListenerUnavailable as exc:
        pytest.skip(str(exc))
    timeline = tmp_path / "race.json"
    wav = _render(tmp_path, "race.wav", "--voice", DEFAULT_VOICE, "--music", str(song), "--timeline", str(timeline))
    calls = listen.score_calls(wav, timeline)
    assert {c["kind"] for c in calls} == RACE_KINDS
    missed = [f"{c['kind']} {c['expected']!r} heard as {c['heard']!r}" for c in calls if not c["ok"]]
    assert not missed, f"{DEFAULT_VOICE} over the demo music: {'; '.join(missed)}"


@pytest.mark.slow  # renders every voice's race three times and decodes it with ffmpeg
@needs_ffmpeg
@pytest.mark.parametrize("ext", ["mp3", "ogg"])
def test_a_lossy_export_keeps_the_wav_on_its_samples(race, ext):
    voice, wav, _ = race
    lossy = _lossy(wav, voice, ext)
    ref = sf.read(wav, dtype="float32")[0]
    got = _decoded(lossy)
    assert got.shape == ref.shape  # no encoder delay or padding left in: every onset is on its timeline sample
    lags = range(-64, 65)
    a, b = 44100 * 10, 44100 * 40
    corr = [float(np.dot(ref[a:b, 0], got[a + k : b + k, 0])) for k in lags]
    assert lags[int(np.argmax(corr))] == 0
    snr = 10 * np.log10(np.sum(ref.astype(np.float64) ** 2) / np.sum((got - ref).astype(np.float64) ** 2))
    assert snr >= 30, f"{ext} at the default quality: {snr:.1f} dB SNR against the WAV"


@pytest.mark.slow  # a recogniser
@needs_listener
@needs_ffmpeg
@pytest.mark.parametrize("ext", ["mp3", "ogg"])
def test_every_call_is_heard_in_a_lossy_export(race, ext):
    voice, wav, timeline = race
    lossy = _lossy(wav, voice, ext)
    calls = listen.score_calls(lossy, timeline)
    missed = [f"{c['kind']} {c['expected']!r} heard as {c['heard']!r}" for c in calls if not c["ok"]]
    assert not missed, f"{voice} {ext}: {'; '.join(missed)}"


def test_every_quality_word_has_an_encoder_setting():
    from stridebeat.config.settings import BY_KEY
    from stridebeat.core.track import QUALITIES
    from stridebeat.export.audio import COMPRESSION

    assert tuple(BY_KEY["quality"].choices) == QUALITIES == tuple(COMPRESSION)
