"""Click options generated from the one list of settings, so flags, preset keys and plan objects cannot drift apart."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from stridebeat.config.setting import Setting
    from stridebeat.core.session import Job

# The settings' groups, in the order of the settings table (a test holds the two together).
GROUPS = ("plan", "stride", "metronome", "sound", "voice")


def _option(setting: Setting) -> click.Option:
    default_note = f" [default: {setting.default}]" if setting.default not in (None, False) else ""
    if setting.kind == "bool":
        name = setting.flag[2:]
        # default=None tells "not given" from "given as false", so a preset's value survives an absent flag.
        return click.Option([f"--{name}/--no-{name}", setting.key], default=None, help=setting.help)
    kwargs: dict[str, Any] = dict(default=None, help=setting.help + default_note, metavar=setting.metavar)
    if setting.kind == "choice":
        kwargs["type"] = click.Choice(setting.choices)
        kwargs["metavar"] = "[" + "|".join(setting.choices) + "]"
    if setting.kind == "paths":
        kwargs["multiple"] = True  # --music a.mp3 --music b.mp3, as well as --music a.mp3,b.mp3
    return click.Option([setting.flag, setting.key], **kwargs)


class SettingsCommand(click.Command):
    """A command that takes the options of setting groups (``settings=("plan", "stride")``) and of single settings
    (``setting_keys``), made from the one settings table when the command is used, after its arguments: listing the
    commands (``stridebeat --help``) loads no settings."""

    def __init__(
        self, *args: Any, settings: tuple[str, ...] = (), setting_keys: tuple[str, ...] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._wanted: tuple[tuple[str, ...], tuple[str, ...]] | None = (settings, setting_keys)

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        if self._wanted is not None:
            from stridebeat.config.settings import SETTINGS

            groups, keys = self._wanted
            self._wanted = None
            options = [_option(s) for s in SETTINGS if s.group in groups or s.key in keys]
            first_option = next((i for i, p in enumerate(self.params) if not isinstance(p, click.Argument)), None)
            at = len(self.params) if first_option is None else first_option
            self.params[at:at] = options
        return super().get_params(ctx)


def given(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The settings the user actually typed (click passes None, or () for a repeatable option, for the others)."""
    from stridebeat.config.settings import BY_KEY

    keys = set(BY_KEY)
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
