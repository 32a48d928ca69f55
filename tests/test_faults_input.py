"""Hostile input to settings, presets and the API (issue 21): one line, exit 2, never a traceback, never a hang.

Each case ran into a traceback, a hang, a wrong result or a misleading message before: huge numbers, NaN splits,
markup in descriptions, CSVs as spreadsheets write them, FIFOs, rests the voice cannot say, relative preset paths,
names with a newline, the API's None and wrong types, and messages that misled.
"""

from __future__ import annotations

import json
import math
import os
import pty
import resource
import subprocess
import sys
import threading
import time

import pytest

import stridebeat
from conftest import write_preset
from stridebeat.config import presets
from stridebeat.core.session import job_track

HUGE = "1" + "0" * 400


@pytest.fixture(autouse=True)
def _own_user_dir(user_dir):
    """Every test gets its own empty user preset folder."""


def one_line(err: str) -> str:
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err
    return err.rstrip("\n")


# ------------------------------------------------------------------------------------------------- huge numbers, NaN
@pytest.mark.parametrize(
    "args, line",
    [
        (
            ["--steps-per-100m", HUGE],
            "Error: --steps-per-100m 100000000000000000000000000000000000000… is out of range: give 35 to 80",
        ),
        (["--distance", "nan"], "Error: --distance nan is not a number"),
        (["--distance", "1e400"], "Error: --distance 1e400 is out of range: give 100 to 1000 m"),
        (["--reaction", "1e308"], "Error: --reaction 1e308 is out of range: give 0.1 to 0.4 s"),
        (
            ["--splits", "1e-20,1e-20,1e-20,51"],
            "Error: --splits 1e-20,1e-20,1e-20,51 has a split of 1e-20: give each 100 m split from 1 to 600 s",
        ),
        (
            ["--time", "51", "--first-half", HUGE],
            "Error: --first-half 100000000000000000000000000000000000000… is not a plausible share of the time: give e.g. 48% or 0.48",
        ),
    ],
)
def test_absurd_numbers_on_the_command_line_are_one_line(run, args, line):
    code, out, err = run("plan", *args)
    assert (code, out) == (2, "")
    assert one_line(err) == line


def test_a_400_digit_number_in_a_preset_names_file_line_and_key(run, user_dir):
    path = write_preset(user_dir, "x", f'schema = 1\nkind = "rep"\ntime = 51\n\nsteps_per_100m = {HUGE}\n')
    code, _, err = run("plan", "x")
    assert code == 2
    assert one_line(err) == (
        f"Error: {path}, line 5: steps_per_100m = a number of about 401 digits is out of range: give 35 to 80"
    )


def test_the_issues_example_line_for_a_preset(run, user_dir):
    path = write_preset(
        user_dir, "x", 'schema = 1\nkind = "rep"\ndescription = "x"\ntime = 51\nsteps_per_100m = 1000\n'
    )
    code, _, err = run("plan", "x")
    assert (code, err) == (2, f"Error: {path}, line 5: steps_per_100m = 1000 is out of range: give 35 to 80\n")


@pytest.mark.parametrize(
    "values",
    [
        {"time": 10**400},
        {"time": 51, "steps_per_100m": 10**400},
        {"time": 51, "reaction": -(10**400)},
        {"cadence": 10**400, "duration": "1m"},
        {"cadence": 180, "duration": 10**400},
        {"time": 51, "seed": 10**400},
        {"time": 51, "accent": 10**5000},
        {"time": float("nan")},
        {"distance": float("inf")},
    ],
)
def test_the_api_refuses_huge_and_non_finite_numbers_with_a_usage_error(values):
    with pytest.raises(stridebeat.UsageError) as info:
        stridebeat.build_job(**values)
    assert "\n" not in str(info.value)
    assert info.value.key in values


# ------------------------------------------------------------------------------------------- text from files is text
def test_preset_list_shows_markup_and_escapes_as_text(run, user_dir):
    description = "[/b] [bold]loud[/bold] \x1b[31mred\x1b[0m"
    write_preset(
        user_dir,
        "marked",
        f'schema = 1\ndescription = "{description.replace(chr(27), chr(92) + "u001b")}"\ntime = 52\n',
    )
    code, out, err = run("preset", "list")
    assert (code, err) == (0, "")
    line = next(line for line in out.splitlines() if line.startswith("marked "))
    assert "[/b] [bold]loud[/bold] [31mred[0m" in line  # brackets kept, the escape character gone
    assert "\x1b" not in out


