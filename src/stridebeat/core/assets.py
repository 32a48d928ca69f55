"""Where the shipped data lives: inside the wheel, or at the top of a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


def _data_dir(name: str) -> Path:
    # An installed wheel carries the folders under stridebeat/_data (pyproject's force-include); a source checkout or
    # an editable install keeps them at the repository root, two levels above src/stridebeat.
    installed = _PACKAGE / "_data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent.parent / name


def audio_dir() -> Path:
    return _data_dir("audio")


def presets_dir() -> Path:
    return _data_dir("presets")
