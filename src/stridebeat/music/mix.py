"""Music into a track, without touching how the track is built: a new ``Track`` with the music as more events.

The music is cut into chunks of at most ``CHUNK_S`` (left and right each a mono sound, gains (1, 0) and (0, 1)), so the
renderer's look-back for sounding events and its scratch stay small: a chunk is no longer than a voice clip, and the
chunks are contiguous, so the sum is the music sample for sample. The music is ducked under the calls (smooth ramps)
by its own depth, ``--music-duck``, deeper than the clicks': at −16 LUFS it is louder than the calls. The clicks can
be softer or gone; the clicks, calls, gun and chimes keep their samples and their gains.

Room for the clicks. The clicks land on the music's beats, so their peaks meet the kick's. Instead of lowering the
whole mix, the music alone makes room: the other sounds are rendered once, and in every block of
``limiter.BLOCK`` frames the music may peak at most at −1 dBTP minus their peak there (per channel). Both peaks are
true peaks (4× oversampled) wherever they could reach the ceiling, and the oversampled sum is the sum of the
oversampled layers, so the mix's true peak stays under −1 dBTP block by block. That required gain is smoothed as
the music's limiter smooths its own (look-ahead ``SIDECHAIN_ATTACK_S``, release ``SIDECHAIN_RELEASE_S``;
``stridebeat.music.limiter``) and applied to the music only. Lowering every gain together stays as a safety net,
for a sum that would still pass.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from stridebeat.core.peaks import channel_max
from stridebeat.core.render import Renderer
from stridebeat.core.track import CEILING, Track
from stridebeat.music import limiter
from stridebeat.music.limiter import GainStats, Limiter, loudness_loop
from stridebeat.music.loudness import integrated_lufs
from stridebeat.music.plan import TARGET_LUFS

CHUNK_S = 1.0
DUCK_RAMP_S = 0.05
CLICK_ID = 0  # build_track puts the click first in the bank
# Attack 1 ms: the clicks' peaks are in their first milliseconds, and a longer look-ahead would be heard as the music
# dipping before each footstrike; release 40 ms: a woodblock has decayed by then, so the music is back at full level
# for most of each step (≥ 250 ms) while its gain still moves slower than a 50 Hz bass cycle.
SIDECHAIN_ATTACK_S = 0.001
SIDECHAIN_RELEASE_S = 0.040
MARGIN = 1.0 - 1e-4  # float32 sums of the layers may differ from the sum of their peaks by a rounding
OTHERS_FLOOR = 0.01  # −40 dBFS: a quieter sound's true peak cannot add 0.05 dB to the mix's, so its sample peak will do
MAKEUP_TOLERANCE_LU = 0.2  # the music in the mix is left alone this close under its target …
MAX_MAKEUP_DB = 6.0  # … and raised by at most this much (more would flatten it)


@dataclass(frozen=True, slots=True, kw_only=True)
class MixLevels:
    """What the mix did to levels: the room made for the clicks, the make-up that brings the music back to its
    loudness, and any whole-mix lowering (the safety net)."""

    music_lufs: float  # integrated loudness of the reps' music as it sits in the mix (ducked, with room made)
    makeup_db: float  # gain given to the music to make up for the room (and the ducking) …
    limiter: GainStats  # … and what the music's limiter took off its peaks for it
    sidechain: GainStats  # the music's gain under the clicks, calls and gun, over the music's frames
    master_db: float  # every gain lowered together by this much (0: the safety net was not needed)


def duck(audio: np.ndarray, start_frame: int, spans: Sequence[tuple[int, int]], duck_db: float, sr: int) -> None:
    """Lower ``audio`` (``(n, 2)``, placed at ``start_frame``) by ``duck_db`` under each span, in place, with ramps of
    ``DUCK_RAMP_S`` before and after (overlapping or close spans merge)."""
    if duck_db <= 0 or not spans:
        return
    r = max(1, int(round(DUCK_RAMP_S * sr)))
    depth = 10 ** (-duck_db / 20.0)
    merged: list[list[int]] = []
    for a, b in sorted(spans):
        if merged and a - r <= merged[-1][1] + r:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    n = len(audio)
    for a, b in merged:
        lo, hi = max(a - r - start_frame, 0), min(b + r - start_frame, n)
        if hi <= lo:
            continue
        x = np.arange(lo, hi) + start_frame
        env = np.interp(x, [a - r, a, b, b + r], [1.0, depth, depth, 1.0]).astype(np.float32)
        audio[lo:hi] *= env[:, None]


def _without_clicks(track: Track, click_gain: float) -> Track:
    """The track's other sounds with the clicks scaled by ``click_gain`` (gone at 0)."""
    keep = np.ones(len(track.onsets), dtype=bool)
    gains = track.gains.astype(np.float32).copy()
    clicks = track.sound_ids == CLICK_ID
    if click_gain <= 0:
        keep &= ~clicks
    else:
        gains[clicks] *= np.float32(click_gain)
    return replace(track, onsets=track.onsets[keep], sound_ids=track.sound_ids[keep], gains=gains[keep])


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _Music:
    """The music to mix: its segments, their limiters, which count for the loudness, and the room left to it."""

    sources: list[tuple[int, np.ndarray]]
    limiters: list[Limiter]
    counted: list[bool]
    speech_spans: Sequence[tuple[int, int]]
    duck_db: float
    room: np.ndarray  # the ceiling less the other sounds' peak, per block and channel
    sr: int

    def layer(self, makeup_db: float, *, every: bool = True) -> tuple[float, _Layer]:
        """The music raised by ``makeup_db`` and its loudness over the counted segments. The make-up search measures
        the counted segments alone (a session's rests are most of its music and do not count)."""
        chosen = [i for i, m in enumerate(self.counted) if m or every]
        made = _music_layer(
            [self.sources[i] for i in chosen],
            [self.limiters[i] for i in chosen],
            makeup_db,
            self.speech_spans,
            self.duck_db,
            self.room,
            self.sr,
        )
        loud = [audio for i, (_, audio) in zip(chosen, made.placed, strict=True) if self.counted[i]]
        return (integrated_lufs(np.concatenate(loud), self.sr) if loud else -math.inf), made

    def settle(self, target_lufs: float | None) -> tuple[float, float, _Layer]:
        """The make-up gain that puts the counted music at ``target_lufs`` in the mix (at most ``MAX_MAKEUP_DB``),
        its loudness there and the whole music at that gain."""
        makeup_db = 0.0
        found: tuple[float, _Layer] | None = None
        if target_lufs is not None and self.sources:
            found = self.layer(0.0, every=False)
            if math.isfinite(found[0]) and found[0] < target_lufs - MAKEUP_TOLERANCE_LU:
                start_db = min(target_lufs - found[0], MAX_MAKEUP_DB)
                makeup_db, lufs, made = loudness_loop(
                    lambda db: self.layer(db, every=False), start_db, target_lufs, most_db=MAX_MAKEUP_DB
                )
                found = lufs, made
        # With every segment counted (a race), the search's layer is already the whole music at the chosen gain.
        lufs, made = found if found is not None and all(self.counted) else self.layer(makeup_db)
        return makeup_db, lufs, made


