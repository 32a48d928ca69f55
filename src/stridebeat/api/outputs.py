"""The one output pipeline: every file stridebeat writes for a job, checked first and published together.

An output is a kind and a path. Each kind says which file names it takes, whether it needs the rendered audio, how
its target is checked before any work, and how its whole file is written at a temporary path. ``render`` checks every
target, renders the audio once if any output needs it, writes each file under a temporary name and publishes them all
together, or none of them (``stridebeat.atomic``). The command line, the page and the review command all write
through here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stridebeat.errors import OutputError, UsageError

if TYPE_CHECKING:
    from stridebeat.core.races import Race
    from stridebeat.core.session import Job
    from stridebeat.core.track import Track
    from stridebeat.music.job import MusicMix

Progress = Callable[[int, int], None]
Writer = Callable[[Path], None]


class OutputKind(StrEnum):
    """What a file holds."""

    AUDIO = "audio"  # .wav .flac .ogg .mp3, with cue points or chapters
    FIT = "fit"  # a FIT workout for the watch
    TIMELINE = "timeline"  # the timeline JSON, with the gun's offset in the audio
    LABELS = "labels"  # an Audacity label track
    PLOT = "plot"  # a picture of the plan (.png, .svg)


@dataclass(frozen=True, slots=True)
class Output:
    """One file to write: its kind and its path."""

    kind: OutputKind
    path: Path

    @classmethod
    def of(
        cls,
        path: str | os.PathLike[str],
        kind: OutputKind | str | None = None,
        *,
        among: Sequence[OutputKind] | None = None,
    ) -> Output:
        """An output at ``path``; without ``kind``, the kind its extension names among ``among`` (default: every
        kind); UsageError if none does."""
        if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)):
            raise UsageError(f"an output is a file name, not {path!r}")
        from stridebeat.atomic import refuse_non_file

        target = Path(path)
        refuse_non_file(target)  # "-o -" is told it names standard output, not that it lacks an extension
        if kind is None:
            return cls(kind_of(target, among=among), target)
        try:
            return cls(OutputKind(kind), target)
        except ValueError:
            raise UsageError(f"unknown output kind {kind!r}: use one of {', '.join(OutputKind)}") from None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Rendered:
    """What ``render`` wrote, and the track and music report behind the audio (None when no output needed audio)."""

    outputs: tuple[Output, ...]
    track: Track | None = None
    music: MusicMix | None = None


@dataclass(slots=True, kw_only=True, eq=False)
class _Context:
    """What the writers of one render share: the job, and the audio once it is rendered."""

    job: Job
    markers: bool
    reference: Race | None
    name: str | None = None
    track: Track | None = None
    music: MusicMix | None = None
    progress: Progress | None = None
    audio_done: int = 0  # frames written by earlier audio outputs, so progress runs once from 0 to the total
    audio_total: int = 0
    music_map: Any = None  # the music mapped (not stretched) for a timeline written without audio


def _check_audio(path: Path) -> None:
    from stridebeat.export.audio import format_for

    format_for(path)


def _check_plot(path: Path) -> None:
    from stridebeat.views.plot import check_plot_path

    check_plot_path(path)


def _no_check(path: Path) -> None:
    return None


def _write_audio(ctx: _Context, tmp: Path, target: Path) -> None:
    from stridebeat.export.audio import write_track

    assert ctx.track is not None  # render builds the track before any audio writer runs
    done = ctx.audio_done

    def report(frames: int, _total: int) -> None:
        if ctx.progress is not None:
            ctx.progress(done + frames, ctx.audio_total)

    write_track(ctx.track, tmp, target, markers=ctx.markers, progress=report)
    ctx.audio_done += ctx.track.n_frames


def _write_fit(ctx: _Context, tmp: Path, target: Path) -> None:
    from stridebeat.export.fit import encode_workout
    from stridebeat.export.workout import workout_for

    data = encode_workout(workout_for(ctx.job, name=ctx.name or ctx.job.session or target.stem))
    _write_bytes(tmp, data)


def _write_timeline(ctx: _Context, tmp: Path, target: Path) -> None:
    from stridebeat.core.session import gun_offset_s
    from stridebeat.views.timeline import timeline, to_json

    music = ctx.music if ctx.music is not None else _music_map(ctx)
    data = timeline(ctx.job, gun_offset_s=gun_offset_s(ctx.job), music=music)
    _write_bytes(tmp, to_json(data).encode("utf-8"))


def _write_labels(ctx: _Context, tmp: Path, target: Path) -> None:
    from stridebeat.core.session import job_marks
    from stridebeat.export.markers import audacity_labels

    _write_bytes(tmp, audacity_labels(job_marks(ctx.job), ctx.job.sound.samplerate).encode("utf-8"))


def _write_plot(ctx: _Context, tmp: Path, target: Path) -> None:
    from stridebeat.views.plot import write_plot

    with open(tmp, "wb") as fh:
        write_plot(ctx.job, fh, fmt=target.suffix.lower()[1:], reference=ctx.reference)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Kind:
    suffixes: tuple[str, ...]  # the extensions that name this kind; () for kinds given explicitly only
    needs_audio: bool
    check: Callable[[Path], None]
    write: Callable[[_Context, Path, Path], None]


# The one list of output kinds. Timeline and labels take any name when given explicitly (--timeline, --labels).
KINDS: dict[OutputKind, _Kind] = {
    OutputKind.AUDIO: _Kind(
        suffixes=(".wav", ".flac", ".ogg", ".mp3"), needs_audio=True, check=_check_audio, write=_write_audio
    ),
    OutputKind.FIT: _Kind(suffixes=(".fit",), needs_audio=False, check=_no_check, write=_write_fit),
    OutputKind.TIMELINE: _Kind(suffixes=(".json",), needs_audio=False, check=_no_check, write=_write_timeline),
    OutputKind.LABELS: _Kind(suffixes=(".txt",), needs_audio=False, check=_no_check, write=_write_labels),
    OutputKind.PLOT: _Kind(suffixes=(".png", ".svg"), needs_audio=False, check=_check_plot, write=_write_plot),
}


def kind_of(path: Path, *, among: Sequence[OutputKind] | None = None) -> OutputKind:
    """The kind an extension names (among ``among``, default every kind); UsageError listing the extensions
    otherwise."""
    ext = path.suffix.lower()
    kinds = list(KINDS) if among is None else list(among)
    for kind in kinds:
        if ext in KINDS[kind].suffixes:
            return kind
    known = ", ".join(s for kind in kinds for s in KINDS[kind].suffixes)
    raise UsageError(f"cannot write {ext or 'no extension'!r} files: name the output with one of {known}")


def _outputs(outputs: Iterable[Output | str | os.PathLike[str]]) -> list[Output]:
    if isinstance(outputs, (str, os.PathLike)):
        outputs = [outputs]
    try:
        items = list(outputs)
    except TypeError:
        raise UsageError(f"outputs is a {type(outputs).__name__}: give a list of file names or Outputs") from None
    return [o if isinstance(o, Output) else Output.of(o) for o in items]


def check_outputs(outputs: Iterable[Output | str | os.PathLike[str]], *, force: bool) -> list[Output]:
    """Check every output before any work: its kind and extension, its folder, its name, that no two share a path,
    that it is a regular file if it exists, and that an existing one is replaced only with ``force``.

    Raises
    ------
    UsageError
        An unknown kind or extension, a name too long, two outputs at one path.
    OutputError
        A folder that is missing or cannot be written, a target that is not a file, an existing file without force.
    """
    from stridebeat.atomic import check_targets

    outs = _outputs(outputs)
    if not outs:
        raise UsageError("no output to write: give at least one file")
    for out in outs:
        KINDS[out.kind].check(out.path)
    check_targets([o.path for o in outs], force=force)
    return outs


def render(
    job: Job,
    outputs: Iterable[Output | str | os.PathLike[str]],
    *,
    force: bool = False,
    markers: bool = True,
    progress: Progress | None = None,
    reference: Race | None = None,
    name: str | None = None,
) -> Rendered:
    """Write any set of outputs of ``job`` (audio in any format, FIT, timeline, labels, plot): all of them, or none.

    Parameters
    ----------
    job : Job
        What to write, from ``build_job``.
    outputs : iterable of Output or path
        The files; a plain path's kind comes from its extension (``Output.of``).
    force : bool
        Replace existing files. Without it, a file that appears at a target while the render runs is not replaced
        either: the render fails and publishes nothing.
    markers : bool
        Cue points in a WAV, chapters in MP3, FLAC and OGG files.
    progress : callable(done_frames, total_frames), optional
        Called after each block of audio. If it raises, nothing is published and the exception propagates (a page
        cancels its render this way).
    reference : Race, optional
        A library race drawn beside the plan in a plot.
    name : str, optional
        The name a FIT workout shows on the watch (default: the session's, else the file's name).

    Returns
    -------
    Rendered
        The outputs written, and the track and music report when audio was rendered.

    Raises
    ------
    UsageError
        An output the job cannot be written to (extension, sample rate, length), or a job without a plan for a plot.
    OutputError
        A target that cannot be written; every target is left as it was.
    """
    _check_arguments(job, force=force, markers=markers, progress=progress)
    outs = check_outputs(outputs, force=force)
    if name is not None and not isinstance(name, str):
        raise UsageError(f"name is a {type(name).__name__}: give the workout's name as text")
    ctx = _Context(job=job, markers=markers, reference=reference, progress=progress, name=name)
    audio = [o for o in outs if KINDS[o.kind].needs_audio]
    if audio:
        from stridebeat.export.audio import check_track

        ctx.track, ctx.music = _audio(job)
        for out in audio:
            check_track(ctx.track, out.path)
        ctx.audio_total = ctx.track.n_frames * len(audio)
    publish([(o.path, _bound(KINDS[o.kind].write, ctx, o.path)) for o in outs], force=force, checked=True)
    return Rendered(outputs=tuple(outs), track=ctx.track, music=ctx.music)


def _check_arguments(job: Any, *, force: Any, markers: Any, progress: Any) -> None:
    from stridebeat.config import validate
    from stridebeat.core.session import Job

    validate.instance(job, Job, what="job")
    validate.flag(force, what="force")
    validate.flag(markers, what="markers")
    if progress is not None and not callable(progress):
        raise UsageError(f"progress is a {type(progress).__name__}: give a function of (done_frames, total_frames)")


def _bound(write: Callable[[_Context, Path, Path], None], ctx: _Context, target: Path) -> Writer:
    return lambda tmp: write(ctx, tmp, target)


def publish(
    writers: Sequence[tuple[str | os.PathLike[str], Writer]], *, force: bool, checked: bool = False
) -> list[Path]:
    """Write files through the same staged publish as ``render``: targets checked first, then every file written
    whole under a temporary name and all published together, or none.

    ``writers`` pairs each target with a function that writes the whole file at the temporary path it is given.
    ``checked`` skips the target checks when the caller has just made them.

    Raises
    ------
    OutputError
        A target that cannot be written (named, never the temporary file); every target is left as it was.
    """
    from stridebeat.atomic import Staged, check_targets

    targets = [Path(t) for t, _ in writers]
    if not checked:
        check_targets(targets, force=force)
    with Staged(replace=force) as staged:
        for target, (_, write) in zip(targets, writers):
            tmp = staged.path(target)
            try:
                write(tmp)
            except OSError as exc:
                raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
        staged.publish()
    return targets


def _audio(job: Job) -> tuple[Track, MusicMix | None]:
    if job.music is None:  # the music package loads only for music
        from stridebeat.core.session import job_track

        return job_track(job), None
    from stridebeat.music.job import track_with_music

    return track_with_music(job)


def _music_map(ctx: _Context) -> Any:
    if ctx.job.music is None:
        return None
    if ctx.music_map is None:
        from stridebeat.music.job import plan_music

        ctx.music_map = plan_music(ctx.job)
    return ctx.music_map


def _write_bytes(tmp: Path, data: bytes) -> None:
    with open(tmp, "wb") as fh:
        fh.write(data)
