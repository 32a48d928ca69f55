"""The FIT workout writer, read back with the Decoder of Garmin's FIT SDK (the reference reader)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import garmin_fit_sdk
import pytest

import stridebeat
from stridebeat.errors import OutputError, UsageError
from stridebeat.export.fit import (
    MAX_STEP_NAME_BYTES,
    Repeat,
    Workout,
    WorkoutStep,
    encode_workout,
    spm_to_fit_cadence,
    workout_from_splits,
)
from writers import write_bytes

Decoder = garmin_fit_sdk.Decoder
Stream = garmin_fit_sdk.Stream

CREATED = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)

INTERVALS = Workout(
    name="6x200 cadence",
    steps=(
        WorkoutStep(name="warm up", kind="run", duration_s=600.0),
        Repeat(
            count=6,
            steps=(
                WorkoutStep(name="200 fast", distance_m=200.0, cadence_spm=(199.0, 205.0)),
                WorkoutStep(name="walk back", kind="rest", duration_s=90.0),
            ),
        ),
        WorkoutStep(name="jog 400", kind="rest", distance_m=400.0),
        WorkoutStep(name="cool down", kind="rest"),  # open: the lap button ends it
    ),
)


def decode(data: bytes) -> dict:
    decoder = Decoder(Stream.from_byte_array(bytearray(data)))
    assert decoder.is_fit()
    assert decoder.check_integrity()
    # A fresh decoder: is_fit() and check_integrity() leave the stream at the end.
    messages, errors = Decoder(Stream.from_byte_array(bytearray(data))).read()
    assert errors == []
    return messages


def flatten(workout: Workout) -> list[WorkoutStep | tuple[int, int]]:
    """The expected step messages: steps in order, each repeat block followed by (first index, count)."""
    out: list[WorkoutStep | tuple[int, int]] = []
    for item in workout.steps:
        if isinstance(item, WorkoutStep):
            out.append(item)
        else:
            first = len(out)
            out.extend(item.steps)
            out.append((first, item.count))
    return out


def check_steps(messages: dict, workout: Workout) -> None:
    expected = flatten(workout)
    steps = messages["workout_step_mesgs"]
    assert [m["message_index"] for m in steps] == list(range(len(expected)))
    assert messages["workout_mesgs"][0]["num_valid_steps"] == len(expected)
    for mesg, want in zip(steps, expected, strict=True):
        if isinstance(want, tuple):
            first, count = want
            assert mesg["duration_type"] == "repeat_until_steps_cmplt"
            assert mesg["duration_step"] == first
            assert mesg["repeat_steps"] == count
            assert mesg["target_type"] == "open"
            continue
        assert mesg["wkt_step_name"] == want.name
        assert mesg["intensity"] == ("active" if want.kind == "run" else "rest")
        if want.distance_m is not None:
            assert mesg["duration_type"] == "distance"
            assert mesg["duration_value"] == round(want.distance_m * 100)  # raw: centimetres
            assert mesg["duration_distance"] == pytest.approx(want.distance_m)
        elif want.duration_s is not None:
            assert mesg["duration_type"] == "time"
            assert mesg["duration_time"] == pytest.approx(want.duration_s)
        else:
            assert mesg["duration_type"] == "open"
        if want.cadence_spm is None:
            assert mesg["target_type"] == "open"
        else:
            low, high = want.cadence_spm
            assert mesg["target_type"] == "cadence"
            assert mesg["target_cadence_zone"] == 0  # custom range
            # Strides per minute: half the steps, widened to whole strides.
            assert mesg["custom_target_cadence_low"] == math.floor(low / 2)
            assert mesg["custom_target_cadence_high"] == math.ceil(high / 2)
            assert mesg["custom_target_cadence_low"] * 2 <= low and mesg["custom_target_cadence_high"] * 2 >= high


def test_intervals_round_trip(tmp_path):
    path = tmp_path / "intervals.fit"
    write_bytes(path, encode_workout(INTERVALS, created=CREATED))
    messages = decode(path.read_bytes())
    file_id = messages["file_id_mesgs"][0]
    assert file_id["type"] == "workout"
    assert file_id["manufacturer"] == "development"
    assert file_id["time_created"] == CREATED
    workout = messages["workout_mesgs"][0]
    assert workout["sport"] == "running"
    assert workout["wkt_name"] == "6x200 cadence"
    check_steps(messages, INTERVALS)
    assert [p.name for p in tmp_path.iterdir()] == ["intervals.fit"]  # no temporary file left


def test_header_and_crc_are_valid():
    data = encode_workout(INTERVALS, created=CREATED)
    assert data[0] == 14 and data[8:12] == b".FIT"
    assert data[1] == 0x10  # protocol 1.0: nothing of 2.0 is used, and 1.0-only watches accept it
    assert int.from_bytes(data[4:8], "little") == len(data) - 14 - 2  # data size: all but header and file CRC
    crc = garmin_fit_sdk.CrcCalculator.calculate_crc
    assert int.from_bytes(data[12:14], "little") == crc(data, 0, 12)
    assert int.from_bytes(data[-2:], "little") == crc(data, 0, len(data) - 2)


@pytest.mark.parametrize("offset", [20, -10, -1])
def test_a_corrupted_byte_fails_the_crc_check(offset):
    data = bytearray(encode_workout(INTERVALS, created=CREATED))
    data[offset] ^= 0x01
    decoder = Decoder(Stream.from_byte_array(data))
    assert decoder.is_fit()
    assert not decoder.check_integrity()


def test_workout_from_splits():
    splits = [
        (100.0, 12.1, 196.0, False),
        (200.0, 11.2, 201.0, False),
        (300.0, 11.8, 201.0, True),
        (400.0, 12.6, 201.0, True),
    ]
    workout = workout_from_splits("400 m 47.7", splits, tolerance_spm=3.0)
    names = [s.name for s in workout.steps if isinstance(s, WorkoutStep)]
    assert names == ["100 m 12.1", "200 m 23.3", "300 m 35.1 hold", "400 m 47.7 hold"]
    assert all(len(n) <= MAX_STEP_NAME_BYTES for n in names)
    for step, (_, _, cadence, _) in zip(workout.steps, splits, strict=True):
        assert isinstance(step, WorkoutStep)
        assert step.distance_m == 100.0
        assert step.cadence_spm == (cadence - 3.0, cadence + 3.0)
    messages = decode(encode_workout(workout, created=CREATED))
    check_steps(messages, workout)


def test_split_names_fit_the_watch():
    workout = workout_from_splits("800", [(400.0, 62.34, 190.0, True), (800.0, 65.0, 190.0, True)])
    names = [s.name for s in workout.steps if isinstance(s, WorkoutStep)]
    assert names == ["400 m 1:02.3 H", "800 m 2:07.3 H"]


def test_cadence_conversion_is_half_widened():
    assert spm_to_fit_cadence(200, 206) == (100, 103)
    assert spm_to_fit_cadence(197, 203) == (98, 102)


def one_line_usage_error(make) -> str:
    with pytest.raises(UsageError) as info:
        make()
    message = str(info.value)
    assert message and "\n" not in message and ": " in message
    return message


@pytest.mark.parametrize(
    "make",
    [
        lambda: Workout(name="empty", steps=()),
        lambda: Workout(name=" ", steps=(WorkoutStep(name="a"),)),
        lambda: WorkoutStep(name="x", distance_m=-100.0),
        lambda: WorkoutStep(name="x", distance_m=float("nan")),
        lambda: WorkoutStep(name="x", duration_s=0.0),
        lambda: WorkoutStep(name="x", distance_m=100.0, duration_s=10.0),
        lambda: WorkoutStep(name="x", cadence_spm=(50.0, 80.0)),
        lambda: WorkoutStep(name="x", cadence_spm=(200.0, 310.0)),
        lambda: WorkoutStep(name="x", cadence_spm=(210.0, 200.0)),
        lambda: WorkoutStep(name="a name far too long for a watch"),
        lambda: WorkoutStep(name=""),
        lambda: Repeat(count=0, steps=(WorkoutStep(name="a"),)),
        lambda: Repeat(count=3, steps=()),
        lambda: workout_from_splits("x", []),
        lambda: workout_from_splits("x", [(200.0, 24.0, 200.0, False), (100.0, 12.0, 200.0, False)]),
        lambda: workout_from_splits("x", [(100.0, 12.0, 400.0, False)]),
    ],
)
def test_bad_input_is_a_one_line_usage_error(make):
    one_line_usage_error(make)


def test_unwritable_folder_is_an_output_error_and_leaves_nothing(tmp_path):
    target = tmp_path / "missing" / "w.fit"
    with pytest.raises(OutputError) as info:
        stridebeat.render(stridebeat.build_job(time=51), [target])
    assert "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []
