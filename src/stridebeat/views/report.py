"""What a render tells the runner afterwards: where things fall in the file they just wrote."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from stridebeat.core.clock import format_time
from stridebeat.core.schedule import steps_spm
from stridebeat.core.session import Job
from stridebeat.core.track import Track
from stridebeat.views.music import echo_report

if TYPE_CHECKING:  # the music package loads only for a job with music
    from stridebeat.music.job import MusicMix


def summary_after_render(
    track: Track, job: Job, path: str | os.PathLike[str], music: MusicMix | None = None
) -> list[str]:
    """Lines for a terminal after a render: file, duration, each rep's gun, each split with its cadence, the hold.

    Times "in the file" are what an audio editor's ruler shows (the lead-in included); race times count from the gun.
    ``music``: what the track plays (``stridebeat.music.job.track_with_music``), reported on stderr.
    """
    echo_report(music)  # with --music: one line per song on stderr (tempo, confidence, stretch)
    sr = track.samplerate
    lines = [f"wrote {os.fspath(path)}: {_clock(track.duration_s)} ({track.n_frames} frames at {sr} Hz, stereo)"]
    origin = track.origin_frame / sr
    if job.session is not None:
        for rep in job.reps:
            p = rep.planned
            what = (
                f"{p.plan.distance_m:g} m in {_clock(p.plan.target_time_s)}"
                if p is not None
                else f"{len(rep.schedule.steps_s)} clicks"
            )
            held = f", held {p.held_cadence_spm:.1f} spm" if p is not None and p.held_cadence_spm is not None else ""
            lines.append(
                f"rep {rep.number} ({rep.label}): {what}, gun at {_clock(origin + rep.gun_s)} in the file{held}"
            )
        return lines
    steps = job.schedule.steps_s
    planned = job.reps[0].planned
    if planned is None:
        if len(steps) > 1:
            lines.append(f"metronome: {len(steps)} clicks at {steps_spm(steps):.1f} spm")
        return lines
    lines.append(f"gun at {origin:.3f} s in the file (frame {track.origin_frame}); {len(steps)} footstrikes")
    for r in planned.splits:
        held = "  held" if r.held else ""
        lines.append(
            f"  {r.distance_m:>5g} m  {format_time(r.elapsed_s):>8}  (split {r.split_s:5.2f})  "
            f"{r.cadence_spm:6.1f} spm  at {_clock(origin + r.elapsed_s)} in the file{held}"
        )
    if planned.held_cadence_spm is not None and planned.hold_start_s is not None:
        from_m = planned.plan.distance_m - planned.hold_last_m
        lines.append(
            f"held cadence {planned.held_cadence_spm:.1f} spm from {from_m:g} m "
            f"({_clock(planned.hold_start_s)} after the gun) to the finish"
        )
    return lines


def render_line(track: Track, job: Job, path: str | os.PathLike[str], music: MusicMix | None = None) -> str:
    """One line for a pipe or a log: file, length, where the gun is, how many clicks (``music``: as above)."""
    echo_report(music)  # with --music: one line per song on stderr (tempo, confidence, stretch)
    gun = f"gun at {track.origin_frame / track.samplerate:.2f} s, "
    if job.session is not None:
        what = f"{len(job.reps)} reps, first {gun}"
    else:
        what = "" if job.is_metronome else gun
    return (
        f"wrote {os.fspath(path)}: {track.duration_s:.1f} s, {what}{len(job.schedule.steps_s)} clicks, "
        f"{track.samplerate} Hz stereo"
    )


def _clock(seconds: float) -> str:
    return format_time(seconds, unit=True)
