"""A job's music: the playlist through its reps and rests, mapped (``plan_music``) or played into its track
(``track_with_music``).

Sessions: each rep gets its own ``music_track`` on its steps (on the job clock), continuing the playlist where the
previous rep left it. In the rests the next song plays unstretched 12 dB lower (``--music-in-rest soft``) or not at all.
``plan_music`` walks the same playlist with ``map_music`` alone (songs analysed, nothing stretched): what
``stridebeat plan`` reports is what a render plays.

The playlist is lazy: every song's header is checked first (``stridebeat.music.songs``), but a song is decoded and
its beats found only when the walk reaches it, so a folder of a hundred songs costs only the ones that play.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Generic, TypeVar, overload

import numpy as np

from stridebeat.core.session import Job, MusicOptions, voiced_track
from stridebeat.core.track import Track
from stridebeat.core.vocabulary import ClickLevel, RestMusic
from stridebeat.errors import UsageError
from stridebeat.music.analysis import BeatGrid, detect_beats
from stridebeat.music.mapping import MusicMap, map_music
from stridebeat.music.mix import MixLevels, with_music
from stridebeat.music.plan import music_track
from stridebeat.music.songs import load_song, song_header
from stridebeat.music.stretch import ENGINES

SOFT_DB = 12.0  # clicks=soft, and the music in a rest with music_in_rest=soft
REST_FADE_S = 1.0
REST_START_S = 1.0  # the rest's music starts this long after the finish …
REST_MARGIN_S = 1.0  # … and stops this long before the next rep's first command
CLICK_GAINS: dict[str, float] = {ClickLevel.ON: 1.0, ClickLevel.SOFT: 10 ** (-SOFT_DB / 20.0), ClickLevel.OFF: 0.0}

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class SongInfo:
    """A song of the playlist, and its tempo once analysed (None for a song that never played in a rep)."""

    name: str
    bpm: float | None = None
    confidence: float | None = None
    method: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class MusicMix:
    """What is played where, for the views: per rep the music's map, on the job clock."""

    songs: tuple[SongInfo, ...]
    # per rep: its MusicReport after a render, its MusicMap from plan_music (songs numbered as in the playlist;
    # steps index that rep's own steps)
    reps: tuple[MusicMap, ...]
    rep_steps: tuple[np.ndarray, ...]  # each rep's steps on the job clock
    levels: MixLevels | None = None  # after a render: the room made for the clicks; None in a plan
    rest_songs: frozenset[int] = frozenset()  # the songs heard in a session's rests (unstretched, softer)


class Playlist:
    """The job's songs, each decoded and analysed once, when first asked for."""

    def __init__(self, options: MusicOptions, samplerate: int) -> None:
        self.options, self.samplerate = options, samplerate
        for path in options.songs:  # every file's header first: a bad song fails before any work
            song_header(path)
        self._audio: dict[int, np.ndarray] = {}
        self._grids: dict[int, BeatGrid] = {}

    def __len__(self) -> int:
        return len(self.options.songs)

    def audio(self, k: int) -> np.ndarray:
        if k not in self._audio:
            self._audio[k] = load_song(self.options.songs[k], self.samplerate)
        return self._audio[k]

    def grid(self, k: int) -> BeatGrid:
        if k not in self._grids:
            name = f"'{self.options.songs[k].name}'"
            o = self.options
            self._grids[k] = detect_beats(self.audio(k), self.samplerate, bpm=o.bpm, offset_s=o.offset_s, name=name)
        return self._grids[k]

    def infos(self) -> tuple[SongInfo, ...]:
        out = []
        for k, path in enumerate(self.options.songs):
            g = self._grids.get(k)
            info = SongInfo(name=path.name)
            if g is not None:
                info = replace(info, bpm=g.bpm, confidence=g.confidence, method=g.method)
            out.append(info)
        return tuple(out)


class _InOrder(Sequence[T], Generic[T]):
    """Items ``get(order[i])``, asked for only when read."""

    def __init__(self, get: Callable[[int], T], order: Sequence[int]) -> None:
        self._get, self._order = get, order

    def __len__(self) -> int:
        return len(self._order)

    @overload
    def __getitem__(self, i: int) -> T: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[T]: ...
    def __getitem__(self, i: int | slice) -> T | Sequence[T]:
        if isinstance(i, slice):
            return [self._get(k) for k in self._order[i]]
        return self._get(self._order[i])


