"""`stridebeat serve` as a user runs it: where it listens (read from the kernel's table of listening sockets, never by
connecting to another address), the token under --lan, HTTPS with --tls, one-line errors, and Ctrl-C (exit 130,
nothing left behind). Every request goes to 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

STARTUP_S = 60.0
LISTENING = re.compile(r"^listening on (\S+):(\d+)$")


def env_for(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        STRIDEBEAT_PRESETS_DIR=str(tmp_path / "presets"),
        STRIDEBEAT_STRIDES_DIR=str(tmp_path / "strides"),
        STRIDEBEAT_CACHE_DIR=str(tmp_path / "cache"),
    )
    return env


def read_line(proc: subprocess.Popen, deadline: float) -> str:
    assert proc.stdout is not None
    out = b""
    while not out.endswith(b"\n"):
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"no output from stridebeat serve in {STARTUP_S} s"
        chunk = os.read(proc.stdout.fileno(), 1)
        assert chunk, f"stridebeat serve ended: {proc.wait()} {proc.stderr.read() if proc.stderr else ''}"
        out += chunk
    return out.decode().rstrip("\n")


@contextlib.contextmanager
def serving(tmp_path: Path, *args: str) -> Iterator[tuple[subprocess.Popen, str, int, list[str]]]:
    """``stridebeat serve --port 0 ARGS``: yields (process, bound host, port, the lines it printed after that)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "stridebeat", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env_for(tmp_path),
    )
    try:
        deadline = time.monotonic() + STARTUP_S
        m = LISTENING.match(read_line(proc, deadline))
        assert m, "the first line names the listening address"
        lines = [read_line(proc, deadline)]
        yield proc, m.group(1), int(m.group(2)), lines
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(STARTUP_S)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def listening_address(port: int) -> str:
    """The local address of the TCP socket listening on ``port``, from /proc/net/tcp (IPv4)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        address, port_hex = fields[1].split(":")
        if int(port_hex, 16) == port and fields[3] == "0A":  # 0A: LISTEN
            return socket.inet_ntoa(bytes.fromhex(address)[::-1])
    raise AssertionError(f"nothing listens on port {port}")


def wait_ready(url: str, **kwargs) -> httpx.Response:
    deadline = time.monotonic() + STARTUP_S
    while True:
        try:
            return httpx.get(url, timeout=5, **kwargs)
        except httpx.TransportError:
            assert time.monotonic() < deadline, f"{url} did not answer"
            time.sleep(0.05)


pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").is_file(), reason="reads Linux's /proc/net/tcp")


def test_default_listens_on_loopback_only_and_ctrl_c_exits_130(tmp_path):
    with serving(tmp_path) as (proc, host, port, lines):
        assert host == "127.0.0.1"
        assert listening_address(port) == "127.0.0.1"
        assert lines[0] == f"open http://127.0.0.1:{port}/ (this computer only; --lan for a phone)"
        assert wait_ready(f"http://127.0.0.1:{port}/").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/api/presets", timeout=5).status_code == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(STARTUP_S) == 130
        assert proc.stderr is not None and proc.stderr.read().decode().strip() == "Interrupted."
    cache = tmp_path / "cache"
    assert not cache.exists() or [p for p in cache.iterdir() if p.name.startswith(".")] == []


def test_ctrl_c_mid_render_stops_it_and_leaves_no_file(tmp_path):
    with serving(tmp_path) as (proc, _, port, _):
        base = f"http://127.0.0.1:{port}"
        wait_ready(f"{base}/")
        body = {"settings": {"cadence": 180, "duration": "60m"}}
        tid = httpx.post(f"{base}/api/render", json=body, timeout=30).json()["id"]
        deadline = time.monotonic() + STARTUP_S
        while httpx.get(f"{base}/api/render/{tid}", timeout=30).json()["progress"] == 0:
            assert time.monotonic() < deadline, "the render did not start"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(STARTUP_S) == 130
    assert list((tmp_path / "cache").iterdir()) == []  # neither the track nor its staged file


def test_lan_listens_on_every_address_and_needs_the_token(tmp_path):
    with serving(tmp_path, "--lan") as (proc, host, port, lines):
        assert host == "0.0.0.0"
        assert listening_address(port) == "0.0.0.0"
        m = re.search(r"\?token=([A-Za-z0-9_-]{16,})", lines[0])
        assert m, lines[0]
        token = m.group(1)
        # Reached through loopback only: the server listens there too.
        assert wait_ready(f"http://127.0.0.1:{port}/").status_code == 403
        assert httpx.get(f"http://127.0.0.1:{port}/api/presets", timeout=5).status_code == 403
        assert httpx.get(f"http://127.0.0.1:{port}/", params={"token": token}, timeout=5).status_code == 200
        answer = httpx.get(f"http://127.0.0.1:{port}/api/presets", headers={"x-stridebeat-token": token}, timeout=5)
        assert answer.status_code == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(STARTUP_S) == 130


def test_two_servers_get_different_tokens(tmp_path):
    tokens = []
    for _ in range(2):
        with serving(tmp_path, "--lan") as (proc, _, _, lines):
            tokens.append(re.search(r"\?token=([A-Za-z0-9_-]+)", lines[0]).group(1))
    assert tokens[0] != tokens[1]


def test_tls_serves_https_with_the_users_certificate(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        capture_output=True, timeout=60,
    )  # fmt: skip
    if made.returncode != 0:
        pytest.fail(f"openssl could not make a test certificate: {made.stderr.decode()}")
    with serving(tmp_path, "--tls", str(cert), str(key)) as (proc, host, port, lines):
        assert host == "127.0.0.1"
        assert lines[0].startswith(f"open https://127.0.0.1:{port}/")
        answer = wait_ready(f"https://127.0.0.1:{port}/", verify=ssl.create_default_context(cafile=str(cert)))
        assert answer.status_code == 200 and "<title>stridebeat</title>" in answer.text
        proc.send_signal(signal.SIGINT)
        assert proc.wait(STARTUP_S) == 130


@pytest.mark.parametrize("which", ["cert", "key"])
def test_bad_tls_files_are_one_line_usage_errors(tmp_path, run, which):
    good = tmp_path / "real.pem"
    good.write_text("not a certificate\n")
    args = [str(good), str(tmp_path / "missing.pem")] if which == "key" else [str(tmp_path / "missing.pem"), str(good)]
    code, _, err = run("serve", "--port", "0", "--tls", *args)
    assert code == 2
    assert err.count("\n") == 1 and "missing.pem: no such file" in err
    code, _, err = run("serve", "--port", "0", "--tls", str(good), str(good))
    assert code == 2 and err.startswith("Error: --tls: cannot use that certificate and key")
    assert err.count("\n") == 1


def test_a_taken_port_is_a_one_line_usage_error(tmp_path, run, monkeypatch):
    for env, value in env_for(tmp_path).items():
        monkeypatch.setenv(env, value)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code, _, err = run("serve", "--port", str(port))
    assert code == 2
    assert err.startswith(f"Error: cannot listen on port {port}:") and err.endswith("give another with --port\n")


def test_serve_has_help(run):
    code, out, _ = run("serve", "--help")
    assert code == 0 and "--lan" in out and "--tls CERT KEY" in out
