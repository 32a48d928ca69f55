"""Writing a track to a file: format from the extension, block by block, atomically.

The file is written under a temporary name in the target's own folder and renamed over the target only when complete
(``os.replace`` is atomic on one file system), so an interrupted or failed render never leaves a half-written file
where the runner expects their track, and an existing file survives every failure.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from stridebeat.errors import OutputError, UsageError
from stridebeat.render import Renderer
from stridebeat.track import Track

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
    ext = Path(path).suffix.lower()
    try:
        return FORMATS[ext]
    except KeyError:
        known = ", ".join(FORMATS)
        shown = ext or "no extension"
        raise UsageError(f"cannot write {shown!r} files: name the output with one of {known}") from None


def check_target(path: str | os.PathLike, *, force: bool) -> Path:
    """Validate an output path before any work is done (extension, folder, existing file)."""
    path = Path(path)
    format_for(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"cannot write {path}: folder {parent} does not exist")
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a folder; give a file name such as {path / 'race.wav'}")
    if path.exists() and not force:
        raise OutputError(f"{path} exists: pass --force to replace it")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"cannot write {path}: no permission to write in {parent}")
    return path


def export_track(
    track: Track,
    path: str | os.PathLike,
    *,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
    finish: Callable[[Path], None] | None = None,
) -> Path:
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
    finish : callable(temporary_path), optional
        Runs on the complete temporary file before it is renamed (e.g. to add WAV markers).

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    UsageError
        Unsupported extension.
    OutputError
        The file cannot be written; the target is left as it was.
    """
    import soundfile as sf

    path = check_target(path, force=force)
    fmt, subtype = format_for(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w+b") as fh:
            with sf.SoundFile(fh, "w", samplerate=track.samplerate, channels=2, format=fmt, subtype=subtype) as out:
                pcm16 = _Pcm16() if subtype == "PCM_16" else None
                for start, block in Renderer(track, max_block=BLOCK_FRAMES).blocks():
                    out.write(pcm16.convert(block) if pcm16 else block)
                    if progress is not None:
                        progress(start + len(block), track.n_frames)
            fh.flush()
            os.fsync(fh.fileno())
        if finish is not None:
            finish(tmp)
        # mkstemp creates the file 0600; a rendered track is an ordinary file for the user.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    except sf.LibsndfileError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc}") from None
    except BaseException:
        # KeyboardInterrupt included: the target must never be left half-written, and no temporary file behind.
        tmp.unlink(missing_ok=True)
        raise
    return path


class _Pcm16:
    """Float → 16-bit conversion in numpy: libsndfile's own float→short path converts sample by sample with clipping
    checks and is 3–4× slower than the whole rest of a render. The track never exceeds −1 dBFS, so no clipping can
    occur; plain rounding (no dither) is right for synthetic clicks, whose decays end in exact zeros."""

    def __init__(self) -> None:
        self._f = np.empty((BLOCK_FRAMES, 2), dtype=np.float32)
        self._i = np.empty((BLOCK_FRAMES, 2), dtype=np.int16)

    def convert(self, block: np.ndarray) -> np.ndarray:
        n = len(block)
        f, i = self._f[:n], self._i[:n]
        np.multiply(block, 32767.0, out=f)
        np.rint(f, out=f)
        np.copyto(i, f, casting="unsafe")
        return i


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write a small text file (timeline, labels) by the same temporary-then-rename rule as the audio."""
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp_name, 0o666 & ~_umask())
        os.replace(tmp_name, path)
    except OSError as exc:
        Path(tmp_name).unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
