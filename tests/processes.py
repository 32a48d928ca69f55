"""A second Python process for the tests of two runs meeting: it prints lines, then "ready", and waits."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def process(script: str, *args: object) -> Iterator[list[str]]:
    """A second Python process running ``script``: yields what it printed before "ready"; closing its input ends it."""
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *map(str, args)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdin is not None
    try:
        lines = []
        while (line := proc.stdout.readline()) not in ("", "ready\n"):
            lines.append(line.rstrip("\n"))
        assert line == "ready\n", lines
        yield lines
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
