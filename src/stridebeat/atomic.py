"""Atomic file writes: a complete, synced temporary file in the target's folder, then one rename.

Readers and racing writers only ever see a whole file: the old one or one writer's new one. An interrupted or failed
write leaves the target as it was and no temporary file behind. Used for audio (``export``), presets and side files.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from stridebeat.errors import OutputError


@contextmanager
def atomic_file(
    path: str | os.PathLike, *, replace: bool = True, binary: bool = True, make_folder: bool = False
) -> Iterator[tuple[IO, Path]]:
    """Yield (open file, its temporary path); on a clean exit the file is synced and published at ``path``.

    Without ``replace``, ``os.link`` publishes the file only if no file of that name exists, in one step (no
    check-then-write race); a taken name raises OutputError. ``make_folder`` creates a missing folder (the user's
    preset folder on first save); otherwise a missing folder is an error, as the user named it. The caller may finish the temporary file by path (e.g.
    append chunks) inside the block, after closing nothing: the handle is flushed and synced on exit.
    """
    path = Path(path)
    folder = path.parent
    tmp = folder / f".{path.name}.{os.getpid()}-{os.urandom(4).hex()}.part"
    if make_folder:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create the folder {folder}: {exc.strerror or exc}") from None
    try:
        # O_EXCL: the name is ours alone; 0o666 lets the user's umask decide the mode, as for any file they save.
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "w+b" if binary else "w", **({} if binary else {"encoding": "utf-8", "newline": "\n"})) as fh:
            yield fh, tmp
            fh.flush()
            os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            _publish_new(tmp, path)
        _fsync_dir(folder)
    except FileExistsError:
        # Exit code 1, as when render finds its output file there: the input was fine, the target is taken.
        raise OutputError(f"{path} exists: pass --force to replace it") from None
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        # After a publish the temporary name is gone (or is a second link to the published file): either way, remove.
        tmp.unlink(missing_ok=True)


def write_text(path: str | os.PathLike, text: str, *, replace: bool = True, make_folder: bool = False) -> Path:
    """Write a small text file (preset, timeline, labels) atomically."""
    with atomic_file(path, replace=replace, binary=False, make_folder=make_folder) as (fh, _):
        fh.write(text)
    return Path(path)


def _publish_new(tmp: Path, path: Path) -> None:
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:
        # File systems without hard links (some network and FAT mounts): a check, then the atomic rename.
        if path.exists():
            raise FileExistsError(path) from None
        os.replace(tmp, path)


def _fsync_dir(folder: Path) -> None:
    # The rename is durable only once the folder's entry is on disk (POSIX); Windows cannot open a folder for this.
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
