"""The music settings' gate: ``--music`` and friends as a ``MusicOptions`` record, or a one-line error.

Playing the songs is the music package's (``stridebeat.music.job``); this module reads no audio and imports nothing
heavy, so a render without music starts as fast as before. Music needs one thing beyond the Python package, the
``rubberband`` program, checked here before any song is analysed (``stridebeat.music.stretch.rubberband_path``).

Song names: ``--music`` takes files and folders, several options or one comma-separated list. A name that exists as
it is typed is one song even when it holds commas (``--music "Artist, Song.wav"``); only a text that is not an
existing path is split at its commas.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stridebeat.core.session import MUSIC_DUCK_DB, MusicOptions
from stridebeat.core.vocabulary import ClickLevel, RestMusic, Stretcher
from stridebeat.errors import StridebeatError, UsageError

__all__ = ["AUDIO_SUFFIXES", "MUSIC_DUCK_DB", "MusicOptions", "expand", "music_options", "parse_paths"]

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff")
MUSIC_DUCK_MAX_DB = 40.0
# The settings that go with --music alone, and their defaults (a value other than the default needs songs).
_WITH_MUSIC = (("music_stretch", Stretcher.CLEAN), ("music_in_rest", RestMusic.SOFT), ("music_duck", MUSIC_DUCK_DB))


def _split(item: str) -> list[str]:
    """One typed value: itself when it names an existing file or folder (commas and all), else its comma parts."""
    if item.strip() and os.path.exists(item.strip()):
        return [item.strip()]
    return [part.strip() for part in item.split(",")]


def parse_paths(value: Any, flag: str) -> tuple[str, ...]:
    """Files or folders, as a TOML list or comma-separated text (module docstring); each must exist.

    Raises
    ------
    UsageError
        No path given, or one that does not exist (key ``music``).
    """
    items = value if isinstance(value, (list, tuple)) else [value]
    paths = tuple(p for item in items for p in _split(str(item)) if p)
    if not paths:
        raise UsageError(f"{flag} needs a song file or a folder of songs", key="music")
    for p in paths:
        if not os.path.exists(p):
            raise UsageError(f"{flag} {p}: no such file or folder; check the path", key="music")
    return paths


def expand(paths: Sequence[str]) -> tuple[Path, ...]:
    """The playlist: files as given, a folder's audio files in name order.

    Raises
    ------
    UsageError
        A folder without audio files.
    """
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in AUDIO_SUFFIXES)
            if not found:
                raise UsageError(
                    f"--music {p}: the folder holds no audio ({', '.join(AUDIO_SUFFIXES)}); add songs", key="music"
                )
            out += found
        else:
            out.append(p)
    return tuple(out)


def _without_music(v: dict[str, Any]) -> None:
    """Refuse the music settings that mean nothing without songs."""
    if v.get("clicks", ClickLevel.ON) != ClickLevel.ON:
        raise UsageError(
            f"--clicks {v['clicks']} goes with --music: without music the clicks are the track", key="clicks"
        )
    given = [k for k in ("music_every", "music_bpm", "music_offset") if v.get(k) is not None]
    given += [k for k, default in _WITH_MUSIC if v.get(k, default) != default]
    if given:
        flags = ", ".join("--" + k.replace("_", "-") for k in given)
        verb = "goes" if len(given) == 1 else "go"
        raise UsageError(f"{flags} {verb} with --music: add your songs with --music, or leave it out", key=given[0])


def music_options(v: dict[str, Any]) -> MusicOptions | None:
    """The gate's part: the record from parsed values (with defaults), or None without --music.

    Raises
    ------
    UsageError
        A music setting out of range or without songs, or no ``rubberband`` program.
    """
    if v.get("music") is None:
        _without_music(v)
        return None
    from stridebeat.music.stretch import rubberband_path

    try:
        rubberband_path()
    except StridebeatError as exc:  # at the gate, before any work, a missing program is the user's to fix
        raise UsageError(str(exc), key="music") from None
    bpm = v.get("music_bpm")
    if bpm is not None and not 40.0 <= bpm <= 320.0:
        raise UsageError(f"--music-bpm {bpm:g} is out of range: give 40 to 320", key="music_bpm")
    duck = v.get("music_duck")
    duck = MUSIC_DUCK_DB if duck is None else float(duck)
    if not 0.0 <= duck <= MUSIC_DUCK_MAX_DB:
        raise UsageError(
            f"--music-duck {duck:g} dB is out of range: give 0 to {MUSIC_DUCK_MAX_DB:g} dB", key="music_duck"
        )
    offset = v.get("music_offset")
    if offset is not None and offset < 0:
        raise UsageError(
            f"--music-offset {offset:g} s is negative: give the first beat's time in the song", key="music_offset"
        )
    return MusicOptions(
        songs=expand(v["music"]),
        every=v.get("music_every"),
        bpm=bpm,
        offset_s=offset,
        in_rest=v.get("music_in_rest") or RestMusic.SOFT,
        duck_db=duck,
        clicks=v.get("clicks") or ClickLevel.ON,
        stretch=v.get("music_stretch") or Stretcher.CLEAN,
    )
