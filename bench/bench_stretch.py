"""Time-stretch quality benchmark (issue 16, "a proper time-stretch"): prints figures, asserts nothing.

    /path/to/venv/bin/python bench/bench_stretch.py [--ratios 0.87,1.0,1.17]

Needs the ``rubberband`` program (apt-get install rubberband-cli), soundfile and scipy (the music extra), and borrows
the synthetic songs of tests/test_music.py.

What it compares: stridebeat's engines (``--music-stretch``: clean, the default, R3 with its short window; crisp, R2
at crispness 6; fine, R3 with its standard window) and Rubber Band's other R2 settings, with R3 finer (the library's
highest-quality setting) as the reference column, on three test signals stretched through a beat time map at each
ratio (played faster > 1):

  * transients: a train of isolated kicks with a hat on top. Pre-echo (energy in the 30 ms before each planned attack
    against the 30 ms after, dB; smearing spreads energy before the attack), attack rise time (10 → 90 % of the
    1 ms envelope's peak) and the attack's distance from its planned frame (the anchor error);
  * tonal phasiness: a steady three-note chord. The spread of each partial's amplitude over 186 ms frames (phase
    vocoders that lose phase coherence make partials beat) and the energy more than 25 Hz from any partial
    (smearing in frequency), dB under the partials;
  * a join check: the largest sample-to-sample step of the stretched chord against the unstretched one's (a click
    shows as a step far above the signal's own);
  * kicks in a mix, per engine: the three synthetic songs of tests/test_music.py (straight, tempo change, swing; kick,
    snare, hats, bass and chords) rendered over the 51 s race, and the share of the planned beats on which the tests'
    independent checker (aubio on the kick band) finds a kick within 15 ms. A softened low attack shows here.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

from stridebeat.music.stretch import ENGINES, timemap_stretch  # noqa: E402
from test_music import SR, _decay  # noqa: E402

SETTINGS = {
    "R3 short (clean)": ENGINES["clean"],
    "R2 c6 (crisp)": ENGINES["crisp"],
    "R2 c5 (default)": ("-2",),
    "R2 c5 short": ("-2", "--window-short"),
    "R2 c4": ("-2", "-c", "4"),
    "R2 c3": ("-2", "-c", "3"),
    "R3 finer (fine)": ENGINES["fine"],
}
REFERENCE = "R3 finer (fine)"
BPM = 120.0
SECONDS = 12.0
CHORD_HZ = (220.0, 277.18, 329.63)


def kick_train(beats_s: np.ndarray, n: int) -> np.ndarray:
    """Isolated kicks (a 45 Hz body with a pitch drop) and a short hat on every beat: sharp, known attacks."""
    out = np.zeros(n)
    tk = np.arange(round(0.2 * SR)) / SR
    kick = np.sin(2 * np.pi * (45 * tk + 75 * 0.03 * (1 - np.exp(-tk / 0.03)))) * _decay(tk.size, 0.08)
    hat = np.random.default_rng(1).standard_normal(round(0.03 * SR)) * _decay(round(0.03 * SR), 0.005) * 0.3
    for b in beats_s:
        i = round(b * SR)
        out[i : i + kick.size] += kick[: n - i]
        out[i : i + hat.size] += hat[: n - i]
    return (0.5 * out).astype(np.float32)


def chord(n: int) -> np.ndarray:
    t = np.arange(n) / SR
    return (0.2 * sum(np.sin(2 * np.pi * f * t) for f in CHORD_HZ)).astype(np.float32)


def beat_map(ratio: float, n: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Source and target frames of every beat, played ``ratio`` times faster; the output's length."""
    beats = np.arange(0.5, SECONDS - 0.5, 60.0 / BPM)
    src = np.round(beats * SR).astype(np.int64)
    tgt = np.round(beats / ratio * SR).astype(np.int64)
    return src, tgt, int(round(n / ratio))


def envelope(x: np.ndarray) -> np.ndarray:
    """Rectified signal smoothed over 1 ms."""
    k = max(1, round(0.001 * SR))
    return np.convolve(np.abs(x), np.ones(k) / k, mode="same")


def transient_figures(y: np.ndarray, planned: np.ndarray) -> tuple[float, float, float]:
    """Median pre-echo (dB), rise time (ms) and |attack − planned| (ms) over the planned attacks."""
    env = envelope(y)
    w = round(0.03 * SR)
    pre, rise, err = [], [], []
    for p in planned[1:-1]:
        before = float(np.sum(y[p - w : p - round(0.002 * SR)] ** 2)) + 1e-20
        after = float(np.sum(y[p : p + w] ** 2)) + 1e-20
        pre.append(10 * np.log10(before / after))
        seg = env[p - w : p + w]
        peak = float(seg.max())
        first10 = int(np.argmax(seg >= 0.1 * peak))
        first90 = int(np.argmax(seg >= 0.9 * peak))
        rise.append((first90 - first10) / SR * 1000)
        err.append(abs(first10 - w) / SR * 1000)
    return float(np.median(pre)), float(np.median(rise)), float(np.median(err))


