"""A voice as a folder of clips: the one format every voice uses, reading a clip, checking it, and making one.

The format (the shipped voices' own, so a shipped voice copied to a folder is a valid voice of one's own):

* one file per vocabulary token, ``<token>.wav`` with spaces as ``_`` (``on_your_marks.wav``);
* 16-bit PCM WAV, mono, at :data:`CLIP_RATE` (44.1 kHz);
* the first sample is the speech onset (no leading silence), no trailing pause;
* speech at the shipped level: voiced RMS about :data:`VOICED_RMS_DBFS`, peak at most :data:`CLIP_PEAK` (−1 dBFS);
* optionally ``voice.toml`` (:data:`VOICE_FILE`) with ``name`` and ``licence`` strings, shown by ``voice check``.

Everything here is numpy and the standard library's ``wave``: the recorder (``stridebeat.live.record``) and the
``voice`` command (``stridebeat.cli.voice``) are thin shells over it.
"""

from __future__ import annotations

import io
import math
import os
import wave
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stridebeat.core.assets import audio_dir
from stridebeat.core.vocabulary import VOICES
from stridebeat.errors import UsageError

# The stored clips' rate: the default output rate, so a default render plays them as stored.
CLIP_RATE = 44100
# Peak ceiling of a stored clip (−1 dBFS); the voice bank maps it to its phrase peak.
CLIP_PEAK = 10 ** (-1 / 20)
# The voiced RMS of every shipped clip (10 ms frames within 30 dB of the loudest): what the recorder levels to.
VOICED_RMS_DBFS = -19.2
VOICE_FILE = "voice.toml"

# Limits of a usable clip. A call must fit between two marks a few seconds apart, so no token may take long; a clip
# far under the shipped level would be lost under the clicks; a flat top at full scale is a clipped recording.
MAX_CLIP_S = 2.0
MIN_CLIP_S = 0.08
MIN_VOICED_RMS_DBFS = -30.0
MAX_FILE_BYTES = 1_000_000  # about 11 s of clip: far over any usable one, and read whole without a second thought
MAX_LEAD_S = 0.15  # speech must start on the clip's first samples: the bank places that sample on the cue's time
FULL_SCALE = 32767
CLIPPED_RUN = 3  # consecutive samples at full scale
# Trimming a recording: speech is where the 5 ms envelope rises this far over the noise floor (its quietest tenth).
TRIM_FRAME_S = 0.005
TRIM_OVER_FLOOR_DB = 12.0
TRIM_UNDER_PEAK_DB = -40.0
TRIM_KEEP_S = 0.03
# A take holds a word only if its loudest moment stands this far over its noise and over digital near-silence; else
# levelling would turn the microphone's hiss into a "word".
TAKE_OVER_FLOOR_DB = 20.0
TAKE_MIN_DBFS = -60.0  # kept after the last frame over the threshold: a final consonant's release
FADE_S = 0.005


def clip_name(token: str) -> str:
    """The file name of a token's clip: ``"on your marks"`` → ``on_your_marks.wav``."""
    return f"{token.replace(' ', '_')}.wav"


def is_shipped(voice: str | os.PathLike[str]) -> bool:
    """Whether ``voice`` names a shipped voice (one of :data:`VOICES`) rather than a folder."""
    return isinstance(voice, str) and voice in VOICES


def voice_folder(voice: str | os.PathLike[str]) -> Path:
    """The folder of a voice: a shipped voice's own, or ``voice`` itself when it is an existing folder.

    Raises
    ------
    UsageError
        (key ``voice``) If ``voice`` is neither a shipped voice nor an existing folder.
    """
    if is_shipped(voice):
        return audio_dir() / "voice" / str(voice)
    folder = Path(voice)
    if not folder.is_dir():
        raise UsageError(
            f"unknown voice {str(voice)!r}: choose one of {', '.join(VOICES)}, or give the folder of your own voice "
            "(stridebeat voice record FOLDER)",
            key="voice",
        )
    return folder


