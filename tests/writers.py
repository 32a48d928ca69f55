"""Test-only ways into files: a bare Track, or bytes, written through the one output pipeline.

Tests that build a Track by hand (a metronome schedule, a few marks) write it with ``export_track``, which goes through
``stridebeat.api.publish`` exactly as ``stridebeat.render`` does; stridebeat itself writes only Jobs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

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
