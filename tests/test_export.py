"""Atomic export: a failure at any point leaves an existing target byte for byte as it was and no temporary file behind.

Failures are injected mid-write, after a few blocks have reached the temporary file: in the renderer (an error and a
Ctrl-C), in the file's own writes (a full disk: at the WAV header, mid-samples, at the markers after the last sample),
and in soundfile's write for the formats libsndfile encodes.
"""

from __future__ import annotations

import errno
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audiocheck import read_audio
from stridebeat.core.render import Renderer
from stridebeat.core.schedule import metronome_schedule
from stridebeat.core.track import SoundOptions, build_track
from stridebeat.errors import OutputError, UsageError
from stridebeat.export import audio as export
from writers import export_track

OLD = b"RIFF this is the runner's previous track, and it must survive \x00\x01\x02" * 100
BLOCK = 4096  # small blocks, so a 3 s track is written in ~33 of them
FAIL_AFTER = 5

PATH_KINDS = {
    "str": lambda p: str(p),
    "pathlib": lambda p: Path(p),
    "relative-str": lambda p: os.path.relpath(p),
}


@pytest.fixture
def track():
    return build_track(metronome_schedule(180.0, 3.0), SoundOptions(tail_s=0.0))


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # for the relative path kind; nothing is written anywhere else
    monkeypatch.setattr(export, "BLOCK_FRAMES", BLOCK)
    d = tmp_path / "out"
    d.mkdir()
    return d


def listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


class Boom(RuntimeError):
    pass


def failing_renderer(exc: BaseException, on_failure=lambda: None):
    """A Renderer whose block stream raises ``exc`` after FAIL_AFTER blocks have been handed to the writer."""

    class Failing(Renderer):
        def blocks(self, block=None):
            for i, item in enumerate(super().blocks(block)):
                if i == FAIL_AFTER:
                    on_failure()
                    raise exc
                yield item

    return Failing


DISK_FULL = "the disk is full: free some space, or write to another disk"
INJECTED = {
    "error": (Boom("renderer broke"), Boom),
    "ctrl-c": (KeyboardInterrupt(), KeyboardInterrupt),
    "disk-full": (OSError(errno.ENOSPC, "No space left on device"), OutputError),
}


def part_sizes(folder: Path) -> list[int]:
    return [p.stat().st_size for p in folder.glob(".*.part")]


@pytest.mark.parametrize("kind", list(PATH_KINDS))
@pytest.mark.parametrize("failure", list(INJECTED))
def test_failure_mid_render_leaves_the_existing_wav_untouched(folder, track, monkeypatch, kind, failure):
    target = folder / "race.wav"
    target.write_bytes(OLD)
    before = listing(folder)
    exc, raised = INJECTED[failure]
    seen = []
    # Look at the temporary file when the failure comes, to be sure it came mid-write: the 44-byte header and
    # FAIL_AFTER blocks of 16-bit stereo are in it (a block is larger than the file's buffer, so it is on disk).
    monkeypatch.setattr(export, "Renderer", failing_renderer(exc, lambda: seen.extend(part_sizes(folder))))
    with pytest.raises(raised):
        export_track(track, PATH_KINDS[kind](target), force=True, markers=True)
    assert seen == [44 + FAIL_AFTER * BLOCK * 4]
    assert target.read_bytes() == OLD
    assert listing(folder) == before


@pytest.mark.parametrize("failure", list(INJECTED))
def test_failure_mid_render_leaves_the_existing_flac_untouched(folder, track, monkeypatch, failure):
    target = folder / "race.flac"
    target.write_bytes(OLD)
    exc, raised = INJECTED[failure]
    written = []
    monkeypatch.setattr(export, "Renderer", failing_renderer(exc))
    real_write = sf.SoundFile.write

    def spy(self, data):
        written.append(len(data))
        return real_write(self, data)

    monkeypatch.setattr(sf.SoundFile, "write", spy)
    with pytest.raises(raised):
        export_track(track, target, force=True)
    assert written == [BLOCK] * FAIL_AFTER
    assert target.read_bytes() == OLD
    assert listing(folder) == ["race.flac"]


class _FullDisk:
    """The temporary file, whose ``fail_at``-th write (0-based) finds the disk full."""

    def __init__(self, fh, fail_at: int, sizes: list[int]):
        self._fh, self._fail_at, self._sizes = fh, fail_at, sizes

    def write(self, data):
        if len(self._sizes) == self._fail_at:
            raise OSError(errno.ENOSPC, "No space left on device")
        self._sizes.append(len(memoryview(data).cast("B")))
        return self._fh.write(data)

    def __getattr__(self, name):
        return getattr(self._fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._fh.close()


@pytest.mark.parametrize("kind", list(PATH_KINDS))
@pytest.mark.parametrize("where", ["header", "samples", "markers"])
def test_full_disk_in_a_wav_write_keeps_the_old_file(folder, track, monkeypatch, kind, where):
    target = folder / "race.wav"
    target.write_bytes(OLD)
    track = replace(track, marks=((0, "start"), (track.n_frames, "end")))
    blocks = [min(BLOCK, track.n_frames - start) * 4 for start in range(0, track.n_frames, BLOCK)]
    fail_at = {"header": 0, "samples": 1 + FAIL_AFTER, "markers": 1 + len(blocks)}[where]
    sizes: list[int] = []
    real_open = open

    def full_disk_open(path, mode="r", *args, **kwargs):
        return _FullDisk(real_open(path, mode, *args, **kwargs), fail_at, sizes)

    monkeypatch.setattr(export, "open", full_disk_open, raising=False)  # the module's open: the temporary file
    path = PATH_KINDS[kind](target)
    with pytest.raises(OutputError) as info:
        export_track(track, path, force=True, markers=True)
    assert str(info.value) == f"cannot write {Path(path)}: {DISK_FULL}"
    # The writes that went through: the header, then whole blocks (the markers come last, after every sample).
    assert sizes == ([44] + blocks[: fail_at - 1] if fail_at else [])
    assert target.read_bytes() == OLD
    assert listing(folder) == ["race.wav"]


def _synced_inodes(monkeypatch) -> list[int]:
    """The inodes of whatever os.fsync is called on from now on (files and folders), as the kernel sees them."""
    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd):
        synced.append(os.fstat(fd).st_ino)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return synced