def _with_chunks(track: Track, others: Track, placed: list[tuple[int, np.ndarray]], end: int) -> Track:
    """``others`` with the music ``placed`` as more events: chunks of at most ``CHUNK_S``, one sound per channel."""
    bank = list(track.sounds)
    onsets = [others.onsets]
    ids = [others.sound_ids]
    gain_rows = [others.gains]
    chunk = max(1, int(CHUNK_S * track.samplerate))
    for i, (start, audio) in enumerate(placed):
        # Channel by channel, a chunk is a view of its segment, not a copy; the frame-major segment is let go.
        by_channel = np.ascontiguousarray(audio.T)
        placed[i] = (start, by_channel)
        del audio
        for c0 in range(0, by_channel.shape[1], chunk):
            for ch in (0, 1):
                bank.append(by_channel[ch, c0 : c0 + chunk])
                onsets.append(np.array([start + c0], dtype=np.int64))
                ids.append(np.array([len(bank) - 1], dtype=np.intp))
                gain_rows.append(np.array([[1.0, 0.0] if ch == 0 else [0.0, 1.0]], dtype=np.float32))
    onsets_a = np.concatenate(onsets)
    ids_a = np.concatenate(ids)
    gains_a = np.concatenate(gain_rows).astype(np.float32)
    order = np.argsort(onsets_a, kind="stable")
    return replace(
        track,
        n_frames=int(end),
        onsets=onsets_a[order],
        sound_ids=ids_a[order],
        gains=gains_a[order],
        sounds=tuple(bank),
    )


