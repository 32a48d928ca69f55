"""What the page needs that the public API does not offer yet: thin stand-ins, each marked for the lead.

FOR THE LEAD: ``render_track`` is the one place the server renders; once ``stridebeat.api.render`` (issue 22, item 1)
is on main it becomes one ``render(job, [Output(kind, path)], force=True, progress=progress)`` call, the gun offset
taken from ``Rendered.track``. ``delete_preset``, ``stride_profiles``, ``check_preset_name`` and ``preset_values``
call configuration functions directly and belong in ``stridebeat.api``; move them there and import them from it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stridebeat.config.jobs import Job


class TrackFormat(StrEnum):
    """What the page renders: the MP3 it plays (with chapters), a WAV, a FIT workout for the watch."""

    MP3 = "mp3"
    WAV = "wav"
    FIT = "fit"


def render_track(
    job: Job, path: Path, *, kind: TrackFormat, progress: Callable[[int, int], None] | None = None
) -> float | None:
    """Write ``job`` to ``path`` (replacing it) and return where the gun is in the audio, in seconds.

    STAND-IN until ``stridebeat.api.render`` lands: replace the body with the one ``render`` call (see the module).

    Parameters
    ----------
    job : Job
        What to render.
    path : Path
        The target; written whole or not at all.
    kind : TrackFormat
        Audio (MP3, WAV) or a FIT workout.
    progress : callable(done_frames, total_frames), optional
        Called per audio block; if it raises, nothing is published and the exception propagates.

    Returns
    -------
    float or None
        The gun's offset in the audio file (None for a FIT workout).
    """
    if kind is TrackFormat.FIT:
        from stridebeat.atomic import atomic_file  # stand-in: the FIT output of api.render
        from stridebeat.export.fit import encode_workout
        from stridebeat.export.workout import workout_for

        data = encode_workout(workout_for(job, name=job.session or "stridebeat"))
        with atomic_file(path, durable=False) as (fh, _):
            fh.write(data)
        return None
    import stridebeat

    track = job.track()
    stridebeat.render_file(job, path, force=True, progress=progress)
    return track.origin_frame / track.samplerate


def check_preset_name(name: str) -> str:
    """``name`` if it is a preset's name (never a path); PresetError otherwise. FOR THE LEAD: move into the API."""
    from stridebeat.config.names import check_name

    return check_name(name)


def preset_values(name: str | None, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A rep preset's values with ``overrides`` on top, as ``preset save --from`` gathers them. FOR THE LEAD: API."""
    from stridebeat.config.settings import override, parse_values

    if name is None:
        return dict(overrides)
    from stridebeat.config.presets import load_values

    return override(load_values(check_preset_name(name)), parse_values(overrides))


def delete_preset(name: str) -> Path:
    """Delete the user preset ``name`` (``stridebeat preset delete``). FOR THE LEAD: move into the API."""
    from stridebeat.config import presets

    return presets.delete(check_preset_name(name))


def stride_profiles() -> list[str]:
    """The saved stride profiles' names (``--stride NAME``). FOR THE LEAD: move into the API."""
    from stridebeat.config.strides import list_profiles

    return list_profiles()
