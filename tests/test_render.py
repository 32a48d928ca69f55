"""Rendering: render → write → read back → an onset detector written in the tests (audiocheck) finds every click on its
scheduled sample and no other; block rendering is sample-exact; the level stays under −1 dBFS; every format round-trips.

Expected frames are computed here from the schedule's times with Python's own ``round`` and the lead-in the test asks
for, never with the track's ``frame_of``.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from audiocheck import detect_onsets, match_onsets, peak, read_audio
from stridebeat.core import sounds
from stridebeat.core.plan import RacePlan
from stridebeat.core.render import Renderer
from stridebeat.core.schedule import metronome_schedule, plan_race
from stridebeat.core.track import SoundOptions, build_track
from stridebeat.views import timeline as views
from writers import export_track

MINUS_1_DBFS = 10 ** (-1 / 20)  # 0.891 linear
PCM16_STEP = 1 / 32768
# libsndfile writes float as PCM 16 scaled by 32767 and reads it back divided by 32768: with rounding, a sample comes
# back within 1.5 steps of the float render.
PCM16_ROUND_TRIP = 1.5 / 32768
LEAD_S = 1.0
TAIL_S = 0.5
THRESHOLD = 0.01  # far below a click's first sample (~0.05 at the quietest accent), far above silence
SAMPLERATES = [44100, 48000]
CLICKS = ["woodblock", "tick", "beep"]


@pytest.fixture(scope="module")
def race():
    """A 200 m rep (the start, the acceleration, a 100 m split and a 100 m hold) in 24 s."""
    return plan_race(RacePlan(distance_m=200.0, target_time_s=24.0), hold_last_m=100.0)


def clicks_only(**kw) -> SoundOptions:
    return SoundOptions(split_tone=False, gun=False, lead_in_s=LEAD_S, tail_s=TAIL_S, **kw)


def expected_frames(steps_s, sr: int, lead_s: float = LEAD_S) -> np.ndarray:
    origin = round(lead_s * sr)
    return np.array([origin + round(t * sr) for t in steps_s.tolist()], dtype=np.int64)


def render_all(track) -> np.ndarray:
    out = np.zeros((track.n_frames, 2), dtype=np.float32)
    Renderer(track, max_block=track.n_frames).render(0, out)
    return out


def onsets(x: np.ndarray, sr: int, threshold: float = THRESHOLD) -> np.ndarray:
    # 10 ms of quiet: longer than any gap inside a click, far shorter than the shortest step (~230 ms).
    return detect_onsets(x, threshold=threshold, min_gap=sr // 100)


def click_peaks(x: np.ndarray, frames: np.ndarray, sr: int) -> np.ndarray:
    """Per click, the peak of each channel over its first 50 ms: shape (n, 2)."""
    w = sr // 20
    return np.array([np.abs(x[f : f + w]).max(axis=0) for f in frames])


# ------------------------------------------------------------------------------------------------ clicks on samples
@pytest.mark.parametrize("sr", SAMPLERATES)
@pytest.mark.parametrize("click", CLICKS)
def test_every_click_is_on_its_scheduled_sample_and_nothing_else(race, tmp_path, click, sr):
    track = build_track(race.schedule, clicks_only(click=click, samplerate=sr))
    path = export_track(track, tmp_path / "race.wav")
    x, rate = read_audio(path)
    assert rate == sr and x.shape[1] == 2
    assert np.array_equal(onsets(x, sr), expected_frames(race.schedule.steps_s, sr))
    # Lead-in, the run and a short tail.
    assert abs(len(x) - (LEAD_S + 24.0 + TAIL_S) * sr) <= 1


@pytest.mark.parametrize("sr", SAMPLERATES)
def test_gun_and_split_tones_are_on_their_frames(race, sr):
    """The gun and the 100 m chimes, isolated by subtracting a clicks-only render at the same fixed level."""
    level = dict(volume_db=-6.0, lead_in_s=LEAD_S, tail_s=TAIL_S, samplerate=sr)  # low enough that no mix is scaled
    full = render_all(build_track(race.schedule, SoundOptions(split_tone=True, gun=True, **level)))
    bare = render_all(build_track(race.schedule, SoundOptions(split_tone=False, gun=False, **level)))
    # The chime fades in over 2 ms from a small first sample, so the threshold sits just above float32 round-off.
    n = len(bare)  # the full mix is longer: its tail follows the finish chime
    extras = onsets(full[:n].astype(np.float64) - bare, sr, threshold=1e-4)
    origin = round(LEAD_S * sr)
    cue_t = {c.kind: c.t_s for c in race.schedule.cues if c.kind in ("split", "finish")}
    assert set(cue_t) == {"split", "finish"}
    # The gun at time 0, the chime at 100 m (its planned time), the chime at the finish (exactly the target time).
    expected = [origin, origin + round(cue_t["split"] * sr), origin + round(24.0 * sr)]
    assert extras.tolist() == expected
    assert cue_t["split"] == pytest.approx(race.splits[0].elapsed_s, abs=1e-9)


def test_the_gun_is_the_same_in_every_render_and_white():
    # Seeded noise: two renders are equal; its crack starts on its own first sample.
    a, b = sounds.gun(44100), sounds.gun(44100)
    assert np.array_equal(a, b) and a[0] > 0.1
    noise = np.random.default_rng(400).uniform(-1.0, 1.0, 200_000)
    # White: the power in each tenth of the band is within 5 % of the mean.
    power = np.abs(np.fft.rfft(noise))[1:100_001] ** 2
    tenths = power.reshape(10, -1).mean(axis=1)
    assert np.all(np.abs(tenths / tenths.mean() - 1) < 0.05)


@pytest.mark.parametrize("sr", SAMPLERATES)
def test_the_gun_starts_on_its_sample_and_is_the_same_every_time(sr):
    gun = sounds.gun(sr)
    assert gun.dtype == np.float32 and len(gun) == int(0.35 * sr)
    assert gun[0] > 0.5 * np.max(np.abs(gun))  # the crack is on its first sample
    # Its true peak (ITU-R BS.1770's 4× oversampling, here scipy's resampler) is 0.8, well over its samples: white
    # noise peaks between them.
    assert np.max(np.abs(resample_poly(gun.astype(np.float64), 4, 1))) == pytest.approx(0.8, abs=1e-4)
    assert np.max(np.abs(gun)) < 0.8 * 10 ** (-1 / 20)
    np.testing.assert_array_equal(gun, sounds.gun(sr))


# ------------------------------------------------------------------------------------------------- block rendering
@pytest.fixture(scope="module")
def busy_track(race):
    """Every sound at once: clicks with accents and panning, chimes over clicks, the gun."""
    return build_track(race.schedule, SoundOptions(accent_every=2, pan=True, lead_in_s=0.3, tail_s=0.2))


@pytest.mark.parametrize("block", [127, 331, 1000, 4097, 65537, 1 << 16])
def test_block_rendering_equals_one_shot(busy_track, block):
    whole = render_all(busy_track)
    pieces = np.zeros_like(whole)
    for start, buf in Renderer(busy_track, max_block=max(block, 1 << 16)).blocks(block):
        pieces[start : start + len(buf)] = buf
    assert np.array_equal(pieces, whole)


def test_random_blocks_anywhere_equal_the_one_shot_render(busy_track):
    whole = render_all(busy_track)
    r = Renderer(busy_track)
    rng = np.random.default_rng(2)
    # Sample-by-sample across the gun and the first footstrikes, where sounds start and overlap.
    first = int(busy_track.onsets[1])
    one = np.zeros((1, 2), dtype=np.float32)
    for f in range(first - 5, first + 40):
        r.render(f, one)
        assert np.array_equal(one[0], whole[f])
    for _ in range(60):
        n = int(rng.integers(1, 6000)) | 1  # odd sizes
        start = int(rng.integers(0, busy_track.n_frames - n))
        out = np.full((n, 2), np.nan, dtype=np.float32)
        r.render(start, out)
        assert np.array_equal(out, whole[start : start + n])


def test_frames_outside_the_track_are_silence(busy_track):
    whole = render_all(busy_track)
    r = Renderer(busy_track)
    n = busy_track.n_frames
    out = np.full((1000, 2), np.nan, dtype=np.float32)
    r.render(n - 300, out)
    assert np.array_equal(out[:300], whole[n - 300 :]) and not out[300:].any()
    r.render(n + 10, out)
    assert not out.any()
    r.render(-400, out)  # before the start: silence, then the first frames
    assert not out[:400].any() and np.array_equal(out[400:], whole[:600])


# ------------------------------------------------------------------------------------------------------- the level
LEVEL_CASES = {
    "plain": SoundOptions(),
    "accent-pan": SoundOptions(accent_every=2, pan=True),
    "accent3-beep": SoundOptions(accent_every=3, pan=True, click="beep"),
    "tick-48k": SoundOptions(click="tick", samplerate=48000, accent_every=2),
}


@pytest.mark.parametrize("name", list(LEVEL_CASES))
@pytest.mark.parametrize("T", [43.1, 51.0])
def test_peak_is_at_most_minus_1_dbfs_and_nothing_clips(tmp_path, name, T):
    options = LEVEL_CASES[name]
    planned = plan_race(RacePlan(target_time_s=T))
    track = build_track(planned.schedule, options)
    x = render_all(track)
    assert 0.5 < peak(x) <= MINUS_1_DBFS + 1e-6  # loud, and under the ceiling with chimes stacked on clicks
    path = export_track(track, tmp_path / "race.wav")
    y, _ = read_audio(path)
    assert peak(y) <= MINUS_1_DBFS + PCM16_STEP
    assert np.max(np.abs(y - x)) <= PCM16_ROUND_TRIP  # PCM 16 is the float render, rounded: nothing clipped or wrapped


def test_volume_lowers_the_level(race):
    loud = render_all(build_track(race.schedule, clicks_only()))
    quiet = render_all(build_track(race.schedule, clicks_only(volume_db=-20.0)))
    assert peak(quiet) == pytest.approx(peak(loud) * 10 ** (-20 / 20), rel=1e-4)


# ------------------------------------------------------------------------------------------- panning and accents
def test_panning_puts_the_landing_foot_on_its_side(race):
    sr = 44100
    track = build_track(race.schedule, clicks_only(pan=True))
    x = render_all(track)
    frames = expected_frames(race.schedule.steps_s, sr)
    assert np.array_equal(onsets(x, sr), frames)
    feet = [views.FEET[int(f)] for f in race.schedule.feet]
    assert feet[:4] == ["R", "L", "R", "L"] and len(feet) == len(frames)
    left, right = click_peaks(x, frames, sr).T  # channel 0 is left, 1 is right
    is_right = np.array(feet) == "R"
    assert np.all(right[is_right] > 2.0 * left[is_right])
    assert np.all(left[~is_right] > 2.0 * right[~is_right])
    # Without panning both ears hear every step alike.
    centred = render_all(build_track(race.schedule, clicks_only(pan=False)))
    assert np.array_equal(centred[:, 0], centred[:, 1])


@pytest.mark.parametrize("every", [2, 3, 4])
def test_accents_fall_every_n_steps(race, every):
    sr = 44100
    x = render_all(build_track(race.schedule, clicks_only(accent_every=every)))
    frames = expected_frames(race.schedule.steps_s, sr)
    assert np.array_equal(onsets(x, sr), frames)
    level = click_peaks(x, frames, sr).max(axis=1)
    accented = np.arange(len(frames)) % every == 0  # the first step is a stride's first
    loud, soft = level[accented], level[~accented]
    assert loud.max() - loud.min() < 1e-3 * loud.max() and soft.max() - soft.min() < 1e-3 * soft.max()
    assert loud.min() > 1.4 * soft.max()


def test_no_accent_means_every_step_alike(race):
    sr = 44100
    x = render_all(build_track(race.schedule, clicks_only(accent_every=0)))
    level = click_peaks(x, expected_frames(race.schedule.steps_s, sr), sr).max(axis=1)
    assert level.max() - level.min() < 1e-3 * level.max()


# -------------------------------------------------------------------------------------------------------- formats
FORMATS = {
    ".wav": ("WAV", "PCM_16", True),
    ".flac": ("FLAC", "PCM_16", True),
    ".ogg": ("OGG", "VORBIS", False),
    ".mp3": ("MP3", "MPEG_LAYER_III", False),
}


@pytest.mark.parametrize("sr", SAMPLERATES)
@pytest.mark.parametrize("ext", list(FORMATS))
def test_every_format_round_trips(tmp_path, ext, sr):
    duration, cadence = 6.0, 187.0
    sched = metronome_schedule(cadence, duration)
    track = build_track(sched, SoundOptions(samplerate=sr, accent_every=2, pan=True, tail_s=TAIL_S))
    path = export_track(track, tmp_path / f"drill{ext}")
    fmt, subtype, lossless = FORMATS[ext]
    info = sf.info(str(path))
    assert (info.format, info.subtype, info.samplerate, info.channels) == (fmt, subtype, sr, 2)
    x, _ = read_audio(path)
    expected = expected_frames(sched.steps_s, sr, lead_s=0.0)  # a metronome starts at once
    assert len(expected) == 19  # 0, 60/187, … < 6 s
    if lossless:
        assert len(x) == track.n_frames
        assert np.array_equal(onsets(x, sr), expected)
        assert np.max(np.abs(x - render_all(track))) <= PCM16_ROUND_TRIP
    else:
        # Lossy codecs smear an attack by a few milliseconds (pre-echo) and add a low noise floor.
        missing, extra = match_onsets(onsets(x, sr, threshold=0.05), expected, tolerance=sr * 5 // 1000)
        assert missing.size == 0 and extra.size == 0
        assert abs(len(x) - (duration + TAIL_S) * sr) <= 0.1 * sr
        assert peak(x) < 1.0
