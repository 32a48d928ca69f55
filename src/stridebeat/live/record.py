"""Recording a voice of one's own with the computer's microphone, one word at a time.

For each word: show it, count in, record a take, make it a clip (``stridebeat.core.clips.prepare_recording``: trimmed
to the speech, levelled to the shipped voices' loudness), play it back, and let the coach keep it, take it again, skip
it or stop. A kept clip is written whole or not at all (``stridebeat.atomic.atomic_file``), so an interrupt (Ctrl-C)
keeps every clip saved before it and leaves no part of the one being made.

The terminal side (showing, asking) is passed in by the command, so this module only records, plays and saves.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w

from stridebeat.atomic import atomic_file, write_text
from stridebeat.core.clips import (
    CLIP_RATE,
    VOICE_FILE,
    check_folder,
    clip_name,
    clip_problem,
    prepare_recording,
    wav_bytes,
)
from stridebeat.errors import AudioDeviceError, UsageError
from stridebeat.live.devices import sounddevice_module


class Answer(StrEnum):
    """What the coach does with a take."""

    KEEP = "k"
    RETAKE = "r"
    SKIP = "s"
    QUIT = "q"


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordOptions:
    """How each word is recorded.

    ``seconds``: the length of a take; ``count_in``: numbers shown (one every ``beat_s``) before it starts;
    ``samplerate``: the microphone's rate; ``device``: the input and playback device (None: the defaults), an index
    or (part of) a name; ``play_back``: play each take before asking; ``redo``: record words that already have a
    usable clip too.
    """

    seconds: float = 2.5
    count_in: int = 3
    beat_s: float = 0.6
    samplerate: int = 48000
    device: str | int | None = None
    play_back: bool = True
    redo: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.seconds) and 0.5 <= self.seconds <= 10.0):
            raise UsageError(f"--seconds {self.seconds:g} is out of range: give 0.5 to 10 s")
        if not 0 <= self.count_in <= 10:
            raise UsageError(f"--count-in {self.count_in} is out of range: give 0 to 10")


@dataclass(slots=True)
class Session:
    """What a recording session did so far (it stays right after an interrupt)."""

    saved: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)


def _device(sd: Any, spec: str | int | None) -> int | None:
    """The index of the device ``spec`` names among those with an input, or None for the default input."""
    if spec is None:
        return None
    inputs = [d for d in sd.query_devices() if d["max_input_channels"] > 0]
    text = str(spec).strip()
    if text.isdigit():
        found = [d for d in inputs if d["index"] == int(text)]
    else:
        found = [d for d in inputs if d["name"].lower() == text.lower()]
        found = found or [d for d in inputs if text.lower() in d["name"].lower()]
    if len(found) != 1:
        what = "no input device" if not found else "several input devices match"
        raise AudioDeviceError(
            f"{what} {text!r}: give part of its name or its index ('python -m sounddevice' lists them)"
        )
    return int(found[0]["index"])


def _take(sd: Any, options: RecordOptions, device: int | None) -> np.ndarray:
    frames = round(options.seconds * options.samplerate)
    try:
        take = sd.rec(frames, samplerate=options.samplerate, channels=1, dtype="float32", device=device)
        sd.wait()
    except sd.PortAudioError as exc:
        raise AudioDeviceError(f"cannot record from the microphone: {exc.args[0] if exc.args else exc}") from None
    return np.asarray(take, dtype=np.float32)


def _play(sd: Any, clip: np.ndarray, device: int | None) -> None:
    try:
        sd.play(clip, samplerate=CLIP_RATE, device=device)
        sd.wait()
    except sd.PortAudioError as exc:
        raise AudioDeviceError(f"cannot play the take back: {exc.args[0] if exc.args else exc}") from None


def save_clip(path: Path, clip: np.ndarray) -> None:
    """Write one clip whole or not at all (a temporary file renamed over ``path``)."""
    with atomic_file(path, replace=True, binary=True) as (fh, _):
        fh.write(wav_bytes(clip))


def _record_word(
    sd: Any,
    token: str,
    *,
    options: RecordOptions,
    device: int | None,
    say: Callable[[str], None],
    ask: Callable[[str], str],
) -> tuple[Answer, np.ndarray]:
    """Takes of one word until the coach keeps, skips or quits: (answer, the clip kept)."""
    while True:
        for n in range(options.count_in, 0, -1):
            say(f"  {n}…")
            time.sleep(options.beat_s)
        say("  recording: speak now")
        clip = prepare_recording(_take(sd, options, device), options.samplerate)
        problem = "nothing was heard" if not len(clip) else clip_problem(clip)
        if len(clip) and options.play_back:
            _play(sd, clip, device)
        verdict = f"  {len(clip) / CLIP_RATE:.2f} s, " + ("usable" if problem is None else f"not usable: {problem}")
        say(verdict)
        choices = "[k]eep, [r]etake, [s]kip, [q]uit" if problem is None else "[r]etake, [s]kip, [q]uit"
        answer = ask(f"  {choices}?").strip().lower()[:1] or (Answer.KEEP if problem is None else Answer.RETAKE)
        if answer == Answer.KEEP and problem is None:
            return Answer.KEEP, clip
        if answer in (Answer.SKIP, Answer.QUIT):
            return Answer(answer), clip


def record_voice(
    folder: Path,
    tokens: list[str],
    *,
    options: RecordOptions,
    say: Callable[[str], None],
    ask: Callable[[str], str],
    session: Session,
) -> Session:
    """Record ``tokens`` into ``folder`` (created if missing), one clip each; ``session`` records the progress.

    Raises
    ------
    AudioDeviceError
        No microphone, or the device cannot record or play.
    OutputError
        The folder or a clip cannot be written.
    """
    sd = sounddevice_module()
    device = _device(sd, options.device)
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / VOICE_FILE).exists():
        about = {"name": folder.name, "licence": "recorded by its owner"}
        write_text(folder / VOICE_FILE, tomli_w.dumps(about), replace=False)
    usable = {c.token for c in check_folder(folder, tokens) if c.problem is None}
    todo = [t for t in tokens if options.redo or t not in usable]
    session.already.extend(t for t in tokens if t not in todo)
    for i, token in enumerate(todo, 1):
        say(f'[{i}/{len(todo)}] say: "{token}"')
        answer, clip = _record_word(sd, token, options=options, device=device, say=say, ask=ask)
        if answer == Answer.QUIT:
            break
        if answer == Answer.SKIP:
            session.skipped.append(token)
            continue
        save_clip(folder / clip_name(token), clip)
        session.saved.append(token)
    return session
