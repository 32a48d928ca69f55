"""WAV markers and Audacity labels, checked by readers that share no code with the writer.

``read_riff`` below is written from the RIFF specification on its own; sox and ffprobe (when installed) are independent
readers of the whole file, and ffprobe turns cue points with labels into chapters, so it checks the markers too.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from stridebeat import export, views
from stridebeat.errors import OutputError, UsageError
from stridebeat.job import prepare
from stridebeat.markers import add_wav_markers, audacity_labels, marker_hook


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
    track = job.track()
    folder = tmp_path_factory.mktemp("race")
    plain = export.export_track(track, folder / "plain.wav")
    marked = export.export_track(track, folder / "marked.wav", finish=marker_hook(track, folder / "marked.wav"))
    return job, track, plain, marked


def test_marker_positions_equal_the_timeline(race):
    job, track, _, marked = race
    cues = read_cues(marked)
    assert cues == list(track.marks)
    # The same positions from the timeline a program reads (times from the gun + the gun's offset in the file).
    data = views.timeline(job.planned, job.schedule, gun_offset_s=track.origin_frame / track.samplerate)
    sr = track.samplerate
    expected = [(round(data["gun_offset_s"] * sr) + round(c["t_s"] * sr), c["text"]) for c in data["cues"]]
    assert cues == expected
    kinds = [c["kind"] for c in data["cues"]]
    assert {"gun", "hold", "finish"} <= set(kinds) and kinds.count("split") == 3
    # Ground truth from the plan itself: a split's marker sits where the runner passes the mark (its planned elapsed
    # time), whenever its call is spoken.
    origin = track.origin_frame
    for row in job.planned.splits:
        cue = next(c for c in job.schedule.cues if c.kind in ("split", "finish") and c.distance_m == row.distance_m)
        assert (origin + round(row.elapsed_s * sr), cue.text) in cues, row
    assert (origin, "gun") in cues


def test_audio_is_untouched(race):
    _, track, plain, marked = race
    form, before = read_riff(plain)
    form2, after = read_riff(marked)
    assert form == form2 == b"WAVE"
    # Every chunk libsndfile wrote is still there, byte for byte, and only the two marker chunks follow.
    assert after[: len(before)] == before
    assert [c for c, _ in after[len(before):]] == [b"cue ", b"LIST"]
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
    run = subprocess.run(["ffprobe", "-v", "error", "-of", "json", "-show_chapters", "-show_streams", str(marked)],
                         capture_output=True, text=True)
    assert run.returncode == 0 and run.stderr == "", run.stderr
    info = json.loads(run.stdout)
    assert int(info["streams"][0]["duration_ts"]) == track.n_frames
    chapters = [(c["start"], c["tags"]["title"]) for c in info["chapters"]]
    assert sorted(chapters) == sorted(track.marks)


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe is not installed (it comes with ffmpeg)")
def test_ffprobe_decodes_utf8_labels(tmp_path):
    path = tmp_path / "x.wav"
    sf.write(path, np.zeros((100, 2)), 44100, subtype="PCM_16")
    add_wav_markers(path, [(10, "rep 2 → rest 3:00")])
    run = subprocess.run(["ffprobe", "-v", "error", "-of", "json", "-show_chapters", str(path)],
                         capture_output=True, text=True, check=True)
    assert [c["tags"]["title"] for c in json.loads(run.stdout)["chapters"]] == ["rep 2 → rest 3:00"]


def _write(path, subtype, channels, frames, *, title=None):
    rng = np.random.default_rng(6)
    audio = rng.uniform(-0.5, 0.5, (frames, channels))
    with sf.SoundFile(path, "w", 44100, channels, format="WAV", subtype=subtype) as f:
        f.write(audio)
        if title:
            f.title = title  # libsndfile writes a LIST/INFO chunk after the data
    return sf.read(path)[0]


@pytest.mark.parametrize(
    "subtype, channels, frames, title",
    [
        ("PCM_24", 1, 1001, None),  # odd data size: the data chunk ends in a pad byte
        ("PCM_U8", 1, 999, "odd"),  # odd data size followed by LIST/INFO
        ("FLOAT", 2, 500, None),  # fact and PEAK chunks before the data
        ("PCM_16", 2, 300, "Race 51"),
    ],
)
@pytest.mark.parametrize("as_type", [str, Path])
def test_other_wav_layouts(tmp_path, subtype, channels, frames, title, as_type):
    path = tmp_path / "x.wav"
    audio = _write(path, subtype, channels, frames, title=title)
    _, before = read_riff(path)
    marks = [(0, "start"), (frames // 2, "mitte · 100 m"), (frames, "end")]
    add_wav_markers(as_type(path), marks)
    _, after = read_riff(path)
    assert after[: len(before)] == before
    assert read_cues(path) == marks
    np.testing.assert_array_equal(sf.read(path)[0], audio)
    if title:
        assert sf.SoundFile(path).title == title


def test_missing_pad_byte_is_added(tmp_path):
    path = tmp_path / "x.wav"
    _write(path, "PCM_24", 1, 1001)
    raw = path.read_bytes()
    assert len(raw) % 2 == 0
    # A writer that forgot the pad after the odd data chunk; the RIFF size counts only what was written.
    path.write_bytes(raw[:4] + struct.pack("<I", len(raw) - 9) + raw[8:-1])
    add_wav_markers(path, [(10, "a")])
    assert read_cues(path) == [(10, "a")]


def test_refusals(tmp_path):
    path = tmp_path / "x.wav"
    _write(path, "PCM_16", 2, 100)
    with pytest.raises(UsageError, match=r"marker 'late' at frame 101 is outside the audio \(0 to 100 frames\)"):
        add_wav_markers(path, [(101, "late")])
    add_wav_markers(path, [(5, "a")])
    with pytest.raises(OutputError, match="already has cue points"):
        add_wav_markers(path, [(6, "b")])
    cut = tmp_path / "cut.wav"
    cut.write_bytes(path.read_bytes()[:300])  # cut inside the data chunk (44 + 100 × 4 bytes)
    with pytest.raises(OutputError, match="the chunks end at byte 444 but the file has 300"):
        add_wav_markers(cut, [(1, "a")])
    flac = tmp_path / "x.flac"
    sf.write(flac, np.zeros((10, 2)), 44100)
    with pytest.raises(OutputError, match="not a RIFF/WAVE file"):
        add_wav_markers(flac, [(1, "a")])
    assert marker_hook(prepare({"time": "51"}).track(), flac) is None


def test_hook_error_leaves_no_file(tmp_path):
    """A marker that does not fit fails the export: no target, no temporary file."""
    track = prepare({"time": "51"}).track()
    target = tmp_path / "race.wav"
    with pytest.raises(UsageError):
        export.export_track(track, target, finish=lambda tmp: add_wav_markers(tmp, [(track.n_frames + 1, "x")]))
    assert list(tmp_path.iterdir()) == []


def test_audacity_labels_exact():
    marks = [(220500, "gun"), (786319, "100 m 12.83"), (2469600, "400 m\t51.00\n")]
    assert audacity_labels(marks, 44100) == (
        "5.000000\t5.000000\tgun\n"
        "17.830363\t17.830363\t100 m 12.83\n"
        "56.000000\t56.000000\t400 m 51.00\n"
    )
    assert audacity_labels([], 44100) == ""
