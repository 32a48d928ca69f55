"""Atomic file writes: a complete temporary file in the target's folder, then one rename.

Readers and racing writers only ever see a whole file: the old one or one writer's new one. An interrupted or failed
write leaves the target as it was and no temporary file behind. Used for audio (``export``), presets and side files.

``durable`` (the default) also syncs the file and its folder entry to disk before returning, so that a power cut
cannot lose or empty it: presets need that, a coach's sessions exist nowhere else. What a render writes (audio,
timeline, labels) is not synced, as audio tools do not sync theirs: it can be made again from its options.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import IO, Any

from stridebeat.errors import OutputError


@contextlib.contextmanager
def atomic_file(
    path: str | os.PathLike,
    *,
    replace: bool = True,
    binary: bool = True,
    make_folder: bool = False,
    durable: bool = True,
) -> Iterator[tuple[IO, str]]:
    """Yield (open file, its temporary path); on a clean exit the file is published at ``path`` (synced first if
    ``durable``).

    Without ``replace``, ``os.link`` publishes the file only if no file of that name exists, in one step (no
    check-then-write race); a taken name raises OutputError. ``make_folder`` creates a missing folder (the user's
    preset folder on first save); otherwise a missing folder is an error, as the user named it.
    """
    path = os.fspath(path)
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, f".{name}.{os.getpid()}-{os.urandom(4).hex()}.part")
    if make_folder:
        try:
            os.makedirs(folder or ".", exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create the folder {folder}: {exc.strerror or exc}") from None
    try:
        # O_EXCL: the name is ours alone; 0o666 lets the user's umask decide the mode, as for any file they save.
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        fh: IO[Any] = os.fdopen(fd, "w+b") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        with fh:
            yield fh, tmp
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            _publish_new(tmp, path)
        if durable:
            _fsync_dir(folder)
    except FileExistsError:
        # Exit code 1, as when render finds its output file there: the input was fine, the target is taken.
        raise OutputError(f"{path} exists: pass --force to replace it") from None
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        # After a publish the temporary name is gone (or is a second link to the published file): either way, remove.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def write_text(
    path: str | os.PathLike, text: str, *, replace: bool = True, make_folder: bool = False, durable: bool = True
) -> None:
    """Write a small text file (preset, timeline, labels) atomically."""
    with atomic_file(path, replace=replace, binary=False, make_folder=make_folder, durable=durable) as (fh, _):
        fh.write(text)


def _publish_new(tmp: str, path: str) -> None:
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:
        # File systems without hard links (some network and FAT mounts): a check, then the atomic rename.
        if os.path.lexists(path):
            raise FileExistsError(path) from None
        os.replace(tmp, path)


def _fsync_dir(folder: str) -> None:
    # The rename is durable only once the folder's entry is on disk (POSIX); Windows cannot open a folder for this.
    if os.name != "posix":
        return
    fd = os.open(folder or ".", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
