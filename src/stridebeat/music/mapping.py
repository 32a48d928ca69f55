"""Where the songs' beats land: song beats mapped onto footstrikes, songs joined and looped (no audio here).

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

``map_music`` is the mapping alone (no audio, no Rubber Band): what ``stridebeat plan`` reports, and what
``stridebeat.music.plan.music_track`` plays.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from stridebeat.core.vocabulary import MusicBeat
from stridebeat.errors import UsageError
from stridebeat.music.analysis import BeatGrid

Every = Literal["step", "stride"]  # a MusicBeat
STEPS_PER_BEAT: dict[str, int] = {MusicBeat.STEP: 1, MusicBeat.STRIDE: 2}
STRETCH_RANGE = (0.8, 1.25)
STEADY_RATE = 0.02  # |d ln(cadence)/dt| in 1/s under which the cadence counts as steady
STEADY_WINDOW_S = 1.0
BEATS_PER_BAR = 4


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
class Span:
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
    beats: Sequence[BeatGrid],
    steps_s: np.ndarray,
    samplerate: int,
    *,
    every: Every | None = None,
    enter_at_s: float | None = None,
    crossfade_s: float = 0.25,
) -> MusicMap:
    """Where each song's beats land (module docstring: the rules), without stretching anything: which footstrikes,
    which song and beat on each, the stretch factors, each span's start and end. ``music_track`` plays this map.

    ``beats`` may be any sequence: only the grids of the songs that play are asked for (a playlist may analyse its
    songs when asked).

    Raises
    ------
    UsageError
        A stretch out of range, too few footstrikes or bad arguments, as ``music_track`` does (the same check).
    """
    return plan_spans(beats, steps_s, samplerate, every=every, enter_at_s=enter_at_s, crossfade_s=crossfade_s)[0]


def _entry(steps: np.ndarray, enter_at_s: float | None) -> int:
    """The footstrike on which the music enters (module docstring: Entry)."""
    if enter_at_s is None:
        return steady_entry(steps)
    after = np.flatnonzero(steps >= enter_at_s - 1e-9)
    if after.size == 0:
        raise UsageError(
            f"music would enter at {enter_at_s:g} s, after the last footstrike ({steps[-1]:.2f} s); "
            "give an earlier time"
        )
    return int(after[0])


def _choose(beats: Sequence[BeatGrid], steps: np.ndarray, entry: int, every: Every | None) -> tuple[str, list[Span]]:
    """The beat (``every``, or whichever of stride and step stretches less) and its spans, checked for range."""
    options = [every] if every is not None else ["stride", "step"]
    best: tuple[float, str, list[Span]] | None = None
    for option in options:
        k = STEPS_PER_BEAT[option]
        try:
            spans = song_spans(beats, steps, entry, k, option)
        except UsageError:  # too few footstrikes left for a beat every stride: steps may still do
            if option == options[-1] and best is None:
                raise
            continue
        worst = max(float(np.max(np.abs(np.log(factors(sp, steps, entry, k))))) for sp in spans)
        if best is None or worst < best[0]:
            best = (worst, option, spans)
    if best is None:  # the loop raises before this when no option maps
        raise UsageError("no beat fits the plan; choose a song near its cadence")
    _, chosen, spans = best
    check_range(spans, beats, steps, entry, STEPS_PER_BEAT[chosen], chosen, every is None)
    return chosen, spans


def _song_span(sp: Span, steps: np.ndarray, *, entry: int, k: int, last_slot: int, xf_s: float, sr: int) -> SongSpan:
    """The report of one span: its footstrikes, where its audio starts (lead-in) and ends (fade-out), its stretch."""
    q = sp.beats_s.size - 1
    first, last = sp.first_slot, sp.first_slot + q
    f = factors(sp, steps, entry, k)
    step_first, step_last = entry + first * k, entry + last * k
    slot_frames = np.rint(steps[entry::k] * sr).astype(np.int64)
    tail_frames = int(slot_frames[-1] - slot_frames[-2])
    xf = round(xf_s * sr)
    return SongSpan(
        song=sp.song,
        first_beat=0,
        last_beat=q,
        first_step=step_first,
        last_step=step_last,
        start_s=float(steps[step_first] - min(lead_frames(sp, f, xf_s, sr), xf) / sr),
        end_s=float(steps[step_last] + (tail_frames / sr if last == last_slot else 0.0)),
        stretch_min=float(f.min()),
        stretch_max=float(f.max()),
    )


def plan_spans(
    beats: Sequence[BeatGrid],
    steps_s: np.ndarray,
    samplerate: int,
    *,
    every: Every | None,
    enter_at_s: float | None,
    crossfade_s: float,
) -> tuple[MusicMap, list[Span]]:
    """``map_music``'s map, and the spans as ``music_track`` stretches them (song beats as anchors)."""
    steps = check_steps(steps_s)
    if len(beats) == 0:
        raise UsageError("no song given; give at least one song file")
    if every is not None and every not in STEPS_PER_BEAT:
        raise UsageError(f"every must be 'step' or 'stride', not {every!r}; choose one or leave it out")
    if not (0.0 <= crossfade_s <= 2.0):
        raise UsageError(f"a crossfade of {crossfade_s:g} s is out of range; give 0 to 2 s")
    entry = _entry(steps, enter_at_s)
    chosen, spans = _choose(beats, steps, entry, every)
    k = STEPS_PER_BEAT[chosen]
    n_slots = steps[entry::k].size
    beat_song = np.empty(n_slots, dtype=np.int64)
    beat_index = np.empty(n_slots, dtype=np.int64)
    for sp in spans:  # in order: at a join the slot belongs to the incoming song, written last
        q = sp.beats_s.size - 1
        beat_song[sp.first_slot : sp.first_slot + q + 1] = sp.song
        beat_index[sp.first_slot : sp.first_slot + q + 1] = np.arange(q + 1)
    all_factors = np.concatenate([factors(sp, steps, entry, k) for sp in spans])
    mapping = MusicMap(
        every=chosen,  # type: ignore[arg-type]
        steps_per_beat=k,
        entry_step=entry,
        enter_at_s=float(steps[entry]),
        stretch_min=float(all_factors.min()),
        stretch_max=float(all_factors.max()),
        spans=tuple(
            _song_span(sp, steps, entry=entry, k=k, last_slot=n_slots - 1, xf_s=crossfade_s, sr=samplerate)
            for sp in spans
        ),
        beat_step=entry + k * np.arange(n_slots),
        beat_song=beat_song,
        beat_index=beat_index,
    )
    return mapping, spans