@dataclass(frozen=True, slots=True, kw_only=True)
class RestPiece:
    """A song heard in a rest: from ``at`` (frames into the rest), ``frames`` of it."""

    at: int
    song: int
    frames: int


@dataclass(frozen=True, slots=True, kw_only=True)
class _Rest:
    start_s: float  # job clock
    frames: int
    pieces: tuple[RestPiece, ...]
    after_rep: int  # index of the rep before the rest


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _Played:
    report: MusicMap  # the rep's MusicMap or MusicReport, songs numbered as in the playlist
    steps: np.ndarray
    placed: tuple[int, np.ndarray] | None  # a render's music: (its first frame in the track, its audio)


Play = Callable[[Sequence[int], np.ndarray], tuple[MusicMap, "tuple[int, np.ndarray] | None"]]


def _play_rep(play: Play, order: Sequence[int], steps: np.ndarray, *, label: str | None) -> _Played:
    """One rep through ``play``, its songs renumbered as in the playlist; errors name the rep in a session."""
    try:
        report, placed = play(order, steps)
    except UsageError as exc:
        if label is not None:
            raise UsageError(f"{label}: {exc}", key=exc.key) from None
        raise
    spans = tuple(replace(sp, song=order[sp.song]) for sp in report.spans)
    report = replace(report, spans=spans, beat_song=np.asarray(order)[report.beat_song])
    return _Played(report=report, steps=steps, placed=placed)


def _walk(job: Job, playlist: Playlist, play: Play) -> tuple[list[_Played], list[_Rest]]:
    """The playlist through the job: ``play(order, steps)`` maps or renders one rep (songs in ``order``); each rep
    continues where the previous one (and its soft rest) left off."""
    options = job.music
    if options is None:
        return [], []
    sr, n = playlist.samplerate, len(playlist)
    played: list[_Played] = []
    rests: list[_Rest] = []
    first_song = 0
    for i, rep in enumerate(job.reps):
        order = [(first_song + j) % n for j in range(n)]
        label = f"rep {rep.number}" if len(job.reps) > 1 else None
        played.append(_play_rep(play, order, rep.gun_s + rep.schedule.steps_s, label=label))
        spans = played[-1].report.spans
        first_song = (spans[-1].song + 1) % n if spans else first_song
        if rep.rest_after_s is not None and options.in_rest == RestMusic.SOFT and i + 1 < len(job.reps):
            a_s, b_s = rep.finish_s + REST_START_S, job.reps[i + 1].start_s - REST_MARGIN_S
            frames = round(b_s * sr) - round(a_s * sr)  # as the track's frames: origin + round(t·sr)
            if frames > 4 * REST_FADE_S * sr:
                pieces, first_song = _rest_pieces(playlist, first_song, frames)
                rests.append(_Rest(start_s=a_s, frames=frames, pieces=pieces, after_rep=i))
    return played, rests


def _rest_pieces(playlist: Playlist, first: int, frames: int) -> tuple[tuple[RestPiece, ...], int]:
    """The songs of a rest of ``frames``, from song ``first``; and the song after them."""
    fade = int(REST_FADE_S * playlist.samplerate)
    n = len(playlist)
    pieces = []
    at, k = 0, first
    while frames - at > 2 * fade:
        m = min(len(playlist.audio(k % n)), frames - at)
        pieces.append(RestPiece(at=at, song=k % n, frames=m))
        at, k = at + m, k + 1
    return tuple(pieces), k % n


