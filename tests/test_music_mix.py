"""The music's level (issue 16): the stem's limiter, the room the music makes for the clicks, and ``plan --music``.

Loudness is measured with pyloudnorm's own ``Meter`` (not stridebeat's vectorised copy of it) and true peak by
oversampling the whole signal 4× with scipy's ``resample_poly`` (not stridebeat's block-wise search). The songs are the
synthetic bands of tests/test_music.py: kick, snare, hats, bass and chords, a high crest factor.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil

import numpy as np
import pytest
import soundfile as sf

_EXTRA = "the music tests' reference libraries are not installed: pip install 'stridebeat[test]'"
pytest.importorskip("librosa", reason=_EXTRA)
pyloudnorm = pytest.importorskip("pyloudnorm", reason=_EXTRA)
pytest.importorskip(
    "aubio", reason="aubio, the independent beat checker, is not installed: pip install 'stridebeat[test]'"
)

from scipy.signal import resample_poly  # noqa: E402  (librosa's dependency)

from stridebeat.core.render import Renderer  # noqa: E402
from stridebeat.music import limiter  # noqa: E402
from test_music import SESSION, SONGS, SR, TONE_HZ, beat_grid, race_steps, synth_song  # noqa: E402

_rubberband_installed = pytest.mark.skipif(
    shutil.which("rubberband") is None and os.environ.get("STRIDEBEAT_REQUIRE_RUBBERBAND") != "1",
    reason="the rubberband program is not installed (apt-get install rubberband-cli)",
)


def needs_rubberband(test):
    """Rubber Band stretches run for seconds each: the slow suite (CI) runs them, the README's command skips them."""
    return pytest.mark.slow(_rubberband_installed(test))


def lufs(x: np.ndarray) -> float:
    return float(pyloudnorm.Meter(SR).integrated_loudness(np.asarray(x, dtype=np.float64)))


def true_peak(x: np.ndarray) -> float:
    """dBTP by oversampling the whole signal 4× at once."""
    return float(20 * np.log10(np.max(np.abs(resample_poly(np.asarray(x, dtype=np.float64), 4, 1, axis=0)))))


def render(track) -> np.ndarray:
    out = np.zeros((track.n_frames, 2), dtype=np.float32)
    Renderer(track, max_block=track.n_frames).render(0, out)
    return out


def hot_song(duration_s: float = 24.0) -> np.ndarray:
    """The straight band with a loud rim shot on every bar: a crest factor a single gain cannot bring to −16 LUFS
    under −1 dBTP."""
    song = synth_song(beat_grid(120, duration_s), duration_s)
    n = round(0.004 * SR)
    shot = (np.random.default_rng(7).uniform(-1, 1, n) * np.exp(-np.arange(n) / (0.001 * SR))).astype(np.float32)
    for b in beat_grid(120, duration_s)[::4]:
        i = round(b * SR)
        song[i : i + n] += 0.9 * shot[: len(song) - i, None]
    return song


