"""GPX tracks, parsed with ``gpxpy``: positions, times, and the cadence and speed of Garmin's TrackPointExtension."""

from __future__ import annotations

import math
from typing import Any
from xml.etree import ElementTree

from stridebeat.activity.read import Columns, local
from stridebeat.errors import UsageError


def read_gpx(data: bytes, source: str) -> Columns:
    """The track points of a GPX file, numbered by segment (a new segment follows a pause)."""
    import gpxpy  # imported here: only GPX files need it
    import gpxpy.gpx

    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise UsageError(f"{source} is not complete XML ({exc}): export the run as GPX again") from None
    # gpxpy reads any XML, finding no track in a web page; the root says whether it is GPX at all.
    if local(root.tag) != "gpx":
        raise UsageError(f"{source} is not a GPX file (its root is {local(root.tag)}): export the run as GPX")
    try:
        gpx = gpxpy.parse(data.decode("utf-8-sig"))
    except (gpxpy.gpx.GPXException, UnicodeDecodeError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(f"{source} is not a readable GPX file ({reason}): export the run as GPX again") from None
    out = Columns()
    number = 0
    for track in gpx.tracks:
        for segment in track.segments:
            for point in segment.points:
                if point.time is None:
                    continue  # without a time a point gives no speed or rate
                cad, ext_speed = _extension_values(point.extensions)
                speed = point.speed if point.speed is not None else ext_speed
                out.add(
                    point.time,
                    speed=float(speed) if speed is not None and math.isfinite(speed) else math.nan,
                    cadence=cad,
                    position=(float(point.latitude), float(point.longitude)),
                    segment=number,
                )
            number += 1
    return out


def _extension_values(extensions: list[Any]) -> tuple[float, float | None]:
    """(cadence as written or NaN, speed in m/s or None) from a point's TrackPointExtension, v1 or v2."""
    cad, speed = math.nan, None
    for ext in extensions:
        for element in ext.iter():
            name = local(element.tag)
            text = (element.text or "").strip()
            if not text:
                continue
            try:
                value = float(text)
            except ValueError:
                continue
            if name == "cad" and math.isfinite(value):
                cad = value
            elif name == "speed" and math.isfinite(value):
                speed = value
    return cad, speed
