"""The plan on the watch and the phone, end to end through the command line: `render -o x.fit`, chapters in
MP3/FLAC/OGG read back by mutagen (and ffprobe where installed), and `--stride NAME` from `calibrate --save`."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

import stridebeat
from stridebeat.activity import StrideFit
from stridebeat.config import strides
from test_workout import as_run, check_against_plan, decode


def test_render_writes_a_workout_the_sdk_reads(run_cli, tmp_path):
    path = tmp_path / "session.fit"
    result = run_cli("render", "rhythm-3x500", "-o", path)
    assert result.code == 0, result.err
    assert result.out == f"wrote {path}: a watch workout\n"
    decoded = decode(path)
    check_against_plan(stridebeat.build_job("rhythm-3x500"), as_run(decoded["workout_step_mesgs"]))
    again = run_cli("render", "rhythm-3x500", "-o", path)
    assert again.code == 1 and "exists: pass --force" in again.err


def test_a_workout_with_side_files_publishes_them_together(run_cli, tmp_path):
    result = run_cli("render", "--time", "51", "-o", tmp_path / "race.fit", "--timeline", tmp_path / "race.json")
    assert result.code == 0, result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["race.fit", "race.json"]
    assert json.loads((tmp_path / "race.json").read_text())["target_time_s"] == 51.0


SHORT_SESSION = """schema = 1
kind = "session"
rest = "30s"
[[reps]]
distance = 200
time = 26
repeat = 2
"""


@pytest.mark.parametrize("ext", ["mp3", "flac", "ogg"])
def test_chapters_are_the_timeline_marks(run_cli, tmp_path, ext):
    import mutagen

    preset = tmp_path / "short.toml"
    preset.write_text(SHORT_SESSION)
    path, timeline = tmp_path / f"session.{ext}", tmp_path / "session.json"
    result = run_cli("render", preset, "-o", path, "--timeline", timeline)
    assert result.code == 0, result.err
    data = json.loads(timeline.read_text())
    # Ground truth from the timeline: a mark per cue at its mark (the file's clock: gun offset + time from the gun).
    marks: dict[int, list[str]] = {}
    for cue in data["cues"]:
        at = data["gun_offset_s"] + cue.get("mark_s", cue["t_s"])
        marks.setdefault(round(at * 1000), []).append(cue["text"])
    expected = [(ms, " · ".join(texts)) for ms, texts in sorted(marks.items())]

    audio = mutagen.File(path)
    if ext == "mp3":
        chaps = sorted(audio.tags.getall("CHAP"), key=lambda c: c.start_time)
        got = [(c.start_time, str(c.sub_frames["TIT2"])) for c in chaps]
        assert audio.tags.getall("CTOC")[0].child_element_ids == [c.element_id for c in chaps]
    else:
        tags = audio.tags
        got = []
        for n in range(1, 1000):
            stamp = tags.get(f"CHAPTER{n:03d}")
            if not stamp:
                break
            h, m, s = stamp[0].split(":")
            got.append((round((int(h) * 3600 + int(m) * 60 + float(s)) * 1000), tags[f"CHAPTER{n:03d}NAME"][0]))
    assert [ms for ms, _ in got] == pytest.approx([ms for ms, _ in expected], abs=1)
    assert [title for _, title in got] == [title for _, title in expected]
    assert any("rep 2 of 2" in title for _, title in got) and any("rest" in title for _, title in got)

    if shutil.which("ffprobe"):
        probe = subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(path)],
                               capture_output=True, text=True, check=True)  # fmt: skip
        starts = [round(float(c["start_time"]) * 1000) for c in json.loads(probe.stdout)["chapters"]]
        assert starts == pytest.approx([ms for ms, _ in expected], abs=1)


def test_no_markers_means_no_chapters(run_cli, tmp_path):
    import mutagen

    path = tmp_path / "race.mp3"
    assert run_cli("render", "--time", "51", "-o", path, "--no-markers").code == 0
    tags = mutagen.File(path).tags
    assert tags is None or not tags.getall("CHAP")


def test_a_saved_stride_profile_sets_the_plans_step_length(run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("STRIDEBEAT_STRIDES_DIR", str(tmp_path / "strides"))
    fit = StrideFit(a_m=2.0, b=0.6, ref_speed_mps=8.0, points=120, speed_min_mps=4.0, speed_max_mps=9.0,
                    rms_m=0.01, rms_pct=0.5)  # fmt: skip
    strides.save_profile("me", fit)
    speed = 400.0 / 51.0
    expected = 2.0 * (speed / 8.0) ** 0.6  # the profile's step length at the race's average speed
    planned = stridebeat.build_job(time=51, stride="me").reps[0].planned
    assert planned.stride.step_length_m == pytest.approx(expected)
    assert planned.cadence.race_step == pytest.approx(expected)
    both = run_cli("plan", "--time", "51", "--stride", "me", "--steps-per-100m", "44")
    assert (both.code, both.err) == (2, "Error: give --stride or --steps-per-100m, not both\n")
    unknown = run_cli("plan", "--time", "51", "--stride", "nobody")
    assert unknown.code == 2 and unknown.err.count("\n") == 1
