"""HTTP hardening around every route: request-size limit, security headers, and the
503 a request gets when a store is full (``docs/security.md``).

:class:`BodyLimit` and :class:`SecurityHeaders` are pure ASGI middleware (not
``BaseHTTPMiddleware``, which would buffer and copy every body): they see each message
once and add nothing per request but a few header bytes.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callcenter.api.errors import error_body
from callcenter.errors import UserError
from callcenter.storage.failures import StoreFailure, storage_failure

log = logging.getLogger("callcenter.server")


# --- request size -----------------------------------------------------------------------


class _TooLargeError(HTTPException):
    """The body passed the limit while the application was reading it. An
    ``HTTPException``: FastAPI re-raises those from its body parsing (any other error
    there becomes a 400), and the error handlers answer it in the JSON shape."""

    def __init__(self, message: str) -> None:
        super().__init__(413, message, headers={"Connection": "close"})


async def _send_json(
    send: Send,
    status: int,
    body: dict[str, object],
    *,
    close: bool,
    extra: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    data = orjson.dumps(body)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    headers += list(extra)
    if close:  # the rest of the body is never read: the connection cannot be reused
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


class BodyLimit:
    """Refuse request bodies larger than ``max_bytes`` with 413 (the JSON error shape).

    A ``Content-Length`` above the limit is refused before the application runs or a
    byte of the body is read; a body without one (chunked) is counted as it arrives and
    refused as soon as the count passes the limit. Starlette's own
    ``RequestBodyLimitMiddleware`` (only in recent versions) runs the handler before it
    looks at ``Content-Length`` and answers in plain text, hence this one.

    Paths under one of ``public`` (prefix → headers) get those headers on the 413 too:
    the chat widget on another site reads the error only with its CORS headers.

    Exact paths in ``larger`` (path → (bytes, setting)) get their own limit instead,
    named by its setting in the 413: a prompt upload (``ivr_prompt_max_bytes``) may be
    larger than any JSON body, without widening the limit for every other route.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        public: dict[str, dict[str, str]] | None = None,
        larger: dict[str, tuple[int, str]] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.public = {
            prefix: [(k.lower().encode(), v.encode()) for k, v in headers.items()]
            for prefix, headers in (public or {}).items()
        }
        self.larger = dict(larger or {})

    def _limit(self, scope: Scope) -> tuple[int, str]:
        return self.larger.get(scope.get("path", ""), (self.max_bytes, "max_body_bytes"))

    def _message(self, scope: Scope) -> str:
        limit, setting = self._limit(scope)
        return f"request body too large: at most {limit} bytes ({setting})"

    async def _refuse(self, scope: Scope, send: Send) -> None:
        path: str = scope.get("path", "")
        extra = next((h for p, h in self.public.items() if path.startswith(p)), [])
        body = error_body(413, self._message(scope))
        await _send_json(send, 413, body, close=True, extra=extra)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)[0]
        length = _content_length(scope)
        if length is not None and length > limit:
            await self._refuse(scope, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLargeError(self._message(scope))
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLargeError:
            if started:
                raise
            await self._refuse(scope, send)
        except BaseExceptionGroup as group:  # raised in a task group (e.g. a stream)
            if started or group.split(_TooLargeError)[1] is not None:
                raise
            await self._refuse(scope, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


# --- security headers -------------------------------------------------------------------

# The pages load only the server's own scripts and styles (no inline <script>, <style>
# or style="" attribute: templates link static/*.js and static/*.css), talk only to this
# server (fetch and WebSocket: CSP 3's 'self' covers ws:/wss: to the same host), and are
# never framed.
PAGE_CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# The customer chat page: the widget draws itself in a shadow root with its own <style>
# (static/widget.js), and the page may be framed by the customer's own site (the widget
# is embedded on other sites: api/chat.py answers CORS for any origin).
CHAT_CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors *"
)
# Swagger UI (/docs) sets style attributes and inline SVG images from its own script.
DOCS_CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_COMMON: Final = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)


# Pages that carry the agent's softphone when voice is on (static/phone.js).
VOICE_PAGES: Final = frozenset({"/agent", "/wallboard"})
_WS_ORIGIN: Final = re.compile(
    r"(wss?)://([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?(?:/[^\s;,']*)?"
)


def voice_csp(csp: str, ws_url: str) -> str:
    """``csp`` opened for the softphone: ``connect-src`` also allows the origin of
    ``ws_url``, the SIP-over-WebSocket of Asterisk (``ws://host:port/ws``), which is
    another origin than the page's. Nothing else is needed: the call's audio arrives
    as a ``MediaStream`` set as an ``<audio>``'s ``srcObject`` (no URL, so no
    ``media-src``), and WebRTC's own connections are not governed by CSP. Raises
    :class:`UserError` naming ``ws_url`` when it is not a ``ws://`` or ``wss://`` URL."""
    match = _WS_ORIGIN.fullmatch(ws_url)
    port = match and match.group(3)
    if match is None or (port is not None and not 0 < int(port) < 65536):
        raise UserError(
            f"voice WebSocket URL {ws_url!r} is not a ws:// or wss:// URL "
            "(expected e.g. ws://127.0.0.1:8088/ws)"
        )
    origin = f"{match.group(1)}://{match.group(2)}" + (f":{port}" if port else "")
    parts = [part.strip() for part in csp.split(";")]
    if not any(part.startswith("connect-src ") for part in parts):
        parts.append("connect-src 'self'")
    opened = [f"{part} {origin}" if part.startswith("connect-src ") else part for part in parts]
    return "; ".join(opened)


