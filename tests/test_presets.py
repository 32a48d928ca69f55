"""Presets: built-ins that plan and render, the one vocabulary, overrides, round trips, bad input and racing saves."""

from __future__ import annotations

import json
import multiprocessing
import tomllib

import click
import pytest
import soundfile as sf

from conftest import write_preset
from stridebeat.cli import cli
from stridebeat.config import presets, settings
from stridebeat.config.jobs import prepare, prepare_preset
from stridebeat.core.speech import speech_events

BUILTINS = ("race-51", "sub-50", "cadence-400-80", "cadence-500-85", "cadence-600-90", "rhythm-3x500")
REPS = BUILTINS[:-1]


@pytest.fixture(autouse=True)
def _own_user_dir(user_dir):
    """Every test gets its own empty user preset folder (conftest's ``user_dir``)."""


write = write_preset


# ----------------------------------------------------------------------------------------------------- built-ins


def test_builtins_are_listed_with_safe_names():
    names = {e.name: e for e in presets.entries()}
    for name in BUILTINS:
        assert names[name].builtin and names[name].error is None, names[name].error
        assert presets.check_name(name) == name
        assert names[name].preset.description  # says what it trains


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_has_a_comment_saying_what_it_trains(name):
    text = (presets.builtin_dir() / f"{name}.toml").read_text(encoding="utf-8")
    assert "# What it trains:" in text
    assert tomllib.loads(text)["schema"] == presets.SCHEMA


@pytest.mark.parametrize("name", REPS)
def test_builtin_rep_loads_plans_and_renders(name, tmp_path, run):
    values = presets.load_values(name)
    assert values == settings.parse_values(values)  # already through the gate: parsing again changes nothing
    job = prepare(values)
    assert job.reps[0].planned is not None and len(job.schedule.steps_s) > 100
    out = tmp_path / f"{name}.wav"
    code, _, err = run("render", name, "--samplerate", "22050", "-o", str(out), "--timeline", str(tmp_path / "t.json"))
    assert (code, err) == (0, "")
    info = sf.info(str(out))
    timeline = json.loads((tmp_path / "t.json").read_text())
    assert info.samplerate == 22050
    assert timeline["target_time_s"] == pytest.approx(job.reps[0].planned.plan.target_time_s, abs=1e-9)
    # The 2 s tail follows the finish, or the finish call where it rings past the finish.
    spoken = speech_events(job.schedule, job.voice, 22050)
    last_sound = max([job.schedule.end_s, *(t + len(audio) / 22050 for t, audio in spoken)])
    assert info.duration == pytest.approx(timeline["gun_offset_s"] + last_sound + 2.0, abs=2.5 / 22050)


def test_intensity_arithmetic_of_the_cadence_presets():
    # Computed here, independently: distance / (reference distance / reference time × intensity).
    for name, distance, share in (
        ("cadence-400-80", 400, 0.80),
        ("cadence-500-85", 500, 0.85),
        ("cadence-600-90", 600, 0.90),
    ):
        expected = distance / (400 / 51.0 * share)
        assert prepare_preset(name, {}).reps[0].planned.plan.target_time_s == pytest.approx(expected, abs=1e-9)
    assert prepare_preset("cadence-500-85", {}).reps[0].planned.plan.target_time_s == pytest.approx(75.0, abs=1e-9)


def test_sub_50_is_the_articles_average_of_12_5():
    planned = prepare_preset("sub-50", {}).reps[0].planned
    splits = [r.split_s for r in planned.splits]
    assert sum(splits) / 4 == pytest.approx(12.5, abs=1e-6)  # 12.5 s per 100 m on average ...
    assert splits[1] < splits[0] and splits[3] == max(splits)  # ... not 12.5 each: a race is not run evenly
    assert planned.splits[1].elapsed_s == pytest.approx(24.0, abs=1e-6)  # 24.0 + 26.0


# --------------------------------------------------------------------------------------------- one vocabulary


def test_keys_of_the_override_table_are_settings():
    for key, others in settings.DISPLACES.items():
        assert key in settings.BY_KEY
        assert set(others) <= set(settings.BY_KEY)


def test_save_takes_every_setting_as_its_option(run):
    code, out, _ = run("preset", "save", "--help")
    assert code == 0
    for setting in settings.SETTINGS:
        assert setting.flag in out, setting.flag


def test_every_preset_command_has_help_with_an_example(run):
    group = cli.get_command(click.Context(cli), "preset")
    assert group.help and "stridebeat preset list" in group.help
    for name, command in group.commands.items():
        code, out, _ = run("preset", name, "--help")
        assert code == 0 and command.help
        assert "Example" in out and f"stridebeat preset {name}" in out, name
    for name in ("plan", "render"):
        code, out, _ = run(name, "--help")
        assert "[PRESET]" in out and "rhythm-3x500" in out


# ------------------------------------------------------------------------------------------------------ overrides


