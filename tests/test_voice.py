"""Spoken cues: the phrase builders, the shipped clips, and an independent listener (pocketsphinx) over clicks."""

from __future__ import annotations

import math
import os
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr
from hypothesis import given
from hypothesis import strategies as st

from listening import make_listener
from stridebeat.core import clips, voice
from stridebeat.core.assets import audio_dir
from stridebeat.core.clips import VOICE_FILE
from stridebeat.core.track import SoundOptions
from stridebeat.core.voice import (
    COMMANDS,
    GAP_SECONDS,
    PHRASE_PEAK,
    VOCABULARY,
    VOICES,
    VoiceBank,
    command_words,
    count_words,
    countdown_words,
    distance_words,
    duration_words,
    rep_words,
    time_words,
)
from stridebeat.errors import StridebeatError, UsageError

try:
    import pocketsphinx
except ImportError:  # the test extra installs it; without it only the listening tests skip
    pocketsphinx = None

needs_pocketsphinx = pytest.mark.skipif(
    pocketsphinx is None, reason="pocketsphinx is not installed (pip install -e '.[test]' brings it)"
)

RATES = (44100, 48000)
VOICE_DIR = Path(audio_dir()) / "voice"


@pytest.fixture(scope="module")
def banks():
    """One VoiceBank per (voice, rate), shared by the module so every clip is loaded and resampled once."""
    made: dict[tuple[str, int], VoiceBank] = {}

    def get(name: str, rate: int) -> VoiceBank:
        if (name, rate) not in made:
            made[name, rate] = VoiceBank(name, rate)
        return made[name, rate]

    return get


# --- English numbers, written out here independently of stridebeat.voice, to read the builders' words back ------------

_WORD_VALUES = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
}  # fmt: skip


def _number(words: str) -> int:
    """ "fifty one" → 51, "twelve" → 12."""
    return sum(_WORD_VALUES[w] for w in words.split())


def _read_time(tokens: list[str]) -> int:
    """Tenths of a second said by time_words' tokens, parsed by the convention's grammar."""
    minutes = 0
    if len(tokens) == 4:
        minutes = _number(tokens[0])
        assert tokens[1] == ("minute" if minutes == 1 else "minutes")
        tokens = tokens[2:]
    assert len(tokens) == 2 and tokens[1].startswith("point ")
    tenth = _number(tokens[1].removeprefix("point "))
    assert 0 <= tenth <= 9
    return minutes * 600 + _number(tokens[0]) * 10 + tenth


# --- word builders ----------------------------------------------------------------------------------------------------

TIME_TABLE = [
    (9.0, ["nine", "point zero"]),
    (12.4, ["twelve", "point four"]),
    (51.0, ["fifty one", "point zero"]),
    (59.96, ["one", "minute", "zero", "point zero"]),
    (60.0, ["one", "minute", "zero", "point zero"]),
    (65.3, ["one", "minute", "five", "point three"]),
    (119.95, ["two", "minutes", "zero", "point zero"]),
    (599.9, ["nine", "minutes", "fifty nine", "point nine"]),
    (12.35, ["twelve", "point four"]),  # half up on the decimal value, though the double 12.35 is 12.3499…
    (8.95, ["nine", "point zero"]),  # rounds into range
    (100, ["one", "minute", "forty", "point zero"]),  # an int is a time too
    (np.float64(47.25), ["forty seven", "point three"]),
    (20.05, ["twenty", "point one"]),
]


@pytest.mark.parametrize(("seconds", "words"), TIME_TABLE)
def test_time_words_table(seconds, words):
    assert time_words(seconds) == words


@given(
    st.one_of(
        st.floats(-1e12, 1e12),  # decimal quantizes to 28 digits at most
        st.decimals(0, 1000, places=3, allow_nan=False, allow_infinity=False).map(float),
        st.integers(0, 10**7).map(lambda n: n / 20),
    )
)  # n / 20: every tie of a tenth
def test_tenths_round_half_up_as_decimal_does(seconds):
    # Ground truth: the decimal module's ROUND_HALF_UP on the shortest repr, which voice.py no longer imports; the
    # words of the rounded time written out from the vocabulary's public tables.
    want = int(Decimal(repr(seconds)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) * 10)
    if not 90 <= want <= 5999:
        with pytest.raises(UsageError):
            time_words(seconds)
        return
    minutes, rest = divmod(want, 600)
    whole, tenth = divmod(rest, 10)
    said = [voice.NUMBERS[minutes], "minute" if minutes == 1 else "minutes"] if minutes else []
    assert time_words(seconds) == [*said, voice.NUMBERS[whole], voice.TENTHS[tenth]]


