"""Test-only ways in and out of files: a bare Track written through the one output pipeline, and a 16-bit PCM reader.

Tests that build a Track by hand (a metronome schedule, a few marks) write it with ``export_track``, which goes through
``stridebeat.api.publish`` exactly as ``stridebeat.render`` does; stridebeat itself writes only Jobs.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np

from stridebeat.api import publish
from stridebeat.core.track import Track
from stridebeat.export.audio import check_track, format_for, write_track


def export_track(
    track: Track,
    path: str | os.PathLike[str],
    *,
    force: bool = False,
    markers: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write ``track`` to the audio file ``path`` through the pipeline's staged publish; returns the path."""
    target = Path(path)
    format_for(target)
    check_track(track, target)
    publish([(target, lambda tmp: write_track(track, tmp, target, markers=markers, progress=progress))], force=force)
    return target


def write_bytes(path: str | os.PathLike[str], data: bytes, *, force: bool = False) -> Path:
    """Write ``data`` to ``path`` through the pipeline's staged publish (a FIT workout made by hand)."""
    return publish([(path, lambda tmp: Path(tmp).write_bytes(data))], force=force)[0]


def read_pcm16(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """Read a 16-bit PCM WAV file: (int16 samples of shape (frames, channels), sample rate); chunks other than
    ``fmt `` and ``data`` are skipped. ValueError if it is not 16-bit PCM or is cut short."""
    raw = Path(path).read_bytes()
    if len(raw) < 12 or raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise ValueError("not a RIFF/WAVE file")
    fmt, pos = None, 12
    while pos + 8 <= len(raw):
        cid, size = struct.unpack_from("<4sI", raw, pos)
        body = pos + 8
        if cid == b"fmt " and size >= 16:
            fmt = struct.unpack_from("<HHIIHH", raw, body)
        elif cid == b"data":
            if fmt is None:
                raise ValueError("the data chunk comes before any fmt chunk")
            tag, channels, rate, _, align, bits = fmt
            if tag != 1 or bits != 16 or align != channels * 2 or channels < 1:
                raise ValueError(f"not 16-bit PCM (format {tag}, {bits} bits, {channels} channels)")
            if body + size > len(raw):
                raise ValueError(f"cut short: {len(raw) - body} of {size} data bytes")
            samples = np.frombuffer(raw, dtype="<i2", count=size // align * channels, offset=body)
            return samples.reshape(-1, channels), rate
        pos = body + size + (size & 1)
    raise ValueError("no data chunk")
