"""Whole-or-nothing file writes: complete temporary files in the targets' folders, then renames.

Readers only ever see a whole file: the old one or the new one. A write that fails or is interrupted leaves every
target as it was and removes its temporary files. A temporary file is named ``.<target>.stridebeat-<pid>-<tag>.part``,
so one left by a process that was killed outright (kill -9, a power cut) is recognised by the next write into that
folder and removed, and no other file ever is.

``durable`` also syncs a file and its folder entry to disk, so that a power cut cannot lose or empty it: presets need
that, a coach's sessions exist nowhere else. Rendered files (audio, timeline, labels, plots) are not synced, as audio
tools do not sync theirs: they can be made again from their options.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from stridebeat.errors import OutputError, UsageError

TEMP_RE = re.compile(r"^\..*\.stridebeat-(\d+)-[0-9a-f]{8}\.part$", re.DOTALL)
# Bytes of the target's name kept in a temporary name: room for the prefix and suffix under the usual 255-byte limit.
TEMP_KEEP_BYTES = 160


def temp_path(path: str | os.PathLike[str]) -> Path:
    """A fresh temporary name beside ``path``, recognisable as ours by ``TEMP_RE``."""
    target = Path(path)
    kept = os.fsencode(target.name)[:TEMP_KEEP_BYTES].decode(errors="ignore")
    return target.with_name(f".{kept}.stridebeat-{os.getpid()}-{secrets.token_hex(4)}.part")


def remove_stale_temps(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files of stridebeat processes that no longer run; returns what was removed."""
    removed = []
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            m = TEMP_RE.match(entry.name)
            if m is None or not entry.is_file(follow_symlinks=False) or _running(int(m.group(1))):
                continue
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # another user's process, or not a pid we can ask about: not ours to judge
    return True


def check_targets(paths: Sequence[str | os.PathLike[str]], *, force: bool) -> list[Path]:
    """Check output files before any work: each folder exists and can be written, each name fits the file system,
    no two outputs share a path, and an existing file is replaced only with ``force``. Stale temporary files of
    killed runs in those folders are removed.

    Raises
    ------
    UsageError
        A name too long for the file system, or two outputs at one path.
    OutputError
        A missing or unwritable folder, a folder given as a file, or an existing file without ``force``.
    """
    targets: list[Path] = []
    seen: dict[str, Path] = {}
    for given in paths:
        path = Path(given)
        folder = path.parent
        limit = _name_max(folder)
        if len(os.fsencode(path.name)) > limit:
            raise UsageError(f"the file name {path.name[:24]}… is too long: this file system takes {limit} bytes")
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"cannot write {path}: {folder} is not a folder")
        if not folder.is_dir():
            raise OutputError(f"cannot write {path}: folder {folder} does not exist")
        if path.is_dir():
            raise OutputError(f"cannot write {path}: it is a folder; give a file name")
        if not os.access(folder, os.W_OK):
            raise OutputError(f"cannot write {path}: no permission to write in {folder}")
        key = os.path.realpath(path)
        if key in seen:
            raise UsageError(f"{seen[key]} and {path} name the same file: give each output its own name")
        seen[key] = path
        if path.exists() and not force:
            raise OutputError(f"{path} exists: pass --force to replace it")
        targets.append(path)
    for folder in {t.parent for t in targets}:
        remove_stale_temps(folder)
    return targets


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder if folder.is_dir() else ".", "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


class Staged:
    """Files written under temporary names and published together by ``publish()``: all of them, or none.

    Use it as a context manager: leaving it without ``publish()`` (an error, an interrupt) removes every temporary
    file. ``replace=False`` refuses to publish over an existing file (checked again at the rename).
    """

    def __init__(self, *, replace: bool = True, durable: bool = False) -> None:
        self.replace = replace
        self.durable = durable
        self._files: list[tuple[Path, Path]] = []  # (temporary, target)

    def path(self, target: str | os.PathLike[str]) -> Path:
        """A temporary path for ``target``, for a writer that opens files by name (libsndfile)."""
        tmp = temp_path(target)
        self._files.append((tmp, Path(target)))
        return tmp

    def open(self, target: str | os.PathLike[str], *, binary: bool = True) -> IO[Any]:
        """A new temporary file for ``target``, open for writing; close it before ``publish``."""
        tmp = self.path(target)
        try:
            # O_EXCL: the name is ours alone; 0o666 lets the user's umask decide the mode, as for any file they save.
            fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        except OSError as exc:
            raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
        return os.fdopen(fd, "w+b") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="\n")

    @property
    def last(self) -> Path:
        """The temporary path handed out last."""
        return self._files[-1][0]

    def text(self, target: str | os.PathLike[str], text: str) -> None:
        with self.open(target, binary=False) as fh:
            fh.write(text)
            self._sync(fh)

    def _sync(self, fh: IO[Any]) -> None:
        if self.durable:
            fh.flush()
            os.fsync(fh.fileno())

    def publish(self) -> None:
        """Rename every temporary file over its target."""
        try:
            for tmp, target in self._files:
                if self.replace:
                    os.replace(tmp, target)
                else:
                    _publish_new(tmp, target)
                if self.durable:
                    _fsync_dir(target.parent)
        except FileExistsError as exc:
            # Exit code 1, as when render finds its output there: the input was fine, the target is taken.
            raise OutputError(f"{exc.filename} exists: pass --force to replace it") from None
        except OSError as exc:
            raise OutputError(f"cannot write {exc.filename or 'the output'}: {exc.strerror or exc}") from None
        finally:
            self.discard()

    def discard(self) -> None:
        """Remove the temporary files (after a publish, only links or nothing remain)."""
        for tmp, _ in self._files:
            with contextlib.suppress(OSError):  # never created (a read-only folder), or already renamed
                os.unlink(tmp)
        self._files.clear()

    def __enter__(self) -> Staged:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()


@contextlib.contextmanager
def atomic_file(
    path: str | os.PathLike[str],
    *,
    replace: bool = True,
    binary: bool = True,
    make_folder: bool = False,
    durable: bool = True,
) -> Iterator[tuple[IO[Any], Path]]:
    """Yield (open file, its temporary path); on a clean exit the file is published at ``path`` (synced first if
    ``durable``).

    Without ``replace``, ``os.link`` publishes the file only if no file of that name exists, in one step (no
    check-then-write race); a taken name raises OutputError. ``make_folder`` creates a missing folder (the user's
    preset folder on first save); otherwise a missing folder is an error, as the user named it.
    """
    target = Path(path)
    if make_folder:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create the folder {target.parent}: {exc.strerror or exc}") from None
    with Staged(replace=replace, durable=durable) as staged:
        fh = staged.open(target, binary=binary)
        try:
            with fh:
                yield fh, staged.last
                fh.flush()
                staged._sync(fh)
        except OSError as exc:
            raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
        staged.publish()


def write_text(
    path: str | os.PathLike[str],
    text: str,
    *,
    replace: bool = True,
    make_folder: bool = False,
    durable: bool = True,
) -> None:
    """Write a small text file (a preset, a timeline, labels) atomically."""
    with atomic_file(path, replace=replace, binary=False, make_folder=make_folder, durable=durable) as (fh, _):
        fh.write(text)


def _publish_new(tmp: Path, path: Path) -> None:
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise FileExistsError(17, "File exists", str(path)) from None
    except OSError:
        # File systems without hard links (some network and FAT mounts): a check, then the atomic rename.
        if os.path.lexists(path):
            raise FileExistsError(17, "File exists", str(path)) from None
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