@pytest.mark.parametrize(
    "seconds", [8.9, 8.94, 599.95, 600, 600.0, 1e9, 0, -12.4, math.nan, math.inf, "12.4", None, True]
)
def test_time_words_rejects(seconds):
    with pytest.raises(UsageError, match=r"^[^\n]+$"):
        time_words(seconds)


def test_time_words_say_every_tenth_from_9_to_599_9_back():
    # Ground truth from an independent reader: every tenth in range must be said as exactly that number.
    for tenths in range(90, 6000):
        words = time_words(tenths / 10)
        assert _read_time(words) == tenths, words


@pytest.mark.parametrize(
    ("metres", "words"),
    [(100, ["one hundred"]), (200, ["two hundred"]), (300.0, ["three hundred"]), (1000, ["one thousand"])],
)
def test_distance_words(metres, words):
    assert distance_words(metres) == words


def test_distance_words_calls_the_race_distance_finish():
    assert distance_words(400, race_distance=400) == ["finish"]
    assert distance_words(300, race_distance=400) == ["three hundred"]
    assert distance_words(400) == ["four hundred"]


@pytest.mark.parametrize("metres", [0, 50, 150, 99.9, 1100, -100, math.nan, "100"])
def test_distance_words_rejects(metres):
    with pytest.raises(UsageError, match=r"^[^\n]+$"):
        distance_words(metres)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (360, ["six", "minutes"]),
        (60, ["one", "minute"]),
        (30, ["thirty", "seconds"]),
        (90, ["ninety", "seconds"]),
        (1, ["one", "second"]),
        (150, ["two", "minutes", "thirty", "seconds"]),
        (61.0, ["one", "minute", "one", "second"]),
        (600, ["ten", "minutes"]),
        (3599, ["fifty nine", "minutes", "fifty nine", "seconds"]),
    ],
)
def test_duration_words(seconds, words):
    assert duration_words(seconds) == words


@pytest.mark.parametrize("seconds", [0, 0.5, 30.5, 3600, -5, math.inf])
def test_duration_words_rejects(seconds):
    with pytest.raises(UsageError, match=r"^[^\n]+$"):
        duration_words(seconds)


def test_countdown_and_commands():
    assert [countdown_words(n)[0] for n in (10, 5, 4, 3, 2, 1)] == ["ten", "five", "four", "three", "two", "one"]
    for command in ("on your marks", "set", "go", "hold", "hold the rhythm", "rest", "next rep", "finish"):
        assert command_words(command) == [command]
    for bad in (0, 11, 2.0, True):
        with pytest.raises(UsageError):
            countdown_words(bad)
    with pytest.raises(UsageError, match="on your marks"):
        command_words("ready")


def test_a_rep_is_named_with_its_count():
    assert rep_words(2, 3) == ["rep", "two", "of", "three"]
    assert rep_words(59, 100) == ["rep", "fifty nine", "of", "one hundred"]
    assert [count_words(n) for n in (60, 61, 75, 90, 99)] == [
        ["sixty"],
        ["sixty", "one"],
        ["seventy", "five"],
        ["ninety"],
        ["ninety", "nine"],
    ]
    for bad in (0, 101, 2.0, True):
        with pytest.raises(UsageError):
            count_words(bad)
    with pytest.raises(UsageError, match="rep 4 of 3"):
        rep_words(4, 3)


def test_builders_emit_only_vocabulary_and_every_token_is_used():
    emitted: set[str] = set()
    for tenths in range(90, 6000):
        emitted.update(time_words(tenths / 10))
    for metres in range(100, 1001, 100):
        emitted.update(distance_words(metres))
    emitted.update(distance_words(400, race_distance=400))
    for seconds in range(1, 3600):
        emitted.update(duration_words(seconds))
    for n in range(1, 11):
        emitted.update(countdown_words(n))
    for command in COMMANDS:
        emitted.update(command_words(command))
    for total in range(1, 101):
        emitted.update(rep_words(total, total))
    assert emitted <= VOCABULARY, sorted(emitted - VOCABULARY)
    assert VOCABULARY <= emitted, f"clips no builder can reach: {sorted(VOCABULARY - emitted)}"