def _rest_music(playlist: Playlist, rest: _Rest, gain_db: float) -> np.ndarray:
    """The rest's songs, unstretched and ``SOFT_DB`` under the reps' level, each fading in and out."""
    out = np.zeros((rest.frames, 2), dtype=np.float32)
    fade = int(REST_FADE_S * playlist.samplerate)
    level = np.float32(10 ** ((gain_db - SOFT_DB) / 20.0))
    for p in rest.pieces:
        env = np.full(p.frames, level, dtype=np.float32)
        ramp = np.linspace(0.0, 1.0, min(fade, p.frames // 2), dtype=np.float32)
        env[: len(ramp)] *= ramp
        env[p.frames - len(ramp) :] *= ramp[::-1]
        out[p.at : p.at + p.frames] = playlist.audio(p.song)[: p.frames] * env[:, None]
    return out


def _rest_songs(rests: Sequence[_Rest]) -> frozenset[int]:
    return frozenset(p.song for rest in rests for p in rest.pieces)


def plan_music(job: Job, *, samplerate: int | None = None) -> MusicMix | None:
    """Where the job's songs will play, without stretching them (None without music).

    The songs that play are loaded and their beats detected, then each rep is mapped as a render maps it.

    Raises
    ------
    UsageError
        The render's errors, word for word (a song that cannot be read or followed, a stretch out of range).
    """
    if job.music is None:
        return None
    options = job.music
    playlist = Playlist(options, samplerate or job.sound.samplerate)

    def play(order: Sequence[int], steps: np.ndarray) -> tuple[MusicMap, None]:
        grids = _InOrder(playlist.grid, order)
        return map_music(grids, steps, playlist.samplerate, every=options.every), None  # type: ignore[arg-type]

    played, rests = _walk(job, playlist, play)
    return MusicMix(
        songs=playlist.infos(),
        reps=tuple(p.report for p in played),
        rep_steps=tuple(p.steps for p in played),
        rest_songs=_rest_songs(rests),
    )


def _rendered(job: Job, track: Track, playlist: Playlist) -> tuple[list[_Played], list[_Rest]]:
    """Every rep's music stretched onto its footstrikes (not yet limited: the mix limits it in place)."""
    options = job.music
    if options is None:
        return [], []
    sr = playlist.samplerate

    def play(order: Sequence[int], steps: np.ndarray) -> tuple[MusicMap, tuple[int, np.ndarray]]:
        # The output array starts a little before the rep's first footstrike, not at the track's frame 0.
        base = max(0, track.frame_of(float(steps[0]) - 3.0))
        audio, report = music_track(
            _InOrder(playlist.audio, order),
            _InOrder(playlist.grid, order),
            steps,
            sr,
            every=options.every,  # type: ignore[arg-type]
            origin_frame=track.origin_frame - base,
            engine_args=ENGINES[options.stretch],
            limit=False,  # with_music limits it, at the gain that puts it at its loudness in the mix
        )
        return report, (base + report.start_frame, audio[report.start_frame :])

    return _walk(job, playlist, play)


def track_with_music(job: Job, *, samplerate: int | None = None) -> tuple[Track, MusicMix | None]:
    """The job's track with its music mixed in, and what plays where (None without music).

    Parameters
    ----------
    job : Job
        What to render.
    samplerate : int, optional
        The track's rate (default: the job's own).

    Returns
    -------
    (Track, MusicMix or None)

    Raises
    ------
    UsageError
        A song that cannot be read or followed, a stretch out of range (as ``plan_music``), or the track's own errors.
    StridebeatError
        Rubber Band is missing or fails.
    """
    track, speech_spans = voiced_track(job, samplerate=samplerate)
    options = job.music
    if options is None:
        return track, None
    playlist = Playlist(options, track.samplerate)
    played, rests = _rendered(job, track, playlist)
    pieces: list[tuple[int, np.ndarray, bool]] = []  # (frame, audio, in a rep: its loudness is the target's)
    pieces += [(*p.placed, True) for p in played if p.placed is not None]
    for rest in rests:
        gain_db = played[rest.after_rep].report.gain_db  # type: ignore[attr-defined]
        pieces.append((track.frame_of(rest.start_s), _rest_music(playlist, rest, gain_db), False))
    pieces.sort(key=lambda piece: piece[0])
    mixed, levels = with_music(
        track,
        [(start, audio) for start, audio, _ in pieces],
        speech_spans,
        duck_db=options.duck_db,
        click_gain=CLICK_GAINS[options.clicks],
        measured=[rep for _, _, rep in pieces],
    )
    return mixed, MusicMix(
        songs=playlist.infos(),
        reps=tuple(p.report for p in played),
        rep_steps=tuple(p.steps for p in played),
        levels=levels,
        rest_songs=_rest_songs(rests),
    )
