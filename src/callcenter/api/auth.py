"""Sign in and out, who am I, API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from callcenter.api.center import Center, center
from callcenter.api.deps import SESSION_COOKIE, CurrentUser, Db, require
from callcenter.api.errors import ApiError
from callcenter.api.http_guard import HealthFailing, storage_health
from callcenter.auth.permissions import GRANTS, Permission
from callcenter.auth.service import (
    SESSION_SECONDS,
    authenticate,
    create_token,
    end_session,
    principal_for,
    revoke_token_of,
    start_session,
    tokens_of,
    user_of,
)
from callcenter.storage.tables import Role, User

router = APIRouter(prefix="/api", tags=["auth"])


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class Me(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    agent: str | None
    team_id: int | None
    permissions: list[str]
    csrf_token: str | None = None


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=128)


class TokenOut(BaseModel):
    id: int
    name: str
    created_at: float
    last_used_at: float | None
    revoked: bool


class NewToken(TokenOut):
    token: str  # shown once


def _me(user: User, p_role: str, agent: str | None, csrf: str | None) -> Me:
    return Me(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=p_role,
        agent=agent,
        team_id=user.team_id,
        permissions=sorted(x.value for x in GRANTS[Role(p_role)]),
        csrf_token=csrf,
    )


class Health(BaseModel):
    status: str
    epoch: int
    replayed: int


@router.get("/health", response_model=Health, responses={503: {"model": HealthFailing}})
def health(request: Request, c: Annotated[Center, Depends(center)]) -> Health | JSONResponse:
    """Liveness: the engine is running and every store takes writes (no sign-in needed);
    503 naming the failing store and why while one is full or unavailable."""
    failing = storage_health(request)
    if failing is not None:
        return failing
    return Health(status="ok", epoch=c.engine.epoch, replayed=c.engine.replayed)


@router.post("/auth/login", response_model=Me)
def login(
    body: LoginIn, request: Request, response: Response, s: Db,
    c: Annotated[Center, Depends(center)],
) -> Me:  # fmt: skip
    """Sign in with username and password: sets the session cookie, returns the CSRF token."""
    # the password is checked (Argon2: a deliberately slow hash) in a read transaction,
    # so that the request's write transaction, which holds SQLite's write lock from its
    # first statement, only stores the new session
    with c.sessions() as r:
        user = authenticate(r, body.username, body.password)
    if user is None:
        raise ApiError(401, "wrong username or password")
    secret, csrf = start_session(s, user, now=c.clock())
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="lax",
        secure=c.settings.cookie_secure or request.url.scheme == "https",
        path="/",
    )
    p = principal_for(s, user)
    return _me(user, p.role.value, p.agent, csrf)


@router.post("/auth/logout", status_code=204)
def logout(request: Request, response: Response, s: Db, _p: CurrentUser) -> None:
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        end_session(s, secret)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me", response_model=Me)
def me(p: CurrentUser, s: Db) -> Me:
    """The signed-in user, its role and permissions (and the CSRF token for pages)."""
    return _me(user_of(s, p), p.role.value, p.agent, p.csrf_token)


TokenUser = Annotated[object, Depends(require(Permission.TOKENS_OWN))]


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(p: CurrentUser, s: Db, _g: TokenUser) -> list[TokenOut]:
    return [TokenOut.model_validate(r, from_attributes=True) for r in tokens_of(s, p.user_id)]


@router.post("/tokens", response_model=NewToken, status_code=201)
def new_token(
    body: TokenIn, p: CurrentUser, s: Db, _g: TokenUser, c: Annotated[Center, Depends(center)]
) -> NewToken:
    """A new API token for yourself; the secret is in the answer only."""
    row, secret = create_token(s, user_of(s, p), body.name, now=c.clock())
    return NewToken(**TokenOut.model_validate(row, from_attributes=True).model_dump(), token=secret)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: int, p: CurrentUser, s: Db, _g: TokenUser) -> None:
    revoke_token_of(s, p.user_id, token_id)


__all__ = ["router"]