def require_clips(voice: str | os.PathLike[str], tokens: Iterable[str]) -> None:
    """Refuse, before anything is rendered, a voice folder that lacks a clip the plan will say.

    Shipped voices are complete (the tests hold them to it); a folder of one's own is checked for every token.

    Raises
    ------
    UsageError
        (key ``voice``) Naming the missing words and how to record them.
    """
    if is_shipped(voice):
        return
    folder = voice_folder(voice)
    missing = [t for t in dict.fromkeys(tokens) if not (folder / clip_name(t)).is_file()]
    if missing:
        raise UsageError(
            f"the voice folder {folder} has no clip for {len(missing)} word(s) this plan says: "
            f"{', '.join(repr(t) for t in missing)}; record them with 'stridebeat voice record {folder}'",
            key="voice",
        )


class ClipFormatError(ValueError):
    """A file that is not a 16-bit mono WAV at :data:`CLIP_RATE` (the message says what it is instead)."""


def read_clip(path: Path) -> np.ndarray:
    """The samples of one clip as float32 in [-1, 1).

    Raises
    ------
    OSError
        The file cannot be opened (missing, a folder, no permission).
    ClipFormatError
        Not a WAV, or not 16-bit mono at :data:`CLIP_RATE`.
    """
    size = os.stat(path).st_size
    if size > MAX_FILE_BYTES:
        raise ClipFormatError(f"{size / 1e6:.1f} MB is far too large for one word (a clip is a few hundred kB)")
    try:
        with wave.open(str(path), "rb") as clip:
            shape = (clip.getnchannels(), clip.getsampwidth(), clip.getframerate())
            frames = clip.readframes(clip.getnframes())
    except (EOFError, wave.Error) as exc:
        raise ClipFormatError(f"not a PCM WAV file ({exc})") from None
    if shape != (1, 2, CLIP_RATE):
        channels, width, rate = shape
        raise ClipFormatError(
            f"{channels} channel(s), {8 * width}-bit, {rate} Hz; a clip is 16-bit mono at {CLIP_RATE} Hz"
        )
    # 16-bit PCM is little-endian; 32768 is the scale libsndfile reads it with.
    return np.frombuffer(frames, dtype="<i2").astype(np.float32) / np.float32(32768.0)


