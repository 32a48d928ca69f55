"""Whole-or-nothing file writes: complete temporary files in the targets' folders, then renames.

Readers only ever see a whole file: the old one or the new one. An output replaces only a regular file: a stream
name (``-``, ``/dev/stdout``), a device, a pipe, a socket, a folder or a symbolic link at its path is refused before
any work, and again just before the rename. Files staged together are published together or not at all: a replaced
original keeps a second name until every target is in place, and is put back if any step fails. Without ``replace``,
a file that appeared at a target meanwhile is never replaced: the new file is linked in only where no file is, in one
step. Temporary files name their owner and are locked while written (``stridebeat.tempfiles``), so the next write into
a folder removes those of killed runs, and never a file whose writer is alive.

``durable`` also syncs a file and its folder entry to disk, so that a power cut cannot lose or empty it: presets need
that, a coach's sessions exist nowhere else. Rendered files (audio, timeline, labels, plots) are not synced, as audio
tools do not sync theirs: they can be made again from their options.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from stridebeat.errors import OutputError, StridebeatError, UsageError
from stridebeat.tempfiles import NO_LINKS, TEMP_RE, fsync_dir, link_new, lock, remove_stale_temps, temp_path

__all__ = [
    "TEMP_RE",
    "Staged",
    "atomic_file",
    "check_targets",
    "refuse_non_file",
    "remove_stale_temps",
    "temp_path",
    "write_text",
]

STREAMS = {"-": "standard output", "/dev/stdout": "standard output", "/dev/stderr": "standard error",
           "/dev/stdin": "standard input", "/dev/tty": "the terminal"}  # fmt: skip
KINDS = {stat.S_IFCHR: "a device", stat.S_IFBLK: "a device", stat.S_IFIFO: "a pipe", stat.S_IFSOCK: "a socket"}


def _refusal(path: str | os.PathLike[str]) -> StridebeatError | None:
    """Why an output may not be written at ``path`` (a stream, a device, a pipe, a folder, a link), or None when it
    names a regular file or nothing yet."""
    path = Path(path)
    stream = STREAMS.get(os.path.normpath(path))
    if stream is not None:
        return UsageError(f"{path} is {stream}: stridebeat writes files; give a file name such as race.wav")
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None  # nothing there (or a folder problem, which check_targets names)
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        try:
            mode = os.stat(path).st_mode
        except OSError:
            return OutputError(f"{path} is a symbolic link to nothing: outputs replace only files; give a file name")
        if stat.S_ISREG(mode):
            return OutputError(
                f"{path} is a symbolic link: outputs are never written through links; give the file's own name"
            )
    if stat.S_ISDIR(mode):
        return OutputError(f"cannot write {path}: it is a folder; give a file name")
    kind = KINDS.get(stat.S_IFMT(mode))
    return OutputError(f"{path} is {kind}, not a file: give a file name" if kind else f"{path} is not a file")


def refuse_non_file(path: str | os.PathLike[str]) -> None:
    """Raise the one-line error of an output path that names a stream, a device, a pipe, a socket, a folder or a
    symbolic link; return for a regular file or nothing yet (the first check of an output, before its extension)."""
    problem = _refusal(path)
    if problem is not None:
        raise problem


def check_targets(paths: Sequence[str | os.PathLike[str]], *, force: bool) -> list[Path]:
    """Check output files before any work: none is a stream, a device, a pipe, a socket, a folder or a symbolic
    link, each folder exists and can be written, each name fits the file system, no two outputs share a path, and an
    existing file is replaced only with ``force``. Stale temporary files of killed runs in those folders are removed.

    Raises
    ------
    UsageError
        A name too long for the file system, two outputs at one path, or ``-`` (standard output) and its kin.
    OutputError
        A target that is not a regular file, a missing or unwritable folder, or an existing file without ``force``.
    """
    targets: list[Path] = []
    seen: dict[str, Path] = {}
    for given in paths:
        path = Path(given)
        folder = path.parent
        limit = _name_max(folder)
        if len(os.fsencode(path.name)) > limit:
            raise UsageError(f"the file name {path.name[:24]}… is too long: this file system takes {limit} bytes")
        problem = _refusal(path)
        if problem is not None:
            raise problem
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"cannot write {path}: {folder} is not a folder")
        if not folder.is_dir():
            raise OutputError(f"cannot write {path}: folder {folder} does not exist")
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


@dataclass
class _Temp:
    """A staged file: its temporary path, its target, and the open descriptor that holds its lock."""

    tmp: Path
    target: Path
    fd: int
    inode: tuple[int, int]
    existed: bool  # the target existed when staged: a taken name then "exists", else it "appeared"


@dataclass
class _Placed:
    """A target published by the current ``publish()``, with what undoes it."""

    target: Path
    inode: tuple[int, int]
    backup: Path | None  # the replaced original, kept until every target is in place


class Staged:
    """Files written under temporary names and published together by ``publish()``: all of them, or none.

    Use it as a context manager: leaving it without ``publish()`` (an error, an interrupt) removes every temporary
    file. ``replace=False`` refuses to publish over an existing file, in the same step as the publish.
    """

    # How a target taken since it was staged is reported (atomic_file, a quick write, reports it as existing).
    appeared = "appeared while rendering"

    def __init__(self, *, replace: bool = True, durable: bool = False) -> None:
        self.replace = replace
        self.durable = durable
        self._files: list[_Temp] = []

    def path(self, target: str | os.PathLike[str]) -> Path:
        """A new, empty temporary file for ``target``, for a writer that opens files by name (libsndfile); it is
        locked as ours until ``publish`` or ``discard``.

        Raises
        ------
        OutputError
            The file cannot be created (a read-only or missing folder).
        """
        target = Path(target)
        tmp = temp_path(target)
        try:
            # O_EXCL: the name is ours alone; 0o666 lets the user's umask decide the mode, as for any file they save.
            fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        except OSError as exc:
            raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
        lock(fd)
        st = os.fstat(fd)
        self._files.append(_Temp(tmp, target, fd, (st.st_dev, st.st_ino), os.path.lexists(target)))
        return tmp

    def open(self, target: str | os.PathLike[str], *, binary: bool = True) -> IO[Any]:
        """The temporary file for ``target``, open for writing; close it before ``publish``."""
        self.path(target)
        fd = os.dup(self._files[-1].fd)  # its own descriptor: closing it keeps the lock, which the first one holds
        return os.fdopen(fd, "w+b") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="\n")

    @property
    def last(self) -> Path:
        """The temporary path handed out last."""
        return self._files[-1].tmp

    def text(self, target: str | os.PathLike[str], text: str) -> None:
        """Stage ``text`` (UTF-8, ``\\n`` line ends) for ``target``."""
        with self.open(target, binary=False) as fh:
            fh.write(text)
            self._sync(fh)

    def _sync(self, fh: IO[Any]) -> None:
        if self.durable:
            fh.flush()
            os.fsync(fh.fileno())

    def publish(self) -> None:
        """Put every temporary file in place of its target: all of them, or, if any step fails, none (each target is
        left as it was).

        Raises
        ------
        OutputError
            A target that is no longer a regular file, one taken meanwhile (without ``replace``), or a failed rename;
            the message names the target.
        """
        try:
            for staged in self._files:
                self._recheck(staged)
            placed: list[_Placed] = []
            try:
                for staged in self._files:
                    placed.append(self._place(staged))
                if self.durable:
                    for folder in {p.target.parent for p in placed}:
                        fsync_dir(folder)
            except BaseException:
                _undo(placed)
                raise
            for done in placed:
                if done.backup is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(done.backup)
        finally:
            self.discard()

    def _recheck(self, staged: _Temp) -> None:
        # Before anything moves: most changes since check_targets are caught here, and nothing needs undoing.
        problem = _refusal(staged.target)
        if problem is not None:
            raise problem
        if not self.replace and os.path.lexists(staged.target):
            raise self._taken(staged)

    def _taken(self, staged: _Temp) -> OutputError:
        # Exit code 1, as when render finds its output there: the input was fine, the target is taken.
        how = "exists" if staged.existed else self.appeared
        return OutputError(f"{staged.target} {how}: pass --force to replace it")

    def _place(self, staged: _Temp) -> _Placed:
        tmp, target = staged.tmp, staged.target
        backup = None
        try:
            if not self.replace:
                link_new(tmp, target)
                return _Placed(target, staged.inode, None)
            if os.path.lexists(target):
                backup = _keep(target)
            os.replace(tmp, target)
        except FileExistsError:
            raise self._taken(staged) from None
        except OSError as exc:
            if backup is not None:
                _undo([_Placed(target, staged.inode, backup)])
            gone = exc.errno == errno.ENOENT and not os.path.lexists(tmp)
            reason = "its temporary file was removed meanwhile" if gone else exc.strerror or exc
            raise OutputError(f"cannot write {target}: {reason}") from None
        return _Placed(target, staged.inode, backup)

    def discard(self) -> None:
        """Remove the temporary files (after a publish, only links or nothing remain) and release their locks."""
        for staged in self._files:
            with contextlib.suppress(OSError):  # already renamed into place
                os.unlink(staged.tmp)
            os.close(staged.fd)  # after the unlink: an unlocked temporary file is never seen
        self._files.clear()

    def __enter__(self) -> Staged:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()


# Tries at keeping a target that other writers keep replacing; each lost race means one of them published.
_KEEP_TRIES = 100


def _keep(target: Path) -> Path | None:
    """A second name for the original at ``target``, so that it can be put back; the original stays in place.

    None when the target went meanwhile: nothing is there to keep.
    """
    backup = temp_path(target, suffix=".old")  # never swept: it may be the only copy of the user's file
    for _ in range(_KEEP_TRIES):
        try:
            os.link(target, backup)
            return backup
        except FileNotFoundError:
            # link() refuses a file whose last name went between lookup and link: another writer replaced the
            # target in that moment. What is there now is theirs, and is kept in its turn.
            if not os.path.lexists(target):
                return None
        except OSError as exc:
            if exc.errno not in NO_LINKS:
                raise
            try:
                os.rename(target, backup)  # no hard links here: moved aside instead, for the moment of the rename
            except FileNotFoundError:
                return None
            return backup
    raise OSError(errno.EBUSY, "another program keeps replacing it")


def _undo(placed: Sequence[_Placed]) -> None:
    """Put every target back as it was, newest first; a target someone else has written since is left to them."""
    for done in reversed(placed):
        with contextlib.suppress(OSError):  # a backup that cannot be put back stays, under its own name
            try:
                now = os.lstat(done.target)
            except FileNotFoundError:
                now = None
            ours = now is not None and (now.st_dev, now.st_ino) == done.inode
            if done.backup is not None and (ours or now is None):
                os.replace(done.backup, done.target)
            elif done.backup is not None:
                os.unlink(done.backup)
            elif ours:
                os.unlink(done.target)


class _QuickStaged(Staged):
    # A file written in a moment (a preset, a plot): a name taken meanwhile is reported as existing.
    appeared = "exists"


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

    Without ``replace``, the file is published only if no file of that name exists, in one step (no check-then-write
    race); a taken name raises OutputError. ``make_folder`` creates a missing folder (the user's preset folder on
    first save); otherwise a missing folder is an error, as the user named it.
    """
    target = Path(path)
    if make_folder:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create the folder {target.parent}: {exc.strerror or exc}") from None
    with _QuickStaged(replace=replace, durable=durable) as staged:
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
