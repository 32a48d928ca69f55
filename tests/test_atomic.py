"""What an output may replace, publishing without --force, the sweep of temporary files, and all-or-none publishing
(issue 21, "Data loss"), through stridebeat.atomic's public functions.

Every node a test refuses to replace is created inside ``tmp_path``; the machine's own streams (``/dev/stderr``) are
only ever passed to ``check_targets``, which writes nothing, so no version of the code under test can damage them.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from processes import process
from stridebeat.atomic import TEMP_RE, Staged, atomic_file, check_targets, remove_stale_temps
from stridebeat.errors import OutputError, UsageError
from stridebeat.tempfiles import STALE_AFTER_S, owner

# Above Linux's largest possible PID (PID_MAX_LIMIT, 2**22): no process here has it, as in another PID namespace.
ABSENT_PID = 2**22 + 1
OLD = [b"the runner's old track", b"old timeline", b"old labels"]


# ------------------------------------------------------------------------------------- what an output may replace
def pipe(path: Path) -> str:
    os.mkfifo(path)
    return f"{path} is a pipe, not a file: give a file name"


def unix_socket(path: Path) -> str:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
    return f"{path} is a socket, not a file: give a file name"


def device(path: Path) -> str:
    if os.geteuid() != 0:
        pytest.skip("creating a device node needs root (CI runs the tests as root)")
    os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # the null device's numbers: harmless if ever opened
    return f"{path} is a device, not a file: give a file name"


def link_to_device(path: Path) -> str:
    path.symlink_to("/dev/null")
    return f"{path} is a device, not a file: give a file name"


def link_to_file(path: Path) -> str:
    (path.parent / "real.txt").write_bytes(b"the file the link points to")
    path.symlink_to(path.parent / "real.txt")
    return f"{path} is a symbolic link: outputs are never written through links; give the file's own name"


def dangling_link(path: Path) -> str:
    path.symlink_to(path.parent / "missing.txt")
    return f"{path} is a symbolic link to nothing: outputs replace only files; give a file name"


def link_to_folder(path: Path) -> str:
    (path.parent / "sub").mkdir()
    path.symlink_to(path.parent / "sub")
    return f"cannot write {path}: it is a folder; give a file name"


NODES: dict[str, Callable[[Path], str]] = {
    "pipe": pipe,
    "socket": unix_socket,
    "device": device,
    "link to a device": link_to_device,
    "link to a file": link_to_file,
    "dangling link": dangling_link,
    "link to a folder": link_to_folder,
}


def snapshot(folder: Path) -> dict[str, tuple[int, str, bytes]]:
    """Every entry of ``folder``: its type, where it links to, and a regular file's bytes."""
    out = {}
    for p in folder.iterdir():
        mode = p.lstat().st_mode
        link = os.readlink(p) if stat.S_ISLNK(mode) else ""
        data = p.read_bytes() if stat.S_ISREG(mode) else b""
        out[p.name] = (stat.S_IFMT(mode), link, data)
    return out


@pytest.mark.parametrize("force", [False, True], ids=["no force", "force"])
@pytest.mark.parametrize("kind", list(NODES))
def test_an_output_is_never_a_device_a_pipe_a_socket_or_a_link(tmp_path, kind, force):
    target = tmp_path / "labels.txt"
    expected = NODES[kind](target)
    before = snapshot(tmp_path)
    with pytest.raises(OutputError) as info:
        check_targets([tmp_path / "race.wav", target], force=force)
    assert str(info.value) == expected
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("kind", ["pipe", "device", "link to a device", "link to a file"])
def test_a_target_that_stopped_being_a_file_after_the_check_is_refused_at_publish(tmp_path, kind):
    first, target = tmp_path / "race.wav", tmp_path / "labels.txt"
    first.write_bytes(OLD[0])
    target.write_bytes(OLD[2])
    check_targets([first, target], force=True)
    with Staged() as staged:
        staged.text(first, "new track")
        staged.text(target, "new labels")
        target.unlink()  # meanwhile, something else takes the name
        expected = NODES[kind](target)
        before = snapshot(tmp_path)
        with pytest.raises(OutputError) as info:
            staged.publish()
    assert str(info.value) == expected
    assert snapshot(tmp_path) == {name: entry for name, entry in before.items() if not TEMP_RE.match(name)}
    assert first.read_bytes() == OLD[0]


@pytest.mark.parametrize(
    "name, stream", [("-", "standard output"), ("/dev/stdout", "standard output"), ("/dev/stderr", "standard error")]
)
def test_streams_are_refused_as_outputs(tmp_path, monkeypatch, name, stream):
    # Writing into a pipe or a terminal is not a feature: a render is published whole or not at all, a stream cannot be.
    monkeypatch.chdir(tmp_path)
    before = os.lstat(name) if name != "-" else None
    with pytest.raises(UsageError) as info:
        check_targets([name], force=True)
    assert str(info.value) == f"{name} is {stream}: stridebeat writes files; give a file name such as race.wav"
    assert list(tmp_path.iterdir()) == []
    if before is not None:
        after = os.lstat(name)
        assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)


