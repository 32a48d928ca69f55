"""The core's own words, which settings, presets and the command line offer as choices.

Each vocabulary is a ``StrEnum``: a member is its word (``Start.BLOCKS == "blocks"``, and JSON writes it as
``"blocks"``). The tuples beside them (``STARTS`` …) hold the plain words, in the enum's order, for the settings'
choices: click 8.2 and later match ``Enum`` choices by member *name* (``BLOCKS``), so the choices stay strings.
"""

from enum import StrEnum


class Start(StrEnum):
    BLOCKS = "blocks"
    STANDING = "standing"
    ROLLING = "rolling"


class Strategy(StrEnum):
    """race: the shape published races have; even: constant pace after the start; custom: the runner's own splits."""

    RACE = "race"
    EVEN = "even"
    CUSTOM = "custom"


class ClickSound(StrEnum):
    WOODBLOCK = "woodblock"
    TICK = "tick"
    BEEP = "beep"


class Calls(StrEnum):
    """What is said at each 100 m: the planned elapsed time, the distance, both, or nothing."""

    TIME = "time"
    DISTANCE = "distance"
    BOTH = "both"
    NONE = "none"


class Level(StrEnum):
    """The reference races' levels: world class, national, junior, masters."""

    WORLD = "world"
    NATIONAL = "national"
    JUNIOR = "junior"
    MASTERS = "masters"


class Sex(StrEnum):
    """The sexes the race model is fitted for."""

    M = "M"
    F = "F"


class CueKind(StrEnum):
    """What a cue announces; ``stridebeat.core.cues.KINDS`` says how each sounds (chime, words, order)."""

    MARKS = "marks"  # start commands, before the gun
    SET = "set"
    GUN = "gun"
    SPLIT = "split"  # value: the planned elapsed time
    HOLD = "hold"  # the start of the held cadence
    FINISH = "finish"  # value: the planned elapsed time
    REST = "rest"  # value: the rest's length
    REMAINING = "remaining"  # value: seconds of rest left
    COUNTDOWN = "countdown"  # value: the count
    NEXT = "next"  # the next rep's start is coming
    REP = "rep"  # a rep begins (value: its number, of: how many)


class MusicBeat(StrEnum):
    """Where a song's beat lands: on every step, or on every stride (every second step)."""

    STEP = "step"
    STRIDE = "stride"


class RestMusic(StrEnum):
    """The music in a session's rests: the next songs, unstretched and softer, or none."""

    SOFT = "soft"
    OFF = "off"


class ClickLevel(StrEnum):
    """The footstrike clicks under music: at their level, 12 dB lower, or gone."""

    ON = "on"
    SOFT = "soft"
    OFF = "off"


class Stretcher(StrEnum):
    """Rubber Band's settings for the music (``stridebeat.music.stretch.ENGINES``)."""

    CLEAN = "clean"
    CRISP = "crisp"
    FINE = "fine"


def _words(vocabulary: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in vocabulary)


STARTS = _words(Start)
STARTS_WITH_COMMANDS = (Start.BLOCKS.value, Start.STANDING.value)  # "on your marks", "set" before the gun
STRATEGIES = _words(Strategy)
CLICK_SOUNDS = _words(ClickSound)
VOICES = ("female", "male", "joe")
VOICE_CHOICES = (*VOICES, "none")  # "none": a bare click track
CALLS = _words(Calls)
LEVELS = _words(Level)
SEXES = _words(Sex)
CUE_KINDS = _words(CueKind)
MUSIC_BEATS = _words(MusicBeat)
REST_MUSIC = _words(RestMusic)
CLICK_LEVELS = _words(ClickLevel)
STRETCHERS = _words(Stretcher)
