"""Reading the files a user names (presets, splits, profiles, recorded runs): regular files only, of bounded size.

A FIFO would block the reader, a device (``/dev/zero``) would never end, and a huge file would take all memory, so
every input is opened without blocking, checked to be a regular file, and read only up to a cap that the caller
states for its kind of file.
"""

from __future__ import annotations

import os
import stat

from stridebeat.errors import UsageError

MiB = 1 << 20


def read_input(path: str | os.PathLike[str], *, what: str, max_bytes: int) -> bytes:
    """The bytes of the regular file at ``path``, at most ``max_bytes`` of them.

    ``what`` names the file in messages ("--splits-from race.csv", "preset x.toml").

    Raises
    ------
    UsageError
        No such file, not a regular file (a folder, a FIFO, a device), unreadable, or larger than ``max_bytes``.
    """
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise UsageError(f"{what}: no such file: check the name") from None
    except OSError as exc:
        raise UsageError(f"{what}: cannot read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise UsageError(f"{what}: is a folder: give a file")
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(f"{what}: not a regular file (a pipe or a device): give a file saved on disk")
        if info.st_size > max_bytes:
            raise UsageError(
                f"{what}: {_size(info.st_size)} is too large for this kind of file (at most {_size(max_bytes)})"
            )
        os.set_blocking(fd, True)
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:  # the file grew while it was read
                raise UsageError(f"{what}: larger than {_size(max_bytes)}, too large for this kind of file")
        return b"".join(chunks)
    except OSError as exc:
        raise UsageError(f"{what}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _size(n: int) -> str:
    return f"{n / MiB:.1f} MB" if n >= MiB else f"{n / 1024:.0f} kB"
