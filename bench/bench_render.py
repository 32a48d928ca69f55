"""Render benchmark: prints figures beside their targets, asserts nothing (speed is measured here, never in tests).

    python -m venv /tmp/bench && /tmp/bench/bin/pip install .    # a clean install, as a user has it
    /tmp/bench/bin/python bench/bench_render.py [--rounds 11]

Each row runs alternately with its reference in rounds, so a busy moment of this shared host hits both alike; a
ratio is the median over rounds of each round's own ratio (paired), with the ratio of the two medians beside it.

  * whole-process `stridebeat render --time 51 -o x.wav` against sox making a plain 51 s click track (target: at most
    1.5 × sox);
  * the 16-minute session `rhythm-3x500` against sox making a click track of the same length and sample format
    (target: at least 5 × faster than sox);
  * peak memory of rendering tracks of 1 and 10 hours in one process (target: flat, under 100 MB for 10 hours);
  * `stridebeat --help` (target: under 150 ms).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SESSION_S = 971.8  # the length of the rhythm-3x500 render (lead-in, three reps, two rests, tail)


def sox_clicks(seconds: float) -> list[str]:
    """sox writing a click track: a 5 ms 1 kHz click every 0.25 s, 44.1 kHz stereo 16-bit, ``seconds`` long."""
    repeats = round(seconds / 0.25) - 1
    return ["sox", "-n", "-r", "44100", "-c", "2", "-b", "16", "sox.wav", "synth", "0.005", "sine", "1000",
            "pad", "0", "0.245", "repeat", str(repeats)]  # fmt: skip


def stridebeat_cmd(*args: str) -> list[str]:
    exe = shutil.which("stridebeat", path=str(Path(sys.executable).parent)) or shutil.which("stridebeat")
    return [exe, *args] if exe else [sys.executable, "-m", "stridebeat", *args]


def wall(cmd: list[str], cwd: str) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def paired(name: str, ours: list[str], ref: list[str], rounds: int, cwd: str) -> tuple[float, float]:
    """Run ``ours`` and ``ref`` alternately; print and return (paired ratio, ratio of medians)."""
    wall(ours, cwd)  # warm the page cache
    a, b = [], []
    for _ in range(rounds):
        a.append(wall(ours, cwd))
        b.append(wall(ref, cwd))
    ratio = statistics.median(x / y for x, y in zip(a, b))
    of_medians = statistics.median(a) / statistics.median(b)
    print(f"{name}: stridebeat median {statistics.median(a):.3f} s, sox median {statistics.median(b):.3f} s")
    return ratio, of_medians


PEAK = """
import resource, sys
import stridebeat
from stridebeat.core.session import job_track
from stridebeat.core.render import Renderer
job = stridebeat.build_job(cadence=180, duration=sys.argv[1], voice="none")
for _ in Renderer(job_track(job)).blocks():
    pass
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def peak_mb(duration: str) -> float:
    done = subprocess.run([sys.executable, "-c", PEAK, duration], capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=11)
    args = ap.parse_args()
    if not shutil.which("sox"):
        raise SystemExit("the reference runs need sox: apt-get install sox")
    print(f"python {sys.version.split()[0]} ({sys.executable}), {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    rows = []
    with tempfile.TemporaryDirectory() as cwd:
        race = paired("race 51 s", stridebeat_cmd("render", "--time", "51", "-o", "x.wav", "-f"), sox_clicks(51.0),
                      args.rounds, cwd)  # fmt: skip
        rows.append(("render --time 51, whole process / sox", race, "<= 1.5"))
        session = paired("session rhythm-3x500", stridebeat_cmd("render", "rhythm-3x500", "-o", "s.wav", "-f"),
                         sox_clicks(SESSION_S), max(3, args.rounds // 3), cwd)  # fmt: skip
        rows.append(("render rhythm-3x500 (16 min) / sox", session, "<= 0.2 (5x faster)"))
        helps = [wall(stridebeat_cmd("--help"), cwd) for _ in range(args.rounds)]
    print()
    print(f"{'figure':42s} {'paired':>8s} {'medians':>8s}  target")
    for name, (ratio, of_medians), target in rows:
        print(f"{name:42s} {ratio:8.2f} {of_medians:8.2f}  {target}")
    print(f"{'stridebeat --help, median':42s} {statistics.median(helps) * 1000:6.0f} ms {'':8s}  < 150 ms")
    one, ten = peak_mb("1h"), peak_mb("10h")
    print(f"{'peak memory, 1 h / 10 h metronome track':42s} {one:5.0f} MB {ten:5.0f} MB  10 h < 100 MB, flat")


if __name__ == "__main__":
    main()
