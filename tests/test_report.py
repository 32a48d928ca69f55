"""The terminal summary after a render: where things fall in the file, in the plan's own numbers."""

from __future__ import annotations

from dataclasses import replace

from stridebeat.config.jobs import prepare
from stridebeat.core.session import assemble, job_track
from stridebeat.views.report import summary_after_render


def test_race_summary():
    job = prepare({"time": "51", "voice": "none"})
    track = job_track(job)
    lines = summary_after_render(track, job, "race51.wav")
    # 5 s lead-in, the 51 s race, the finish chime (0.24 s) ringing past the line, then the 2 s tail.
    frames = round(5 * 44100) + round(51 * 44100) + round(0.24 * 44100) + round(2 * 44100)
    assert lines[0] == f"wrote race51.wav: {frames / 44100:.2f} s ({frames} frames at 44100 Hz, stereo)"
    assert lines[1] == f"gun at 5.000 s in the file (frame 220500); {job.reps[0].planned.total_steps} footstrikes"
    rows = lines[2:6]
    assert [r.split()[0] for r in rows] == ["100", "200", "300", "400"]
    for line, split in zip(rows, job.reps[0].planned.splits):
        assert f"{split.cadence_spm:.1f} spm" in line
        assert f"at {5.0 + split.elapsed_s:.2f} s in the file" in line
        assert line.endswith("held") == split.held
    held = job.reps[0].planned.held_cadence_spm
    # The hold's start is read off the plan: its time there moved when the default shape was fitted to real races.
    at = job.reps[0].planned.hold_start_s
    assert lines[6] == f"held cadence {held:.1f} spm from 200 m ({at:.2f} s after the gun) to the finish"
    assert len(lines) == 7


def test_metronome_summary():
    job = prepare({"cadence": "190", "duration": "90s"})
    lines = summary_after_render(job_track(job), job, "drills.wav")
    assert lines[0].startswith("wrote drills.wav: 1:32.00 (")  # 90 s and the 2 s tail
    assert lines[1:] == [f"metronome: {len(job.schedule.steps_s)} clicks at 190.0 spm"]


def test_session_summary_one_line_per_rep():
    """A session has no single plan: each rep gets a line on the file's clock."""
    race, metronome = prepare({"time": "51", "voice": "none"}), prepare({"cadence": "190", "duration": "60s"})
    reps = [replace(race.reps[0], label="400", rest_after_s=300.0 - 51.0), replace(metronome.reps[0], label="drills")]
    job = assemble("mixed", reps, sound=race.sound, voice=race.voice)
    track = job_track(job)
    lines = summary_after_render(track, job, "session.wav")
    held = race.reps[0].planned.held_cadence_spm
    assert track.origin_frame == 5 * 44100  # 5 s before the first gun
    assert lines[1:] == [
        f"rep 1 (400): 400 m in 51.00 s, gun at 5.00 s in the file, held {held:.1f} spm",
        f"rep 2 (drills): {len(metronome.schedule.steps_s)} clicks, gun at 5:05.00 in the file",
    ]
