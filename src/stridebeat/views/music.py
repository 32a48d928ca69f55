"""The music of a job as data and as lines: each song's span and beat-to-step map, what was detected.

The music comes as a ``MusicMix``: what a render played (``Job.track_with_music``) or what a plan will play
(``config.music.plan_music``, nothing stretched); both give the same entries, so ``render --timeline`` and
``plan --json`` share one vocabulary.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stridebeat.config.music import MusicMix, music_lines


def timeline_music(mix: MusicMix) -> list[dict[str, Any]]:
    """One entry per song span, times on the job's clock: the song and its detected tempo (bpm, confidence, how it
    was found), the beat (every step or stride), the span, its stretch range, and every beat with the index (into
    the timeline's ``steps``) of the footstrike it lands on."""
    out = []
    first_step = 0
    for report, steps in zip(mix.reps, mix.rep_steps, strict=True):
        for sp in report.spans:
            mask = (report.beat_step >= sp.first_step) & (report.beat_step <= sp.last_step)
            local = report.beat_step[mask]
            song = mix.songs[sp.song]
            out.append(
                {
                    "song": song.name,
                    "bpm": round(float(song.bpm), 3),
                    "confidence": round(float(song.confidence), 3),
                    "method": song.method,
                    "every": report.every,
                    "start_s": round(float(sp.start_s), 6),
                    "end_s": round(float(sp.end_s), 6),
                    "stretch": [round(sp.stretch_min, 4), round(sp.stretch_max, 4)],
                    "beats": [[round(float(steps[i]), 9), int(first_step + i)] for i in np.asarray(local)],
                }
            )
        first_step += len(steps)
    return out


def report_lines(mix: MusicMix | None) -> list[str]:
    """One line per song: detected tempo, confidence, stretch range, the beat (empty without music)."""
    return [] if mix is None else music_lines(mix)


def echo_report(mix: MusicMix | None) -> None:
    """Print ``report_lines`` on stderr: what was detected is a diagnostic, not the command's output."""
    import sys

    for line in report_lines(mix):
        print(line, file=sys.stderr)
