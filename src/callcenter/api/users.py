"""User management: ``/api/users`` (``users.manage``: administrators).

Create users with a role and password (Argon2id), change their role, display name,
e-mail, team and active flag, reset their password.  "Deleting" a user deactivates it
(history keeps its name).  Nobody may change their own role or deactivate themselves
(409).  A change of role or of the active flag changes who the router may route to, so
it is committed and then the routing engine reloaded (see :func:`callcenter.api.admin.commit`).
Rules: :mod:`callcenter.live.admin.people`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.api.admin import CenterDep, commit
from callcenter.api.admin_schemas import UserIn, UserOut, UserPatch
from callcenter.api.deps import Db, require
from callcenter.auth.permissions import Permission
from callcenter.auth.service import Principal, parse_role
from callcenter.live.admin import checks as chk
from callcenter.live.admin import people
from callcenter.storage.tables import Role, User

router = APIRouter(tags=["users"])

Manager = Annotated[Principal, Depends(require(Permission.USERS_MANAGE))]


def user_out(s: Session, user: User) -> UserOut:
    agent = people.agent_of(s, user)
    out = UserOut.model_validate(user)
    out.agent_id = agent.id if agent is not None else None
    return out


@router.get("/api/users", response_model=list[UserOut])
def list_users(
    s: Db, _p: Manager, role: str | None = None, active: bool | None = None
) -> list[UserOut]:
    """Every user, by username; ``?role=agent``, ``?active=true`` filter."""
    q = select(User).order_by(User.username)
    if role is not None:
        q = q.where(User.role == parse_role(role).value)
    if active is not None:
        q = q.where(User.active == active)
    return [user_out(s, u) for u in s.scalars(q)]


@router.get("/api/users/{user_id}", response_model=UserOut)
def get_user(user_id: int, s: Db, _p: Manager) -> UserOut:
    return user_out(s, chk.get_row(s, User, user_id, "user"))


@router.post("/api/users", response_model=UserOut, status_code=201)
def create_user(body: UserIn, s: Db, c: CenterDep, _p: Manager) -> UserOut:
    """A new user; an agent gets an agent profile (skills via ``/api/admin/agents``)."""
    data = body.model_dump(exclude_unset=True)
    return commit(
        c,
        s,
        lambda s: user_out(s, people.add_user(s, data, now=c.clock())),
        routing=data.get("role") == Role.AGENT.value,
    )


@router.patch("/api/users/{user_id}", response_model=UserOut)
def update_user(user_id: int, body: UserPatch, s: Db, c: CenterDep, p: Manager) -> UserOut:
    """Change details, role, team, active flag or password (only the fields sent)."""
    data = body.model_dump(exclude_unset=True)
    return commit(
        c,
        s,
        lambda s: user_out(s, people.update_user(s, user_id, data, acting=p.user_id)),
        routing="role" in data or "active" in data,
    )


@router.delete("/api/users/{user_id}", status_code=204)
def deactivate_user(user_id: int, s: Db, c: CenterDep, p: Manager) -> None:
    """Deactivate the user: it can no longer sign in; its history stays."""
    commit(c, s, lambda s: people.deactivate_user(s, user_id, acting=p.user_id), routing=True)


__all__ = ["router", "user_out"]
