"""The settings of how a track sounds: clicks, music and the voice (one value per track; see ``config/setting.py``)."""

from __future__ import annotations

from stridebeat.config.convert import Choice, Duration, HoldRange, Number, OneOf, Paths, Voice, flag
from stridebeat.config.setting import (
    ACCENT_RANGE,
    CUE_LEAD_RANGE_S,
    DEFAULT_TAIL_S,
    DUCK_RANGE_DB,
    MUSIC_BPM_RANGE,
    MUSIC_DUCK_RANGE_DB,
    MUSIC_OFFSET_RANGE_S,
    QUALITIES,
    SAMPLERATES,
    SEED_RANGE,
    SETTLE_RANGE_S,
    SILENCE_MAX_S,
    VOLUME_RANGE_DB,
    Setting,
)
from stridebeat.core.vocabulary import CALLS, CLICK_SOUNDS, VOICE_CHOICES

SOUND_SETTINGS: tuple[Setting, ...] = (
    # How it sounds
    Setting(key="sound", convert=Choice(CLICK_SOUNDS), group="sound", help="Click sound.", default="woodblock"),
    Setting(
        key="accent",
        convert=Number(*ACCENT_RANGE, whole=True),
        group="sound",
        help="Accent every N steps (2: every stride; 0: no accent).",
        default=0,
        metavar="N",
    ),
    Setting(
        key="pan",
        convert=flag,
        group="sound",
        help="Pan each footstrike to the side of the landing foot.",
        default=False,
    ),
    Setting(
        key="volume",
        convert=Number(*VOLUME_RANGE_DB, " dB"),
        group="sound",
        help="Level in dB, -60 to 0.",
        default=0.0,
        metavar="DB",
    ),
    Setting(
        key="split_tone",
        convert=flag,
        group="sound",
        help="Chime at every 100 m (default: only when there is no voice).",
    ),
    Setting(key="gun", convert=flag, group="sound", help="A starter's gun at the start of a race.", default=True),
    Setting(
        key="samplerate",
        convert=OneOf(SAMPLERATES, "supported sample rate"),
        group="sound",
        help="Output sample rate (22050, 32000, 44100, 48000, 88200, 96000).",
        default=44100,
        metavar="HZ",
    ),
    Setting(
        key="quality",
        convert=Choice(QUALITIES),
        group="sound",
        help="Encoding of .ogg and .mp3 files: high keeps the calls as in the WAV; medium and small are smaller files.",
        default="high",
    ),
    Setting(
        key="lead_in",
        convert=Duration(0.0, SILENCE_MAX_S),
        group="sound",
        help="Silence before the gun (default 5 s for a race, 0 for a metronome).",
        metavar="DUR",
    ),
    Setting(
        key="tail",
        convert=Duration(0.0, SILENCE_MAX_S),
        group="sound",
        help="Silence after the finish.",
        default=DEFAULT_TAIL_S,
        metavar="DUR",
    ),
    # Your own music on the beat of the plan (config/music.py; needs the music extra)
    Setting(
        key="music",
        convert=Paths(),
        group="sound",
        help="Your songs, on the beat of the plan: files or folders (a playlist, in name order); repeat the option or "
        "separate them with commas; "
        "needs pip install 'stridebeat[music]' and the rubberband program.",
        metavar="FILE,…",
    ),
    Setting(
        key="music_every",
        convert=Choice(("step", "stride")),
        group="sound",
        help="A beat of the music on every step or every stride (default: whichever needs the smaller stretch).",
    ),
    Setting(
        key="music_bpm",
        convert=Number(*MUSIC_BPM_RANGE),
        group="sound",
        help="The songs' tempo when beat detection fails, e.g. 120.",
        metavar="BPM",
    ),
    Setting(
        key="music_offset",
        convert=Number(*MUSIC_OFFSET_RANGE_S, " s"),
        group="sound",
        help="Time of a song's first beat in seconds, when detection misplaces it.",
        metavar="S",
    ),
    Setting(
        key="music_stretch",
        convert=Choice(("clean", "crisp", "fine")),
        group="sound",
        help="The time-stretch (Rubber Band): clean (R3, short window: held notes as clean as Rubber Band gets), "
        "crisp (R2: the sharpest kicks, phasier held notes) or fine (R3, standard window: several times slower).",
        default="clean",
    ),
    Setting(
        key="music_duck",
        convert=Number(*MUSIC_DUCK_RANGE_DB, " dB"),
        group="sound",
        help="Lower the music by this many dB while a voice speaks (deeper than the clicks' --duck: the music is "
        "louder than the calls).",
        default=20.0,
        metavar="DB",
    ),
    Setting(
        key="music_in_rest",
        convert=Choice(("off", "soft")),
        group="sound",
        help="Music in a session's rests: soft (12 dB lower, unstretched) or off.",
        default="soft",
    ),
    Setting(
        key="clicks",
        convert=Choice(("on", "soft", "off")),
        group="sound",
        help="The footstrike clicks: on, soft (12 dB lower) or off; soft and off only with --music.",
        default="on",
    ),
    # Spoken cues
    Setting(
        key="voice",
        convert=Voice(VOICE_CHOICES),
        group="voice",
        help="Voice of the calls: male, female or joe (shipped; joe is Piper's neural voice), a folder of clips (your "
        "own voice: see 'stridebeat voice words'), or none for a bare click track.",
        metavar="VOICE|FOLDER",
        default="male",
    ),
    Setting(
        key="calls",
        convert=Choice(CALLS),
        group="voice",
        help="What is called at each 100 m: the planned elapsed time, the distance, both, or nothing.",
        default="time",
    ),
    Setting(
        key="call_hold",
        convert=flag,
        group="voice",
        help='Call "hold the rhythm" where the held cadence begins.',
        default=True,
    ),
    Setting(key="call_finish", convert=flag, group="voice", help="Call the finish time.", default=True),
    Setting(
        key="start_sequence",
        convert=flag,
        group="voice",
        help='"On your marks … Set …" before the gun (blocks and standing starts).',
        default=True,
    ),
    Setting(
        key="settle",
        convert=Duration(*SETTLE_RANGE_S),
        group="voice",
        help='Pause between "on your marks" and "set".',
        default=5.0,
        metavar="DUR",
    ),
    Setting(
        key="set_hold",
        convert=HoldRange(),
        group="voice",
        help='Time from "set" to the gun, in seconds, or a range such as 1.5-2.2 for a random hold (start practice).',
        default=(1.75, 1.75),
        metavar="S|LO-HI",
    ),
    Setting(
        key="seed",
        convert=Number(*SEED_RANGE, whole=True),
        group="voice",
        help="Seed for a random --set-hold range (the same seed gives the same hold).",
        metavar="N",
    ),
    Setting(
        key="cue_lead",
        convert=Number(*CUE_LEAD_RANGE_S, " s"),
        group="voice",
        help="Start each call this many seconds before its mark (0: on the mark).",
        default=0.0,
        metavar="S",
    ),
    Setting(
        key="duck",
        convert=Number(*DUCK_RANGE_DB, " dB"),
        group="voice",
        help="Lower the clicks by this many dB while a voice speaks (they never stop).",
        default=10.0,
        metavar="DB",
    ),
)
