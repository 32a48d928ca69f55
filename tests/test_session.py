"""Sessions: the timeline follows the preset (order, repeats, exact rests) and the audio follows the timeline."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audiocheck import detect_onsets, match_onsets, read_audio
from conftest import write_preset
from stridebeat.config import presets
from stridebeat.config.jobs import prepare, prepare_preset
from stridebeat.core.clock import format_time, say_duration
from stridebeat.core.session import Job

REST_KINDS = ("rest", "remaining", "countdown", "next")


@pytest.fixture(autouse=True)
def _own_user_dir(user_dir):
    """Every test gets its own empty user preset folder (conftest's ``user_dir``)."""


write = write_preset


# A short session to listen to: two 100 m reps with 20 s rest, then a 200 m from a rolling start after 12 s.
MINI = """
schema = 1
kind = "session"
description = "a short session for the tests"
rest = "20s"
samplerate = 22050

[[reps]]
distance = 100
time = 14.0
start = "standing"
hold_last = 50
repeat = 2

[[reps]]
distance = 200
time = 28.0
start = "rolling"
hold_last = 100
"""


def rest_cues(job: Job, after: int):
    """The cues between rep ``after``'s finish and the next rep's start (1-based)."""
    rep, nxt = job.reps[after - 1], job.reps[after]
    return [c for c in job.schedule.cues if rep.finish_s < c.t_s < nxt.start_s]


# ------------------------------------------------------------------------------------------------ the timeline


def test_rhythm_3x500_timeline_matches_the_preset():
    # Read the preset file itself, independently of the loader: one entry, its repeat count and the rest.
    data = tomllib.loads((presets.builtin_dir() / "rhythm-3x500.toml").read_text(encoding="utf-8"))
    (entry,) = data["reps"]
    assert (entry["preset"], entry["repeat"], data["rest"]) == ("cadence-500-85", 3, "6m")
    job = prepare_preset("rhythm-3x500", {})
    assert [r.number for r in job.reps] == [1, 2, 3]
    assert [r.label for r in job.reps] == ["cadence-500-85"] * 3
    assert [r.rest_after_s for r in job.reps] == [360.0, 360.0, None]
    single = prepare_preset("cadence-500-85", {})
    for prev, rep in zip(job.reps, job.reps[1:]):
        assert rep.start_s - prev.finish_s == pytest.approx(360.0, abs=1e-9)  # finish → next first command
        lead = -min(c.t_s for c in rep.schedule.cues)
        assert rep.gun_s - rep.start_s == pytest.approx(lead, abs=1e-12)
    for rep in job.reps:
        assert rep.schedule.end_s == pytest.approx(75.0, abs=1e-9)
        assert np.array_equal(rep.schedule.steps_s, single.schedule.steps_s)
        # Each step is the rep's own time plus its gun: one addition, nothing accumulated across reps.
        mine = (job.schedule.steps_s >= rep.gun_s) & (job.schedule.steps_s <= rep.finish_s)
        assert np.array_equal(job.schedule.steps_s[mine], rep.gun_s + single.schedule.steps_s)
    assert len(job.schedule.steps_s) == 3 * len(single.schedule.steps_s)
    assert [c.value for c in job.schedule.cues if c.kind == "rep"] == [1.0, 2.0, 3.0]
    assert [c.t_s for c in job.schedule.cues if c.kind == "gun"] == [r.gun_s for r in job.reps]


@pytest.mark.parametrize("voice", ["none", "female"])
def test_rests_are_whole_frames_at_every_rate(voice):
    """Both ends of a rest are rounded from absolute times on one grid: the rest is exactly rest × rate frames."""
    from stridebeat.core.track import SAMPLERATES

    job = prepare_preset("rhythm-3x500", {"voice": voice})
    for rate in SAMPLERATES:
        for prev, rep in zip(job.reps, job.reps[1:]):
            assert round(rep.start_s * rate) - round(prev.finish_s * rate) == 360 * rate


def test_rest_calls_of_a_six_minute_rest():
    job = prepare_preset("rhythm-3x500", {})
    for after in (1, 2):
        finish, start = job.reps[after - 1].finish_s, job.reps[after].start_s
        cues = rest_cues(job, after)
        assert [(c.kind, c.value) for c in cues] == [
            ("rest", 360.0),
            ("remaining", 60.0),
            ("remaining", 30.0),
            ("next", after + 1.0),
            ("countdown", 10.0),
            ("countdown", 5.0),
            ("countdown", 4.0),
            ("countdown", 3.0),
            ("countdown", 2.0),
            ("countdown", 1.0),
        ]
        expected = [finish + 3.0, start - 60, start - 30, start - 15, start - 10, *(start - k for k in (5, 4, 3, 2, 1))]
        assert [c.t_s for c in cues] == pytest.approx(expected, abs=1e-9)
        assert cues[0].text == "rest, 6 minutes" and cues[1].text == "1 minute to go"


@pytest.mark.parametrize(
    "rest, kinds",
    [
        ("20s", ["rest", "next", "countdown", "countdown", "countdown", "countdown", "countdown", "countdown"]),
        ("10s", ["rest", "countdown", "countdown", "countdown", "countdown", "countdown"]),
        ("45s", ["rest", "remaining", "next", *["countdown"] * 6]),
    ],
)
def test_short_rests_keep_the_calls_that_fit(rest, kinds, user_dir):
    write(
        user_dir, "short", f'schema = 1\nkind = "session"\nrest = "{rest}"\n[[reps]]\npreset = "race-51"\nrepeat = 2\n'
    )
    job = prepare_preset("short", {})
    assert [c.kind for c in rest_cues(job, 1)] == kinds


def test_repeats_references_and_nested_sessions(user_dir):
    write(
        user_dir,
        "block",
        """
schema = 1
kind = "session"
rest = "5m"
[[reps]]
preset = "cadence-400-80"
repeat = 2
rest = "3m"
[[reps]]
distance = 200
time = 25.0
hold_last = 100
""",
    )
    write(user_dir, "double", 'schema = 1\nkind = "session"\nrest = "8m"\n[[reps]]\npreset = "block"\nrepeat = 2\n')
    job = prepare_preset("double", {})
    assert [r.label for r in job.reps] == ["cadence-400-80", "cadence-400-80", "inline"] * 2
    # An entry's own rest follows each of its reps; the referencing session's rest follows the block.
    assert [r.rest_after_s for r in job.reps] == [180.0, 180.0, 480.0, 180.0, 180.0, None]
    assert [r.planned.plan.distance_m for r in job.reps] == [400.0, 400.0, 200.0] * 2


def test_overrides_and_one_sound_for_the_whole_session(user_dir):
    write(
        user_dir,
        "mixed",
        """
schema = 1
kind = "session"
rest = "1m"
volume = -3.0
[[reps]]
distance = 300
time = 40.0
pan = true
volume = -10.0
[[reps]]
preset = "race-51"
sound = "beep"
""",
    )
    job = prepare_preset("mixed", {"steps_per_100m": "47", "samplerate": "32000"})
    # The first rep's sound, the session's own on top, then the command line: for every rep alike.
    assert (job.sound.pan, job.sound.volume_db, job.sound.click, job.sound.samplerate) == (
        True,
        -3.0,
        "woodblock",
        32000,
    )
    assert all(r.planned.stride.steps_per_100m == 47.0 for r in job.reps)
    assert job.rep_at(-100.0).number == 1 and job.rep_at(job.reps[1].gun_s + 1.0).number == 2
    assert job.rep_at(job.reps[0].finish_s + 30.0).number == 1  # resting after rep 1


# (text, the line the error names (None: the file as a whole), reason)
SESSION_ERRORS = [
    (
        'schema = 1\nkind = "session"\nrest = "1m"\n',
        None,
        'reps: a session needs a list of reps, e.g. reps = [{ preset = "race-51" }]',
    ),
    (
        'schema = 1\nkind = "session"\n[[reps]]\npreset = "race-51"\nrepeat = 2\n',
        None,
        'rest: give the rest between reps, e.g. rest = "6m" (for the session or a rep)',
    ),
    (
        'schema = 1\nkind = "session"\nrest = "5s"\n[[reps]]\npreset = "race-51"\n',
        3,
        'rest = "5s" is out of range: give 10s to 59:59',
    ),
    (
        'schema = 1\nkind = "session"\nrest = "1m"\n[[reps]]\npreset = "race-51"\nrepeat = 0\n',
        6,
        "reps[1]: repeat: 0 is not a whole number from 1 to 50",
    ),
    (
        'schema = 1\nkind = "session"\nrest = "1m"\n[[reps]]\npreset = "nope"\n',
        5,
        "reps[1]: preset: no preset named 'nope' (built-in or in {user}): see 'stridebeat preset list'",
    ),
    (
        'schema = 1\nkind = "session"\nrest = "1m"\ndistance = 400\n[[reps]]\npreset = "race-51"\n',
        4,
        "distance: a session-wide key must be a sound or voice setting; put distance in each rep",
    ),
    (
        'schema = 1\nkind = "session"\nrest = "1m"\n[[reps]]\npreset = "race-51"\ntmie = 50\n',
        6,
        "reps[1]: unknown key 'tmie' (did you mean 'time'?)",
    ),
    (
        'schema = 1\nkind = "session"\nrest = "1m"\n[[reps]]\ndistance = 200\ntime = 19\n[[reps]]\npreset = "race-51"\n',
        6,
        "reps[1]: 19.00 s for 200 m is faster than the world record (19.19 s): check the time, or pass "
        "--allow-faster-than-record",
    ),
    (
        'schema = 1\nkind = "session"\nrest = "1m"\n[[reps]]\npreset = "race-51"\nrepeat = 50\n'
        '[[reps]]\npreset = "race-51"\nrepeat = 50\n[[reps]]\npreset = "sub-50"\n',
        10,
        "reps[3]: the session would hold 101 reps: a session holds at most 100; split it into several sessions",
    ),
]


@pytest.mark.parametrize("text, line, reason", SESSION_ERRORS)
def test_bad_sessions_give_one_line(text, line, reason, run, user_dir):
    path = write(user_dir, "bad", text)
    code, out, err = run("plan", "bad")
    at = f"{path}, line {line}" if line else f"{path}"
    assert (code, out, err) == (2, "", f"Error: {at}: {reason.replace('{user}', str(user_dir))}\n")


def test_reference_cycles_are_found(run, user_dir):
    write(user_dir, "a", 'schema = 1\nkind = "session"\nrest = "1m"\n[[reps]]\npreset = "b"\n')
    b = write(user_dir, "b", 'schema = 1\nkind = "session"\nrest = "1m"\n[[reps]]\npreset = "a"\n')
    code, _, err = run("plan", "a")
    assert (code, err) == (2, f"Error: {user_dir / 'a.toml'}: reference cycle a → b → a\n")
    write(user_dir, "self", 'schema = 1\nkind = "session"\nrest = "1m"\n[[reps]]\npreset = "self"\n')
    assert run("plan", "self")[2] == f"Error: {user_dir / 'self.toml'}: reference cycle self → self\n"
    assert b.exists()


def test_a_rep_that_cannot_be_planned_is_named(run, user_dir):
    write(
        user_dir,
        "s",
        'schema = 1\nkind = "session"\nrest = "1m"\n[[reps]]\npreset = "race-51"\n'
        "[[reps]]\ndistance = 150\ntime = 20.0\nhold_last = 150\n",
    )
    code, _, err = run("plan", "s")
    assert (code, err) == (
        2,
        "Error: s, rep 2 (inline): --hold-last 150 m would start the hold before the runner is up to speed: "
        "give 0 (off) to 75 m for 150 m\n",
    )


def test_plan_shows_each_rep(run):
    code, out, err = run("plan", "rhythm-3x500")
    assert (code, err) == (0, "")
    for rep in prepare_preset("rhythm-3x500", {}).reps:
        assert f"rep {rep.number} of 3 (cadence-500-85): gun at {format_time(rep.gun_s)}, finish at " in out
    assert out.count("rest 6 minutes: from the finish to the next start command") == 2
    data = json.loads(run("plan", "rhythm-3x500", "--json")[1])
    assert [r["rest_after_s"] for r in data["reps"]] == [360.0, 360.0, None]
    assert [r["target_time_s"] for r in data["reps"]] == pytest.approx([75.0] * 3)
    rows = run("plan", "rhythm-3x500", "--csv")[1].splitlines()
    assert rows[0].startswith("rep,step,t_s") and {r.split(",")[0] for r in rows[1:]} == {"1", "2", "3"}


def test_say_duration():
    assert [say_duration(s) for s in (360, 60, 90, 30, 1, 125)] == [
        "6 minutes",
        "1 minute",
        "1 minute 30 seconds",
        "30 seconds",
        "1 second",
        "2 minutes 5 seconds",
    ]


# ---------------------------------------------------------------------------------------------------- the audio


def _render(run, tmp_path: Path, name: str, *options: str) -> tuple[np.ndarray, int, dict]:
    wav, timeline = tmp_path / f"{name}.wav", tmp_path / f"{name}.json"
    code, _, err = run("render", name, *options, "-o", str(wav), "--timeline", str(timeline), "--force")
    assert (code, err) == (0, "")
    x, sr = read_audio(wav)
    return x, sr, json.loads(timeline.read_text())


def test_every_click_is_on_its_frame(run, tmp_path, user_dir):
    write(user_dir, "mini", MINI)
    # Clicks alone (no gun, no chimes over them), so every click starts after silence and is found exactly.
    x, sr, data = _render(run, tmp_path, "mini", "--no-gun", "--no-split-tone", "--voice", "none")
    origin = round(data["gun_offset_s"] * sr)
    expected = np.array([origin + round(s["t_s"] * sr) for s in data["steps"]])
    found = detect_onsets(x, threshold=1e-4, min_gap=100)
    missing, extra = match_onsets(found, expected, tolerance=0)
    assert len(expected) == len(prepare_preset("mini", {}).schedule.steps_s) > 150
    assert (missing.size, extra.size) == (0, 0)


def test_guns_and_rest_calls_are_at_their_frames_and_rests_are_exact(run, tmp_path, user_dir):
    write(user_dir, "mini", MINI)
    x, sr, data = _render(run, tmp_path, "mini", "--voice", "none")  # no voice: a chime stands in for each call
    origin = round(data["gun_offset_s"] * sr)

    def frame(t_s: float) -> int:
        return origin + round(t_s * sr)

    sounding = [c for c in data["cues"] if c["kind"] in ("gun", *REST_KINDS)]
    assert len(sounding) == 3 + 2 * 8  # three guns; each 20 s rest: rest, next, countdown 10, 5, 4, 3, 2, 1
    for cue in sounding:
        f = frame(cue["t_s"])
        window = x[f - 400 : f + 400]
        onsets = detect_onsets(window, threshold=1e-4, min_gap=300)
        assert list(onsets) == [400], cue  # silence before, the sound starting on its frame
    guns = [frame(c["t_s"]) for c in data["cues"] if c["kind"] == "gun"]
    finishes = [frame(c["t_s"]) for c in data["cues"] if c["kind"] == "finish"]
    # No start sequence without a voice, so each rest ends at the next gun: exactly 20 s of frames after the finish.
    assert [g - f for f, g in zip(finishes, guns[1:])] == [20 * sr, 20 * sr]
    assert [r["start_s"] for r in data["reps"]] == [r["gun_s"] for r in data["reps"]]


def test_rhythm_3x500_renders_whole(run, tmp_path):
    """The built-in session as one file (22.05 kHz to keep the test light): its length, and each gun on its frame."""
    wav, timeline = tmp_path / "session.wav", tmp_path / "session.json"
    code, out, err = run("render", "rhythm-3x500", "--samplerate", "22050", "-o", str(wav), "--timeline", str(timeline))
    assert (code, err) == (0, "") and "3 reps" in out
    data = json.loads(timeline.read_text())
    info = sf.info(str(wav))
    sr = info.samplerate
    origin = round(data["gun_offset_s"] * sr)
    finish = origin + round(data["reps"][-1]["finish_s"] * sr)
    # The 2 s tail follows the finish, or the finish call ringing past it (a phrase is under 3 s).
    assert finish + 2 * sr <= info.frames <= finish + 5 * sr
    with sf.SoundFile(str(wav)) as f:
        for rep in data["reps"]:
            at = origin + round(rep["gun_s"] * sr)
            f.seek(at - 2000)
            window = f.read(4000, dtype="float64", always_2d=True)
            assert detect_onsets(window, threshold=1e-3, min_gap=1500)[0] == 2000  # the gun, on its frame


def test_voiced_session_puts_the_rest_before_the_start_sequence():
    """With a voice, the rest runs from the finish to "on your marks"; the gun follows the rep's own start sequence."""
    job = prepare_preset("rhythm-3x500", {"voice": "female"})
    for prev, rep in zip(job.reps, job.reps[1:]):
        marks = [c for c in job.schedule.cues if c.kind == "marks" and c.t_s > prev.finish_s][0]
        gun = [c for c in job.schedule.cues if c.kind == "gun" and c.t_s > prev.finish_s][0]
        assert marks.t_s == rep.start_s and marks.t_s - prev.finish_s == pytest.approx(360.0, abs=1e-9)
        assert gun.t_s == rep.gun_s and gun.t_s - marks.t_s == pytest.approx(6.75, abs=1e-9)  # settle 5 + set 1.75
    single = prepare(
        {
            "distance": 500,
            "intensity": "85%",
            "reference_time": 51.0,
            "start": "standing",
            "strategy": "even",
            "voice": "female",
        }
    )
    assert [c.kind for c in single.schedule.cues][:3] == ["marks", "set", "gun"]


@pytest.mark.parametrize(
    "values",
    [{"time": "51"}, {"time": "51", "lead_in": "12s", "samplerate": "48000"}, {"cadence": "190", "duration": "1m"}],
)
def test_the_gun_offset_and_markers_come_from_the_job_alone(values):
    """What a rendered track says about its gun and markers, the job says without rendering."""
    from stridebeat.core.session import gun_offset_s, job_marks, job_track

    job = prepare(values)
    track = job_track(job)
    assert gun_offset_s(job) == track.origin_frame / track.samplerate
    assert job_marks(job) == track.marks
    assert job_marks(job, 22050) == job_track(job, samplerate=22050).marks


def test_the_gun_offset_of_a_session_is_its_first_guns_place_in_the_audio():
    from stridebeat.core.session import gun_offset_s, job_marks, job_track

    job = prepare_preset("rhythm-3x500", {})
    track = job_track(job)
    assert gun_offset_s(job) == track.origin_frame / track.samplerate
    assert job_marks(job) == track.marks
    gun = next(frame for frame, label in track.marks if label.endswith(": gun"))
    assert gun == track.origin_frame  # the first gun is the job's clock zero
