"""Request dependencies: a database session per request, who is asking, what they may do.

Authentication, in order:

1. ``Authorization: Bearer <token>`` — an API token (``POST /api/tokens``,
   ``callcenter user token``); no cookie, so no CSRF check. Never in the URL: a
   WebSocket client trades its credential for a one-use ``?ticket=`` (``POST
   /api/ws-ticket``);
2. the ``cc_session`` cookie set by ``POST /api/auth/login`` (pages).  Requests that
   change something (POST, PUT, PATCH, DELETE) must then carry the session's CSRF token
   in ``X-CSRF-Token`` (pages read it from ``GET /api/me``); the cookie is ``HttpOnly``
   and ``SameSite=Lax``.

:func:`require` guards a route with one :class:`Permission`; a signed-in user without
it gets 403, an anonymous request 401.  :func:`route_permissions` lists every guarded
route and :func:`route_guards` every API route with what it needs (the security tests
walk them).
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Final
from urllib.parse import urlsplit

from anyio import to_thread
from fastapi import Depends, FastAPI, Request, WebSocket
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from callcenter.api.center import Center, center
from callcenter.api.errors import ApiError
from callcenter.auth.permissions import Permission, allowed
from callcenter.auth.service import (
    Principal,
    session_principal,
    token_principal,
    touch_token,
)
from callcenter.auth.tickets import TicketBook

SESSION_COOKIE: Final = "cc_session"
CSRF_HEADER: Final = "X-CSRF-Token"
_SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})


async def db_session(
    request: Request, c: Annotated[Center, Depends(center)]
) -> AsyncIterator[Session]:
    """One transaction per request, committed when the handler returns and before the
    response is sent (``scope="function"``): a client never sees an answer whose change
    is not yet in the database, and the next request reads it.

    A request that may change something (POST, PUT, PATCH, DELETE) gets a session whose
    transaction takes SQLite's write lock at its first statement (``BEGIN IMMEDIATE``,
    :data:`WRITE_OPTION`), so concurrent changes wait for each other instead of failing
    with "database is locked".  That first statement runs in the handler's thread (the
    principal is read in a session of its own), and the commit runs on
    :attr:`Center.commit_limiter`'s threads, never on the request threads: a request
    holding the write lock never waits for a request thread, all of which may be
    waiting for the engine lock whose holder waits for the write lock.  Handlers that
    hand work to the live engine commit this transaction first (the engine writes in
    its own).
    """
    writes = request.method not in _SAFE_METHODS
    s = (c.write_sessions if writes else c.sessions)()
    try:
        yield s
    except BaseException:
        await to_thread.run_sync(s.close, limiter=c.commit_limiter)  # rolls back
        raise
    try:
        await to_thread.run_sync(s.commit, limiter=c.commit_limiter)
    finally:
        await to_thread.run_sync(s.close, limiter=c.commit_limiter)


Db = Annotated[Session, Depends(db_session, scope="function")]


def _bearer(conn: HTTPConnection) -> str | None:
    auth = conn.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def resolve_principal(conn: HTTPConnection, c: Center, s: Session) -> Principal | None:
    """Who sent ``conn`` (HTTP request or WebSocket), or None; checks CSRF for cookies."""
    now = c.clock()
    # never from the URL (``?access_token=``): a credential in a URL ends up in access
    # logs, proxies and browser history; WebSockets use a one-use ticket instead
    token = _bearer(conn)
    if token is not None:

        def touch(token_id: int, t: float) -> None:  # a write first: waits for the lock
            with c.sessions.begin() as w:
                touch_token(w, token_id, t)

        return token_principal(s, token, now=now, touch=touch)
    secret = conn.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    p = session_principal(s, secret, now=now)
    if p is None:
        return None
    if isinstance(conn, Request) and conn.method not in _SAFE_METHODS:
        sent = conn.headers.get(CSRF_HEADER, "")
        if not (p.csrf_token and hmac.compare_digest(sent, p.csrf_token)):
            raise ApiError(403, f"missing or wrong {CSRF_HEADER} header", "csrf")
    return p


def optional_principal(request: Request, c: Annotated[Center, Depends(center)]) -> Principal | None:
    """Who is asking, read in a short transaction of its own (not the request's, so
    the request's transaction begins in its handler: see :func:`db_session`)."""
    with c.sessions() as s:
        return resolve_principal(request, c, s)


def current_principal(request: Request, c: Annotated[Center, Depends(center)]) -> Principal:
    p = optional_principal(request, c)
    if p is None:
        raise ApiError(401, "sign in first (cookie session or Authorization: Bearer token)")
    return p


CurrentUser = Annotated[Principal, Depends(current_principal)]

CLOSE_UNAUTHENTICATED: Final = 4401
CLOSE_FORBIDDEN: Final = 4403


def _same_origin(ws: WebSocket) -> bool:
    """The handshake's ``Origin`` names the host it was sent to."""
    origin, host = ws.headers.get("origin"), ws.headers.get("host")
    return bool(origin and host and urlsplit(origin).netloc.lower() == host.lower())


def socket_principal(
    ws: WebSocket, c: Center, permission: Permission
) -> tuple[Principal | None, int, str]:
    """Who opened the WebSocket ``ws`` and whether they may: ``(principal, 0, "")``, or
    ``(None, close code, reason)`` — :data:`CLOSE_UNAUTHENTICATED` when not signed in,
    :data:`CLOSE_FORBIDDEN` when the role lacks ``permission`` or a cookie session
    comes from another site (a browser sends the cookie with any site's handshake, so
    its ``Origin`` must name this server: no cross-site WebSocket hijacking).  A bearer
    token (``Authorization``) or a one-use ticket (``?ticket=`` from ``POST
    /api/ws-ticket``, :func:`ticket_book`) needs no such check: neither is sent by a
    browser on its own.  Blocking: run it in a worker thread."""
    ticket = ws.query_params.get("ticket")
    if ticket is not None:
        p = ticket_book(c).redeem(ticket, now=c.clock())
        if p is None:
            return None, CLOSE_UNAUTHENTICATED, "ticket unknown, used or expired: ask for a new one"
    else:
        with c.sessions() as s:
            try:
                p = resolve_principal(ws, c, s)
            except ApiError:
                p = None
    if p is None:
        return None, CLOSE_UNAUTHENTICATED, "sign in first"
    by_token = ticket is not None or _bearer(ws) is not None
    if not by_token and not _same_origin(ws):
        return None, CLOSE_FORBIDDEN, "cross-site WebSocket refused (Origin is not this server)"
    if not allowed(p.role, permission):
        return None, CLOSE_FORBIDDEN, f"role {p.role.value!r} may not do this ({permission.value})"
    return p, 0, ""


TICKETS_KEY: Final = "ws_tickets"


def ticket_book(c: Center) -> TicketBook[Principal]:
    """The server's one-use WebSocket tickets (kept in :attr:`Center.extras`)."""
    book = c.extras.get(TICKETS_KEY)
    if not isinstance(book, TicketBook):
        book = c.extras.setdefault(TICKETS_KEY, TicketBook[Principal]())
    return book


def require(permission: Permission) -> Callable[[Principal], Principal]:
    """A dependency that lets through only principals whose role holds ``permission``."""

    def check(p: CurrentUser) -> Principal:
        if not allowed(p.role, permission):
            raise ApiError(403, f"role {p.role.value!r} may not do this ({permission.value})")
        return p

    check.permission = permission  # type: ignore[attr-defined]
    return check


def route_guards(app: FastAPI) -> list[tuple[str, str, frozenset[Permission]]]:
    """(method, path, permissions) of every API route: a user gets in with any one of
    ``permissions`` — one for :func:`require`, several for ``require_any``
    (:mod:`callcenter.api.admin`), none for a route that neither guards (public, or open
    to any signed-in user)."""

    def walk(dependant: object) -> frozenset[Permission]:
        call = getattr(dependant, "call", None)
        perm = getattr(call, "permission", None)
        if isinstance(perm, Permission):
            return frozenset({perm})
        perms = getattr(call, "permissions", None)
        if isinstance(perms, frozenset) and perms:
            return frozenset(Permission(x) for x in perms)
        for sub in getattr(dependant, "dependencies", ()):
            found = walk(sub)
            if found:
                return found
        return frozenset()

    out: list[tuple[str, str, frozenset[Permission]]] = []
    for path, methods, dependant in _api_routes(app):
        guard = walk(dependant)
        out.extend((method, path, guard) for method in sorted(methods))
    return out


def route_permissions(app: FastAPI) -> list[tuple[str, str, Permission]]:
    """(method, path, permission) of every route guarded by one permission (:func:`require`)."""
    return [(m, path, next(iter(g))) for m, path, g in route_guards(app) if len(g) == 1]


def _api_routes(app: FastAPI) -> Iterator[tuple[str, set[str], object]]:
    """(path, methods, dependant) of every API route, those of included routers too.

    FastAPI >= 0.13x keeps an included router as one lazy entry in ``app.routes`` (its
    routes are not copied there); :func:`fastapi.routing.iter_route_contexts` expands it
    with the prefix and the router-level dependencies applied.
    """
    try:
        from fastapi.routing import iter_route_contexts  # type: ignore[attr-defined,unused-ignore]
    except ImportError:  # older FastAPI: include_router copies every route into app.routes
        for route in app.routes:
            if isinstance(route, APIRoute):
                yield route.path, set(route.methods or ()), route.dependant
        return
    for rc in iter_route_contexts(app.routes):
        if isinstance(rc.original_route, APIRoute):
            yield str(rc.path), set(rc.methods or ()), rc.dependant


__all__ = [
    "CLOSE_FORBIDDEN",
    "CLOSE_UNAUTHENTICATED",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "CurrentUser",
    "Db",
    "current_principal",
    "db_session",
    "optional_principal",
    "require",
    "resolve_principal",
    "route_guards",
    "route_permissions",
    "socket_principal",
    "ticket_book",
]
