"""The running center: settings, database, live engine, WebSocket hub — built once at
start-up (:func:`callcenter.server.app.create_app`) and reached by the routers through
``request.app.state.center`` (the :func:`center` dependency)."""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from anyio import CapacityLimiter
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import HTTPConnection

from callcenter.api.hub import Hub
from callcenter.live.engine import LiveEngine
from callcenter.settings import Settings

if TYPE_CHECKING:  # imported with voice on only (server/app.py)
    from callcenter.live.voice.service import VoiceService


@dataclass
class Center:
    settings: Settings
    db: Engine
    engine: LiveEngine
    hub: Hub
    sessions: sessionmaker[Session]
    # sessions of requests that change something: on SQLite their transaction takes the
    # write lock at its first statement (``storage.db.WRITE_OPTION``)
    write_sessions: sessionmaker[Session]
    # threads that end requests' transactions, apart from the request threads: a
    # transaction holding SQLite's write lock can always be committed (``api/deps.py``)
    commit_limiter: CapacityLimiter
    clock: Callable[[], float] = time.time
    # coroutines started with the server (wallboard pusher, timer ticker ...) and stopped
    # with it; a module's ``install(center)`` appends to it
    background: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)
    # called after each committed telephony change (trunks, numbers, devices:
    # ``api/telephony.py``); the server puts here what reloads its running Asterisk
    voice_listeners: list[Callable[[], None]] = field(default_factory=list)
    # the running voice service when calls are on (``serve --voice``), else None
    voice: VoiceService | None = None
    # anything a module wants to keep between requests (e.g. the wallboard's snapshot)
    extras: dict[str, Any] = field(default_factory=dict)


def center(conn: HTTPConnection) -> Center:
    """FastAPI dependency: the running :class:`Center` (works for HTTP and WebSocket)."""
    c: Center = conn.app.state.center
    return c


__all__ = ["Center", "center"]