# ------------------------------------------------------------------------------------------- publishing, no force
def test_without_replace_a_file_that_appeared_meanwhile_is_kept_and_named(tmp_path):
    target = tmp_path / "race.wav"
    check_targets([target], force=False)
    with Staged(replace=False) as staged:
        staged.text(target, "our track")
        target.write_bytes(b"another run's track")  # another render, the user, a sync client
        with pytest.raises(OutputError) as info:
            staged.publish()
    assert str(info.value) == f"{target} appeared while rendering: pass --force to replace it"
    assert target.read_bytes() == b"another run's track"
    assert [p.name for p in tmp_path.iterdir()] == ["race.wav"]


def test_with_replace_a_file_that_appeared_meanwhile_is_replaced(tmp_path):
    target = tmp_path / "race.wav"
    with Staged(replace=True) as staged:
        staged.text(target, "our track")
        target.write_bytes(b"another run's track")
        staged.publish()
    assert target.read_bytes() == b"our track"
    assert [p.name for p in tmp_path.iterdir()] == ["race.wav"]


def test_a_quick_write_reports_a_name_taken_meanwhile_as_existing(tmp_path):
    target = tmp_path / "me.toml"
    with pytest.raises(OutputError) as info, atomic_file(target, replace=False) as (fh, _):
        fh.write(b"ours")
        target.write_bytes(b"theirs")
    assert str(info.value) == f"{target} exists: pass --force to replace it"
    assert target.read_bytes() == b"theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["me.toml"]


# ------------------------------------------------------------------------------------------------ all or none
def three_targets(tmp_path: Path, *, existing: bool) -> list[Path]:
    """race.wav, timeline.json and labels.txt, each in its own folder (so that each publishes separately)."""
    targets = []
    for i, name in enumerate(["race.wav", "timeline.json", "labels.txt"]):
        folder = tmp_path / f"out{i}"
        folder.mkdir()
        targets.append(folder / name)
        if existing:
            targets[-1].write_bytes(OLD[i])
    return targets


def break_second_temporary(staged: Staged, targets: list[Path]) -> None:
    """Stage all three; the second's temporary file is then removed by someone else, so its rename fails."""
    for i, target in enumerate(targets):
        staged.text(target, f"new {i}")
        if i == 1:
            second = staged.last
    second.unlink()


@pytest.mark.parametrize("replace", [True, False], ids=["replace", "no replace"])
def test_a_failure_at_the_second_of_three_targets_leaves_every_target_as_it_was(tmp_path, replace):
    targets = three_targets(tmp_path, existing=replace)
    with Staged(replace=replace) as staged:
        break_second_temporary(staged, targets)
        with pytest.raises(OutputError) as info:
            staged.publish()
    assert str(info.value) == f"cannot write {targets[1]}: its temporary file was removed meanwhile"
    for i, target in enumerate(targets):
        assert sorted(p.name for p in target.parent.iterdir()) == ([target.name] if replace else [])
        if replace:
            assert target.read_bytes() == OLD[i]


def test_a_target_that_became_a_folder_leaves_every_target_as_it_was(tmp_path):
    targets = three_targets(tmp_path, existing=True)
    with Staged() as staged:
        for i, target in enumerate(targets):
            staged.text(target, f"new {i}")
        targets[1].unlink()
        targets[1].mkdir()
        with pytest.raises(OutputError) as info:
            staged.publish()
    assert str(info.value) == f"cannot write {targets[1]}: it is a folder; give a file name"
    assert ".part" not in str(info.value)
    for i in (0, 2):
        assert targets[i].read_bytes() == OLD[i]
        assert [p.name for p in targets[i].parent.iterdir()] == [targets[i].name]


def test_a_full_publish_replaces_every_target_and_keeps_no_backup(tmp_path):
    targets = three_targets(tmp_path, existing=True)
    targets[2].unlink()  # one new file among replaced ones
    with Staged(durable=True) as staged:
        for i, target in enumerate(targets):
            staged.text(target, f"new {i}")
        staged.publish()
    for i, target in enumerate(targets):
        assert target.read_bytes() == f"new {i}".encode()
        assert [p.name for p in target.parent.iterdir()] == [target.name]


# ------------------------------------------------------------------------------------------- temporary files' owners
# A render in another process: two staged files (one by name, one written and closed), then killed outright.
STAGER = """
import os, sys
from stridebeat.atomic import Staged
staged = Staged()
print(staged.path(sys.argv[1]))
staged.text(sys.argv[2], "labels")
print(staged.last)
print("ready", flush=True)
sys.stdin.readline()
os._exit(0)
"""

