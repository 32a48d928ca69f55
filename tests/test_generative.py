"""Arbitrary values for every public API argument and every preset key: only the documented errors come out.

Hypothesis draws text, huge integers, floats (NaN and infinities included), lists, tables, None and booleans, and
hands them to the API (``build_job``, ``plan_race``, ``stride_model``, ``save_preset``, ``load_preset``,
``timeline``) and to preset files written and loaded. Whatever is refused is a ``stridebeat.StridebeatError`` (a
``UsageError`` for bad input) with a one-line message; nothing else escapes, and nothing is saved half-way.

``STRIDEBEAT_HYPOTHESIS_EXAMPLES`` raises the number of examples (CI runs more than the fast suite's default).
"""

from __future__ import annotations

import math
import os

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import stridebeat
from stridebeat.config.settings import SETTINGS

EXAMPLES = int(os.environ.get("STRIDEBEAT_HYPOTHESIS_EXAMPLES", "40"))
PROFILE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
KEYS = [s.key for s in SETTINGS]

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.sampled_from([0, -1, 10**400, -(10**400), 10**4000, 2**63, 2**64]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -0.0, 5e-324]),
    st.text(max_size=30),
    st.sampled_from(
        ["", " ", "nan", "inf", "-1", "1e400", "51", "1:05.3", "85%", "[/b]", "a\nb", "\x1b[31m", ".", "/", "a\x00b"]
    ),
    st.sampled_from(
        ["12.2,11.9,12.6,14.3", "1e-20,1e-20,1e-20,51", "male", "none", "blocks", "1.5-2.2", "6m", "90.5s"]
    ),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8,
)


def documented(call) -> None:
    """Run ``call``: success, or a StridebeatError with a one-line message; any other exception fails the test."""
    try:
        call()
    except stridebeat.StridebeatError as exc:
        message = str(exc)
        assert message and "\n" not in message, repr(message)


@pytest.fixture
def folders(tmp_path, monkeypatch):
    """Own preset and stride-profile folders, and a working folder of our own (relative paths land there)."""
    monkeypatch.setenv("STRIDEBEAT_PRESETS_DIR", str(tmp_path / "presets"))
    monkeypatch.setenv("STRIDEBEAT_STRIDES_DIR", str(tmp_path / "strides"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -------------------------------------------------------------------------------------------------------- the API
@PROFILE
@given(value=VALUES)
def test_every_setting_takes_any_value_or_refuses_it_in_one_line(folders, value):
    for key in KEYS:
        documented(lambda: stridebeat.build_job(**{key: value}))  # noqa: B023 - called at once
    documented(lambda: stridebeat.plan_race(time=value, distance=value))


@PROFILE
@given(values=st.dictionaries(st.sampled_from(KEYS), VALUES, min_size=2, max_size=4))
def test_settings_together_raise_only_documented_errors(folders, values):
    documented(lambda: stridebeat.build_job(**values))
    documented(lambda: stridebeat.plan_race(**values))


@PROFILE
@given(
    preset=VALUES,
    open_ended=VALUES,
    stride=VALUES,
    steps=VALUES,
    length=VALUES,
    height=VALUES,
)
def test_the_other_arguments_raise_only_documented_errors(folders, preset, open_ended, stride, steps, length, height):
    documented(lambda: stridebeat.build_job(preset, open_ended=open_ended, time=51))
    documented(lambda: stridebeat.plan_race(stride=stride, time=51))
    documented(lambda: stridebeat.stride_model(steps_per_100m=steps, step_length=length, height=height))
    documented(lambda: stridebeat.load_preset(preset))


@PROFILE
@given(
    name=st.one_of(VALUES, st.sampled_from(["mine", "my.500", "mine\n"])),
    description=st.one_of(VALUES, st.text(max_size=40)),
    force=st.one_of(VALUES, st.booleans()),
    key=st.sampled_from(KEYS),
    value=VALUES,
)
def test_save_preset_raises_only_documented_errors_and_saves_what_loads(folders, name, description, force, key, value):
    values = {"time": 51, key: value} if key != "time" else {key: value}
    try:
        path = stridebeat.save_preset(name, description=description, force=force, **values)
    except stridebeat.StridebeatError as exc:
        assert "\n" not in str(exc)
        return
    assert stridebeat.load_preset(path).description == description  # what saves, loads
    path.unlink()


@PROFILE
@given(offset=VALUES)
def test_timeline_offset_raises_only_documented_errors(offset):
    documented(lambda: stridebeat.timeline(JOB, gun_offset_s=offset))


JOB = stridebeat.build_job(time=51)


# ------------------------------------------------------------------------------------------------- preset files
def toml_of(data: dict) -> str | None:
    """The TOML text of ``data``, or None where TOML cannot hold a value (None)."""
    try:
        return tomli_w.dumps(data)
    except (TypeError, ValueError):
        return None


@PROFILE
@given(value=VALUES)
def test_every_preset_key_loads_or_is_one_line(folders, value):
    path = folders / "p.toml"
    for key in [*KEYS, "schema", "kind", "description"]:
        text = toml_of({"schema": 1, key: value} if key != "schema" else {key: value})
        if text is None:
            return  # a value TOML cannot hold (None, somewhere inside)
        path.write_text(text, encoding="utf-8")
        documented(lambda: stridebeat.load_preset(path))
        documented(lambda: stridebeat.build_job(path))


@PROFILE
@given(
    rest=VALUES,
    repeat=VALUES,
    preset=VALUES,
    key=st.sampled_from(["rest", "repeat", "preset", *KEYS]),
    value=VALUES,
)
def test_session_keys_load_or_are_one_line(folders, rest, repeat, preset, key, value):
    rep = {"preset": preset, "repeat": repeat, key: value}
    text = toml_of({"schema": 1, "kind": "session", "rest": rest, "reps": [rep]})
    if text is None:
        return
    path = folders / "s.toml"
    path.write_text(text, encoding="utf-8")
    documented(lambda: stridebeat.load_preset(path))
