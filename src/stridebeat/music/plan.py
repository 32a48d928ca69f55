"""The music for a whole plan: song beats mapped onto footstrikes, songs joined and looped, loudness set.

Mapping. With ``every="step"`` each song beat lands on a footstrike, with ``every="stride"`` on every second one (the
music's beat is then the stride, half the cadence). ``every=None`` takes the one whose stretch is smaller: the largest
|ln factor| over all beat intervals. The stretch factor of an interval is the song's own beat interval over the planned
one (1.05 = played 5 % faster), and it must stay within ``STRETCH_RANGE`` (0.8–1.25×); beyond that the music sounds
bent, and the error suggests the other ``every``, a song near the needed tempo or a later entry.

Entry. The plan starts with an acceleration out of the blocks (about 180 → 235 steps per minute in 5 s, +30 %).
Music that follows it is bent through a tape-like tempo glide that sounds wrong and usually leaves the stretch range,
so by default (``enter_at_s=None``) the music enters at the first footstrike where the cadence is steady: its rate
of change over the next ``STEADY_WINDOW_S`` is under ``STEADY_RATE`` (2 % per second). The plan's clicks carry the
start; the music fades in over ``crossfade_s`` before that footstrike so the song's first beat lands on it at full
level. ``enter_at_s`` sets the entry instead (the first footstrike at or after it; 0 follows the whole acceleration,
where the song's tempo allows it).

Spans and joins. A song is played from its first detected beat for a whole number of bars (4 beats counted from that
beat: downbeats are not detected) while its beats last, then the next song starts on the next beat slot; after the
last song the list starts again (a loop). Each span is one Rubber Band time-map stretch with an anchor on every beat,
so a span has no joins inside. At a join the outgoing song fades out and the incoming one fades in over
``crossfade_s`` ending on the incoming song's first beat (equal-power sine/cosine); the incoming song's audio before
its first beat (up to ``crossfade_s``) is its lead-in. After the last footstrike the music runs on for one beat and
fades out.

Loudness. The whole track gets one gain to ``TARGET_LUFS`` (−16 LUFS integrated, ITU-R BS.1770-4 as pyloudnorm
measures it: ``stridebeat.music.loudness``). Where that would put the true peak (4× oversampled: ``true_peak_dbtp``)
over ``MAX_TRUE_PEAK_DBTP`` (−1 dBTP), a look-ahead peak limiter (``stridebeat.music.limiter``: attack
``LIMIT_ATTACK_S``, release ``LIMIT_RELEASE_S``) lowers the peaks alone; the loudness is then measured again and the
gain corrected, a few times, until the music is within ``LOUDNESS_TOLERANCE_LU`` of the target with its true peak
under the ceiling. The report says how loud it is and how much the limiter took (``limiter``).

``map_music`` is the mapping alone (no audio, no Rubber Band): what ``stridebeat plan`` reports, and what
``music_track`` plays.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal, TypeVar

import numpy as np

from stridebeat.errors import UsageError
from stridebeat.music import limiter
from stridebeat.music.analysis import BeatGrid
from stridebeat.music.limiter import GainStats, true_peak_dbtp
from stridebeat.music.loudness import integrated_lufs
from stridebeat.music.stretch import ENGINE_ARGS, timemap_stretch

__all__ = ["MusicMap", "MusicReport", "SongSpan", "integrated_lufs", "map_music", "music_track", "true_peak_dbtp"]

T = TypeVar("T")
Every = Literal["step", "stride"]
STEPS_PER_BEAT: dict[str, int] = {"step": 1, "stride": 2}
STRETCH_RANGE = (0.8, 1.25)
STEADY_RATE = 0.02  # |d ln(cadence)/dt| in 1/s under which the cadence counts as steady
STEADY_WINDOW_S = 1.0
BEATS_PER_BAR = 4
TARGET_LUFS = -16.0
MAX_TRUE_PEAK_DBTP = -1.0
# Attack 2 ms: a kick's first peak keeps most of its snap while the gain ramp stays far longer than one cycle of the
# treble it shapes; release 80 ms: four periods of a 50 Hz bass note (slower gain moves do not distort it) and yet
# back to full well before the next beat (≥ 250 ms apart at up to 240 steps per minute).
LIMIT_ATTACK_S = 0.002
LIMIT_RELEASE_S = 0.080
LOUDNESS_TOLERANCE_LU = 0.2  # the loop stops this close to the target: a fifth of the smallest loudness step heard
LOUDNESS_ROUNDS = 6  # at most this many measure-and-correct rounds
PAD_S = 0.05  # extra song audio past a span's last anchor, so the stretcher has context there


@dataclass(frozen=True, slots=True, kw_only=True)
class SongSpan:
    """One stretch of one song in the track."""

    song: int  # index into ``songs``
    first_beat: int  # index into that song's ``BeatGrid.beats_s``
    last_beat: int  # the span's last anchor (the next span's first beat lands on its slot)
    first_step: int  # index into ``steps_s`` of the first beat
    last_step: int
    start_s: float  # plan time where the span's audio starts (lead-in included) …
    end_s: float  # … and ends (fade-out included)
    stretch_min: float
    stretch_max: float


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class MusicMap:
    """Where the songs' beats land (``map_music``). Times are on the plan's clock (seconds, as ``steps_s``)."""

    every: Every
    steps_per_beat: int
    entry_step: int  # footstrike on which the first song's first beat lands
    enter_at_s: float  # its time
    stretch_min: float  # factor = song beat interval / planned beat interval (> 1: played faster)
    stretch_max: float
    spans: tuple[SongSpan, ...]
    beat_step: np.ndarray  # for every mapped beat slot: index into steps_s …
    beat_song: np.ndarray  # … the song whose beat lands there (at a join: the incoming song) …
    beat_index: np.ndarray  # … and that beat's index in the song's grid


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class MusicReport(MusicMap):
    """What ``music_track`` did: the map it played, where the music is in the output, and its level."""

    start_frame: int  # first and last+1 frame of the output that carry music
    end_frame: int
    gain_db: float  # applied to the stretched songs
    loudness_lufs: float  # integrated loudness of the result (−inf for silence)
    true_peak_dbtp: float
    limiter: GainStats  # what the peak limiter took away, over the music


@dataclass(frozen=True, slots=True, kw_only=True)
class _Level:
    gain_db: float
    lufs: float
    true_peak_dbtp: float
    limiter: GainStats


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _Span:
    song: int
    first_slot: int
    beats_s: np.ndarray  # source times of the anchors (q + 1 beats)


def steady_entry(steps_s: np.ndarray, *, rate: float = STEADY_RATE, window_s: float = STEADY_WINDOW_S) -> int:
    """Index of the first footstrike from which the cadence changes by less than ``rate`` per second over ``window_s``.

    The cadence of interval i is 1 / (t[i+1] − t[i]); its slope is measured between interval i and the first interval
    ``window_s`` later (or the last one). A plan that never settles gives its last interval.
    """
    t = np.asarray(steps_s, dtype=np.float64)
    if t.size < 3:
        return 0
    ln_cad = -np.log(np.diff(t))
    mid = 0.5 * (t[:-1] + t[1:])
    j = np.minimum(np.searchsorted(mid, mid + window_s), mid.size - 1)
    span = mid[j] - mid
    slope = np.where(span > 0, np.abs(ln_cad[j] - ln_cad) / np.where(span > 0, span, 1.0), 0.0)
    steady = np.flatnonzero(slope <= rate)
    return int(steady[0]) if steady.size else int(mid.size - 1)


def map_music(
    beats: list[BeatGrid],
    steps_s: np.ndarray,
    samplerate: int,
    *,
    every: Every | None = None,
    enter_at_s: float | None = None,
    crossfade_s: float = 0.25,
) -> MusicMap:
    """Where each song's beats land (module docstring: the rules), without stretching anything: which footstrikes,
    which song and beat on each, the stretch factors, each span's start and end. ``music_track`` plays this map.

    Raises ``UsageError`` (one line) for a stretch out of range, too few footstrikes or bad arguments, as
    ``music_track`` does: it is the same check.
    """
    return _map(beats, steps_s, samplerate, every=every, enter_at_s=enter_at_s, crossfade_s=crossfade_s)[0]


def _map(
    beats: list[BeatGrid],
    steps_s: np.ndarray,
    samplerate: int,
    *,
    every: Every | None,
    enter_at_s: float | None,
    crossfade_s: float,
) -> tuple[MusicMap, list[_Span]]:
    steps = _check_steps(steps_s)
    if not beats:
        raise UsageError("no song given; give at least one song file")
    if every is not None and every not in STEPS_PER_BEAT:
        raise UsageError(f"every must be 'step' or 'stride', not {every!r}; choose one or leave it out")
    if not (0.0 <= crossfade_s <= 2.0):
        raise UsageError(f"a crossfade of {crossfade_s:g} s is out of range; give 0 to 2 s")

    if enter_at_s is None:
        entry = steady_entry(steps)
    else:
        after = np.flatnonzero(steps >= enter_at_s - 1e-9)
        if after.size == 0:
            raise UsageError(
                f"music would enter at {enter_at_s:g} s, after the last footstrike ({steps[-1]:.2f} s); "
                "give an earlier time"
            )
        entry = int(after[0])

    options = [every] if every is not None else ["stride", "step"]
    best: tuple[float, str, list[_Span]] | None = None
    for option in options:
        try:
            spans = _map_spans(beats, steps, entry, STEPS_PER_BEAT[option], option)
        except UsageError:  # too few footstrikes left for a beat every stride: steps may still do
            if option == options[-1] and best is None:
                raise
            continue
        worst = max(float(np.max(np.abs(np.log(_factors(sp, steps, entry, STEPS_PER_BEAT[option]))))) for sp in spans)
        if best is None or worst < best[0]:
            best = (worst, option, spans)
    assert best is not None
    _, chosen, spans = best
    k = STEPS_PER_BEAT[chosen]
    _check_range(spans, beats, steps, entry, k, chosen, every is None)

    slots = steps[entry::k]
    xf = round(crossfade_s * samplerate)
    slot_frames = np.rint(slots * samplerate).astype(np.int64)
    tail_frames = int(slot_frames[-1] - slot_frames[-2])
    last_slot = slots.size - 1
    beat_song = np.empty(slots.size, dtype=np.int64)
    beat_index = np.empty(slots.size, dtype=np.int64)
    report_spans: list[SongSpan] = []
    for sp in spans:  # in order: at a join the slot belongs to the incoming song, written last
        q = sp.beats_s.size - 1
        first, last = sp.first_slot, sp.first_slot + q
        f = _factors(sp, steps, entry, k)
        beat_song[first : last + 1] = sp.song
        beat_index[first : last + 1] = np.arange(q + 1)
        step_first, step_last = entry + first * k, entry + last * k
        final = last == last_slot
        report_spans.append(
            SongSpan(
                song=sp.song,
                first_beat=0,
                last_beat=q,
                first_step=step_first,
                last_step=step_last,
                start_s=float(steps[step_first] - min(_lead(sp, f, crossfade_s, samplerate), xf) / samplerate),
                end_s=float(steps[step_last] + (tail_frames / samplerate if final else 0.0)),
                stretch_min=float(f.min()),
                stretch_max=float(f.max()),
            )
        )
    factors = np.concatenate([_factors(sp, steps, entry, k) for sp in spans])
    mapping = MusicMap(
        every=chosen,  # type: ignore[arg-type]
        steps_per_beat=k,
        entry_step=entry,
        enter_at_s=float(steps[entry]),
        stretch_min=float(factors.min()),
        stretch_max=float(factors.max()),
        spans=tuple(report_spans),
        beat_step=entry + k * np.arange(slots.size),
        beat_song=beat_song,
        beat_index=beat_index,
    )
    return mapping, spans


def music_track(
    songs: list[np.ndarray],
    beats: list[BeatGrid],
    steps_s: np.ndarray,
    samplerate: int,
    *,
    every: Every | None = None,
    enter_at_s: float | None = None,
    crossfade_s: float = 0.25,
    origin_frame: int = 0,
    frames: int | None = None,
    target_lufs: float = TARGET_LUFS,
    max_true_peak_dbtp: float = MAX_TRUE_PEAK_DBTP,
    engine_args: tuple[str, ...] = ENGINE_ARGS,
    workers: int | None = None,
    limit: bool = True,
) -> tuple[np.ndarray, MusicReport]:
    """The music for the whole plan as ``(frames, 2)`` float32, and a report (module docstring: the rules).

    ``songs`` are ``(n, 2)`` float32 at ``samplerate`` (``load_song``), ``beats`` their grids (``detect_beats``), in
    play order. Plan time t is output frame ``origin_frame + round(t · samplerate)``; the output has ``frames``
    frames (music past the end is cut) or, when None, ends where the music does. The spans are stretched by up to
    ``workers`` rubberband processes at once (default: one per CPU). Where the beats go is ``map_music``'s.
    ``limit=False`` sets the loudness with one gain and leaves the peaks to a later limiter (the mix's, which limits
    and re-measures the music anyway).
    """
    _check_steps(steps_s)
    if not songs:
        raise UsageError("no song given; give at least one song file")
    if len(songs) != len(beats):
        raise UsageError(f"{len(songs)} songs but {len(beats)} beat grids; give one beat grid per song")
    mapping, spans = _map(beats, steps_s, samplerate, every=every, enter_at_s=enter_at_s, crossfade_s=crossfade_s)
    tracks = [_check_song(s, i) for i, s in enumerate(songs)]
    steps = np.asarray(steps_s, dtype=np.float64)
    entry, k = mapping.entry_step, mapping.steps_per_beat

    slots = steps[entry::k]
    slot_frames = origin_frame + np.rint(slots * samplerate).astype(np.int64)
    xf = round(crossfade_s * samplerate)
    last_slot = slots.size - 1
    tail_frames = int(slot_frames[-1] - slot_frames[-2])
    end_frame_music = int(slot_frames[-1] + tail_frames)
    n_out = frames if frames is not None else max(end_frame_music, 1)
    out = np.zeros((n_out, 2), dtype=np.float32)

    music_start = n_out
    jobs = []
    for sp in spans:
        q = sp.beats_s.size - 1
        first, last = sp.first_slot, sp.first_slot + q
        f = _factors(sp, steps, entry, k)
        tgt_abs = slot_frames[first : last + 1]
        b = sp.beats_s
        post_src = float(f[-1]) * tail_frames / samplerate if last == last_slot else 0.0
        src_end = b[-1] + post_src + PAD_S
        lead = _lead(sp, f, crossfade_s, samplerate)
        i0 = round((b[0] - min(crossfade_s * float(f[0]), float(b[0]))) * samplerate)
        o_start = int(tgt_abs[0]) - lead
        o_end = int(tgt_abs[-1]) + round((src_end - b[-1]) / float(f[-1]) * samplerate)
        chunk = _slice_padded(tracks[sp.song], i0, round(src_end * samplerate))
        src_anchor = np.rint(b * samplerate).astype(np.int64) - i0
        jobs.append([chunk, src_anchor, tgt_abs - o_start, o_end - o_start, o_start, lead])

    def run(job: list) -> np.ndarray:
        chunk, src_anchor, tgt_anchor, n_frames = job[:4]
        job[0] = None  # the stretcher has the song excerpt now: let it go
        return timemap_stretch(chunk, samplerate, src_anchor, tgt_anchor, n_frames, engine_args=engine_args)

    n_workers = max(1, min(workers if workers is not None else (os.cpu_count() or 1), len(jobs)))
    with ThreadPoolExecutor(max_workers=n_workers) as pool:  # each job is a rubberband process: threads suffice
        # map yields in order and forgets each result once taken, so few stretched spans are held at once
        for sp, job, stretched in zip(spans, jobs, pool.map(run, jobs), strict=True):
            o_start = job[4]
            o_end = o_start + job[3]
            q = sp.beats_s.size - 1
            first, last = sp.first_slot, sp.first_slot + q
            final = last == last_slot
            tgt_abs = slot_frames[first : last + 1]
            gain = _envelope(o_start, o_end, int(tgt_abs[0]), int(tgt_abs[-1]), xf, tail_frames if final else None)
            stretched *= gain[:, None]
            _add(out, stretched, o_start)
            del stretched
            music_start = min(music_start, max(o_start + int(np.argmax(gain > 0)), 0))

    music_end = min(end_frame_music, n_out)
    level = _normalise(
        out, samplerate, max(music_start, 0), max(music_end, 0), target_lufs, max_true_peak_dbtp if limit else math.inf
    )
    fields = {name: getattr(mapping, name) for name in MusicMap.__dataclass_fields__}
    report = MusicReport(
        **fields,
        start_frame=int(max(music_start, 0)),
        end_frame=int(max(music_end, 0)),
        gain_db=level.gain_db,
        loudness_lufs=level.lufs,
        true_peak_dbtp=level.true_peak_dbtp,
        limiter=level.limiter,
    )
    return out, report


def _check_steps(steps_s: np.ndarray) -> np.ndarray:
    t = np.asarray(steps_s, dtype=np.float64)
    if t.ndim != 1 or t.size < 3 or not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise UsageError("footstrike times must be a strictly increasing 1-D array of at least 3; check the plan")
    return t


def _check_song(song: np.ndarray, i: int) -> np.ndarray:
    a = np.asarray(song, dtype=np.float32)
    if a.ndim == 1:
        a = np.repeat(a[:, None], 2, axis=1)
    if a.ndim != 2 or a.shape[1] != 2 or a.shape[0] < 2:
        raise UsageError(f"song {i + 1} must be an (n, 2) array, got shape {a.shape}; load it with load_song")
    return a


def _map_spans(beats: list[BeatGrid], steps: np.ndarray, entry: int, k: int, every: str) -> list[_Span]:
    """Songs in order (looping) onto the beat slots steps[entry::k], whole bars per song."""
    n_slots = math.ceil((steps.size - entry) / k)
    if n_slots < 2:
        raise UsageError(
            f"only {n_slots} footstrike left for a beat every {every} after the music enters at "
            f"{steps[entry]:.2f} s; let it enter earlier"
        )
    spans: list[_Span] = []
    slot, song = 0, 0
    while slot < n_slots - 1:
        grid = beats[song % len(beats)].beats_s
        whole_bars = BEATS_PER_BAR * ((grid.size - 1) // BEATS_PER_BAR)
        q = min(max(whole_bars, 1), n_slots - 1 - slot)
        spans.append(_Span(song=song % len(beats), first_slot=slot, beats_s=np.asarray(grid[: q + 1])))
        slot += q
        song += 1
    return spans


def _factors(span: _Span, steps: np.ndarray, entry: int, k: int) -> np.ndarray:
    q = span.beats_s.size - 1
    first = entry + k * span.first_slot
    tgt = steps[first : first + k * q + 1 : k]
    return np.diff(span.beats_s) / np.diff(tgt)


def _check_range(
    spans: list[_Span], beats: list[BeatGrid], steps: np.ndarray, entry: int, k: int, every: str, auto: bool
) -> None:
    lo, hi = STRETCH_RANGE
    for sp in spans:
        f = _factors(sp, steps, entry, k)
        bad = np.flatnonzero((f < lo) | (f > hi))
        if bad.size == 0:
            continue
        worst = int(bad[np.argmax(np.abs(np.log(f[bad])))])
        step = entry + k * (sp.first_slot + worst)
        grid = beats[sp.song]
        step_bpm = 60.0 / float(np.median(np.diff(steps[entry:])))
        other = "step" if every == "stride" else "stride"
        if auto:
            hint = f"choose a song near {step_bpm / 2:.0f} bpm (a beat every stride) or {step_bpm:.0f} bpm (every step)"
        else:
            hint = f"try every={other} or choose a song near {step_bpm / k:.0f} bpm"
        if entry == 0 or steps[step] - steps[entry] < 10.0:
            hint += " or let the music enter later"
        raise UsageError(
            f"song {sp.song + 1} ({grid.bpm:.0f} bpm) would play at {f[worst]:.2f}× its tempo at {steps[step]:.1f} s "
            f"with a beat every {every} (allowed {lo:g}–{hi:g}×); {hint}"
        )


def _slice_padded(audio: np.ndarray, i0: int, i1: int) -> np.ndarray:
    out = np.zeros((i1 - i0, audio.shape[1]), np.float32)
    a, b = max(i0, 0), min(i1, audio.shape[0])
    if b > a:
        out[a - i0 : b - i0] = audio[a:b]
    return out


def _envelope(o_start: int, o_end: int, first: int, last: int, xf: int, tail: int | None) -> np.ndarray:
    """Gain over output frames o_start..o_end: sine fade-in ending at ``first``; cosine fade-out ending at ``last``
    (a join) or, for the final span (``tail`` given), starting at ``last`` and lasting ``tail`` frames."""
    pos = np.arange(o_start, o_end, dtype=np.float64)
    gain = np.ones(pos.size)
    if xf > 0:
        u = np.clip((pos - (first - xf)) / xf, 0.0, 1.0)
        gain *= np.sin(0.5 * np.pi * u)
    else:
        gain *= pos >= first
    if tail is None:
        if xf > 0:
            v = np.clip((last - pos) / xf, 0.0, 1.0)
            gain *= np.sin(0.5 * np.pi * v)
        else:
            gain *= pos < last
    else:
        v = np.clip((last + tail - pos) / max(tail, 1), 0.0, 1.0)
        gain *= np.sin(0.5 * np.pi * v)
    return gain.astype(np.float32)


def _add(out: np.ndarray, chunk: np.ndarray, start: int) -> None:
    a, b = max(start, 0), min(start + chunk.shape[0], out.shape[0])
    if b > a:
        out[a:b] += chunk[a - start : b - start]


def _lead(span: _Span, factors: np.ndarray, crossfade_s: float, samplerate: int) -> int:
    """Output frames of the song's audio before the span's first beat (its lead-in, at most ``crossfade_s``)."""
    pre_src = min(crossfade_s * float(factors[0]), float(span.beats_s[0]))
    return round(pre_src / float(factors[0]) * samplerate)


def _normalise(out: np.ndarray, samplerate: int, start: int, end: int, target_lufs: float, max_tp: float) -> _Level:
    """Scale ``out[start:end]`` in place: loudness to ``target_lufs``, true peak at most ``max_tp`` (module
    docstring: one gain, then the limiter and the loudness loop where the peak needs them)."""
    music = out[start:end]
    if music.shape[0] < round(0.4 * samplerate) or not np.any(music):
        return _Level(gain_db=0.0, lufs=-math.inf, true_peak_dbtp=true_peak_dbtp(music, samplerate),
                      limiter=GainStats.none())  # fmt: skip
    loudness = integrated_lufs(music, samplerate)
    peak = true_peak_dbtp(music, samplerate)
    if not math.isfinite(loudness):
        return _Level(gain_db=0.0, lufs=loudness, true_peak_dbtp=peak, limiter=GainStats.none())
    gain_db = target_lufs - loudness
    if peak + gain_db <= max_tp:  # the peak allows the gain (or no ceiling is asked for): nothing to limit
        music *= np.float32(10.0 ** (gain_db / 20.0))
        return _Level(gain_db=gain_db, lufs=target_lufs, true_peak_dbtp=peak + gain_db, limiter=GainStats.none())
    stem = Limiter(music, samplerate, max_tp)

    def measure(g: float) -> tuple[float, tuple[np.ndarray, np.ndarray, float]]:
        result, block_gain, tp = stem(g)
        return integrated_lufs(result, samplerate), (result, block_gain, tp)

    gain_db, lufs, (result, block_gain, tp) = loudness_loop(measure, gain_db, target_lufs)
    music[...] = result
    return _Level(gain_db=gain_db, lufs=lufs, true_peak_dbtp=tp, limiter=limiter.stats(block_gain))


class Limiter:
    """The music's peak limiter on one piece of audio, for any gain (module docstring): ``limiter(gain_db)`` gives
    the audio raised by ``gain_db`` with its true peak at most ``max_tp`` dBTP, the block gains and the true peak.

    The block peaks are measured once (true peaks where the gains asked so far could bring them near the ceiling);
    a result whose ramps made an inter-sample peak over the ceiling is made again aiming lower.
    """

    def __init__(self, audio: np.ndarray, samplerate: int, max_tp: float = MAX_TRUE_PEAK_DBTP) -> None:
        self.audio = audio
        self.samplerate = samplerate
        self.max_tp = max_tp
        self.aim_db = max_tp - 0.02  # a little under the ceiling: the gain ramps are not band-limited
        self.attack = max(1, round(LIMIT_ATTACK_S * samplerate / limiter.BLOCK))
        self.release = LIMIT_RELEASE_S * samplerate / limiter.BLOCK
        self._covered_db = -math.inf  # the block peaks are true peaks wherever gains up to this bring them near
        self._peaks = np.zeros((0, 2), np.float32)
        self._sample_peak = float(np.max(limiter.block_peaks(audio), initial=0.0))
        self._true_peak_db: float | None = None  # of the audio as given, once needed

    def __call__(self, gain_db: float) -> tuple[np.ndarray, np.ndarray, float]:
        scale = 10.0 ** (gain_db / 20.0)
        bound_db = 20.0 * math.log10(max(self._sample_peak * scale, 1e-12)) + limiter.TRUE_PEAK_SEARCH_DB
        if bound_db <= self.aim_db:  # far under the ceiling even between samples: a plain gain
            if self._true_peak_db is None:
                self._true_peak_db = true_peak_dbtp(self.audio, self.samplerate)
            blocks = -(-self.audio.shape[0] // limiter.BLOCK)
            return self.audio * np.float32(scale), np.ones(blocks), self._true_peak_db + gain_db
        for _ in range(4):
            if gain_db > self._covered_db:
                self._covered_db = gain_db + 6.0
                above = 10.0 ** ((self.aim_db - self._covered_db) / 20.0)
                self._peaks = limiter.block_peaks(self.audio, oversample_above=above)
            result, block_gain = limiter.limit(
                self.audio, scale=10.0 ** (gain_db / 20.0), ceiling=10.0 ** (self.aim_db / 20.0),
                attack=self.attack, release=self.release, peaks=self._peaks,
            )  # fmt: skip
            tp = true_peak_dbtp(result, self.samplerate)
            if tp <= self.max_tp:
                return result, block_gain, tp
            self.aim_db -= tp - self.max_tp + 0.02
        # never seen: the ramps keep overshooting; scale the last result under the ceiling
        fix = np.float32(10.0 ** ((self.max_tp - 0.05 - tp) / 20.0))
        return result * fix, block_gain * float(fix), tp + 20.0 * math.log10(float(fix))


def loudness_loop(
    measure: Callable[[float], tuple[float, T]], gain_db: float, target_lufs: float, *, most_db: float = math.inf
) -> tuple[float, float, T]:
    """The gain (dB, at most ``most_db``) at which ``measure(gain)`` (loudness, and what was measured) gives
    ``target_lufs`` within ``LOUDNESS_TOLERANCE_LU``: secant steps from ``gain_db`` (limiting makes loudness grow
    slower than the gain), at most ``LOUDNESS_ROUNDS`` measures; the closest one is returned as (gain, loudness,
    what was measured)."""
    tried: list[tuple[float, float]] = []
    best: tuple[float, float, float, T] | None = None  # (|error|, gain, loudness, what was measured)
    for _ in range(LOUDNESS_ROUNDS):
        lufs, payload = measure(gain_db)
        error = lufs - target_lufs
        if best is None or abs(error) < best[0]:
            best = (abs(error), gain_db, lufs, payload)
        if abs(error) <= LOUDNESS_TOLERANCE_LU or not math.isfinite(error):
            break
        tried.append((gain_db, lufs))
        slope = 1.0
        if len(tried) >= 2 and tried[-1][0] != tried[-2][0]:
            slope = min(max((tried[-1][1] - tried[-2][1]) / (tried[-1][0] - tried[-2][0]), 0.2), 1.0)
        step = min(gain_db - error / slope, most_db)
        if step == gain_db:  # at the limit already
            break
        gain_db = step
    assert best is not None
    return best[1], best[2], best[3]
