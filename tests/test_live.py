"""Live playback without a sound server: the callback driven by hand with fake buffers, the tempo map, devices, errors.

Expected audio is computed independently of the player: from the core's Renderer (what export writes) or, for tempo
changes, by placing the click at the frames the tempo arithmetic gives.
"""

from __future__ import annotations

import subprocess
import sys
import types

import numpy as np
import pytest

from soundserver import unavailable
from stridebeat.cli import main
from stridebeat.config.jobs import prepare
from stridebeat.core import metronome as core_metronome
from stridebeat.core import sounds
from stridebeat.core.render import Renderer
from stridebeat.core.session import job_track
from stridebeat.errors import AudioDeviceError
from stridebeat.live import devices as live_devices
from stridebeat.live import player as live_player
from stridebeat.live import program as live_program

SR = 48000
ODD_SIZES = (1, 7, 127, 441, 1000, 1024, 3001, 4096)


class Flags:
    """Stands in for sounddevice.CallbackFlags."""

    def __init__(self, underflow: bool = False, other: bool = False):
        self.output_underflow = underflow
        self._set = underflow or other

    def __bool__(self) -> bool:
        return self._set


@pytest.fixture
def sd():
    try:
        return live_devices.sounddevice_module()
    except AudioDeviceError as exc:
        # CI installs PortAudio; there a missing library is a broken set-up, not a reason to skip.
        unavailable(str(exc), what="PortAudio")


def program_for(values: dict, **kwargs) -> live_program.Program:
    return live_program.program(prepare(values, open_ended=True), **kwargs)


def export(values: dict) -> np.ndarray:
    track = job_track(prepare(values))
    out = np.zeros((track.n_frames, 2), dtype=np.float32)
    Renderer(track, max_block=track.n_frames).render(0, out)
    return out


def drive(player, sd, *, sizes=ODD_SIZES, status=lambda i: Flags(), pause=lambda i: False):
    """Call the callback with fake buffers of cycling odd sizes until CallbackStop; return the non-paused output."""
    played, i = [], 0
    while True:
        n = sizes[i % len(sizes)]
        buf = np.full((n, 2), np.nan, dtype=np.float32)  # the callback must write every sample
        player.paused = pause(i)
        before = player.position
        try:
            player.callback(buf, n, None, status(i))
        except sd.CallbackStop:
            played.append(buf)
            break
        finally:
            i += 1
        assert not np.isnan(buf).any()
        if player.paused:
            assert not buf.any() and player.position == before
        else:
            played.append(buf)
    return np.concatenate(played)


@pytest.mark.parametrize(
    "values",
    [
        {"cadence": 180, "duration": "10s", "samplerate": SR},
        {"cadence": "203.7", "duration": "7s", "accent": 4, "pan": True, "sound": "tick", "tail": "0"},
        {"distance": 200, "time": "24", "hold_last": 50, "samplerate": SR},
    ],
)
def test_callback_plays_the_export_sample_for_sample(sd, values):
    expected = export(values)
    program = program_for(values)
    player = live_player.Player(program.source, samplerate=program.samplerate)
    got = drive(player, sd)
    assert np.array_equal(got[: len(expected)], expected)
    assert not got[len(expected) :].any()  # then silence until the stop
    assert len(got) - len(expected) >= 0.05 * program.samplerate


def test_pause_holds_the_position_and_resumes_where_it_was(sd):
    values = {"cadence": 150, "duration": "3s", "samplerate": SR}
    player = live_player.Player(program_for(values).source, samplerate=SR)
    got = drive(player, sd, pause=lambda i: 10 <= i < 25 or i % 7 == 3)
    assert np.array_equal(got[: len(export(values))], export(values))


def test_underflows_and_other_flags_are_counted(sd):
    player = live_player.Player(program_for({"cadence": 180, "duration": "1s"}).source, samplerate=44100)
    drive(player, sd, status=lambda i: Flags(underflow=i in (3, 4, 9), other=i == 5))
    assert (player.underflows, player.other_flags) == (3, 1)


def test_an_error_in_rendering_aborts_and_is_kept(sd):
    class Broken:
        n_frames = None

        def render(self, start, out):
            raise ZeroDivisionError

    player = live_player.Player(Broken(), samplerate=SR)
    buf = np.full((64, 2), np.nan, dtype=np.float32)
    with pytest.raises(sd.CallbackAbort):
        player.callback(buf, 64, None, Flags())
    assert isinstance(player.error, ZeroDivisionError) and not buf.any()