@pytest.mark.parametrize("name", ["race.wav", "race.flac"])
def test_a_render_is_published_without_a_sync(folder, track, monkeypatch, name):
    # Rendered audio is derived data, made again in a fraction of a second: no fsync (see stridebeat.atomic).
    synced = _synced_inodes(monkeypatch)
    export_track(track, folder / name)
    assert synced == []
    assert read_audio(folder / name)[0].shape == (track.n_frames, 2)


def test_a_preset_save_syncs_the_file_and_its_folder(user_dir, monkeypatch):
    from stridebeat.config import presets

    synced = _synced_inodes(monkeypatch)
    path = presets.save("race", {"time": 51.0})
    assert synced == [path.stat().st_ino, path.parent.stat().st_ino]


@pytest.mark.parametrize("kind", list(PATH_KINDS))
def test_write_error_inside_soundfile_leaves_no_file(folder, track, monkeypatch, kind):
    target = folder / "race.flac"
    calls = []
    real_write = sf.SoundFile.write

    def full_disk(self, data):
        calls.append(len(data))
        if len(calls) > FAIL_AFTER:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(self, data)

    monkeypatch.setattr(sf.SoundFile, "write", full_disk)
    with pytest.raises(OutputError) as info:
        export_track(track, PATH_KINDS[kind](target))
    assert str(info.value) == f"cannot write {Path(PATH_KINDS[kind](target))}: {DISK_FULL}"
    assert len(calls) == FAIL_AFTER + 1
    assert not target.exists()
    assert listing(folder) == []


@pytest.mark.parametrize("kind", list(PATH_KINDS))
def test_existing_file_is_not_replaced_without_force(folder, track, kind):
    target = folder / "race.wav"
    target.write_bytes(OLD)
    path = PATH_KINDS[kind](target)
    with pytest.raises(OutputError) as info:
        export_track(track, path)
    assert str(info.value) == f"{Path(path)} exists: pass --force to replace it"
    assert target.read_bytes() == OLD
    assert listing(folder) == ["race.wav"]


@pytest.mark.parametrize("kind", list(PATH_KINDS))
def test_force_replaces_the_file_with_a_complete_track(folder, track, kind):
    target = folder / "race.wav"
    target.write_bytes(OLD)
    returned = export_track(track, PATH_KINDS[kind](target), force=True)
    assert Path(returned).resolve() == target.resolve()
    x, sr = read_audio(target)
    assert (len(x), sr) == (track.n_frames, 44100)
    assert np.abs(x).max() > 0.5
    assert listing(folder) == ["race.wav"]


def test_written_file_has_ordinary_permissions(folder, track):
    target = folder / "race.wav"
    export_track(track, target)
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask


def test_progress_reports_every_block_up_to_the_end(folder, track):
    done = []
    export_track(track, folder / "race.wav", progress=lambda d, total: done.append((d, total)))
    assert [d for d, _ in done] == [min(k * BLOCK, track.n_frames) for k in range(1, len(done) + 1)]
    assert done[-1] == (track.n_frames, track.n_frames)


# ------------------------------------------------------------------------------------------- refused before writing
@pytest.mark.parametrize("name", ["race.aiff", "race.WAV.txt", "race"])
def test_unsupported_extension_is_a_usage_error_and_writes_nothing(folder, track, name):
    with pytest.raises(UsageError, match=r"cannot write '.*' files: name the output with one of .wav, .flac"):
        export_track(track, folder / name)
    assert listing(folder) == []


def test_extension_is_case_insensitive(folder, track):
    export_track(track, folder / "RACE.WAV")
    assert sf.info(str(folder / "RACE.WAV")).subtype == "PCM_16"


def test_missing_folder_is_refused(folder, track):
    target = folder / "nowhere" / "race.wav"
    with pytest.raises(OutputError) as info:
        export_track(track, target)
    assert str(info.value) == f"cannot write {target}: folder {target.parent} does not exist"
    assert listing(folder) == []


def test_path_under_a_regular_file_is_refused(folder, track):
    blocker = folder / "notes.txt"
    blocker.write_text("a file, not a folder")
    target = blocker / "race.wav"
    with pytest.raises(OutputError) as info:
        export_track(track, target)
    assert str(info.value) == f"cannot write {target}: {blocker} is not a folder"
    assert listing(folder) == ["notes.txt"]


def test_a_folder_as_target_is_refused(folder, track):
    (folder / "race.wav").mkdir()
    with pytest.raises(OutputError, match="it is a folder"):
        export_track(track, folder / "race.wav", force=True)


def test_folder_without_write_permission_is_refused(folder, track, monkeypatch):
    """Tests run as root, who may write anywhere: the permission check is exercised by denying it."""
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == folder else real_access(p, mode))
    with pytest.raises(OutputError) as info:
        export_track(track, folder / "race.wav")
    assert str(info.value) == f"cannot write {folder / 'race.wav'}: no permission to write in {folder}"
    assert listing(folder) == []
