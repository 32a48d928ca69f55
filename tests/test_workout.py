"""A job as a FIT workout, read back with the Decoder of Garmin's FIT SDK and checked step by step against the plan."""

from __future__ import annotations

import math
import os

import garmin_fit_sdk
import pytest

import stridebeat
from stridebeat.core.session import Job
from stridebeat.errors import OutputError, UsageError
from stridebeat.export.fit import Repeat, WorkoutStep
from stridebeat.export.workout import DEFAULT_TOLERANCE_SPM, workout_for


def decode(path) -> dict:
    data = bytearray(path.read_bytes())
    decoder = garmin_fit_sdk.Decoder(garmin_fit_sdk.Stream.from_byte_array(data))
    assert decoder.is_fit()
    assert decoder.check_integrity()  # header and file CRCs
    # A fresh decoder: is_fit() and check_integrity() leave the stream at the end.
    messages, errors = garmin_fit_sdk.Decoder(garmin_fit_sdk.Stream.from_byte_array(data)).read()
    assert errors == []
    assert data[1] == 0x10  # protocol 1.0, as fit.py writes it for older watches
    assert messages["file_id_mesgs"][0]["type"] == "workout"
    assert messages["workout_mesgs"][0]["sport"] == "running"
    assert messages["workout_mesgs"][0]["num_valid_steps"] == len(messages["workout_step_mesgs"])
    return messages


def as_run(steps: list[dict]) -> list[dict]:
    """The steps in the order a watch runs them: each repeat block played its count of times."""
    out: list[dict] = []
    done: list[dict] = []  # the messages met so far, by message_index
    for mesg in steps:
        assert mesg["message_index"] == len(done)
        done.append(mesg)
        if mesg["duration_type"] == "repeat_until_steps_cmplt":
            block = [m for m in done[mesg["duration_step"] : -1]]
            assert all(m["duration_type"] != "repeat_until_steps_cmplt" for m in block)  # no nesting
            out += block * (mesg["repeat_steps"] - 1)  # the first pass is already in ``out``
        else:
            out.append(mesg)
    return out


def clock(seconds: float) -> str:
    minutes, tenths = divmod(round(seconds * 10), 600)
    return f"{minutes}:{tenths / 10:04.1f}" if minutes else f"{tenths / 10:.1f}"


def expected_name(distance_m: float, elapsed_s: float, held: bool) -> str:
    name = f"{distance_m:g} m {clock(elapsed_s)}" + (" hold" if held else "")
    return name if len(name) <= 15 else f"{distance_m:g} m {clock(elapsed_s)} H"


def check_against_plan(job: Job, run: list[dict]) -> None:
    """Every step the watch runs is the plan's: 100 m per split with its cadence band, and each rest's length."""
    want: list[tuple] = []
    for rep in job.reps:
        assert rep.planned is not None
        prev = 0.0
        for row in rep.planned.splits:
            want.append(("run", row, row.distance_m - prev))
            prev = row.distance_m
        if rep.rest_after_s is not None:
            want.append(("rest", rep.rest_after_s, None))
    assert len(run) == len(want)
    for mesg, (kind, what, length) in zip(run, want, strict=True):
        if kind == "rest":
            assert mesg["intensity"] == "rest"
            assert mesg["duration_type"] == "time"
            assert mesg["duration_value"] == round(what * 1000)  # raw: milliseconds
            assert mesg["duration_time"] == pytest.approx(what)
            assert mesg["target_type"] == "open"
            continue
        assert mesg["intensity"] == "active"
        assert mesg["duration_type"] == "distance"
        assert mesg["duration_value"] == round(length * 100)  # raw: centimetres
        assert mesg["duration_distance"] == pytest.approx(100.0)
        assert mesg["wkt_step_name"] == expected_name(what.distance_m, what.elapsed_s, what.held)
        assert mesg["target_type"] == "cadence"
        assert mesg["target_cadence_zone"] == 0  # a custom range
        low, high = what.cadence_spm - DEFAULT_TOLERANCE_SPM, what.cadence_spm + DEFAULT_TOLERANCE_SPM
        # Strides per minute (one stride = two steps), widened outwards to whole strides.
        assert mesg["custom_target_cadence_low"] == math.floor(low / 2)
        assert mesg["custom_target_cadence_high"] == math.ceil(high / 2)
        assert 2 * mesg["custom_target_cadence_low"] <= low < 2 * mesg["custom_target_cadence_low"] + 2
        assert 2 * mesg["custom_target_cadence_high"] - 2 < high <= 2 * mesg["custom_target_cadence_high"]


def write_fit(job: Job, path, *, force: bool = False):
    """The job's workout written as ``stridebeat render -o x.fit`` writes it: through the output pipeline."""
    return stridebeat.render(job, [path], force=force).outputs[0].path


def test_a_race_is_one_step_per_100_m(tmp_path):
    job = stridebeat.build_job(time=51)
    path = write_fit(job, tmp_path / "race51.fit", force=False)
    messages = decode(path)
    steps = messages["workout_step_mesgs"]
    assert messages["workout_mesgs"][0]["wkt_name"] == "race51"  # no session: the file's name
    assert [m["wkt_step_name"] for m in steps] == ["100 m 12.9", "200 m 24.9", "300 m 37.5 hold", "400 m 51.0 hold"]
    assert not any(m["duration_type"] == "repeat_until_steps_cmplt" for m in steps)
    check_against_plan(job, as_run(steps))