def test_command_line_overrides_win(run):
    def target(*args):
        code, out, err = run("plan", *args, "--json")
        assert (code, err) == (0, "")
        return json.loads(out)["target_time_s"]

    assert target("cadence-500-85", "--reference-time", "49.5") == pytest.approx(500 / (400 / 49.5 * 0.85))
    assert target("cadence-500-85", "--intensity", "80%") == pytest.approx(500 / (400 / 51.0 * 0.80))
    assert target("cadence-500-85", "--time", "1:10") == 70.0  # a typed time replaces the preset's intensity
    assert target("race-51", "--splits", "12,11.5,12,13.5") == 49.0  # typed splits define the time
    assert target("race-51", "--distance", "300", "--time", "38") == 38.0
    job = prepare_preset("race-51", {"start": "standing", "steps_per_100m": "46"})
    assert job.reps[0].planned.plan.start == "standing" and job.reps[0].planned.stride.steps_per_100m == 46.0


def test_a_preset_path_works_like_a_name(tmp_path, run):
    path = write(tmp_path, "mine", 'schema = 1\nkind = "rep"\ndistance = 300\ntime = 38.0\n')
    code, out, err = run("plan", str(path), "--json")
    assert (code, err) == (0, "") and json.loads(out)["distance_m"] == 300.0


# ------------------------------------------------------------------------------------------------------ round trip


def test_save_then_load_round_trips_exactly(run, user_dir):
    plan_args = [
        "--distance",
        "500",
        "--intensity",
        "85%",
        "--reference-time",
        "51",
        "--start",
        "standing",
        "--strategy",
        "even",
        "--steps-per-100m",
        "46",
        "--hold-last",
        "150",
    ]
    sound_args = [
        "--pan",
        "--accent",
        "2",
        "--volume",
        "-6",
        "--samplerate",
        "48000",
        "--lead-in",
        "8s",
        "--no-split-tone",
    ]
    code, out, err = run("preset", "save", "my-500", *plan_args, *sound_args, "-d", "Rhythm 500s for me")
    assert (code, err) == (0, "") and out == f"saved my-500: {user_dir / 'my-500.toml'}\n"
    expected = settings.parse_values(
        {
            "distance": "500",
            "intensity": "85%",
            "reference_time": "51",
            "start": "standing",
            "strategy": "even",
            "steps_per_100m": "46",
            "hold_last": "150",
            "pan": True,
            "accent": "2",
            "volume": "-6",
            "samplerate": "48000",
            "lead_in": "8s",
            "split_tone": False,
        }
    )
    assert presets.load_values("my-500") == expected
    assert presets.load("my-500").description == "Rhythm 500s for me"
    assert run("plan", "my-500", "--json") == run("plan", *plan_args, "--json")


@pytest.mark.parametrize(
    "values",
    [
        {"time": 51.123456789012345, "splits": [12.3, 11.70000001, 12.4, 14.723456789012345]},
        {"distance": 600.0, "max_speed": 7.87654321, "intensity": 0.9, "height": 1.83, "first_half": 0.47},
        {"cadence": 187.5, "duration": 1234.5, "sound": "tick", "tail": 0.0},
    ],
)
def test_saved_values_load_back_equal(values):
    presets.save("trip", values, description="x", force=True)
    assert presets.load_values("trip") == settings.parse_values(values)


def test_save_from_a_preset(run):
    code, _, err = run("preset", "save", "my-race", "--from", "race-51", "--time", "49.5")
    assert (code, err) == (0, "")
    assert presets.load_values("my-race") == {**presets.load_values("race-51"), "time": 49.5}
    code, _, err = run("preset", "save", "my-session", "--from", "rhythm-3x500")
    path = presets.builtin_dir() / "rhythm-3x500.toml"
    assert (code, err) == (
        2,
        f"Error: {path}: 'rhythm-3x500' is a session of 3 reps, not a single rep: only a rep preset fits here\n",
    )


# ------------------------------------------------------------------------------------------------------ bad input


# (name, text, the line the error names (None: the file as a whole), reason)
BAD_FILES = [
    ("unknown", 'schema = 1\nkind = "rep"\ndistanse = 500\n', 3, "unknown key 'distanse' (did you mean 'distance'?)"),
    ("wrongtype", 'schema = 1\nkind = "rep"\ndistance = "far"\n', 3, 'distance = "far" is not a number'),
    (
        "range",
        'schema = 1\nintensity = "150%"\nreference_time = 51.0\n',
        2,
        'intensity = "150%" is out of range: give 30% to 105%',
    ),
    ("toofar", "schema = 1\ndistance = 5000\ntime = 900\n", 2, "distance = 5000 is out of range: give 100 to 1000 m"),
    (
        "faster",
        "schema = 1\ndistance = 400\ntime = 40\n",
        3,
        "40.00 s for 400 m is faster than the world record (43.03 s): check the time, or pass --allow-faster-than-record",
    ),
    ("noschema", "distance = 400\n", None, "no 'schema' key: a stridebeat preset starts with schema = 1"),
    ("future", "schema = 7\n", None, "schema 7 is newer than this stridebeat reads (1): update stridebeat"),
    (
        "deep",
        "schema = 1\nx = " + "[" * 5000 + "]" * 5000 + "\n",
        None,
        "TOML nested too deeply to read: a preset is a few flat tables",
    ),
]


