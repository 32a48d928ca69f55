"""`stridebeat live` on a real sound server: record the null sink's monitor and check what came out.

Each test plays through PortAudio → ALSA → PulseAudio (the way a laptop at the track plays), records the monitor with
parec, and checks the recording against the track computed independently of the player: every click is found, every
interval between clicks equals the scheduled one within 1 ms, the offset from the schedule never grows (no drift),
the whole recording equals the export sample for sample, and the player reports no underflow.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

import numpy as np
import pytest

from audiocheck import detect_onsets, match_onsets
from soundserver import RATE, busy_cpus, running_server
from stridebeat.config.jobs import prepare
from stridebeat.core.render import Renderer
from stridebeat.core.session import job_track

pytestmark = [pytest.mark.soundserver, pytest.mark.slow]  # a PulseAudio server, and real-time playback

THRESHOLD = 0.01  # far above the sink's silence (exact zeros), far below a click's first sample
MIN_GAP = RATE // 10  # 100 ms of quiet before an onset: longer than a click, shorter than the gap between two
TOLERANCE = RATE // 1000  # 1 ms
SAME = 1e-4  # a float32 sink passes samples through; this still allows a 16-bit sink's rounding


def export_samples(values: dict) -> tuple[np.ndarray, np.ndarray]:
    """What `render` writes for ``values`` (float32, before the file's quantisation) and the frames of its clicks."""
    job = prepare(values)
    track = job_track(job)
    out = np.zeros((track.n_frames, 2), dtype=np.float32)
    for start, block in Renderer(track).blocks():
        out[start : start + len(block)] = block
    clicks = track.origin_frame + np.round(job.schedule.steps_s * track.samplerate).astype(np.int64)
    return out, clicks


def play_and_record(server, tmp_path, args: list[str]) -> np.ndarray:
    with server.recording(tmp_path / "monitor.raw") as recorded:
        done = server.stridebeat("live", *args, "--samplerate", str(RATE))
    # The player counts its own gaps: any here were the player's, the recording is not needed to tell.
    assert done.returncode == 0, f"the player lost audio: {done.stdout} {done.stderr}"
    assert done.stdout.strip().endswith(": 0 underflows"), f"the player lost audio: {done.stdout}"
    return recorded()


def check_recording(recording: np.ndarray, reference: np.ndarray, clicks: np.ndarray, *, min_share: float = 1.0):
    """Compare a recording with the export; ``clicks`` are the scheduled click frames. Returns measured figures."""
    expected = detect_onsets(reference, threshold=THRESHOLD, min_gap=MIN_GAP)
    found = detect_onsets(recording, threshold=THRESHOLD, min_gap=MIN_GAP)
    assert len(found) and len(expected)
    offset = int(found[0] - expected[0])
    found = found - offset

    # Every detectable onset of the export is in the recording, on time, and nothing else is.
    missing, extra = match_onsets(found, expected, tolerance=TOLERANCE)
    # The player reported no underflow (play_and_record), so audio missing here was lost after it: in the server's
    # monitor or the recorder.
    assert not len(missing) and not len(extra), f"the recorder lost audio: missing {missing}, extra {extra}"
    # Clicks under a chime, the gun or speech have no silence before them: the rest must be most of them.
    audible = np.intersect1d(clicks, expected)
    assert len(audible) >= min_share * len(clicks), f"only {len(audible)} of {len(clicks)} clicks stand alone"
    at = found[np.searchsorted(found, audible - TOLERANCE)]
    interval_error = np.abs(np.diff(at) - np.diff(audible))
    drift = np.abs(at - audible)
    assert interval_error.max(initial=0) <= TOLERANCE, f"interval off by {interval_error.max()} frames"
    assert drift.max(initial=0) <= TOLERANCE, f"drifted by {drift.max()} frames"

    # Sample for sample: a dropped or repeated block anywhere would shift or zero everything after it.
    assert len(recording) - offset >= len(reference), "the recording stops before the track ends"
    diff = np.abs(recording[offset : offset + len(reference)] - reference)
    assert diff.max() <= SAME, f"recording differs from the export by {diff.max():.3g} at frame {diff.argmax() // 2}"
    print(
        f"\n{len(audible)} clicks checked: interval error max {interval_error.max(initial=0) / RATE * 1e3:.3f} ms, "
        f"offset drift {drift.max(initial=0) / RATE * 1e3:.3f} ms, sample difference max {diff.max():.3g}"
    )


def _metronome(server, tmp_path):
    reference, clicks = export_samples({"cadence": 180, "duration": "3s", "samplerate": RATE})
    assert np.array_equal(clicks, np.arange(9) * RATE // 3)  # 180 spm: a click every 1/3 s from frame 0
    recording = play_and_record(server, tmp_path, ["--cadence", "180", "--duration", "3s"])
    check_recording(recording, reference, clicks)


def test_metronome_every_click_on_time(sound_server, tmp_path):
    _metronome(sound_server, tmp_path)


def test_race_plan_with_every_core_busy(sound_server, tmp_path):
    # Four CPU-bound jobs on this machine's cores, as when the earlier failure was seen.
    values = {"distance": "100", "time": "12.5", "settle": "2", "samplerate": RATE}
    reference, clicks = export_samples(values)
    with busy_cpus(4):
        recording = play_and_record(sound_server, tmp_path, ["--distance", "100", "--time", "12.5", "--settle", "2"])
    check_recording(recording, reference, clicks, min_share=0.8)


def test_race_plan_plays_the_export(sound_server, tmp_path):
    # A 100 m rep with a short settle: the start sequence, the gun, the hold and the finish call of a race, in a
    # third of the time of a 400 m.
    values = {"distance": "100", "time": "12.5", "settle": "2", "samplerate": RATE}
    reference, clicks = export_samples(values)
    recording = play_and_record(sound_server, tmp_path, ["--distance", "100", "--time", "12.5", "--settle", "2"])
    check_recording(recording, reference, clicks, min_share=0.8)


def test_devices_lists_the_server_and_live_picks_it_by_name(sound_server):
    listed = sound_server.stridebeat("devices")
    assert listed.returncode == 0, listed.stderr
    assert any(" pulse " in line for line in listed.stdout.splitlines()), listed.stdout
    done = sound_server.stridebeat("live", "--device", "pulse", "--cadence", "180", "--duration", "1s", "--tail", "0")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("played ") and done.stdout.rstrip().endswith("on pulse: 0 underflows")


def test_an_unknown_device_is_one_line(sound_server):
    done = sound_server.stridebeat("live", "--device", "nosuch", "--cadence", "180", "--duration", "1s")
    assert done.returncode == 1
    assert done.stderr == "Error: no output device 'nosuch': see 'stridebeat devices' for names and indexes\n"


def test_no_sound_server_means_no_output_device(sound_server, tmp_path):
    env = {**sound_server.env, "PULSE_SERVER": f"unix:{tmp_path}/no-server"}
    done = subprocess.run(
        [sys.executable, "-m", "stridebeat", "devices"],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    if done.returncode == 0:
        pytest.skip("this machine has sound hardware of its own")
    assert done.returncode == 1
    assert done.stderr.startswith("Error: no audio output device found: connect a speaker or headphones")
    assert done.stderr.count("\n") == 1


def _talk(proc, master: int, script: list[tuple[float, bytes]], timeout: float = 60.0) -> str:
    """Drive a program on a pseudo-terminal: after each delay send the bytes; return everything it printed."""
    screen, deadline = b"", time.monotonic() + timeout
    for delay, keys in [*script, (timeout, b"")]:
        until = min(time.monotonic() + delay, deadline)
        while time.monotonic() < until and proc.poll() is None:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    screen += os.read(master, 4096)
                except OSError:  # the program closed the terminal
                    break
        if proc.poll() is not None:
            break
        os.write(master, keys)
    return screen.decode(errors="replace")


def test_keys_on_a_terminal_change_the_cadence_from_the_next_beat(sound_server, tmp_path):
    master, slave = pty.openpty()
    with sound_server.recording(tmp_path / "monitor.raw") as recorded:
        proc = subprocess.Popen(
            [sys.executable, "-m", "stridebeat", "live", "--cadence", "180", "--samplerate", str(RATE)],
            env=sound_server.env,
            stdin=slave,
            stdout=slave,
            stderr=subprocess.PIPE,
        )
        os.close(slave)
        try:
            screen = _talk(proc, master, [(2.5, b"+++"), (3.5, b"q")])
            proc.wait(timeout=10)
        finally:
            proc.kill()
            os.close(master)
    assert proc.returncode == 0, proc.stderr.read().decode()
    assert "180.0 spm" in screen and "183.0 spm" in screen and "underflows 0" in screen

    onsets = detect_onsets(recorded(), threshold=THRESHOLD, min_gap=MIN_GAP)
    intervals = np.diff(onsets)
    old = 16_000  # 180 spm at 48 kHz
    changed = int(np.argmax(intervals != old))  # onsets[changed] is the last beat at 180 spm
    assert changed >= 3 and np.all(intervals[:changed] == old), intervals
    # The first new beat comes one new period after the last old one ...
    assert onsets[changed + 1] - onsets[changed] == round(60 / 183 * RATE)
    # ... and beat j after it on f0 + round(j · 60/183 · sr), from the segment's start: no interval adds up.
    later = onsets[changed + 1 :] - onsets[changed + 1]
    assert len(later) >= 8
    assert np.array_equal(later, np.round(np.arange(len(later)) * (60 / 183) * RATE).astype(np.int64))


def test_losing_the_server_while_playing_is_an_error():
    with running_server() as server:  # its own server: this one is stopped halfway
        proc = subprocess.Popen(
            [sys.executable, "-m", "stridebeat", "live", "--cadence", "180", "--duration", "20s"],
            env=server.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(2.0)
        server.stop()
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1, (out, err)
    # One line: PortAudio's own diagnostics (its assertion lines when the server goes) never reach the terminal.
    assert len(err.splitlines()) == 1, err
    assert err.splitlines()[-1].startswith("Error: playback stopped after ")
    assert err.rstrip().endswith(": the output went away (unplugged, or the sound server stopped)")
