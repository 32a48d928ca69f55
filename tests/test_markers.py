"""WAV markers and Audacity labels, checked by readers that share no code with the writer.

``read_riff`` below is written from the RIFF specification on its own; sox and ffprobe (when installed) are independent
readers of the whole file, and ffprobe turns cue points with labels into chapters, so it checks the markers too.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from stridebeat.config.jobs import prepare
from stridebeat.core.schedule import metronome_schedule
from stridebeat.core.session import job_track
from stridebeat.core.track import SoundOptions, build_track
from stridebeat.errors import UsageError
from stridebeat.export.markers import audacity_labels, marker_chunks
from stridebeat.views import timeline as views
from writers import export_track


def read_riff(path) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """(form type, [(chunk id, payload)]) of a RIFF file; checks the sizes and pads on the way."""
    raw = Path(path).read_bytes()
    assert raw[:4] == b"RIFF"
    assert struct.unpack_from("<I", raw, 4)[0] == len(raw) - 8, "RIFF size must count the whole file"
    chunks, pos = [], 12
    while pos < len(raw):
        cid, size = struct.unpack_from("<4sI", raw, pos)
        chunks.append((cid, raw[pos + 8 : pos + 8 + size]))
        pos += 8 + size + size % 2
    assert pos == len(raw), "the last chunk must end exactly at the end of the file"
    return raw[8:12], chunks


def read_cues(path) -> list[tuple[int, str]]:
    """(sample offset, label) of every cue point, in cue-id order."""
    _, chunks = read_riff(path)
    cue = [p for c, p in chunks if c == b"cue "]
    assert len(cue) == 1
    (count,) = struct.unpack_from("<I", cue[0])
    assert len(cue[0]) == 4 + 24 * count
    points = {}
    for k in range(count):
        ident, position, fcc, chunk_start, block_start, offset = struct.unpack_from("<II4sIII", cue[0], 4 + 24 * k)
        assert (fcc, chunk_start, block_start, position) == (b"data", 0, 0, offset)
        points[ident] = offset
    labels = {}
    for cid, payload in chunks:
        if cid == b"LIST" and payload[:4] == b"adtl":
            pos = 4
            while pos < len(payload):
                sub, size = struct.unpack_from("<4sI", payload, pos)
                if sub == b"labl":
                    (ident,) = struct.unpack_from("<I", payload, pos + 8)
                    text = payload[pos + 12 : pos + 8 + size]
                    assert text.endswith(b"\0")
                    labels[ident] = text[:-1].decode("utf-8")
                pos += 8 + size + size % 2
    assert sorted(labels) == sorted(points)
    return [(points[i], labels[i]) for i in sorted(points)]


@pytest.fixture(scope="module")
def race(tmp_path_factory):
    """A 51 s 400 m written twice: with markers and without, from the same track."""
    job = prepare({"time": "51"})
    track = job_track(job)
    folder = tmp_path_factory.mktemp("race")
    plain = export_track(track, folder / "plain.wav")
    marked = export_track(track, folder / "marked.wav", markers=True)
    return job, track, plain, marked


def test_marker_positions_equal_the_timeline(race):
    job, track, _, marked = race
    cues = read_cues(marked)
    assert cues == list(track.marks)
    # The same positions from the timeline a program reads (times from the gun + the gun's offset in the file).
    data = views.timeline(job, gun_offset_s=track.origin_frame / track.samplerate)
    sr = track.samplerate
    expected = [(round(data["gun_offset_s"] * sr) + round(c["t_s"] * sr), c["text"]) for c in data["cues"]]
    assert cues == expected
    kinds = [c["kind"] for c in data["cues"]]
    assert {"gun", "hold", "finish"} <= set(kinds) and kinds.count("split") == 3
    # Ground truth from the plan itself: a split's marker sits where the runner passes the mark (its planned elapsed
    # time), whenever its call is spoken.
    origin = track.origin_frame
    for row in job.reps[0].planned.splits:
        cue = next(c for c in job.schedule.cues if c.kind in ("split", "finish") and c.distance_m == row.distance_m)
        assert (origin + round(row.elapsed_s * sr), cue.text) in cues, row
    assert (origin, "gun") in cues


def test_audio_is_untouched(race):
    _, track, plain, marked = race
    form, before = read_riff(plain)
    form2, after = read_riff(marked)
    assert form == form2 == b"WAVE"
    # Every chunk of the unmarked file is there, byte for byte, and only the two marker chunks follow.
    assert after[: len(before)] == before
    assert [c for c, _ in after[len(before) :]] == [b"cue ", b"LIST"]
    a, sr = sf.read(plain, dtype="int16")
    b, sr2 = sf.read(marked, dtype="int16")
    assert sr == sr2 == track.samplerate and len(b) == track.n_frames
    np.testing.assert_array_equal(a, b)
    assert sf.info(marked).subtype == "PCM_16"


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox is not installed (CI installs it: apt-get install sox)")
def test_sox_plays_the_marked_file(race):
    _, track, _, marked = race
    run = subprocess.run(["sox", str(marked), "-n", "stat"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert f"Samples read: {2 * track.n_frames}" in " ".join(run.stderr.split())


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe is not installed (it comes with ffmpeg)")
def test_ffprobe_reads_the_markers_as_chapters(race):
    _, track, _, marked = race
    run = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", "-show_chapters", "-show_streams", str(marked)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0 and run.stderr == "", run.stderr
    info = json.loads(run.stdout)
    assert int(info["streams"][0]["duration_ts"]) == track.n_frames
    chapters = [(c["start"], c["tags"]["title"]) for c in info["chapters"]]
    assert sorted(chapters) == sorted(track.marks)


def _short_track(marks):
    track = build_track(metronome_schedule(180.0, 1.0), SoundOptions(tail_s=0.0))
    return replace(track, marks=tuple(marks))


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe is not installed (it comes with ffmpeg)")
def test_ffprobe_decodes_utf8_labels(tmp_path):
    path = export_track(_short_track([(10, "rep 2 → rest 3:00")]), tmp_path / "x.wav", markers=True)
    run = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", "-show_chapters", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert [c["tags"]["title"] for c in json.loads(run.stdout)["chapters"]] == ["rep 2 → rest 3:00"]


def test_labels_of_any_length_keep_the_chunks_aligned(tmp_path):
    """Odd and even label lengths, the first and the last frame: every chunk starts on an even offset (read_riff
    checks the pads and that the RIFF size counts the whole file), and every label reads back as written."""
    track = _short_track([])
    marks = [(0, "start"), (7, "ab"), (track.n_frames // 2, "mitte · 100 m"), (track.n_frames, "end")]
    path = export_track(replace(track, marks=tuple(marks)), tmp_path / "x.wav", markers=True)
    assert read_cues(path) == marks
    plain = export_track(track, tmp_path / "plain.wav")
    np.testing.assert_array_equal(sf.read(path, dtype="int16")[0], sf.read(plain, dtype="int16")[0])


def test_no_markers_no_chunks(tmp_path):
    track = job_track(prepare({"time": "51"}))
    _, chunks = read_riff(export_track(track, tmp_path / "x.wav", markers=False))
    assert [c for c, _ in chunks] == [b"fmt ", b"data"]
    flac = export_track(track, tmp_path / "x.flac", markers=True)  # FLAC carries no cue points: not an error
    assert sf.info(flac).frames == track.n_frames


def test_a_mark_outside_the_audio_is_refused_before_writing(tmp_path):
    track = _short_track([(5, "a")])
    with pytest.raises(UsageError, match=r"marker 'late' at frame \d+ is outside the audio \(0 to \d+ frames\)"):
        export_track(replace(track, marks=((track.n_frames + 1, "late"),)), tmp_path / "x.wav", markers=True)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(UsageError, match="outside the audio"):
        marker_chunks([(-1, "early")], 100)


def test_audacity_labels_exact():
    marks = [(220500, "gun"), (786319, "100 m 12.83"), (2469600, "400 m\t51.00\n")]
    assert audacity_labels(marks, 44100) == (
        "5.000000\t5.000000\tgun\n17.830363\t17.830363\t100 m 12.83\n56.000000\t56.000000\t400 m 51.00\n"
    )
    assert audacity_labels([], 44100) == ""
