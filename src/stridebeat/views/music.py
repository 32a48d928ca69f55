"""The music of a rendered job as data and as lines: each song's span and beat-to-step map, what was detected."""

from __future__ import annotations

from typing import Any

import numpy as np

from stridebeat.config.jobs import Job
from stridebeat.config.music import MusicMix, music_lines


def _mix(job: Job) -> MusicMix | None:
    """The music of the job's last track (``Job.track`` computes it), or None without music or before a render."""
    if not job.music_mix:
        return None
    return job.music_mix.get(job.sound.samplerate) or next(iter(job.music_mix.values()))


def timeline_music(job: Job) -> list[dict[str, Any]] | None:
    """One entry per song span, times on the job's clock: the span, its stretch range, and every beat with the
    index (into the timeline's ``steps``) of the footstrike it lands on."""
    mix = _mix(job)
    if mix is None:
        return None
    out = []
    first_step = 0
    for report, steps in zip(mix.reps, mix.rep_steps):
        for sp in report.spans:
            mask = (report.beat_step >= sp.first_step) & (report.beat_step <= sp.last_step)
            local = report.beat_step[mask]
            out.append(
                {
                    "song": mix.songs[sp.song].name,
                    "start_s": round(float(sp.start_s), 6),
                    "end_s": round(float(sp.end_s), 6),
                    "stretch": [round(sp.stretch_min, 4), round(sp.stretch_max, 4)],
                    "beats": [[round(float(steps[i]), 9), int(first_step + i)] for i in np.asarray(local)],
                }
            )
        first_step += len(steps)
    return out


def report_lines(job: Job) -> list[str]:
    """One line per song: detected tempo, confidence, stretch range (empty without music)."""
    mix = _mix(job)
    return [] if mix is None else music_lines(mix)


def echo_report(job: Job) -> None:
    """Print ``report_lines`` on stderr: what was detected is a diagnostic, not the command's output."""
    import sys

    for line in report_lines(job):
        print(line, file=sys.stderr)
