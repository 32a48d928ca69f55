"""The command line: exact error lines and exit codes (2 usage, 1 other failure), help with examples on every command,
and the plan's JSON and CSV checked against the audio that `render` writes.

Most runs go through the real entry point in-process (``run_cli`` in conftest.py); a few run ``python -m stridebeat``
in a subprocess to show the installed program behaves the same, with nothing but the one line on stderr.
"""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys
from fractions import Fraction
from importlib.metadata import version

import click
import numpy as np
import pytest

from audiocheck import detect_onsets, read_audio

RECOVER = "write seconds (51.0) or minutes:seconds (1:05.3)"


def assert_one_error_line(result, code: int, line: str) -> None:
    assert result.code == code
    assert result.err == line + "\n"
    assert result.out == ""
    assert "Traceback" not in result.err


# ----------------------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("command", [["plan"], ["render", "-o", "{tmp}/race.wav"]])
@pytest.mark.parametrize(
    "time, line",
    [
        ("-5", f"Error: --time -5 is not positive: {RECOVER}"),
        ("0", f"Error: --time 0 is not positive: {RECOVER}"),
        ("0:00.0", f"Error: --time 0:00.0 is not positive: {RECOVER}"),
        ("nan", f"Error: --time nan is not a finite number: {RECOVER}"),
        ("inf", f"Error: --time inf is not a finite number: {RECOVER}"),
        ("abc", f"Error: --time abc is not a time: {RECOVER}"),
        ("51s", f"Error: --time 51s is not a time: {RECOVER}"),
        ("1:75", "Error: --time 1:75 is not a valid clock time: seconds and minutes must be below 60"),
        (
            "1" + "0" * 400,
            "Error: --time 100000000000000000000000000000000000000… is out of range: give a time up to 8:20",
        ),
        (
            "42.9",
            "Error: 42.90 s for 400 m is faster than the world record (43.03 s): check the time, or pass "
            "--allow-faster-than-record",
        ),
    ],
)
def test_bad_times_are_one_usage_line(run_cli, tmp_path, command, time, line):
    args = [a.format(tmp=tmp_path) for a in command]
    assert_one_error_line(run_cli(*args, "--time", time), 2, line)
    assert list(tmp_path.iterdir()) == []  # nothing rendered, nothing left behind


