"""Markers that audio editors show: WAV cue points with labels, and Audacity label tracks.

Chunk layout from the RIFF specification (Microsoft/IBM, "Multimedia Programming Interface and Data Specifications
1.0", 1991): every chunk is a four-character id, a little-endian uint32 size and the data, followed by one pad byte when
the size is odd (the pad is not counted in the size). The RIFF size counts everything after itself. The markers are two
chunks appended after whatever libsndfile wrote, so the ``fmt `` and ``data`` chunks keep every byte:

    cue  <uint32 count> then per point: <id> <position> 'data' <chunk start 0> <block start 0> <sample offset>
    LIST 'adtl' then per point: labl <size> <id> <text, NUL-terminated>

For PCM in a plain ``data`` chunk (no ``wavl`` list) the chunk start and block start are 0 and the sample offset is the
frame; editors differ in whether they read the position or the sample offset, so both carry the frame.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterable
from pathlib import Path

from stridebeat.errors import OutputError, UsageError

RIFF_MAX = 0xFFFFFFFF  # the RIFF size field is 32 bits; larger files are RF64, which carries no markers here


def _chunk(cid: bytes, payload: bytes) -> bytes:
    pad = b"\0" if len(payload) % 2 else b""
    return struct.pack("<4sI", cid, len(payload)) + payload + pad


def marker_chunks(marks: Iterable[tuple[int, str]]) -> bytes:
    """The ``cue `` and ``LIST``/``adtl`` chunks for ``marks`` (frame, label); cue ids 1, 2, … in the given order."""
    marks = list(marks)
    points = b"".join(struct.pack("<II4sIII", i, f, b"data", 0, 0, f) for i, (f, _) in enumerate(marks, 1))
    # The spec's ZSTR is ASCII. The plan's labels are ASCII; anything else (a session's "→", a name) is written as
    # UTF-8, which leaves ASCII unchanged and is what ffmpeg decodes labels as. A NUL would end the label early.
    labels = b"".join(_chunk(b"labl", struct.pack("<I", i) + text.replace("\0", "").encode("utf-8") + b"\0")
                      for i, (_, text) in enumerate(marks, 1))
    return _chunk(b"cue ", struct.pack("<I", len(marks)) + points) + _chunk(b"LIST", b"adtl" + labels)


def add_wav_markers(path: str | os.PathLike, marks: Iterable[tuple[int, str]]) -> None:
    """Append cue points and their labels to a finished PCM WAV file (as libsndfile writes it), in place.

    Parameters
    ----------
    path : path-like
        A RIFF/WAVE file; its existing chunks (``fmt ``, ``fact``, ``PEAK``, ``LIST``/``INFO``, ``data``) are kept.
    marks : iterable of (frame, label)
        Frames from the start of the file, e.g. ``Track.marks``.

    Raises
    ------
    OutputError
        The file is not a RIFF/WAVE file, already has cue points, or would grow past the 4 GiB RIFF limit.
    UsageError
        A mark lies outside the audio.
    """
    path = Path(path)
    marks = [(int(f), str(text)) for f, text in marks]
    if not marks:
        return
    with open(path, "r+b") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:] != b"WAVE":
            raise OutputError(f"cannot add markers to {path}: not a RIFF/WAVE file")
        size = fh.seek(0, os.SEEK_END)
        end = min(size, 8 + struct.unpack("<I", head[4:8])[0])
        frame_bytes, data_bytes, pos = None, None, 12
        while pos + 8 <= end:
            fh.seek(pos)
            cid, length = struct.unpack("<4sI", fh.read(8))
            if cid == b"fmt " and length >= 14:
                frame_bytes = struct.unpack("<HHIIH", fh.read(14))[4]  # nBlockAlign: bytes per frame
            elif cid == b"data":
                data_bytes = length
            elif cid == b"cue " or (cid == b"LIST" and fh.read(4) == b"adtl"):
                raise OutputError(f"cannot add markers to {path}: it already has cue points")
            pos += 8 + length + (length & 1)
        if not frame_bytes or data_bytes is None:
            raise OutputError(f"cannot add markers to {path}: no fmt or data chunk")
        frames = data_bytes // frame_bytes
        bad = [(f, t) for f, t in marks if not 0 <= f <= frames]
        if bad:
            raise UsageError(f"marker {bad[0][1]!r} at frame {bad[0][0]} is outside the audio (0 to {frames} frames)")
        # The chunks end at ``pos`` (pad bytes included). A writer that stopped after an odd-sized last chunk without
        # its pad byte leaves the file one byte short; the new chunks must start on an even offset, so the pad goes in.
        fh.seek(size)
        if not pos - 1 <= size <= pos:
            raise OutputError(f"cannot add markers to {path}: the chunks end at byte {pos} but the file has {size}")
        new = b"\0" * (pos - size) + marker_chunks(marks)
        if size + len(new) - 8 > RIFF_MAX:
            raise OutputError(f"cannot add markers to {path}: the file would pass the 4 GiB limit of WAV")
        fh.write(new)
        fh.seek(4)
        fh.write(struct.pack("<I", size + len(new) - 8))
        fh.flush()
        os.fsync(fh.fileno())


def marker_hook(track, path: str | os.PathLike) -> Callable[[Path], None] | None:
    """The ``finish`` hook for ``export.export_track`` that marks a WAV with ``track.marks`` (None for others)."""
    if Path(path).suffix.lower() != ".wav" or not track.marks:
        return None
    return lambda tmp: add_wav_markers(tmp, track.marks)


def audacity_labels(marks: Iterable[tuple[int, str]], samplerate: int) -> str:
    """An Audacity label track (File › Import › Labels): ``start\\tend\\tlabel`` per line, point labels, seconds."""
    lines = []
    for frame, text in marks:
        t = frame / samplerate
        # A tab or newline inside a label would split the line into fields Audacity reads differently.
        clean = " ".join(str(text).split())
        lines.append(f"{t:.6f}\t{t:.6f}\t{clean}\n")
    return "".join(lines)
