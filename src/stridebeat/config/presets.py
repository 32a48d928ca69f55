"""Presets: a rep or a whole session saved once as TOML, found by name, validated through the one settings gate.

A preset file carries ``schema`` (the format version), ``kind`` (``rep`` or ``session``) and ``description`` (what it
trains). A **rep** holds setting keys exactly as ``stridebeat.settings.SETTINGS`` names them, validated by
``settings.parse_values`` and ``gate.build``: the same gate as the command line. A **session** holds an ordered
list ``reps`` and the ``rest`` between reps (a duration: "6m", "90s", "1:30")::

    rest = "6m"
    [[reps]]
    preset = "cadence-500-85"   # a rep preset (settings given beside it override it) or another session
    repeat = 3
    [[reps]]
    distance = 200              # or the rep's settings inline
    time = 25.0
    rest = "3m"                 # an entry's own rest: after each of its reps, instead of the session's

Session-wide keys may only be sound and voice settings: a track has one sound (see ``stridebeat.config.jobs``).
A session may include another session; a reference cycle is an error.

Built-in presets ship in the package (``assets.presets_dir()``); user presets live in ``<user config dir>/presets``
(``STRIDEBEAT_PRESETS_DIR`` overrides it) and shadow a built-in of the same name. Every error is one ``PresetError``
line naming the file, the line and the key as written (``x.toml, line 5: steps_per_100m = 1000 is out of range: …``).
Paths (``music``, ``splits_from``) in a file are relative to the file's folder; ``save`` stores them absolute.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import tomli_w

from stridebeat.atomic import write_text
from stridebeat.config import gate, settings
from stridebeat.config.convert import Duration
from stridebeat.config.names import SUFFIX, check_name
from stridebeat.config.preset_text import ENV_DIR, builtin_dir, error_at, is_path, locate, place, read, user_dir
from stridebeat.errors import OutputError, PresetError, StridebeatError, UsageError, show_value

SCHEMA = 1
KINDS = ("rep", "session")
META_KEYS = ("schema", "kind", "description")
REPEAT_RANGE = (1, 50)
MAX_REPS = 100  # reps in a session, nested sessions expanded: a day's training many times over
MAX_DEPTH = 4  # sessions inside sessions
# The rest cues need 10 s; the voice says whole seconds up to 59:59, so that is what a rest may be.
REST_RANGE_S = (10.0, 59 * 60 + 59.0)
REST = Duration(*REST_RANGE_S, whole=True)
__all__ = [
    "ENV_DIR",
    "Entry",
    "Preset",
    "RepSpec",
    "builtin_dir",
    "check_name",
    "delete",
    "dumps",
    "entries",
    "is_path",
]
__all__ += ["load", "load_values", "locate", "save", "user_dir"]
PATH_KEYS = ("music", "splits_from")  # relative to the preset file's folder when read, stored absolute when saved


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class RepSpec:
    """One rep of a session, resolved: its settings and the rest after it (None after the last rep)."""

    label: str  # the preset it came from, or "inline"
    values: dict[str, Any]
    rest_after_s: float | None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Preset:
    name: str
    path: Path
    kind: str  # rep or session
    description: str
    values: dict[str, Any]  # rep: its settings; session: session-wide sound and voice settings (parsed)
    reps: tuple[RepSpec, ...] = ()  # session only, repeats expanded
    builtin: bool = False
    text: str = field(default="", repr=False)


# ---------------------------------------------------------------------------------------------------------- reading


def load(name_or_path: str | os.PathLike) -> Preset:
    """Read and validate a preset by name (user, then built-in) or by path to a ``.toml`` file."""
    return _load(name_or_path, ())


def load_values(name_or_path: str | os.PathLike) -> dict[str, Any]:
    """The settings of a rep preset (parsed), for ``cli.options.gather``; a session has no single set of values."""
    preset = load(name_or_path)
    if preset.kind != "rep":
        raise PresetError(
            f"{preset.path}: {preset.name!r} is a session of {len(preset.reps)} reps, not a single rep: "
            "only a rep preset fits here"
        )
    return dict(preset.values)


def _load(name_or_path: str | os.PathLike, stack: tuple[str, ...]) -> Preset:
    name, path, builtin = _resolve(name_or_path)
    key = str(path.resolve())
    if len(stack) > MAX_DEPTH:
        # The file the user named, not the innermost one: that is where the levels can be cut.
        raise PresetError(
            f"{stack[0]}: sessions are nested more than {MAX_DEPTH} deep (down to {path.name}): include fewer levels "
            "of sessions"
        )
    if key in stack:
        chain = " → ".join(Path(p).stem for p in (*stack[stack.index(key) :], key))
        raise PresetError(f"{path}: reference cycle {chain}")
    text, data = read(path)
    kind, description = _meta(path, data)
    body = {k: v for k, v in data.items() if k not in META_KEYS}
    found = Preset(name=name, path=path, kind=kind, description=description, values={}, builtin=builtin, text=text)
    if kind == "rep":
        values = _settings(path, text, body, where="")
        _gate(path, text, values, where="", raw=body)
        return replace(found, values=values)
    session_values, reps = _session(path, text, body, (*stack, key))
    return replace(found, values=session_values, reps=reps)


def _resolve(name_or_path: str | os.PathLike) -> tuple[str, Path, bool]:
    """(name, file, built in?) of a preset given by name or by path."""
    if not is_path(name_or_path):
        name = os.fspath(name_or_path)
        return (name, *locate(name))
    path = Path(name_or_path)
    if not path.exists():
        raise PresetError(f"{path}: no such preset file")
    return path.stem, path, False


def _meta(path: Path, data: dict[str, Any]) -> tuple[str, str]:
    """The file's kind and description, once its schema is one this stridebeat reads."""
    schema = data.get("schema")
    if schema is None:
        raise PresetError(f"{path}: no 'schema' key: a stridebeat preset starts with schema = {SCHEMA}")
    if isinstance(schema, bool) or not isinstance(schema, int):
        raise PresetError(f"{path}: schema: a whole number is expected, got {show_value(schema)}")
    if schema > SCHEMA:
        raise PresetError(
            f"{path}: schema {show_value(schema)} is newer than this stridebeat reads ({SCHEMA}): update stridebeat"
        )
    if schema < 1:
        raise PresetError(f"{path}: schema {show_value(schema)} is not a preset schema: use schema = {SCHEMA}")
    kind = data.get("kind", "rep")
    if kind not in KINDS:
        raise PresetError(f"{path}: kind: {show_value(kind)} is not one of {', '.join(KINDS)}")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise PresetError(f"{path}: description: text is expected, got {show_value(description)}")
    return kind, description


