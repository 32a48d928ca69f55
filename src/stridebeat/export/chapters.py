"""Chapters in an exported audio file, where phone players and podcast apps show them.

One call, :func:`write_chapters`, dispatching on the file's extension:

* **MP3**: ID3v2 chapter frames (the ID3v2 Chapter Frame Addendum, id3.org ``id3v2-chapters-1.0``): one ``CHAP``
  frame per chapter (start and end in milliseconds, the title in an embedded ``TIT2`` frame) and one ``CTOC`` frame,
  flagged top-level and ordered, listing them. A chapter ends where the next begins; the last ends at the file's end.
  The tag is saved as ID3v2.3, which more players read than v2.4 (Windows, older car and phone players).
* **FLAC** and **Ogg** (Vorbis, Opus, Ogg FLAC): Vorbis comments ``CHAPTER001=HH:MM:SS.mmm`` and
  ``CHAPTER001NAME=title``, the "Vorbis chapter" convention that FFmpeg, VLC, foobar2000 and the Android and iOS
  players built on them read. No FLAC cuesheet is added: FFmpeg turns cuesheet tracks into chapters too, so players
  built on it would list every chapter twice.

The file is changed in place: the caller (the audio export) passes its complete temporary file before the atomic
rename, so a failure here never leaves a half-written file at the user's path. Existing chapters are replaced.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from stridebeat.errors import OutputError, UsageError

__all__ = ["CHAPTER_EXTENSIONS", "Chapter", "format_vorbis_time", "write_chapters"]

#: Extensions write_chapters accepts (lower case) and the way each is written.
CHAPTER_EXTENSIONS = {".mp3": "id3", ".flac": "vorbis", ".ogg": "vorbis", ".oga": "vorbis", ".opus": "vorbis"}
# The Vorbis convention numbers chapters with three digits.
_MAX_VORBIS_CHAPTERS = 999


@dataclass(frozen=True, slots=True, kw_only=True)
class Chapter:
    """A chapter: where it starts (seconds from the start of the file) and its title."""

    start_s: float
    title: str


def format_vorbis_time(seconds: float) -> str:
    """``HH:MM:SS.mmm`` as the Vorbis chapter convention writes times (rounded to the millisecond)."""
    ms = round(seconds * 1000)
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    return f"{hours:02d}:{minutes:02d}:{ms // 1000:02d}.{ms % 1000:03d}"


def write_chapters(
    path: str | os.PathLike[str], chapters: list[Chapter], duration_s: float, *, container: str | None = None
) -> None:
    """Write ``chapters`` into the complete audio file at ``path`` (MP3, FLAC or Ogg), replacing any it had.

    ``duration_s`` is the audio's length: the end of the last chapter. An empty list removes the file's chapters.
    The format follows the extension of ``path``, or ``container`` (an extension such as ``"mp3"`` or ``".flac"``)
    where the file has a temporary name: ``atomic_file``'s end in ``.part``.
    Bad chapters raise UsageError; a file that cannot be read or saved raises OutputError.
    """
    path = os.fspath(path)
    ext = os.path.splitext(path)[1] if container is None else container
    ext = "." + ext.lower().lstrip(".") if ext else ""
    way = CHAPTER_EXTENSIONS.get(ext)
    if way is None:
        raise UsageError(
            f"chapters go into MP3, FLAC and Ogg files, not {ext or 'a file without an extension'}: "
            "export to one of those"
        )
    _check(chapters, duration_s)
    import mutagen  # imported here: only exports with chapters need it

    try:
        if way == "id3":
            _write_id3(path, chapters, duration_s)
        else:
            _write_vorbis(path, chapters)
    except (mutagen.MutagenError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise OutputError(
            f"cannot write chapters into {path}: {reason}: check that it is a complete audio file"
        ) from None


def _check(chapters: list[Chapter], duration_s: float) -> None:
    if not (math.isfinite(duration_s) and duration_s > 0):
        raise UsageError(f"audio length {duration_s} s is not positive: give the file's duration in seconds")
    if len(chapters) > _MAX_VORBIS_CHAPTERS:
        raise UsageError(f"{len(chapters)} chapters are more than {_MAX_VORBIS_CHAPTERS}: merge some")
    previous = -math.inf
    for number, chapter in enumerate(chapters, 1):
        title = chapter.title
        if not title.strip() or "\n" in title or "\r" in title or "\0" in title:
            raise UsageError(f"chapter {number} has an empty or multi-line title: give each chapter a one-line title")
        start = chapter.start_s
        if not (math.isfinite(start) and 0 <= start < duration_s):
            raise UsageError(
                f"chapter {number} ({title!r}) starts at {start} s, outside the audio's 0-{duration_s:g} s: "
                "give a start inside the file"
            )
        # Compared in whole milliseconds, the resolution both formats store: two starts in one ms would collapse.
        if round(start * 1000) <= previous:
            raise UsageError(
                f"chapter {number} ({title!r}) does not start after the one before: give chapters in time order"
            )
        previous = round(start * 1000)


def _write_id3(path: str, chapters: list[Chapter], duration_s: float) -> None:
    from mutagen.id3 import CHAP, CTOC, ID3, TIT2, CTOCFlags, Encoding, ID3NoHeaderError

    try:
        tags = ID3(path)
    except ID3NoHeaderError:
        tags = ID3()  # an MP3 without a tag yet: a new one is prepended on save
    tags.delall("CHAP")
    tags.delall("CTOC")
    ends_ms = [round(c.start_s * 1000) for c in chapters[1:]] + [round(duration_s * 1000)] if chapters else []
    ids = _frame_ordering_ids(chapters)
    for element_id, chapter, end_ms in zip(ids, chapters, ends_ms, strict=True):
        tags.add(
            CHAP(
                element_id=element_id,
                start_time=round(chapter.start_s * 1000),
                end_time=end_ms,
                # 0xFFFFFFFF: byte offsets unused, players seek by time (the addendum's convention).
                start_offset=0xFFFFFFFF,
                end_offset=0xFFFFFFFF,
                sub_frames=[TIT2(encoding=Encoding.UTF16, text=[chapter.title])],
            )
        )
    if chapters:
        tags.add(
            CTOC(
                element_id="toc",
                flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                child_element_ids=ids,
                sub_frames=[TIT2(encoding=Encoding.UTF16, text=["Chapters"])],
            )
        )
    tags.save(path, v2_version=3)


def _frame_ordering_ids(chapters: list[Chapter]) -> list[str]:
    """CHAP element IDs that make mutagen write the frames in chapter order.

    Players that ignore the CTOC (FFmpeg and the apps built on it among them) list chapters in frame order, and mutagen
    orders frames of one kind by their size, then by ID. Padding each ID by the bytes its UTF-16 title lacks makes every
    CHAP frame the same size, so the zero-padded numbers decide. The IDs are internal: no player shows them.
    """
    units = [len(c.title.encode("utf-16-le")) for c in chapters]
    longest = max(units, default=0)
    return [f"chp{i:03d}" + "_" * (longest - n) for i, n in enumerate(units)]


def _write_vorbis(path: str, chapters: list[Chapter]) -> None:
    import mutagen
    from mutagen.flac import FLAC
    from mutagen.oggflac import OggFLAC
    from mutagen.oggopus import OggOpus
    from mutagen.oggvorbis import OggVorbis

    audio = mutagen.File(path, options=[FLAC, OggVorbis, OggOpus, OggFLAC])
    if audio is None:
        raise mutagen.MutagenError("not a FLAC or Ogg Vorbis/Opus/FLAC file")
    if audio.tags is None:
        audio.add_tags()
    tags = audio.tags
    # Drop every CHAPTERnnn and CHAPTERnnnNAME/URL key, whatever its case, so no stale chapter survives.
    for key in list(tags.keys()):
        upper = key.upper()
        if upper.startswith("CHAPTER") and upper[7:10].isdigit():
            del tags[key]
    for number, chapter in enumerate(chapters, 1):
        tags[f"CHAPTER{number:03d}"] = format_vorbis_time(chapter.start_s)
        tags[f"CHAPTER{number:03d}NAME"] = chapter.title
    audio.save()
