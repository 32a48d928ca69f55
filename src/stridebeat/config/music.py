"""The runner's own music in a job (issue 16): the settings' record, the music of a job's track, and its plan.

This module imports nothing heavy at the top: ``stridebeat.music`` loads only when a job has music, so a render
without music starts as fast as before. Music needs one thing beyond the Python package: the ``rubberband`` program,
checked before any song is analysed.

Sessions: each rep gets its own ``music_track`` on its steps (on the job clock), continuing the playlist where the
previous rep left it. In the rests the next song plays unstretched 12 dB lower (``--music-in-rest soft``) or not at all.
``plan_music`` walks the same playlist with ``map_music`` alone (songs analysed, nothing stretched): what
``stridebeat plan`` reports is what a render plays.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from stridebeat.errors import UsageError

if TYPE_CHECKING:
    from stridebeat.config.jobs import Job
    from stridebeat.core.track import Track

INSTALL = "music needs the rubberband program: apt-get install rubberband-cli (macOS: brew install rubberband)"
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff")
SOFT_DB = 12.0  # clicks=soft, and the music in a rest with music_in_rest=soft
MUSIC_DUCK_DB = 20.0  # the default of --music-duck
MUSIC_DUCK_MAX_DB = 40.0
REST_FADE_S = 1.0
REST_MARGIN_S = 1.0  # the rest's music stops this long before the next rep's first command


def parse_paths(value: Any, flag: str) -> tuple[str, ...]:
    """Files or folders, as a TOML list or comma-separated text; each must exist (one-line UsageError)."""
    # A TOML list, or what was typed: one or more options, each possibly comma-separated.
    items = [part for item in (value if isinstance(value, (list, tuple)) else [value]) for part in str(item).split(",")]
    paths = tuple(str(p).strip() for p in items if str(p).strip())
    if not paths:
        raise UsageError(f"{flag} needs a song file or a folder of songs")
    for p in paths:
        if not os.path.exists(p):
            raise UsageError(f"{flag} {p}: no such file or folder; check the path")
    return paths


def expand(paths: Sequence[str]) -> tuple[Path, ...]:
    """The playlist: files as given, a folder's audio files in name order."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in AUDIO_SUFFIXES)
            if not found:
                raise UsageError(f"--music {p}: the folder holds no audio ({', '.join(AUDIO_SUFFIXES)}); add songs")
            out += found
        else:
            out.append(p)
    return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class MusicOptions:
    """The music settings of a job (``--music`` and friends)."""

    songs: tuple[Path, ...]
    every: str | None = None  # "step", "stride", or None: whichever stretches less
    bpm: float | None = None
    offset_s: float | None = None
    in_rest: str = "soft"  # "soft" or "off"
    duck_db: float = MUSIC_DUCK_DB  # the music under the calls
    clicks: str = "on"  # "on", "soft" or "off"
    stretch: str = "clean"  # a key of stridebeat.music.stretch.ENGINES


