"""Administration of people: users (role, password, active) and teams.

Pure functions over a :class:`Session` (flush, never commit), with the errors of
:mod:`callcenter.live.admin.config`.  Rules:

- a user's username never changes (the event log and contacts name agents by it);
- "deleting" a user deactivates it: it can no longer sign in, its sessions and tokens
  stop working, its history stays;
- nobody may change their own role or deactivate themselves (the last administrator
  cannot lock everyone out by accident);
- a user who becomes an agent gets an agent profile (or gets its old one back, skills
  and all); a user who stops being an agent keeps the profile, which no longer routes;
  either needs the agent logged out, as does deactivating an agent;
- a team's members are the users whose ``team_id`` is the team (one team per user);
  its supervisors are users with the supervisor or manager role.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from callcenter.auth.passwords import hash_password
from callcenter.auth.service import check_username, create_user, parse_role
from callcenter.live.admin.checks import (
    ConflictError,
    InvalidError,
    check_bool,
    check_text,
    check_unique,
    get_row,
    show,
)
from callcenter.live.admin.config import is_logged_in
from callcenter.storage.tables import AgentRow, Role, Team, TeamSupervisor, User, WebSession

_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
SUPERVISOR_ROLES: Final = frozenset({Role.SUPERVISOR, Role.MANAGER})
USER_FIELDS: Final = frozenset({"display_name", "email", "role", "team_id", "active", "password"})


def check_email(value: object) -> str | None:
    """An e-mail address (lower-cased) or None for none."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 255 or not _EMAIL.match(value.strip()):
        raise InvalidError(
            f"email: {show(value)} is not an e-mail address (expected name@example.com)"
        )
    return value.strip().lower()