# ------------------------------------------------------------------------------------------ the meters, against scipy
@pytest.mark.parametrize("rate", [22050, 44100, 48000])
@pytest.mark.parametrize("channels", [1, 2])
def test_the_loudness_meter_is_pyloudnorms(rate, channels):
    """Noise fading in from silence (both gates at work), a loud burst and a pause, at three rates."""
    from stridebeat.music.loudness import integrated_lufs

    rng = np.random.default_rng(rate + channels)
    n = 9 * rate + 1234
    x = rng.standard_normal((n, channels)) * np.linspace(0.0, 0.3, n)[:, None]
    x[2 * rate : 2 * rate + rate // 5] *= 3.0
    x[5 * rate : 6 * rate] = 0.0
    x = x.astype(np.float32)
    want = pyloudnorm.Meter(rate).integrated_loudness(x.astype(np.float64) if channels == 2 else x[:, 0].astype(float))
    assert integrated_lufs(x, rate) == pytest.approx(want, abs=1e-4)
    assert integrated_lufs(np.zeros((rate, 2), np.float32), rate) == -np.inf
    assert integrated_lufs(x[: rate // 4], rate) == -np.inf  # shorter than one 400 ms block


def test_the_k_weighting_filter_is_lfilters():
    from scipy.signal import lfilter

    from stridebeat.music.loudness import k_weighted, k_weighting_biquads

    x = np.random.default_rng(3).standard_normal(3 * SR + 77).astype(np.float32)
    want = x.astype(np.float64)
    for b, a in k_weighting_biquads(SR):
        want = lfilter(b, a, want)
    got = k_weighted(x, SR)
    assert got.shape == x.shape and np.max(np.abs(got - want)) < 1e-5 * np.max(np.abs(want))


def test_the_true_peak_is_scipys_resample_poly():
    """Every block's 4×-oversampled peak, and the whole signal's, against scipy's polyphase resampler."""
    rng = np.random.default_rng(5)
    x = (0.3 * rng.standard_normal((SR + 45, 2))).astype(np.float32)
    x[1000:1002] = [[0.9, -0.9], [-0.9, 0.9]]  # a sign flip between samples: the true peak is far over them
    block = limiter.BLOCK
    peaks = limiter.block_peaks(x, oversample_above=1e-9)  # every block oversampled
    up = np.abs(resample_poly(x.astype(np.float64), 4, 1, axis=0))
    rows = peaks.shape[0]
    up = np.r_[up, np.zeros((4 * rows * block - up.shape[0], 2))].reshape(rows, 4 * block, 2).max(axis=1)
    samples = np.abs(np.r_[x, np.zeros((rows * block - x.shape[0], 2), np.float32)]).reshape(rows, block, 2).max(axis=1)
    np.testing.assert_allclose(peaks, np.maximum(up, samples), atol=2e-6)
    assert limiter.true_peak_dbtp(x, SR) == pytest.approx(true_peak(x), abs=1e-4)
    assert true_peak(x) > 20 * np.log10(0.9) + 1.0


# ------------------------------------------------------------------------------------------------ the envelope itself
def test_the_envelope_never_exceeds_the_required_gain_and_comes_back():
    rng = np.random.default_rng(0)
    required = np.ones(4000)
    dips = rng.choice(3900, 40, replace=False) + 50
    required[dips] = rng.uniform(0.1, 0.9, dips.size)
    gain = limiter.envelope(required, attack=4, release=100.0)
    assert np.all(gain <= required + 1e-12)
    # Every sample of the interpolated gain stays under its block's requirement.
    points = limiter.boundary_gains(gain)
    per_sample = limiter.apply_gain(np.ones((4000 * limiter.BLOCK, 1), np.float32), points)[:, 0]
    assert np.all(per_sample.reshape(4000, limiter.BLOCK) <= required[:, None].astype(np.float32) + 1e-6)
    # Look-ahead: the ramp starts at most `attack` blocks before a lone dip; release: back within 0.1 dB in ~5 τ.
    lone = np.ones(2000)
    lone[1000] = 0.5
    g = limiter.envelope(lone, attack=4, release=50.0)
    assert np.all(g[:996] == 1.0) and g[999] < 1.0 and g[1000] <= 0.5
    assert -20 * np.log10(g[1000 + 250]) < 0.1 and np.all(np.diff(g[1000:]) >= -1e-12)


# --------------------------------------------------------------------------------------------------------- the stem
@pytest.fixture(scope="module")
def stems():
    """Each synthetic song over the 51 s race, and a hot one; detection and stretch by stridebeat."""
    if shutil.which("rubberband") is None and os.environ.get("STRIDEBEAT_REQUIRE_RUBBERBAND") != "1":
        pytest.skip("the rubberband program is not installed (apt-get install rubberband-cli)")
    from stridebeat.music.analysis import detect_beats
    from stridebeat.music.plan import music_track

    race = race_steps()
    songs = {kind: synth_song(beats, 24, tone_hz=TONE_HZ, **kw) for kind, (beats, kw) in SONGS.items()}
    songs["hot"] = hot_song()
    return {kind: music_track([song], [detect_beats(song, SR)], race, SR) for kind, song in songs.items()}


@pytest.mark.parametrize("kind", [*SONGS, "hot"])
@pytest.mark.slow  # the stems fixture stretches with Rubber Band
def test_the_stem_is_minus_16_lufs_under_minus_1_dbtp(stems, kind):
    audio, report = stems[kind]
    music = audio[report.start_frame : report.end_frame]
    assert abs(lufs(music) + 16.0) <= 0.5
    assert true_peak(music) <= -1.0 + 0.01
    assert abs(report.loudness_lufs - lufs(music)) < 0.05 and abs(report.true_peak_dbtp - true_peak(music)) < 0.05
    s = report.limiter
    assert 0.0 <= s.share_1db <= s.share <= 1.0 and s.mean_db <= s.max_db


@pytest.mark.slow  # the stems fixture stretches with Rubber Band
def test_the_limiter_works_on_the_hot_song_and_only_on_its_peaks(stems):
    audio, report = stems["hot"]
    assert abs(report.loudness_lufs + 16.0) <= 0.2  # one gain alone would leave it over 1 dB under −16 LUFS
    assert report.limiter.max_db > 1.0 and report.limiter.share < 0.9 and report.limiter.mean_db < 0.5


# ------------------------------------------------------------------------------------------------------------ the mix
@pytest.fixture(scope="module")
def song_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("songs")
    sf.write(folder / "a.wav", synth_song(beat_grid(120, 24), 24), SR)
    sf.write(folder / "b.wav", synth_song(beat_grid(112, 30), 30, seed=1), SR)
    sf.write(folder / "fast.wav", synth_song(beat_grid(170, 20), 20), SR)
    sf.write(folder / "noise.wav", (0.1 * np.random.default_rng(0).standard_normal((10 * SR, 2))).astype("float32"), SR)
    return folder


def layers(job):
    """The job's mixed track, its music layer alone, the rest of it alone, and the same job's track without music."""
    from stridebeat.core.session import job_track
    from stridebeat.music.job import track_with_music

    track, mix = track_with_music(job)
    bare = job_track(job)
    is_music = (track.sound_ids >= len(bare.sounds))[:, None]
    music = dataclasses.replace(track, gains=np.where(is_music, track.gains, 0).astype(np.float32))
    others = dataclasses.replace(track, gains=np.where(is_music, 0, track.gains).astype(np.float32))
    return track, mix, render(music), render(others), bare


@needs_rubberband
@pytest.mark.parametrize("clicks", ["on", "soft", "off"])
def test_the_music_keeps_its_loudness_in_the_mix_and_the_clicks_their_samples(song_file, clicks):
    import stridebeat

    job = stridebeat.build_job(time=51, music=[str(song_file / "a.wav")], clicks=clicks)
    track, mix, music, others, bare = layers(job)
    full = render(track)
    assert not hasattr(job, "music_mix")  # nothing is kept in the job: the music report comes with the track
    # The mix's true peak (scipy's oversampling, not stridebeat's) stays under −1 dBTP without lowering the mix.
    assert true_peak(full) <= -1.0 + 0.005 and mix.levels.master_db == 0.0
    # The music as it sits in the mix: −16 LUFS within 1 LU, whatever the clicks.
    nz = np.flatnonzero(np.any(music != 0, axis=1))
    assert abs(lufs(music[nz[0] : nz[-1] + 1]) + 16.0) <= 1.0
    assert abs(mix.levels.music_lufs - lufs(music[nz[0] : nz[-1] + 1])) < 0.3
    # Everything but the music is the bare track's, sample for sample, the clicks scaled by --clicks.
    click_gain = {"on": 1.0, "soft": 10 ** (-12 / 20), "off": 0.0}[clicks]
    expected = dataclasses.replace(
        bare, gains=np.where((bare.sound_ids == 0)[:, None], bare.gains * np.float32(click_gain), bare.gains)
    )
    want = render(expected)
    np.testing.assert_allclose(others[: len(want)], want, atol=1e-6)
    clicks_in = track.sound_ids == 0
    if clicks == "off":
        assert not np.any(clicks_in)
    else:
        np.testing.assert_array_equal(track.onsets[clicks_in], bare.onsets[bare.sound_ids == 0])
        np.testing.assert_array_equal(track.gains[clicks_in], expected.gains[expected.sound_ids == 0])
    # The mix is the two layers: nothing else moved.
    np.testing.assert_allclose(full, music + others, atol=2e-6)
    if clicks == "on":
        assert mix.levels.sidechain.max_db > 1.0 and mix.levels.sidechain.share < 0.5
    if clicks == "off":
        assert mix.levels.sidechain.max_db < 0.1


@needs_rubberband
def test_a_sessions_music_keeps_its_loudness_in_every_rep(song_file, tmp_path):
    import stridebeat

    preset = tmp_path / "two.toml"
    preset.write_text(SESSION)
    job = stridebeat.build_job(preset, music=[str(song_file / "a.wav"), str(song_file / "b.wav")], clicks="soft")
    track, mix, music, _, _ = layers(job)
    assert true_peak(render(track)) <= -1.0 + 0.005
    for report in mix.reps:
        a, b = track.frame_of(report.spans[0].start_s), track.frame_of(report.spans[-1].end_s)
        assert abs(lufs(music[a:b]) + 16.0) <= 1.0


# ----------------------------------------------------------------------------------------------- plan --music
def test_plan_reports_what_was_detected(run_cli, song_file, tmp_path):
    r = run_cli("plan", "--time", "51", "--music", song_file / "a.wav", "--music", song_file / "b.wav")
    assert r.code == 0, r.err
    lines = [line for line in r.out.splitlines() if line.startswith("music: ")]
    assert len(lines) == 2, r.out
    assert lines[0].startswith("music: a.wav: 120.0 bpm (confidence ") and "stretched 0." in lines[0]
    assert "112.0 bpm" in lines[1] and lines[0].endswith("a beat every stride")
    assert r.out.index("music: ") > r.out.index("100")  # after the plan table
    # A preset that has music: the same lines.
    mine = tmp_path / "mine.toml"
    mine.write_text(f'schema = 1\nkind = "rep"\ntime = 51.0\nmusic = ["{song_file}/a.wav"]\n')
    r2 = run_cli("plan", mine)
    mine_lines = [line for line in r2.out.splitlines() if line.startswith("music: ")]
    assert r2.code == 0 and len(mine_lines) == 1 and mine_lines[0].startswith(lines[0].split(" stretched")[0])


@pytest.mark.parametrize("in_rest", ["soft", "off"])
def test_plan_names_the_songs_heard_only_in_the_rests(run_cli, song_file, tmp_path, in_rest):
    """Two 25 s reps with a 40 s rest and a 60 s first song: the first rep fits inside the first song, so the playlist
    reaches the two 30 s songs in the rest (soft) and the second rep starts the list again; with the rest silent (off)
    the second rep goes on with the second song and the third is never played."""
    sf.write(tmp_path / "long.wav", synth_song(beat_grid(120, 60), 60), SR)
    preset = tmp_path / "two.toml"
    preset.write_text(SESSION)
    songs = ",".join(str(p) for p in (tmp_path / "long.wav", song_file / "b.wav", song_file / "b.wav"))
    r = run_cli("plan", preset, "--music", songs, "--music-in-rest", in_rest)
    assert r.code == 0, r.err
    lines = [line for line in r.out.splitlines() if line.startswith("music: ")]
    assert len(lines) == 3 and "stretched" in lines[0], r.out
    if in_rest == "soft":
        assert all("only in the rests (unstretched)" in line for line in lines[1:]), lines
    else:
        assert "stretched" in lines[1] and "not played" in lines[2], lines


@needs_rubberband
def test_plan_json_has_the_music_render_timeline_has(run_cli, song_file, tmp_path):
    args = ("--time", "51", "--music", f"{song_file}/a.wav,{song_file}/b.wav")
    r = run_cli("plan", *args, "--json")
    assert r.code == 0, r.err
    planned = json.loads(r.out)["music"]
    out, tl = tmp_path / "x.wav", tmp_path / "x.json"
    assert run_cli("render", *args, "--voice", "none", "-o", out, "--timeline", tl).code == 0
    rendered = json.loads(tl.read_text())["music"]
    assert planned == rendered  # one vocabulary, and the plan is what the render plays
    first = planned[0]
    assert first["song"] == "a.wav" and first["every"] == "stride" and first["method"] == "detected"
    assert abs(first["bpm"] - 120) < 0.5 and 0.9 <= first["confidence"] <= 1.0
    assert 0.8 <= first["stretch"][0] <= first["stretch"][1] <= 1.25 and first["beats"]


def test_plan_of_a_session_with_music(run_cli, song_file, tmp_path):
    preset = tmp_path / "two.toml"
    preset.write_text(SESSION)
    r = run_cli("plan", preset, "--music", song_file / "a.wav", "--music", song_file / "b.wav", "--json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    starts = [m["start_s"] for m in data["music"]]
    rep2 = data["reps"][1]
    assert any(s > rep2["start_s"] for s in starts) and any(s < data["reps"][0]["finish_s"] for s in starts)
    text = run_cli("plan", preset, "--music", song_file / "a.wav")
    assert text.code == 0 and "music: a.wav: 120.0 bpm" in text.out


@pytest.mark.parametrize("song", ["fast.wav", "noise.wav"])
def test_plan_refuses_a_song_as_render_does(run_cli, song_file, tmp_path, song):
    planned = run_cli("plan", "--time", "51", "--music", song_file / song)
    out = tmp_path / "x.wav"
    rendered = run_cli("render", "--time", "51", "--music", song_file / song, "-o", out)
    assert planned.code == rendered.code == 2
    assert len(planned.err.strip().splitlines()) == 1 and planned.err == rendered.err, planned.err
    assert planned.out == "" and not out.exists()
