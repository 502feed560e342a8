"""The server: one FastAPI application with the API, WebSocket push, pages and the live
routing engine (``callcenter serve``; ``docs/server.md``).

:func:`create_app` builds everything from one :class:`~callcenter.settings.Settings`.
On start-up (the lifespan) it opens the database — a SQLite database is created and
migrated to the newest schema; any other database must have been migrated with
``callcenter db upgrade`` — starts the :class:`~callcenter.live.engine.LiveEngine`
(which replays what was in flight before a restart), and runs the background tasks:
the timer ticker (ring timeouts, wrap-ups, maximum waits fire within
:data:`TICK_SECONDS`) and whatever the feature modules installed.

Feature modules live in ``callcenter.api`` (and the pages in ``callcenter.web.pages``);
each has a ``router`` and may have ``install(center)`` to add engine listeners or
background tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from functools import partial
from types import ModuleType
from typing import TYPE_CHECKING, Final

from anyio import CapacityLimiter
from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import sessionmaker

from callcenter import __version__
from callcenter.api import admin as api_admin
from callcenter.api import audit as api_audit
from callcenter.api import auth as api_auth
from callcenter.api import chat as api_chat
from callcenter.api import crm as api_crm
from callcenter.api import desk as api_desk
from callcenter.api import ivr as api_ivr
from callcenter.api import reports as api_reports
from callcenter.api import supervision as api_supervision
from callcenter.api import telephony as api_telephony
from callcenter.api import users as api_users
from callcenter.api import voice_security as api_voice_security
from callcenter.api import wallboard as api_wallboard
from callcenter.api import ws_ticket as api_ws_ticket
from callcenter.api.center import Center
from callcenter.api.errors import install_error_handlers
from callcenter.api.http_guard import (
    STORAGE_HEALTH_KEY,
    BodyLimit,
    SecurityHeaders,
    StorageHealth,
    install_storage_errors,
)
from callcenter.api.hub import Hub
from callcenter.live.engine import LiveEngine
from callcenter.settings import Settings
from callcenter.storage.database import open_database
from callcenter.storage.db import WRITE_OPTION
from callcenter.storage.failures import probe_database
from callcenter.web import pages
from callcenter.web.api_docs import install_api_docs

if TYPE_CHECKING:
    from callcenter.voice.asterisk import RunningAsterisk

log = logging.getLogger("callcenter.server")

TICK_SECONDS: Final = 0.2
COMMIT_THREADS: Final = 8  # threads that commit requests' transactions (api/deps.py)
# The connection pool is sized for them: storage.database.POOL_SIZE / POOL_OVERFLOW.

# Feature modules, in the order their routes appear in the OpenAPI document; each has a
# ``router`` and may have ``install(center)``.
MODULES: Final[tuple[ModuleType, ...]] = (
    api_auth,
    api_ws_ticket,
    api_admin,
    api_users,
    api_desk,
    api_chat,
    api_crm,
    api_wallboard,
    api_supervision,
    api_reports,
    api_audit,
    api_telephony,
    api_voice_security,
    api_ivr,
    pages,
)


async def _ticker(c: Center) -> None:
    while True:
        # the engine's lock may be held by a request writing to the database: never wait
        # for it on the event loop
        nt = await run_in_threadpool(c.engine.next_timer)
        delay = TICK_SECONDS if nt is None else min(max(nt - c.clock(), 0.0), TICK_SECONDS)
        await asyncio.sleep(delay)
        if nt is not None and c.clock() >= nt:
            try:
                await run_in_threadpool(c.engine.tick)
            except Exception:  # keep ticking; the engine rebuilt itself from the database
                log.exception("timer tick failed")


def _lifespan(
    settings: Settings, clock: Callable[[], float] | None
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    """The server's start-up and shut-down: database, hub, engine, the modules'
    listeners, the ticker and the background tasks."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = await run_in_threadpool(partial(open_database, settings, server=True))
        hub = Hub()
        hub.bind(asyncio.get_running_loop())
        engine = LiveEngine(db) if clock is None else LiveEngine(db, clock=clock)
        c = Center(
            settings=settings,
            db=db,
            engine=engine,
            hub=hub,
            sessions=sessionmaker(db, expire_on_commit=False),
            write_sessions=sessionmaker(
                db.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False
            ),
            commit_limiter=CapacityLimiter(COMMIT_THREADS),
            clock=engine.clock,
        )
        app.state.center = c
        setattr(app.state, STORAGE_HEALTH_KEY, StorageHealth(partial(probe_database, db)))
        for m in MODULES:
            install = getattr(m, "install", None)
            if install is not None:
                install(c)
        await run_in_threadpool(engine.start)
        log.info(
            "live engine started: epoch %d, %d requests replayed", engine.epoch, engine.replayed
        )
        if settings.voice != "off":
            _install_voice(c)
        tasks = [asyncio.create_task(_ticker(c))]
        tasks += [asyncio.create_task(job()) for job in c.background]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            db.dispose()

    return lifespan