def test_rhythm_3x500_is_a_repeat_block_then_the_last_rep(tmp_path):
    job = stridebeat.build_job("rhythm-3x500")
    messages = decode(write_fit(job, tmp_path / "session.fit", force=False))
    assert messages["workout_mesgs"][0]["wkt_name"] == "rhythm-3x500"
    steps = messages["workout_step_mesgs"]
    # 2 × (five 100 m steps, rest 6:00), then the last 500 m: the session has no rest after its last rep.
    assert len(steps) == 5 + 1 + 1 + 5
    repeat = steps[6]
    assert repeat["duration_type"] == "repeat_until_steps_cmplt"
    assert (repeat["duration_step"], repeat["repeat_steps"]) == (0, 2)
    assert steps[5]["wkt_step_name"] == "rest 6:00"
    assert steps[5]["duration_time"] == pytest.approx(360.0)
    assert [m["wkt_step_name"] for m in steps[7:]] == [m["wkt_step_name"] for m in steps[:5]]
    run = as_run(steps)
    assert len(run) == 3 * 5 + 2
    check_against_plan(job, run)


def test_the_workout_records_of_rhythm_3x500():
    job = stridebeat.build_job("rhythm-3x500")
    workout = workout_for(job, name="3x500")
    block, *last = workout.steps
    assert isinstance(block, Repeat)
    assert block.count == 2
    assert [s.name for s in block.steps] == [s.name for s in last] + ["rest 6:00"]
    assert all(isinstance(s, WorkoutStep) and s.kind == "run" for s in last)


SESSION = """\
schema = 1
kind = "session"
rest = "3m"

[[reps]]
distance = 200
time = 25
repeat = 4

[[reps]]
distance = 300
time = 40
rest = "5m"

[[reps]]
distance = 300
time = 40
rest = "2m"

[[reps]]
preset = "race-51"
"""


def test_repeats_only_where_rep_and_rest_repeat(tmp_path, user_dir):
    user_dir.mkdir(parents=True)
    (user_dir / "mixed.toml").write_text(SESSION, encoding="utf-8")
    job = stridebeat.build_job("mixed")
    workout = workout_for(job, name="mixed")
    kinds = [type(s).__name__ if isinstance(s, Repeat) else s.name for s in workout.steps]
    # 4 × (200 m, 3:00) as one block, its last rest included; the two 300 m reps differ in their rests.
    names = [[expected_name(r.distance_m, r.elapsed_s, r.held) for r in rep.planned.splits] for rep in job.reps]
    assert len(names) == 7
    assert kinds == ["Repeat", *names[4], "rest 5:00", *names[5], "rest 2:00", *names[6]]
    assert names[4] == names[5] and names[6][-1] == "400 m 51.0 hold"
    block = workout.steps[0]
    assert isinstance(block, Repeat) and block.count == 4
    assert [s.name for s in block.steps][-1] == "rest 3:00"
    messages = decode(write_fit(job, tmp_path / "mixed.fit", force=False))
    check_against_plan(job, as_run(messages["workout_step_mesgs"]))


def test_a_metronome_is_one_timed_step(tmp_path):
    job = stridebeat.build_job(cadence=190, duration="20m")
    messages = decode(write_fit(job, tmp_path / "drills.fit"))
    assert messages["workout_mesgs"][0]["wkt_name"] == "drills"
    (step,) = messages["workout_step_mesgs"]
    assert step["wkt_step_name"] == "190 spm 20:00"
    assert step["intensity"] == "active"
    assert step["duration_type"] == "time"
    assert step["duration_value"] == 1_200_000
    assert step["target_type"] == "cadence"
    assert (step["custom_target_cadence_low"], step["custom_target_cadence_high"]) == (93, 97)  # 187-193 spm


def test_an_open_ended_metronome_ends_with_the_lap_button():
    job = stridebeat.build_job(cadence=180, open_ended=True)
    (step,) = workout_for(job, name="live").steps
    assert isinstance(step, WorkoutStep)
    assert step.duration_s is None and step.distance_m is None
    assert step.cadence_spm == pytest.approx((177.0, 183.0))


def test_the_tolerance_widens_the_band():
    job = stridebeat.build_job(cadence=180, duration="5m")
    (step,) = workout_for(job, name="x", tolerance_spm=6.0).steps
    assert isinstance(step, WorkoutStep)
    assert step.cadence_spm == pytest.approx((174.0, 186.0))


def test_an_existing_file_needs_force(tmp_path):
    job = stridebeat.build_job(time=51)
    path = tmp_path / "race.fit"
    path.write_bytes(b"keep me")
    with pytest.raises(OutputError, match=r"race\.fit exists: pass --force to replace it"):
        write_fit(job, path, force=False)
    assert path.read_bytes() == b"keep me"
    write_fit(job, path, force=True)
    decode(path)
    assert os.listdir(tmp_path) == ["race.fit"]  # no temporary file left behind


def test_a_missing_folder_is_an_output_error(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        write_fit(stridebeat.build_job(time=51), tmp_path / "nope" / "race.fit", force=False)


def test_a_bad_name_is_refused_before_writing(tmp_path):
    with pytest.raises(UsageError, match="longer than"):
        workout_for(stridebeat.build_job(time=51), name="x" * 300)


@pytest.mark.parametrize("tolerance", [-1.0, 31.0, float("nan")])
def test_a_bad_tolerance_is_refused(tolerance):
    with pytest.raises(UsageError, match="cadence tolerance"):
        workout_for(stridebeat.build_job(cadence=180, duration="5m"), name="x", tolerance_spm=tolerance)
