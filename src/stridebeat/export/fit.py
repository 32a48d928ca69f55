"""The race plan as a FIT workout file, for the runner's watch.

A FIT workout (FIT file type 5) is a ``file_id`` message, one ``workout`` message and one ``workout_step`` message per
step, encoded with the Encoder of Garmin's official FIT SDK for Python (``garmin-fit-sdk``): it writes the 14-byte
header, the definition and data messages and both CRC-16s, so no FIT byte layout lives in this module.

Units, as the FIT profile (``Profile.xlsx``, mirrored in ``garmin_fit_sdk.profile``) gives them:

* ``workout_step.duration_value`` is a plain uint32 whose meaning follows ``duration_type``: the ``duration_distance``
  sub-field (duration_type ``distance``) has scale 100 and units m, so the raw value is **centimetres**; the
  ``duration_time`` sub-field (duration_type ``time``) has scale 1000 and units s, so the raw value is
  **milliseconds**; the ``duration_step`` sub-field (duration_type ``repeat_until_steps_cmplt``) is the
  ``message_index`` of the first step of the repeated block.
* ``workout_step.target_value`` is the ``repeat_steps`` sub-field for a repeat step (how many times the block runs,
  the first time included), and the ``target_cadence_zone`` sub-field for a cadence target, where 0 means "custom
  range in ``custom_target_value_low``/``high``".
* ``custom_target_cadence_low``/``high`` (sub-fields of ``custom_target_value_low``/``high`` when target_type is
  ``cadence``) are in **rpm**: revolutions, i.e. for running **strides per minute** (one stride = two steps), the same
  unit as ``record.cadence`` in activity files. A plan's cadence is in steps per minute, so the range written is
  steps / 2, widened outwards to whole strides (floor of the low end, ceiling of the high end) so that rounding never
  narrows the band the runner is allowed.

Step names go to ``wkt_step_name``. The Python SDK's profile gives it no fixed size (a variable-length string), but
Garmin's C SDK, the one watches are built on, sizes it at 16 bytes (``FIT_WORKOUT_STEP_MESG_WKT_STEP_NAME_COUNT`` in
``fit_example.h``: 15 characters and the terminating NUL) and watches cut longer names, so step names are limited to
15 bytes of UTF-8 here. ``wkt_name`` is 16 bytes there too (``FIT_WORKOUT_MESG_WKT_NAME_COUNT``); the workout name is
written whole, as Garmin Connect keeps it, and the watch shows its first 15 bytes.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from stridebeat.errors import UsageError

__all__ = [
    "MAX_STEP_NAME_BYTES",
    "Repeat",
    "Workout",
    "WorkoutStep",
    "encode_workout",
    "spm_to_fit_cadence",
    "workout_from_splits",
]

#: Bytes of UTF-8 a step name may take: the C SDK's 16-byte ``wkt_step_name`` less its NUL.
MAX_STEP_NAME_BYTES = 15
#: A cadence target outside this band (steps per minute) is a typo, not a plan: walking is ~100, elite sprinting ~290.
MIN_CADENCE_SPM = 60.0
MAX_CADENCE_SPM = 300.0
# FIT limits: message_index and num_valid_steps are uint16; a workout name is one field of at most 255 bytes.
_MAX_STEPS = 0xFFFF
_MAX_NAME_BYTES = 254

Kind = Literal["run", "rest"]


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkoutStep:
    """One step of the workout: run or rest, ended by a distance, a time, or the lap button when both are None.

    ``cadence_spm`` is the allowed cadence band (low, high) in steps per minute, as the plan gives it.
    """

    name: str
    kind: Kind = "run"
    distance_m: float | None = None
    duration_s: float | None = None
    cadence_spm: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        # Checked here so that a bad step can never reach the encoder, whichever way it was made.
        _check_step_name(self.name)
        if self.kind not in ("run", "rest"):
            raise UsageError(f"step {self.name!r}: kind {self.kind!r} is neither run nor rest: use 'run' or 'rest'")
        if self.distance_m is not None and self.duration_s is not None:
            raise UsageError(f"step {self.name!r} has both a distance and a time: give one of them, or neither")
        if self.distance_m is not None and not (math.isfinite(self.distance_m) and 0 < self.distance_m <= 4e7):
            raise UsageError(
                f"step {self.name!r}: distance {self.distance_m} m is not a positive length: give it in metres"
            )
        if self.duration_s is not None and not (math.isfinite(self.duration_s) and 0 < self.duration_s <= 4e6):
            raise UsageError(f"step {self.name!r}: time {self.duration_s} s is not a positive time: give it in seconds")
        if self.cadence_spm is not None:
            if len(self.cadence_spm) != 2:
                raise UsageError(f"step {self.name!r}: cadence is not a (low, high) pair: give two steps-per-minute")
            low, high = self.cadence_spm
            if not (MIN_CADENCE_SPM <= low <= high <= MAX_CADENCE_SPM):
                raise UsageError(
                    f"step {self.name!r}: cadence {low:g}-{high:g} spm is not a band within "
                    f"{MIN_CADENCE_SPM:g}-{MAX_CADENCE_SPM:g} steps per minute: give (low, high) in steps per minute"
                )


@dataclass(frozen=True, slots=True, kw_only=True)
class Repeat:
    """A block of steps run ``count`` times in all (``count`` ≥ 1; FIT has no nested blocks here)."""

    count: int
    steps: tuple[WorkoutStep, ...]

    def __post_init__(self) -> None:
        if isinstance(self.count, bool) or not isinstance(self.count, int) or not 1 <= self.count <= 0xFFFF:
            raise UsageError(f"repeat count {self.count!r} is not a whole number from 1: give how many times to run it")
        if not self.steps:
            raise UsageError("a repeat block has no steps: give it at least one step")
        if not all(isinstance(s, WorkoutStep) for s in self.steps):
            raise UsageError("a repeat block holds something other than steps: repeats cannot be nested")


@dataclass(frozen=True, slots=True, kw_only=True)
class Workout:
    """A named workout: steps and repeat blocks, in order. A watch shows the first 15 bytes of the name."""

    name: str
    steps: tuple[WorkoutStep | Repeat, ...]

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise UsageError("the workout has no name: give it one")
        if len(self.name.encode("utf-8")) > _MAX_NAME_BYTES:
            raise UsageError(f"the workout name is longer than {_MAX_NAME_BYTES} bytes: shorten it")
        if not self.steps:
            raise UsageError(f"workout {self.name!r} has no steps: give it at least one step")
        if not all(isinstance(s, WorkoutStep | Repeat) for s in self.steps):
            raise UsageError(f"workout {self.name!r} holds something other than steps and repeats: check its steps")
        if _count_messages(self.steps) > _MAX_STEPS:
            raise UsageError(f"workout {self.name!r} has more than {_MAX_STEPS} steps: split it into several")


def spm_to_fit_cadence(low_spm: float, high_spm: float) -> tuple[int, int]:
    """A band in steps per minute → the FIT ``custom_target_cadence_low``/``high`` pair in strides per minute (rpm).

    One stride is two steps, so the values are halved; then floor/ceil so the whole strides still cover the band.
    """
    return math.floor(low_spm / 2.0 + 1e-9), math.ceil(high_spm / 2.0 - 1e-9)


def workout_from_splits(
    name: str,
    splits: list[tuple[float, float, float, bool]],
    tolerance_spm: float = 3.0,
) -> Workout:
    """One distance step per split segment, from the plan's splits.

    Each split is (distance at the mark in m, split time of the segment ending there in s, cadence in steps per minute,
    whether the cadence is held there), as the plan's split rows give them (``distance_m``, ``split_s``,
    ``cadence_spm``, ``held``). A step covers the distance since the previous mark (from the start for the first),
    carries the cadence band ``cadence ± tolerance_spm`` and a name of the mark and the elapsed time due there, e.g.
    ``"200 m 24.5 hold"`` (15 characters at most; shortened for longer marks and times).
    """
    if not splits:
        raise UsageError(f"workout {name!r} has no splits: give at least one split mark")
    if not (math.isfinite(tolerance_spm) and 0 <= tolerance_spm <= 30):
        raise UsageError(f"cadence tolerance {tolerance_spm} spm is not within 0-30: give e.g. 3")
    steps: list[WorkoutStep] = []
    prev_m, elapsed = 0.0, 0.0
    for mark_m, split_s, cadence, held in splits:
        if not (math.isfinite(mark_m) and mark_m > prev_m):
            raise UsageError(f"split mark {mark_m} m does not come after {prev_m:g} m: give marks in increasing order")
        if not (math.isfinite(split_s) and split_s > 0):
            raise UsageError(f"split time {split_s} s at {mark_m:g} m is not positive: give the segment's time")
        elapsed += split_s
        band = (cadence - tolerance_spm, cadence + tolerance_spm)
        steps.append(
            WorkoutStep(
                name=_split_name(mark_m, elapsed, held), kind="run", distance_m=float(mark_m - prev_m), cadence_spm=band
            )
        )
        prev_m = mark_m
    return Workout(name=name, steps=tuple(steps))


def encode_workout(workout: Workout, *, created: datetime | None = None) -> bytes:
    """The whole FIT file for ``workout`` as bytes (header, messages, CRC), made by the SDK's Encoder.

    ``created`` is ``file_id.time_created`` (now by default); it and the name seed ``serial_number`` so that two
    workouts on one watch differ in (type, manufacturer, product, serial number), which the FIT file type asks for.
    """
    # Imported here: only FIT exports need the SDK and its large profile.
    from garmin_fit_sdk import CrcCalculator, Encoder, Profile

    created = created or datetime.now(UTC)
    mesg_num = Profile["mesg_num"]
    encoder = Encoder()
    serial = zlib.crc32(f"{workout.name}\0{created.timestamp()}".encode()) or 1  # uint32z: 0 is "invalid"
    encoder.on_mesg(
        mesg_num["FILE_ID"],
        {
            "type": "workout",
            "manufacturer": "development",
            "product": 0,
            "serial_number": serial,
            "time_created": created,
        },
    )
    records = list(_step_messages(workout.steps))
    encoder.on_mesg(
        mesg_num["WORKOUT"],
        {"sport": "running", "num_valid_steps": len(records), "wkt_name": workout.name},
    )
    for record in records:
        encoder.on_mesg(mesg_num["WORKOUT_STEP"], record)
    return _as_protocol_1(encoder.close(), CrcCalculator.calculate_crc)


def _as_protocol_1(data: bytes, crc: Callable[[bytes, int, int], int]) -> bytes:
    """The file with its header saying FIT protocol 1.0, both CRCs recomputed.

    The SDK's Encoder always declares protocol 2.0, and a decoder that knows only 1.0 (older watches) may refuse a
    2.0 header, while every decoder reads 1.0. A workout uses nothing of 2.0 (no developer fields, no 64-bit types),
    so it declares 1.0, as Garmin's C# workout cookbook does.
    """
    out = bytearray(data)
    out[1] = 0x10  # protocol version: major 1, minor 0
    out[12:14] = crc(bytes(out), 0, 12).to_bytes(2, "little")
    out[-2:] = crc(bytes(out), 0, len(out) - 2).to_bytes(2, "little")
    return bytes(out)


def _check_step_name(name: str) -> None:
    if not name.strip():
        raise UsageError("a workout step has no name: give each step a short name")
    if len(name.encode("utf-8")) > MAX_STEP_NAME_BYTES:
        raise UsageError(
            f"step name {name!r} is longer than the {MAX_STEP_NAME_BYTES} characters a watch shows: shorten it"
        )


def _count_messages(steps: tuple[WorkoutStep | Repeat, ...]) -> int:
    return sum(1 if isinstance(s, WorkoutStep) else len(s.steps) + 1 for s in steps)


def _step_messages(steps: tuple[WorkoutStep | Repeat, ...]) -> list[dict[str, Any]]:
    """The ``workout_step`` messages in order; a repeat block is its steps, then a step that loops back to them."""
    out: list[dict[str, Any]] = []
    for item in steps:
        if isinstance(item, WorkoutStep):
            out.append(_step_message(item, len(out)))
            continue
        first = len(out)
        for step in item.steps:
            out.append(_step_message(step, len(out)))
        out.append(
            {
                "message_index": len(out),
                "duration_type": "repeat_until_steps_cmplt",
                "target_type": "open",
                "duration_value": first,
                "target_value": item.count,
            }
        )
    return out


def _step_message(step: WorkoutStep, index: int) -> dict[str, Any]:
    # Raw values of the main fields: the SDK's Encoder matches fields by their main name only, so the sub-field scales
    # (cm for distance, ms for time) are applied here.
    mesg: dict[str, Any] = {
        "message_index": index,
        "wkt_step_name": step.name,
        "intensity": "active" if step.kind == "run" else "rest",
    }
    if step.distance_m is not None:
        mesg.update(duration_type="distance", duration_value=round(step.distance_m * 100))
    elif step.duration_s is not None:
        mesg.update(duration_type="time", duration_value=round(step.duration_s * 1000))
    else:
        mesg.update(duration_type="open")  # ended by the lap button
    if step.cadence_spm is not None:
        low, high = spm_to_fit_cadence(*step.cadence_spm)
        mesg.update(target_type="cadence", target_value=0, custom_target_value_low=low, custom_target_value_high=high)
    else:
        # As Garmin's workout cookbook writes an untargeted step: open, with zero values rather than invalid ones.
        mesg.update(target_type="open", target_value=0, custom_target_value_low=0, custom_target_value_high=0)
    return mesg


def _split_name(mark_m: float, elapsed_s: float, held: bool) -> str:
    """The step name, e.g. "200 m 24.5 hold", shortened step by step until it fits the watch's 15 characters."""
    minutes, tenths = divmod(round(elapsed_s * 10), 600)
    t = f"{minutes}:{tenths / 10:04.1f}" if minutes else f"{tenths / 10:.1f}"
    d = f"{mark_m:g}"
    tags = (" hold", " H") if held else ("",)
    for name in [f"{d} m {t}{tag}" for tag in tags] + [f"{d}m {t}{tag}" for tag in tags] + [f"{d}m {t}"]:
        if len(name) <= MAX_STEP_NAME_BYTES:
            return name
    return f"{d}m"[:MAX_STEP_NAME_BYTES]