def render_in_blocks(source, n_frames: int, *, before=lambda start: None, sizes=ODD_SIZES) -> np.ndarray:
    out = np.zeros((n_frames, 2), dtype=np.float32)
    start, i = 0, 0
    while start < n_frames:
        n = min(sizes[i % len(sizes)], n_frames - start)
        before(start)
        source.render(start, out[start : start + n])
        start, i = start + n, i + 1
    return out


def test_open_ended_metronome_equals_its_track():
    values = {"cadence": "187.5", "accent": 3, "pan": True, "samplerate": SR, "lead_in": "0.5s"}
    program = program_for(values)
    assert program.tempo is not None and program.n_frames is None
    n = 40 * SR
    expected = np.zeros((n, 2), dtype=np.float32)
    Renderer(job_track(prepare(values, open_ended=True)), max_block=n).render(0, expected)
    assert np.array_equal(render_in_blocks(program.source, n), expected)


def clicks_at(onsets, n_frames: int, click: np.ndarray, gain: float) -> np.ndarray:
    """Independent expectation: the click placed at each onset."""
    out = np.zeros((n_frames, 2), dtype=np.float32)
    for f in onsets:
        m = min(len(click), n_frames - f)
        out[f : f + m] += (click[:m] * np.float32(gain))[:, None]
    return out


def metronome(beat_s: float = 1 / 3):
    click = sounds.click("woodblock", SR)
    gains = np.ones((2, 2), dtype=np.float32)
    return core_metronome.TempoMetronome(click, gains, samplerate=SR, beat_s=beat_s), click


@pytest.mark.parametrize(
    "press_at, delta, first_new",
    [
        # 180 spm: beats every 16000 frames. A press between beats 5 and 6 moves beat 6 to one new period after beat 5.
        (85_000, +1, 80_000 + round(60 / 181 * SR)),
        (95_999, -1, 80_000 + round(60 / 179 * SR)),
        # Pressed during beat 5's click: it sounds on to its end, beat 6 comes one new period after it.
        (80_500, +3, 80_000 + round(60 / 183 * SR)),
        # 180 → 280 spm late in the interval: one new period after beat 5 has passed, so beat 6 sounds at once.
        (92_001, +100, 92_001),
    ],
)
def test_a_cadence_change_lands_on_the_next_beat(press_at, delta, first_new):
    source, click = metronome()
    new = 180 + delta

    def before(start):
        if start >= press_at and source.target_spm == 180:
            assert start == press_at
            source.nudge(delta)

    sizes = (press_at, 997, 1031)  # the press lands exactly on a block start
    got = render_in_blocks(source, 10 * SR, before=before, sizes=sizes)
    old = [k * 16_000 for k in range(6)]
    new_beats = [first_new + round(j * (60 / new) * SR) for j in range(40)]
    onsets = [f for f in old + new_beats if f < 10 * SR]
    assert np.array_equal(got, clicks_at(onsets, 10 * SR, click, 1.0))
    assert source.cadence_spm == new


def test_several_presses_before_the_next_beat_count_from_the_last_beat():
    source, click = metronome()
    # Three presses between beats 1 (16000) and 2 (32000): beat 2 ends one 181-spm period after beat 1. The last
    # press, after beat 2, moves beat 3 to one 182-spm period after beat 2.
    presses = {20_000: +1, 24_000: +1, 28_000: -1, 40_000: +1}

    def before(start):
        if start in presses:
            source.nudge(presses.pop(start))

    got = render_in_blocks(source, 5 * SR, before=before, sizes=(4000,))
    beat2 = 16_000 + round(60 / 181 * SR)
    onsets = [0, 16_000, beat2] + [beat2 + round(60 / 182 * SR) + round(j * (60 / 182) * SR) for j in range(30)]
    onsets = [f for f in onsets if f < 5 * SR]
    assert np.array_equal(got, clicks_at(onsets, 5 * SR, click, 1.0))


def test_cadence_stays_in_range():
    source, _ = metronome(60 / 399)
    for _ in range(5):
        source.nudge(+1)
    assert source.target_spm == 400


def test_count_in_then_the_metronome():
    values = {"cadence": 120, "duration": "2s", "samplerate": SR, "tail": "0"}
    program = program_for(values, count_in=3)
    beat = SR // 2
    assert program.zero_frame == 3 * beat and program.n_frames == 3 * beat + 2 * SR
    got = render_in_blocks(program.source, program.n_frames)
    assert np.array_equal(got[3 * beat :], export(values))
    counted = np.flatnonzero(np.abs(got[: 3 * beat, 0]) > 0)
    starts = counted[np.insert(np.diff(counted) > 1000, 0, True)]
    assert list(starts) == [0, beat, 2 * beat]
    beep = sounds.click("beep", SR)
    assert np.allclose(got[: len(beep), 0] / got[: len(beep), 0].max(), beep / beep.max(), atol=1e-6)