def csp_for(path: str, voice_ws_url: str | None = None) -> tuple[str, bool]:
    """The Content-Security-Policy for ``path`` and whether it may be framed; with
    ``voice_ws_url`` (voice on), the softphone's pages may reach it (:func:`voice_csp`)."""
    if path == "/chat":
        return CHAT_CSP, True
    if path == "/docs" or path.startswith("/docs/"):
        return DOCS_CSP, False
    if voice_ws_url is not None and path in VOICE_PAGES:
        return voice_csp(PAGE_CSP, voice_ws_url), False
    return PAGE_CSP, False


class SecurityHeaders:
    """Add the security headers to every HTTP response (pages, API, static files,
    errors): ``Content-Security-Policy``, ``X-Frame-Options: DENY`` (not on the chat
    page), ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: no-referrer``
    (a URL, with its query, never leaves in a ``Referer``)."""

    def __init__(self, app: ASGIApp, voice_ws_url: str | None = None) -> None:
        self.app = app
        # Voice on: the softphone's pages may reach Asterisk's WebSocket (checked now,
        # so a bad URL stops the server's start with one line, not every page).
        self.voice_ws_url = voice_ws_url
        if voice_ws_url is not None:
            voice_csp(PAGE_CSP, voice_ws_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp, frameable = csp_for(str(scope.get("path", "")), self.voice_ws_url)
        extra = [*_COMMON, (b"content-security-policy", csp.encode())]
        if not frameable:
            extra.append((b"x-frame-options", b"DENY"))
        names = {name for name, _ in extra}

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(n, v) for n, v in message.get("headers", ()) if n.lower() not in names]
                message = {**message, "headers": kept + extra}
            await send(message)

        await self.app(scope, receive, with_headers)


# --- a full or unavailable store --------------------------------------------------------


@dataclass
class StorageHealth:
    """The last store failure a request met, kept until a probe writes again."""

    probe: Callable[[], StoreFailure | None]
    failure: StoreFailure | None = None
    since: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, failure: StoreFailure) -> None:
        with self._lock:
            if self.failure is None:
                self.since = time.time()
            self.failure = failure

    def check(self) -> StoreFailure | None:
        """None when every store takes writes; probes again only after a failure, so a
        healthy server's ``/api/health`` costs no write. Blocking: run it in a thread."""
        with self._lock:
            if self.failure is None:
                return None
        failure = self.probe()
        with self._lock:
            self.failure = failure
        return failure


STORAGE_HEALTH_KEY: Final = "storage_health"


class HealthFailing(BaseModel):
    """``/api/health`` while a store fails: which, whether it is full, and why."""

    status: str = "failing"
    store: str
    full: bool
    reason: str
    since: float
    error: dict[str, str]


def storage_health(request: Request) -> JSONResponse | None:
    """503 with :class:`HealthFailing` while a store fails (it is probed again on each
    call until a write goes through), else None. Blocking: call it from a sync route."""
    health: StorageHealth | None = getattr(request.app.state, STORAGE_HEALTH_KEY, None)
    failure = health.check() if health is not None else None
    if health is None or failure is None:
        return None
    body = HealthFailing(
        store=failure.store,
        full=failure.full,
        reason=failure.reason,
        since=health.since,
        error=error_body(503, failure.message(), _code(failure))["error"],
    )
    return JSONResponse(body.model_dump(), status_code=503, headers={"Retry-After": "30"})


def _code(failure: StoreFailure) -> str:
    return "storage_full" if failure.full else "storage_unavailable"


def install_storage_errors(app: FastAPI) -> None:
    """Answer a full or unavailable store with 503 in the JSON error shape (instead of a
    plain-text 500), and record it for ``/api/health``; any other database or OS error
    is a 500 in the same shape, logged with its traceback."""

    async def handler(request: Request, exc: Exception) -> JSONResponse:
        failure = storage_failure(exc)
        if failure is None:
            log.error("unexpected error on %s", request.url.path, exc_info=exc)
            return JSONResponse(error_body(500, "internal error", "internal"), status_code=500)
        health: StorageHealth | None = getattr(request.app.state, STORAGE_HEALTH_KEY, None)
        if health is not None:
            health.record(failure)
        log.warning("storage failure on %s: %s", request.url.path, failure.message())
        return JSONResponse(
            error_body(503, failure.message(), _code(failure)),
            status_code=503,
            headers={"Retry-After": "30"},
        )

    app.add_exception_handler(DBAPIError, handler)
    app.add_exception_handler(OSError, handler)


__all__ = [
    "CHAT_CSP",
    "DOCS_CSP",
    "PAGE_CSP",
    "STORAGE_HEALTH_KEY",
    "BodyLimit",
    "HealthFailing",
    "SecurityHeaders",
    "StorageHealth",
    "csp_for",
    "install_storage_errors",
    "storage_health",
]
