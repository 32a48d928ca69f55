"""The track cache: rendered files kept by id in one folder, the oldest removed first beyond a size cap.

A track's id is a hash of everything that makes its bytes (settings, the preset's text, the format, the version), so
the same request finds the same file, and an id is 32 hex digits: nothing a client sends ever becomes a path without
matching that pattern first.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Mapping, Set
from pathlib import Path
from typing import Any

from platformdirs import user_cache_dir

from stridebeat.atomic import atomic_file, remove_stale_temps
from stridebeat.errors import UsageError
from stridebeat.serve.bridge import TrackFormat

ENV_DIR = "STRIDEBEAT_CACHE_DIR"
TRACK_ID = re.compile(r"^[0-9a-f]{32}$")
META_SUFFIX = ".json"


def default_dir() -> Path:
    """``$STRIDEBEAT_CACHE_DIR``, else the platform's cache folder + ``tracks``."""
    env = os.environ.get(ENV_DIR)
    return Path(env).expanduser() if env else Path(user_cache_dir("stridebeat")) / "tracks"


def track_id(recipe: Mapping[str, Any]) -> str:
    """The id of the track ``recipe`` (JSON-able: settings, preset text, format, version) makes."""
    text = json.dumps(recipe, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def check_id(value: str) -> str:
    """``value`` if it is a track id; UsageError otherwise (so it can never name another file)."""
    if not TRACK_ID.fullmatch(value):
        raise UsageError("no such track: a track id is 32 hex digits, as the render answer gives it", key="track")
    return value


class TrackCache:
    """Rendered tracks in ``folder``, at most ``max_bytes`` of them (the oldest removed first)."""

    def __init__(self, folder: Path, *, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes

    def prepare(self) -> None:
        """Create the folder and remove what killed renders left there."""
        self.folder.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(self.folder)

    def path(self, tid: str, fmt: TrackFormat) -> Path:
        return self.folder / f"{check_id(tid)}.{TrackFormat(fmt).value}"

    def meta_path(self, tid: str) -> Path:
        return self.folder / f"{check_id(tid)}{META_SUFFIX}"

    def find(self, tid: str) -> tuple[Path, dict[str, Any]] | None:
        """(file, its record) of a finished track, or None."""
        try:
            meta = json.loads(self.meta_path(tid).read_text(encoding="utf-8"))
            path = self.path(tid, TrackFormat(meta["format"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return (path, meta) if path.is_file() else None

    def record(self, tid: str, meta: Mapping[str, Any]) -> None:
        """Write the record that marks ``tid``'s file as finished (after the file itself)."""
        with atomic_file(self.meta_path(tid), binary=False, durable=False) as (fh, _):
            json.dump(dict(meta), fh)

    def trim(self, *, keep: Set[str] = frozenset()) -> list[str]:
        """Remove whole tracks, oldest first, until the folder holds at most ``max_bytes``; ids in ``keep`` stay.

        A file removed while a client still downloads it stays readable through the open handle (POSIX), so a
        download in flight is not cut short.
        """
        groups: dict[str, list[os.DirEntry[str]]] = {}
        with contextlib.suppress(OSError), os.scandir(self.folder) as entries:
            for entry in entries:
                stem = entry.name.split(".", 1)[0]
                if TRACK_ID.fullmatch(stem) and entry.is_file(follow_symlinks=False):
                    groups.setdefault(stem, []).append(entry)
        sizes = {tid: sum(e.stat().st_size for e in files) for tid, files in groups.items()}
        total = sum(sizes.values())
        removed = []
        for tid in sorted(groups, key=lambda t: max(e.stat().st_mtime for e in groups[t])):
            if total <= self.max_bytes:
                break
            if tid in keep:
                continue
            # The record goes first: a track is finished only while its record exists.
            for entry in sorted(groups[tid], key=lambda e: not e.name.endswith(META_SUFFIX)):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
            total -= sizes[tid]
            removed.append(tid)
        return removed