def _settings(path: Path, text: str, body: dict[str, Any], *, where: str, table: int | None = None) -> dict[str, Any]:
    """Setting keys → parsed values; each error names the file, the line and the key."""
    out = {}
    for key, raw in body.items():
        setting = settings.BY_KEY.get(key)
        if setting is None:
            close = difflib.get_close_matches(key, [*settings.BY_KEY, *META_KEYS], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise PresetError(f"{place(path, text, key, table)}: {where}unknown key {key!r}{hint}", key=key)
        if isinstance(raw, dict):
            raise PresetError(
                f"{place(path, text, key, table)}: {where}{key}: a value is expected, got a table", key=key
            )
        try:
            out[key] = settings.parse_value(setting, _beside(path, raw) if key in PATH_KEYS else raw)
        except UsageError as exc:
            raise error_at(path, text, exc, where=where, table=table, raw=raw) from None
    return out


def _beside(preset: Path, value: Any) -> Any:
    """A path in a preset, relative to the preset file's folder (``~`` is the home folder); a list item by item,
    and text that names no file as it stands, item by comma-separated item."""
    if isinstance(value, list):
        return [_beside(preset, v) for v in value]
    if not isinstance(value, str) or not value.strip() or not value.isprintable():
        return value  # the setting's converter refuses it
    folder = preset.resolve().parent
    whole = folder / os.path.expanduser(value.strip())
    if whole.exists() or "," not in value:
        return str(whole)
    return [str(folder / os.path.expanduser(p.strip())) for p in value.split(",") if p.strip()]


def _gate(
    path: Path, text: str, values: dict[str, Any], *, where: str, table: int | None = None, raw: dict[str, Any]
) -> None:
    """Through the one gate from values to plan objects, so a preset that loads also builds. The error is placed on
    the line of the setting it is about (``exc.key``), or of the rep's table."""
    try:
        gate.build(values)
    except UsageError as exc:
        raise error_at(path, text, exc, where=where, table=table, raw=raw.get(exc.key or "")) from None


def _rest(path: Path, text: str, raw: Any, where: str, table: int | None = None) -> float:
    """A rest between reps: whole seconds the voice can say, 10 s to 59:59 (the same check wherever it is used)."""
    try:
        return float(REST(raw, "rest"))
    except UsageError as exc:
        raise error_at(path, text, exc, where=where, table=table, raw=raw) from None


def _session(
    path: Path, text: str, body: dict[str, Any], stack: tuple[str, ...]
) -> tuple[dict[str, Any], tuple[RepSpec, ...]]:
    items = body.pop("reps", None)
    rest_raw = body.pop("rest", None)
    rest = _rest(path, text, rest_raw, "") if rest_raw is not None else None
    track_values = _settings(path, text, body, where="")
    for key in track_values:
        if settings.BY_KEY[key].group not in settings.TRACK_GROUPS:
            raise PresetError(
                f"{place(path, text, key)}: {key}: a session-wide key must be a sound or voice setting; "
                f"put {key} in each rep"
            )
    if not isinstance(items, list) or not items:
        raise PresetError(f'{path}: reps: a session needs a list of reps, e.g. reps = [{{ preset = "race-51" }}]')
    reps: list[RepSpec] = []
    for i, item in enumerate(items, 1):
        where = f"reps[{i}]: "
        if not isinstance(item, dict):
            raise PresetError(f"{path}: {where}a table is expected, got {show_value(item)}")
        item = dict(item)
        repeat = item.pop("repeat", 1)
        lo, hi = REPEAT_RANGE
        if isinstance(repeat, bool) or not isinstance(repeat, int) or not lo <= repeat <= hi:
            raise PresetError(
                f"{place(path, text, 'repeat', i)}: {where}repeat: {show_value(repeat)} is not a whole number from "
                f"{lo} to {hi}"
            )
        item_rest = _rest(path, text, item.pop("rest"), where, i) if "rest" in item else rest
        inner = _item_reps(path, text, where, i, item, stack)
        if len(reps) + repeat * len(inner) > MAX_REPS:
            raise PresetError(
                f"{place(path, text, 'repeat', i)}: {where}the session would hold {len(reps) + repeat * len(inner)} "
                f"reps: a session holds at most {MAX_REPS}; split it into several sessions"
            )
        # A referenced session keeps its own rests inside; the rest after its last rep is this item's.
        last = inner[-1]
        inner = [*inner[:-1], replace(last, rest_after_s=item_rest)]
        for _ in range(repeat):
            reps.extend(inner)
    if any(r.rest_after_s is None for r in reps[:-1]):
        raise PresetError(f'{path}: rest: give the rest between reps, e.g. rest = "6m" (for the session or a rep)')
    reps[-1] = replace(reps[-1], rest_after_s=None)
    return track_values, tuple(reps)


def _item_reps(
    path: Path, text: str, where: str, table: int, item: dict[str, Any], stack: tuple[str, ...]
) -> list[RepSpec]:
    """The reps one session entry stands for: inline settings, or a referenced preset with optional overrides."""
    ref = item.pop("preset", None)
    own = _settings(path, text, item, where=where, table=table)
    if ref is None:
        if not own:
            raise PresetError(
                f'{place(path, text, None, table)}: {where}empty: give preset = "name" or the rep\'s settings'
            )
        _gate(path, text, own, where=where, table=table, raw=item)
        return [RepSpec(label="inline", values=own, rest_after_s=None)]
    if not isinstance(ref, str):
        raise PresetError(
            f"{place(path, text, 'preset', table)}: {where}preset: a preset name is expected, got {show_value(ref)}"
        )
    try:
        locate(ref)
    except PresetError as exc:
        raise PresetError(f"{place(path, text, 'preset', table)}: {where}preset: {exc}") from None
    target = _load(ref, stack)  # an error inside the referenced file names that file
    if target.kind == "session":
        if own:
            raise PresetError(
                f"{place(path, text, 'preset', table)}: {where}settings cannot be added to a session ({target.name!r})"
            )
        return list(target.reps)
    merged = settings.override(target.values, own)
    _gate(path, text, merged, where=where, table=table, raw=item)
    return [RepSpec(label=target.name, values=merged, rest_after_s=None)]


# ---------------------------------------------------------------------------------------------------------- writing


def dumps(values: dict[str, Any], *, description: str) -> str:
    """A rep preset as TOML text: meta keys first, then the settings in ``SETTINGS`` order; paths made absolute, so
    the preset works from any folder."""
    parsed = settings.parse_values(values)
    for key in PATH_KEYS:
        if parsed.get(key) is not None:
            parsed[key] = _absolute(parsed[key])
    ordered = {s.key: parsed[s.key] for s in settings.SETTINGS if parsed.get(s.key) is not None}
    head = "# A stridebeat rep preset (keys: see 'stridebeat render --help'; a key is its option without the dashes).\n"
    return head + tomli_w.dumps({"schema": SCHEMA, "kind": "rep", "description": description, **ordered})


def _absolute(value: str | tuple[str, ...]) -> str | list[str]:
    if isinstance(value, str):
        return os.path.abspath(os.path.expanduser(value))
    return [os.path.abspath(os.path.expanduser(v)) for v in value]


def save(name: str, values: dict[str, Any], *, description: str = "", force: bool = False) -> Path:
    """Validate ``values`` and write them as the user preset ``name``, atomically. Paths (``music``,
    ``splits_from``) are stored absolute; relative paths in a preset file are read from the file's folder.

    Raises
    ------
    PresetError
        A bad name, a description that is not text, or values that make no plan.
    UsageError
        A value that does not fit its setting (``key`` and ``value`` set).
    OutputError
        An existing preset without ``force``, or a folder that cannot be written.
    """
    check_name(name)
    if not isinstance(description, str):
        raise PresetError(f"preset {name!r} not saved: the description is not text: give a string")
    try:
        parsed = settings.parse_values(values)
        gate.build(parsed)
    except UsageError as exc:
        if exc.about_value:
            raise
        raise PresetError(f"preset {name!r} not saved: {exc}", key=exc.key) from None
    path = user_dir() / f"{name}{SUFFIX}"
    write_text(path, dumps(parsed, description=description), replace=force, make_folder=True)
    return path


def delete(name: str) -> Path:
    """Delete the user preset ``name`` (built-ins cannot be deleted)."""
    check_name(name)
    path = user_dir() / f"{name}{SUFFIX}"
    try:
        path.unlink()
    except FileNotFoundError:
        if (builtin_dir() / f"{name}{SUFFIX}").is_file():
            raise PresetError(f"{name!r} is a built-in preset: it cannot be deleted") from None
        raise PresetError(f"no user preset named {name!r} in {user_dir()}") from None
    except OSError as exc:
        raise OutputError(f"cannot delete {path}: {exc.strerror or exc}") from None
    return path


# ---------------------------------------------------------------------------------------------------------- listing


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Entry:
    """A preset file as ``preset list`` shows it: loaded, or broken with the reason."""

    name: str
    path: Path
    builtin: bool
    shadowed: bool  # built-in: hidden by a user preset; user: hides a built-in
    preset: Preset | None
    error: str | None


def entries() -> list[Entry]:
    """Every built-in and user preset, user ones first; a broken file becomes an entry with its error, never a crash."""
    builtin = {p.stem: p for p in _files(builtin_dir())}
    user = {p.stem: p for p in _files(user_dir())}
    out = []
    for names, files, is_builtin, others in ((user, user, False, builtin), (builtin, builtin, True, user)):
        for name in sorted(names):
            path = files[name]
            try:
                check_name(name)
                preset, error = replace(_load(path, ()), builtin=is_builtin), None
            except (StridebeatError, ValueError, TypeError, OSError) as exc:
                preset, error = None, str(exc)
            out.append(
                Entry(name=name, path=path, builtin=is_builtin, shadowed=name in others, preset=preset, error=error)
            )
    return out


def _files(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.suffix == SUFFIX and not p.name.startswith(".") and p.is_file())
    except OSError:
        return []  # no user folder yet