# --- shipped clips ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", VOICES)
def test_every_token_has_a_clip_and_nothing_else_is_shipped(name):
    shipped = {p.name for p in (VOICE_DIR / name).iterdir()}
    expected = {os.path.basename(voice.clip_path(name, token)) for token in VOCABULARY} | {VOICE_FILE}
    assert expected - shipped == set(), "missing clips"
    assert shipped - expected == set(), "clips outside the vocabulary"


@pytest.mark.parametrize("name", VOICES)
def test_clips_are_mono_16_bit_wav_at_the_default_output_rate(name):
    # Stored at the rate a default render writes, so that it plays them as stored, without a resampler.
    assert voice.CLIP_RATE == SoundOptions().samplerate == 44100
    for token in VOCABULARY:
        info = sf.info(voice.clip_path(name, token))  # libsndfile: a reader independent of stridebeat.wav
        assert (info.format, info.subtype, info.channels, info.samplerate) == ("WAV", "PCM_16", 1, 44100), token
        assert 0.15 < info.duration < 1.6, (token, info.duration)


@pytest.mark.parametrize("name", VOICES)
def test_bank_reads_the_clips_as_libsndfile_does(name):
    """At the clips' own rate nothing is resampled: the bank's samples are the file's, read by stridebeat.wav, equal to
    what libsndfile (an independent reader) decodes, at the documented phrase level."""
    bank = voice.VoiceBank(name, 44100)
    for token in sorted(VOCABULARY):
        expected, rate = sf.read(voice.clip_path(name, token), dtype="float32")
        assert rate == 44100
        got = bank.clip(token)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, expected * np.float32(voice.PHRASE_PEAK / voice.CLIP_PEAK), err_msg=token)


@pytest.mark.parametrize("rate", [22050, 48000, 96000])
def test_clips_loaded_together_equal_each_clip_resampled_alone(rate):
    """Ground truth: each stored clip resampled by soxr after a second of silence, so the reference has no cold start;
    the bank's clip keeps its onset on its first sample and differs by < 1e-4 (soxr's cold start on a bare clip)."""
    bank = VoiceBank("male", rate)
    tokens = sorted(VOCABULARY)[::3]
    bank.load(tokens)
    for token in tokens:
        stored, _ = sf.read(voice.clip_path("male", token), dtype="float32")
        silence = np.zeros(44100, np.float32)  # a second
        alone = soxr.resample(np.concatenate([silence, stored]), 44100, rate, quality="HQ")[rate:]
        length = len(soxr.resample(stored, 44100, rate, quality="HQ"))  # a bare clip's length, as soxr rounds it
        expected = alone[:length] * np.float32(voice.PHRASE_PEAK / voice.CLIP_PEAK)
        got = bank.clip(token)
        assert len(got) == len(expected), token
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4, err_msg=token)


def test_voice_folder_is_small_and_documented():
    size = sum(p.stat().st_size for p in VOICE_DIR.rglob("*") if p.is_file())
    assert size < 20_000_000  # 16-bit WAV at 44.1 kHz, read without libsndfile; the README says why
    readme = (VOICE_DIR / "README.md").read_text(encoding="utf-8")
    for needed in ("flite", "slt", "rms", "licence", "tools/make_voice.py", "one minute five point three"):
        assert needed in readme


def _envelope(x: np.ndarray, rate: int, seconds: float = 0.005) -> np.ndarray:
    """RMS over a sliding window starting at every sample."""
    width = round(seconds * rate)
    power = np.concatenate(([0.0], np.cumsum(x.astype(np.float64) ** 2)))
    return np.sqrt(np.maximum(power[width:] - power[:-width], 0) / width)


