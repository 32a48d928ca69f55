"""Render benchmark: prints figures, asserts nothing (speed is measured here, never in the test suite).

    python -m venv /tmp/bench && /tmp/bench/bin/pip install .    # a clean install, as a user has it
    /tmp/bench/bin/python bench/bench_render.py [--runs 15]

Run it with the interpreter of a clean virtual environment: an interpreter whose site-packages run .pth hooks at start
(a system-wide Python with certificate shims, an editable install) adds its own start-up to every figure.

Figures, with the targets from the issue:
  * whole-process time of `stridebeat render --time 51 -o x.wav` against a plain 51 s click track made by sox, run
    alternately in rounds (ratio target ≤ 1.0). The ratio is paired: the median over rounds of each round's own
    ratio, as paired benchmarking does (tango-bench), because this machine is a shared host whose speed drifts over
    seconds to minutes, and a slow spell slows the Python process (imports, page faults) more than sox; the ratio of
    the two columns' medians is printed beside it. Two reference rows run in the same rounds: the interpreter's bare
    start, and importing numpy and click, the product card's fixed dependencies, which no render can avoid;
  * where the in-process time of that render goes (plan, voice, track, render and write);
  * in-process render speed as a multiple of real time (target ≥ 1000×), for rendering alone and with plan, voice and
    the WAV write;
  * time and peak memory of rendering a 60-minute metronome track (target < 200 MB);
  * `stridebeat --help` (target < 150 ms).
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

SOX = [
    "sox",
    "-n",
    "-r",
    "44100",
    "-c",
    "2",
    "-b",
    "16",
    "sox.wav",
    "synth",
    "0.005",
    "sine",
    "1000",
    "pad",
    "0",
    "0.245",
    "repeat",
    "203",
]


# As the CLI starts and ends (cli/__init__.py): one BLAS thread, no cyclic garbage collection, no interpreter teardown.
FLOOR = (
    "import gc, os; os.environ.setdefault('OPENBLAS_NUM_THREADS', '1'); gc.disable(); import numpy, click; os._exit(0)"
)


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


def block_render_s(runs: int) -> tuple[float, float]:
    """(track duration, best time to render every block of it) for the 51 s race, in-process."""
    from stridebeat.job import prepare
    from stridebeat.render import Renderer

    track = prepare({"time": "51"}).track()
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        for _block in Renderer(track).blocks():
            pass
        best = min(best, time.perf_counter() - t0)
    return track.duration_s, best


def stages(runs: int) -> tuple[dict[str, float], float]:
    """In-process `render --time 51`, ``runs`` times in one process: the median milliseconds of each stage, and the
    best whole run (plan to written file) in seconds, the usual statistic of a micro-benchmark."""
    from stridebeat.job import prepare
    from stridebeat.track import build_track

    from stridebeat import speech
    from stridebeat.export import export_track

    rows: dict[str, list[float]] = {k: [] for k in ("plan", "voice", "track", "render + write")}
    best = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs):
            t0 = time.perf_counter()
            job = prepare({"time": "51"})
            t1 = time.perf_counter()
            spoken = speech.speech_events(job.schedule, job.voice, job.sound.samplerate)
            t2 = time.perf_counter()
            track = build_track(job.schedule, job.sound, speech=spoken, duck_db=job.voice.duck_db)
            t3 = time.perf_counter()
            export_track(track, Path(tmp) / "x.wav", force=True, markers=True)
            t4 = time.perf_counter()
            for key, value in zip(rows, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                rows[key].append(value * 1000)
            best = min(best, t4 - t0)
    return {k: statistics.median(v) for k, v in rows.items()}, best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=31)
    ap.add_argument("--minutes", type=float, default=60.0, help="length of the long metronome track")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as cwd:
        print(
            f"python {sys.version.split()[0]} ({sys.executable}), {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}"
        )
        render = stridebeat_cmd("render", "--time", "51", "-o", "x.wav", "-f")
        rows = {
            "stridebeat render --time 51 -o x.wav": render,
            "sox 51 s click track": SOX if shutil.which("sox") else None,
            "python -c 'import numpy, click'": [sys.executable, "-c", FLOOR],
            "python -c pass": [sys.executable, "-c", "pass"],
        }
        times: dict[str, list[float]] = {name: [] for name, cmd in rows.items() if cmd}
        wall(render, cwd)  # warm the page cache
        for _ in range(args.runs):  # alternately, so a busy moment of the machine hits every row alike
            for name in times:
                times[name].append(wall(rows[name], cwd))
        med = {name: statistics.median(t) for name, t in times.items()}
        for name, t in times.items():
            print(f"{name:38s} median {med[name] * 1000:7.1f} ms  (min {min(t) * 1000:.1f})")
        sox = med.get("sox 51 s click track")
        if sox:
            ours, floor = med["stridebeat render --time 51 -o x.wav"], med["python -c 'import numpy, click'"]
            # Paired: each round's own ratio compares two runs a fraction of a second apart, so the machine's drift
            # between rounds (a shared host) cancels out; the ratio of the column medians does not cancel it.
            rounds = sorted(
                r / s
                for r, s in zip(
                    times["stridebeat render --time 51 -o x.wav"], times["sox 51 s click track"], strict=True
                )
            )
            print(
                f"ratio stridebeat / sox, paired         {statistics.median(rounds):7.2f}   (target <= 1.0; median "
                f"of the rounds' ratios, middle half {rounds[len(rounds) // 4]:.2f}–"
                f"{rounds[(3 * len(rounds)) // 4]:.2f})"
            )
            print(f"ratio stridebeat / sox, of the medians {ours / sox:7.2f}   (moves with the drift between rounds)")
            print(f"ratio import numpy, click / sox        {floor / sox:7.2f}   (the floor: what no render avoids)")
        else:
            print("sox not installed: apt-get install sox for the side-by-side figure")

        helps = [wall(stridebeat_cmd("--help"), cwd) for _ in range(args.runs)]
        print(f"{'stridebeat --help':38s} median {statistics.median(helps) * 1000:7.1f} ms  (target < 150)")

        stage_ms, total_s = stages(args.runs)
        print("in-process stages of that render (median ms): " + ", ".join(f"{k} {v:.1f}" for k, v in stage_ms.items()))
        duration, render_s = block_render_s(args.runs)
        print(f"in-process render of {duration:.1f} s          {duration / render_s:9.0f}x real time (blocks only)")
        print(f"in-process plan + render + WAV write   {duration / total_s:9.0f}x real time, best run (target >= 1000)")

        minutes = f"{args.minutes:g}m"
        secs, rss = peak_rss_mb(
            stridebeat_cmd("render", "--cadence", "180", "--duration", minutes, "-o", "long.wav"), cwd
        )
        size = Path(cwd, "long.wav").stat().st_size / 1e6
        print(
            f"{args.minutes:g}-minute metronome track            {secs:7.2f} s, peak memory {rss:6.1f} MB "
            f"(target < 200), file {size:.0f} MB"
        )


if __name__ == "__main__":
    main()
