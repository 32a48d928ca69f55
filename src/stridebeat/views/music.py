"""The music of a job as data and as lines: each song's span and beat-to-step map, what was detected.

The music comes as a ``MusicMix``: what a render played (``stridebeat.music.job.track_with_music``) or what a plan
will play (``stridebeat.music.job.plan_music``, nothing stretched); both give the same entries, so
``render --timeline`` and ``plan --json`` share one vocabulary.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # the music package loads only for a job with music
    from stridebeat.music.job import MusicMix


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
                    "bpm": round(float(song.bpm or 0.0), 3),  # a song in a span was analysed
                    "confidence": round(float(song.confidence or 0.0), 3),
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


def music_lines(mix: MusicMix) -> list[str]:
    """One line per song: what was detected, and the stretch it got (a song that never played in a rep was not
    analysed: its line says where it played, if anywhere)."""
    every = "/".join(sorted({r.every for r in mix.reps}))
    lines = []
    for i, song in enumerate(mix.songs):
        spans = [sp for r in mix.reps for sp in r.spans if sp.song == i]
        if spans:
            lo, hi = min(sp.stretch_min for sp in spans), max(sp.stretch_max for sp in spans)
            stretch = f"stretched {lo:.3f}–{hi:.3f}×"
        elif i in mix.rest_songs:
            stretch = "only in the rests (unstretched)"
        else:
            stretch = "not played"
        if song.bpm is None:
            lines.append(f"music: {song.name}: {stretch}")
            continue
        how = "given" if song.method == "given" else f"confidence {song.confidence:.2f}"
        lines.append(f"music: {song.name}: {song.bpm:.1f} bpm ({how}), {stretch}, a beat every {every}")
    return lines


def report_lines(mix: MusicMix | None) -> list[str]:
    """One line per song: detected tempo, confidence, stretch range, the beat (empty without music)."""
    return [] if mix is None else music_lines(mix)


def echo_report(mix: MusicMix | None) -> None:
    """Print ``report_lines`` on stderr: what was detected is a diagnostic, not the command's output."""
    import sys

    for line in report_lines(mix):
        print(line, file=sys.stderr)