def _install_voice(c: Center) -> None:
    """Calls: the voice service (Asterisk supervised, its calls routed by the engine), the
    recordings filed and each one analysed in the background (``docs/voice.md``)."""
    from callcenter.live.voice.analysis import RecordingAnalyzer
    from callcenter.live.voice.retention import sweep_forever
    from callcenter.live.voice.setup import voice_service

    analyzer = None
    if c.settings.recording_analysis_workers > 0:  # 0: automatic analysis is off
        analyzer = RecordingAnalyzer.from_settings(c.db, c.settings)
    voice = voice_service(
        c.settings,
        c.engine,
        recordings=c.settings.recordings_path,
        on_recorded=analyzer.submit if analyzer is not None else None,
    )
    c.engine.listeners.append(voice.listener)
    c.voice_listeners.append(voice.reload)
    c.voice = voice
    c.background.append(voice.run)
    if analyzer is not None:
        c.background.append(analyzer.run)
    keep = c.settings.recording_retention_days
    c.background.append(partial(sweep_forever, c.settings.recordings_path, keep, c.clock, db=c.db))
    if c.settings.voice == "embedded":
        _install_sip_guard(c, lambda: voice.asterisk)


def _install_sip_guard(c: Center, current: Callable[[], RunningAsterisk | None]) -> None:
    """The embedded Asterisk's SIP guard (``docs/voice.md#sip-security``): repeat
    offenders blocked by a PJSIP ACL, listed at ``GET /api/admin/voice/blocked``; the IP
    trunks' networks (as at start) are never blocked."""
    from callcenter.live.voice.config import trunk_specs
    from callcenter.live.voice.guard import GUARD_KEY, GuardService, policy_from_settings

    with c.sessions() as s:
        trunks = [n for t in trunk_specs(s) if t.kind == "ip" for n in t.networks]
    guard = GuardService(policy_from_settings(c.settings, tuple(trunks)))
    c.extras[GUARD_KEY] = guard
    c.background.append(partial(guard.follow, current))


def create_app(settings: Settings, *, clock: Callable[[], float] | None = None) -> FastAPI:
    """The whole server as an ASGI application (started by uvicorn or a test client)."""
    app = FastAPI(
        title="callcenter",
        version=__version__,
        description=(
            "The live contact center: users and roles, administration, the agent desktop, "
            "chat, CRM, the supervisor wallboard and KPI reports. Authenticate with the "
            "session cookie from `POST /api/auth/login` (pages; send `X-CSRF-Token` on "
            "changes) or `Authorization: Bearer <token>` (`POST /api/tokens`)."
        ),
        lifespan=_lifespan(settings, clock),
        # /docs and /openapi.json: only with the api_docs setting, for signed-in users
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    install_error_handlers(app)
    install_storage_errors(app)
    for m in MODULES:
        app.include_router(m.router)
    install_api_docs(app, settings.api_docs)
    pages.mount_static(app)
    _install_http_guards(app, settings, _install_softphone(app, settings))
    return app


def _install_softphone(app: FastAPI, settings: Settings) -> str | None:
    """With voice on, the desk (``/agent``) carries the softphone, configured by
    ``POST /api/desk/phone``; the URL its page may reach Asterisk's WebSocket at (None:
    voice off, or not known before Asterisk starts)."""
    if settings.voice == "off":
        return None
    from callcenter.live.voice.desk_phone import ws_url

    setattr(app.state, pages.SOFTPHONE_STATE, {"config_url": "/api/desk/phone"})
    url = ws_url(settings)
    if url is None:
        log.warning(
            "voice: the desk's softphone cannot reach Asterisk (its page's CSP): set "
            "CALLCENTER_VOICE_WS_URL%s",
            "" if settings.voice == "external" else " or a fixed CALLCENTER_VOICE_HTTP_PORT",
        )
    return url


def _install_http_guards(app: FastAPI, settings: Settings, voice_ws_url: str | None) -> None:
    # the last added runs first: every response (the 413 too) gets the security headers,
    # and the size check runs before anything reads the body
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        public={"/api/chat/": api_chat.CORS_HEADERS},  # the widget on another site reads it
        larger={api_ivr.PROMPTS: (settings.ivr_prompt_max_bytes, "ivr_prompt_max_bytes")},
    )
    app.add_middleware(SecurityHeaders, voice_ws_url=voice_ws_url)


__all__ = ["MODULES", "TICK_SECONDS", "create_app"]