@pytest.mark.parametrize("name, text, line, reason", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_preset_gives_one_line_naming_file_line_and_key(name, text, line, reason, run, user_dir):
    path = write(user_dir, name, text)
    code, out, err = run("plan", name)
    at = f"{path}, line {line}" if line else f"{path}"
    assert (code, out, err) == (2, "", f"Error: {at}: {reason}\n")


def test_broken_user_preset_is_listed_as_broken(run, user_dir):
    write(user_dir, "broken", 'schema = 1\ndistance = "far"\n')
    write(user_dir, "race-51", 'schema = 1\nkind = "rep"\ndescription = "my own"\ntime = 52.0\n')
    write(user_dir, "bad name", "schema = 1\ntime = 52.0\n")
    code, out, err = run("preset", "list")
    assert (code, err) == (0, "")
    lines = out.splitlines()[1:]
    broken = next(line for line in lines if line.startswith("broken "))
    assert broken.split()[1:3] == ["broken", "user"]
    assert f'{user_dir / "broken.toml"}, line 2: distance = "far" is not a number' in broken
    mine, builtin = [line for line in lines if line.startswith("race-51 ")]
    assert "user (shadows built-in)" in mine and "400 m in 52.00" in mine and "my own" in mine
    assert "built-in (shadowed by user)" in builtin and "400 m in 51.00" in builtin
    assert "bad name" in out and "has characters other than letters" in out
    for name in BUILTINS:
        assert any(line.startswith(name + " ") for line in out.splitlines())


def test_show_delete_and_path(run, user_dir):
    code, out, _ = run("preset", "show", "cadence-500-85")
    assert code == 0 and 'intensity = "85%"' in out and "1:15.00" in out
    assert run("preset", "path") == (0, f"{user_dir}\n", "")
    assert run("preset", "path", "race-51")[1] == f"{presets.builtin_dir() / 'race-51.toml'}\n"
    code, _, err = run("preset", "delete", "race-51")
    assert (code, err) == (2, "Error: 'race-51' is a built-in preset: it cannot be deleted\n")
    run("preset", "save", "gone", "--time", "51")
    assert run("preset", "delete", "gone") == (0, f"deleted {user_dir / 'gone.toml'}\n", "")
    code, _, err = run("plan", "gone")
    missing = f"Error: no preset named 'gone' (built-in or in {user_dir}): see 'stridebeat preset list'\n"
    assert (code, err) == (2, missing)


# --------------------------------------------------------------------------------------------------- racing saves


def _saver(folder: str, writer: int, rounds: int) -> None:
    import os

    os.environ[presets.ENV_DIR] = folder
    for _k in range(rounds):
        presets.save("race", _values(writer), description=_description(writer), force=True)


def _first_saver(folder: str, writer: int, barrier) -> str:
    import os

    os.environ[presets.ENV_DIR] = folder
    barrier.wait()
    try:
        presets.save("first", _values(writer), description=_description(writer))
        return "saved"
    except Exception as exc:  # noqa: BLE001 - the test compares the message
        return str(exc)


def _values(writer: int) -> dict:
    # Long enough (20 kB) that a torn or interleaved write would show, and a distinct time per writer.
    return {"time": 50.0 + writer, "distance": 400.0}


def _description(writer: int) -> str:
    return f"writer {writer} " + "x" * 20_000


def test_concurrent_saves_never_leave_a_mixture(user_dir):
    writers, rounds = 4, 25
    contents = {presets.dumps(_values(w), description=_description(w)) for w in range(writers)}
    user_dir.mkdir()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_saver, args=(str(user_dir), w, rounds)) for w in range(writers)]
    for p in procs:
        p.start()
    seen = 0
    path = user_dir / "race.toml"
    while any(p.is_alive() for p in procs):
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        assert text in contents  # a whole file by one writer, never a mixture
        tomllib.loads(text)
        seen += 1
    for p in procs:
        p.join()
        assert p.exitcode == 0
    assert path.read_text(encoding="utf-8") in contents
    assert presets.load_values("race")["time"] in {50.0 + w for w in range(writers)}
    assert [p.name for p in user_dir.iterdir()] == ["race.toml"]  # no temporary file left behind
    assert seen > 0


def test_racing_first_saves_leave_exactly_one_winner(user_dir):
    writers = 4
    user_dir.mkdir()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(writers)
        with ctx.Pool(writers) as pool:
            results = pool.starmap(_first_saver, [(str(user_dir), w, barrier) for w in range(writers)])
    assert results.count("saved") == 1
    assert set(results) - {"saved"} == {f"{user_dir / 'first.toml'} exists: pass --force to replace it"}
    winner = results.index("saved")
    assert (user_dir / "first.toml").read_text(encoding="utf-8") == presets.dumps(
        _values(winner), description=_description(winner)
    )
