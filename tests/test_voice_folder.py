"""A voice of one's own: a folder of clips in the shipped format, checked by `voice check`, refused when a plan needs a
word it lacks, and rendering exactly as a shipped voice does when it is a copy of one."""

from __future__ import annotations

import shutil
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import stridebeat
from stridebeat.core import clips
from stridebeat.core.assets import audio_dir
from stridebeat.core.speech import speech_events
from stridebeat.core.voice import ALL_WORDS, VOCABULARY, VoiceBank
from stridebeat.errors import UsageError

SHIPPED = Path(audio_dir()) / "voice"


def _stridebeat(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stridebeat", *args], input=stdin, capture_output=True, text=True, timeout=120
    )


def _copy(voice: str, folder: Path) -> Path:
    shutil.copytree(SHIPPED / voice, folder)
    return folder


def _write(path: Path, samples: np.ndarray, rate: int = 44100, channels: int = 1) -> None:
    # soundfile (libsndfile) writes the test files: a writer independent of stridebeat's own.
    sf.write(str(path), samples if channels == 1 else np.repeat(samples[:, None], channels, axis=1), rate, "PCM_16")


def test_words_lists_every_token_once_with_its_file():
    done = _stridebeat("voice", "words")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == f"{len(VOCABULARY)} words"
    listed = {line.rsplit(None, 1)[0].strip(): line.rsplit(None, 1)[1] for line in lines[:-1]}
    assert set(listed) == set(VOCABULARY)
    assert listed["on your marks"] == "on_your_marks.wav"
    assert all(name == word.replace(" ", "_") + ".wav" for word, name in listed.items())


@pytest.mark.parametrize("voice", ["female", "male", "joe"])
def test_a_shipped_voice_passes_the_check(voice, tmp_path):
    folder = _copy(voice, tmp_path / voice)
    done = _stridebeat("voice", "check", str(folder))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.rstrip().endswith(f"all {len(VOCABULARY)} words have a usable clip in {folder}")


def test_check_names_each_missing_or_unusable_clip_once(tmp_path):
    folder = _copy("joe", tmp_path / "coach")
    rate = 44100
    t = np.arange(int(0.6 * rate)) / rate
    speechy = 0.3 * np.sin(2 * np.pi * 220 * t) * np.hanning(len(t))
    (folder / "go.wav").unlink()  # missing
    _write(folder / "set.wav", np.zeros(len(t)))  # silent
    _write(folder / "hold.wav", np.clip(speechy * 8, -1, 1))  # flat tops at full scale
    _write(folder / "rest.wav", speechy, rate=48000)  # wrong rate
    _write(folder / "finish.wav", speechy, channels=2)  # stereo
    _write(folder / "one.wav", np.tile(speechy, 5))  # 3 s: too long
    (folder / "two.wav").write_bytes(b"RIFF not really")  # not a WAV
    done = _stridebeat("voice", "check", str(folder))
    assert done.returncode == 1
    problems = {line.split(":", 1)[0]: line for line in done.stdout.splitlines() if ".wav:" in line}
    assert set(problems) == {"go", "set", "hold", "rest", "finish", "one", "two"}
    assert problems["go"] == "go: go.wav: missing"
    assert "too quiet (silent" in problems["set"]
    assert "clipped" in problems["hold"]
    assert "wrong format" in problems["rest"] and "48000 Hz" in problems["rest"]
    assert "wrong format" in problems["finish"] and "2 channel(s)" in problems["finish"]
    assert "too long (3.00 s" in problems["one"]
    assert "wrong format: not a PCM WAV" in problems["two"]
    assert done.stderr.strip() == (
        f"Error: 7 of {len(VOCABULARY)} words have no usable clip in {folder}: "
        f"record them with 'stridebeat voice record {folder}'"
    )


def test_check_refuses_what_is_not_a_voice_folder(tmp_path):
    done = _stridebeat("voice", "check", str(tmp_path / "nowhere"))
    assert done.returncode == 2
    assert done.stderr.startswith(f"Error: unknown voice '{tmp_path / 'nowhere'}'")


