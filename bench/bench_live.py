"""Live playback under load: the callback's cost per block and the underflows, against a PulseAudio null sink.

Starts a private PulseAudio server (tests/soundserver.py), keeps every CPU core busy with spinning helper processes,
and plays an open-ended metronome (accents and panning on: the most work per click) through the real player for ten
minutes, timing every callback. Prints the cost per block as a share of the block's duration (median, 99th percentile,
worst) and the underflows PortAudio reported. Targets: median under 1 %, worst under 20 %, no underflow.

    python bench/bench_live.py                 # 10 minutes, every core busy
    python bench/bench_live.py --minutes 0.5   # a quick look
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from soundserver import SoundServer, busy_cpus  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the run (default 10)")
    parser.add_argument("--busy", type=int, default=os.cpu_count() or 1, help="helper processes (default: one a core)")
    parser.add_argument("--cadence", type=float, default=200.0)
    parser.add_argument("--samplerate", type=int, default=48000)
    parser.add_argument("--latency", type=float, default=None, help="output latency in s (default: the player's)")
    args = parser.parse_args()

    server = SoundServer(Path(tempfile.mkdtemp(prefix="stridebeat-bench-")))
    try:
        server.start()
    except (RuntimeError, OSError) as exc:
        print(f"cannot start the sound server: {exc}", file=sys.stderr)
        return 2
    try:
        os.environ.update(server.env)  # before PortAudio starts: it finds the server through these
        return run(args)
    finally:
        server.stop()


def run(args) -> int:
    import stridebeat
    from stridebeat.live.devices import resolve_device
    from stridebeat.live.player import LATENCY_S, Player
    from stridebeat.live.program import program as make_program

    job = stridebeat.build_job(open_ended=True, cadence=args.cadence, accent=4, pan=True, samplerate=args.samplerate)
    program = make_program(job)
    seconds = args.minutes * 60.0
    capacity = int(seconds * args.samplerate / 32) + 1000
    latency = LATENCY_S if args.latency is None else args.latency

    class TimedPlayer(Player):
        """The real callback, timed; the timings go to arrays sized beforehand (no allocation on the audio thread)."""

        costs = np.zeros(capacity)
        frames = np.zeros(capacity, dtype=np.int64)
        n = 0

        def callback(self, outdata, frames, time_info, status):
            t0 = time.perf_counter()
            try:
                super().callback(outdata, frames, time_info, status)
            finally:
                i = self.n
                if i < capacity:
                    self.costs[i] = time.perf_counter() - t0
                    self.frames[i] = frames
                    self.n = i + 1

    player = TimedPlayer(program.source, samplerate=program.samplerate, device=resolve_device(None), latency=latency)
    with busy_cpus(args.busy):
        with player:
            actual_latency = player._stream.latency
            player.wait(seconds)

    n = player.n
    share = player.costs[:n] / (player.frames[:n] / program.samplerate) * 100.0
    blocks = player.frames[:n]
    print(
        f"live playback, {seconds / 60:g} min, {args.busy} busy helper process(es) on {os.cpu_count()} core(s), "
        f"{args.cadence:g} spm, {args.samplerate} Hz, latency {actual_latency * 1e3:.1f} ms"
    )
    print(f"  blocks: {n}, {int(np.min(blocks))}–{int(np.max(blocks))} frames (median {int(np.median(blocks))})")
    print(
        f"  callback cost, share of the block's duration: median {np.median(share):.3f} %, "
        f"99th percentile {np.percentile(share, 99):.3f} %, worst {np.max(share):.3f} %"
    )
    print(f"  underflows: {player.underflows}, other status flags: {player.other_flags}")
    ok = np.median(share) < 1.0 and np.max(share) < 20.0 and player.underflows == 0
    print("  targets (median < 1 %, worst < 20 %, no underflow):", "met" if ok else "NOT met")
    return 0  # figures, not a verdict: the test suite does the asserting


if __name__ == "__main__":
    sys.exit(main())