def test_the_record_override_allows_a_faster_time(run_cli):
    result = run_cli("plan", "--time", "42.9", "--allow-faster-than-record", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["splits"][-1]["elapsed_s"] == pytest.approx(42.9, abs=1e-6)


@pytest.mark.parametrize(
    "args, line",
    [
        (
            ["--splits", "12.2,11.9,12.6,14.3", "--time", "52"],
            "Error: the splits add up to 51.00 s but --time is 52.00 s: make them agree within 0.05 s, or leave out --time",
        ),
        (
            ["--splits", "12.2,11.9,12.6,14.3", "--time", "50.94"],
            "Error: the splits add up to 51.00 s but --time is 50.94 s: make them agree within 0.05 s, or leave out --time",
        ),
        (["--splits", "12.2,11.9,12.6"], "Error: 400 m needs 4 splits (one per 100 m), got 3"),
    ],
)
def test_custom_splits_that_disagree_are_refused(run_cli, args, line):
    assert_one_error_line(run_cli("plan", *args), 2, line)


def test_custom_splits_that_agree_within_50ms_are_the_plan(run_cli):
    result = run_cli("plan", "--splits", "12.2,11.9,12.6,14.3", "--time", "51.04", "--json")
    assert result.code == 0, result.err
    splits = json.loads(result.out)["splits"]
    assert [s["split_s"] for s in splits] == pytest.approx([12.2, 11.9, 12.6, 14.3], abs=1e-3)


@pytest.mark.parametrize(
    "args, line",
    [
        (["plan", "--bogus"], "Error: No such option '--bogus' (see 'stridebeat plan --help')"),
        (["render", "--time", "51"], "Error: Missing option '-o' / '--output' (see 'stridebeat render --help')"),
        (["plan", "--json", "--csv"], "Error: give either --json or --csv, not both (see 'stridebeat plan --help')"),
        (["nosuchcommand"], "Error: No such command 'nosuchcommand' (see 'stridebeat --help')"),
    ],
)
def test_usage_errors_are_one_line_exit_2(run_cli, args, line):
    assert_one_error_line(run_cli(*args), 2, line)


def test_unsupported_extension(run_cli, tmp_path):
    out = tmp_path / "race.aiff"
    assert_one_error_line(
        run_cli("render", "--time", "51", "-o", out),
        2,
        "Error: cannot write '.aiff' files: name the output with one of .wav, .flac, .ogg, .mp3, .fit",
    )
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output_under_a_regular_file(run_cli, tmp_path):
    """Tests run as root, for whom a read-only folder is still writable; a path under a FILE is unwritable for all."""
    blocker = tmp_path / "notes.txt"
    blocker.write_text("not a folder")
    out = blocker / "race.wav"
    assert_one_error_line(
        run_cli("render", "--time", "51", "-o", out), 1, f"Error: cannot write {out}: {blocker} is not a folder"
    )
    assert blocker.read_text() == "not a folder"


def test_unwritable_output_in_a_missing_folder(run_cli, tmp_path):
    out = tmp_path / "missing" / "race.wav"
    assert_one_error_line(
        run_cli("render", "--time", "51", "-o", out),
        1,
        f"Error: cannot write {out}: folder {out.parent} does not exist",
    )
    assert list(tmp_path.iterdir()) == []


def test_existing_file_without_force_is_kept(run_cli, tmp_path):
    out = tmp_path / "race.wav"
    out.write_bytes(b"the previous track")
    assert_one_error_line(
        run_cli("render", "--time", "51", "-o", out), 1, f"Error: {out} exists: pass --force to replace it"
    )
    assert out.read_bytes() == b"the previous track"
    assert [p.name for p in tmp_path.iterdir()] == ["race.wav"]
    result = run_cli("render", "--time", "51", "-o", out, "--force", "--lead-in", "1", "--tail", "0", "--voice", "none")
    assert result.code == 0, result.err
    x, sr = read_audio(out)
    # 1 s lead-in and the 51 s race; with no tail the finish chime (a quarter second) still plays out whole.
    assert 52.0 * sr <= len(x) <= 52.3 * sr and np.abs(x).max() > 0.5


@pytest.mark.parametrize(
    "args, code, line",
    [
        (["plan", "--time", "nan"], 2, f"Error: --time nan is not a finite number: {RECOVER}"),
        (
            ["plan", "--time", "40"],
            2,
            "Error: 40.00 s for 400 m is faster than the world record (43.03 s): check the "
            "time, or pass --allow-faster-than-record",
        ),
        (["plan", "--bogus-option"], 2, "Error: No such option '--bogus-option' (see 'stridebeat plan --help')"),
        (
            ["render", "--time", "51", "-o", "{tmp}/x.ogg/race.wav"],
            1,
            "Error: cannot write {tmp}/x.ogg/race.wav: {tmp}/x.ogg is not a folder",
        ),
    ],
)
def test_the_installed_program_prints_exactly_one_line(tmp_path, args, code, line):
    (tmp_path / "x.ogg").write_bytes(b"")
    argv = [a.format(tmp=tmp_path) for a in args]
    done = subprocess.run(
        [sys.executable, "-m", "stridebeat", *argv],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        cwd=tmp_path,
        timeout=60,
    )
    assert (done.returncode, done.stderr, done.stdout) == (code, line.format(tmp=tmp_path) + "\n", "")


def test_the_installed_program_delivers_all_its_output_through_a_pipe(run_cli):
    args = ["plan", "--distance", "1000", "--time", "150", "--csv"]
    done = subprocess.run(
        [sys.executable, "-m", "stridebeat", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    expected = run_cli(*args).out
    assert done.returncode == 0 and done.stderr == ""
    assert len(expected) > 16_384  # more than one pipe write
    assert done.stdout == expected


def test_a_reader_that_leaves_the_pipe_ends_the_program_quietly():
    # `stridebeat plan --csv | head -1`: the rest of the output has nowhere to go. click ends the command with exit
    # code 1 and no message; no traceback or "Exception ignored" at the exit either.
    proc = subprocess.Popen(
        [sys.executable, "-m", "stridebeat", "plan", "--distance", "1000", "--time", "150", "--csv"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # before the program writes anything (it takes a tenth of a second to start)
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 1
    assert err == b""


# -------------------------------------------------------------------------------------------------- help, version
def _commands(group: click.Group, path=()):
    yield path
    for name, cmd in sorted(group.commands.items()):
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*path, name))
        else:
            yield (*path, name)


def _all_commands():
    from stridebeat.cli import cli

    return list(_commands(cli))


@pytest.mark.parametrize("path", _all_commands(), ids=lambda p: " ".join(p) or "stridebeat")
def test_every_command_has_help_with_an_example(run_cli, path):
    result = run_cli(*path, "--help")
    assert result.code == 0 and result.err == ""
    assert result.out.startswith(f"Usage: stridebeat {' '.join(path)}".rstrip())
    assert "Example" in result.out
    example = [ln.strip() for ln in result.out.splitlines() if ln.strip().startswith("stridebeat ")]
    assert example, "an example is a command line to copy"


def test_plan_and_render_are_commands():
    names = {p[0] for p in _all_commands() if p}
    assert {"plan", "render"} <= names


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(run_cli, flag):
    result = run_cli(flag)
    assert (result.code, result.out, result.err) == (0, f"stridebeat, version {version('stridebeat')}\n", "")


# ------------------------------------------------------------------------------------------------------ plan --json
def plan_json(run_cli, *args) -> dict:
    result = run_cli("plan", "--time", "51", *args, "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_plan_json_has_the_documented_shape(run_cli):
    data = plan_json(run_cli)
    assert set(data) == {"distance_m", "target_time_s", "splits", "steps", "cues"}
    assert (data["distance_m"], data["target_time_s"]) == (400.0, 51.0)
    split_keys = {"distance_m", "elapsed_s", "split_s", "cadence_spm", "step_length_m", "steps"}
    assert all(set(s) == split_keys for s in data["splits"])
    assert all(set(s) == {"t_s", "foot"} for s in data["steps"])
    assert all({"t_s", "kind", "text"} <= set(c) for c in data["cues"])  # optional extras (a cue's value) allowed
    splits = data["splits"]
    assert [s["distance_m"] for s in splits] == [100.0, 200.0, 300.0, 400.0]
    assert all(isinstance(s["steps"], int) for s in splits)
    assert all(isinstance(s[k], float) for s in splits for k in split_keys - {"steps"})
    assert sum(s["split_s"] for s in splits) == pytest.approx(51.0, abs=1e-3)
    assert np.cumsum([s["split_s"] for s in splits]) == pytest.approx([s["elapsed_s"] for s in splits], abs=1e-5)
    assert splits[-1]["elapsed_s"] == pytest.approx(51.0, abs=1e-6)
    t = np.array([s["t_s"] for s in data["steps"]])
    assert np.all(np.diff(t) > 0) and 0 < t[0] and t[-1] <= 51.0
    assert [s["foot"] for s in data["steps"]] == ["R", "L"] * (len(t) // 2) + ["R"] * (len(t) % 2)
    # Each 100 m's step count is the footstrikes that fall in it.
    edges = [0.0] + [s["elapsed_s"] for s in splits]
    assert [s["steps"] for s in splits] == [int(np.sum((t > a) & (t <= b))) for a, b in zip(edges, edges[1:])]
    for s in splits:  # speed = step length × cadence, segment by segment (the first is timed from first movement)
        assert 100.0 / s["split_s"] == pytest.approx(s["step_length_m"] * s["cadence_spm"] / 60.0, rel=0.02)
    kinds = [c["kind"] for c in data["cues"]]
    assert kinds.count("gun") == 1 and kinds.count("split") == 3 and kinds.count("finish") == 1
    assert [c["t_s"] for c in data["cues"]] == sorted(c["t_s"] for c in data["cues"])
    by_kind = {c["kind"]: c["t_s"] for c in data["cues"]}
    assert by_kind["gun"] == 0.0 and by_kind["finish"] == pytest.approx(51.0, abs=1e-9)


def test_plan_json_steps_are_the_clicks_in_the_rendered_audio(run_cli, tmp_path):
    data = plan_json(run_cli)
    wav, timeline = tmp_path / "race.wav", tmp_path / "race.json"
    result = run_cli("render", "--time", "51", "--no-split-tone", "--voice", "none", "-o", wav, "--timeline", timeline)
    assert result.code == 0, result.err
    assert result.out.startswith(f"wrote {wav}: ")
    written = json.loads(timeline.read_text())
    assert written["steps"] == data["steps"] and written["splits"] == data["splits"]
    x, sr = read_audio(wav)
    origin = round(written["gun_offset_s"] * sr)
    assert written["gun_offset_s"] == pytest.approx(5.0)  # the default lead-in before the gun
    expected = [origin] + [origin + round(s["t_s"] * sr) for s in written["steps"]]  # the gun, then every footstrike
    found = detect_onsets(x, threshold=0.01, min_gap=sr // 100)
    assert found.tolist() == expected
    assert len(x) == round((5.0 + 51.0 + 2.0) * sr)  # lead-in, the race, the default 2 s tail


# ------------------------------------------------------------------------------------------------------- plan --csv
def test_plan_csv_is_a_per_step_timetable(run_cli):
    data = plan_json(run_cli)
    result = run_cli("plan", "--time", "51", "--csv")
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert result.out.splitlines()[0] == "step,t_s,foot,distance_m,step_length_m,cadence_spm"
    assert len(rows) == len(data["steps"])
    assert [int(r["step"]) for r in rows] == list(range(1, len(rows) + 1))
    t = np.array([float(r["t_s"]) for r in rows])
    assert t == pytest.approx([s["t_s"] for s in data["steps"]], abs=1e-6)
    assert [r["foot"] for r in rows] == [s["foot"] for s in data["steps"]]
    dist = np.array([float(r["distance_m"]) for r in rows])
    length = np.array([float(r["step_length_m"]) for r in rows])
    assert rows[0]["cadence_spm"] == ""  # the first click has no previous click to make a cadence with
    cadence = np.array([float(r["cadence_spm"]) for r in rows[1:]])
    assert np.all(np.diff(dist) > 0)
    assert 0.0 <= 400.0 - dist[-1] < length[-1]  # the steps cover the distance within one step
    assert length[1:] == pytest.approx(np.diff(dist), abs=0.0015)
    assert cadence == pytest.approx(60.0 / np.diff(t), abs=0.06)


# ------------------------------------------------------------------------------------------------------ metronome
def test_render_a_plain_metronome(run_cli, tmp_path):
    out = tmp_path / "drills.wav"
    result = run_cli("render", "--cadence", "190", "--duration", "20s", "-o", out)
    assert result.code == 0, result.err
    assert result.out == f"wrote {out}: 22.0 s, 64 clicks, 44100 Hz stereo\n"
    x, sr = read_audio(out)
    assert (sr, x.shape) == (44100, (22 * 44100, 2))  # 20 s of clicks and the default 2 s tail
    n = math.ceil(Fraction(20) * 190 / 60)  # clicks at k·60/190 s for every k with k·60/190 < 20
    expected = [math.floor(Fraction(60 * k * sr, 190) + Fraction(1, 2)) for k in range(n)]
    assert detect_onsets(x, threshold=0.01, min_gap=sr // 100).tolist() == expected


# ------------------------------------------------------------------------------------- defaults and documented usage
@pytest.mark.parametrize("distance, time", [("100", "12.5"), ("150", "18"), ("200", "24"), ("1000", "2:45")])
def test_every_distance_plans_on_the_default_options(run_cli, distance, time):
    """100–1000 m are accepted (issue 2); the default hold must fit a short rep instead of refusing it."""
    result = run_cli("plan", "--distance", distance, "--time", time, "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["splits"][-1]["distance_m"] == float(distance)
    assert data["splits"][-1]["elapsed_s"] == pytest.approx(
        sum(float(p) * 60**i for i, p in enumerate(reversed(time.split(":")))), abs=1e-6
    )


def test_timeline_in_a_missing_folder_names_the_timeline(run_cli, tmp_path):
    wav, timeline = tmp_path / "race.wav", tmp_path / "missing" / "race.json"
    assert_one_error_line(
        run_cli("render", "--time", "51", "-o", wav, "--timeline", timeline),
        1,
        f"Error: cannot write {timeline}: folder {timeline.parent} does not exist",
    )
    assert list(tmp_path.iterdir()) == []


def _help_examples(command: str) -> list[list[str]]:
    import click

    from stridebeat.cli import cli

    text = cli.get_command(click.Context(cli), command).help or ""
    lines = [ln.strip().split() for ln in text.splitlines() if ln.strip().startswith(f"stridebeat {command} --")]
    return [ln[2:] for ln in lines]


@pytest.mark.parametrize("args", _help_examples("plan"), ids=" ".join)
def test_plan_examples_in_the_help_run(run_cli, tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)  # an example may write a file (a plot): never into the repository
    result = run_cli("plan", *args)
    assert result.code == 0, result.err
    assert result.out or list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "argv",
    [
        ["--time", "51", "-o", "x.wav"],
        ["--time", "51", "-ox.wav"],
        ["-f", "--time", "51", "-o", "x.wav"],
        ["--time", "51", "-fo", "x.wav"],
        ["--time", "51", "--output", "x.wav", "-f"],
        ["--time", "51", "-o", "-f"],
        ["--time", "51", "-o=x.wav"],
    ],
)
def test_short_options_parse_as_click_parses_them(argv):
    # Ground truth: the same parameters on a plain click.Command, parsed by click alone.
    from stridebeat.cli import cli

    ours = cli.get_command(click.Context(cli), "render")
    plain = click.Command("render", params=ours.params)
    assert ours.make_context("render", list(argv)).params == plain.make_context("render", list(argv)).params


def test_an_unknown_short_option_is_still_clicks_usage_error(run_cli):
    result = run_cli("render", "--time", "51", "-q", "x.wav")
    assert (result.code, result.err) == (2, "Error: No such option '-q' (see 'stridebeat render --help')\n")


def test_the_option_groups_are_the_settings_groups():
    """``stridebeat --help`` lists the commands without loading the settings table, so the command line names the
    groups itself: they must be the table's own, in its order."""
    from stridebeat.cli.options import GROUPS
    from stridebeat.config.settings import SETTINGS

    assert GROUPS == tuple(dict.fromkeys(s.group for s in SETTINGS))


def test_the_packages_lazy_names_are_the_apis_names():
    # stridebeat/__init__.py lists the API's names again (reading stridebeat.api would load numpy at --help).
    import stridebeat
    import stridebeat.api

    lazy = {name for name, module in stridebeat._EXPORTS.items() if module == "stridebeat.api"}
    assert lazy == set(stridebeat.api.__all__)
    assert all(getattr(stridebeat, name) is getattr(stridebeat.api, name) for name in lazy)


def test_listing_the_commands_loads_no_settings_and_no_numpy():
    code = (
        "import sys\n"
        "from stridebeat.cli import run\n"
        "run(['--help'])\n"
        "print(sorted(m for m in ('numpy', 'stridebeat.config.settings', 'stridebeat.api') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Commands:" in done.stdout and "review" in done.stdout and "serve" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]"
