"""Faults: interrupts, full disks, closed streams, long names, limits, clashing outputs and generated input.

Every case runs the real entry point (``stridebeat.cli.run``) and checks the promise of the README's Errors section: at
most one line on stderr, the documented exit code, no traceback, and nothing torn: no file at the target unless it is
complete, no temporary file left behind. A case runs in a child process only where the process itself is the point:
a signal mid-render, closed or full standard streams, a run killed outright.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stridebeat.atomic import TEMP_RE

OLD = b"the runner's old track"


@dataclass(frozen=True)
class Done:
    returncode: int
    stdout: str
    stderr: str


def stridebeat(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Done:
    """``stridebeat ARGS`` in this process, in the folder ``cwd``, with ``env`` as the whole environment if given, and
    an empty non-terminal stdin, as in a script."""
    from stridebeat.cli import run

    saved_cwd, saved_env, saved_stdin = os.getcwd(), dict(os.environ), sys.stdin
    out, err = io.StringIO(), io.StringIO()
    try:
        os.chdir(cwd)
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        sys.stdin = io.StringIO("")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run(list(args))
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        sys.stdin = saved_stdin
    return Done(code, out.getvalue(), err.getvalue())


def stridebeat_process(*args: str, cwd: Path, stdin=subprocess.DEVNULL, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stridebeat", *args],
        cwd=cwd,
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


def one_line(err: str) -> str:
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    return err.rstrip("\n")


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if TEMP_RE.match(p.name))


# ------------------------------------------------------------------------------------------------------ interrupts
# Long enough that the signal lands mid-write in every format (rendering runs about 100× real time or faster).
LONG = {
    "wav": ["--cadence", "180", "--duration", "90m"],
    "flac": ["rhythm-3x500"],
    "ogg": ["rhythm-3x500"],
    "mp3": ["rhythm-3x500"],
}


@pytest.mark.slow  # long renders in child processes, interrupted mid-write
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
@pytest.mark.parametrize("ext", list(LONG))
def test_an_interrupt_mid_render_leaves_the_old_file_and_no_temporary(tmp_path, sig, ext):
    target = tmp_path / f"track.{ext}"
    target.write_bytes(OLD)
    proc = subprocess.Popen(
        [sys.executable, "-m", "stridebeat", "render", *LONG[ext], "-o", target.name, "--force"],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Wait until the temporary file holds some audio: the signal then lands while the encoder writes.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        written = [p for p in tmp_path.iterdir() if TEMP_RE.match(p.name)]
        if written and written[0].stat().st_size > 100_000:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the render ended before it could be interrupted"
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, (out, err)
    line = one_line(err)
    assert line.startswith("Interrupted")
    assert target.read_bytes() == OLD
    assert temporaries(tmp_path) == []


# --------------------------------------------------------------------------------------------- one rule for outputs
def test_an_existing_side_file_is_refused_before_any_work(tmp_path):
    (tmp_path / "race.json").write_bytes(OLD)
    done = stridebeat("render", "--time", "51", "-o", "race.wav", "--timeline", "race.json", cwd=tmp_path)
    assert done.returncode == 1
    assert one_line(done.stderr) == "Error: race.json exists: pass --force to replace it"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["race.json"]
    assert (tmp_path / "race.json").read_bytes() == OLD


@pytest.mark.parametrize("other", ["--timeline", "--labels"])
def test_two_outputs_at_one_path_are_refused(tmp_path, other):
    done = stridebeat("render", "--time", "51", "-o", "race.wav", other, "./race.wav", cwd=tmp_path)
    assert done.returncode == 2
    assert one_line(done.stderr) == ("Error: race.wav and race.wav name the same file: give each output its own name")
    assert list(tmp_path.iterdir()) == []


def test_a_bad_timeline_path_is_found_before_the_audio_is_published(tmp_path):
    done = stridebeat("render", "--time", "51", "-o", "race.wav", "--timeline", "missing/race.json", cwd=tmp_path)
    assert done.returncode == 1
    assert one_line(done.stderr) == "Error: cannot write missing/race.json: folder missing does not exist"
    assert list(tmp_path.iterdir()) == []


def test_all_outputs_are_published_together(tmp_path):
    args = ["--time", "51", "-o", "race.wav", "--timeline", "race.json", "--labels", "race.txt"]
    done = stridebeat("render", *args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["race.json", "race.txt", "race.wav"]


@pytest.mark.parametrize("length, code", [(250, 0), (300, 2)])
def test_long_names(tmp_path, length, code):
    name = "r" * (length - 4) + ".wav"
    done = stridebeat("render", "--time", "51", "--voice", "none", "-o", name, cwd=tmp_path)
    assert done.returncode == code, done.stderr
    if code:
        assert one_line(done.stderr).startswith("Error: the file name rrrr")
        assert list(tmp_path.iterdir()) == []
    else:
        assert [p.name for p in tmp_path.iterdir()] == [name]


# ---------------------------------------------------------------------------------------------------------- limits
@pytest.mark.parametrize(
    "args, line",
    [
        (
            ["--cadence", "400", "--duration", "1m", "-o", "x.wav"],
            "Error: --cadence 400 spm is out of range: give 120 to 300, e.g. 300 (--allow-any-cadence takes 30 to "
            "400 for drills)",
        ),
        (
            ["--cadence", "400", "--allow-any-cadence", "--duration", "10000h", "-o", "x.wav"],
            "Error: --duration 10000h is longer than the longest track (24 h): give 23:59:58 or less",
        ),
        (
            ["--cadence", "180", "--duration", "1000000000h", "-o", "x.flac"],
            "Error: --duration 1000000000h is longer than the longest track (24 h): give 23:59:58 or less",
        ),
        (
            ["--cadence", "180", "--duration", "10h", "-o", "x.wav"],
            "Error: a 10.0 h track is too long for a WAV file (4 GiB at most): write a .flac file or give a lower "
            "--samplerate",
        ),
        (
            ["--time", "51", "--samplerate", "96000", "-o", "x.mp3"],
            "Error: MP3 files take at most 48000 Hz, not 96000 Hz: give --samplerate 48000 or less, or write a .flac "
            "file",
        ),
        (
            ["--time", "51", "--hold-last", "399", "-o", "x.wav"],
            "Error: --hold-last 399 m would start the hold before the runner is up to speed: give 0 (off) to 300 m "
            "for 400 m",
        ),
        (
            ["--time", "51", "--steps-per-100m", "90", "-o", "x.wav"],
            "Error: --steps-per-100m 90 is out of range: give 35 to 80",
        ),
        (["--cadence", "30", "-o", "x.wav", "--duration", "1m"], None),
    ],
)
def test_plans_and_tracks_past_the_limits_are_refused_before_work(tmp_path, args, line):
    done = stridebeat("render", *args, cwd=tmp_path)
    assert done.returncode == 2
    got = one_line(done.stderr)
    if line is not None:
        assert got == line
    assert list(tmp_path.iterdir()) == []


def test_a_plan_no_runner_can_step_names_the_nearest_valid_count(tmp_path):
    done = stridebeat("plan", "--time", "51", "--steps-per-100m", "75", cwd=tmp_path)
    assert done.returncode == 2
    m = re.fullmatch(
        r"Error: this plan needs (\d+) steps per minute at its peak; runners step 120 to 300 per minute: "
        r"give --steps-per-100m ([\d.]+) or fewer",
        one_line(done.stderr),
    )
    assert m and int(m.group(1)) > 300
    # The count it names plans; a step more per 100 m does not.
    assert stridebeat("plan", "--time", "51", "--steps-per-100m", m.group(2), cwd=tmp_path).returncode == 0
    more = str(float(m.group(2)) + 1.0)
    assert stridebeat("plan", "--time", "51", "--steps-per-100m", more, cwd=tmp_path).returncode == 2


def test_latency_must_be_a_number(tmp_path):
    done = stridebeat("live", "--cadence", "180", "--latency", "nan", cwd=tmp_path)
    assert done.returncode == 2
    assert "nan is not a number of seconds" in one_line(done.stderr)


# -------------------------------------------------------------------------------------------------- closed streams
def test_a_render_works_with_stdout_and_stderr_closed(tmp_path):
    for redirect in (">&-", "2>&-", ">&- 2>&-"):
        target = tmp_path / "race.wav"
        cmd = f"{sys.executable} -m stridebeat render --time 51 -o race.wav -f {redirect}"
        done = subprocess.run(["sh", "-c", cmd], cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (redirect, done.stderr)
        assert sf.info(str(target)).frames > 0


def test_a_full_stdout_is_one_line_and_exit_1(tmp_path):
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "stridebeat", "plan", "--time", "51", "--csv"],
            cwd=tmp_path, stdout=full, stderr=subprocess.PIPE, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 1
    assert one_line(done.stderr) == "Error: No space left on device"


# ------------------------------------------------------------------------------------------------------ full disks
@pytest.fixture
def small_disk(tmp_path):
    """A 64 kB tmpfs, smaller than any race track: as root (CI) it mounts; elsewhere the tests skip, saying why."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root): {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


