"""The settings of the race plan, the stride and the plain metronome (the table; see ``config/setting.py``)."""

from __future__ import annotations

from stridebeat.config.convert import Choice, Duration, Number, Percent, Share, Splits, Text, Time, flag
from stridebeat.config.setting import (
    CADENCE_RANGE_SPM,
    DEFAULT_TAIL_S,
    DIFFERENTIAL_RANGE_S,
    DISTANCE_RANGE_M,
    HEIGHT_RANGE_M,
    HOLD_RANGE_M,
    MAX_SPEED_RANGE,
    MAX_TIME_S,
    MAX_TRACK_S,
    REACTION_RANGE_S,
    STEP_LENGTH_RANGE_M,
    STEPS_RANGE,
    Setting,
)
from stridebeat.core.vocabulary import SEXES, STARTS, STRATEGIES

PLAN_SETTINGS: tuple[Setting, ...] = (
    # The race plan
    Setting(
        key="distance",
        convert=Number(*DISTANCE_RANGE_M, " m"),
        group="plan",
        help="Race or rep distance in metres, 100 to 1000.",
        default=400.0,
        metavar="M",
    ),
    Setting(
        key="time",
        convert=Time(MAX_TIME_S),
        group="plan",
        help="Target time: 51, 51.0, 0:51.0 or 1:05.3 (default 51 s for 400 m).",
        metavar="TIME",
    ),
    Setting(
        key="start",
        convert=Choice(STARTS),
        group="plan",
        help="blocks (reaction + acceleration), standing, or rolling (already at speed).",
        default="blocks",
    ),
    Setting(
        key="strategy",
        convert=Choice(STRATEGIES),
        group="plan",
        help="race: realistic splits (first 200 m ≈ 48 % of the time); even: constant pace after the start; "
        "custom: your --splits.",
        default="race",
    ),
    Setting(
        key="splits",
        convert=Splits(),
        group="plan",
        help="Custom splits per 100 m, e.g. 12.2,11.9,12.6,14.3 (implies --strategy custom).",
        metavar="S1,S2,…",
    ),
    Setting(
        key="splits_from",
        convert=Text("a file name"),
        group="plan",
        help="Custom splits from a file: a CSV of 100 m splits (or elapsed times), or the JSON of 'stridebeat plan "
        "--json' (replay your own race).",
        metavar="FILE",
    ),
    Setting(
        key="like",
        convert=Text("a race name"),
        group="plan",
        help="Pace it like a race of the library, scaled to --time (its own time without): e.g. van-niekerk-2016 "
        "('stridebeat races' lists them).",
        metavar="RACE",
    ),
    Setting(
        key="reaction",
        convert=Number(*REACTION_RANGE_S, " s"),
        group="plan",
        help="Reaction time out of the blocks in seconds, 0.1 to 0.4, e.g. 0.16 (default 0.15; with --like, the "
        "race's own where it is published).",
        metavar="S",
    ),
    Setting(
        key="sex",
        convert=Choice(SEXES),
        group="plan",
        help="M or F: the default 400 m shape, and the level a time implies (without it, the men's bands).",
    ),
    Setting(
        key="first_half",
        convert=Share(),
        group="plan",
        help="Share of the time spent in the first half, e.g. 48% or 0.48 (race strategy).",
        metavar="SHARE",
    ),
    Setting(
        key="differential",
        convert=Number(*DIFFERENTIAL_RANGE_S, " s"),
        group="plan",
        help="Seconds the second half is slower than the first, e.g. 2.0 (race strategy).",
        metavar="S",
    ),
    Setting(
        key="intensity",
        convert=Percent(),
        group="plan",
        help="Run at this share of a reference speed instead of a --time, e.g. 85% (with --reference-time or "
        "--max-speed): 500 m at 85% of a 51.0 s 400 m takes 500 / (400 / 51.0 × 0.85) = 75.0 s.",
        metavar="PCT",
    ),
    Setting(
        key="reference_time",
        convert=Time(MAX_TIME_S),
        group="plan",
        help="The athlete's race time that --intensity refers to, e.g. 51.0.",
        metavar="TIME",
    ),
    Setting(
        key="reference_distance",
        convert=Number(*DISTANCE_RANGE_M, " m"),
        group="plan",
        help="The distance of that reference race, in metres.",
        default=400.0,
        metavar="M",
    ),
    Setting(
        key="max_speed",
        convert=Number(*MAX_SPEED_RANGE, " m/s"),
        group="plan",
        help="A maximum speed in m/s that --intensity refers to (instead of a race).",
        metavar="M/S",
    ),
    Setting(
        key="allow_faster_than_record",
        convert=flag,
        group="plan",
        help="Accept a target faster than the world record.",
        default=False,
    ),
    # The stride model
    Setting(
        key="steps_per_100m",
        convert=Number(*STEPS_RANGE),
        group="stride",
        help="Steps you take per 100 m at race pace, 35 to 80 (counted: most reliable).",
        metavar="N",
    ),
    Setting(
        key="step_length",
        convert=Number(*STEP_LENGTH_RANGE_M, " m"),
        group="stride",
        help="Your step length at race pace, 1.25 to 2.9 m.",
        metavar="M",
    ),
    Setting(
        key="height",
        convert=Number(*HEIGHT_RANGE_M, " m"),
        group="stride",
        help="Your height, 1.2 to 2.3 m (a rough estimate of step length).",
        metavar="M",
    ),
    Setting(
        key="stride",
        convert=Text("a stride profile name"),
        group="stride",
        help="Your stride profile, saved by 'stridebeat calibrate RUN --save NAME' from a recorded run.",
        metavar="NAME",
    ),
    Setting(
        key="hold_last",
        convert=Number(*HOLD_RANGE_M, " m"),
        group="stride",
        help="Hold the cadence constant through the last this many metres, starting after the first 100 m (0 turns "
        "it off; default 200 m, or half of a shorter distance).",
        metavar="M",
    ),
    # The metronome (instead of a race plan)
    Setting(
        key="cadence",
        convert=Number(*CADENCE_RANGE_SPM, " spm"),
        group="metronome",
        help="Plain metronome at this many steps per minute, 120 to 300 (no race plan).",
        metavar="SPM",
    ),
    Setting(
        key="allow_any_cadence",
        convert=flag,
        group="metronome",
        help="Accept a metronome cadence outside 120–300 spm (30 to 400, for drills).",
        default=False,
    ),
    Setting(
        key="duration",
        convert=Duration(1.0, MAX_TRACK_S, longest="the longest track (24 h)", most=MAX_TRACK_S - DEFAULT_TAIL_S),
        group="metronome",
        help="Length of a metronome track: 90s, 5m, 20m, 1:30.",
        metavar="DUR",
    ),
)
