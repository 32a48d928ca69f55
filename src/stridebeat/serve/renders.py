"""Renders for the page: at most a few at a time, a bounded queue behind them, each one cancellable.

A render runs in a worker thread through ``bridge.render_track``; its progress callback reports frames and raises
``Cancelled`` when the page (or the server stopping) cancels it, which makes the render remove its staged file and
publish nothing. A request for a track already rendered or already on its way joins that render.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from stridebeat.errors import StridebeatError
from stridebeat.serve.bridge import TrackFormat, render_track
from stridebeat.serve.cache import TrackCache

if TYPE_CHECKING:
    from stridebeat import Job

log = logging.getLogger("stridebeat.serve")
KEEP_FINISHED = 64  # finished renders remembered in memory (the cache's records outlive them)


class RenderStatus(StrEnum):
    QUEUED = "queued"
    RENDERING = "rendering"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE = (RenderStatus.QUEUED, RenderStatus.RENDERING)


class Busy(StridebeatError):
    """Every render slot and queue place is taken (HTTP 429)."""


class Cancelled(Exception):
    """Raised from the progress callback to stop a render."""


@dataclass(kw_only=True, eq=False)
class RenderState:
    """One render as the page polls it (mutable: the worker updates it under the queue's lock)."""

    id: str
    format: TrackFormat
    name: str
    status: RenderStatus = RenderStatus.QUEUED
    done_frames: int = 0
    total_frames: int = 0
    error: str | None = None
    gun_offset_s: float | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)  # set once the render is done, failed or stopped
    started_at: float | None = None  # time.monotonic() when a worker took it
    elapsed_s: float | None = None  # from then until it ended

    def end(self, status: RenderStatus, error: str | None = None) -> None:
        if self.started_at is not None:
            self.elapsed_s = time.monotonic() - self.started_at
        self.status, self.error = status, error
        self.ended.set()

    def as_json(self) -> dict[str, Any]:
        progress = self.done_frames / self.total_frames if self.total_frames else 0.0
        if self.status is RenderStatus.DONE:
            progress = 1.0
        return {
            "id": self.id,
            "format": self.format.value,
            "name": self.name,
            "status": self.status.value,
            "progress": round(progress, 4),
            "error": self.error,
            "gun_offset_s": self.gun_offset_s,
            "elapsed_s": None if self.elapsed_s is None else round(self.elapsed_s, 3),
            "url": f"/tracks/{self.id}.{self.format.value}" if self.status is RenderStatus.DONE else None,
        }


class RenderQueue:
    """``workers`` renders at once and ``max_waiting`` more queued; beyond that ``submit`` raises ``Busy``."""

    def __init__(self, cache: TrackCache, *, workers: int = 2, max_waiting: int = 4) -> None:
        self.cache = cache
        self.max_waiting = max_waiting
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stridebeat-render")
        self._lock = threading.Lock()
        self._states: dict[str, RenderState] = {}

    def submit(self, tid: str, *, fmt: TrackFormat, name: str, job: Job) -> RenderState:
        """The render of track ``tid``: finished, joined, or newly queued.

        Parameters
        ----------
        tid : str
            The track's id (``cache.track_id`` of everything that makes its bytes).
        fmt : TrackFormat
            What to write.
        name : str
            The plan's name (download file names, the lock screen).
        job : Job
            What to render, from ``stridebeat.build_job``.

        Returns
        -------
        RenderState
            Its state, updated by the worker as the render runs.

        Raises
        ------
        Busy
            Every render slot and every queue place is taken.
        """
        with self._lock:
            state = self._states.get(tid)
            if state is not None and state.status in (*ACTIVE, RenderStatus.DONE):
                if state.status is not RenderStatus.DONE or self.cache.find(tid) is not None:
                    return state
            found = self.cache.find(tid)
            if found is not None:
                return self._remember(_finished(tid, found[1]))
            waiting = sum(s.status is RenderStatus.QUEUED for s in self._states.values())
            if waiting >= self.max_waiting:
                raise Busy("the server is busy with other renders: try again in a minute")
            state = self._remember(RenderState(id=tid, format=fmt, name=name))
        self._pool.submit(self._run, state, job)
        return state

    def get(self, tid: str) -> RenderState | None:
        with self._lock:
            state = self._states.get(tid)
        if state is not None and state.status is not RenderStatus.DONE:
            return state
        found = self.cache.find(tid)  # a finished track counts only while its file is in the cache
        if found is None:
            return None
        return state if state is not None else _finished(tid, found[1])

    def cancel(self, tid: str) -> RenderState | None:
        """Stop a queued or running render; a finished one stays as it is."""
        with self._lock:
            state = self._states.get(tid)
            if state is not None and state.status in ACTIVE:
                state.cancel.set()
                if state.status is RenderStatus.QUEUED:
                    state.end(RenderStatus.CANCELLED)
        return state

    def shutdown(self) -> None:
        """Cancel everything and wait for the workers, so no staged file outlives the server."""
        with self._lock:
            for state in self._states.values():
                state.cancel.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _remember(self, state: RenderState) -> RenderState:
        self._states[state.id] = state
        finished = [k for k, s in self._states.items() if s.status not in ACTIVE]
        for key in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._states[key]
        return state

    def _run(self, state: RenderState, job: Job) -> None:
        if state.cancel.is_set():
            state.end(RenderStatus.CANCELLED)
            return
        state.status, state.started_at = RenderStatus.RENDERING, time.monotonic()

        def progress(done: int, total: int) -> None:
            state.done_frames, state.total_frames = done, total
            if state.cancel.is_set():
                raise Cancelled

        try:
            path = self.cache.path(state.id, state.format)
            gun = render_track(job, path, kind=state.format, name=state.name, progress=progress)
            record = {"format": state.format.value, "name": state.name, "gun_offset_s": gun, "time": time.time()}
            self.cache.record(state.id, record)
        except Cancelled:
            state.end(RenderStatus.CANCELLED)
            return
        except StridebeatError as exc:
            state.end(RenderStatus.FAILED, str(exc))
            return
        except Exception:  # a bug must not kill the worker silently: the page hears of it, the log has the trace
            log.exception("render %s failed", state.id)
            state.end(RenderStatus.FAILED, "the render failed (see the server's log)")
            return
        state.gun_offset_s = gun
        state.end(RenderStatus.DONE)
        with self._lock:
            keep = {k for k, s in self._states.items() if s.status in ACTIVE} | {state.id}
        self.cache.trim(keep=keep)


def _finished(tid: str, meta: dict[str, Any]) -> RenderState:
    fmt, name = TrackFormat(meta["format"]), str(meta.get("name", ""))
    state = RenderState(id=tid, format=fmt, name=name, gun_offset_s=meta.get("gun_offset_s"))
    state.end(RenderStatus.DONE)
    return state
