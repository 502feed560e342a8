"""Users, sign-in sessions and API tokens in the database.

Secrets (session cookies, API tokens, chat tokens) are 256-bit random URL-safe strings;
only their SHA-256 is stored, so a copy of the database does not let anyone sign in.
Functions take a :class:`Session` and never commit on their own.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from callcenter.auth.passwords import hash_password, verify_password
from callcenter.errors import NotFoundError, UserError
from callcenter.storage.audit import Actor, AuditAction, record
from callcenter.storage.tables import AgentRow, ApiToken, Role, TeamSupervisor, User, WebSession

SESSION_SECONDS: Final = 12 * 3600
TOKEN_PREFIX: Final = "cc_"
LAST_USED_RESOLUTION: Final = 60.0
"""Seconds: a token's ``last_used_at`` is rewritten at most this often."""
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class AuthError(UserError):
    """A user, role or token request that cannot be carried out."""


class TokenNotFoundError(AuthError, NotFoundError):
    """No API token of this user with that id."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: the signed-in user, its role, teams and agent name."""

    user_id: int
    username: str
    role: Role
    team_id: int | None
    supervised_teams: frozenset[int]
    agent: str | None  # the router's agent name if the user has an agent profile
    csrf_token: str | None = None  # set for cookie sessions only


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_username(username: str) -> str:
    if not _USERNAME.match(username):
        raise AuthError(
            f"bad username {username!r}: use 1-64 lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return username


def parse_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise AuthError(f"unknown role {role!r} (expected one of: {choices})") from None


def create_user(
    s: Session,
    username: str,
    password: str,
    role: Role,
    *,
    now: float,
    display_name: str = "",
    email: str | None = None,
    team_id: int | None = None,
    password_hash: str | None = None,
) -> User:
    """Add a user (and, for agents, an agent profile named after the user).

    ``password_hash``: the password already hashed (the server hashes on its bounded
    pool, :mod:`callcenter.auth.hashing`, before the transaction); else it is hashed here.
    """
    check_username(username)
    if s.scalar(select(User.id).where(User.username == username)) is not None:
        raise AuthError(f"user {username!r} already exists")
    user = User(
        username=username,
        display_name=display_name or username,
        email=email,
        role=role.value,
        password_hash=password_hash or hash_password(password),
        team_id=team_id,
        active=True,
        created_at=now,
    )
    s.add(user)
    s.flush()
    if role is Role.AGENT:
        s.add(AgentRow(user_id=user.id, name=username, skills={}, queues=None, capacity=3))
        s.flush()
    return user


def authenticate(s: Session, username: str, password: str) -> User | None:
    user = s.scalar(select(User).where(User.username == username, User.active))
    if user is None:
        verify_password(_DUMMY_HASH, password)  # same time whether or not the user exists
        return None
    return user if verify_password(user.password_hash, password) else None


_DUMMY_HASH: Final = (
    "$argon2id$v=19$m=65536,t=3,p=4$5Yg+Z0WkAwTxxsQRunazhA$"
    "PMiE1i6n9hRiU+86NW8Solg86Zvf2Od8ghLSOB4Zafs"
)


def principal_for(s: Session, user: User, csrf_token: str | None = None) -> Principal:
    teams = frozenset(
        s.scalars(select(TeamSupervisor.team_id).where(TeamSupervisor.user_id == user.id))
    )
    agent = s.scalar(select(AgentRow.name).where(AgentRow.user_id == user.id))
    return Principal(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        team_id=user.team_id,
        supervised_teams=teams,
        agent=agent,
        csrf_token=csrf_token,
    )


def start_session(s: Session, user: User, *, now: float) -> tuple[str, str]:
    """A new cookie session: returns (cookie secret, CSRF token)."""
    secret, csrf = new_secret(), new_secret()
    s.add(
        WebSession(
            token_hash=digest(secret),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + SESSION_SECONDS,
        )
    )
    s.flush()
    return secret, csrf


# --------------------------------------------------------------------------- sign-in records
# What the audit log keeps of signing in and out (docs/security.md).  A refused attempt
# (429: throttled, 503: hashing pool full) is not recorded: the throttle already bounds
# how many failures a client can make, and a flood must not fill the log.

UNKNOWN_USER: Final = "(unknown user)"
"""The actor's name of a failed sign-in for a username nobody has: what was typed is not
kept (people type their password into the username field)."""


def record_sign_in(s: Session, user: User, *, address: str | None, now: float) -> None:
    """``user`` signed in from ``address`` (in the transaction storing its session)."""
    actor = Actor(user.id, user.username, user.role, address)
    record(s, actor, AuditAction.AUTH_LOGIN, "user", user.id, {}, {}, at=now)


def record_failed_sign_in(s: Session, username: str, *, address: str | None, now: float) -> None:
    """A wrong password for ``username`` from ``address`` (in a transaction of its own:
    the request's is rolled back with its 401)."""
    user = s.scalar(select(User).where(User.username == username))
    if user is None:
        actor = Actor(None, UNKNOWN_USER, "anonymous", address)
        entity_id = ""
    else:
        actor = Actor(None, user.username, "anonymous", address)
        entity_id = str(user.id)
    record(s, actor, AuditAction.AUTH_LOGIN_FAILED, "user", entity_id, {}, {}, at=now)


def record_sign_out(s: Session, p: Principal, *, address: str | None, now: float) -> None:
    actor = Actor(p.user_id, p.username, p.role.value, address)
    record(s, actor, AuditAction.AUTH_LOGOUT, "user", p.user_id, {}, {}, at=now)


def session_principal(s: Session, secret: str, *, now: float) -> Principal | None:
    row = s.get(WebSession, digest(secret))
    if row is None or row.expires_at <= now:
        return None
    user = s.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return principal_for(s, user, csrf_token=row.csrf_token)


def end_session(s: Session, secret: str) -> None:
    s.execute(delete(WebSession).where(WebSession.token_hash == digest(secret)))


def create_token(s: Session, user: User, name: str, *, now: float) -> tuple[ApiToken, str]:
    """A new API token for ``user``: returns the row and the secret (shown once)."""
    secret = TOKEN_PREFIX + new_secret()
    row = ApiToken(user_id=user.id, name=name, token_hash=digest(secret), created_at=now)
    s.add(row)
    s.flush()
    return row, secret


def token_principal(
    s: Session, secret: str, *, now: float, touch: Callable[[int, float], None] | None = None
) -> Principal | None:
    """Who holds the API token ``secret``, or None (unknown, revoked, user inactive).

    Its ``last_used_at`` is kept to :data:`LAST_USED_RESOLUTION`: when it is older,
    ``touch(token_id, now)`` is called to store the new time (in a transaction of its
    own, so that a read-only request does not turn into a write), or it is set on ``s``
    when no ``touch`` is given.
    """
    row = s.scalar(select(ApiToken).where(ApiToken.token_hash == digest(secret)))
    if row is None or row.revoked:
        return None
    user = s.get(User, row.user_id)
    if user is None or not user.active:
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        if touch is None:
            row.last_used_at = now
        else:
            touch(row.id, now)
    return principal_for(s, user)


def user_of(s: Session, p: Principal) -> User:
    """The user row of a principal (it exists: the principal was read from it)."""
    user = s.get(User, p.user_id)
    assert user is not None
    return user


def tokens_of(s: Session, user_id: int) -> list[ApiToken]:
    """The API tokens of user ``user_id``, revoked ones too, oldest first."""
    return list(
        s.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id))
    )


