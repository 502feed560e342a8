"""User management: ``/api/users`` (``users.manage``: administrators).

Create users with a role and password (Argon2id), change their role, display name,
e-mail, team and active flag, reset their password.  "Deleting" a user deactivates it
(history keeps its name).  Nobody may change their own role or deactivate themselves
(409).  A change of role or of the active flag changes who the router may route to, so
it is committed and then the routing engine reloaded
(:class:`~callcenter.live.admin.uow.UnitOfWork`).  Rules: :mod:`callcenter.live.admin.people`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from callcenter.api.admin import CenterDep, Work
from callcenter.api.admin_schemas import UserIn, UserOut, UserPatch
from callcenter.api.auth import TokenOut, hash_new_password
from callcenter.api.deps import Db, require
from callcenter.auth.permissions import Permission
from callcenter.auth.service import Principal
from callcenter.live.admin import people

router = APIRouter(tags=["users"])

Manager = Annotated[Principal, Depends(require(Permission.USERS_MANAGE))]


@router.get("/api/users", response_model=list[UserOut])
def list_users(
    s: Db, _p: Manager, role: str | None = None, active: bool | None = None
) -> list[UserOut]:
    """Every user, by username; ``?role=agent``, ``?active=true`` filter."""
    return people.list_users(s, role, active)


@router.get("/api/users/{user_id}", response_model=UserOut)
def get_user(user_id: int, s: Db, _p: Manager) -> UserOut:
    return people.get_user(s, user_id)


@router.post("/api/users", response_model=UserOut, status_code=201)
def create_user(body: UserIn, s: Db, w: Work, c: CenterDep, _p: Manager) -> UserOut:
    """A new user; an agent gets an agent profile (skills via ``/api/admin/agents``)."""
    hashed = hash_new_password(c, body.password)  # before the transaction: it is slow
    return w.commit(
        s,
        lambda t: people.add_user(t, body, now=w.clock(), password_hash=hashed),
        routing=people.changes_routing(body),
    )


@router.patch("/api/users/{user_id}", response_model=UserOut)
def update_user(user_id: int, body: UserPatch, s: Db, w: Work, c: CenterDep, p: Manager) -> UserOut:
    """Change details, role, team, active flag or password (only the fields sent).

    A new password ends the user's sessions and revokes its API tokens."""
    hashed = None
    if "password" in body.model_fields_set and body.password is not None:
        hashed = hash_new_password(c, body.password)
    return w.commit(
        s,
        lambda t: people.update_user(t, user_id, body, acting=p.user_id, password_hash=hashed),
        routing=people.changes_routing(body),
    )


@router.delete("/api/users/{user_id}", status_code=204)
def deactivate_user(user_id: int, s: Db, w: Work, p: Manager) -> None:
    """Deactivate the user: it can no longer sign in; its history stays."""
    w.commit(s, lambda t: people.deactivate_user(t, user_id, acting=p.user_id), routing=True)


@router.get("/api/users/{user_id}/tokens", response_model=list[TokenOut])
def list_user_tokens(user_id: int, s: Db, _p: Manager) -> list[TokenOut]:
    """The user's API tokens (revoked ones too, oldest first); never their secrets."""
    rows = people.user_tokens(s, user_id)
    return [TokenOut.model_validate(r, from_attributes=True) for r in rows]


@router.delete("/api/users/{user_id}/tokens/{token_id}", status_code=204)
def revoke_user_token(user_id: int, token_id: int, s: Db, w: Work, _p: Manager) -> None:
    """Revoke one API token of the user (404 for a token of someone else)."""
    w.commit(s, lambda t: people.revoke_user_token(t, user_id, token_id))


@router.delete("/api/users/{user_id}/tokens", status_code=204)
def revoke_user_tokens(user_id: int, s: Db, w: Work, _p: Manager) -> None:
    """Revoke every API token of the user."""
    w.commit(s, lambda t: people.revoke_user_tokens(t, user_id))


__all__ = ["router"]
