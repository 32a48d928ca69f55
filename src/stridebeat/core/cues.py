"""One table per cue kind: whether the chime stands in for it, where it goes in a phrase, what it says, whether a
cue lead moves it, and whether it belongs to a session's rest.

Every module asks this table (``KINDS[cue.kind]``) instead of naming kinds: a new call is one ``CueKind`` in
``core/vocabulary.py`` and one row here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stridebeat.core.vocabulary import Calls, CueKind

if TYPE_CHECKING:
    from stridebeat.core.schedule import Cue
    from stridebeat.core.speech import VoiceOptions

Words = Callable[["Cue", "VoiceOptions"], list[str]]


@dataclass(frozen=True, slots=True, kw_only=True)
class KindInfo:
    """How one kind of cue sounds."""

    chimed: bool  # without a voice, the chime stands in for it
    say_rank: int  # order inside a phrase of cues at the same moment (lower first)
    words: Words  # the voice's tokens for the cue (the voice speaks; empty: silent)
    leadable: bool = False  # spoken relative to a mark: a cue lead moves it earlier
    rest_call: bool = False  # a call of a session's rest


def _command(phrase: str) -> Words:
    def words(cue: Cue, options: VoiceOptions) -> list[str]:
        from stridebeat.core import voice

        return voice.command_words(phrase)

    return words


def _hold(cue: Cue, options: VoiceOptions) -> list[str]:
    # "hold" alone, then the split time: the recogniser heard it more often than "hold the rhythm" first.
    return _command("hold")(cue, options) if options.call_hold else []


def _rep(cue: Cue, options: VoiceOptions) -> list[str]:
    from stridebeat.core import voice

    return voice.rep_words(int(cue.value), cue.of) if cue.value is not None and cue.of is not None else []


def _split(cue: Cue, options: VoiceOptions) -> list[str]:
    from stridebeat.core import voice

    said = []
    if options.calls in (Calls.DISTANCE, Calls.BOTH) and cue.distance_m is not None:
        said += voice.distance_words(cue.distance_m)
    if options.calls in (Calls.TIME, Calls.BOTH) and cue.value is not None:
        said += voice.time_words(cue.value)
    return said


def _finish(cue: Cue, options: VoiceOptions) -> list[str]:
    from stridebeat.core import voice

    return voice.time_words(cue.value) if options.call_finish and cue.value is not None else []


def _rest(cue: Cue, options: VoiceOptions) -> list[str]:
    from stridebeat.core import voice

    return voice.command_words("rest") + voice.duration_words(cue.value) if cue.value is not None else []


def _remaining(cue: Cue, options: VoiceOptions) -> list[str]:
    from stridebeat.core import voice

    return voice.duration_words(cue.value) if cue.value is not None else []


def _countdown(cue: Cue, options: VoiceOptions) -> list[str]:
    from stridebeat.core import voice

    return voice.countdown_words(int(cue.value)) if cue.value is not None else []


def _silent(cue: Cue, options: VoiceOptions) -> list[str]:
    return []


# say_rank: "hold" before "split": the hold word is the call to act on at that very step, so it starts on the hold
# point and the time follows it. The gun says nothing and sorts last.
KINDS: dict[CueKind, KindInfo] = {
    CueKind.REP: KindInfo(chimed=False, say_rank=0, words=_rep),
    CueKind.MARKS: KindInfo(chimed=False, say_rank=1, words=_command("on your marks")),
    CueKind.SET: KindInfo(chimed=False, say_rank=2, words=_command("set")),
    CueKind.HOLD: KindInfo(chimed=False, say_rank=3, words=_hold, leadable=True),
    CueKind.SPLIT: KindInfo(chimed=True, say_rank=4, words=_split, leadable=True),
    CueKind.FINISH: KindInfo(chimed=True, say_rank=5, words=_finish, leadable=True),
    CueKind.REST: KindInfo(chimed=True, say_rank=6, words=_rest, rest_call=True),
    CueKind.REMAINING: KindInfo(chimed=True, say_rank=7, words=_remaining, rest_call=True),
    CueKind.NEXT: KindInfo(chimed=True, say_rank=8, words=_command("next rep"), rest_call=True),
    CueKind.COUNTDOWN: KindInfo(chimed=True, say_rank=9, words=_countdown, rest_call=True),
    CueKind.GUN: KindInfo(chimed=False, say_rank=10, words=_silent),
}
