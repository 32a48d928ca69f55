"""FIT activities, decoded with Garmin's FIT SDK (``garmin_fit_sdk``): records and laps."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, cast

from stridebeat.activity.read import Columns
from stridebeat.errors import UsageError

RUNNING_SPORTS = {"running", "generic", "training", "walking", "hiking"}
SEMICIRCLE_DEG = 180.0 / 2**31  # FIT positions are in semicircles: 2^31 of them to 180 degrees


def read_fit(data: bytes, source: str) -> Columns:
    """The records and laps of a FIT activity; UsageError for anything that is not a readable run."""
    messages = _decode(data, source)
    sports = {m.get("sport") for m in messages.get("session_mesgs", []) + messages.get("sport_mesgs", [])}
    sports.discard(None)
    if sports and not sports & RUNNING_SPORTS:
        raise UsageError(f"{source} is a {'/'.join(sorted(map(str, sports)))} activity: give a run")
    out = Columns()
    for record in messages.get("record_mesgs", []):
        stamp = record.get("timestamp")
        if not isinstance(stamp, datetime):
            continue  # a record without a time cannot be placed; devices write one in every record
        lat, lon = record.get("position_lat"), record.get("position_long")
        position = None
        if isinstance(lat, int | float) and isinstance(lon, int | float):
            position = (lat * SEMICIRCLE_DEG, lon * SEMICIRCLE_DEG)
        out.add(
            stamp,
            distance=_scalar(record.get("distance"), "distance", source),
            speed=_scalar(record.get("enhanced_speed", record.get("speed")), "speed", source),
            cadence=_cadence(record, source),
            position=position,
        )
    for lap in messages.get("lap_mesgs", []):
        begin, end = lap.get("start_time"), lap.get("timestamp")
        if isinstance(begin, datetime) and isinstance(end, datetime):
            out.laps.append((begin, end))
    return out


def _decode(data: bytes, source: str) -> dict[str, list[dict[str, Any]]]:
    # Imported here: only FIT files need the SDK and its large profile.
    from garmin_fit_sdk import Decoder, Stream

    if not Decoder(Stream.from_byte_array(bytearray(data))).is_fit():
        raise UsageError(f"{source} is not a FIT file: export the activity's original FIT file")
    if not Decoder(Stream.from_byte_array(bytearray(data))).check_integrity():
        raise UsageError(f"{source} is corrupt or truncated (its FIT checksum fails): copy it from the watch again")
    messages, errors = Decoder(Stream.from_byte_array(bytearray(data))).read()
    if errors:
        reason = str(errors[0]).splitlines()[0] if str(errors[0]) else type(errors[0]).__name__
        raise UsageError(f"{source} cannot be decoded ({reason}): copy it from the watch again")
    return cast("dict[str, list[dict[str, Any]]]", messages)


def _cadence(record: dict[str, Any], source: str) -> float:
    """Strides per minute: whole plus fractional cadence, or cadence256."""
    whole = _scalar(record.get("cadence"), "cadence", source)
    if not math.isnan(whole):
        fraction = _scalar(record.get("fractional_cadence"), "cadence", source)
        return whole + (0.0 if math.isnan(fraction) else fraction)
    return _scalar(record.get("cadence256"), "cadence", source)


def _scalar(value: Any, name: str, source: str) -> float:
    """One number of a record; NaN where there is none. The FIT profile makes these fields single values: a file
    whose definition gives one several (an array) is refused rather than read by guessing which one counts."""
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float):
        what = "a list of values" if isinstance(value, list | tuple) else type(value).__name__
        raise UsageError(
            f"{source} has a record whose {name} is {what}, not one number: "
            "export the activity's original FIT file from the watch"
        )
    return float(value) if math.isfinite(value) else math.nan
