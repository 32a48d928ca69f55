"""Your own music through the whole command line (issue 16): ``render --music`` and friends, end to end.

The songs are synthesised (tests/test_music.py: kick on every beat, snare, hats, bass, chords) and written to WAV
files; what comes out is read back from the rendered file and checked against the timeline JSON with aubio's onset
detector on the kick band, which shares nothing with stridebeat's librosa beat tracking.
"""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
import soundfile as sf

_EXTRA = "the music tests' reference libraries are not installed: pip install 'stridebeat[test]'"
pytest.importorskip("librosa", reason=_EXTRA)
pytest.importorskip("pyloudnorm", reason=_EXTRA)
pytest.importorskip(
    "aubio", reason="aubio, the independent beat checker, is not installed: pip install 'stridebeat[test]'"
)
if shutil.which("rubberband") is None and os.environ.get("STRIDEBEAT_REQUIRE_RUBBERBAND") != "1":
    pytest.skip("the rubberband program is not installed (apt-get install rubberband-cli)", allow_module_level=True)

from scipy.signal import butter, sosfilt  # noqa: E402  (librosa's dependency)

# Every test here renders music through Rubber Band or in a fresh process: the slow suite (CI) runs them.
pytestmark = pytest.mark.slow

from test_music import COVERED, SESSION, SR, beat_grid, kick_onsets, synth_song  # noqa: E402

TOL_S = 0.015


@pytest.fixture(scope="module")
def songs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("songs")
    sf.write(folder / "a.wav", synth_song(beat_grid(120, 24), 24), SR)
    sf.write(folder / "b.wav", synth_song(beat_grid(112, 30), 30, seed=1), SR)
    return folder


def _render(run_cli, tmp_path, name, *args):
    out, tl = tmp_path / f"{name}.wav", tmp_path / f"{name}.json"
    r = run_cli("render", *args, "-o", out, "--timeline", tl, "--force")
    assert r.code == 0, r.err
    audio, sr = sf.read(out, dtype="float32")
    return audio, sr, json.loads(tl.read_text()), r


def _low(audio, sr, hz=120.0):
    return sosfilt(butter(4, hz, fs=sr, output="sos"), audio.mean(axis=1))


def _db(x):
    return 20 * np.log10(np.sqrt(np.mean(np.square(x))) + 1e-12)


def test_a_race_with_music_has_its_beats_on_the_footstrikes(run_cli, tmp_path, songs):
    audio, sr, data, r = _render(
        run_cli,
        tmp_path,
        "race",
        "--time",
        "51",
        "--music",
        f"{songs}/a.wav,{songs}/b.wav",
        "--clicks",
        "off",
        "--voice",
        "none",
        "--no-split-tone",
        "--no-gun",
    )
    gun = data["gun_offset_s"]
    steps = np.array([s["t_s"] for s in data["steps"]])
    # The timeline: each song's span, its stretch inside the documented range, each beat on the footstrike it names.
    music = data["music"]
    assert [m["song"] for m in music][:2] == ["a.wav", "b.wav"]
    beats = np.array([b for m in music for b in m["beats"]])
    assert np.allclose(beats[:, 0], steps[beats[:, 1].astype(int)], atol=1e-9)
    for m in music:
        assert 0.8 <= m["stretch"][0] <= m["stretch"][1] <= 1.25 and m["start_s"] < m["end_s"]
    # What was detected, on stderr: one line per song.
    lines = [line for line in r.err.splitlines() if line.startswith("music: ")]
    assert len(lines) == 2 and "120.0 bpm" in lines[0] and "112.0 bpm" in lines[1] and "stretched" in lines[0]
    # The independent check: aubio's kick onsets against the plan.
    onsets = kick_onsets(audio, sr) - gun
    heard = onsets[(onsets > beats[0, 0] - 0.1) & (onsets < beats[-1, 0] + 0.1)]
    near_step = np.min(np.abs(heard[:, None] - steps[None, :]), axis=1)
    found = np.min(np.abs(beats[:, 0][:, None] - onsets[None, :]), axis=1)
    assert np.mean(near_step <= TOL_S) >= 0.95
    assert np.mean(found[1:] <= TOL_S) >= COVERED["clean"]  # the first beat may fall at the fade-in's end
    # Master level: the mix stays under −1 dBFS.
    assert np.max(np.abs(audio)) <= 10 ** (-1 / 20) + 1e-3


