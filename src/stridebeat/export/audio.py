"""Writing a track to a file: format from the extension, block by block, atomically.

WAV is written here, header and samples and markers in one pass (``export.wav``); FLAC, OGG and MP3 through
libsndfile.

The file is written under a temporary name in the target's own folder and renamed over the target only when complete
(``stridebeat.atomic``), so an interrupted or failed render never leaves a half-written file where the runner expects
their track, and an existing file survives every failure. It is not synced to disk: see ``stridebeat.atomic``.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from stridebeat.atomic import atomic_file
from stridebeat.core.render import Renderer
from stridebeat.core.track import Track
from stridebeat.errors import OutputError, UsageError
from stridebeat.export import wav
from stridebeat.export.markers import marker_chunks

# extension → (libsndfile format, subtype)
FORMATS = {
    ".wav": ("WAV", "PCM_16"),
    ".flac": ("FLAC", "PCM_16"),
    ".ogg": ("OGG", "VORBIS"),
    ".mp3": ("MP3", "MPEG_LAYER_III"),
}
BLOCK_FRAMES = 1 << 16


def format_for(path: str | os.PathLike) -> tuple[str, str]:
    """The (format, subtype) for a file name; UsageError for an extension we do not write."""
    ext = os.path.splitext(path)[1].lower()
    try:
        return FORMATS[ext]
    except KeyError:
        known = ", ".join(FORMATS)
        shown = ext or "no extension"
        raise UsageError(f"cannot write {shown!r} files: name the output with one of {known}") from None


def check_target(path: str | os.PathLike, *, force: bool) -> str:
    """Validate an audio output path before any work is done (extension, folder, existing file)."""
    format_for(path)
    path = check_side_file(path)
    if os.path.exists(path) and not force:
        raise OutputError(f"{path} exists: pass --force to replace it")
    return path


def check_side_file(path: str | os.PathLike) -> str:
    """Validate the folder of any output file (audio, timeline, labels): it must exist and be writable.

    Returns the path as a string.
    """
    path = os.fspath(path)
    parent = os.path.dirname(path) or "."
    if os.path.exists(parent) and not os.path.isdir(parent):
        raise OutputError(f"cannot write {path}: {parent} is not a folder")
    if not os.path.isdir(parent):
        raise OutputError(f"cannot write {path}: folder {parent} does not exist")
    if os.path.isdir(path):
        raise OutputError(f"cannot write {path}: it is a folder; give a file name")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"cannot write {path}: no permission to write in {parent}")
    return path


def export_track(
    track: Track,
    path: str | os.PathLike,
    *,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
    markers: bool = False,
) -> str:
    """Render ``track`` into ``path`` (WAV, FLAC, OGG or MP3 by extension), atomically.

    Parameters
    ----------
    track : Track
        What to render.
    path : path-like
        The target file; its extension picks the format.
    force : bool
        Replace an existing file.
    progress : callable(done_frames, total_frames), optional
        Called after each block.
    markers : bool
        Put ``track.marks`` in a WAV file as cue points with labels (other formats carry none).

    Returns
    -------
    str
        The written file.

    Raises
    ------
    UsageError
        Unsupported extension.
    OutputError
        The file cannot be written; the target is left as it was.
    """
    path = check_target(path, force=force)
    fmt, subtype = format_for(path)
    blocks = _reporting(Renderer(track, max_block=BLOCK_FRAMES).blocks(), progress, track.n_frames)
    if fmt == "WAV":
        # Everything that can refuse the job (a mark outside the audio, a file past 4 GiB) is settled before the
        # temporary file exists.
        trailer = marker_chunks(track.marks, track.n_frames) if markers and track.marks else b""
        head = wav.header(track.n_frames, track.samplerate, 2, len(trailer))
        with atomic_file(path, durable=False) as (fh, _):
            fh.write(head)
            pcm16 = _Pcm16()
            for block in blocks:
                fh.write(pcm16.convert(block))
            fh.write(trailer)
        return path

    import soundfile as sf  # on first use: a WAV is written without libsndfile

    try:
        with atomic_file(path, durable=False) as (fh, _):
            with sf.SoundFile(fh, "w", samplerate=track.samplerate, channels=2, format=fmt, subtype=subtype) as out:
                # libsndfile's own float→short path converts sample by sample with clipping checks, 3–4× slower.
                to_pcm16 = _Pcm16() if subtype == "PCM_16" else None
                for block in blocks:
                    out.write(to_pcm16.convert(block) if to_pcm16 else block)
    except sf.LibsndfileError as exc:
        raise OutputError(f"cannot write {path}: {exc}") from None
    return path


def _reporting(blocks, progress: Callable[[int, int], None] | None, total: int):
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
