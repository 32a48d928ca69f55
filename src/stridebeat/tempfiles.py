"""Temporary files that name their owner and hold a lock, the sweep of those left by killed runs, and the file
system steps of a publish that must not replace a file (link-or-fail).

A temporary file is named ``.<target>.stridebeat-<owner>-<pid>-<tag>.part``: ``owner`` names the machine's boot and
PID namespace, the scope in which a PID means something, and the writer holds an advisory lock (``flock``) on the file
from its creation until it is published or removed. The sweep removes a temporary file only when it can take that
lock (its writer is gone) and either the owner is ours and the PID no longer runs, or the file has not changed for
``STALE_AFTER_S`` (another machine or container, whose PIDs say nothing here). Anything else is left: a file it
cannot lock or open, and the names of earlier versions (``stridebeat-<pid>-<tag>``), which carry no owner and no lock.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import os
import platform
import re
import secrets
import stat
import sys
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, so no temporary file is ever judged stale
    fcntl = None  # type: ignore[assignment]

TEMP_RE = re.compile(r"^\..*\.stridebeat-(?:([0-9a-f]{8})-)?(\d+)-[0-9a-f]{8}\.part$", re.DOTALL)
# Bytes of the target's name kept in a temporary name: room for the prefix and suffix under the usual 255-byte limit.
TEMP_KEEP_BYTES = 160
# An unlocked temporary file of another owner is removed only once it has been left this long: its writer's lock may
# be one we cannot see (a network mount without shared locks, or one that emulates flock with POSIX locks, which drop
# when the writer's encoder closes the file), and that must not cost a running render its file.
STALE_AFTER_S = 3600.0
# os.link fails with these where a file system has no hard links (FAT, some network mounts).
NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS}


@functools.cache
def owner() -> str:
    """Eight hex digits naming this machine's boot and PID namespace: the scope in which our PIDs mean something."""
    parts = [platform.node()]
    with contextlib.suppress(OSError):
        parts.append(Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip())
    with contextlib.suppress(OSError):
        parts.append(os.readlink("/proc/self/ns/pid"))
    return hashlib.blake2s("\0".join(parts).encode(), digest_size=4).hexdigest()


def temp_path(path: str | os.PathLike[str], *, suffix: str = ".part") -> Path:
    """A fresh temporary name beside ``path``, recognisable as ours by ``TEMP_RE`` (with the default suffix)."""
    target = Path(path)
    kept = os.fsencode(target.name)[:TEMP_KEEP_BYTES].decode(errors="ignore")
    return target.with_name(f".{kept}.stridebeat-{owner()}-{os.getpid()}-{secrets.token_hex(4)}{suffix}")


def remove_stale_temps(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files of stridebeat processes that no longer run; returns what was removed.

    A file is removed only if its writer's lock can be taken and its owner's PID is gone (or, for another owner, it
    has been left for ``STALE_AFTER_S``); anything uncertain is left.
    """
    removed = []
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            m = TEMP_RE.match(entry.name)
            if m is None or m.group(1) is None or not entry.is_file(follow_symlinks=False):
                continue  # not ours, or an earlier version's name: no lock and no owner to prove its writer gone
            with contextlib.suppress(OSError):
                if _remove_if_stale(Path(entry.path), owned=m.group(1) == owner(), pid=int(m.group(2))):
                    removed.append(Path(entry.path))
    return removed


def _remove_if_stale(path: Path, *, owned: bool, pid: int) -> bool:
    if fcntl is None:
        return False
    # O_NONBLOCK: never wait on a file that became a pipe; read-write, as network file systems lock only such files.
    fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # held: its writer runs (or this file system cannot lock: in doubt)
        if (owned and _running(pid)) or (not owned and time.time() - st.st_mtime < STALE_AFTER_S):
            return False
        now = os.lstat(path)
        if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            return False
        os.unlink(path)  # while holding the lock, so its writer cannot be mid-way
        return True
    finally:
        os.close(fd)


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


def lock(fd: int) -> None:
    """Hold the writer's lock on a new temporary file (released when its last descriptor closes); where the file
    system cannot lock, the sweep cannot either, and leaves the file."""
    if fcntl is not None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def link_new(tmp: Path, target: Path) -> None:
    """Publish ``tmp`` at ``target`` only if no file is there, in one step (FileExistsError otherwise)."""
    try:
        os.link(tmp, target)
        return
    except OSError as exc:
        if exc.errno not in NO_LINKS:
            raise
    if not _rename_noreplace(tmp, target):
        # Neither hard links nor renameat2 here: a check, then the atomic rename (a window remains).
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(target))
        os.replace(tmp, target)


def _rename_noreplace(tmp: Path, target: Path) -> bool:
    """Rename with Linux's RENAME_NOREPLACE; False where the system or the file system cannot."""
    if sys.platform != "linux":
        return False
    import ctypes  # only on file systems without hard links

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_noreplace = -100, 1
    if renameat2(at_fdcwd, os.fsencode(tmp), at_fdcwd, os.fsencode(target), rename_noreplace) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS):
        return False
    raise OSError(err, os.strerror(err), str(target))


def fsync_dir(folder: Path) -> None:
    # The rename is durable only once the folder's entry is on disk (POSIX); Windows cannot open a folder for this.
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