def test_clicks_stay_on_their_samples_with_music_and_go_when_off(run_cli, tmp_path, songs):
    common = ("--time", "51", "--music", f"{songs}/a.wav", "--voice", "none", "--no-split-tone", "--no-gun")
    on, sr, data, _ = _render(run_cli, tmp_path, "on", *common)
    off, _, _, _ = _render(run_cli, tmp_path, "off", *common, "--clicks", "off")
    bare, _, _, _ = _render(run_cli, tmp_path, "bare", "--time", "51", "--voice", "none", "--no-split-tone", "--no-gun")
    frames = int(round(data["gun_offset_s"] * sr)) + np.round(np.array([s["t_s"] for s in data["steps"]]) * sr)
    frames = frames.astype(int)
    # The music makes room for the clicks, so it differs between the two renders around them (test_music_mix.py takes
    # the music layer away exactly and finds every click). Before the music enters, the clicks are the bare track's,
    # sample for sample: the mix is not lowered as a whole.
    entry = int(round((data["gun_offset_s"] + data["music"][0]["start_s"]) * sr))
    assert np.sum(frames < entry) >= 5
    np.testing.assert_array_equal(on[:entry], bare[:entry])
    assert np.max(np.abs(on[entry:])) <= 10 ** (-1 / 20) + 1e-6
    # With --clicks off nothing sounds at the footstrikes before the music enters (the bare track clicks there).
    first = frames[0]
    assert np.max(np.abs(bare[first : first + 200])) > 0.1
    assert np.max(np.abs(off[first : first + 200])) < 1e-3


def test_the_calls_duck_the_music(run_cli, tmp_path, songs):
    common = ("--time", "51", "--music", f"{songs}/a.wav", "--clicks", "off", "--no-split-tone", "--no-gun")
    voiced, sr, data, _ = _render(run_cli, tmp_path, "voiced", *common)
    silent, _, _, _ = _render(run_cli, tmp_path, "silent", *common, "--voice", "none")
    gun = data["gun_offset_s"]
    lv, ls = _low(voiced, sr), _low(silent, sr)

    def ratio(t0, t1):
        a, b = int((gun + t0) * sr), int((gun + t1) * sr)
        return _db(lv[a:b]) - _db(ls[a:b])

    for cue in (c for c in data["cues"] if c["kind"] == "split"):
        t = cue["t_s"]
        inside, around = ratio(t + 0.1, t + 0.4), ratio(t - 2.0, t - 0.5)
        assert inside < around - 6.0, (t, inside, around)  # the default --duck is 10 dB


@pytest.mark.parametrize("in_rest", ["soft", "off"])
def test_a_session_plays_through_the_reps_and_softer_or_not_in_the_rests(run_cli, tmp_path, songs, in_rest):
    preset = tmp_path / "two.toml"
    preset.write_text(SESSION)
    audio, sr, data, _ = _render(
        run_cli,
        tmp_path,
        f"session-{in_rest}",
        preset,
        "--music",
        songs,
        "--music-in-rest",
        in_rest,
        "--clicks",
        "soft",
        "--voice",
        "none",
        "--no-split-tone",
        "--no-gun",
    )
    gun = data["gun_offset_s"]
    low = _low(audio, sr)
    rep1, rep2 = data["reps"]

    def level(t0, t1):
        return _db(low[int((gun + t0) * sr) : int((gun + t1) * sr)])

    in_rep1 = level(rep1["gun_s"] + 8, rep1["finish_s"] - 2)
    in_rep2 = level(rep2["gun_s"] + 8, rep2["finish_s"] - 2)
    rest = level(rep1["finish_s"] + 5, rep2["start_s"] - 5)
    assert abs(in_rep1 - in_rep2) < 3.0
    if in_rest == "soft":
        assert in_rep1 - 18 < rest < in_rep1 - 8
    else:
        assert rest < in_rep1 - 40
    songs_played = {m["song"] for m in data["music"]}
    assert songs_played == {"a.wav", "b.wav"}  # a folder is a playlist
    assert any(m["start_s"] > rep2["start_s"] for m in data["music"])  # music again in rep 2


def test_music_is_repeatable_as_well_as_comma_separated(run_cli, tmp_path, songs):
    _, _, data, _ = _render(
        run_cli, tmp_path, "repeat", "--time", "51", "--music", f"{songs}/a.wav", "--music", f"{songs}/b.wav",
        "--voice", "none",
    )  # fmt: skip
    assert [m["song"] for m in data["music"]][:2] == ["a.wav", "b.wav"]


def test_music_as_a_preset_key(run_cli, tmp_path, songs):
    preset = tmp_path / "mine.toml"
    preset.write_text(f'schema = 1\nkind = "rep"\ntime = 51.0\nmusic = ["{songs}/b.wav"]\nclicks = "soft"\n')
    _, _, data, _ = _render(run_cli, tmp_path, "preset", preset, "--voice", "none")
    assert {m["song"] for m in data["music"]} == {"b.wav"}


