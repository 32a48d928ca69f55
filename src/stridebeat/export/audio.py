"""Writing a track to an audio file: format from the extension, block by block, at the temporary path the output
pipeline (``stridebeat.api.outputs``) gives it; the pipeline publishes it whole or not at all.

WAV is written here, header and samples and markers in one pass (``export.wav``); FLAC, OGG and MP3 through
libsndfile, which opens the temporary file by name, so no Python code runs inside the encoder (an interrupt or a full
disk comes back between two blocks, as an exception, never inside a callback).

Every limit that can refuse a render (the extension, the sample rate a format takes, the 24-hour maximum, WAV's
4 GiB) is checked by ``check_track`` before the first sample is rendered.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from stridebeat.core.render import Renderer
from stridebeat.core.track import MAX_TRACK_S, Track
from stridebeat.errors import OutputError, UsageError
from stridebeat.export import wav
from stridebeat.export.chapters import Chapter, write_chapters
from stridebeat.export.markers import marker_chunks

# extension → (libsndfile format, subtype)
FORMATS = {
    ".wav": ("WAV", "PCM_16"),
    ".flac": ("FLAC", "PCM_16"),
    ".ogg": ("OGG", "VORBIS"),
    ".mp3": ("MP3", "MPEG_LAYER_III"),
}
# MPEG-1 Layer III takes 32, 44.1 and 48 kHz; libsndfile's encoder refuses more.
MAX_RATE = {".mp3": 48000}
# libsndfile's compression level (0 best … 1 smallest) per track quality, with MP3 at a variable bit rate: libsndfile's
# own defaults thinned the calls; "high" keeps them as heard in the WAV (bench/listen.py, README).
COMPRESSION = {"high": 0.0, "medium": 0.2, "small": 0.5}
BLOCK_FRAMES = 1 << 16


def format_for(path: str | os.PathLike[str]) -> tuple[str, str]:
    """The (format, subtype) for a file name; UsageError for an extension we do not write."""
    ext = Path(path).suffix.lower()
    try:
        return FORMATS[ext]
    except KeyError:
        known = ", ".join(FORMATS)
        shown = ext or "no extension"
        raise UsageError(f"cannot write {shown!r} files: name the output with one of {known}") from None


def check_track(track: Track, path: str | os.PathLike[str]) -> None:
    """Refuse, before rendering, a track longer than the maximum or than the format can hold, and a sample rate the
    format cannot take (UsageError, exit 2)."""
    ext = Path(path).suffix.lower()
    top = MAX_RATE.get(ext)
    if top is not None and track.samplerate > top:
        raise UsageError(
            f"{ext[1:].upper()} files take at most {top} Hz, not {track.samplerate} Hz: "
            f"give --samplerate {top} or less, or write a .flac file"
        )
    if track.duration_s > MAX_TRACK_S:
        # In minutes and seconds: a track a second too long must not read as "24.0 hours".
        minutes, secs = divmod(track.duration_s, 60)
        raise UsageError(
            f"the track would last {int(minutes) // 60}:{int(minutes) % 60:02d}:{secs:04.1f} (h:mm:ss): the longest "
            f"track is {MAX_TRACK_S / 3600:g} hours; give a shorter --duration or fewer reps"
        )
    if ext == ".wav":
        wav.check_length(track.n_frames, track.samplerate)


def write_track(
    track: Track,
    tmp: Path,
    target: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    markers: bool = False,
) -> None:
    """Write ``track`` to the temporary file ``tmp`` in the format of ``target``'s extension.

    ``progress(done_frames, total_frames)`` hears of each block once it is written; ``markers`` puts ``track.marks``
    in the file (cue points in a WAV, chapters in MP3, FLAC and OGG). OutputError names ``target``.
    """
    fmt, subtype = format_for(target)
    blocks = _reporting(Renderer(track, max_block=BLOCK_FRAMES).blocks(), progress, track.n_frames)
    if fmt == "WAV":
        trailer = marker_chunks(track.marks, track.n_frames) if markers and track.marks else b""
        head = wav.header(track.n_frames, track.samplerate, 2, len(trailer))
        try:
            with open(tmp, "wb") as fh:
                fh.write(head)
                pcm16 = _Pcm16()
                for block in blocks:
                    fh.write(pcm16.convert(block).tobytes())
                fh.write(trailer)
        except OSError as exc:
            raise OutputError(f"cannot write {target}: {_reason(exc, tmp.parent)}") from None
        return

    import soundfile as sf  # on first use: a WAV is written without libsndfile

    try:
        lossy: dict[str, float | str] = (
            {"compression_level": COMPRESSION[track.quality]} if fmt in ("OGG", "MP3") else {}
        )
        if fmt == "MP3":
            lossy["bitrate_mode"] = "VARIABLE"
        with sf.SoundFile(
            tmp, "w", samplerate=track.samplerate, channels=2, format=fmt, subtype=subtype, **lossy
        ) as out:
            # libsndfile's own float→short path converts sample by sample with clipping checks, 3–4× slower.
            to_pcm16 = _Pcm16() if subtype == "PCM_16" else None
            for block in blocks:
                out.write(to_pcm16.convert(block) if to_pcm16 else block)
    except (sf.SoundFileRuntimeError, OSError) as exc:
        raise OutputError(f"cannot write {target}: {_reason(exc, tmp.parent)}") from None
    if markers and track.marks:
        # Where phone players show the marks: ID3 chapters in MP3, Vorbis-comment chapters in FLAC and OGG.
        write_chapters(tmp, chapters(track), track.duration_s, container=target.suffix)


def chapters(track: Track) -> list[Chapter]:
    """The track's marks as chapters; marks in the same millisecond (a rep and its first call) share one."""
    out: list[Chapter] = []
    for frame, label in sorted(track.marks, key=lambda m: m[0]):
        start = frame / track.samplerate
        if out and round(start * 1000) == round(out[-1].start_s * 1000):
            out[-1] = Chapter(start_s=out[-1].start_s, title=f"{out[-1].title} · {label}")
        else:
            out.append(Chapter(start_s=start, title=label))
    return out


def _reason(exc: Exception, folder: Path) -> str:
    text = (getattr(exc, "strerror", None) or str(exc).strip() or type(exc).__name__).splitlines()[0]
    # libsndfile reports a failed write as "System error.": a full disk is by far the likeliest, so look.
    if "space" in text.lower() or getattr(exc, "errno", None) == errno.ENOSPC or _full(folder):
        return "the disk is full: free some space, or write to another disk"
    return text


def _full(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < BLOCK_FRAMES * 4
    except OSError:
        return False


def _reporting(
    blocks: Iterator[tuple[int, np.ndarray]], progress: Callable[[int, int], None] | None, total: int
) -> Iterator[np.ndarray]:
    """The blocks of a render; ``progress`` hears of each one once the caller has written it."""
    for start, block in blocks:
        yield block
        if progress is not None:
            progress(start + len(block), total)


class _Pcm16:
    """Float → little-endian 16-bit in numpy, into reused buffers. The track never exceeds −1 dBFS, so no clipping can
    occur; plain rounding (no dither) is right for synthetic clicks, whose decays end in exact zeros."""

    def __init__(self) -> None:
        self._f = np.empty((BLOCK_FRAMES, 2), dtype=np.float32)
        self._i = np.empty((BLOCK_FRAMES, 2), dtype=wav.PCM16)

    def convert(self, block: np.ndarray) -> np.ndarray:
        n = len(block)
        f, i = self._f[:n], self._i[:n]
        np.multiply(block, 32767.0, out=f)
        np.rint(f, out=f)
        np.copyto(i, f, casting="unsafe")
        return i
