"""Names of the files a user keeps by name (presets, stride profiles): safe on every file system."""

from __future__ import annotations

import os
import re

from stridebeat.errors import PresetError, show_value

SUFFIX = ".toml"
NAME_MAX = 64
_NAME_CHARS = re.compile(r"^[A-Za-z0-9_.-]+$")
# Names Windows reserves for devices: a folder synced to a Windows machine must still work there.
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


def check_name(name: str) -> str:
    """A preset (or stride profile) name is a safe file name: letters, digits, '-', '_' and '.', no control character.

    Raises
    ------
    PresetError
        One line naming what is wrong with the name.
    """
    hint = "use letters, digits, '-', '_' and '.', e.g. cadence-500-85"
    if not isinstance(name, str):
        raise PresetError(f"preset name {show_value(name)} is not text: {hint}")
    if not name:
        raise PresetError(f"preset name is empty: {hint}")
    if "/" in name or "\\" in name or os.sep in name:
        raise PresetError(f"preset name {name!r} contains a path separator: {hint}")
    if ".." in name:
        raise PresetError(f"preset name {name!r} contains '..': {hint}")
    if name.lower().endswith(SUFFIX):
        raise PresetError(f"preset name {name!r} ends in {SUFFIX}: give the name alone, e.g. {name[: -len(SUFFIX)]!r}")
    if name.startswith("."):
        raise PresetError(f"preset name {name!r} starts with a dot (a hidden file): {hint}")
    if len(name) > NAME_MAX:
        raise PresetError(f"preset name is {len(name)} characters long: keep it to {NAME_MAX}")
    if not name.isprintable():
        raise PresetError(f"preset name {name!r} holds a control character (a newline, a tab …): {hint}")
    if not _NAME_CHARS.fullmatch(name):  # fullmatch: "$" would let a trailing newline through
        raise PresetError(f"preset name {name!r} has characters other than letters, digits, '-', '_' and '.': {hint}")
    if name.split(".")[0].lower() in _RESERVED:
        raise PresetError(f"preset name {name!r} is reserved for a device on Windows: choose another")
    return name
