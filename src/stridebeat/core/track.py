"""From a schedule to a track: which sound starts on which sample, at what gain in each ear.

A track is a sorted list of events plus the sounds they point at. It holds no audio of its own, so a 60-minute track
costs a few hundred kilobytes however long it is; the renderer turns any block of it into samples on demand.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from stridebeat.core import sounds
from stridebeat.core.cues import KINDS
from stridebeat.core.peaks import true_peak
from stridebeat.core.schedule import Schedule
from stridebeat.core.vocabulary import CueKind
from stridebeat.errors import UsageError

CEILING = 10 ** (-1.0 / 20.0)  # −1 dBFS: headroom for lossy encoders, whose decoded peaks overshoot
SAMPLERATES = (22050, 32000, 44100, 48000, 88200, 96000)
MAX_TRACK_S = 24 * 3600.0  # the longest track: a day of audio
PAN_FAR = 0.35  # gain of a footstrike in the opposite ear when panning follows the feet
# Voice clips are loudness-matched with phrase peaks of 0.15–0.5, clicks peak at 0.7: +6 dB puts speech on top of the
# rhythm (the master level then keeps the sum under −1 dBFS), which the offline recogniser needs to hear every tenth.
SPEECH_GAIN = 2.0
# How a lossy file (.ogg, .mp3) is encoded; export/audio.py maps each to an encoder setting.
QUALITIES = ("high", "medium", "small")


@dataclass(frozen=True, slots=True, kw_only=True)
class SoundOptions:
    """How the schedule sounds: click, accents, panning, level, rate and the silence around the run."""

    click: str = sounds.DEFAULT_CLICK
    accent_every: int = 0  # 0: no accent; 2: every stride (every second step); N: every N steps
    pan: bool = False  # left/right panning that follows the feet
    volume_db: float = 0.0  # ≤ 0
    split_tone: bool = True  # a chime at each 100 m (until spoken cues replace it)
    gun: bool = True
    samplerate: int = 44100
    lead_in_s: float | None = None  # default: 5 s before a race's gun, none before a metronome
    tail_s: float = 2.0
    quality: str = "high"  # one of QUALITIES

    def __post_init__(self) -> None:
        if self.quality not in QUALITIES:
            raise UsageError(f"unknown quality {self.quality!r}: use one of {', '.join(QUALITIES)}")
        if self.click not in sounds.CLICKS:
            raise UsageError(f"unknown sound {self.click!r}: use one of {', '.join(sounds.CLICKS)}")
        if self.samplerate not in SAMPLERATES:
            rates = ", ".join(str(r) for r in SAMPLERATES)
            raise UsageError(f"sample rate {self.samplerate} is not supported: use one of {rates}")
        if not (0 <= self.accent_every <= 64):
            raise UsageError(f"--accent {self.accent_every} is out of range: give 0 (off), 2 (every stride) up to 64")
        if not (math.isfinite(self.volume_db) and -60.0 <= self.volume_db <= 0.0):
            raise UsageError(f"--volume {self.volume_db:g} dB is out of range: give -60 to 0 dB")
        for name in ("lead_in_s", "tail_s"):
            val = getattr(self, name)
            if val is not None and not (math.isfinite(val) and 0 <= val <= 600):
                raise UsageError(f"--{name[:-2].replace('_', '-')} {val:g} s is out of range: give 0 to 600 s")


Mark = tuple[int, str]  # (frame, label): what markers, chapters and label tracks show


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Track:
    """Events on a sample grid. ``origin_frame`` is the frame of schedule time 0 (the gun)."""

    samplerate: int
    n_frames: int
    origin_frame: int
    onsets: np.ndarray  # int64, sorted
    sound_ids: np.ndarray  # index into ``sounds``
    gains: np.ndarray  # float32 (n_events, 2)
    sounds: tuple[np.ndarray, ...]  # mono float32
    marks: tuple[Mark, ...] = ()  # gun, splits, hold, finish, reps, rests (``track_marks``)
    quality: str = "high"  # how a lossy file of it is encoded (SoundOptions.quality); rendering ignores it

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.samplerate

    @property
    def max_sound_frames(self) -> int:
        return max((len(s) for s in self.sounds), default=0)

    def frame_of(self, t_s: float) -> int:
        """The frame of schedule time ``t_s``: each time is rounded on its own, never accumulated."""
        return self.origin_frame + int(round(t_s * self.samplerate))


def _peak_bound(onsets: np.ndarray, lengths: np.ndarray, weights: np.ndarray) -> float:
    """An upper bound of the mix's peak: the largest sum of peak levels of sounds that overlap in time."""
    if len(onsets) == 0:
        return 0.0
    pos = np.concatenate([onsets, onsets + lengths])
    delta = np.concatenate([weights, -weights])
    # At equal positions the end of one sound comes before the start of the next: they do not overlap.
    order = np.lexsort((delta, pos))
    return float(np.max(np.cumsum(delta[order])))


