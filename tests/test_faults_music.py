"""Hostile songs given to --music (issue 21): each is refused with one line, before it can take the machine's memory,
or plays; and a song whose name holds a comma is a song.

The plans here never stretch anything, so the Rubber Band program is only looked for: a stand-in path lets these run
where it is not installed. Memory is measured with tracemalloc, which sees numpy's allocations.
"""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from stridebeat.errors import UsageError

SR = 22050


@pytest.fixture(autouse=True)
def rubberband_found(monkeypatch):
    """The gate asks for the rubberband program; a plan never runs it."""
    from stridebeat.music import stretch

    monkeypatch.setattr(stretch.shutil, "which", lambda name: "/usr/bin/rubberband")


def drum_song(seconds: float, bpm: float = 116.0, *, scale: float = 1.0) -> np.ndarray:
    """A kick on every beat over a quiet tone, stereo float32: a clear beat at ``bpm``."""
    n = round(seconds * SR)
    t = np.arange(n) / SR
    y = 0.05 * np.sin(2 * np.pi * 220 * t)
    hit = np.exp(-np.arange(2000) / 300) * np.sin(2 * np.pi * 60 * np.arange(2000) / SR)
    for beat in np.arange(0.3, seconds - 0.1, 60.0 / bpm):
        i = round(beat * SR)
        y[i : i + 2000] += 0.6 * hit[: n - i]
    y *= scale
    return np.stack([y, 0.9 * y], axis=1).astype(np.float32)


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("music:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def lying_flac(path, frames_claimed: int) -> None:
    """A real, tiny FLAC whose STREAMINFO claims ``frames_claimed`` samples (a 36-bit field)."""
    sf.write(path, np.zeros((4410, 2), np.float32), 44100)
    data = bytearray(path.read_bytes())
    # "fLaC", a 4-byte block header, then STREAMINFO: the total sample count is the low 36 bits of bytes 18..25.
    field = int.from_bytes(data[18:26], "big")
    field = (field & ~((1 << 36) - 1)) | frames_claimed
    data[18:26] = field.to_bytes(8, "big")
    path.write_bytes(data)


def test_a_tiny_file_claiming_billions_of_frames_is_refused_from_its_header(tmp_path, run_cli):
    song = tmp_path / "big.flac"
    lying_flac(song, (1 << 36) - 1)
    assert song.stat().st_size < 1000 and sf.info(str(song)).frames == (1 << 36) - 1  # the lie, as libsndfile reads it
    from stridebeat.music.songs import load_song

    tracemalloc.start()
    try:
        with pytest.raises(UsageError, match=r"'big\.flac' lasts 432\.9 hours by its header"):
            load_song(song, 44100)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20  # nothing decoded: the 550 GB it claims were never asked for
    r = run_cli("plan", "--time", "51", "--music", song)
    assert r.code == 2
    assert "by its header, longer than 15 minutes" in one_line(r.err)


def test_a_long_silent_file_is_refused_before_it_is_decoded(tmp_path, run_cli):
    song = tmp_path / "silence.flac"
    with sf.SoundFile(song, "w", samplerate=8000, channels=1, format="FLAC") as f:
        block = np.zeros(8000 * 60, np.float32)
        for _ in range(40):  # 40 minutes of silence: a few kilobytes on disk
            f.write(block)
    tracemalloc.start()
    try:
        r = run_cli("plan", "--time", "51", "--music", song)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert r.code == 2
    assert "'silence.flac' lasts 40:00.00 by its header, longer than 15 minutes" in one_line(r.err)
    assert peak < 16 << 20  # the 40 minutes were never decoded


def test_a_silent_song_that_fits_is_decoded_once_within_its_bound(tmp_path):
    from stridebeat.music.analysis import detect_beats
    from stridebeat.music.songs import MAX_SONG_S, load_song

    song = tmp_path / "quiet.wav"
    sf.write(song, np.zeros((SR * 20, 2), np.float32), SR)
    audio = load_song(song, SR)
    assert audio.shape == (SR * 20, 2)
    with pytest.raises(UsageError, match="'quiet.wav' is silent"):
        detect_beats(audio, SR, name="'quiet.wav'")
    assert MAX_SONG_S <= 15 * 60  # the most any one song's audio can hold: its memory is bounded by it


def test_a_folder_playlist_reads_only_the_songs_that_play(tmp_path, run_cli):
    folder = tmp_path / "songs"
    folder.mkdir()
    sf.write(folder / "a.wav", drum_song(70.0), SR)  # covers the whole 51 s race
    # Never reached: analysing it would fail (silent), so the plan succeeding shows it was not analysed.
    sf.write(folder / "b.wav", np.zeros((SR * 30, 2), np.float32), SR)
    r = run_cli("plan", "--time", "51", "--music", folder)
    assert r.code == 0, r.err
    assert "music: a.wav: 116" in r.out
    assert "music: b.wav: not played" in r.out
    # A song that does play is still analysed and refused.
    sf.write(folder / "a.wav", drum_song(8.0), SR)  # too short to cover the race: b plays next
    r = run_cli("plan", "--time", "51", "--music", folder)
    assert r.code == 2 and "'b.wav' is silent" in one_line(r.err)


def test_a_song_of_absurd_magnitude_is_refused_not_given_an_infinite_tempo(tmp_path, run_cli):
    for scale in (1e20, 3e38):
        song = tmp_path / "loud.wav"
        sf.write(song, drum_song(30.0, scale=scale), SR, subtype="FLOAT")
        r = run_cli("plan", "--time", "51", "--music", song)
        assert r.code == 2, r.out
        line = one_line(r.err)
        assert "far beyond full scale" in line and "inf" not in line.split("magnitude")[0]
    from stridebeat.music.analysis import detect_beats

    with pytest.raises(UsageError, match="far beyond full scale"):
        detect_beats(drum_song(30.0, scale=1e30), SR)
    with pytest.raises(UsageError, match="far beyond full scale"):
        detect_beats(np.full((SR * 10, 2), np.nan, np.float32), SR)


def test_a_song_whose_name_holds_a_comma_is_one_song(tmp_path, run_cli):
    song = tmp_path / "Artist, Song.wav"
    sf.write(song, drum_song(70.0), SR)
    r = run_cli("plan", "--time", "51", "--music", song, "--json")
    assert r.code == 0, r.err
    import json

    music = json.loads(r.out)["music"]
    assert {span["song"] for span in music} == {"Artist, Song.wav"}
    assert math.isclose(music[0]["bpm"], 116.0, rel_tol=0.02)


def test_a_comma_still_separates_songs_that_are_not_one_file(tmp_path, run_cli):
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    sf.write(a, drum_song(20.0), SR)
    sf.write(b, drum_song(40.0, bpm=112.0), SR)
    r = run_cli("plan", "--time", "51", "--music", f"{a},{b}")
    assert r.code == 0, r.err
    assert "music: a.wav:" in r.out and "music: b.wav:" in r.out
    r = run_cli("plan", "--time", "51", "--music", f"{a},{tmp_path / 'missing.wav'}")
    assert r.code == 2 and "missing.wav: no such file or folder" in one_line(r.err)


def test_a_fifo_given_as_a_song_is_refused_without_blocking(tmp_path, run_cli):
    import os

    fifo = tmp_path / "song.wav"
    os.mkfifo(fifo)
    r = run_cli("plan", "--time", "51", "--music", fifo)
    assert r.code == 2 and "not a regular file" in one_line(r.err)


def test_a_high_rate_song_is_bounded_by_its_frames_not_only_its_length(tmp_path, run_cli):
    from stridebeat.music.songs import MAX_SONG_FRAMES

    song = tmp_path / "hires.flac"
    rate = 384000
    with sf.SoundFile(song, "w", samplerate=rate, channels=2, format="FLAC") as f:
        block = np.zeros((rate * 10, 2), np.float32)
        for _ in range(18):  # 3 minutes: short, but 69 million frames
            f.write(block)
    assert sf.info(str(song)).frames > MAX_SONG_FRAMES
    r = run_cli("plan", "--time", "51", "--music", song)
    assert r.code == 2
    assert "more than a song may" in one_line(r.err) and "convert it to 44.1 or 48 kHz" in one_line(r.err)
