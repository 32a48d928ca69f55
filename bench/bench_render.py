"""Render benchmark: prints figures, asserts nothing (speed is measured here, never in the test suite).

    python bench/bench_render.py [--runs 10]

Figures, with the targets from the issue:
  * whole-process time of `stridebeat render --time 51 -o x.wav` against a plain 51 s click track made by sox,
    run alternately in the same loop (ratio target ≤ 1.0);
  * in-process render speed as a multiple of real time (target ≥ 1000×), for rendering alone and with the WAV encode;
  * time and peak memory of rendering a 60-minute metronome track (target < 200 MB);
  * `stridebeat --help` (target < 150 ms).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SOX = ["sox", "-n", "-r", "44100", "-c", "2", "-b", "16", "sox.wav", "synth", "0.005", "sine", "1000",
       "pad", "0", "0.245", "repeat", "203"]


def stridebeat_cmd(*args: str) -> list[str]:
    exe = shutil.which("stridebeat", path=str(Path(sys.executable).parent)) or shutil.which("stridebeat")
    return [exe, *args] if exe else [sys.executable, "-m", "stridebeat", *args]


def wall(cmd: list[str], cwd: str) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def peak_rss_mb(cmd: list[str], cwd: str) -> tuple[float, float]:
    """Wall time and peak resident memory of one child process (its own, via wait4)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed with exit code {proc.returncode}")
    return time.perf_counter() - t0, usage.ru_maxrss / 1024.0  # ru_maxrss is in KiB on Linux


def in_process(runs: int) -> tuple[float, float, float]:
    from stridebeat.export import export_track
    from stridebeat.job import prepare
    from stridebeat.render import Renderer

    track = prepare({"time": "51"}).track()
    best_render = best_total = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs):
            t0 = time.perf_counter()
            for _block in Renderer(track).blocks():
                pass
            t1 = time.perf_counter()
            job = prepare({"time": "51"})
            export_track(job.track(), Path(tmp) / "x.wav", force=True)
            t2 = time.perf_counter()
            best_render, best_total = min(best_render, t1 - t0), min(best_total, t2 - t1)
    return track.duration_s, best_render, best_total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--minutes", type=float, default=60.0, help="length of the long metronome track")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as cwd:
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
        ours, theirs = [], []
        have_sox = shutil.which("sox") is not None
        wall(stridebeat_cmd("render", "--time", "51", "-o", "x.wav", "-f"), cwd)  # warm the page cache
        for _ in range(args.runs):
            ours.append(wall(stridebeat_cmd("render", "--time", "51", "-o", "x.wav", "-f"), cwd))
            if have_sox:
                theirs.append(wall(SOX, cwd))
        med_ours = statistics.median(ours)
        print(f"stridebeat render --time 51 -o x.wav   median {med_ours * 1000:7.1f} ms  (min {min(ours) * 1000:.1f})")
        if have_sox:
            med_sox = statistics.median(theirs)
            print(f"sox 51 s click track                   median {med_sox * 1000:7.1f} ms  (min {min(theirs) * 1000:.1f})")
            print(f"ratio stridebeat / sox                 {med_ours / med_sox:7.2f}   (target <= 1.0)")
        else:
            print("sox not installed: apt-get install sox for the side-by-side figure")

        helps = [wall(stridebeat_cmd("--help"), cwd) for _ in range(args.runs)]
        print(f"stridebeat --help                      median {statistics.median(helps) * 1000:7.1f} ms  (target < 150)")

        duration, render_s, total_s = in_process(args.runs)
        print(f"in-process render of {duration:.1f} s          {duration / render_s:9.0f}x real time (blocks only)")
        print(f"in-process plan + render + WAV write   {duration / total_s:9.0f}x real time   (target >= 1000)")

        minutes = f"{args.minutes:g}m"
        secs, rss = peak_rss_mb(stridebeat_cmd("render", "--cadence", "180", "--duration", minutes, "-o", "long.wav"),
                                cwd)
        size = Path(cwd, "long.wav").stat().st_size / 1e6
        print(f"{args.minutes:g}-minute metronome track            {secs:7.2f} s, peak memory {rss:6.1f} MB "
              f"(target < 200), file {size:.0f} MB")


if __name__ == "__main__":
    main()
