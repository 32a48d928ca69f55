"""A preset file: where it lives, its text read through the guarded reader and parsed as TOML, and the line that
sets a key.

Errors about a preset name the file, the line and the key: ``place`` finds the line from the key an error carries
(``exc.key``), and ``error_at`` writes the subject in the file's words (``steps_per_100m = 1000``) before the reason.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir

from stridebeat.config.names import SUFFIX, check_name
from stridebeat.core.assets import presets_dir
from stridebeat.errors import PresetError, StridebeatError, show_value
from stridebeat.inputs import read_input

MAX_BYTES = 256 * 1024  # a preset is a few dozen lines: far more is not a preset
_TOML_AT = re.compile(r"\s*\(at line (\d+), column \d+\)$|\s*\(at end of document\)$")
_KEY_AT = re.compile(r'^\s*(?:"([^"]+)"|\'([^\']+)\'|([A-Za-z0-9_-]+))\s*=')
_REPS_TABLE = re.compile(r"^\s*\[\[\s*reps\s*\]\]")
_ANY_TABLE = re.compile(r"^\s*\[")
ENV_DIR = "STRIDEBEAT_PRESETS_DIR"


def builtin_dir() -> Path:
    return presets_dir()


def user_dir() -> Path:
    """The user's preset folder: ``$STRIDEBEAT_PRESETS_DIR``, else the platform's config folder + ``presets``."""
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env).expanduser()
    return Path(user_config_dir("stridebeat")) / "presets"


def is_path(name_or_path: str | os.PathLike) -> bool:
    text = os.fspath(name_or_path)
    return text.endswith(SUFFIX) or "/" in text or os.sep in text


def locate(name: str) -> tuple[Path, bool]:
    """(file, built in?) of a preset name: the user's preset first, so it shadows a built-in of the same name."""
    check_name(name)
    for folder, builtin in ((user_dir(), False), (builtin_dir(), True)):
        path = folder / f"{name}{SUFFIX}"
        if path.is_file():
            return path, builtin
    raise PresetError(f"no preset named {name!r} (built-in or in {user_dir()}): see 'stridebeat preset list'")


def read(path: Path) -> tuple[str, dict[str, Any]]:
    """The text of the preset file and its TOML data.

    Raises
    ------
    PresetError
        Not a regular file, too large, not UTF-8, or not TOML (with the line).
    """
    try:
        raw = read_input(path, what=str(path), max_bytes=MAX_BYTES)
    except StridebeatError as exc:
        raise PresetError(str(exc)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PresetError(f"{path}, line {line}: not UTF-8 text") from None
    try:
        return text, tomllib.loads(text)
    except RecursionError:
        raise PresetError(f"{path}: TOML nested too deeply to read: a preset is a few flat tables") from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = _TOML_AT.search(message)
        # tomllib only says "at end of document" for an unterminated value: that is the file's last line.
        line = int(m.group(1)) if m and m.group(1) else max(1, len(text.splitlines()))
        reason = _TOML_AT.sub("", message)
        raise PresetError(f"{path}, line {line}: TOML syntax error: {reason}") from None


def place(path: Path, text: str, key: str | None, table: int | None = None) -> str:
    """``path, line N`` of the line that sets ``key`` (at the top, or in the ``table``-th ``[[reps]]`` entry); the
    entry's own line, or the file alone, when no line sets it."""
    line = _key_line(text, key, table) if key else None
    if line is None and table is not None:
        line = _table_line(text, table)
    return f"{path}, line {line}" if line else str(path)


def error_at(
    path: Path, text: str, exc: StridebeatError, *, where: str = "", table: int | None = None, raw: Any = None
) -> PresetError:
    """``exc`` as one line in the file's words: ``x.toml, line 5: steps_per_100m = 1000 is out of range: …``.

    ``raw`` is the value as the file holds it, when it holds the one refused (else the refused value is shown).
    """
    at = place(path, text, exc.key, table)
    if exc.about_value:
        value = raw if raw is not None else exc.value
        return PresetError(f"{at}: {where}{exc.line(f'{exc.key} = {show_value(value)}')}", key=exc.key)
    return PresetError(f"{at}: {where}{exc}", key=exc.key)


def _key_line(text: str, key: str, table: int | None) -> int | None:
    current: int | None = None  # None: the top level; k: the k-th [[reps]] table; -1: any other table
    count = 0
    lines = text.splitlines()
    for n, line in enumerate(lines, 1):
        if _REPS_TABLE.match(line):
            count += 1
            current = count
        elif _ANY_TABLE.match(line):
            current = -1
        else:
            m = _KEY_AT.match(line)
            if m and (m.group(1) or m.group(2) or m.group(3)) == key and current == table:
                return n
    if count:
        return None
    # Inline tables (reps = [{ time = 51 }, …]): the first line that sets the key anywhere.
    setting = re.compile(rf"(^|[{{,\s]){re.escape(key)}\s*=")
    return next((n for n, line in enumerate(lines, 1) if setting.search(line)), None)


def _table_line(text: str, table: int) -> int | None:
    tables = [n for n, line in enumerate(text.splitlines(), 1) if _REPS_TABLE.match(line)]
    return tables[table - 1] if 0 < table <= len(tables) else None
