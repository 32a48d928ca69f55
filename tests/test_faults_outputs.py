"""Hostile outputs, end to end (issue 21, "Data loss"): the command line and the Python API refuse what is not a file,
two runs that meet at one path without --force leave one winner, and a render sweeps only the temporary files of
killed runs.

A node the render must not replace is made inside ``tmp_path``. The one machine stream used (``/dev/stderr``) reaches
the command only once ``check_targets`` has refused it in-process, so code that would replace it never runs.
"""

from __future__ import annotations

import multiprocessing
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import stridebeat
from processes import process
from stridebeat.atomic import TEMP_RE, check_targets
from stridebeat.errors import OutputError, StridebeatError

# Above Linux's largest possible PID (PID_MAX_LIMIT, 2**22): no process here has it, as in another PID namespace.
ABSENT_PID = 2**22 + 1


def stridebeat_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stridebeat", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_line(err: str) -> str:
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err, err
    return err.rstrip("\n")


def kind_of(path: Path | str) -> tuple[int, str]:
    mode = os.lstat(path).st_mode
    return stat.S_IFMT(mode), os.readlink(path) if stat.S_ISLNK(mode) else ""


# -------------------------------------------------------------------------------------------- not files: refused
@pytest.mark.parametrize("option, name", [("-o", "pipe.wav"), ("--timeline", "pipe.json"), ("--labels", "pipe.txt")])
def test_force_never_replaces_a_pipe(tmp_path, option, name):
    os.mkfifo(tmp_path / name)
    outputs = {"-o": "race.wav", option: name}
    args = [a for pair in outputs.items() for a in pair]
    done = stridebeat_cli("render", "--time", "51", *args, "--force", cwd=tmp_path)
    assert done.returncode == 1
    assert one_line(done.stderr) == f"Error: {name} is a pipe, not a file: give a file name"
    assert stat.S_ISFIFO(os.lstat(tmp_path / name).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == [name]


@pytest.mark.parametrize("kind", ["device", "link to a device"])
def test_force_never_replaces_a_device(tmp_path, kind):
    node = tmp_path / "labels.txt"
    if kind == "device":
        if os.geteuid() != 0:
            pytest.skip("creating a device node needs root (CI runs the tests as root)")
        os.mknod(node, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # the null device's numbers: harmless if opened
    else:
        node.symlink_to("/dev/null")
    before = kind_of(node)
    done = stridebeat_cli("render", "--time", "51", "-o", "race.wav", "--labels", "labels.txt", "--force", cwd=tmp_path)
    assert done.returncode == 1
    assert one_line(done.stderr) == "Error: labels.txt is a device, not a file: give a file name"
    assert kind_of(node) == before
    assert [p.name for p in tmp_path.iterdir()] == ["labels.txt"]


def test_labels_on_standard_error_are_refused_and_dev_stderr_stays(tmp_path):
    before = kind_of("/dev/stderr")
    with pytest.raises(StridebeatError):  # the guard: the command below runs only where nothing can be written
        check_targets(["/dev/stderr"], force=True)
    done = stridebeat_cli(
        "render", "--time", "51", "-o", "race.wav", "--labels", "/dev/stderr", "--force", cwd=tmp_path
    )
    assert done.returncode == 2
    assert one_line(done.stderr) == (
        "Error: /dev/stderr is standard error: stridebeat writes files; give a file name such as race.wav"
    )
    assert kind_of("/dev/stderr") == before
    assert list(tmp_path.iterdir()) == []


def test_a_dash_is_not_standard_output(tmp_path):
    done = stridebeat_cli("render", "--time", "51", "-o", "race.wav", "--timeline", "-", cwd=tmp_path)
    assert done.returncode == 2
    assert one_line(done.stderr) == (
        "Error: - is standard output: stridebeat writes files; give a file name such as race.wav"
    )
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------- a file appearing mid-render
def reference_samples(job) -> np.ndarray:
    """The 16-bit samples a file of ``job`` must hold, from the API's float render."""
    return np.rint(stridebeat.render_array(job) * 32767.0).astype(np.int16)


@pytest.mark.parametrize("ext", ["wav", "flac"])
def test_a_file_that_appears_while_rendering_is_kept_without_force(tmp_path, ext):
    job = stridebeat.build_job(time=51)
    target = tmp_path / f"race.{ext}"

    def someone_else_writes(done: int, total: int) -> None:
        if not target.exists():
            target.write_bytes(b"another run's track")

    with pytest.raises(OutputError) as info:
        stridebeat.render_file(job, target, progress=someone_else_writes)
    assert str(info.value) == f"{target} appeared while rendering: pass --force to replace it"
    assert target.read_bytes() == b"another run's track"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]

    stridebeat.render_file(job, target, force=True, progress=someone_else_writes)
    samples, _ = sf.read(target, dtype="int16")
    np.testing.assert_array_equal(samples, reference_samples(job))
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def _racing_render(path: str, barrier) -> str:
    job = stridebeat.build_job(time=51)
    waited = []

    def meet(done: int, total: int) -> None:
        if not waited:  # both have passed the up-front check and are rendering
            waited.append(barrier.wait(timeout=60))

    try:
        stridebeat.render_file(job, path, progress=meet)
        return "rendered"
    except OutputError as exc:
        return str(exc)


def test_two_renders_that_meet_at_one_path_without_force_leave_one_whole_winner(tmp_path):
    target = tmp_path / "race.wav"
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(2)
        with ctx.Pool(2) as pool:
            results = pool.starmap(_racing_render, [(str(target), barrier)] * 2)
    assert sorted(results) == sorted(["rendered", f"{target} appeared while rendering: pass --force to replace it"])
    samples, _ = sf.read(target, dtype="int16")
    np.testing.assert_array_equal(samples, reference_samples(stridebeat.build_job(time=51)))
    assert [p.name for p in tmp_path.iterdir()] == ["race.wav"]


# -------------------------------------------------------------------------------------- the sweep, end to end
# A render killed outright (kill -9) after staging its file.
KILLED = """
import os, sys
from stridebeat.atomic import Staged
print(Staged().path(sys.argv[1]))
print("ready", flush=True)
os._exit(0)
"""

# A writer in another PID namespace (a container sharing the folder): its PID means nothing here; its lock is held.
ELSEWHERE = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
fcntl.flock(fd, fcntl.LOCK_EX)
print("ready", flush=True)
sys.stdin.readline()
"""


def test_a_render_sweeps_a_killed_runs_temporary_and_keeps_a_live_writers_elsewhere(tmp_path):
    with process(KILLED, tmp_path / "race.wav") as lines:
        killed = Path(lines[0])
    alive = tmp_path / f".race.wav.stridebeat-0badc0de-{ABSENT_PID}-0123abcd.part"
    with process(ELSEWHERE, alive):
        assert killed.exists() and TEMP_RE.match(killed.name)
        done = stridebeat_cli("render", "--time", "51", "-o", "race.wav", "--force", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert not killed.exists()
        assert alive.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, "race.wav"])
