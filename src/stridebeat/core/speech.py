"""Spoken cues: which words each cue says, the start sequence before the gun, and the speech placed on the clock.

Speech starts exactly on its cue's time (or ``cue_lead_s`` before a mark when the runner wants a warning), so the
timeline's cue times are the speech onsets in the audio. The words come from ``stridebeat.core.voice`` (shipped clips).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from itertools import groupby

import numpy as np

from stridebeat.core.cues import KINDS
from stridebeat.core.schedule import Cue, Schedule
from stridebeat.core.vocabulary import STARTS_WITH_COMMANDS, Calls, CueKind
from stridebeat.errors import UsageError


@dataclass(frozen=True, slots=True, kw_only=True)
class VoiceOptions:
    voice: str = "male"  # a shipped voice (core.vocabulary.VOICES), a folder of clips, or "none"
    calls: str = Calls.TIME  # at each 100 m: time, distance, both, none (Calls)
    call_hold: bool = True
    call_finish: bool = True
    start_sequence: bool = True
    settle_s: float = 5.0
    set_hold_s: tuple[float, float] = (1.75, 1.75)
    seed: int | None = None
    cue_lead_s: float = 0.0
    # 10 dB leaves the calls at least +6 dB over the clicks in every band from 300 Hz to 4 kHz (bench/listen.py prints
    # the figures), and every click within 12 dB of its normal level.
    duck_db: float = 10.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.settle_s) and 1.0 <= self.settle_s <= 60.0):
            raise UsageError(f"--settle {self.settle_s:g} s is out of range: give 1 to 60 s")
        if not (math.isfinite(self.cue_lead_s) and 0.0 <= self.cue_lead_s <= 5.0):
            raise UsageError(f"--cue-lead {self.cue_lead_s:g} s is out of range: give 0 to 5 s")
        if not (math.isfinite(self.duck_db) and 0.0 <= self.duck_db <= 20.0):
            raise UsageError(f"--duck {self.duck_db:g} dB is out of range: give 0 to 20 dB")

    @property
    def speaks(self) -> bool:
        return self.voice != "none"

    def set_hold(self) -> float:
        """The hold after "set": fixed, or drawn from the range (seeded, so a render can be repeated)."""
        lo, hi = self.set_hold_s
        if lo == hi:
            return lo
        return round(random.Random(self.seed).uniform(lo, hi), 3)


def with_start_sequence(schedule: Schedule, options: VoiceOptions, start: str) -> Schedule:
    """Add "On your marks" and "Set" before the gun of a race started from blocks or standing."""
    has_gun = any(c.kind == CueKind.GUN for c in schedule.cues)
    if not (options.speaks and options.start_sequence and has_gun and start in STARTS_WITH_COMMANDS):
        return schedule
    hold = options.set_hold()
    commands = (
        Cue(t_s=-(hold + options.settle_s), kind=CueKind.MARKS, text="on your marks"),
        Cue(t_s=-hold, kind=CueKind.SET, text="set", value=hold),
    )
    return replace(schedule, cues=tuple(sorted(commands + schedule.cues, key=lambda c: c.t_s)))


def with_lead(schedule: Schedule, options: VoiceOptions) -> Schedule:
    """Move calls that belong to a mark ``cue_lead_s`` earlier: the runner hears the call as they reach the mark.

    Start commands are fixed to the gun and countdowns to the next start, so they never move (``KindInfo.leadable``).
    """
    if options.cue_lead_s == 0:
        return schedule
    cues = tuple(
        replace(c, t_s=c.t_s - options.cue_lead_s, mark_s=c.at_s) if KINDS[c.kind].leadable else c
        for c in schedule.cues
    )
    return replace(schedule, cues=tuple(sorted(cues, key=lambda c: c.t_s)))


def words_for(cue: Cue, options: VoiceOptions) -> list[str]:
    """The vocabulary tokens a cue says under ``options`` (empty: silent): its kind's words (``core/cues.py``)."""
    return KINDS[cue.kind].words(cue, options) if options.speaks else []


def speech_events(schedule: Schedule, options: VoiceOptions, samplerate: int) -> list[tuple[float, np.ndarray]]:
    """(time, mono audio) of every spoken cue; the audio's first sample is the speech onset.

    Cues at the same moment are said as one phrase, in their kinds' ``say_rank`` (at 200 m: "hold", then the split
    time), so two calls never talk over each other and the phrase still starts on its mark, where the markers of its
    cues sit.
    """
    if not options.speaks:
        return []
    from stridebeat.core.voice import VoiceBank

    calls: list[tuple[float, list[str]]] = []
    for _, same_moment in groupby(schedule.cues, key=lambda c: round(c.t_s, 6)):
        group = sorted(same_moment, key=lambda c: KINDS[c.kind].say_rank)
        tokens = [w for c in group for w in words_for(c, options)]
        if tokens:
            calls.append((group[0].t_s, tokens))
    check_voice_words(options.voice, calls)
    bank = VoiceBank(options.voice, samplerate)
    bank.load(w for _, tokens in calls for w in tokens)  # every clip of the track in one resampler run
    return [(t_s, bank.phrase(tokens)) for t_s, tokens in calls]


def check_voice_words(voice: str, calls: list[tuple[float, list[str]]]) -> None:
    """Refuse a voice folder of one's own that lacks a word these calls say, naming every such word (UsageError, key
    ``voice``), before any clip is loaded or audio rendered."""
    from stridebeat.core.voice import require_clips

    require_clips(voice, (w for _, tokens in calls for w in tokens))
