"""Request dependencies: a database session per request, who is asking, what they may do.

Authentication, in order:

1. ``Authorization: Bearer <token>`` — an API token (``POST /api/tokens``,
   ``callcenter user token``); no cookie, so no CSRF check;
2. the ``cc_session`` cookie set by ``POST /api/auth/login`` (pages).  Requests that
   change something (POST, PUT, PATCH, DELETE) must then carry the session's CSRF token
   in ``X-CSRF-Token`` (pages read it from ``GET /api/me``); the cookie is ``HttpOnly``
   and ``SameSite=Lax``.

:func:`require` guards a route with one :class:`Permission`; a signed-in user without
it gets 403, an anonymous request 401.  :func:`route_permissions` lists every guarded
route (the security tests walk it).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from typing import Annotated, Final

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from callcenter.api.center import Center, center
from callcenter.api.errors import ApiError
from callcenter.auth.permissions import Permission, allowed
from callcenter.auth.service import Principal, session_principal, token_principal

SESSION_COOKIE: Final = "cc_session"
CSRF_HEADER: Final = "X-CSRF-Token"
_SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})


def db_session(c: Annotated[Center, Depends(center)]) -> Iterator[Session]:
    """One transaction per request, committed when the handler returns."""
    with c.sessions.begin() as s:
        yield s


Db = Annotated[Session, Depends(db_session)]


def _bearer(conn: HTTPConnection) -> str | None:
    auth = conn.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def resolve_principal(conn: HTTPConnection, c: Center, s: Session) -> Principal | None:
    """Who sent ``conn`` (HTTP request or WebSocket), or None; checks CSRF for cookies."""
    now = c.clock()
    token = _bearer(conn) or conn.query_params.get("access_token")
    if token is not None:
        return token_principal(s, token, now=now)
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


def optional_principal(
    request: Request, c: Annotated[Center, Depends(center)], s: Db
) -> Principal | None:
    return resolve_principal(request, c, s)


def current_principal(request: Request, c: Annotated[Center, Depends(center)], s: Db) -> Principal:
    p = resolve_principal(request, c, s)
    if p is None:
        raise ApiError(401, "sign in first (cookie session or Authorization: Bearer token)")
    return p


CurrentUser = Annotated[Principal, Depends(current_principal)]


def require(permission: Permission) -> Callable[[Principal], Principal]:
    """A dependency that lets through only principals whose role holds ``permission``."""

    def check(p: CurrentUser) -> Principal:
        if not allowed(p.role, permission):
            raise ApiError(403, f"role {p.role.value!r} may not do this ({permission.value})")
        return p

    check.permission = permission  # type: ignore[attr-defined]
    return check


def route_permissions(app: FastAPI) -> list[tuple[str, str, Permission]]:
    """(method, path, permission) of every route guarded by :func:`require`."""
    out: list[tuple[str, str, Permission]] = []

    def walk(dependant: object) -> Permission | None:
        call = getattr(dependant, "call", None)
        perm = getattr(call, "permission", None)
        if isinstance(perm, Permission):
            return perm
        for sub in getattr(dependant, "dependencies", ()):
            found = walk(sub)
            if found is not None:
                return found
        return None

    for route in app.routes:
        if isinstance(route, APIRoute):
            perm = walk(route.dependant)
            if perm is not None:
                for method in sorted(route.methods or ()):
                    out.append((method, route.path, perm))
    return out


__all__ = [
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "CurrentUser",
    "Db",
    "current_principal",
    "db_session",
    "optional_principal",
    "require",
    "resolve_principal",
    "route_permissions",
]