@pytest.mark.parametrize(
    "case", ["not-audio", "empty-folder", "short", "missing", "clicks-without-music", "stretch-alone"]
)
def test_bad_music_is_one_line_exit_2_and_no_file(run_cli, tmp_path, case):
    if case == "not-audio":
        (tmp_path / "notes.wav").write_text("these are not samples\n")
        arg, words = ["--music", tmp_path / "notes.wav"], "cannot read 'notes.wav' as audio"
    elif case == "empty-folder":
        (tmp_path / "empty").mkdir()
        (tmp_path / "empty" / "readme.txt").write_text("no songs\n")
        arg, words = ["--music", tmp_path / "empty"], "the folder holds no audio"
    elif case == "short":
        sf.write(tmp_path / "short.wav", synth_song(beat_grid(120, 2.0), 2.0), SR)
        arg, words = ["--music", tmp_path / "short.wav"], "shorter than one bar"
    elif case == "missing":
        arg, words = ["--music", tmp_path / "gone.wav"], "no such file or folder"
    elif case == "stretch-alone":
        arg, words = ["--music-stretch", "fine", "--music-bpm", "120"], "--music-bpm, --music-stretch go with --music"
    else:
        arg, words = ["--clicks", "off"], "--clicks off goes with --music"
    out, tl = tmp_path / "out.wav", tmp_path / "out.json"
    r = run_cli("render", "--time", "51", *arg, "-o", out, "--timeline", tl)
    assert r.code == 2, r.err
    assert words in r.err and len(r.err.strip().splitlines()) == 1, r.err
    assert not out.exists() and not tl.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("out")] == []


def test_an_open_ended_metronome_with_music_is_refused(run_cli, songs):
    r = run_cli("live", "--cadence", "180", "--music", f"{songs}/a.wav")
    assert r.code == 2 and "--music needs a --duration or a plan" in r.err


def test_without_rubberband_music_says_how_to_install_it(run_cli, tmp_path, songs, monkeypatch):
    from stridebeat.music import stretch

    monkeypatch.setattr(stretch.shutil, "which", lambda name: None)
    r = run_cli("render", "--time", "51", "--music", f"{songs}/a.wav", "-o", tmp_path / "x.wav")
    assert r.code == 2
    assert r.err.strip().endswith(
        "music needs the rubberband program: apt-get install rubberband-cli (macOS: brew install rubberband)"
    )
    assert not (tmp_path / "x.wav").exists()


def test_a_render_without_music_does_not_import_librosa(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys\nfrom stridebeat.cli import main\n"
        f"try:\n    main(['render', '--time', '51', '-o', r'{tmp_path / 'x.wav'}'])\nexcept SystemExit:\n    pass\n"
        "assert 'librosa' not in sys.modules and 'stridebeat.music' not in sys.modules, 'music loaded'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_a_render_with_music_imports_no_heavy_library(tmp_path, songs):
    """The whole --music render in a fresh process: detection, loudness and peaks are numpy, the stretch a program."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom stridebeat.cli import main\n"
        f"try:\n    main(['render', '--time', '51', '--music', r'{songs / 'a.wav'}', '-o', r'{tmp_path / 'x.wav'}'])\n"
        "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "heavy = [m for m in ('librosa', 'scipy', 'numba', 'pyloudnorm') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    assert (tmp_path / "x.wav").is_file()


def test_live_plays_the_music_sample_for_sample_as_the_export(songs):
    from soundserver import unavailable
    from stridebeat.config.jobs import prepare
    from stridebeat.core.render import Renderer
    from stridebeat.errors import AudioDeviceError
    from stridebeat.live import devices, player, program
    from test_live import drive

    try:
        sd = devices.sounddevice_module()
    except AudioDeviceError as exc:
        unavailable(str(exc), what="PortAudio")  # a skip here, a failure in CI (STRIDEBEAT_REQUIRE_SOUNDSERVER)
    values = {"distance": 200, "time": "24", "music": [str(songs / "a.wav")], "voice": "none", "samplerate": 48000}
    from stridebeat.music.job import track_with_music

    track, _ = track_with_music(prepare(values))
    expected = np.zeros((track.n_frames, 2), dtype=np.float32)
    Renderer(track, max_block=track.n_frames).render(0, expected)
    assert len(track.sounds) > 40  # the music is in the track, in chunks of a second
    live = program.program(prepare(values, open_ended=True))
    got = drive(player.Player(live.source, samplerate=live.samplerate), sd)
    assert np.array_equal(got[: len(expected)], expected)