@pytest.mark.parametrize("ext", ["wav", "flac", "ogg", "mp3"])
def test_a_full_disk_is_one_line_and_leaves_nothing(small_disk, ext):
    done = stridebeat("render", "--time", "51", "-o", f"race.{ext}", cwd=small_disk)
    assert done.returncode == 1
    assert one_line(done.stderr) == (
        f"Error: cannot write race.{ext}: the disk is full: free some space, or write to another disk"
    )
    assert list(small_disk.iterdir()) == []


def test_a_read_only_preset_folder_is_one_line(tmp_path):
    folder = tmp_path / "presets"
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a read-only tmpfs (needs root): {done.stderr.decode().strip()}")
    try:
        env = {**os.environ, "STRIDEBEAT_PRESETS_DIR": str(folder)}
        saved = stridebeat("preset", "save", "mine", "--time", "50", cwd=tmp_path, env=env)
    finally:
        subprocess.run(["umount", str(folder)], check=False)
    assert saved.returncode == 1
    assert one_line(saved.stderr).startswith(f"Error: cannot write {folder / 'mine.toml'}: ")


# ------------------------------------------------------------------------------------------------- hostile presets
def test_a_huge_nested_session_is_refused_at_once_and_listed_as_broken(tmp_path):
    folder = tmp_path / "presets"
    folder.mkdir()
    (folder / "fifty.toml").write_text('schema = 1\nkind = "session"\nrest = "1m"\n'
                                       '[[reps]]\npreset = "race-51"\nrepeat = 50\n')  # fmt: skip
    (folder / "huge.toml").write_text('schema = 1\nkind = "session"\nrest = "1m"\n'
                                      '[[reps]]\npreset = "fifty"\nrepeat = 50\n')  # fmt: skip
    env = {**os.environ, "STRIDEBEAT_PRESETS_DIR": str(folder)}
    listed = stridebeat("preset", "list", cwd=tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    huge = next(line for line in listed.stdout.splitlines() if line.startswith("huge "))
    assert "broken" in huge and "the session would hold 2500 reps: a session holds at most 100" in huge
    assert any(line.startswith("fifty ") and " session " in line for line in listed.stdout.splitlines())
    assert any(line.startswith("race-51 ") for line in listed.stdout.splitlines())


def test_sessions_nested_too_deep_are_refused(tmp_path):
    folder = tmp_path / "presets"
    folder.mkdir()
    (folder / "s0.toml").write_text('schema = 1\nkind = "session"\nrest = "1m"\n[[reps]]\npreset = "race-51"\n')
    for i in range(1, 7):
        (folder / f"s{i}.toml").write_text(
            f'schema = 1\nkind = "session"\nrest = "1m"\n[[reps]]\npreset = "s{i - 1}"\n'
        )
    env = {**os.environ, "STRIDEBEAT_PRESETS_DIR": str(folder)}
    done = stridebeat("plan", "s6", cwd=tmp_path, env=env)
    assert done.returncode == 2
    assert "sessions are nested more than 4 deep" in one_line(done.stderr)


@pytest.mark.parametrize("command", [["save", "x.toml", "--time", "50"], ["delete", "x.toml"], ["path", "x.toml"]])
def test_a_preset_name_with_toml_is_refused_alike(tmp_path, command):
    # A name never ends in .toml: with plan, render, live and show such an argument is a file's path.
    env = {**os.environ, "STRIDEBEAT_PRESETS_DIR": str(tmp_path / "presets")}
    done = stridebeat("preset", *command, cwd=tmp_path, env=env)
    assert done.returncode == 2
    assert one_line(done.stderr) == "Error: preset name 'x.toml' ends in .toml: give the name alone, e.g. 'x'"
    assert not (tmp_path / "presets").exists()


# ---------------------------------------------------------------------------------------------- generated option values
NUMBERS = st.sampled_from(["51", "0", "-3", "nan", "inf", "1e308", "abc", "", "12.5", "1:05.3", "400", "3000", "48%"])
OPTIONS = st.lists(
    st.tuples(
        st.sampled_from(["--time", "--distance", "--steps-per-100m", "--step-length", "--hold-last", "--cadence",
                         "--duration", "--samplerate", "--splits", "--intensity", "--reference-time", "--volume",
                         "--settle", "--cue-lead", "--accent", "--voice", "--start", "--tail"]),
        st.one_of(NUMBERS, st.sampled_from(["30s", "2m", "1000h", "12.2,11.9,12.6,14.3", "male", "none", "rolling",
                                            "22050", "96000"])),
    ),
    max_size=4,
)  # fmt: skip


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(options=OPTIONS, ext=st.sampled_from(["wav", "flac", "mp3"]), command=st.sampled_from(["plan", "render"]))
def test_generated_options_end_cleanly(tmp_path_factory, options, ext, command):
    folder = tmp_path_factory.mktemp("gen")
    args = [command, *[x for pair in options for x in pair]]
    target = folder / f"out.{ext}"
    if command == "render":
        args += ["-o", target.name]
    done = stridebeat(*args, cwd=folder)
    assert done.returncode in (0, 1, 2), done
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    if done.returncode:
        one_line(done.stderr)
    assert temporaries(folder) == []
    if target.exists():
        assert done.returncode == 0
        data, rate = sf.read(str(target), dtype="float32")
        assert len(data) > rate and np.abs(data).max() > 0.1  # whole and audible
    else:
        assert command == "plan" or done.returncode != 0


def test_a_folder_that_holds_no_files_is_not_called_a_full_disk(tmp_path):
    """/proc has no free space to report and takes no new files: the reason is the refusal, not "the disk is full"."""
    done = stridebeat("render", "--time", "51", "-o", "/proc/race.wav", cwd=tmp_path)
    assert done.returncode == 1
    line = one_line(done.stderr)
    assert line.startswith("Error: cannot write /proc/race.wav: ") and "disk is full" not in line
    assert not os.path.exists("/proc/race.wav") and list(tmp_path.iterdir()) == []
