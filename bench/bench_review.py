"""Review benchmark: how long `stridebeat review` takes on long recordings; prints figures, asserts nothing.

    PYTHONPATH=src:tests python bench/bench_review.py [--rounds 5]

Recordings are simulated as the tests simulate them (tests/review_runs.py: a plan's own speed and cadence, written
with the FIT SDK's Encoder): a session of three 500 m reps with 6 minutes' rest (about 25 minutes of 1 s records),
and the same with an hour-long warm-up, found by laps and without laps (the fastest stretch is searched over the
whole recording). The figure is the median wall time of decoding the file and reviewing it (target: under 2 s for
an hour of 1 s records, the longest session a runner reviews).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import stridebeat
from review_runs import fit_bytes, simulate
from stridebeat.activity import read_activity
from stridebeat.activity.review import review


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    plans = [rep.planned for rep in stridebeat.build_job("rhythm-3x500").reps]
    cases = [
        ("3 x 500 m, 25 min, laps", dict(rest_s=360.0)),
        ("3 x 500 m, 25 min, no laps", dict(rest_s=360.0, lap_per_rep=False)),
        ("3 x 500 m + 1 h warm-up, laps", dict(rest_s=360.0, warmup_s=3600.0)),
        ("3 x 500 m + 1 h warm-up, no laps", dict(rest_s=360.0, warmup_s=3600.0, lap_per_rep=False)),
    ]
    with tempfile.TemporaryDirectory() as folder:
        print(f"{'recording':36} {'records':>8} {'FIT MB':>7} {'read s':>7} {'review s':>9}")
        for name, options in cases:
            run = simulate(plans, **options)
            path = Path(folder) / "run.fit"
            path.write_bytes(fit_bytes(run))
            reads, reviews = [], []
            for _ in range(args.rounds):
                t0 = time.perf_counter()
                activity = read_activity(path)
                t1 = time.perf_counter()
                review(activity, plans)
                reviews.append(time.perf_counter() - t1)
                reads.append(t1 - t0)
            size = path.stat().st_size / 1e6
            print(
                f"{name:36} {len(run.time_s):8d} {size:7.2f} {statistics.median(reads):7.3f} "
                f"{statistics.median(reviews):9.3f}"
            )


if __name__ == "__main__":
    main()