def tonal_figures(y: np.ndarray) -> tuple[float, float]:
    """Partial amplitude spread (dB, median over partials of the std of 20·log10 amplitude) and off-partial energy
    (dB under the partials), from 8192-point Hann frames (186 ms) in the steady middle."""
    mono = y[round(1.0 * SR) : -round(1.0 * SR)]
    frame, hop = 8192, 2048
    win = np.hanning(frame)
    frames = np.lib.stride_tricks.sliding_window_view(mono, frame)[::hop] * win
    spec = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    freqs = np.fft.rfftfreq(frame, 1 / SR)
    spreads = []
    near = np.zeros(freqs.size, dtype=bool)
    for f in CHORD_HZ:
        band = np.abs(freqs - f) <= 25.0
        near |= band
        amp = 10 * np.log10(spec[:, band].sum(axis=1) + 1e-20)
        spreads.append(float(np.std(amp)))
    off = float(spec[:, ~near & (freqs > 40) & (freqs < 8000)].sum()) + 1e-20
    on = float(spec[:, near].sum()) + 1e-20
    return float(np.median(spreads)), 10 * np.log10(off / on)


def max_step(y: np.ndarray) -> float:
    return float(np.max(np.abs(np.diff(y[round(0.5 * SR) : -round(0.5 * SR)]))))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ratios", default="0.87,1.0,1.17", help="stretch ratios to test (played faster > 1)")
    args = ap.parse_args()
    n = round(SECONDS * SR)
    beats = np.arange(0.5, SECONDS - 0.5, 60.0 / BPM)
    kicks, tones = kick_train(beats, n), chord(n)
    base_pre, base_rise, _ = transient_figures(kicks, np.round(beats * SR).astype(np.int64))
    base_spread, base_off = tonal_figures(tones)
    print(
        f"unstretched: pre-echo {base_pre:.1f} dB, rise {base_rise:.2f} ms; partial spread {base_spread:.2f} dB, "
        f"off-partial {base_off:.1f} dB, largest step {max_step(tones):.4f}"
    )
    for ratio in (float(r) for r in args.ratios.split(",")):
        src, tgt, out_n = beat_map(ratio, n)
        rows = {}
        for name, engine in SETTINGS.items():
            t0 = time.perf_counter()
            yk = timemap_stretch(kicks[:, None], SR, src, tgt, out_n, engine_args=engine)[:, 0]
            yt = timemap_stretch(tones[:, None], SR, src, tgt, out_n, engine_args=engine)[:, 0]
            secs = time.perf_counter() - t0
            rows[name] = (*transient_figures(yk, tgt), *tonal_figures(yt), max_step(yt) / max_step(tones), secs)
        ref = rows[REFERENCE]
        print(f"\nratio {ratio:.2f} (played {ratio:.2f}× as fast); in brackets: the figure minus {REFERENCE}'s")
        print(
            f"  {'setting':16s} {'pre-echo dB':>16s} {'rise ms':>14s} {'anchor ms':>14s} {'spread dB':>14s} "
            f"{'off-partial dB':>17s} {'step ×':>7s} {'time s':>7s}"
        )
        for name, r in rows.items():
            cells = [f"{v:6.2f} ({v - rv:+6.2f})" for v, rv in zip(r[:5], ref[:5], strict=True)]
            print(
                f"  {name:16s} {cells[0]:>16s} {cells[1]:>14s} {cells[2]:>14s} {cells[3]:>14s} {cells[4]:>17s} "
                f"{r[5]:7.2f} {r[6]:7.2f}"
            )
    mix_figures()
    return 0


def mix_figures() -> None:
    from stridebeat.music.analysis import detect_beats
    from stridebeat.music.plan import music_track
    from test_music import SONGS, TONE_HZ, hit_rates, kick_onsets, race_steps, synth_song

    race = race_steps()
    print("\nkicks in a mix, 51 s race: planned beats with a kick found within 15 ms (stretch range in brackets)")
    for engine, args in ENGINES.items():
        cells = []
        for kind, (beats, kw) in SONGS.items():
            song = synth_song(beats, 24, tone_hz=TONE_HZ, **kw)
            track, report = music_track([song], [detect_beats(song, SR)], race, SR, engine_args=args)
            _, covered, _ = hit_rates(kick_onsets(track), race, race[report.beat_step])
            cells.append(f"{kind} {covered:6.1%} ({report.stretch_min:.2f}–{report.stretch_max:.2f}×)")
        print(f"  {engine:6s} " + "; ".join(cells))


if __name__ == "__main__":
    sys.exit(main())