def revoke_token_of(s: Session, user_id: int, token_id: int) -> None:
    """Revoke token ``token_id`` of user ``user_id`` (a token of someone else is not found)."""
    row = s.get(ApiToken, token_id)
    if row is None or row.user_id != user_id:
        raise TokenNotFoundError("token", token_id)
    row.revoked = True


def revoke_all_tokens(s: Session, user_id: int) -> int:
    """Revoke every API token of user ``user_id``; returns how many were still active.

    Row by row through the ORM, so that :func:`callcenter.storage.audit.track` records
    each revocation (a password reset or an administrator revoking them all)."""
    rows = s.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked.is_(False))
    ).all()
    for row in rows:
        row.revoked = True
    s.flush()
    return len(rows)


def end_all_sessions(s: Session, user_id: int) -> int:
    """End every cookie session of user ``user_id``; returns how many there were."""
    result = s.execute(delete(WebSession).where(WebSession.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)


def touch_token(s: Session, token_id: int, now: float) -> None:
    """Store that token ``token_id`` was used at ``now`` (a write, nothing read first)."""
    s.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


__all__ = [
    "LAST_USED_RESOLUTION",
    "SESSION_SECONDS",
    "AuthError",
    "Principal",
    "TokenNotFoundError",
    "authenticate",
    "check_username",
    "create_token",
    "create_user",
    "digest",
    "end_all_sessions",
    "end_session",
    "new_secret",
    "parse_role",
    "principal_for",
    "record_failed_sign_in",
    "record_sign_in",
    "record_sign_out",
    "revoke_all_tokens",
    "revoke_token_of",
    "session_principal",
    "start_session",
    "token_principal",
    "tokens_of",
    "touch_token",
    "user_of",
]