def lead_in_s(schedule: Schedule, options: SoundOptions | None = None) -> float:
    """The silence before schedule time 0 in the audio: ``options.lead_in_s``, or by default 5 s before a race's gun
    (2 s before the first command of a longer start sequence) and none before a metronome.

    Raises
    ------
    UsageError
        A lead-in too short for the start sequence's first command.
    """
    options = options or SoundOptions()
    race = any(c.kind == CueKind.GUN for c in schedule.cues)
    earliest = min((c.t_s for c in schedule.cues), default=0.0)
    lead_in = options.lead_in_s if options.lead_in_s is not None else (max(5.0, 2.0 - earliest) if race else 0.0)
    if int(round(lead_in * options.samplerate)) + int(round(earliest * options.samplerate)) < 0:
        raise UsageError(
            f"the lead-in of {lead_in:g} s is too short for the start sequence ({-earliest:.2f} s): "
            "give a longer --lead-in"
        )
    return lead_in


def origin_frame(schedule: Schedule, options: SoundOptions | None = None) -> int:
    """The frame of schedule time 0 (the gun, or the first click) in the audio: the lead-in on the sample grid."""
    options = options or SoundOptions()
    return int(round(lead_in_s(schedule, options) * options.samplerate))


def track_marks(schedule: Schedule, origin: int, samplerate: int) -> tuple[Mark, ...]:
    """Every cue's mark (its frame, at the moment it marks whatever its call's lead, and its text)."""
    return tuple((origin + int(round(c.at_s * samplerate)), c.text) for c in schedule.cues)