def music_options(v: dict[str, Any]) -> MusicOptions | None:
    """The gate's part: the record from parsed values (with defaults), or None without --music."""
    if v.get("music") is None:
        if v.get("clicks", "on") != "on":
            raise UsageError(f"--clicks {v['clicks']} goes with --music: without music the clicks are the track")
        given = [k for k in ("music_every", "music_bpm", "music_offset") if v.get(k) is not None]
        given += [
            k
            for k, default in (("music_stretch", "clean"), ("music_in_rest", "soft"), ("music_duck", MUSIC_DUCK_DB))
            if v.get(k, default) != default
        ]
        if given:
            flags = ", ".join("--" + k.replace("_", "-") for k in given)
            verb = "goes" if len(given) == 1 else "go"
            raise UsageError(f"{flags} {verb} with --music: add your songs with --music, or leave it out")
        return None
    if shutil.which("rubberband") is None:
        raise UsageError(INSTALL)
    bpm = v.get("music_bpm")
    if bpm is not None and not 40.0 <= bpm <= 320.0:
        raise UsageError(f"--music-bpm {bpm:g} is out of range: give 40 to 320")
    duck = v.get("music_duck")
    duck = MUSIC_DUCK_DB if duck is None else float(duck)
    if not 0.0 <= duck <= MUSIC_DUCK_MAX_DB:
        raise UsageError(f"--music-duck {duck:g} dB is out of range: give 0 to {MUSIC_DUCK_MAX_DB:g} dB")
    offset = v.get("music_offset")
    if offset is not None and offset < 0:
        raise UsageError(f"--music-offset {offset:g} s is negative: give the first beat's time in the song")
    return MusicOptions(
        songs=expand(v["music"]),
        every=v.get("music_every"),
        bpm=bpm,
        offset_s=offset,
        in_rest=v.get("music_in_rest") or "soft",
        duck_db=duck,
        clicks=v.get("clicks") or "on",
        stretch=v.get("music_stretch") or "clean",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SongInfo:
    name: str
    bpm: float
    confidence: float
    method: str


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class MusicMix:
    """What is played where, for the views: per rep the music's map, on the job clock."""

    songs: tuple[SongInfo, ...]
    # stridebeat.music.plan.MusicReport per rep after a render, its MusicMap (where the beats go) from plan_music;
    # steps index that rep's own steps
    reps: tuple[Any, ...]
    rep_steps: tuple[np.ndarray, ...]  # each rep's steps on the job clock
    levels: Any = None  # stridebeat.music.mix.MixLevels after a render (the room made for the clicks); None in a plan
    rest_songs: frozenset[int] = frozenset()  # the songs heard in a session's rests (unstretched, softer)


def _load(options: MusicOptions, samplerate: int) -> tuple[list[np.ndarray], list[Any], tuple[SongInfo, ...]]:
    from stridebeat.music.analysis import detect_beats, load_song

    songs, grids, infos = [], [], []
    for p in options.songs:
        audio = load_song(p, samplerate)
        grid = detect_beats(audio, samplerate, bpm=options.bpm, offset_s=options.offset_s, name=f"'{p.name}'")
        songs.append(audio)
        grids.append(grid)
        infos.append(SongInfo(name=p.name, bpm=grid.bpm, confidence=grid.confidence, method=grid.method))
    return songs, grids, tuple(infos)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class _Played:
    report: Any  # the rep's MusicMap or MusicReport, songs numbered as in the playlist
    steps: np.ndarray
    payload: Any  # what ``play`` gave besides (the rendered audio)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Rest:
    start_s: float  # job clock
    frames: int
    pieces: tuple[tuple[int, int, int], ...]  # (frame in the rest, song, frames of it)
    after_rep: int  # index of the rep before the rest


def _walk(
    job: Job, lengths: Sequence[int], samplerate: int, play: Callable[[list[int], np.ndarray], tuple[Any, Any]]
) -> tuple[list[_Played], list[_Rest]]:
    """The playlist through the job: ``play(order, steps)`` maps or renders one rep (songs in ``order``) and returns
    its map or report and a payload; each rep continues where the previous one (and its soft rest) left off."""
    options = job.music
    assert options is not None
    played: list[_Played] = []
    rests: list[_Rest] = []
    first_song = 0
    n = len(lengths)
    for i, rep in enumerate(job.reps):
        steps = rep.gun_s + rep.schedule.steps_s
        order = [(first_song + j) % n for j in range(n)]
        try:
            report, payload = play(order, steps)
        except UsageError as exc:
            if len(job.reps) > 1:
                raise UsageError(f"rep {rep.number}: {exc}") from None
            raise
        # Report the spans with the playlist's own song numbers.
        spans = tuple(replace(sp, song=order[sp.song]) for sp in report.spans)
        report = replace(report, spans=spans, beat_song=np.asarray(order)[report.beat_song])
        played.append(_Played(report=report, steps=steps, payload=payload))
        first_song = (spans[-1].song + 1) % n if spans else first_song
        if rep.rest_after_s is not None and options.in_rest == "soft" and i + 1 < len(job.reps):
            a_s, b_s = rep.finish_s + 1.0, job.reps[i + 1].start_s - REST_MARGIN_S
            frames = round(b_s * samplerate) - round(a_s * samplerate)  # as the track's frames: origin + round(t·sr)
            if frames > 4 * REST_FADE_S * samplerate:
                pieces, first_song = _rest_pieces(lengths, first_song, samplerate, frames)
                rests.append(_Rest(start_s=a_s, frames=frames, pieces=pieces, after_rep=i))
    return played, rests


def plan_music(job: Job, *, samplerate: int | None = None) -> MusicMix | None:
    """Where the job's songs will play, without stretching them (None without music): the songs are loaded and their
    beats detected, then each rep is mapped as a render maps it. Raises the render's errors, word for word."""
    if job.music is None:
        return None
    from stridebeat.music.plan import map_music

    options = job.music
    sr = samplerate or job.sound.samplerate
    songs, grids, infos = _load(options, sr)

    def play(order: list[int], steps: np.ndarray) -> tuple[Any, None]:
        every = options.every
        return map_music([grids[j] for j in order], steps, sr, every=every), None  # type: ignore[arg-type]

    played, rests = _walk(job, [len(s) for s in songs], sr, play)
    return MusicMix(
        songs=infos,
        reps=tuple(p.report for p in played),
        rep_steps=tuple(p.steps for p in played),
        rest_songs=_rest_songs(rests),
    )


def _rest_songs(rests: Sequence[_Rest]) -> frozenset[int]:
    return frozenset(song for rest in rests for _, song, _ in rest.pieces)


def with_job_music(job: Job, track: Track, speech_spans: list[tuple[int, int]]) -> tuple[Track, MusicMix]:
    """The job's track with its music mixed in, and what was played where."""
    from stridebeat.music.mix import with_music
    from stridebeat.music.plan import music_track
    from stridebeat.music.stretch import ENGINES

    options = job.music
    assert options is not None
    sr = track.samplerate
    songs, grids, infos = _load(options, sr)

    def play(order: list[int], steps: np.ndarray) -> tuple[Any, tuple[int, np.ndarray]]:
        # The output array starts a little before the rep's first footstrike, not at the track's frame 0.
        base = max(0, track.frame_of(float(steps[0]) - 3.0))
        audio, report = music_track(
            [songs[j] for j in order],
            [grids[j] for j in order],
            steps,
            sr,
            every=options.every,  # type: ignore[arg-type]
            origin_frame=track.origin_frame - base,
            engine_args=ENGINES[options.stretch],
            limit=False,  # with_music limits it, at the gain that puts it at its loudness in the mix
        )
        return report, (base, audio)

    played, rests = _walk(job, [len(s) for s in songs], sr, play)
    pieces: list[tuple[int, np.ndarray, bool]] = []  # (frame, audio, in a rep: its loudness is the target's)
    for p in played:
        base, audio = p.payload
        pieces.append((base + p.report.start_frame, audio[p.report.start_frame :], True))
    for rest in rests:
        gain_db = played[rest.after_rep].report.gain_db
        pieces.append((track.frame_of(rest.start_s), _rest_music(songs, rest.pieces, gain_db, sr, rest.frames), False))
    pieces.sort(key=lambda piece: piece[0])
    clicks_gain = {"on": 1.0, "soft": 10 ** (-SOFT_DB / 20.0), "off": 0.0}[options.clicks]
    mixed, levels = with_music(
        track,
        [(start, audio) for start, audio, _ in pieces],
        speech_spans,
        duck_db=options.duck_db,
        click_gain=clicks_gain,
        measured=[rep for _, _, rep in pieces],
    )
    reports = tuple(p.report for p in played)
    return mixed, MusicMix(
        songs=infos,
        reps=reports,
        rep_steps=tuple(p.steps for p in played),
        levels=levels,
        rest_songs=_rest_songs(rests),
    )


def _rest_pieces(
    lengths: Sequence[int], first: int, sr: int, frames: int
) -> tuple[tuple[tuple[int, int, int], ...], int]:
    """The songs of a rest of ``frames``: (frame, song, frames of it) each, from song ``first``; and the next song."""
    fade = int(REST_FADE_S * sr)
    pieces = []
    at, k = 0, first
    while frames - at > 2 * fade:
        m = min(lengths[k % len(lengths)], frames - at)
        pieces.append((at, k % len(lengths), m))
        at, k = at + m, k + 1
    return tuple(pieces), k % len(lengths)


def _rest_music(
    songs: list[np.ndarray], pieces: Sequence[tuple[int, int, int]], gain_db: float, sr: int, frames: int
) -> np.ndarray:
    """The rest's ``pieces`` of the playlist, unstretched and 12 dB under the reps' level, each song fading in and
    out."""
    out = np.zeros((frames, 2), dtype=np.float32)
    fade = int(REST_FADE_S * sr)
    level = np.float32(10 ** ((gain_db - SOFT_DB) / 20.0))
    for at, k, m in pieces:
        env = np.full(m, level, dtype=np.float32)
        ramp = np.linspace(0.0, 1.0, min(fade, m // 2), dtype=np.float32)
        env[: len(ramp)] *= ramp
        env[m - len(ramp) :] *= ramp[::-1]
        out[at : at + m] = songs[k][:m] * env[:, None]
    return out


def music_lines(mix: MusicMix) -> list[str]:
    """One line per song: what was detected, and the stretch it got."""
    lines = []
    for i, song in enumerate(mix.songs):
        spans = [sp for r in mix.reps for sp in r.spans if sp.song == i]
        if spans:
            lo, hi = min(sp.stretch_min for sp in spans), max(sp.stretch_max for sp in spans)
            stretch = f"stretched {lo:.3f}–{hi:.3f}×"
        elif i in mix.rest_songs:
            stretch = "only in the rests (unstretched)"
        else:
            stretch = "not played"
        how = "given" if song.method == "given" else f"confidence {song.confidence:.2f}"
        every = {r.every for r in mix.reps}
        lines.append(
            f"music: {song.name}: {song.bpm:.1f} bpm ({how}), {stretch}, a beat every {'/'.join(sorted(every))}"
        )
    return lines
