"""The JSON API for the page and for scripts: plan, timeline, render, tracks, presets, stride profiles.

Every setting is passed to the public API as the keyword it names (the form's fields are the settings' keys), so the
server validates nothing itself: the API's ``UsageError`` comes back as one line with the field it is about.
"""

from __future__ import annotations

import json
import os
import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

import stridebeat
from stridebeat.errors import PresetError, UsageError
from stridebeat.serve.bridge import TrackFormat
from stridebeat.serve.cache import TrackCache, check_id, track_id
from stridebeat.serve.renders import RenderQueue

router = APIRouter()
# Settings that name files on the server: a page must not make the server read its disk.
FILE_SETTINGS = ("splits_from", "music")
VOICE_NAME = re.compile(r"[a-z]+")
MEDIA_TYPES = {TrackFormat.MP3: "audio/mpeg", TrackFormat.WAV: "audio/wav", TrackFormat.FIT: "application/vnd.ant.fit"}
MAX_WAIT_S = 2.0  # the longest a status request is held open
Value = StrictStr | StrictBool | StrictInt | StrictFloat


class PlanBody(BaseModel):
    """A plan: a preset (optional) and settings on top, keyed as the CLI's options without dashes."""

    model_config = ConfigDict(extra="forbid")
    preset: StrictStr | None = Field(default=None, max_length=200)
    settings: dict[str, Value] = Field(default_factory=dict, examples=[{"time": "51", "steps_per_100m": 46}])


class RenderBody(PlanBody):
    format: TrackFormat = TrackFormat.MP3


class SaveBody(PlanBody):
    name: StrictStr = Field(max_length=200)
    description: StrictStr = Field(default="", max_length=500)
    force: bool = False


def _preset(name: str | None) -> str | None:
    if name is None or name == "":
        return None
    try:
        return stridebeat.check_preset_name(name)
    except PresetError as exc:
        raise PresetError(str(exc), key="preset") from None


def _settings(settings: dict[str, Any]) -> dict[str, Any]:
    for key in FILE_SETTINGS:
        if key in settings:
            raise UsageError(f"{key}: the page cannot use files on the server; use the command line for it", key=key)
    voice = settings.get("voice")
    # A shipped voice by its name; a folder of clips names files on the server, as music and splits do.
    if isinstance(voice, str) and voice and (not VOICE_NAME.fullmatch(voice) or os.path.isdir(voice)):
        raise UsageError(
            "voice: the page takes the shipped voices by name; a folder of your own is for the command line",
            key="voice",
        )
    return {k: v for k, v in settings.items() if v != ""}


def _job(body: PlanBody) -> tuple[str | None, dict[str, Any], stridebeat.Job]:
    preset, settings = _preset(body.preset), _settings(body.settings)
    return preset, settings, stridebeat.build_job(preset, **settings)


def _name(preset: str | None, data: dict[str, Any]) -> str:
    if preset is not None:
        return preset
    if "target_time_s" in data:
        return f"{data['distance_m']:g} m in {data['target_time_s']:.1f} s"
    return "stridebeat"


def _jsonable(data: Any) -> Any:
    return json.loads(json.dumps(data, default=str))


@router.post("/api/plan", tags=["plan"])
def plan(body: PlanBody) -> dict[str, Any]:
    """The plan's splits and calls (``stridebeat plan --json`` without the steps) and its name."""
    preset, _, job = _job(body)
    data = stridebeat.timeline(job)
    data.pop("steps", None)
    return {"name": _name(preset, data), "plan": data}


@router.post("/api/timeline", tags=["plan"])
def timeline(body: PlanBody) -> dict[str, Any]:
    """The whole timeline: ``stridebeat plan --json`` (every step and cue, times from the gun)."""
    return stridebeat.timeline(_job(body)[2])


@router.post("/api/render", status_code=202, tags=["render"])
def render(body: RenderBody, request: Request) -> dict[str, Any]:
    """Render (or find) the track; poll ``/api/render/{id}``; the finished track is at its ``url``."""
    preset, settings, job = _job(body)
    data = stridebeat.timeline(job)
    text = stridebeat.load_preset(preset).text if preset is not None else None
    recipe = {"v": stridebeat.__version__, "preset": text, "settings": settings, "format": body.format, "plan": data}
    queue: RenderQueue = request.app.state.queue
    state = queue.submit(track_id(recipe), fmt=body.format, name=_name(preset, data), job=job)
    return state.as_json()