class _Events:
    """The track's events as they are gathered: one array per group, the sound bank they point into."""

    def __init__(self, origin: int, samplerate: int) -> None:
        self.origin, self.sr = origin, samplerate
        self.bank: list[np.ndarray] = []
        self.onsets: list[np.ndarray] = []
        self.ids: list[np.ndarray] = []
        self.gains: list[np.ndarray] = []

    def frame(self, t_s: float) -> int:
        return self.origin + int(round(t_s * self.sr))

    def place(self, t_s: float, audio: np.ndarray, gain: tuple[float, float]) -> None:
        self.bank.append(audio)
        self.onsets.append(np.array([self.frame(t_s)], dtype=np.int64))
        self.ids.append(np.array([len(self.bank) - 1], dtype=np.intp))
        self.gains.append(np.array([gain], dtype=float))

    def sorted(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        onsets, ids, gains = np.concatenate(self.onsets), np.concatenate(self.ids), np.concatenate(self.gains)
        order = np.argsort(onsets, kind="stable")
        return onsets[order], ids[order], gains[order]


def _clicks(events: _Events, schedule: Schedule, options: SoundOptions) -> None:
    """The footstrikes: sound 0 of the bank, accented and panned as asked."""
    events.bank.append(sounds.click(options.click, events.sr))
    events.onsets.append(events.origin + np.round(schedule.steps_s * events.sr).astype(np.int64))
    events.ids.append(np.zeros(len(schedule.steps_s), dtype=np.intp))
    level = np.full(len(schedule.steps_s), sounds.PLAIN_GAIN if options.accent_every else sounds.ACCENT_GAIN)
    if options.accent_every:
        level[:: options.accent_every] = sounds.ACCENT_GAIN
    if options.pan:
        # Foot 0 in the right ear, foot 1 in the left: the runner hears the foot that is landing.
        right = schedule.feet == 0
        events.gains.append(
            np.stack([np.where(right, PAN_FAR, 1.0), np.where(right, 1.0, PAN_FAR)], axis=1) * level[:, None]
        )
    else:
        events.gains.append(np.stack([level, level], axis=1))


def _signals(events: _Events, schedule: Schedule, options: SoundOptions) -> None:
    """The gun, and the chime where it stands in for a call (``KindInfo.chimed``)."""
    chime = sounds.split_tone(events.sr) if options.split_tone else None
    for cue in schedule.cues:
        if cue.kind == CueKind.GUN and options.gun:
            events.place(cue.t_s, sounds.gun(events.sr), (1.0, 1.0))
        elif KINDS[cue.kind].chimed and chime is not None:
            events.place(cue.t_s, chime, (1.0, 1.0))


def _speech(events: _Events, speech: Iterable[tuple[float, np.ndarray]], duck_db: float) -> None:
    """The spoken cues, centre, and the clicks under them lowered by ``duck_db``."""
    spoken = []
    for t_s, audio in speech:
        events.place(t_s, audio, (SPEECH_GAIN, SPEECH_GAIN))
        start = events.frame(t_s)
        spoken.append((start, start + len(audio)))
    if spoken and duck_db > 0:
        # A click is lowered when its onset falls inside a phrase: find the last phrase starting before it, and
        # compare with the running maximum of phrase ends (an earlier, longer phrase may still be sounding).
        spoken.sort()
        starts = np.array([a for a, _ in spoken])
        ends = np.maximum.accumulate(np.array([b for _, b in spoken]))
        click_on = events.onsets[0]
        k = np.searchsorted(starts, click_on, side="right") - 1
        under = (k >= 0) & (click_on < ends[np.maximum(k, 0)])
        events.gains[0][under] *= 10 ** (-duck_db / 20.0)


def build_track(
    schedule: Schedule,
    options: SoundOptions | None = None,
    *,
    speech: Iterable[tuple[float, np.ndarray]] = (),
    duck_db: float = 0.0,
) -> Track:
    """Turn a schedule into a track.

    Parameters
    ----------
    schedule : Schedule
        Step and cue times.
    options : SoundOptions, optional
        Sounds, levels and the sample rate (the defaults when omitted).
    speech : iterable of (t_s, mono float32 array)
        Spoken cues, placed centre, on the same clock; the clicks under them are lowered by ``duck_db``.
    duck_db : float
        How far clicks that sound while a voice speaks are lowered (they are never removed: the rhythm is the point).

    Returns
    -------
    Track
        Its master level is set so that the mix never exceeds −1 dBFS; schedule time 0 is at ``origin_frame``.

    Raises
    ------
    UsageError
        A lead-in too short for the start sequence (``lead_in_s``).
    """
    options = options or SoundOptions()
    sr = options.samplerate
    origin = origin_frame(schedule, options)
    events = _Events(origin, sr)
    _clicks(events, schedule, options)
    _signals(events, schedule, options)
    _speech(events, speech, duck_db)
    onsets, ids, gains = events.sorted()

    lengths = np.array([len(s) for s in events.bank])[ids]
    peaks = np.array([true_peak(s) for s in events.bank])[ids]  # the ceiling holds between samples too
    volume = 10 ** (options.volume_db / 20.0)
    bound = _peak_bound(onsets, lengths, peaks * np.max(gains, axis=1) * volume) if len(ids) else 0.0
    master = volume * min(1.0, CEILING / bound) if bound > 0 else volume

    # The tail follows the finish, or the last sound if one rings past it (the finish call), so nothing is cut off.
    end = events.frame(schedule.end_s)
    if len(onsets):
        end = max(end, int(np.max(onsets + lengths)))
    return Track(
        samplerate=sr,
        n_frames=int(end + int(round(options.tail_s * sr))),
        origin_frame=origin,
        onsets=onsets,
        sound_ids=ids,
        gains=(gains * master).astype(np.float32),
        sounds=tuple(events.bank),
        marks=track_marks(schedule, origin, sr),
        quality=options.quality,
    )
