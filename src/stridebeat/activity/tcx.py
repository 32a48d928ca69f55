"""TCX activities (Garmin's Training Center XML), parsed with the standard library's ``xml.etree``.

The most used PyPI reader, python-tcxparser (2.4), returns each field as its own list over the whole file
(``//Cadence`` also matching the laps' averages), so one trackpoint without a value shifts every later value against
its time, and it reads neither ``TPX/Speed`` nor ``TPX/RunCadence``, the two values needed here; the other TCX packages
on PyPI are unmaintained. Expat, which ``xml.etree`` uses, does not fetch external entities and, from 2.4.1, limits
entity expansion.
"""

from __future__ import annotations

import math
from datetime import datetime
from xml.etree import ElementTree

from stridebeat.activity.read import Columns, iso_time, local, number
from stridebeat.errors import UsageError

TCX_NS = "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
TPX_NS = "http://www.garmin.com/xmlschemas/ActivityExtension/v2"
NS = {"t": TCX_NS, "x": TPX_NS}


def read_tcx(data: bytes, source: str) -> Columns:
    """The trackpoints and laps of a TCX activity; UsageError for anything that is not a readable TCX file."""
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise UsageError(f"{source} is not complete XML ({exc}): export the TCX file again") from None
    if root.tag != f"{{{TCX_NS}}}TrainingCenterDatabase":
        raise UsageError(f"{source} is not a Garmin TCX file (its root is {local(root.tag)}): export the run as TCX")
    out = Columns()
    starts: list[datetime] = []
    for lap in root.iterfind(".//t:Lap", NS):
        begin = iso_time(lap.get("StartTime"), source)
        first = len(out.times)
        for point in lap.iterfind(".//t:Trackpoint", NS):
            _point(point, out, source)
        if begin is not None:
            starts.append(begin)
            # A lap ends where the next begins (the button press); the last one at its last trackpoint.
            out.laps.append((begin, out.times[-1] if len(out.times) > first else begin))
    if not starts:  # trackpoints outside any lap (a course, or a hand-made file)
        for point in root.iterfind(".//t:Trackpoint", NS):
            _point(point, out, source)
    for i in range(len(out.laps) - 1):
        out.laps[i] = (out.laps[i][0], out.laps[i + 1][0])
    return out


def _point(point: ElementTree.Element, out: Columns, source: str) -> None:
    stamp = iso_time(point.findtext("t:Time", None, NS), source)
    if stamp is None:
        return
    strides = number(point.findtext("t:Extensions/x:TPX/x:RunCadence", None, NS), source)
    if math.isnan(strides):
        strides = number(point.findtext("t:Cadence", None, NS), source)
    lat = number(point.findtext("t:Position/t:LatitudeDegrees", None, NS), source)
    lon = number(point.findtext("t:Position/t:LongitudeDegrees", None, NS), source)
    out.add(
        stamp,
        distance=number(point.findtext("t:DistanceMeters", None, NS), source),
        speed=number(point.findtext("t:Extensions/x:TPX/x:Speed", None, NS), source),
        cadence=strides,
        position=None if math.isnan(lat) or math.isnan(lon) else (lat, lon),
    )
