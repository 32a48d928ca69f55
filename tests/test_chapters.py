"""Chapters in MP3, FLAC and Ogg files made by libsndfile, read back with mutagen and with ffprobe."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import mutagen
import numpy as np
import pytest
import soundfile as sf

from stridebeat.errors import OutputError, UsageError
from stridebeat.export.chapters import Chapter, format_vorbis_time, write_chapters

RATE = 22050
DURATION_S = 20.0
CHAPTERS = [
    Chapter(start_s=0.0, title="set"),
    Chapter(start_s=1.75, title="gun"),
    Chapter(start_s=13.4567, title="100 m 11.71 – hold ä 𝄞"),  # non-ASCII, astral plane: UTF-16 surrogates in ID3
    Chapter(start_s=17.2, title="200 m"),
]
FORMATS = ["mp3", "flac", "ogg", "opus"]


def make_audio(folder, ext: str, seconds: float = DURATION_S) -> str:
    path = str(folder / f"race.{ext}")
    # Opus runs at 48 kHz only (libsndfile refuses 22.05 kHz for it); .opus is an Ogg file to libsndfile.
    rate = 48000 if ext == "opus" else RATE
    t = np.arange(int(seconds * rate)) / rate
    kwargs = {"format": "OGG", "subtype": "OPUS"} if ext == "opus" else {}
    sf.write(path, (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate, **kwargs)
    return path


def expected(chapters: list[Chapter], duration_s: float) -> list[tuple[int, int, str]]:
    ends = [c.start_s for c in chapters[1:]] + [duration_s]
    return [(round(c.start_s * 1000), round(e * 1000), c.title) for c, e in zip(chapters, ends, strict=True)]


def read_mutagen(path: str) -> list[tuple[int, int | None, str]]:
    """(start ms, end ms or None, title) in the order the file declares: the CTOC for ID3, the numbers for Vorbis."""
    if path.endswith(".mp3"):
        from mutagen.id3 import ID3

        tags = ID3(path)
        tocs = tags.getall("CTOC")
        if not tocs:
            assert tags.getall("CHAP") == []
            return []
        (toc,) = tocs
        assert toc.flags & 0x01 and toc.flags & 0x02  # top-level, ordered
        chaps = {c.element_id: c for c in tags.getall("CHAP")}
        assert set(chaps) == set(toc.child_element_ids)
        return [
            (chaps[i].start_time, chaps[i].end_time, str(chaps[i].sub_frames["TIT2"])) for i in toc.child_element_ids
        ]
    audio = mutagen.File(path)
    tags = {k.upper(): v for k, v in audio.tags.items()}
    out = []
    n = 1
    while f"CHAPTER{n:03d}" in tags:
        (stamp,) = tags[f"CHAPTER{n:03d}"]
        h, m, s = stamp.split(":")
        ms = round((int(h) * 3600 + int(m) * 60 + float(s)) * 1000)
        out.append((ms, None, tags[f"CHAPTER{n:03d}NAME"][0]))
        n += 1
    assert not any(k.startswith(f"CHAPTER{n:03d}") for k in tags)
    return out


def read_ffprobe(path: str) -> list[tuple[int, int, str]]:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_chapters", "-of", "json", path],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    chapters = json.loads(result.stdout)["chapters"]
    return [
        (round(float(c["start_time"]) * 1000), round(float(c["end_time"]) * 1000), c.get("tags", {}).get("title"))
        for c in chapters
    ]


@pytest.mark.parametrize("ext", FORMATS)
def test_chapters_read_back_with_mutagen(tmp_path, ext):
    path = make_audio(tmp_path, ext)
    write_chapters(path, CHAPTERS, DURATION_S)
    got = read_mutagen(path)
    want = expected(CHAPTERS, DURATION_S)
    if ext == "mp3":
        assert got == want
    else:  # Vorbis chapters carry starts only; the player ends each at the next
        assert got == [(s, None, t) for s, _, t in want]
    assert sf.info(path).duration == pytest.approx(DURATION_S, abs=0.1)  # still a playable file


@pytest.mark.parametrize("ext", FORMATS)
def test_chapters_read_back_with_ffprobe(tmp_path, ext):
    if shutil.which("ffprobe") is None:
        pytest.skip("ffprobe (from ffmpeg) is not installed: the mutagen read-back test covers the tags alone")
    path = make_audio(tmp_path, ext)
    write_chapters(path, CHAPTERS, DURATION_S)
    got = read_ffprobe(path)
    want = expected(CHAPTERS, DURATION_S)
    # In the file's own order: FFmpeg lists ID3 chapters in frame order, ignoring the CTOC.
    assert [(s, t) for s, _, t in got] == [(s, t) for s, _, t in want]
    # FFmpeg ends a Vorbis chapter at the next one's start and the last at the stream's end (the MP3 encoder's
    # padding can make that a few ms past the written duration).
    for (_, got_end, _), (_, want_end, _) in zip(got, want, strict=True):
        assert abs(got_end - want_end) <= (0 if ext == "mp3" else 100)


@pytest.mark.parametrize("ext", FORMATS)
def test_writing_again_replaces_the_chapters(tmp_path, ext):
    path = make_audio(tmp_path, ext)
    write_chapters(path, CHAPTERS, DURATION_S)
    fewer = [Chapter(start_s=0.0, title="start"), Chapter(start_s=5.0, title="half")]
    write_chapters(path, fewer, DURATION_S)
    assert [(s, t) for s, _, t in read_mutagen(path)] == [(0, "start"), (5000, "half")]
    write_chapters(path, [], DURATION_S)
    assert read_mutagen(path) == []


@pytest.mark.parametrize("ext", FORMATS)
def test_a_temporary_name_takes_the_container(tmp_path, ext):
    """The export calls this on its temporary file (``.race.mp3.<pid>-<hex>.part``) before the rename."""
    final = make_audio(tmp_path, ext)
    tmp = tmp_path / f".race.{ext}.1234-abcd.part"
    os.replace(final, tmp)
    with pytest.raises(UsageError):
        write_chapters(tmp, CHAPTERS, DURATION_S)
    write_chapters(tmp, CHAPTERS, DURATION_S, container=ext.upper())
    os.replace(tmp, final)
    assert [(s, t) for s, _, t in read_mutagen(final)] == [(s, t) for s, _, t in expected(CHAPTERS, DURATION_S)]


def test_mp3_without_a_tag_gets_one(tmp_path):
    path = make_audio(tmp_path, "mp3")
    from mutagen.id3 import delete

    write_chapters(path, CHAPTERS[:1], DURATION_S)  # a tag, which delete() then removes: libsndfile may write none
    delete(path)
    write_chapters(path, CHAPTERS, DURATION_S)
    assert read_mutagen(path) == expected(CHAPTERS, DURATION_S)


def test_other_tags_are_kept(tmp_path):
    path = make_audio(tmp_path, "flac")
    audio = mutagen.File(path)
    audio["TITLE"] = "400 m race"
    audio.save()
    write_chapters(path, CHAPTERS, DURATION_S)
    assert mutagen.File(path)["TITLE"] == ["400 m race"]


def test_vorbis_time_format():
    assert format_vorbis_time(0) == "00:00:00.000"
    assert format_vorbis_time(13.4567) == "00:00:13.457"
    assert format_vorbis_time(3723.0006) == "01:02:03.001"


def one_line(exc_info) -> None:
    message = str(exc_info.value)
    assert message and "\n" not in message and ": " in message


@pytest.mark.parametrize(
    ("chapters", "duration"),
    [
        ([Chapter(start_s=5.0, title="b"), Chapter(start_s=1.0, title="a")], DURATION_S),  # out of order
        ([Chapter(start_s=1.0, title="a"), Chapter(start_s=1.0002, title="b")], DURATION_S),  # same millisecond
        ([Chapter(start_s=-1.0, title="a")], DURATION_S),
        ([Chapter(start_s=25.0, title="a")], DURATION_S),  # past the end
        ([Chapter(start_s=0.0, title=" ")], DURATION_S),
        ([Chapter(start_s=0.0, title="two\nlines")], DURATION_S),
        ([Chapter(start_s=0.0, title="a")], 0.0),
        ([Chapter(start_s=0.0, title="a")], float("nan")),
    ],
)
def test_bad_chapters_are_a_usage_error(tmp_path, chapters, duration):
    path = make_audio(tmp_path, "flac", seconds=1.0)
    before = (tmp_path / "race.flac").read_bytes()
    with pytest.raises(UsageError) as info:
        write_chapters(path, chapters, duration)
    one_line(info)
    assert (tmp_path / "race.flac").read_bytes() == before


def test_unsupported_extension_is_a_usage_error(tmp_path):
    path = make_audio(tmp_path, "wav", seconds=1.0)
    with pytest.raises(UsageError) as info:
        write_chapters(path, CHAPTERS[:1], 1.0)
    one_line(info)


@pytest.mark.parametrize("ext", ["flac", "ogg"])
def test_a_file_that_is_not_audio_is_an_output_error(tmp_path, ext):
    path = tmp_path / f"fake.{ext}"
    path.write_bytes(b"this is not audio at all" * 10)
    with pytest.raises(OutputError) as info:
        write_chapters(path, CHAPTERS[:1], 1.0)
    one_line(info)


def test_a_missing_file_is_an_output_error(tmp_path):
    with pytest.raises(OutputError) as info:
        write_chapters(tmp_path / "gone.mp3", CHAPTERS[:1], 1.0)
    one_line(info)
