"""The player: a source driven by a sounddevice callback stream, with its counters and its end."""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np

from stridebeat.core.metronome import Source
from stridebeat.core.render import MAX_BLOCK
from stridebeat.errors import AudioDeviceError
from stridebeat.live.devices import device_error, sounddevice_module

LATENCY_S = 0.1  # a metronome needs steadiness more than a short delay: a roomy buffer rides out a busy CPU
RT_PRIORITY = 20  # SCHED_FIFO priority of the audio thread, where allowed: above desktop work, below IRQ threads


class Player:
    """Plays a source on an output device until it ends or ``stop()``; use it as a context manager.

    The audio thread writes ``position`` (frames handed to the device) and the counters ``underflows`` and
    ``other_flags``; the main thread reads them, flips ``paused`` and waits on ``done`` (set by the stream's
    ``finished_callback``). Each of these is one attribute written by one side only: no lock is needed.
    """

    def __init__(
        self, source: Source, *, samplerate: int, device: dict[str, Any] | None = None, latency: float = LATENCY_S
    ):
        self._sd = sounddevice_module()
        self.source = source
        self.samplerate = samplerate
        self.device = device
        self.latency = latency
        self.position = 0
        self.underflows = 0
        self.other_flags = 0
        self.paused = False
        self.error: BaseException | None = None
        self.done = threading.Event()
        self._promoted = False
        self._stream: Any = None
        self._stop_at = self._end_frame(latency)

    def callback(self, outdata: np.ndarray, frames: int, time, status) -> None:
        # Real-time rules: this runs on PortAudio's audio thread once per block, and a late return is a gap the runner
        # hears. So: no allocation of sample memory (the renderers write into ``outdata`` in place, with scratch
        # buffers sized beforehand), no I/O (no print, no logging, no file), no lock and nothing else that blocks,
        # and the whole buffer is always written (silence while paused and after the end). Status flags are counted
        # here and reported by the main thread. The end is a CallbackStop, raised after enough silence that the last
        # real sample has played (see ``start``).
        if status:
            if status.output_underflow:
                self.underflows += 1
            else:
                self.other_flags += 1
        if self.paused:
            outdata.fill(0.0)
            return
        pos = self.position
        try:
            for a in range(0, frames, MAX_BLOCK):
                self.source.render(pos + a, outdata[a : a + MAX_BLOCK])
        except Exception as exc:  # a bug, not a device problem: stop cleanly and let the main thread report it
            outdata.fill(0.0)
            self.error = exc
            raise self._sd.CallbackAbort from None
        self.position = pos + frames
        if self._stop_at is not None and self.position >= self._stop_at:
            raise self._sd.CallbackStop

    def _on_audio_thread(self, outdata, frames: int, time, status) -> None:
        """The stream's callback: on the first block, ask for real-time scheduling of the audio thread; then play.

        PortAudio's ALSA thread runs at normal priority unless asked (PaAlsa_EnableRealtimeScheduling, which
        sounddevice does not expose), so busy programs can preempt it. Where the system refuses (no RLIMIT_RTPRIO),
        playback goes on as it was. One system call that never blocks, on the first block only.
        """
        if not self._promoted:
            self._promoted = True
            try:
                os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(RT_PRIORITY))
            except (AttributeError, OSError):
                pass
        self.callback(outdata, frames, time, status)

    def start(self) -> Player:
        sd = self._sd
        index = None if self.device is None else self.device["index"]
        try:
            stream = sd.OutputStream(
                samplerate=self.samplerate,
                device=index,
                channels=2,
                dtype="float32",
                latency=self.latency,
                callback=self._on_audio_thread,
                finished_callback=self.done.set,
            )
        except sd.PortAudioError as exc:
            raise self._error(exc) from None
        self._stream = stream
        self._stop_at = self._end_frame(stream.latency)
        try:
            stream.start()
        except sd.PortAudioError as exc:
            self.stop()
            raise self._error(exc) from None
        return self

    def _error(self, exc: Exception) -> AudioDeviceError:
        device = self.device or dict(name="default output", samplerate=self.samplerate)
        return device_error(exc, device, self.samplerate)

    def _end_frame(self, latency_s: float) -> int | None:
        """Where the callback stops: past the source's end by twice the output latency (None: never).

        PortAudio's ALSA path drops what is still queued when a callback stream completes (measured through the
        PulseAudio plugin: exactly the output latency), so the end is followed by that much silence, twice over.
        """
        if self.source.n_frames is None:
            return None
        return self.source.n_frames + round(max(2.0 * latency_s, 0.05) * self.samplerate)

    def heard_frame(self) -> int:
        """The frame coming out of the speaker about now: what was handed over, less the output latency."""
        lag = round(self._stream.latency * self.samplerate) if self._stream is not None else 0
        return max(0, self.position - lag)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the end (True) or the timeout (False); Ctrl-C still gets through."""
        if timeout is not None:
            return self.done.wait(timeout)
        while not self.done.wait(0.5):
            pass
        return True

    def stop(self) -> None:
        if self._stream is not None:
            self._stream.abort()
            self._stream.close()
            self._stream = None

    def __enter__(self) -> Player:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
