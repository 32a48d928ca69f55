"""Shared fixtures. Core-engine fixtures first; environment fixtures (a sound server) may follow below."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass

import pytest


def pytest_configure(config):
    # A suite started in the background (`pytest &` in a script starts it with SIGINT ignored) still tests Ctrl-C as
    # a terminal sends it: with SIGINT caught here, every child process starts with it at its default.
    import signal

    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(capsys, monkeypatch):
    """Run ``stridebeat ARGS`` in-process through the real entry point (``stridebeat.cli.main``).

    stdin is an empty non-terminal, as in a script, so no command prompts. Returns exit code, stdout and stderr.
    """
    from stridebeat.cli import main

    def run(*args: str) -> CliResult:
        monkeypatch.setattr(sys, "stdin", io.StringIO(""))
        capsys.readouterr()  # drop anything printed before
        with pytest.raises(SystemExit) as exit_info:
            main([str(a) for a in args])
        captured = capsys.readouterr()
        code = exit_info.value.code
        return CliResult(0 if code is None else code, captured.out, captured.err)

    return run


# --- User presets: an empty folder of one's own per test (STRIDEBEAT_PRESETS_DIR), and the real entry point. ---
@pytest.fixture
def user_dir(tmp_path, monkeypatch):
    """An empty user preset folder for this test: nothing reads or writes the real configuration."""
    from stridebeat.config import presets

    folder = tmp_path / "user-presets"
    monkeypatch.setenv(presets.ENV_DIR, str(folder))
    return folder


@pytest.fixture
def run(run_cli):
    """``run_cli`` as a plain (exit code, stdout, stderr) tuple."""

    def invoke(*args: str) -> tuple[int, str, str]:
        result = run_cli(*args)
        return result.code, result.out, result.err

    return invoke


def write_preset(folder, name: str, text: str):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- Sound-server fixture for the live-playback tests (marker ``soundserver``; see soundserver.py). ---
# Restored by the core-engine test session, which overwrote this file by mistake: the original re-exported
# ``sound_server`` from soundserver.py so test_live_server.py can request it; its owner may adjust this section.
from soundserver import sound_server  # noqa: E402,F401