def _race_with_voice(voice: str):
    """The 51 s race said by ``voice``: a shipped voice's name or a folder, through the public API as a script gives
    it (``--voice`` and the preset key take the same values)."""
    return stridebeat.build_job(time=51, voice=voice)


@pytest.mark.parametrize("voice", ["joe", "male"])
def test_a_copied_shipped_voice_renders_the_same_samples(voice, tmp_path):
    folder = _copy(voice, tmp_path / "mine")
    shipped = stridebeat.render_array(_race_with_voice(voice))
    own = stridebeat.render_array(_race_with_voice(str(folder)))
    np.testing.assert_array_equal(own, shipped)
    # The speech really is there: the race's calls are the clips, placed where the shipped voice places them.
    job = _race_with_voice(str(folder))
    events = speech_events(job.schedule, job.voice, 44100)
    assert len(events) >= 5


def test_a_bank_of_a_folder_reads_the_files_as_libsndfile_does(tmp_path):
    folder = _copy("female", tmp_path / "mine")
    bank = VoiceBank(str(folder), 44100)
    for token in ("go", "fifty one", "point four"):
        expected, _ = sf.read(folder / clips.clip_name(token), dtype="float32")
        np.testing.assert_array_equal(bank.clip(token), expected * np.float32(0.5 / 10 ** (-1 / 20)))


def test_a_plan_needing_a_missing_word_is_refused_naming_the_words(tmp_path):
    folder = _copy("joe", tmp_path / "mine")
    for token in ("on your marks", "fifty one", "rest"):  # a 51 s race says the first two, never "rest"
        (folder / clips.clip_name(token)).unlink()
    job = _race_with_voice(str(folder))
    with pytest.raises(UsageError) as caught:
        stridebeat.render_array(job)
    assert caught.value.key == "voice"
    message = str(caught.value)
    assert "'on your marks'" in message and "'fifty one'" in message and "'rest'" not in message
    assert "\n" not in message and f"stridebeat voice record {folder}" in message


def test_a_broken_clip_in_a_folder_is_a_usage_error_naming_the_file(tmp_path):
    folder = _copy("joe", tmp_path / "mine")
    with wave.open(str(folder / "go.wav"), "wb") as out:  # 8-bit: not the format
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(44100)
        out.writeframes(bytes(4410))
    with pytest.raises(UsageError, match=r"go\.wav: 1 channel\(s\), 8-bit, 44100 Hz") as caught:
        VoiceBank(str(folder), 44100).clip("go")
    assert caught.value.key == "voice"


def test_every_listed_word_is_in_the_vocabulary_once():
    assert sorted(ALL_WORDS) == sorted(VOCABULARY)


def _speech(rate: int, seconds: float, f0: float = 180.0) -> np.ndarray:
    """A vowel-like tone with harmonics and a syllable envelope: speech enough for trimming and levelling."""
    t = np.arange(int(seconds * rate)) / rate
    tone = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 8))
    return tone * np.sin(np.pi * t / seconds) ** 2


def test_a_recording_is_trimmed_levelled_and_kept_under_the_peak():
    rate = 48000
    rng = np.random.default_rng(1)
    word = 0.05 * _speech(rate, 0.5)
    silence = np.concatenate([np.zeros(rate // 2), word, np.zeros(rate)])
    take = silence + 1e-4 * rng.standard_normal(len(silence))
    clip = clips.prepare_recording(take, rate)
    assert clip.dtype == np.float32
    # The word alone, at 44.1 kHz: its length within the trimming's margins.
    assert 0.35 < len(clip) / 44100 < 0.5 + 0.05
    level = 20 * np.log10(clips.voiced_rms(clip))
    assert abs(level - clips.VOICED_RMS_DBFS) < 0.5
    assert np.max(np.abs(clip)) <= clips.CLIP_PEAK
    assert clips.clip_problem(clip) is None


def test_a_take_of_hiss_or_silence_is_no_word():
    rate = 48000
    hiss = 1e-3 * np.random.default_rng(2).standard_normal(2 * rate)
    assert len(clips.prepare_recording(hiss, rate)) == 0
    assert len(clips.prepare_recording(np.zeros(rate), rate)) == 0
