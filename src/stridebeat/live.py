"""Live playback: the block renderer driven by a sounddevice callback stream.

What plays is a *source*: anything with ``render(start, out)`` (fill ``out`` with frames [start, start + n)) and
``n_frames`` (None: plays until stopped). A plan or a metronome with a duration plays its track through the core's
``Renderer``, so the speaker gets what ``render`` writes to a file, sample for sample. An open-ended metronome plays a
``TempoMetronome``, whose cadence can change while it plays.

``sounddevice`` is imported inside functions only: rendering and everything else work without PortAudio.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
from typing import Any

import numpy as np

from stridebeat.errors import AudioDeviceError, UsageError
from stridebeat.record import Record, replace
from stridebeat.render import Renderer, mix
from stridebeat.schedule import CADENCE_RANGE_SPM, Schedule
from stridebeat.track import SAMPLERATES, SoundOptions, build_track

LATENCY_S = 0.1  # a metronome needs steadiness more than a short delay: a roomy buffer rides out a busy CPU
MAX_BLOCK = 1 << 16
RT_PRIORITY = 20  # SCHED_FIFO priority of the audio thread, where allowed: above desktop work, below IRQ threads
COUNT_IN_SOUND = {"beep": "tick"}  # the count-in sounds unlike the click; "beep" otherwise

# PortAudio error codes (portaudio.h)
PA_INVALID_CHANNEL_COUNT = -9998
PA_INVALID_SAMPLE_RATE = -9997
PA_DEVICE_UNAVAILABLE = -9985
EBUSY = -16  # ALSA's host error when another program holds a hardware device


class TempoMetronome:
    """An endless metronome whose cadence can change while it plays (``render(start, out)`` like ``Renderer``).

    The tempo map is data: segments (f0, k0, beat_s), beat k of a segment on frame f0 + round((k − k0) · beat_s · sr),
    each beat computed from its segment's start in absolute frames, never by adding intervals. Segment 0 starts on the
    track's origin, so until the first change the output equals the open-ended metronome track's, sample for sample.

    ``target_spm`` is the one attribute another thread writes. The change takes effect on the next beat that has not
    started: it lands one new period after the last beat (or at once, if that moment has passed), and the beats after
    it follow the new period. Every interval is then at least 60/400 s, longer than any click, so only the previous
    segment can still be sounding and two segments are all the map keeps.
    """

    def __init__(self, click: np.ndarray, gains: np.ndarray, *, samplerate: int, beat_s: float, origin: int = 0,
                 every: int = 1, max_block: int = MAX_BLOCK):
        if len(click) >= 60.0 * every / CADENCE_RANGE_SPM[1] * samplerate:
            raise ValueError("the click is longer than the shortest beat interval")
        self.sr = samplerate
        self.every = every  # steps per click: the cadence counts steps
        self.n_frames = None
        self.cadence_spm = self.target_spm = every * 60.0 / beat_s
        self._click = click
        self._gains = gains  # float32 (P, 2): the gain pattern, beat k uses row k % P
        self._cur = (origin, 0, beat_s)  # the schedule's own beat, not one recomputed from the cadence
        self._prev: tuple[int, int, float] | None = None
        self._scratch = np.zeros(max(max_block, len(click)), dtype=np.float32)

    def nudge(self, delta_spm: float) -> None:
        """Ask for a cadence ``delta_spm`` higher (main thread); the callback applies it at the next beat."""
        lo, hi = CADENCE_RANGE_SPM
        # Rounded: 180 spm read back from its beat is 180.00000000000003; +1 should give 181 exactly.
        self.target_spm = min(hi, max(lo, round(self.target_spm + delta_spm, 6)))

    def _onset(self, seg: tuple[int, int, float], k: int) -> int:
        f0, k0, beat_s = seg
        # Same operations as the schedule and track ((k · 60/spm) · sr, rounded half to even): same frames.
        return f0 + round((k - k0) * beat_s * self.sr)

    def _retempo(self, start: int) -> None:
        cur = self._cur
        k = cur[1] + max(0, math.floor((start - cur[0]) / (cur[2] * self.sr)))
        while self._onset(cur, k) < start:  # k: the first beat not yet started
            k += 1
        beat_s = self.every * (60.0 / self.target_spm)
        if k == 0:
            f0 = cur[0]
        else:
            last = self._onset(cur if k - 1 >= cur[1] else self._prev, k - 1)
            f0 = max(start, last + round(beat_s * self.sr))
        if k > cur[1]:
            self._prev = cur
        self._cur = (f0, k, beat_s)  # when k == k0 the current segment never played a beat: replace it
        self.cadence_spm = self.target_spm

    def _mix(self, seg, k_stop: int | None, start: int, out: np.ndarray) -> None:
        end = start + out.shape[0]
        n = len(self._click)
        k = seg[1] + max(0, math.floor((start - n - seg[0]) / (seg[2] * self.sr)))
        while k_stop is None or k < k_stop:
            onset = self._onset(seg, k)
            if onset >= end:
                break
            a, b = max(start, onset), min(end, onset + n)
            if b > a:
                mix(out[a - start : b - start], self._click[a - onset : b - onset], self._gains[k % len(self._gains)],
                    self._scratch)
            k += 1

    def render(self, start: int, out: np.ndarray) -> None:
        if self.target_spm != self.cadence_spm:
            self._retempo(start)
        out.fill(0.0)
        if self._prev is not None:
            self._mix(self._prev, self._cur[1], start, out)
        self._mix(self._cur, None, start, out)


class Sequence:
    """``first`` for frames [0, offset), then ``second`` from its frame 0: a count-in before the run."""

    def __init__(self, first, offset: int, second):
        self.first, self.offset, self.second = first, offset, second
        self.n_frames = None if second.n_frames is None else offset + second.n_frames

    def render(self, start: int, out: np.ndarray) -> None:
        n = out.shape[0]
        cut = min(max(self.offset - start, 0), n)
        if cut:
            self.first.render(start, out[:cut])
        if cut < n:
            self.second.render(start + cut - self.offset, out[cut:])


class _TrackSource(Renderer):
    @property
    def n_frames(self) -> int:
        return self.track.n_frames


class Program(Record):
    """What to play (``source``) and what to say about any frame of it (``status``)."""

    source: Any
    samplerate: int
    zero_frame: int  # frame of schedule time 0: the gun, or the first click after any count-in
    job: Any  # the Job or SessionJob played (before any every-second-step thinning)
    steps_s: np.ndarray  # every footstrike (also those not clicked with every=2)
    marks: tuple[tuple[int, str], ...]  # (frame, label) on the source's frames
    tempo: TempoMetronome | None  # set when the cadence can change while playing

    @property
    def n_frames(self) -> int | None:
        return self.source.n_frames

    def status(self, frame: int) -> dict[str, Any]:
        """elapsed_s (from the gun or first click; negative before), distance_m, cadence_spm, next_cue."""
        t = (frame - self.zero_frame) / self.samplerate
        distance = cadence = None
        if self.tempo is not None:
            cadence = self.tempo.cadence_spm
        else:
            i = int(np.searchsorted(self.steps_s, t))
            if 0 < i < len(self.steps_s):
                cadence = 60.0 / float(self.steps_s[i] - self.steps_s[i - 1])
                cadence = cadence if cadence >= CADENCE_RANGE_SPM[0] else None  # a rest between reps
        planned, since_gun = self.job.planned, t
        if hasattr(self.job, "rep_at"):  # a session: the rep running now, on its own clock
            rep = self.job.rep_at(t)
            planned, since_gun = rep.planned, t - rep.gun_s
        if planned is not None:
            distance = min(float(planned.profile.position(max(since_gun, 0.0))), planned.plan.distance_m)
        cue = next((label for f, label in self.marks if f > frame), None)
        return dict(elapsed_s=t, distance_m=distance, cadence_spm=cadence, next_cue=cue)


def program(job, *, every: int = 1, count_in: int = 0) -> Program:
    """What ``stridebeat live`` plays for a job (``job.prepare(..., open_ended=True)``, a preset's or a session's).

    Parameters
    ----------
    job : Job or SessionJob
        A metronome whose schedule is open-ended (``OPEN_ENDED_S`` long) plays until stopped, with a cadence that
        can change; everything else plays its track, as ``render`` writes it.
    every : int
        1: a click on every step; 2: on every second step.
    count_in : int
        Beats of count-in before a metronome (0: none).

    Raises
    ------
    UsageError
        A count-in with a race plan or a session.
    """
    from stridebeat.job import OPEN_ENDED_S

    if every not in (1, 2):
        raise UsageError(f"--every takes step or stride, got {every}")
    metronome = job.planned is None and getattr(job, "reps", None) is None  # a session has reps
    if count_in and not metronome:
        raise UsageError("--count-in goes with --cadence: a race starts with its own start sequence")
    played, steps_s = job, job.schedule.steps_s
    if every == 2:
        sched = job.schedule
        job = replace(job, schedule=replace(sched, steps_s=sched.steps_s[::2], feet=sched.feet[::2]))
    track = job.track()
    sr = track.samplerate
    # A metronome's schedule is k · (60/cadence): its second click is the beat, to the last bit.
    beat_s = float(job.schedule.steps_s[1]) if len(job.schedule.steps_s) > 1 else job.schedule.end_s
    tempo = None
    if metronome and job.schedule.end_s >= OPEN_ENDED_S:
        period = math.lcm(job.sound.accent_every or 1, 2)  # accents and panning repeat with this many beats
        clicks = track.sound_ids == track.sound_ids[0]
        tempo = TempoMetronome(track.sounds[int(track.sound_ids[0])], track.gains[clicks][:period].copy(),
                               samplerate=sr, beat_s=beat_s, origin=track.origin_frame, every=every)
        source: Any = tempo
    else:
        source = _TrackSource(track, max_block=MAX_BLOCK)
    offset = 0
    if count_in:
        source, offset = _with_count_in(source, job.sound, count_in, beat_s)
    marks = tuple((f + offset, label) for f, label in track.marks)
    return Program(source, sr, offset + track.origin_frame, played, steps_s, marks, tempo)


def _with_count_in(source, sound: SoundOptions, beats: int, beat_s: float):
    """``beats`` clicks of another sound, one beat apart, then ``source`` one beat after the last of them."""
    options = replace(sound, click=COUNT_IN_SOUND.get(sound.click, "beep"), accent_every=0, pan=False,
                      lead_in_s=0.0, tail_s=0.0)
    steps = np.arange(beats) * beat_s
    count = build_track(Schedule(steps, np.zeros(beats, dtype=np.int8), (), beats * beat_s), options)
    offset = round(beats * beat_s * sound.samplerate)
    return Sequence(Renderer(count, max_block=MAX_BLOCK), offset, source), offset


# ---------------------------------------------------------------------------------------------------------- devices


@contextlib.contextmanager
def _quiet_c_stderr():
    """Silence file descriptor 2 while PortAudio starts.

    Its start-up probes every ALSA device, and ALSA prints each miss straight to fd 2 ("Unknown PCM cards.pcm.rear",
    …): noise, not errors. Real failures come back as PortAudio error codes and are reported as one line each.
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


