"""The public Python API: what the command line does, for scripts.

Settings are keywords named as the command-line options without the dashes (``steps_per_100m=46`` for
``--steps-per-100m 46``), as preset keys are; values may be Python numbers or the strings a user types
(``time="1:05.3"``, ``intensity="85%"``); ``None`` for a setting means "not given" (a preset's value stays). Every
function raises ``stridebeat.UsageError`` (a ``ValueError``) for
impossible input and ``stridebeat.StridebeatError`` for other failures, each with a one-line message.

Example: a squad's race tracks from a CSV of target times::

    import csv
    import stridebeat

    for row in csv.DictReader(open("squad.csv")):
        job = stridebeat.build_job(time=row["time"], steps_per_100m=row["steps"])
        stridebeat.render_file(job, f"{row['name']}.wav", force=True)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from stridebeat.api.outputs import Output, OutputKind, Rendered, check_outputs, publish, render
from stridebeat.config import gate, jobs, settings, validate
from stridebeat.core import schedule
from stridebeat.core.schedule import PlannedRace
from stridebeat.core.session import Job, job_track
from stridebeat.core.stride import StrideModel
from stridebeat.core.track import Track
from stridebeat.errors import UsageError

__all__ = [
    "Output",
    "OutputKind",
    "Rendered",
    "build_job",
    "check_outputs",
    "check_preset_name",
    "delete_preset",
    "list_presets",
    "load_preset",
    "plan_race",
    "preset_settings",
    "publish",
    "render",
    "render_array",
    "render_file",
    "save_preset",
    "stride_model",
    "stride_profiles",
    "timeline",
]

if TYPE_CHECKING:
    # Presets (TOML, the user's folder) load when a preset is used, not with every render.
    from stridebeat.config.presets import Entry, Preset


def stride_model(
    *, steps_per_100m: float | None = None, step_length: float | None = None, height: float | None = None
) -> StrideModel:
    """A runner's stride calibration: steps counted per 100 m at race pace (best), a step length, or a height."""
    given = settings.parse_values(
        validate.setting_values(dict(steps_per_100m=steps_per_100m, step_length=step_length, height=height))
    )
    return StrideModel(
        steps_per_100m=given.get("steps_per_100m"), step_length_m=given.get("step_length"), height_m=given.get("height")
    )


def plan_race(*, stride: StrideModel | None = None, **values: Any) -> PlannedRace:
    """A race plan: splits, speed, cadence and every footstrike, from plan and stride settings.

    ``plan_race(time=51)`` is ``stridebeat plan --time 51``; ``stride`` replaces the stride settings.
    """
    if stride is not None:
        validate.instance(stride, StrideModel, what="stride")
    built = gate.build(settings.parse_values(validate.setting_values(values)))
    if built.plan is None:
        raise UsageError("a plain metronome (cadence=…) has no race plan: give time=… or use build_job")
    return schedule.plan_race(built.plan, stride or built.stride, hold_last_m=built.hold_last_m)


def build_job(preset: str | os.PathLike[str] | None = None, *, open_ended: bool = False, **values: Any) -> Job:
    """The job of a race, a metronome or a session: a preset (name or .toml path) with ``values`` on top.

    ``open_ended`` allows a metronome without a duration (live playback, until stopped).
    """
    name = validate.preset_ref(preset)
    validate.flag(open_ended, what="open_ended")
    return jobs.prepare_preset(name, validate.setting_values(values), open_ended=open_ended)


def render_file(
    job: Job,
    path: str | os.PathLike[str],
    *,
    force: bool = False,
    markers: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Render ``job`` to one audio file (.wav, .flac, .ogg or .mp3 by extension), atomically: ``render`` with one
    audio output.

    An existing file is replaced only with ``force``. ``progress(done_frames, total_frames)`` hears of each block.
    """
    rendered = render(job, [Output(OutputKind.AUDIO, Path(path))], force=force, markers=markers, progress=progress)
    return rendered.outputs[0].path


def render_array(job: Job, *, samplerate: int | None = None) -> np.ndarray:
    """The whole track of ``job`` as a float32 array of shape (frames, 2), the samples a file would hold."""
    from stridebeat.core.render import Renderer

    validate.instance(job, Job, what="job")
    if samplerate is not None:
        samplerate = settings.parse_values({"samplerate": samplerate})["samplerate"]
    renderer = Renderer(_track(job, samplerate=samplerate))
    out = np.empty((renderer.n_frames, 2), dtype=np.float32)
    for start, block in renderer.blocks():
        out[start : start + len(block)] = block
    return out


def _track(job: Job, *, samplerate: int | None = None) -> Track:
    """The job's track, with its music when it has songs (the music package loads only then)."""
    if job.music is None:
        return job_track(job, samplerate=samplerate)
    from stridebeat.music.job import track_with_music

    return track_with_music(job, samplerate=samplerate)[0]


def timeline(job: Job, *, gun_offset_s: float | None = None) -> dict[str, Any]:
    """The job as data (the timeline JSON of the README): plan, every step and cue, times from the gun; with music,
    where each song's beats land (its songs are analysed, nothing is stretched: ``stridebeat plan --json``)."""
    from stridebeat.music.job import plan_music
    from stridebeat.views.timeline import timeline as make

    validate.instance(job, Job, what="job")
    return make(job, gun_offset_s=validate.offset(gun_offset_s), music=plan_music(job))


def load_preset(name: str | os.PathLike[str]) -> Preset:
    """A preset by name (yours first, then the built-ins) or by path to a .toml file, validated."""
    from stridebeat.config import presets

    ref = validate.preset_ref(name, what="name")
    if ref is None:
        raise UsageError("name None is not a preset name or a path to a .toml file")
    return presets.load(ref)


def save_preset(name: str, *, description: str = "", force: bool = False, **values: Any) -> Path:
    """Save ``values`` as your rep preset ``name`` (replaces one of that name only with ``force``)."""
    validate.name(name)
    validate.text(description, what="description")
    validate.flag(force, what="force")
    given = validate.setting_values(values)
    jobs.prepare(given, open_ended=True)  # the whole plan, so a preset that saves also plays
    from stridebeat.config import presets

    return presets.save(name, given, description=description, force=force)


def list_presets() -> list[Entry]:
    """Every built-in and user preset; a broken file is listed with its error."""
    from stridebeat.config import presets

    return presets.entries()


def check_preset_name(name: str) -> str:
    """``name`` if it is a preset's name (never a path: a page or a script takes it from a user); PresetError
    otherwise."""
    from stridebeat.config.names import check_name

    return check_name(validate.name(name))


def preset_settings(name: str | None, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of the rep preset ``name`` (None: none) with ``overrides`` on top, as a command line gathers a
    preset and its options (an override also drops the preset's settings that say the same thing another way)."""
    from stridebeat.config.presets import load_values

    given = settings.parse_values(validate.setting_values(overrides))
    if name is None:
        return given
    return settings.override(load_values(check_preset_name(name)), given)


def delete_preset(name: str) -> Path:
    """Delete your preset ``name`` (built-in presets stay); returns the file that was removed."""
    from stridebeat.config import presets

    return presets.delete(check_preset_name(name))


def stride_profiles() -> list[str]:
    """The names of your saved stride profiles (``--stride NAME``), sorted."""
    from stridebeat.config.strides import list_profiles

    return list_profiles()