def voiced_rms(x: np.ndarray, rate: int = CLIP_RATE) -> float:
    """RMS over the 10 ms frames within 30 dB of the loudest frame: a loudness that ignores pauses (0.0 if silent)."""
    n = rate // 100
    if len(x) < n:
        return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0
    frames = x[: len(x) // n * n].astype(np.float64).reshape(-1, n)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    if rms.max() <= 0:
        return 0.0
    voiced = rms[rms > rms.max() * 10 ** (-30 / 20)]
    return float(np.sqrt(np.mean(voiced**2)))


def _envelope(x: np.ndarray, rate: int) -> np.ndarray:
    width = max(1, round(TRIM_FRAME_S * rate))
    power = np.concatenate(([0.0], np.cumsum(np.square(x, dtype=np.float64))))
    env: np.ndarray = np.sqrt(np.maximum(power[width:] - power[:-width], 0.0) / width)
    return env


def _db(value: float) -> float:
    return 20 * math.log10(value) if value > 0 else -math.inf


def clip_problem(x: np.ndarray) -> str | None:
    """Why a clip (float samples at :data:`CLIP_RATE`, as :func:`read_clip` returns) is unusable, or None.

    One reason, the first that applies: too short, too long, too quiet, clipped, too loud, or starting late.
    """
    seconds = len(x) / CLIP_RATE
    if seconds < MIN_CLIP_S:
        return f"too short ({seconds:.2f} s): record the word again"
    if seconds > MAX_CLIP_S:
        return f"too long ({seconds:.2f} s, at most {MAX_CLIP_S:g} s): say it quicker or trim the pauses"
    level = _db(voiced_rms(x))
    if level < MIN_VOICED_RMS_DBFS:
        shown = "silent" if level == -math.inf else f"{level:.1f} dBFS"
        return f"too quiet ({shown}; at least {MIN_VOICED_RMS_DBFS:g}): record it again closer to the microphone"
    full = np.abs(np.round(x * 32768.0)) >= FULL_SCALE
    run = np.convolve(full.astype(np.int8), np.ones(CLIPPED_RUN, dtype=np.int8), mode="valid")
    if run.size and run.max() >= CLIPPED_RUN:
        return "clipped (flat tops at full scale): record it again further from the microphone"
    peak = float(np.max(np.abs(x)))
    if peak > CLIP_PEAK * 1.001:
        return f"too loud (peak {_db(peak):.1f} dBFS, at most -1): lower it or record again with 'voice record'"
    env = _envelope(x, CLIP_RATE)
    onset = int(np.argmax(env > env.max() * 10 ** (-30 / 20))) / CLIP_RATE
    if onset > MAX_LEAD_S:
        return f"starts with {onset:.2f} s of silence: trim it so the word starts at once"
    return None


@dataclass(frozen=True, slots=True)
class ClipCheck:
    """One token's state in a voice folder: ``problem`` is None when the clip is usable."""

    token: str
    path: Path
    problem: str | None


def check_folder(folder: Path, tokens: list[str]) -> list[ClipCheck]:
    """Check the clip of every token in ``folder`` (missing, unreadable, wrong format, or :func:`clip_problem`)."""
    out = []
    for token in tokens:
        path = folder / clip_name(token)
        problem: str | None
        if not path.is_file():
            problem = "missing"
        else:
            try:
                problem = clip_problem(read_clip(path))
            except ClipFormatError as exc:
                problem = f"wrong format: {exc}"
            except OSError as exc:
                problem = f"unreadable: {exc.strerror or exc}"
        out.append(ClipCheck(token, path, problem))
    return out


def prepare_recording(x: np.ndarray, rate: int) -> np.ndarray:
    """A recorded take made into a clip: mono at :data:`CLIP_RATE`, trimmed to the speech, levelled to the shipped
    voiced RMS, its peak held under :data:`CLIP_PEAK`, a 5 ms fade at each end. Empty when nothing was said (the
    take's loudest moment is not :data:`TAKE_OVER_FLOOR_DB` over its noise floor).

    Parameters
    ----------
    x : numpy.ndarray
        The take, float samples, mono or (frames, channels).
    rate : int
        Its rate in Hz.

    Returns
    -------
    numpy.ndarray
        float32 samples ready for :func:`wav_bytes` (check them with :func:`clip_problem`).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    if rate != CLIP_RATE and len(x):
        import soxr

        x = soxr.resample(x, rate, CLIP_RATE, quality="VHQ")
    if not len(x):
        return np.zeros(0, dtype=np.float32)
    x = x - float(np.mean(x))  # a microphone's DC offset would count as loudness
    env = _envelope(x, CLIP_RATE)
    floor = float(np.quantile(env, 0.1))
    threshold = max(floor * 10 ** (TRIM_OVER_FLOOR_DB / 20), float(env.max()) * 10 ** (TRIM_UNDER_PEAK_DB / 20))
    speech = np.flatnonzero(env > threshold)
    heard = env.max() > max(floor * 10 ** (TAKE_OVER_FLOOR_DB / 20), 10 ** (TAKE_MIN_DBFS / 20))
    if not speech.size or not heard:
        return np.zeros(0, dtype=np.float32)
    start = int(speech[0])
    end = min(len(x), int(speech[-1]) + round((TRIM_FRAME_S + TRIM_KEEP_S) * CLIP_RATE))
    clip = x[start:end].copy()
    gain = 10 ** (VOICED_RMS_DBFS / 20) / max(voiced_rms(clip), 1e-12)
    clip *= min(gain, CLIP_PEAK / float(np.max(np.abs(clip))))
    fade = min(round(FADE_S * CLIP_RATE), len(clip) // 2)
    if fade:
        ramp = 0.5 * (1 - np.cos(np.linspace(0, np.pi, fade)))
        clip[:fade] *= ramp
        clip[-fade:] *= ramp[::-1]
    return clip.astype(np.float32)


def wav_bytes(x: np.ndarray) -> bytes:
    """A clip's file: 16-bit mono PCM WAV at :data:`CLIP_RATE`."""
    pcm = np.clip(np.round(np.asarray(x, dtype=np.float64) * 32768.0), -32768, FULL_SCALE).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(CLIP_RATE)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()