def _voiced_rms(x: np.ndarray, rate: int) -> float:
    n = rate // 100
    frames = x[: len(x) // n * n].astype(np.float64).reshape(-1, n)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    return float(np.sqrt(np.mean(rms[rms > rms.max() * 10 ** (-30 / 20)] ** 2)))


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("name", VOICES)
def test_every_clip_loads_at_the_output_rate(banks, name, rate):
    bank = banks(name, rate)
    for token in VOCABULARY:
        clip = bank.clip(token)
        stored = sf.info(voice.clip_path(name, token)).frames
        assert clip.dtype == np.float32 and clip.ndim == 1
        assert abs(len(clip) - stored * rate / 44100) <= 2, token
        assert np.all(np.isfinite(clip))
        assert 0.1 < np.max(np.abs(clip)) <= PHRASE_PEAK, token
        assert bank.clip(token) is clip  # cached


def test_clips_are_loudness_matched_across_both_voices(banks):
    loudness = {
        (name, token): 20 * math.log10(_voiced_rms(banks(name, 48000).clip(token), 48000))
        for name in VOICES
        for token in VOCABULARY
    }
    middle = float(np.median(list(loudness.values())))
    # Within 1.5 dB: the neural voice's peak limiter takes its few loudest clips a little under the common level.
    off = {key: round(db - middle, 2) for key, db in loudness.items() if abs(db - middle) > 1.5}
    assert off == {}
    # The common ceiling is reached: the loudest clip of the set peaks at the documented phrase peak.
    loudest = max(float(np.max(np.abs(banks(n, 48000).clip(t)))) for n in VOICES for t in VOCABULARY)
    assert PHRASE_PEAK * 10 ** (-1 / 20) < loudest <= PHRASE_PEAK


@pytest.mark.parametrize("name", VOICES)
def test_every_clip_starts_at_its_speech_onset(banks, name):
    rate = 48000
    bank = banks(name, rate)
    to_speech = []
    for token in VOCABULARY:
        clip = bank.clip(token)
        peak = float(np.max(np.abs(clip)))
        env = _envelope(clip, rate)
        assert abs(clip[0]) > 1e-4, token  # not digital silence
        assert env[0] > peak * 10 ** (-62 / 20), token  # already above flite's pause noise
        # The synthesisers start every utterance with 120–230 ms of pause; a trimmed clip reaches full speech level
        # sooner (a soft leading "f", as in HTS slt's "four", takes up to ~135 ms to rise within 30 dB of the peak).
        ms = 1000 * int(np.argmax(env > peak * 10 ** (-30 / 20))) / rate
        assert ms < 150, (token, ms)
        to_speech.append(ms)
    assert np.median(to_speech) < 50


@pytest.mark.parametrize("rate", RATES)
def test_resampling_keeps_the_onset_on_the_first_sample(banks, rate):
    for name in VOICES:
        for token in ("twelve", "set", "on your marks", "finish", "point four"):
            stored, stored_rate = sf.read(voice.clip_path(name, token), dtype="float32")
            back = soxr.resample(banks(name, rate).clip(token), rate, stored_rate)
            n = min(len(stored), len(back)) - 40
            lags = range(-20, 21)
            score = [float(np.dot(stored[20 : 20 + n], back[20 + lag : 20 + lag + n])) for lag in lags]
            assert lags[int(np.argmax(score))] == 0, (name, token)


# --- phrases ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("name", VOICES)
def test_phrase_is_its_clips_joined_by_short_gaps(banks, name, rate):
    bank = banks(name, rate)
    tokens = time_words(65.3)
    phrase = bank.phrase(tokens)
    gap = np.zeros(round(GAP_SECONDS * rate), dtype=np.float32)
    expected = [bank.clip(tokens[0])]
    for token in tokens[1:]:
        expected += [gap, bank.clip(token)]
    np.testing.assert_array_equal(phrase, np.concatenate(expected))
    assert phrase.dtype == np.float32
    assert phrase[0] == bank.clip("one")[0] != 0  # the first sample is the onset of "one"
    assert 0.040 <= GAP_SECONDS <= 0.080


@pytest.mark.parametrize("name", VOICES)
def test_phrase_peak_never_exceeds_the_documented_level(banks, name):
    bank = banks(name, 44100)
    for words in (time_words(599.9), distance_words(300), ["on your marks"], duration_words(150), ["seconds"] * 3):
        phrase = bank.phrase(words)
        assert 0 < np.max(np.abs(phrase)) <= PHRASE_PEAK


def test_phrase_returns_a_new_array(banks):
    bank = banks("male", 48000)
    phrase = bank.phrase(["go"])
    phrase[:] = 0  # must not damage the cached clip
    assert np.max(np.abs(bank.clip("go"))) > 0.1


def test_bank_rejects_bad_input():
    with pytest.raises(UsageError, match=r"unknown voice 'robot': choose one of female, male, joe"):
        VoiceBank("robot", 48000)
    for rate in (0, -44100, 44100.5, True):
        with pytest.raises(UsageError):
            VoiceBank("female", rate)
    bank = VoiceBank("female", 48000)
    for tokens in ([], "twelve", ["twelve", "eleventy"]):
        with pytest.raises(UsageError, match=r"^[^\n]+$"):
            bank.phrase(tokens)


def test_missing_clip_is_reported_as_a_broken_install(monkeypatch, tmp_path):
    monkeypatch.setattr(clips, "audio_dir", lambda: tmp_path)
    with pytest.raises(StridebeatError, match="reinstall"):
        VoiceBank("male", 48000).clip("go")


# --- an independent listener ------------------------------------------------------------------------------------------

CLICK_PERIOD = 0.27  # a 400 m runner's step at ~3.7 steps/s
CLICK_BELOW_VOICE_DB = 6.0


@pytest.fixture(scope="module")
def listen():
    return make_listener()


def _over_clicks(phrase: np.ndarray, rate: int) -> np.ndarray:
    """The phrase with half a second either side, over a running 1.5 kHz click track; 16 kHz int16 for the decoder."""
    pad = rate // 2
    mix = np.zeros(len(phrase) + 2 * pad, dtype=np.float64)
    mix[pad : pad + len(phrase)] = phrase
    n = round(0.005 * rate)
    click = np.sin(2 * np.pi * 1500 * np.arange(n) / rate) * np.hanning(n)
    level = np.max(np.abs(phrase)) * 10 ** (-CLICK_BELOW_VOICE_DB / 20)
    for start in range(round(0.05 * rate), len(mix) - n, round(CLICK_PERIOD * rate)):
        mix[start : start + n] += level * click  # the clicks never stop under speech
    pcm = soxr.resample(mix, rate, 16000)
    return np.round(np.clip(pcm, -1, 1) * 32767).astype(np.int16)


# Every phrase here was heard exactly, for both voices, at both output rates and with the clicks 6 and 3 dB below the
# voice, when the clips were made; it must stay so.
CORE_PHRASES = [
    time_words(9.0),
    time_words(12.4),
    time_words(23.7),
    time_words(47.3),
    time_words(51.0),
    time_words(55.1),
    time_words(59.96),
    time_words(65.3),
    time_words(71.9),
    time_words(599.9),
    distance_words(100),
    distance_words(200),
    distance_words(300),
    distance_words(400, race_distance=400),
    ["on your marks"],
    ["hold the rhythm"],
    ["next rep"],
]

# A wider spread of calls, judged as a rate: a listener may miss a tenth now and then, a broken clip misses far more.
SPREAD_PHRASES = (
    [time_words(t) for t in np.round(np.linspace(9.3, 89.7, 24), 1)]
    + [time_words(t) for t in (100.4, 133.8, 187.2, 242.6, 318.1, 404.9, 486.3, 555.5)]
    + [distance_words(m) for m in range(100, 1001, 100)]
    + [duration_words(s) for s in (30, 90, 120, 360)]
)


def _misheard(bank, listen, phrases, rate: int) -> dict[str, str]:
    """What the listener heard wrong, phrase by phrase, over running clicks."""
    heard = {" ".join(tokens): listen(_over_clicks(bank.phrase(tokens), rate)) for tokens in phrases}
    return {said: got for said, got in heard.items() if got != said}


@needs_pocketsphinx
@pytest.mark.parametrize("name", VOICES)
def test_core_calls_are_heard_exactly_over_clicks(banks, listen, name):
    assert _misheard(banks(name, 48000), listen, CORE_PHRASES, 48000) == {}


@needs_pocketsphinx
@pytest.mark.parametrize("name", VOICES)
def test_most_calls_are_heard_exactly_over_clicks(banks, listen, name):
    misheard = _misheard(banks(name, 44100), listen, SPREAD_PHRASES, 44100)
    assert len(misheard) <= len(SPREAD_PHRASES) // 10, misheard