def with_music(
    track: Track,
    segments: Sequence[tuple[int, np.ndarray]],
    speech_spans: Sequence[tuple[int, int]],
    *,
    duck_db: float,
    click_gain: float = 1.0,
    target_lufs: float | None = TARGET_LUFS,
    measured: Sequence[bool] | None = None,
) -> tuple[Track, MixLevels]:
    """``track`` with the music ``segments`` ((start frame, ``(n, 2)`` float32), not overlapping) added, and what the
    mix did to levels.

    The music is ducked by ``duck_db`` under ``speech_spans`` (frames) and gets room under the other sounds (module
    docstring); the clicks' gains are scaled by ``click_gain`` (0 drops them). With ``target_lufs`` the music is
    raised (through its limiter) until the ``measured`` segments (default: all) sit at that loudness in the mix.
    """
    sr = track.samplerate
    others = _without_clicks(track, click_gain)
    end = max([track.n_frames, *(start + len(audio) for start, audio in segments)])
    other_peak = _track_peaks(others, -(-end // limiter.BLOCK), OTHERS_FLOOR)
    sources = [(start, np.ascontiguousarray(audio, dtype=np.float32)) for start, audio in segments]
    music = _Music(
        sources=sources,
        limiters=[Limiter(audio, sr) for _, audio in sources],
        counted=list(measured) if measured is not None else [True] * len(sources),
        speech_spans=speech_spans,
        duck_db=duck_db,
        room=CEILING * MARGIN - other_peak,
        sr=sr,
    )
    makeup_db, lufs, made = music.settle(target_lufs)
    del music  # the search's other layers can go
    levels = MixLevels(
        music_lufs=lufs, makeup_db=makeup_db, limiter=made.limiter, sidechain=made.sidechain, master_db=0.0
    )
    mixed = _with_chunks(track, others, made.placed, end)
    # The peak of a sum is at most the sum of the peaks, block by block: under the ceiling by construction.
    if float(np.max(other_peak + made.peak, initial=0.0)) <= CEILING:
        return mixed, levels
    # The safety net: render once and lower everything only as far as the real (true) peak needs.
    peak = float(np.max(_track_peaks(mixed, -(-end // limiter.BLOCK), CEILING), initial=0.0))
    if peak <= CEILING:
        return mixed, levels
    scale = CEILING / peak * (1 - 1e-4)
    lowered = replace(mixed, gains=(mixed.gains * np.float32(scale)).astype(np.float32))
    return lowered, replace(levels, master_db=float(20.0 * np.log10(scale)))


def _track_peaks(track: Track, n_blocks: int, above: float) -> np.ndarray:
    """The peak per block and channel of ``track`` as the renderer makes it, true peaks where they could reach
    ``above``. Each rendered chunk is measured with a block of its neighbours on either side, so a click across a
    chunk edge is oversampled whole."""
    block = limiter.BLOCK
    peaks = np.zeros((n_blocks, 2), np.float32)
    before = np.zeros((block, 2), np.float32)

    def settle(start: int, chunk: np.ndarray, after: np.ndarray) -> None:
        rows = -(-len(chunk) // block)  # the renderer's chunks are whole blocks but for the last
        x = np.concatenate([before, chunk, after])
        pk = limiter.block_peaks(x, oversample_above=above)[1 : 1 + rows]
        first = start // block
        peaks[first : first + rows] = pk[: n_blocks - first]

    held: tuple[int, np.ndarray] | None = None
    for start, rendered in Renderer(track).blocks():
        if held is not None:
            settle(*held, rendered[:block])
            before = held[1][-block:]
        held = (start, rendered.copy())  # the renderer reuses its buffer
    if held is not None:
        settle(*held, np.zeros((block, 2), np.float32))
    return peaks


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _Layer:
    placed: list[tuple[int, np.ndarray]]  # the music as it goes into the mix
    peak: np.ndarray  # its peak per block and channel
    limiter: GainStats
    sidechain: GainStats


def _music_layer(
    sources: Sequence[tuple[int, np.ndarray]],
    limiters: Sequence[Limiter],
    makeup_db: float,
    speech_spans: Sequence[tuple[int, int]],
    duck_db: float,
    room: np.ndarray,
    sr: int,
) -> _Layer:
    """The music raised by ``makeup_db`` through its limiter, ducked under the calls, and kept under ``room`` (the
    ceiling less the other sounds' peak, per block) by the sidechain envelope."""
    block = limiter.BLOCK
    placed: list[tuple[int, np.ndarray]] = []
    limited: list[np.ndarray] = []
    music_peak = np.zeros_like(room)
    room_min = -channel_max(-room)
    for (start, audio), stem in zip(sources, limiters, strict=True):
        audio, block_gain, _ = stem(makeup_db)  # the stem may come unlimited (music_track's limit=False)
        limited.append(block_gain)
        duck(audio, start, speech_spans, duck_db, sr)
        placed.append((start, audio))
        _place_max(music_peak, _grid_peaks(audio, start, block, room_min), start // block)
    required = limiter.required_gain(music_peak, room)
    block_gain = limiter.envelope(
        required, attack=max(1, round(SIDECHAIN_ATTACK_S * sr / block)), release=SIDECHAIN_RELEASE_S * sr / block
    )
    points = limiter.boundary_gains(block_gain)
    peak = np.zeros_like(room)
    for start, audio in placed:
        limiter.apply_gain(audio, points, first=start, out=audio)
        _place_max(peak, _grid_peaks(audio, start, block, room_min), start // block)
    has_music = channel_max(music_peak) > 0
    return _Layer(
        placed=placed,
        peak=peak,
        limiter=limiter.stats(np.concatenate(limited)) if limited else GainStats.none(),
        sidechain=limiter.stats(block_gain[has_music]) if np.any(has_music) else GainStats.none(),
    )


def _place_max(grid: np.ndarray, peaks: np.ndarray, first: int) -> None:
    part = grid[first : first + len(peaks)]
    np.maximum(part, peaks[: len(part)], out=part)


def _grid_peaks(audio: np.ndarray, start: int, block: int, room: np.ndarray) -> np.ndarray:
    """Block peaks of ``audio`` placed at frame ``start``, on the grid of blocks from frame 0 (the first block is
    the one holding ``start``): true peaks where they could reach the ``room`` (per grid block). A first block cut
    by ``start`` counts its sample peak raised by the most a true peak can exceed it."""
    head = (block - start % block) % block  # frames before the first block boundary inside the audio
    first_row = start // block + (1 if head else 0)
    body = audio[head:]
    above = room[first_row : first_row + -(-len(body) // block)]
    peaks = limiter.block_peaks(body, block=block, oversample_above=above)
    if head == 0:
        return peaks
    lead = np.max(np.abs(audio[:head]), axis=0, initial=0.0)[None, :].astype(np.float32)
    return np.concatenate([lead * np.float32(10.0 ** (limiter.TRUE_PEAK_SEARCH_DB / 20.0)), peaks])
