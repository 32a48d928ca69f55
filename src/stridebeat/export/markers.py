"""Markers that audio editors show: WAV cue points with labels, and Audacity label tracks.

The WAV markers are two RIFF chunks (see ``wav.py`` for the container) that ``export`` writes after the samples, in the
same pass, so the ``fmt `` and ``data`` chunks are those of an unmarked file byte for byte:

    cue  <uint32 count> then per point: <id> <position> 'data' <chunk start 0> <block start 0> <sample offset>
    LIST 'adtl' then per point: labl <size> <id> <text, NUL-terminated>

For PCM in a plain ``data`` chunk (no ``wavl`` list) the chunk start and block start are 0 and the sample offset is the
frame; editors differ in whether they read the position or the sample offset, so both carry the frame.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from stridebeat.errors import UsageError
from stridebeat.export.wav import chunk


def marker_chunks(marks: Iterable[tuple[int, str]], n_frames: int) -> bytes:
    """The ``cue `` and ``LIST``/``adtl`` chunks for ``marks`` (frame, label); cue ids 1, 2, … in the given order.

    Raises
    ------
    UsageError
        A mark lies outside the audio's ``n_frames``.
    """
    marks = [(int(f), str(text)) for f, text in marks]
    bad = [(f, t) for f, t in marks if not 0 <= f <= n_frames]
    if bad:
        raise UsageError(f"marker {bad[0][1]!r} at frame {bad[0][0]} is outside the audio (0 to {n_frames} frames)")
    points = b"".join(struct.pack("<II4sIII", i, f, b"data", 0, 0, f) for i, (f, _) in enumerate(marks, 1))
    # The spec's ZSTR is ASCII. The plan's labels are ASCII; anything else (a session's "→", a name) is written as
    # UTF-8, which leaves ASCII unchanged and is what ffmpeg decodes labels as. A NUL would end the label early.
    labels = b"".join(
        chunk(b"labl", struct.pack("<I", i) + text.replace("\0", "").encode("utf-8") + b"\0")
        for i, (_, text) in enumerate(marks, 1)
    )
    return chunk(b"cue ", struct.pack("<I", len(marks)) + points) + chunk(b"LIST", b"adtl" + labels)


def audacity_labels(marks: Iterable[tuple[int, str]], samplerate: int) -> str:
    """An Audacity label track (File › Import › Labels): ``start\\tend\\tlabel`` per line, point labels, seconds."""
    lines = []
    for frame, text in marks:
        t = frame / samplerate
        # A tab or newline inside a label would split the line into fields Audacity reads differently.
        clean = " ".join(str(text).split())
        lines.append(f"{t:.6f}\t{t:.6f}\t{clean}\n")
    return "".join(lines)
