"""Records behave as frozen dataclasses: the same class written both ways must agree on every operation."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import ClassVar

import pytest

from stridebeat.record import FrozenInstanceError, Record, field, replace


class Rec(Record):
    a: int
    b: str = "x"
    c: tuple = ()
    hidden: float = field(default=0.0, repr=False, compare=False)


@dataclasses.dataclass(frozen=True)
class Ref:
    a: int
    b: str = "x"
    c: tuple = ()
    hidden: float = dataclasses.field(default=0.0, repr=False, compare=False)


class Checked(Record):
    low: float
    high: float

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError("low above high")
        object.__setattr__(self, "_span", self.high - self.low)  # derived state, as in a frozen dataclass


CALLS = [((1,), {}), ((1, "y"), {}), ((), {"a": 2, "c": (1, 2)}), ((3,), {"hidden": 9.5}), ((4, "z", (5,), 1.0), {})]


@pytest.mark.parametrize("args, kwargs", CALLS)
def test_same_fields_repr_eq_hash_as_a_frozen_dataclass(args, kwargs):
    mine, ref = Rec(*args, **kwargs), Ref(*args, **kwargs)
    assert {n: getattr(mine, n) for n in Rec._fields} == dataclasses.asdict(ref)
    assert repr(mine) == repr(ref).replace("Ref(", "Rec(")
    for other_args, other_kwargs in CALLS:
        assert (mine == Rec(*other_args, **other_kwargs)) == (ref == Ref(*other_args, **other_kwargs))
    assert hash(mine) == hash(Rec(*args, **kwargs))
    assert hash(mine) == hash(replace(mine, hidden=-1.0)) and mine == replace(mine, hidden=-1.0)  # compare=False


def test_fields_in_declaration_order_with_defaults_and_match_args():
    assert Rec._fields == ("a", "b", "c", "hidden") == Rec.__match_args__
    assert Rec._defaults == {"b": "x", "c": (), "hidden": 0.0}
    assert Rec._compared == ("a", "b", "c") and Rec._shown == ("a", "b", "c")
    match Rec(7, "q"):
        case Rec(a, b):
            assert (a, b) == (7, "q")


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((), {}, "missing required argument: 'a'"),
        ((1, "x", (), 0.0, 5), {}, "takes 4 arguments but 5 were given"),
        ((1,), {"a": 2}, "got multiple values for argument 'a'"),
        ((1,), {"d": 2}, "got an unexpected keyword argument 'd'"),
        ((), {"b": "y", "d": 2}, "got an unexpected keyword argument 'd'"),  # not mistaken for the missing 'a'
    ],
)
def test_bad_arguments_raise_type_error(args, kwargs, message):
    with pytest.raises(TypeError, match=message):
        Rec(*args, **kwargs)


def test_frozen():
    r = Rec(1)
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'a'"):
        r.a = 2
    with pytest.raises(FrozenInstanceError):
        del r.b
    assert isinstance(FrozenInstanceError(), AttributeError)
    assert r.a == 1 and r.b == "x"


def test_post_init_checks_and_derives_state_that_is_not_a_field():
    c = Checked(1.0, 3.0)
    assert c._span == 2.0
    assert repr(c) == "Checked(low=1.0, high=3.0)"
    assert c == Checked(low=1.0, high=3.0)
    with pytest.raises(ValueError, match="low above high"):
        Checked(3.0, 1.0)
    with pytest.raises(ValueError, match="low above high"):
        replace(c, low=5.0)  # replace validates again, as dataclasses.replace does
    moved = replace(c, high=10.0)
    assert (moved.low, moved.high, moved._span) == (1.0, 10.0, 9.0) and c.high == 3.0


def test_replace_as_dataclasses_replace():
    mine, ref = Rec(1, "y", (2,), 0.5), Ref(1, "y", (2,), 0.5)
    for changes in ({}, {"a": 9}, {"b": "z", "hidden": 1.0}):
        got, want = replace(mine, **changes), dataclasses.replace(ref, **changes)
        assert {n: getattr(got, n) for n in Rec._fields} == dataclasses.asdict(want)
    with pytest.raises(TypeError, match="unexpected keyword argument 'nope'"):
        replace(mine, nope=1)


def test_copy_and_pickle_round_trip():
    r = Checked(1.0, 2.0)
    for twin in (copy.copy(r), copy.deepcopy(r), pickle.loads(pickle.dumps(r))):
        assert twin == r and twin._span == 1.0


def test_class_definition_errors_as_dataclasses():
    with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):
        type("Bad", (Record,), {"__annotations__": {"a": "int", "b": "int"}, "a": 1})
    with pytest.raises(ValueError, match="mutable default list for field a"):
        type("Bad", (Record,), {"__annotations__": {"a": "list"}, "a": []})


def test_subclass_extends_the_fields_of_its_base():
    class More(Rec):
        d: int = 4

    m = More(1, d=5)
    assert More._fields == ("a", "b", "c", "hidden", "d") and (m.a, m.d) == (1, 5)
    assert Rec._fields == ("a", "b", "c", "hidden")  # the base is unchanged


def test_a_class_variable_is_not_a_field():
    class Tagged(Record):
        kind: ClassVar[str] = "tag"
        value: int

    @dataclasses.dataclass(frozen=True)
    class TaggedRef:
        kind: ClassVar[str] = "tag"
        value: int

    assert Tagged._fields == tuple(f.name for f in dataclasses.fields(TaggedRef)) == ("value",)
    assert Tagged(3).kind == "tag"