def test_every_stride_clicks_every_second_step():
    values = {"cadence": 180, "duration": "4s", "samplerate": SR}
    program = program_for(values, every=2)
    got = render_in_blocks(program.source, program.n_frames)
    step_frames = np.round(prepare(values).schedule.steps_s * SR).astype(int)
    starts = np.flatnonzero((np.abs(got[:, 0]) > 0) & (np.abs(np.roll(got[:, 0], 1)) == 0))
    assert list(starts) == list(step_frames[::2])
    assert program.status(SR)["cadence_spm"] == pytest.approx(180)  # the status speaks of steps, not clicks


def test_status_of_a_race_plan():
    values = {"time": "51"}
    program = program_for(values)
    job = prepare(values)
    before_gun = program.status(program.zero_frame - 44100)
    assert before_gun["elapsed_s"] == pytest.approx(-1.0) and before_gun["distance_m"] == 0.0
    at = program.status(program.zero_frame + 6 * 44100)
    assert at["elapsed_s"] == pytest.approx(6.0)
    assert at["distance_m"] == pytest.approx(float(job.reps[0].planned.profile.position(6.0)))
    assert 150 < at["cadence_spm"] < 300
    assert at["next_cue"] is not None and at["next_cue"].startswith("100 m")
    assert program.status(program.n_frames)["next_cue"] is None


DEVICES = [
    dict(
        index=0,
        name="HDA Intel PCH: ALC257 Analog (hw:0,0)",
        hostapi="ALSA",
        channels=2,
        samplerate=48000,
        default=False,
    ),
    dict(index=3, name="USB Audio Device: - (hw:1,0)", hostapi="ALSA", channels=2, samplerate=44100, default=False),
    dict(index=5, name="pulse", hostapi="ALSA", channels=32, samplerate=44100, default=False),
    dict(index=6, name="default", hostapi="ALSA", channels=32, samplerate=44100, default=True),
]


@pytest.mark.parametrize("spec, index", [(None, 6), ("3", 3), (5, 5), ("usb", 3), ("Pulse", 5), ("default", 6)])
def test_device_by_name_or_index(spec, index):
    assert live_devices.resolve_device(spec, DEVICES)["index"] == index


@pytest.mark.parametrize(
    "spec, message",
    [
        ("7", "no output device '7': see 'stridebeat devices' for names and indexes"),
        (
            "hw:",
            "--device 'hw:' matches several outputs (0 HDA Intel PCH: ALC257 Analog (hw:0,0), "
            "3 USB Audio Device: - (hw:1,0)): give its index",
        ),
    ],
)
def test_device_errors(spec, message):
    with pytest.raises(AudioDeviceError) as err:
        live_devices.resolve_device(spec, DEVICES)
    assert str(err.value) == message


def test_no_output_device():
    with pytest.raises(AudioDeviceError, match="^no audio output device found: connect a speaker"):
        live_devices.resolve_device(None, [])


class PortAudioError(Exception):
    pass


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ("Error opening OutputStream: Device unavailable", -9985),
            "output 'USB Audio Device: - (hw:1,0)' is busy: close the program using it, or pick another output with "
            "--device (see 'stridebeat devices')",
        ),
        (
            ("Error opening OutputStream: Unanticipated host error", -9999, (0, -16, "Device or resource busy")),
            "output 'USB Audio Device: - (hw:1,0)' is busy: close the program using it, or pick another output with "
            "--device (see 'stridebeat devices')",
        ),
        (
            ("Error opening OutputStream: Invalid sample rate", -9997),
            "output 'USB Audio Device: - (hw:1,0)' does not take 96000 Hz: pass --samplerate 44100",
        ),
        (
            ("Error opening OutputStream: Invalid number of channels", -9998),
            "output 'USB Audio Device: - (hw:1,0)' has no stereo output: pick another with --device",
        ),
    ],
)
def test_portaudio_errors_become_one_line(args, message):
    assert str(live_devices.device_error(PortAudioError(*args), DEVICES[1], 96000)) == message


def fake_sounddevice(accepted: set[int]):
    def check_output_settings(*, device, channels, dtype, samplerate):
        if samplerate not in accepted:
            raise PortAudioError("Invalid sample rate", -9997)

    return types.SimpleNamespace(PortAudioError=PortAudioError, check_output_settings=check_output_settings)