def check_team(s: Session, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or s.get(Team, value) is None:
        raise InvalidError(f"team_id: no team with id {show(value)}")
    return value


def agent_of(s: Session, user: User) -> AgentRow | None:
    return s.scalar(select(AgentRow).where(AgentRow.user_id == user.id))


def _must_be_logged_out(s: Session, user: User, what: str) -> None:
    agent = agent_of(s, user)
    if agent is not None and is_logged_in(agent):
        raise ConflictError(
            f"agent {agent.name!r} is logged in ({agent.status}); they must log out before {what}"
        )


def add_user(s: Session, values: Mapping[str, Any], *, now: float) -> User:
    """A new user (an agent gets an empty agent profile).  Raises on any bad value."""
    username = values.get("username")
    if not isinstance(username, str):
        raise InvalidError(f"username: {show(username)} is not valid; expected a username")
    check_username(username)
    if s.scalar(select(User.id).where(User.username == username)) is not None:
        raise ConflictError(f"user {username!r} already exists")
    role = parse_role(str(values.get("role")))
    password = values.get("password")
    if not isinstance(password, str):
        raise InvalidError("password: expected text")
    return create_user(
        s,
        username,
        password,
        role,
        now=now,
        display_name=check_text("display_name", values.get("display_name") or "", 128),
        email=check_email(values.get("email")),
        team_id=check_team(s, values.get("team_id")),
    )


def update_user(s: Session, user_id: int, changes: Mapping[str, Any], *, acting: int) -> User:
    """Change a user's details, role, team, active flag or password (``acting``: who asks)."""
    user = get_row(s, User, user_id, "user")
    unknown = set(changes) - USER_FIELDS
    if unknown:
        raise InvalidError(f"{sorted(unknown)[0]}: unknown field")
    if "role" in changes:
        role = parse_role(str(changes["role"]))
        if role.value != user.role:
            if user.id == acting:
                raise ConflictError("you cannot change your own role")
            _change_role(s, user, role)
    if "active" in changes:
        active = check_bool("active", changes["active"])
        if not active and user.active:
            if user.id == acting:
                raise ConflictError("you cannot deactivate yourself")
            _must_be_logged_out(s, user, "their user is deactivated")
        user.active = active
    if "display_name" in changes:
        user.display_name = (
            check_text("display_name", changes["display_name"], 128) or user.username
        )
    if "email" in changes:
        user.email = check_email(changes["email"])
    if "team_id" in changes:
        user.team_id = check_team(s, changes["team_id"])
    if "password" in changes:
        password = changes["password"]
        if not isinstance(password, str):
            raise InvalidError("password: expected text")
        user.password_hash = hash_password(password)
        # a reset password ends the user's browser sessions (API tokens are kept)
        for ws in s.scalars(select(WebSession).where(WebSession.user_id == user.id)):
            s.delete(ws)
    s.flush()
    return user


def _change_role(s: Session, user: User, role: Role) -> None:
    was_agent = user.role == Role.AGENT.value
    if was_agent:
        _must_be_logged_out(s, user, "their role changes")
    if role is Role.AGENT and agent_of(s, user) is None:
        s.add(AgentRow(user_id=user.id, name=user.username, skills={}, queues=None, capacity=3))
    if role not in SUPERVISOR_ROLES:  # no longer in charge of teams
        for ts in s.scalars(select(TeamSupervisor).where(TeamSupervisor.user_id == user.id)):
            s.delete(ts)
    user.role = role.value


def deactivate_user(s: Session, user_id: int, *, acting: int) -> User:
    """``DELETE``: the user can no longer sign in; its history stays."""
    return update_user(s, user_id, {"active": False}, acting=acting)


# --------------------------------------------------------------------------- teams


def team_members(s: Session, team_id: int) -> list[str]:
    return list(
        s.scalars(select(User.username).where(User.team_id == team_id).order_by(User.username))
    )


def team_supervisors(s: Session, team_id: int) -> list[str]:
    return list(
        s.scalars(
            select(User.username)
            .join(TeamSupervisor, TeamSupervisor.user_id == User.id)
            .where(TeamSupervisor.team_id == team_id)
            .order_by(User.username)
        )
    )


def _users(s: Session, field: str, value: object) -> list[User]:
    if not isinstance(value, list):
        raise InvalidError(f"{field}: {show(value)} is not valid; expected a list of usernames")
    out: list[User] = []
    for i, name in enumerate(value):
        user = s.scalar(select(User).where(User.username == name))
        if user is None:
            raise InvalidError(f"{field}[{i}]: unknown user {show(name)}")
        if user not in out:
            out.append(user)
    return out


def save_team(s: Session, changes: Mapping[str, Any], team_id: int | None = None) -> Team:
    """Create or update a team: name, members (replaces the list), supervisors (same)."""
    unknown = set(changes) - {"name", "members", "supervisors"}
    if unknown:
        raise InvalidError(f"{sorted(unknown)[0]}: unknown field")
    team = get_row(s, Team, team_id, "team") if team_id is not None else None
    name = changes.get("name", team.name if team is not None else None)
    name = check_text("name", name if name is not None else "", 128, required=True)
    check_unique(s, Team.name, name, team, "team")
    members = _users(s, "members", changes["members"]) if "members" in changes else None
    supervisors = (
        _users(s, "supervisors", changes["supervisors"]) if "supervisors" in changes else None
    )
    for i, u in enumerate(supervisors or ()):
        if Role(u.role) not in SUPERVISOR_ROLES:
            raise InvalidError(
                f"supervisors[{i}]: user {u.username!r} has role {u.role!r}; expected a "
                "supervisor or manager"
            )
    team = team or Team()
    team.name = name
    s.add(team)
    s.flush()
    if members is not None:
        for u in s.scalars(select(User).where(User.team_id == team.id)):
            if u not in members:
                u.team_id = None
        for u in members:
            u.team_id = team.id
    if supervisors is not None:
        for ts in s.scalars(select(TeamSupervisor).where(TeamSupervisor.team_id == team.id)):
            s.delete(ts)
        s.flush()
        s.add_all(TeamSupervisor(team_id=team.id, user_id=u.id) for u in supervisors)
    s.flush()
    return team


def delete_team(s: Session, team_id: int) -> None:
    """Remove a team without members (its supervisors' assignments go with it)."""
    team = get_row(s, Team, team_id, "team")
    members = team_members(s, team_id)
    if members:
        raise ConflictError(
            f"team {team.name!r} has members ({', '.join(repr(m) for m in members)}); "
            "move them to another team first"
        )
    s.execute(delete(TeamSupervisor).where(TeamSupervisor.team_id == team_id))
    s.delete(team)
    s.flush()


__all__ = [
    "SUPERVISOR_ROLES",
    "add_user",
    "agent_of",
    "check_email",
    "check_team",
    "deactivate_user",
    "delete_team",
    "save_team",
    "team_members",
    "team_supervisors",
    "update_user",
]
