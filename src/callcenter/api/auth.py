"""Sign in and out, who am I, API tokens.

Sign-in is throttled per account and per client address (:mod:`callcenter.auth.throttle`:
429 with ``Retry-After`` before any password is checked) and its Argon2 check runs on
the bounded hashing pool (:mod:`callcenter.auth.hashing`: 503 with ``Retry-After`` when
too many wait); the handler is async, so a waiting sign-in holds no request thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Final

from anyio import to_thread
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from callcenter.api.audit import Acting
from callcenter.api.center import Center, center
from callcenter.api.deps import SESSION_COOKIE, CurrentUser, Db, require
from callcenter.api.errors import ApiError
from callcenter.api.http_guard import HealthFailing, storage_health
from callcenter.auth.hashing import HashPool, HashPoolBusyError
from callcenter.auth.passwords import MAX_LENGTH, check_password_rules, hash_password
from callcenter.auth.permissions import GRANTS, Permission
from callcenter.auth.service import (
    SESSION_SECONDS,
    authenticate,
    create_token,
    end_session,
    principal_for,
    record_failed_sign_in,
    record_sign_in,
    record_sign_out,
    revoke_token_of,
    start_session,
    tokens_of,
    user_of,
)
from callcenter.auth.throttle import UNKNOWN_ADDRESS, Policy, Refused, Throttle
from callcenter.settings import Settings
from callcenter.storage.audit import track
from callcenter.storage.tables import Role, User

router = APIRouter(prefix="/api", tags=["auth"])
_SIGNIN: Final = "signin"  # key of the :class:`SignIn` in ``Center.extras``


@dataclass
class SignIn:
    """The server's sign-in guards: the throttle and the hashing pool."""

    throttle: Throttle
    pool: HashPool
    clock: Callable[[], float] = field(default=time.monotonic)

    @classmethod
    def from_settings(cls, st: Settings) -> SignIn:
        def policy(failures: int) -> Policy:
            return Policy(
                free_failures=failures,
                base_s=st.signin_backoff_s,
                max_s=st.signin_backoff_max_s,
                forget_s=st.signin_forget_s,
            )

        return cls(
            throttle=Throttle(
                policy(st.signin_account_failures),
                policy(st.signin_address_failures),
                st.signin_tracked_max,
            ),
            pool=HashPool(st.password_hash_threads, st.password_hash_queue),
        )


def install(c: Center) -> None:
    c.extras[_SIGNIN] = SignIn.from_settings(c.settings)


def signin_of(c: Center) -> SignIn:
    guards: SignIn = c.extras[_SIGNIN]
    return guards


def retry_later(status: int, message: str, seconds: int) -> HTTPException:
    """A refusal (429, 503) in the JSON error shape with ``Retry-After: seconds``."""
    return HTTPException(status, message, headers={"Retry-After": str(seconds)})


def busy(e: HashPoolBusyError) -> HTTPException:
    return retry_later(503, str(e), e.retry_after)


def hash_new_password(c: Center, password: str) -> str:
    """``password`` checked against the policy and hashed on the bounded pool, from a
    request thread (user creation, password reset); 503 when the pool is full."""
    check_password_rules(password)
    try:
        return signin_of(c).pool.run_from_thread(hash_password, password)
    except HashPoolBusyError as e:
        raise busy(e) from None


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=MAX_LENGTH)


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


def _check_password(c: Center, username: str, password: str) -> User | None:
    """The user if ``password`` is theirs (on a hashing thread: Argon2 is slow on purpose)."""
    with c.sessions() as r:
        return authenticate(r, username, password)


def _failed(c: Center, username: str, address: str) -> None:
    """A wrong password, in the audit log (a transaction of its own)."""
    with c.write_sessions.begin() as s:
        record_failed_sign_in(s, username, address=address, now=c.clock())


def _open_session(c: Center, user: User, address: str) -> tuple[str, Me]:
    """Store a new cookie session for ``user`` (and the sign-in in the audit log):
    (cookie secret, who signed in)."""
    with c.write_sessions.begin() as s:
        secret, csrf = start_session(s, user, now=c.clock())
        record_sign_in(s, user, address=address, now=c.clock())
        p = principal_for(s, user)
        return secret, _me(user, p.role.value, p.agent, csrf)


_WHERE: Final = {"address": "from this address", "account": "for this account"}


def client_address(request: Request) -> str:
    """The client's address: the connection's peer (uvicorn puts the one named by
    ``X-Forwarded-For`` there only for the ``trusted_proxies`` setting's addresses)."""
    return request.client.host if request.client else UNKNOWN_ADDRESS


@router.post(
    "/auth/login",
    response_model=Me,
    responses={429: {"description": "too many failed sign-ins: wait `Retry-After` s"},
               503: {"description": "too many sign-ins waiting: retry after `Retry-After` s"}},
)  # fmt: skip
async def login(
    body: LoginIn, request: Request, response: Response, c: Annotated[Center, Depends(center)]
) -> Me:
    """Sign in with username and password: sets the session cookie, returns the CSRF token.

    After a few failures of one account or from one address, attempts are refused with
    429 and ``Retry-After`` (seconds) before the password is checked, the right one too.
    """
    guards, address = signin_of(c), client_address(request)
    attempt = guards.throttle.begin(body.username, address, guards.clock())
    if isinstance(attempt, Refused):
        raise retry_later(
            429,
            f"too many failed sign-ins {_WHERE[attempt.reason]}; "
            f"try again in {attempt.retry_after} s",
            attempt.retry_after,
        )
    try:
        user = await guards.pool.run(_check_password, c, body.username, body.password)
    except HashPoolBusyError as e:
        attempt.overflowed(guards.clock())
        raise busy(e) from None
    except BaseException:
        attempt.abandoned(guards.clock())
        raise
    if user is None:
        attempt.failed(guards.clock())
        await to_thread.run_sync(_failed, c, body.username, address)
        raise ApiError(401, "wrong username or password")
    attempt.succeeded(guards.clock())
    secret, me = await to_thread.run_sync(_open_session, c, user, address)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="lax",
        secure=c.settings.cookie_secure or request.url.scheme == "https",
        path="/",
    )
    return me


@router.post("/auth/logout", status_code=204)
def logout(
    request: Request, response: Response, s: Db, p: CurrentUser,
    c: Annotated[Center, Depends(center)],
) -> None:  # fmt: skip
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        end_session(s, secret)
        record_sign_out(s, p, address=client_address(request), now=c.clock())
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
    body: TokenIn, p: CurrentUser, s: Db, _g: TokenUser, a: Acting,
    c: Annotated[Center, Depends(center)],
) -> NewToken:  # fmt: skip
    """A new API token for yourself; the secret is in the answer only."""
    with track(s, a, at=c.clock()):  # token.create in the audit log
        row, secret = create_token(s, user_of(s, p), body.name, now=c.clock())
    return NewToken(**TokenOut.model_validate(row, from_attributes=True).model_dump(), token=secret)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: int, p: CurrentUser, s: Db, _g: TokenUser, a: Acting) -> None:
    with track(s, a):  # token.revoke in the audit log
        revoke_token_of(s, p.user_id, token_id)


__all__ = ["router"]