def test_a_rejected_rate_falls_back_to_the_device_rate(monkeypatch):
    monkeypatch.setattr(live_devices, "sounddevice_module", lambda: fake_sounddevice({44100}))
    assert live_devices.playable_rate(DEVICES[1], 48000, explicit=False) == 44100
    assert live_devices.playable_rate(DEVICES[1], 44100, explicit=True) == 44100
    with pytest.raises(AudioDeviceError, match="does not take 48000 Hz: pass --samplerate 44100$"):
        live_devices.playable_rate(DEVICES[1], 48000, explicit=True)  # the user chose the rate: say what to pass


def test_missing_portaudio_says_how_to_install_it(monkeypatch, capsys):
    class NoPortAudio:
        def find_spec(self, name, path=None, target=None):
            if name == "sounddevice":
                raise OSError("PortAudio library not found")

    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(sys, "meta_path", [NoPortAudio(), *sys.meta_path])
    with pytest.raises(SystemExit) as done:
        main(["devices"])
    assert done.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "install libportaudio2" in err and err.startswith("Error: PortAudio is not")


def test_count_in_needs_a_metronome(capsys):
    with pytest.raises(SystemExit) as done:
        main(["live", "--time", "51", "--count-in", "4"])
    assert done.value.code == 2
    assert (
        capsys.readouterr().err == "Error: --count-in goes with --cadence: a race starts with its own start sequence\n"
    )


def test_importing_the_package_does_not_load_sounddevice():
    code = "import sys, stridebeat.cli, stridebeat.live, stridebeat.export; print('sounddevice' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_live_and_devices_have_help():
    import click

    from stridebeat.cli import cli

    for name in ("live", "devices"):
        command = cli.get_command(click.Context(cli), name)
        assert command.help and command.help.strip()


class FakePlayer:
    """Stands in for live.player.Player in CLI tests: plays instantly, with the given number of underflows."""

    underflows_to_report = 0

    def __init__(self, source, *, samplerate, device, latency):
        self.source, self.samplerate = source, samplerate
        self.position, self.underflows, self.other_flags, self.error, self.paused = 0, 0, 0, None, False

    def start(self):
        self.position = self.source.n_frames
        self.underflows = self.underflows_to_report
        return self

    def wait(self):
        return True

    def stop(self):
        pass


@pytest.fixture
def fake_output(monkeypatch):
    device = dict(DEVICES[0])  # 48 kHz
    monkeypatch.setattr(live_devices, "resolve_device", lambda spec: device)
    monkeypatch.setattr(live_player, "Player", FakePlayer)
    return device


def test_underflows_give_a_non_zero_exit(run_cli, fake_output, monkeypatch):
    monkeypatch.setattr(live_devices, "playable_rate", lambda device, rate, explicit: rate)
    monkeypatch.setattr(FakePlayer, "underflows_to_report", 2)
    result = run_cli("live", "--cadence", "180", "--duration", "3s")
    assert result.code == 1
    assert result.out == "played 5.00 on HDA Intel PCH: ALC257 Analog (hw:0,0): 2 underflows\n"
    assert result.err == (
        "Error: the audio had 2 gaps (underflows): pass a larger --latency or close programs that keep the CPU busy\n"
    )


def test_a_device_that_rejects_the_rate_plays_at_its_own(run_cli, fake_output, monkeypatch):
    monkeypatch.setattr(live_devices, "playable_rate", lambda device, rate, explicit: device["samplerate"])
    result = run_cli("live", "--time", "51")
    assert result.code == 0
    assert result.err == (
        "HDA Intel PCH: ALC257 Analog (hw:0,0) plays 48000 Hz, not 44100 Hz: playing at 48000 Hz "
        "(pass --samplerate 48000 to render the same audio)\n"
    )
    assert result.out.endswith(": 0 underflows\n")


def test_the_status_line():
    from stridebeat.cli.live import status_line

    player = types.SimpleNamespace(paused=False, underflows=0)
    race = dict(elapsed_s=65.3, distance_m=412.0, cadence_spm=201.04, next_cue="finish")
    assert status_line(race, player) == "1:05.30  412 m  201.0 spm  next: finish  underflows 0"
    player.paused, player.underflows = True, 3
    before = dict(elapsed_s=-2.5, distance_m=None, cadence_spm=None, next_cue=None)
    assert status_line(before, player) == "-2.50  PAUSED  underflows 3"
    assert status_line({**before, "elapsed_s": -0.001}, player).startswith("0.00  ")