def _sounddevice():
    """Import sounddevice, turning a missing PortAudio into one line that says how to install it."""
    try:
        if "sounddevice" in sys.modules:
            import sounddevice
        else:
            with _quiet_c_stderr():
                import sounddevice
    except OSError:
        raise AudioDeviceError("PortAudio is not installed: install it (Debian/Ubuntu: sudo apt-get install "
                               "libportaudio2; macOS: brew install portaudio) to play live; render works without it")
    except ImportError:
        raise AudioDeviceError("python-sounddevice is not installed: pip install sounddevice") from None
    return sounddevice


def output_devices() -> list[dict[str, Any]]:
    """Every output device: index, name, hostapi, channels, samplerate, default."""
    sd = _sounddevice()
    default = sd.default.device[1]
    apis = sd.query_hostapis()
    return [dict(index=d["index"], name=d["name"], hostapi=apis[d["hostapi"]]["name"],
                 channels=d["max_output_channels"], samplerate=int(d["default_samplerate"]),
                 default=d["index"] == default)
            for d in sd.query_devices() if d["max_output_channels"] > 0]


def resolve_device(spec: str | int | None, devices: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The output device ``spec`` names: None for the default, an index, or (part of) a name."""
    devices = output_devices() if devices is None else devices
    if not devices:
        raise AudioDeviceError("no audio output device found: connect a speaker or headphones, and check that the "
                               "sound server (PulseAudio/PipeWire) or ALSA sees it")
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
    args = getattr(exc, "args", ())
    code = args[1] if len(args) > 1 else None
    host = args[2] if len(args) > 2 else None
    name = device["name"]
    if code == PA_DEVICE_UNAVAILABLE or (host and host[1] == EBUSY) or "busy" in str(exc).lower():
        return AudioDeviceError(f"output {name!r} is busy: close the program using it, or pick another output with "
                                "--device (see 'stridebeat devices')")
    if code == PA_INVALID_SAMPLE_RATE:
        return AudioDeviceError(f"output {name!r} does not take {samplerate} Hz: pass --samplerate "
                                f"{device['samplerate']}")
    if code == PA_INVALID_CHANNEL_COUNT:
        return AudioDeviceError(f"output {name!r} has no stereo output: pick another with --device")
    return AudioDeviceError(f"cannot play on {name!r}: {args[0] if args else exc}")


def playable_rate(device: dict[str, Any], samplerate: int, *, explicit: bool) -> int:
    """``samplerate`` if the device takes it, else the device's own rate (unless the user chose the rate)."""
    sd = _sounddevice()
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


# ----------------------------------------------------------------------------------------------------------- player


class Player:
    """Plays a source on an output device until it ends or ``stop()``; use it as a context manager.

    The audio thread writes ``position`` (frames handed to the device) and the counters ``underflows`` and
    ``other_flags``; the main thread reads them, flips ``paused`` and waits on ``done`` (set by the stream's
    ``finished_callback``). Each of these is one attribute written by one side only: no lock is needed.
    """

    def __init__(self, source, *, samplerate: int, device: dict[str, Any] | None = None,
                 latency: float = LATENCY_S):
        self._sd = _sounddevice()
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
        self._stream = None
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
            self._stream = sd.OutputStream(samplerate=self.samplerate, device=index, channels=2, dtype="float32",
                                           latency=self.latency, callback=self._on_audio_thread,
                                           finished_callback=self.done.set)
        except sd.PortAudioError as exc:
            raise self._error(exc) from None
        self._stop_at = self._end_frame(self._stream.latency)
        try:
            self._stream.start()
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
