"""Output devices: finding one by name or index, the rate it plays, and PortAudio's errors as one line each.

``sounddevice`` is imported on first use: rendering and everything else work without PortAudio.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from stridebeat.core.track import SAMPLERATES
from stridebeat.errors import AudioDeviceError

# PortAudio error codes (portaudio.h)
PA_INVALID_CHANNEL_COUNT = -9998
PA_INVALID_SAMPLE_RATE = -9997
PA_DEVICE_UNAVAILABLE = -9985
EBUSY = -16  # ALSA's host error when another program holds a hardware device


@contextlib.contextmanager
def quiet_c_stderr() -> Iterator[None]:
    """Silence file descriptor 2 while PortAudio starts, plays and stops.

    Its start-up probes every ALSA device, and ALSA prints each miss straight to fd 2 ("Unknown PCM cards.pcm.rear",
    …); when the sound server goes away mid-stream, PortAudio prints its own assertion lines there. Noise, not errors:
    real failures come back as PortAudio error codes or a stream that stopped, and are reported as one line each.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def sounddevice_module() -> ModuleType:
    """Import sounddevice, turning a missing PortAudio into one line that says how to install it."""
    try:
        if "sounddevice" in sys.modules:
            import sounddevice
        else:
            with quiet_c_stderr():
                import sounddevice
    except OSError:
        raise AudioDeviceError(
            "PortAudio is not installed: install it (Debian/Ubuntu: sudo apt-get install "
            "libportaudio2; macOS: brew install portaudio) to play live; render works without it"
        ) from None
    except ImportError:
        raise AudioDeviceError("python-sounddevice is not installed: pip install sounddevice") from None
    return sounddevice


def output_devices() -> list[dict[str, Any]]:
    """Every output device: index, name, hostapi, channels, samplerate, default."""
    sd = sounddevice_module()
    default = sd.default.device[1]
    apis = sd.query_hostapis()
    return [
        dict(
            index=d["index"],
            name=d["name"],
            hostapi=apis[d["hostapi"]]["name"],
            channels=d["max_output_channels"],
            samplerate=int(d["default_samplerate"]),
            default=d["index"] == default,
        )
        for d in sd.query_devices()
        if d["max_output_channels"] > 0
    ]


def resolve_device(spec: str | int | None, devices: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The output device ``spec`` names: None for the default, an index, or (part of) a name."""
    devices = output_devices() if devices is None else devices
    if not devices:
        raise AudioDeviceError(
            "no audio output device found: connect a speaker or headphones, and check that the "
            "sound server (PulseAudio/PipeWire) or ALSA sees it"
        )
    if spec is None:
        found = [d for d in devices if d["default"]] or devices[:1]
        return found[0]
    text = str(spec).strip()
    if text.isdigit():
        found = [d for d in devices if d["index"] == int(text)]
    else:
        found = [d for d in devices if d["name"].lower() == text.lower()]
        found = found or [d for d in devices if text.lower() in d["name"].lower()]
    if not found:
        raise AudioDeviceError(f"no output device {text!r}: see 'stridebeat devices' for names and indexes")
    if len(found) > 1:
        names = ", ".join(f"{d['index']} {d['name']}" for d in found)
        raise AudioDeviceError(f"--device {text!r} matches several outputs ({names}): give its index")
    return found[0]


def device_error(exc: Exception, device: dict[str, Any], samplerate: int) -> AudioDeviceError:
    """The one place that turns a PortAudio error into a line the user can act on."""
    args: tuple[Any, ...] = getattr(exc, "args", ())
    code = args[1] if len(args) > 1 else None
    host = args[2] if len(args) > 2 else None
    name = device["name"]
    if code == PA_DEVICE_UNAVAILABLE or (host and host[1] == EBUSY) or "busy" in str(exc).lower():
        return AudioDeviceError(
            f"output {name!r} is busy: close the program using it, or pick another output with "
            "--device (see 'stridebeat devices')"
        )
    if code == PA_INVALID_SAMPLE_RATE:
        return AudioDeviceError(
            f"output {name!r} does not take {samplerate} Hz: pass --samplerate {device['samplerate']}"
        )
    if code == PA_INVALID_CHANNEL_COUNT:
        return AudioDeviceError(f"output {name!r} has no stereo output: pick another with --device")
    return AudioDeviceError(f"cannot play on {name!r}: {args[0] if args else exc}")


def playable_rate(device: dict[str, Any], samplerate: int, *, explicit: bool) -> int:
    """``samplerate`` if the device takes it, else the device's own rate (unless the user chose the rate)."""
    sd = sounddevice_module()
    try:
        sd.check_output_settings(device=device["index"], channels=2, dtype="float32", samplerate=samplerate)
        return samplerate
    except sd.PortAudioError as exc:
        error = device_error(exc, device, samplerate)
        native = device["samplerate"]
        rate_problem = len(exc.args) > 1 and exc.args[1] == PA_INVALID_SAMPLE_RATE
        if not rate_problem or explicit or native not in SAMPLERATES:
            raise error from None
    try:
        sd.check_output_settings(device=device["index"], channels=2, dtype="float32", samplerate=native)
    except sd.PortAudioError as exc:
        raise device_error(exc, device, native) from None
    return native