# ---------------------------------------------------------------------------------------------- --splits-from files
SPLITS = [12.9, 12.1, 12.6, 13.4]


@pytest.mark.parametrize(
    "name, data",
    [
        ("bom.csv", "\ufeffsplit\n12.9\n12.1\n12.6\n13.4\n".encode()),
        ("cp1252.csv", "Läufer;split\nAna;12,9\nAna;12,1\nAna;12,6\nAna;13,4\n".encode("cp1252")),
        ("cp1252-euro.csv", "note €,split\na,12.9\nb,12.1\nc,12.6\nd,13.4\n".encode("cp1252")),
        ("clock.csv", b"elapsed\n0:12.9\n0:25.0\n0:37.6\n0:51.0\n"),
        ("decimal-comma.csv", b"distance;split\n100;12,9\n200;12,1\n300;12,6\n400;13,4\n"),
    ],
)
def test_splits_from_spreadsheet_csvs(run, tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    code, out, err = run("plan", "--splits-from", path, "--json")
    assert (code, err) == (0, "")
    got = [row["split_s"] for row in json.loads(out)["splits"]]
    assert got == pytest.approx(SPLITS, abs=0.006)


def test_splits_from_the_json_of_plan_and_a_sessions_json_refused_clearly(run, tmp_path):
    code, out, _ = run("plan", "--time", "52.3", "--json")
    assert code == 0
    rep = tmp_path / "rep.json"
    rep.write_text(out)
    code, again, err = run("plan", "--splits-from", rep, "--json")
    assert (code, err) == (0, "")
    assert [r["split_s"] for r in json.loads(again)["splits"]] == pytest.approx(
        [r["split_s"] for r in json.loads(out)["splits"]], abs=0.006
    )
    code, session, _ = run("plan", "rhythm-3x500", "--json")
    (tmp_path / "session.json").write_text(session)
    code, _, err = run("plan", "--splits-from", tmp_path / "session.json")
    assert code == 2
    assert "the plan of a session of 3 reps: give the JSON of one rep's plan" in one_line(err)


def _limited() -> None:
    # A reader that takes /dev/zero whole would take all memory: the child fails at 2 GB instead.
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


@pytest.mark.parametrize("device", ["/dev/zero", "fifo"])
def test_splits_from_a_device_or_a_fifo_is_refused(tmp_path, device):
    if device == "fifo":
        device = str(tmp_path / "fifo.csv")
        os.mkfifo(device)
    done = subprocess.run(
        [sys.executable, "-m", "stridebeat", "plan", "--splits-from", device],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limited,
    )
    assert done.returncode == 2
    assert one_line(done.stderr) == (
        f"Error: --splits-from {device}: not a regular file (a pipe or a device): give a file saved on disk"
    )


def test_a_preset_whose_splits_from_is_a_fifo_does_not_hang_preset_list(tmp_path, user_dir):
    fifo = tmp_path / "race.csv"
    os.mkfifo(fifo)
    write_preset(user_dir, "piped", f'schema = 1\nsplits_from = "{fifo}"\n')
    env = {**os.environ, presets.ENV_DIR: str(user_dir)}
    done = subprocess.run(
        [sys.executable, "-m", "stridebeat", "preset", "list"], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("piped "))
    assert "broken" in line and "not a regular file" in line


# --------------------------------------------------------------------------------------- rests the voice can say
@pytest.mark.parametrize(
    "rest, reason",
    [
        ("60m", 'rest = "60m" is out of range: give 10s to 59:59'),
        ("90.5s", 'rest = "90.5s" is not a whole number of seconds: give e.g. 90s or 6m'),
        (f"{HUGE}s", 'rest = "10000000000000000000000000000000000000… is out of range: give 10s to 59:59'),
    ],
)
def test_a_rest_the_voice_cannot_say_is_refused_where_plan_and_list_look(run, user_dir, rest, reason):
    path = write_preset(
        user_dir, "s", f'schema = 1\nkind = "session"\nrest = "{rest}"\n[[reps]]\npreset = "race-51"\nrepeat = 2\n'
    )
    code, _, err = run("plan", "s")
    assert (code, err) == (2, f"Error: {path}, line 3: {reason}\n")
    code, out, _ = run("preset", "list")
    assert code == 0 and f"line 3: {reason}" in next(line for line in out.splitlines() if line.startswith("s "))


def test_the_longest_rest_a_refusal_names_renders(run, user_dir):
    write_preset(
        user_dir, "s", 'schema = 1\nkind = "session"\nrest = "60m"\n[[reps]]\npreset = "race-51"\nrepeat = 2\n'
    )
    code, _, err = run("plan", "s")
    assert code == 2 and one_line(err).endswith("give 10s to 59:59")
    write_preset(
        user_dir, "s", 'schema = 1\nkind = "session"\nrest = "59:59"\n[[reps]]\npreset = "race-51"\nrepeat = 2\n'
    )
    job = stridebeat.build_job("s", samplerate=22050)
    assert job.reps[0].rest_after_s == 3599.0
    assert len(stridebeat.render_array(job)) > 22050 * 3599  # "fifty nine minutes fifty nine seconds" is said


# -------------------------------------------------------------------------------------------------- preset paths
def test_relative_paths_in_a_preset_are_read_from_its_folder(run, tmp_path):
    folder = tmp_path / "coach"
    folder.mkdir()
    (folder / "race.csv").write_text("12.9\n12.1\n12.6\n13.4\n")
    preset = folder / "mine.toml"
    preset.write_text('schema = 1\nsplits_from = "race.csv"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.chdir(elsewhere)
    code, out, err = run("plan", preset, "--json")
    assert (code, err) == (0, "")
    assert [r["split_s"] for r in json.loads(out)["splits"]] == pytest.approx(SPLITS, abs=0.006)


def test_saved_paths_are_absolute(run, tmp_path, user_dir, monkeypatch):
    (tmp_path / "race.csv").write_text("12.9\n12.1\n12.6\n13.4\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = run("preset", "save", "mine", "--splits-from", "race.csv")
    assert (code, err) == (0, "")
    text = (user_dir / "mine.toml").read_text()
    assert f'splits_from = "{tmp_path / "race.csv"}"' in text
    monkeypatch.chdir(user_dir)
    assert stridebeat.build_job("mine").reps[0].planned.plan.splits_s == pytest.approx(SPLITS)


# ------------------------------------------------------------------------------------------------------------ names
@pytest.mark.parametrize("name", ["mine\n", "mi\tne", "mine\x1b"])
def test_names_with_control_characters_are_refused(run, user_dir, name):
    code, _, err = run("preset", "save", name, "--time", "50")
    assert code == 2 and "holds a control character" in one_line(err)
    with pytest.raises(stridebeat.UsageError):
        stridebeat.save_preset(name, time=50)
    assert not user_dir.exists() or list(user_dir.iterdir()) == []
    with pytest.raises(stridebeat.UsageError):
        stridebeat.build_job(time=51, stride=name)


# --------------------------------------------------------------------------------------------------------- the API
def test_none_does_not_drop_a_presets_values(user_dir):
    assert stridebeat.build_job("cadence-500-85", time=None).reps[0].planned.plan.target_time_s == pytest.approx(75.0)
    write_preset(user_dir, "counted", 'schema = 1\ntime = 52\nsteps_per_100m = 47\nvoice = "female"\n')
    job = stridebeat.build_job("counted", steps_per_100m=None, voice=None)
    assert job.reps[0].planned.stride.steps_per_100m == 47 and job.voice.voice == "female"


def test_a_description_that_is_not_text_is_refused(user_dir):
    with pytest.raises(stridebeat.UsageError, match="description 5 is not text"):
        stridebeat.save_preset("mine", description=5, time=50)
    assert not (user_dir / "mine.toml").exists()


WRONG_TYPES = {
    "set_hold list of text": lambda: stridebeat.build_job(time=51, set_hold=[1.5, "x"]),
    "stride_model text": lambda: stridebeat.stride_model(steps_per_100m="x"),
    "stride_model list": lambda: stridebeat.stride_model(height=[1.8]),
    "plan_race stride": lambda: stridebeat.plan_race(time=51, stride=5),
    "build_job preset number": lambda: stridebeat.build_job(5),
    "build_job preset list": lambda: stridebeat.build_job(["race-51"]),
    "load_preset number": lambda: stridebeat.load_preset(5),
    "load_preset None": lambda: stridebeat.load_preset(None),
    "save_preset name number": lambda: stridebeat.save_preset(5, time=50),
    "save_preset force text": lambda: stridebeat.save_preset("mine", force="yes", time=50),
    "save_preset description list": lambda: stridebeat.save_preset("mine", description=["x"], time=50),
    "timeline of a number": lambda: stridebeat.timeline(5),
    "build_job open_ended text": lambda: stridebeat.build_job(open_ended="x", cadence=180),
}


@pytest.mark.parametrize("call", WRONG_TYPES.values(), ids=WRONG_TYPES.keys())
def test_arguments_of_the_wrong_type_raise_usage_error(call, user_dir):
    with pytest.raises(stridebeat.UsageError) as info:
        call()
    assert "\n" not in str(info.value)
    assert not (user_dir / "mine.toml").exists()


def test_timeline_refuses_a_nan_offset():
    job = stridebeat.build_job(time=51)
    for bad in (math.nan, math.inf, -1.0, "5"):
        with pytest.raises(stridebeat.UsageError, match="gun_offset_s"):
            stridebeat.timeline(job, gun_offset_s=bad)
    assert stridebeat.timeline(job, gun_offset_s=5.0)["gun_offset_s"] == 5.0


# ------------------------------------------------------------------------------------------ messages that misled
def test_a_duration_past_a_day_shows_what_was_given(run):
    code, _, err = run("render", "--cadence", "180", "--duration", "24.01h", "-o", "x.wav")
    assert code == 2
    assert one_line(err) == "Error: --duration 24.01h is longer than the longest track (24 h): give 23:59:58 or less"
    code, _, err = run("render", "--cadence", "180", "--duration", "24h", "-o", "x.flac")
    assert code == 2
    assert one_line(err) == (
        "Error: --duration 86400 s with the lead-in and tail (2 s) is longer than the longest track (24 h): give "
        "23:59:58 or less"
    )
    job = stridebeat.build_job(cadence=180, duration="23:59:58")
    assert job_track(job).n_frames <= 24 * 3600 * 44100  # what it names plays: within the longest track


def test_a_session_nested_too_deep_names_the_file_given(run, user_dir):
    write_preset(user_dir, "s0", 'schema = 1\nkind = "session"\nrest = "1m"\n[[reps]]\npreset = "race-51"\n')
    for i in range(1, 7):
        write_preset(user_dir, f"s{i}", f'schema = 1\nkind = "session"\nrest = "1m"\n[[reps]]\npreset = "s{i - 1}"\n')
    code, _, err = run("plan", "s6")
    assert code == 2
    assert one_line(err).startswith(f"Error: {user_dir / 's6.toml'}: sessions are nested more than 4 deep")


def test_a_file_name_with_a_newline_stays_one_line(run, tmp_path):
    code, _, err = run("plan", str(tmp_path / "x\ny.toml"))
    assert code == 2
    assert one_line(err).endswith("holds a control character: give a preset name or a path")


def test_end_of_input_at_the_overwrite_prompt_is_not_an_interrupt(tmp_path):
    (tmp_path / "race.wav").write_bytes(b"old")
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "stridebeat", "render", "--time", "51", "-o", "race.wav"],
        cwd=tmp_path,
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    os.close(terminal)
    timer = threading.Timer(60, proc.kill)
    timer.start()
    try:
        time.sleep(0.5)
        os.write(controller, b"\x04")  # Ctrl-D: end of input on a terminal
        _, err = proc.communicate(timeout=60)
    finally:
        timer.cancel()
        os.close(controller)
    assert proc.returncode == 1
    assert err.decode().endswith(
        "Error: no answer at the prompt (end of input): nothing was replaced; pass --force to replace without asking\n"
    )
    assert "Interrupted" not in err.decode()
    assert (tmp_path / "race.wav").read_bytes() == b"old"
