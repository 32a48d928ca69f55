"""The server's door: the access token under ``--lan``, the Host check on loopback, the request body limit, and the
headers that keep the page to its own origin. Plain ASGI, so it wraps every route, static files included.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "stridebeat_token"
HEADER = b"x-stridebeat-token"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]"}
# Everything the page loads comes from this server: no CDN, no font service, no tracker.
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; media-src 'self' blob:; img-src 'self' data:; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),  # the token in the address must not travel to another site
    (b"x-frame-options", b"DENY"),
]


class Guard:
    """Wraps ``app``: refuses requests without ``token`` (when set), foreign Host headers (when ``loopback_only``),
    and bodies over ``max_body`` bytes; adds the security headers and, after a good token in the address, a cookie
    that carries it for the page's own requests."""

    def __init__(self, app: ASGIApp, *, token: str | None, loopback_only: bool, max_body: int) -> None:
        self.app = app
        self.token = token
        self.loopback_only = loopback_only
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        if self.loopback_only and not _loopback_host(headers.get(b"host", b"")):
            await _refuse(send, 421, "this server answers only at 127.0.0.1 or localhost: open it there")
            return
        from_query = False
        if self.token is not None:
            given, from_query = _token_of(scope, headers)
            if given is None or not secrets.compare_digest(given.encode(), self.token.encode()):
                await _refuse(send, 403, "this address needs its access token: open the address with ?token=… "
                              "that 'stridebeat serve --lan' printed")  # fmt: skip
                return
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await _refuse(send, 413, f"the request is too large: at most {self.max_body // 1024} kB")
            return
        body = await self._read_body(receive)
        if body is None:
            await _refuse(send, 413, f"the request is too large: at most {self.max_body // 1024} kB")
            return
        cookie = self._cookie() if from_query else None

        async def replay() -> Message:
            return body.pop(0) if body else await receive()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Server-Timing: the server's own time for the request (the bench reads it; browsers show it).
                took = f"app;dur={(time.perf_counter() - started) * 1e3:.1f}".encode()
                extra = [*SECURITY_HEADERS, (b"server-timing", took), *([(b"set-cookie", cookie)] if cookie else [])]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, replay, send_with_headers)

    async def _read_body(self, receive: Receive) -> list[Message] | None:
        """The request's body messages, read whole before the app sees them (they are small), or None when they
        pass the limit: a body sent without a Content-Length is counted as it arrives."""
        messages: list[Message] = []
        seen = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages
            seen += len(message.get("body", b""))
            if seen > self.max_body:
                return None
            if not message.get("more_body", False):
                return messages

    def _cookie(self) -> bytes:
        # The token is URL-safe base64, a valid cookie value as it is.
        return f"{COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict".encode()


def _loopback_host(host: bytes) -> bool:
    text = host.decode("latin-1").lower()
    name = text.split("]", 1)[0] + "]" if text.startswith("[") else text.split(":", 1)[0]
    return name in LOOPBACK_HOSTS


def _token_of(scope: Scope, headers: dict[bytes, bytes]) -> tuple[str | None, bool]:
    """(the token the request carries, whether it came in the address)."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if query.get("token"):
        return query["token"][0], True
    if HEADER in headers:
        return headers[HEADER].decode("latin-1"), False
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(headers.get(b"cookie", b"").decode("latin-1"))
    except Exception:  # a malformed Cookie header is no token, not a server error
        return None, False
    return (cookies[COOKIE].value, False) if COOKIE in cookies else (None, False)


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message, "field": None}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *SECURITY_HEADERS]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
