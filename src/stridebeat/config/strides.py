"""Stride profiles saved by name: a runner's fitted step-length law (``stridebeat calibrate --save NAME``), for
``--stride NAME``.

They live beside the presets, one ``<name>.toml`` per profile (``StrideFit.to_toml``) in the user's configuration
folder + ``strides`` (``STRIDEBEAT_STRIDES_DIR`` overrides it). Names follow the preset rules, so a profile name is a
safe file name on every system. Saves are atomic and durable: a profile comes from a run that may be gone.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

from platformdirs import user_config_dir

from stridebeat.activity.stride_fit import StrideFit
from stridebeat.atomic import write_text
from stridebeat.config.names import check_name
from stridebeat.errors import OutputError, PresetError, UsageError
from stridebeat.inputs import MiB, read_input

ENV_DIR = "STRIDEBEAT_STRIDES_DIR"
SUFFIX = ".toml"
MAX_BYTES = MiB  # a profile with its kept points is well under this


def user_dir() -> Path:
    """The stride profile folder: ``$STRIDEBEAT_STRIDES_DIR``, else the platform's config folder + ``strides``."""
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env).expanduser()
    return Path(user_config_dir("stridebeat")) / "strides"


def check_profile_name(name: str) -> str:
    """A profile name is a safe file name, as a preset name is; PresetError (one line) otherwise."""
    try:
        return check_name(name)
    except PresetError as exc:
        # The same rules, in the words of this command: the user typed a stride profile's name, not a preset's.
        raise PresetError(str(exc).replace("preset name", "stride profile name", 1)) from None


def path_of(name: str) -> Path:
    return user_dir() / f"{check_profile_name(name)}{SUFFIX}"


def check_new(name: str, *, force: bool) -> Path:
    """The path a new profile ``name`` would take, checked before any work: a good name, and free unless ``force``."""
    path = path_of(name)
    if not force and path.exists():
        raise OutputError(f"stride profile {name!r} exists ({path}): pass --force to replace it")
    return path


def save_profile(name: str, fit: StrideFit, *, force: bool = False) -> Path:
    """Write ``fit`` as the profile ``name``, atomically and durably; returns its path.

    Raises
    ------
    PresetError
        A bad name.
    OutputError
        The profile exists and ``force`` is not given, or the folder cannot be written.
    """
    path = check_new(name, force=force)
    # Without force the write publishes only if the name is still free (a link), so a race cannot replace it either.
    write_text(path, fit.to_toml(), replace=force, make_folder=True, durable=True)
    return path


def load_profile(name: str) -> StrideFit:
    """The saved profile ``name``.

    Raises
    ------
    UsageError
        No such profile (close names suggested); a file that is not a valid profile, not a regular file, too large
        or unreadable (read through ``stridebeat.inputs.read_input``).
    OutputError
        A file that is not UTF-8 text.
    """
    path = path_of(name)
    if not path.exists() and not path.is_symlink():
        raise UsageError(_unknown(name))
    data = read_input(path, what=f"stride profile {path}", max_bytes=MAX_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise OutputError(f"cannot read stride profile {path}: not UTF-8 text: check the file") from None
    try:
        return StrideFit.from_toml(text)
    except UsageError as exc:
        raise UsageError(f"{path}: {exc}") from None


def list_profiles() -> list[str]:
    """The names of the saved profiles, sorted."""
    try:
        entries = sorted(user_dir().glob(f"*{SUFFIX}"))
    except OSError:
        return []
    return [p.name[: -len(SUFFIX)] for p in entries if p.is_file() and not p.name.startswith(".")]


def _unknown(name: str) -> str:
    names = list_profiles()
    close = difflib.get_close_matches(name, names, n=3)
    if close:
        hint = "did you mean " + " or ".join(repr(c) for c in close) + "?"
    elif names:
        hint = "saved: " + ", ".join(names)
    else:
        hint = "make one with 'stridebeat calibrate RUN.fit --save NAME'"
    return f"no stride profile named {name!r} in {user_dir()}: {hint}"
