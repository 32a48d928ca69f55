"""Where the shipped data lives: inside the wheel, or at the top of a source checkout."""

from __future__ import annotations

import os

# Folder names as strings (os.path), not pathlib: a render reads its voice clips from here, and pathlib's import is a
# measurable share of its start-up.
_PACKAGE = os.path.dirname(os.path.realpath(__file__))


def _data_dir(name: str) -> str:
    # An installed wheel carries the folders under stridebeat/_data (see pyproject's force-include); a source checkout or
    # an editable install keeps them at the repository root, two levels above src/stridebeat.
    installed = os.path.join(_PACKAGE, "_data", name)
    if os.path.isdir(installed):
        return installed
    return os.path.join(os.path.dirname(os.path.dirname(_PACKAGE)), name)


def audio_dir() -> str:
    return _data_dir("audio")


def presets_dir() -> str:
    return _data_dir("presets")