def check_steps(steps_s: np.ndarray) -> np.ndarray:
    """``steps_s`` as float64, or ``UsageError``: footstrikes must increase strictly, at least 3 of them."""
    t = np.asarray(steps_s, dtype=np.float64)
    if t.ndim != 1 or t.size < 3 or not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise UsageError("footstrike times must be a strictly increasing 1-D array of at least 3; check the plan")
    return t


def song_spans(beats: Sequence[BeatGrid], steps: np.ndarray, entry: int, k: int, every: str) -> list[Span]:
    """Songs in order (looping) onto the beat slots steps[entry::k], whole bars per song."""
    n_slots = math.ceil((steps.size - entry) / k)
    if n_slots < 2:
        raise UsageError(
            f"only {n_slots} footstrike left for a beat every {every} after the music enters at "
            f"{steps[entry]:.2f} s; let it enter earlier"
        )
    spans: list[Span] = []
    slot, song = 0, 0
    while slot < n_slots - 1:
        grid = beats[song % len(beats)].beats_s
        whole_bars = BEATS_PER_BAR * ((grid.size - 1) // BEATS_PER_BAR)
        q = min(max(whole_bars, 1), n_slots - 1 - slot)
        spans.append(Span(song=song % len(beats), first_slot=slot, beats_s=np.asarray(grid[: q + 1])))
        slot += q
        song += 1
    return spans


def factors(span: Span, steps: np.ndarray, entry: int, k: int) -> np.ndarray:
    """The stretch factor of each beat interval of ``span``: its song interval over the planned one."""
    q = span.beats_s.size - 1
    first = entry + k * span.first_slot
    tgt = steps[first : first + k * q + 1 : k]
    return np.diff(span.beats_s) / np.diff(tgt)


def check_range(
    spans: list[Span], beats: Sequence[BeatGrid], steps: np.ndarray, entry: int, k: int, every: str, auto: bool
) -> None:
    """Refuse a stretch outside ``STRETCH_RANGE`` (``UsageError`` naming the song, the time and what to try)."""
    lo, hi = STRETCH_RANGE
    for sp in spans:
        f = factors(sp, steps, entry, k)
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


def lead_frames(span: Span, f: np.ndarray, crossfade_s: float, samplerate: int) -> int:
    """Output frames of the song's audio before the span's first beat (its lead-in, at most ``crossfade_s``);
    ``f``: the span's ``factors``."""
    pre_src = min(crossfade_s * float(f[0]), float(span.beats_s[0]))
    return round(pre_src / float(f[0]) * samplerate)
