"""Immutable records: what ``@dataclass(frozen=True)`` gives, without generating code when a module is imported.

Why not dataclasses: on Python 3.11 each frozen dataclass compiles six methods with ``exec`` while its module is
imported, 1.2–2 ms a class on the project's two-core machine; the fifteen records a ``render`` loads cost about 23 ms of
a process measured against sox (``bench/bench_render.py``). Here the methods are written once, in this base class, and
a subclass only lists its fields. ``typing.dataclass_transform`` (PEP 681) tells type checkers and editors that a
``Record`` subclass behaves as a frozen dataclass.

A subclass declares annotated fields, optionally with defaults or ``field(...)``, and may define ``__post_init__`` to
check its values or derive state (set with ``object.__setattr__``, as in a frozen dataclass); derived state is not a
field: it is left out of equality, hashing, ``repr`` and ``replace``.
"""

from __future__ import annotations

from typing import Any, TypeVar, dataclass_transform

_MISSING: Any = object()
_R = TypeVar("_R", bound="Record")


class FrozenInstanceError(AttributeError):
    """Assigning to or deleting a field of a record (as ``dataclasses.FrozenInstanceError``)."""


class _Field:
    __slots__ = ("default", "repr", "compare")

    def __init__(self, default: Any, repr: bool, compare: bool) -> None:
        self.default, self.repr, self.compare = default, repr, compare


def field(*, default: Any = _MISSING, repr: bool = True, compare: bool = True) -> Any:
    """A field with options: ``repr=False`` leaves it out of ``repr``, ``compare=False`` out of ``==`` and ``hash``."""
    return _Field(default, repr, compare)


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
class Record:
    """Base of immutable records: keyword or positional ``__init__``, ``==``, ``hash``, ``repr``, frozen fields."""

    __slots__ = ()
    # Filled for each subclass by __init_subclass__: field names in order, defaults by name, and the names shown by
    # repr and compared by == and hash.
    _fields: tuple[str, ...] = ()
    _defaults: dict[str, Any] = {}
    _shown: tuple[str, ...] = ()
    _compared: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        names, defaults = list(cls._fields), dict(cls._defaults)
        hidden = set(cls._fields) - set(cls._shown)
        uncompared = set(cls._fields) - set(cls._compared)
        # The class's own annotations, in order (only their names are read: no string annotation is evaluated).
        for name, annotation in cls.__dict__.get("__annotations__", {}).items():
            if "ClassVar" in str(annotation):
                continue
            if name not in names:
                names.append(name)
            value = cls.__dict__.get(name, _MISSING)
            if isinstance(value, _Field):
                if not value.repr:
                    hidden.add(name)
                if not value.compare:
                    uncompared.add(name)
                value = value.default
                if value is _MISSING:
                    delattr(cls, name)
                else:
                    setattr(cls, name, value)
            if value is not _MISSING:
                if isinstance(value, (list, dict, set)):
                    raise ValueError(f"mutable default {type(value).__name__} for field {name} is not allowed")
                defaults[name] = value
            elif defaults:
                raise TypeError(f"non-default argument {name!r} follows default argument")
        cls._fields, cls._defaults = tuple(names), defaults
        cls._shown = tuple(n for n in names if n not in hidden)
        cls._compared = tuple(n for n in names if n not in uncompared)
        cls.__match_args__ = cls._fields

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        names = self._fields
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__}() takes {len(names)} arguments but {len(args)} were given")
        values = self.__dict__
        values.update(zip(names, args))
        for name, value in kwargs.items():
            if name in values or name not in names:
                problem = "multiple values for" if name in values else "an unexpected keyword"
                raise TypeError(f"{type(self).__name__}() got {problem} argument {name!r}")
            values[name] = value
        if len(values) != len(names):
            for name in names:
                if name not in values:
                    if name not in self._defaults:
                        raise TypeError(f"{type(self).__name__}() missing required argument: {name!r}")
                    values[name] = self._defaults[name]
        post_init = getattr(self, "__post_init__", None)
        if post_init is not None:
            post_init()

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __repr__(self) -> str:
        values = self.__dict__
        return f"{type(self).__qualname__}({', '.join(f'{n}={values[n]!r}' for n in self._shown)})"

    def _key(self) -> tuple:
        values = self.__dict__
        return tuple(values[n] for n in self._compared)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() == other._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._key())


def replace(record: _R, /, **changes: Any) -> _R:
    """A copy of ``record`` with some fields changed (as ``dataclasses.replace``; ``__post_init__`` runs again)."""
    values = record.__dict__
    return type(record)(**{n: changes.pop(n) if n in changes else values[n] for n in record._fields}, **changes)
