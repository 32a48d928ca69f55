"""Music benchmark (issue 16): prints figures, asserts nothing.

    /path/to/venv/bin/python bench/bench_music.py [--runs 3] [--minutes 16]

Needs the music dependencies (librosa, pyloudnorm, soxr), the ``rubberband`` program (apt-get install rubberband-cli)
and, for the synthetic songs it borrows from tests/test_music.py, pytest and aubio.

Figures, with the targets from the issue:
  * a 51 s race with one 24 s song (looped): load from FLAC, detect beats, stretch, join, normalise (target < 5 s),
    in-process after the imports; the first run also pays librosa's import and is shown apart;
  * a plan of ``--minutes`` (16) minutes at a drifting cadence with three 3-minute songs: whole pipeline as above, as
    a multiple of real time (target ≥ 20×), with where the time goes;
  * the whole command line (``stridebeat render``: plan, voice, music, mix, WAV written): the 51 s race, in a fresh
    process and in a warm one, and the 16-minute session rhythm-3x500 with the three songs, in a fresh process.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

from stridebeat.music.analysis import detect_beats, load_song  # noqa: E402
from stridebeat.music.plan import music_track  # noqa: E402
from test_music import SR, beat_grid, race_steps, synth_song  # noqa: E402


def pipeline(paths: list[Path], steps: np.ndarray) -> dict[str, float]:
    t0 = time.perf_counter()
    songs = [load_song(p, SR) for p in paths]
    t1 = time.perf_counter()
    grids = [detect_beats(s, SR, name=p.name) for s, p in zip(songs, paths, strict=True)]
    t2 = time.perf_counter()
    track, report = music_track(songs, grids, steps, SR)
    t3 = time.perf_counter()
    return {
        "load": t1 - t0,
        "detect": t2 - t1,
        "track": t3 - t2,
        "total": t3 - t0,
        "music_s": (report.end_frame - report.start_frame) / SR,
        "spans": len(report.spans),
    }


def long_plan(minutes: float) -> np.ndarray:
    """Footstrikes over ``minutes`` at a cadence drifting slowly between 222 and 234 steps per minute."""
    dt = 0.001
    t = np.arange(0.0, minutes * 60 + dt, dt)
    spm = 228 + 6 * np.sin(2 * np.pi * t / 240.0)
    phase = np.r_[0.0, np.cumsum(0.5 * (spm[1:] + spm[:-1]) / 60.0 * dt)]
    return np.interp(np.arange(int(phase[-1]) + 1), phase, t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--minutes", type=float, default=16.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-music-") as tmp:
        folder = Path(tmp)
        race_song = folder / "race.flac"
        sf.write(race_song, synth_song(beat_grid(120, 24), 24), SR)
        long_songs = []
        for i, bpm in enumerate((114.0, 118.0, 116.0)):
            path = folder / f"song{i}.flac"
            sf.write(path, synth_song(beat_grid(bpm, 180), 180, swing=0.5 + 0.08 * i, seed=i), SR)
            long_songs.append(path)

        race = race_steps()
        first = pipeline([race_song], race)
        print(f"51 s race, first run (imports included): {first['total']:.2f} s")
        runs = [pipeline([race_song], race) for _ in range(args.runs)]
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(
            f"51 s race, median of {args.runs}: {med['total']:.2f} s (target < 5 s) — load {med['load']:.2f}, "
            f"detect {med['detect']:.2f}, stretch+join+loudness {med['track']:.2f}; {med['music_s']:.1f} s of music"
        )

        plan = long_plan(args.minutes)
        r = pipeline(long_songs, plan)
        real = plan[-1]
        print(
            f"{args.minutes:g}-minute plan, 3 songs of 3 min: {r['total']:.1f} s = "
            f"{real / r['total']:.1f}× real time (target ≥ 20×) — load {r['load']:.1f}, "
            f"detect {r['detect']:.1f}, stretch+join+loudness {r['track']:.1f}; {r['spans']:.0f} spans"
        )

        # The whole command line: plan, voice, track, music, mix, WAV and timeline written.
        race_args = ["render", "--time", "51", "--music", str(race_song), "-o", str(folder / "race.wav"), "--force"]
        cold = cli_fresh(race_args)
        warm = statistics.median(cli_in_process(race_args) for _ in range(args.runs + 1))
        print(
            f"whole CLI, 51 s race with music: {cold:.2f} s in a fresh process (librosa's import included, "
            f"target < 5 s), {warm:.2f} s in a warm process"
        )
        session = [
            "render",
            "rhythm-3x500",
            "--music",
            ",".join(map(str, long_songs)),
            "-o",
            str(folder / "session.wav"),
            "--force",
        ]
        cold = cli_fresh(session)
        length = sf.info(folder / "session.wav").duration
        print(
            f"whole CLI, {length / 60:.1f}-minute session (rhythm-3x500) with music: {cold:.1f} s in a fresh process "
            f"= {length / cold:.1f}× real time (target ≥ 20×)"
        )


def cli_fresh(argv: list[str]) -> float:
    """Wall time of ``stridebeat ARGV`` in a new Python process."""
    code = "import sys; from stridebeat.cli import main; main(sys.argv[1:])"
    t0 = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    subprocess.run([sys.executable, "-c", code, *argv], check=True, capture_output=True, env=env)
    return time.perf_counter() - t0


def cli_in_process(argv: list[str]) -> float:
    """Wall time of ``stridebeat ARGV`` run by ``stridebeat.cli.main`` in this process (imports already paid)."""
    from stridebeat.cli import main

    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            main(argv)
        except SystemExit as exc:
            assert not exc.code, exc.code
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
