"""Click options generated from the one list of settings, so flags, preset keys and plan objects cannot drift apart."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from stridebeat.config.settings import SETTINGS, Setting

if TYPE_CHECKING:
    from stridebeat.core.session import Job


def _option(setting: Setting, *, hide: bool = False):
    default_note = f" [default: {setting.default}]" if setting.default not in (None, False) else ""
    help_text = setting.help + (default_note if setting.kind not in ("bool",) else "")
    if setting.kind == "bool":
        name = setting.flag[2:]
        # default=None tells "not given" from "given as false", so a preset's value survives an absent flag.
        return click.option(f"--{name}/--no-{name}", setting.key, default=None, help=setting.help, hidden=hide)
    kwargs: dict[str, Any] = dict(default=None, help=help_text, metavar=setting.metavar, hidden=hide)
    if setting.kind == "choice":
        kwargs["type"] = click.Choice(setting.choices)
        kwargs["metavar"] = "[" + "|".join(setting.choices) + "]"
    if setting.kind == "paths":
        kwargs["multiple"] = True  # --music a.mp3 --music b.mp3, as well as --music a.mp3,b.mp3
    return click.option(setting.flag, setting.key, **kwargs)


def settings_options(*groups: str, keys: tuple[str, ...] = ()):
    """Decorator adding the options of the given setting groups (plan, stride, metronome, sound) and of single
    settings named by ``keys``."""

    def decorate(func):
        for setting in reversed([s for s in SETTINGS if s.group in groups or s.key in keys]):
            func = _option(setting)(func)
        return func

    return decorate


def given(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The settings the user actually typed (click passes None, or () for a repeatable option, for the others)."""
    keys = {s.key for s in SETTINGS}
    return {k: v for k, v in kwargs.items() if k in keys and v is not None and v != ()}


def preset_argument(func):
    """The optional PRESET argument: a built-in or user preset name, or a path to a .toml file."""
    return click.argument("preset", required=False, metavar="[PRESET]")(func)


def gather(preset: str | None, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The values of a command: the rep preset's (if any), overridden by every option typed on the command line."""
    if preset is None:
        return given(kwargs)
    from stridebeat.config.presets import load_values
    from stridebeat.config.settings import override

    # override, not update: a typed --time also drops the preset's --intensity (and the like) instead of clashing.
    return override(load_values(preset), given(kwargs))


def job_for(preset: str | None, kwargs: dict[str, Any], *, open_ended: bool = False) -> Job:
    """The job of a command with a PRESET argument: a rep, a metronome or a session."""
    from stridebeat.api import build_job

    return build_job(preset, open_ended=open_ended, **given(kwargs))