@router.get("/api/render/{tid}", tags=["render"])
def render_status(tid: str, request: Request, wait: Annotated[float, Query(ge=0, le=MAX_WAIT_S)] = 0) -> dict[str, Any]:
    """A render's status and progress (0 to 1), and its ``url`` when done; ``wait`` (seconds) answers as soon as
    the render ends, or after that long with the progress, so a page hears of the end at once without polling."""
    state = request.app.state.queue.get(check_id(tid))
    if state is None:
        return _missing(tid)
    state.ended.wait(wait)
    return state.as_json()


@router.delete("/api/render/{tid}", tags=["render"])
def cancel_render(tid: str, request: Request) -> dict[str, Any]:
    """Cancel a queued or running render (nothing of it is kept)."""
    state = request.app.state.queue.cancel(check_id(tid))
    if state is None:
        return _missing(tid)
    return state.as_json()


def _missing(tid: str) -> Any:
    return JSONResponse({"error": f"no render {tid}: render the plan again", "field": None}, status_code=404)


@router.get("/tracks/{filename}", tags=["render"], response_model=None)
def track(filename: str, request: Request, download: Annotated[bool, Query()] = False) -> FileResponse | JSONResponse:
    """A rendered file (``<id>.mp3``, ``.wav`` or ``.fit``); ``?download=1`` saves it under the plan's name."""
    tid, _, ext = filename.partition(".")
    cache: TrackCache = request.app.state.cache
    found = cache.find(check_id(tid))
    if found is None or found[0].suffix != f".{ext}":
        return _missing(tid)
    path, meta = found
    fmt = TrackFormat(ext)
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", str(meta.get("name") or "stridebeat")).strip("-.") or "stridebeat"
    name = f"{slug}.{ext}" if download else None
    return FileResponse(path, media_type=MEDIA_TYPES[fmt], filename=name)


@router.get("/api/presets", tags=["presets"])
def presets() -> list[dict[str, Any]]:
    """Every built-in and user preset; a broken one with its error."""
    out = []
    for entry in stridebeat.list_presets():
        preset = entry.preset
        out.append(
            {
                "name": entry.name,
                "kind": preset.kind if preset is not None else "broken",
                "builtin": entry.builtin,
                "shadowed": entry.shadowed,
                "description": preset.description.strip().split("\n")[0] if preset is not None else "",
                "error": entry.error,
            }
        )
    return out


@router.get("/api/presets/{name}", tags=["presets"])
def preset(name: str) -> dict[str, Any]:
    """One preset: its kind, description and settings (a session: its session-wide settings and its reps)."""
    found = stridebeat.load_preset(_preset(name) or "")
    return {
        "name": found.name,
        "kind": found.kind,
        "builtin": found.builtin,
        "description": found.description,
        "values": _jsonable(found.values),
        "reps": [{"label": r.label, "values": _jsonable(r.values), "rest_after_s": r.rest_after_s} for r in found.reps],
    }


@router.post("/api/presets", status_code=201, tags=["presets"])
def save(body: SaveBody) -> dict[str, Any]:
    """Save the settings (on top of ``preset``, a rep preset) as your preset ``name``."""
    try:
        name = stridebeat.check_preset_name(body.name)
    except PresetError as exc:
        raise PresetError(str(exc), key="name") from None
    values = stridebeat.preset_settings(_preset(body.preset), _settings(body.settings))
    if not values:
        raise UsageError("nothing to save: fill in the plan first (a target time, a distance …)", key="name")
    stridebeat.save_preset(name, description=body.description, force=body.force, **values)
    return {"name": name, "saved": True}


@router.delete("/api/presets/{name}", tags=["presets"])
def delete(name: str) -> dict[str, Any]:
    """Delete your preset ``name`` (built-in presets stay)."""
    stridebeat.delete_preset(_preset(name) or "")
    return {"name": name, "deleted": True}


@router.get("/api/strides", tags=["presets"])
def strides() -> dict[str, list[str]]:
    """The saved stride profiles (``stridebeat calibrate --save NAME``), for the ``stride`` setting."""
    return {"profiles": stridebeat.stride_profiles()}
