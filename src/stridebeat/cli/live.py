"""`stridebeat live` and `stridebeat devices`: the shell around stridebeat.live (keys, status line, exit codes)."""

from __future__ import annotations

import math
import os
import select
import sys
import time

import click

from stridebeat.cli import cli, is_terminal
from stridebeat.cli.options import SettingsCommand, job_for, preset_argument
from stridebeat.core.clock import format_time
from stridebeat.errors import AudioDeviceError

STATUS_PERIOD_S = 0.1  # the status line is redrawn at most ten times a second
DEFAULT_LATENCY_S = 0.1  # = stridebeat.live.player.LATENCY_S


@cli.command("live", cls=SettingsCommand, settings=("plan", "stride", "metronome", "sound", "voice"))
@preset_argument
@click.option(
    "--every",
    type=click.Choice(["step", "stride"]),
    default="step",
    show_default=True,
    help="Click on every step, or on every stride (every second step).",
)
@click.option(
    "--count-in",
    type=click.IntRange(0, 16),
    default=0,
    metavar="BEATS",
    help="Beats of count-in, in another sound, before a metronome starts.",
)
@click.option(
    "--device",
    metavar="NAME|INDEX",
    help="Output device, by (part of) its name or its index; see "
    "'stridebeat devices'. [default: the system's default output]",
)
@click.option(
    "--latency",
    type=click.FloatRange(0.005, 2.0),
    callback=lambda ctx, param, value: _finite_latency(value),
    default=DEFAULT_LATENCY_S,
    metavar="S",
    show_default=True,
    help="Output buffer in seconds; raise it if playback reports underflows.",
)
def live_cmd(preset: str | None, every: str, count_in: int, device: str | None, latency: float, **kwargs) -> None:
    """Play a race plan, a session or a metronome live, on a speaker or headphones.

    PRESET: a preset name ('stridebeat preset list') or a .toml file; options given here override its values.

    A plan plays exactly what 'render' writes for the same options. A metronome without --duration plays until you
    quit. On a terminal: space pauses and resumes, + and - change a metronome's cadence by 1 spm (from the next beat),
    q quits. Exits non-zero if the audio had gaps (underflows).

    \b
    Examples:
      stridebeat live --cadence 220 --count-in 4
      stridebeat live --cadence 190 --duration 5m --every stride
      stridebeat live --time 51 --device USB
      stridebeat live rhythm-3x500
    """
    from stridebeat.live.devices import playable_rate, quiet_c_stderr, resolve_device
    from stridebeat.live.player import Player
    from stridebeat.live.program import program as make_program

    step = 2 if every == "stride" else 1
    # Settings are checked before any device is touched: a typo should not wait for PortAudio.
    job = job_for(preset, kwargs, open_ended=True)
    program = make_program(job, every=step, count_in=count_in)
    out = resolve_device(device)
    rate = playable_rate(out, program.samplerate, explicit=kwargs.get("samplerate") is not None)
    if rate != program.samplerate:
        click.echo(
            f"{out['name']} plays {rate} Hz, not {program.samplerate} Hz: playing at {rate} Hz "
            f"(pass --samplerate {rate} to render the same audio)",
            err=True,
        )
        program = make_program(job, every=step, count_in=count_in, samplerate=rate)
    interactive = is_terminal(sys.stdin) and is_terminal(sys.stdout)
    # PortAudio prints its own lines when the output goes away mid-stream: the line that counts is ours, after it.
    with quiet_c_stderr():
        player = Player(program.source, samplerate=program.samplerate, device=out, latency=latency).start()
    quit = False
    try:
        with quiet_c_stderr():
            quit = _play(player, program, interactive=interactive)
    finally:  # also after q or Ctrl-C: the gaps count is worth knowing however playback ended
        tempo = f" at {program.tempo.cadence_spm:g} spm" if program.tempo is not None else ""
        flags = f", {player.other_flags} other status flags" if player.other_flags else ""
        click.echo(
            f"played {format_time(player.position / program.samplerate)}{tempo} on {out['name']}: "
            f"{player.underflows} underflows{flags}"
        )
    _check_playback(player, program, quit=quit)


def _play(player, program, *, interactive: bool) -> bool:
    """Play until the end (False), q (True) or an interrupt; the stream is stopped however playback ends."""
    try:
        if interactive:
            return _interact(player, program)
        player.wait()
        return False
    finally:
        player.stop()


def _check_playback(player, program, *, quit: bool) -> None:
    """How playback ended, as an error when it was not whole: an internal error, a lost output, gaps."""
    if player.error is not None:
        raise AudioDeviceError(f"playback stopped by an internal error: {player.error!r}")
    if not quit and program.n_frames is not None and player.position < program.n_frames:
        raise AudioDeviceError(
            f"playback stopped after {format_time(player.position / program.samplerate)}: the output "
            "went away (unplugged, or the sound server stopped)"
        )
    if player.underflows:
        raise AudioDeviceError(
            f"the audio had {player.underflows} gaps (underflows): pass a larger --latency or "
            "close programs that keep the CPU busy"
        )


def _finite_latency(value: float) -> float:
    # click's range lets a NaN through (every comparison with it is false).
    if not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a number of seconds: give 0.005 to 2, e.g. 0.1")
    return value


def _interact(player, program) -> bool:
    """Keys and the status line until playback ends (False) or q (True); the terminal is restored in any case."""
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)  # keys arrive one at a time, unechoed; Ctrl-C still interrupts
    drawn = 0.0
    keys = [fd]
    try:
        while not player.done.is_set():
            ready, _, _ = select.select(keys, [], [], STATUS_PERIOD_S / 2)
            typed = os.read(fd, 64).decode(errors="ignore") if ready else ""
            if ready and not typed:
                keys = []  # the terminal hung up: keep playing, stop listening
            for key in typed:
                if key in "qQ":
                    return True
                if key == " ":
                    player.paused = not player.paused
                elif key in "+=" and program.tempo is not None:
                    program.tempo.nudge(+1)
                elif key in "-_" and program.tempo is not None:
                    program.tempo.nudge(-1)
            now = time.monotonic()
            if now - drawn >= STATUS_PERIOD_S:
                drawn = now
                line = status_line(program.status(player.heard_frame()), player)
                click.echo(f"\r{line}\x1b[K", nl=False)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        click.echo()
    return False


def status_line(status: dict, player) -> str:
    t = status["elapsed_s"]
    parts = [("-" if t <= -0.005 else "") + format_time(abs(t))]  # counting down to the gun or the first click
    if status["distance_m"] is not None:
        parts.append(f"{status['distance_m']:.0f} m")
    if player.paused:
        parts.append("PAUSED")
    if status["cadence_spm"] is not None:
        parts.append(f"{status['cadence_spm']:.1f} spm")
    if status["next_cue"] is not None:
        parts.append(f"next: {status['next_cue']}")
    parts.append(f"underflows {player.underflows}")
    return "  ".join(parts)


@cli.command("devices")
def devices_cmd() -> None:
    """List the audio outputs 'live --device' can use (* marks the default).

    \b
    Examples:
      stridebeat devices
      stridebeat live --cadence 200 --device 3
    """
    from stridebeat.live.devices import output_devices, resolve_device

    found = output_devices()
    if not found:
        resolve_device(None, found)  # raises the one-line "no output device" error
    for d in found:
        mark = "*" if d["default"] else " "
        click.echo(f"{mark} {d['index']:>3}  {d['name']}  ({d['hostapi']}, {d['channels']} ch, {d['samplerate']} Hz)")
