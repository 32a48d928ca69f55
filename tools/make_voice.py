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

_ROOT = Path(__file__).resolve().parent.parent
try:
    from stridebeat.core import voice as sbvoice
    from stridebeat.export import wav
except ImportError:  # a plain checkout without `pip install -e .`
    sys.path.insert(0, str(_ROOT / "src"))
    from stridebeat.core import voice as sbvoice
    from stridebeat.export import wav

# Which synthesiser and voice speaks for which stridebeat voice, picked by bench/listen.py (Whisper over the clicks):
# Festival's HTS slt is flite's slt speaker with a statistical vocoder, and was heard where flite's slt lost "set",
# "three" and "two"; flite's rms was heard better than awb (Scottish) or kal16 (diphone).
SOURCES = {"female": ("festival", "cmu_us_slt_arctic_hts"), "male": ("flite", "rms")}
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


SYNTHESISERS = {"flite": flite, "festival": festival}


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
    clip = trim(samples, rate, phones)
    return Clip(voice, token, clip, rate, voiced_rms(clip, rate))


def true_peak(x: np.ndarray, rate: int) -> float:
    """Peak of the waveform between samples too (4x oversampled, as EBU R128 measures a true peak).

    A fricative near 8 kHz peaks up to ~2 dB higher between its 16 kHz samples, and that is what resampling to
    44.1/48 kHz brings out.
    """
    return float(np.max(np.abs(soxr.resample(x, rate, 4 * rate, quality="VHQ"))))


def write(clips: list[Clip], out: Path) -> None:
    levelled = [c.samples * (TARGET_RMS / c.voiced_rms) for c in clips]
    common = sbvoice.CLIP_PEAK / max(true_peak(x, c.rate) for c, x in zip(clips, levelled, strict=True))
    for clip, x in zip(clips, levelled, strict=True):
        pcm = np.clip(np.round(to_stored_rate(x * common, clip.rate) * 32767), -32768, 32767).astype(np.int16)
        path = out / clip.voice / sbvoice.clip_name(clip.token)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(wav.header(len(pcm), STORED, 1) + pcm.astype(wav.PCM16).tobytes())


def to_stored_rate(x: np.ndarray, rate: int) -> np.ndarray:
    """``x`` at ``rate`` → STORED, as if within silence: a second of it either side takes the filter's ringing, and the
    clip is cut back out at round(n × STORED / rate) samples from the output sample of its first one."""
    pad = np.zeros(rate)
    hi = soxr.resample(np.concatenate([pad, x, pad]), rate, STORED, quality="VHQ")
    return hi[STORED : STORED + (2 * len(x) * STORED + rate) // (2 * rate)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=_ROOT / "audio" / "voice", help="folder of <voice>/<token>.wav")
    args = parser.parse_args(argv)
    for program in sorted({p for p, _ in SOURCES.values()}):
        if shutil.which(program) is None:
            raise SystemExit(f"{program} is not installed (Debian: apt-get install festival festvox-us-slt-hts flite)")
    # `flite --version` prints the version and exits with status 1, so the status is not checked.
    version = subprocess.run(["flite", "--version"], capture_output=True, text=True).stdout
    if "flite-2.2" not in version:
        print(f"warning: the committed clips were made with flite 2.2; this is: {version.strip()}", file=sys.stderr)

    # One sorted order and one common level for everything, so the output does not depend on dict or set order.
    clips = [make_clip(v, t) for v in sbvoice.VOICES for t in sorted(sbvoice.VOCABULARY)]
    write(clips, args.out)
    expected = {args.out / c.voice / sbvoice.clip_name(c.token) for c in clips}
    for stale in sorted([*args.out.glob("*/*.wav"), *args.out.glob("*/*.flac")]):
        if stale not in expected:
            stale.unlink()
    size = sum(p.stat().st_size for p in expected)
    print(f"wrote {len(clips)} clips ({size / 1e6:.2f} MB) to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
