"""The one place the server renders: a track of the page's formats through ``stridebeat.render``."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stridebeat import Job


class TrackFormat(StrEnum):
    """What the page renders: the MP3 it plays (with chapters), a WAV, a FIT workout for the watch."""

    MP3 = "mp3"
    WAV = "wav"
    FIT = "fit"


def render_track(
    job: Job,
    path: Path,
    *,
    kind: TrackFormat,
    name: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> float | None:
    """Write ``job`` to ``path`` (replacing it) through ``stridebeat.render``; return where the gun is in the audio,
    in seconds (None for a FIT workout, which has no audio). ``name`` names a FIT workout on the watch.

    ``progress(done_frames, total_frames)`` is called per audio block; if it raises, nothing is published and the
    exception propagates.
    """
    from stridebeat.api import Output, OutputKind, render

    output = Output(OutputKind.FIT if kind is TrackFormat.FIT else OutputKind.AUDIO, path)
    track = render(job, [output], force=True, progress=progress, name=name).track
    return None if track is None else track.origin_frame / track.samplerate
