"""A private PulseAudio server with a null sink, for the tests that play real audio (marker ``soundserver``).

The server runs in the foreground as a child of the test session, with its own XDG_RUNTIME_DIR and HOME, no default
configuration (``-n``: the default one and daemon mode drop the first ~60 ms of playback and leave zombies) and one
float32 null sink at 48 kHz, so what a player writes comes back from the sink's monitor bit for bit. It is stopped by
its PID. Where it cannot start the tests skip with the reason, unless STRIDEBEAT_REQUIRE_SOUNDSERVER=1 (CI), where they
fail.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

REQUIRE_ENV = "STRIDEBEAT_REQUIRE_SOUNDSERVER"
SINK = "stridebeat_test"
RATE = 48000
INSTALL = "apt-get install pulseaudio pulseaudio-utils libasound2-plugins libportaudio2"


def unavailable(reason: str, *, what: str = "sound server"):
    """Skip (on a developer's machine) or fail (where the environment promises a sound server and PortAudio)."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{what} required ({REQUIRE_ENV}=1) but {reason}", pytrace=False)
    pytest.skip(f"no {what}: {reason}")


class SoundServer:
    """``start()`` a server in ``root``; ``env`` is the environment its clients need; ``stop()`` ends it."""

    def __init__(self, root: Path):
        self.root = Path(root)
        run, home = self.root / "run", self.root / "home"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
        self.env.update(XDG_RUNTIME_DIR=str(run), HOME=str(home), PULSE_SERVER=f"unix:{run}/pulse/native")
        self.proc: subprocess.Popen | None = None
        self.log = self.root / "pulseaudio.log"

    def start(self, timeout: float = 10.0) -> None:
        for tool in ("pulseaudio", "pactl", "parec"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"{tool} is not installed ({INSTALL})")
        for d in ("run", "home"):
            (self.root / d).mkdir(mode=0o700, parents=True, exist_ok=True)
        cmd = [
            "pulseaudio",
            "-n",
            "--daemonize=no",
            "--system=false",
            "--exit-idle-time=-1",
            "--log-target=stderr",
            "--load=module-native-protocol-unix auth-anonymous=1",
            f"--load=module-null-sink sink_name={SINK} rate={RATE} format=float32le channels=2 norewinds=1",
        ]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(cmd, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pulseaudio exited with code {self.proc.returncode}: {self._log_tail()}")
            ok = subprocess.run(["pactl", "info"], env=self.env, capture_output=True, timeout=5).returncode == 0
            if ok:
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"pulseaudio did not answer within {timeout:g} s: {self._log_tail()}")

    def _log_tail(self) -> str:
        lines = self.log.read_text(errors="replace").strip().splitlines() if self.log.exists() else []
        errors = [ln for ln in lines if ln.startswith("E:")] or lines
        return errors[-1] if errors else "no log"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    @contextlib.contextmanager
    def recording(self, path: Path, *, settle_s: float = 0.3):
        """Record the sink's monitor (float32, stereo, 48 kHz) into ``path`` while the block runs.

        Yields a function that returns the recording as a (frames, 2) float32 array once the block has ended.
        """
        cmd = [
            "parec",
            f"--device={SINK}.monitor",
            "--format=float32le",
            f"--rate={RATE}",
            "--channels=2",
            "--raw",
            str(path),
        ]
        proc = subprocess.Popen(cmd, env=self.env, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(settle_s)  # parec connects and starts its stream before anything plays
        if proc.poll() is not None:
            raise RuntimeError(f"parec failed: {proc.stderr.read().decode(errors='replace').strip()}")
        try:
            yield lambda: np.fromfile(path, dtype=np.float32).reshape(-1, 2)
        finally:
            time.sleep(settle_s)  # what was played last reaches the monitor
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stridebeat(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess:
        """Run ``stridebeat ARGS`` as a client of this server (stdin and stdout not terminals)."""
        return subprocess.run(
            [sys.executable, "-m", "stridebeat", *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


@contextlib.contextmanager
def busy_cpus(n: int = 1):
    """Keep ``n`` CPU cores busy with helper processes (spinning Python loops) while the block runs."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        time.sleep(0.2)
        yield procs
    finally:
        for p in procs:
            p.kill()
            p.wait()


@contextlib.contextmanager
def running_server():
    """A started SoundServer in a short-lived folder (socket paths must stay under ~100 characters)."""
    root = Path(tempfile.mkdtemp(prefix="stridebeat-pulse-"))
    server = SoundServer(root)
    try:
        try:
            server.start()
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            unavailable(str(exc))
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def sound_server():
    """A PulseAudio server with a float32 null sink for the whole session (skips or fails where it cannot start)."""
    with running_server() as server:
        yield server