# A writer elsewhere (another container, another machine on a shared folder): creates a file and holds its lock.
HOLDER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
fcntl.flock(fd, fcntl.LOCK_EX)
print("ready", flush=True)
sys.stdin.readline()
"""


def test_the_temporary_files_of_a_running_writer_survive_the_sweep_and_go_once_it_is_killed(tmp_path):
    with process(STAGER, tmp_path / "race.wav", tmp_path / "race.txt") as temps:
        paths = [Path(t) for t in temps]
        assert all(p.exists() and TEMP_RE.match(p.name) for p in paths)
        assert remove_stale_temps(tmp_path) == []
        check_targets([tmp_path / "race.wav", tmp_path / "race.txt"], force=False)
        assert all(p.exists() for p in paths)
    assert all(p.exists() for p in paths)  # killed outright: nothing of its own removed them
    assert sorted(remove_stale_temps(tmp_path)) == sorted(paths)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("whose", ["another owner", "our owner", "an earlier version"])
def test_a_temporary_file_locked_by_a_live_writer_survives_whatever_its_pid(tmp_path, whose):
    prefix = {"another owner": "0badc0de-", "our owner": f"{owner()}-", "an earlier version": ""}[whose]
    path = tmp_path / f".race.wav.stridebeat-{prefix}{ABSENT_PID}-0123abcd.part"
    with process(HOLDER, path):
        assert remove_stale_temps(tmp_path) == []
        check_targets([tmp_path / "race.wav"], force=False)
        assert path.exists()


def test_an_unlocked_temporary_file_of_another_owner_goes_only_once_left_for_long(tmp_path):
    path = tmp_path / f".race.wav.stridebeat-0badc0de-{ABSENT_PID}-0123abcd.part"
    path.write_bytes(b"x")
    assert remove_stale_temps(tmp_path) == []  # a lock another machine cannot see may guard it
    then = time.time() - STALE_AFTER_S - 60
    os.utime(path, (then, then))
    assert remove_stale_temps(tmp_path) == [path]


def test_the_sweep_removes_nothing_but_stale_temporary_files(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    name = f".race.wav.stridebeat-{owner()}-{ABSENT_PID}-0123abcd.part"
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / name).write_bytes(b"a file a link points to")
    kept = {
        ".race.wav.part": b"x",
        "notes.stridebeat-1-0123abcd.part": b"x",
        f".race.wav.stridebeat-{dead.pid}-0123abcd.part": b"an earlier version's: no owner, no lock",
        "race.txt": b"x",
    }
    for n, data in kept.items():
        (tmp_path / n).write_bytes(data)
    os.mkfifo(tmp_path / name.replace("0123abcd", "0000f1f0"))  # never opened: a pipe would block
    (tmp_path / name.replace("0123abcd", "00001111")).symlink_to(tmp_path / "elsewhere" / name)
    (tmp_path / name.replace("0123abcd", "00f01de0")).mkdir()
    before = snapshot(tmp_path)
    assert remove_stale_temps(tmp_path) == []
    assert snapshot(tmp_path) == before


# ----------------------------------------------------------------------------------------------- racing replacers
def _kept_in_a_lost_race(monkeypatch, target: Path, *, then: Callable[[], None]) -> None:
    """The first attempt at keeping ``target`` loses a race: ``then`` runs (another writer's step) and link() fails
    as the kernel's does for a file whose last name went between lookup and link."""
    real_link, calls = os.link, []

    def link(src, dst, **kwargs):
        if Path(src) == target and not calls:
            calls.append(src)
            then()
            raise FileNotFoundError(2, "No such file or directory")
        return real_link(src, dst, **kwargs)

    monkeypatch.setattr(os, "link", link)


@pytest.mark.parametrize("meanwhile", ["replaced", "removed"])
def test_with_replace_a_target_another_writer_replaces_at_that_moment_is_replaced(tmp_path, monkeypatch, meanwhile):
    target = tmp_path / "race.toml"
    target.write_text("first")
    theirs = tmp_path / "theirs.part"
    theirs.write_text("another writer's")

    def other_writer() -> None:
        if meanwhile == "replaced":
            os.replace(theirs, target)
        else:
            target.unlink()
            theirs.unlink()

    _kept_in_a_lost_race(monkeypatch, target, then=other_writer)
    with Staged(replace=True) as staged:
        staged.text(target, "ours")
        staged.publish()
    assert target.read_text() == "ours"
    assert [p.name for p in tmp_path.iterdir()] == ["race.toml"]


def _replacer(folder: str, writer: int, rounds: int) -> None:
    from stridebeat.atomic import write_text

    for _ in range(rounds):
        write_text(Path(folder) / "race.toml", f"writer {writer}\n" * 2000, replace=True)


def test_writers_replacing_one_file_at_once_all_succeed_and_leave_one_whole_file(tmp_path):
    # Four processes replacing one name: each keeps the original until its rename is done, while the others' renames
    # take that original's last name away.
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_replacer, args=(str(tmp_path), w, 150)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    text = (tmp_path / "race.toml").read_text()
    assert text in {f"writer {w}\n" * 2000 for w in range(4)}
    assert [p.name for p in tmp_path.iterdir()] == ["race.toml"]
