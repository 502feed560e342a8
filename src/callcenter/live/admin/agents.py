"""Agent profiles: the routing settings of a user with the agent role (skills, capacity,
queue membership, missed offers before a pause).

A user with role agent gets a profile when created (:func:`.people.add_user`); one whose
user left the role keeps it, but it no longer routes (:func:`agent_active`).  A profile
is removed only when its user no longer works as an agent and it is logged out.
Functions over a :class:`Session` (flush, never commit), as in :mod:`.config`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.live.admin.checks import (
    CAPACITY,
    LEVELS,
    MAX_NO_ANSWER,
    ConflictError,
    InvalidError,
    assign,
    check_int,
    get_row,
    known_skills,
    merge,
    show,
)
from callcenter.live.admin.schemas import AgentIn, AgentOut, AgentPatch
from callcenter.storage.tables import AgentRow, AgentStatus, QueueRow, Role, User


def is_logged_in(agent: AgentRow) -> bool:
    return agent.status != AgentStatus.LOGGED_OUT.value


def agent_active(s: Session, agent: AgentRow) -> bool:
    """Whether the profile routes: its user is active and still has the agent role."""
    user = s.get(User, agent.user_id)
    return user is not None and user.active and user.role == Role.AGENT.value


def agent_view(s: Session, row: AgentRow) -> AgentOut:
    """The profile with its user's name and team, and whether it routes."""
    user = s.get(User, row.user_id)
    assert user is not None  # agents.user_id is a foreign key
    return AgentOut(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        display_name=user.display_name,
        team_id=user.team_id,
        skills={str(k): int(v) for k, v in row.skills.items()},
        capacity=row.capacity,
        queues=list(row.queues) if row.queues is not None else None,
        max_no_answer=row.max_no_answer,
        status=row.status,
        status_reason=row.status_reason,
        status_since=row.status_since,
        active=agent_active(s, row),
    )


def list_agents(s: Session, active: bool | None = None) -> list[AgentOut]:
    """Every profile by name; ``active`` picks those that route (True) or not (False)."""
    out = [agent_view(s, r) for r in s.scalars(select(AgentRow).order_by(AgentRow.name))]
    return [a for a in out if active is None or a.active == active]


def get_agent(s: Session, agent_id: int) -> AgentOut:
    return agent_view(s, get_row(s, AgentRow, agent_id, "agent"))


def create_agent(s: Session, new: AgentIn) -> AgentOut:
    """A profile for an existing user with the agent role that has none."""
    user = s.scalar(select(User).where(User.username == new.username))
    if user is None:
        raise InvalidError(f"username: unknown user {show(new.username)}")
    if user.role != Role.AGENT.value:
        raise ConflictError(
            f"user {user.username!r} has role {user.role!r}; only users with role 'agent' "
            "have agent profiles"
        )
    if s.scalar(select(AgentRow.id).where(AgentRow.user_id == user.id)) is not None:
        raise ConflictError(f"user {user.username!r} already has an agent profile")
    row = AgentRow(user_id=user.id, name=user.username, skills={}, queues=None, capacity=3)
    s.add(row)
    s.flush()
    _save(s, row, merge(None, new))  # the defaults of AgentIn are those of a new row
    return agent_view(s, row)


def update_agent(s: Session, agent_id: int, patch: AgentPatch) -> AgentOut:
    """Change a profile's routing settings (skills, capacity, queues, no-answers)."""
    row = get_row(s, AgentRow, agent_id, "agent")
    _save(s, row, merge(row, patch))
    return agent_view(s, row)


def _save(s: Session, row: AgentRow, v: Mapping[str, Any]) -> None:
    values = {
        "skills": _skills(s, v["skills"]),
        "capacity": check_int("capacity", v["capacity"], CAPACITY),
        "queues": _queues(s, v["queues"]),
        "max_no_answer": check_int("max_no_answer", v["max_no_answer"], MAX_NO_ANSWER),
    }
    assign(row, values)
    s.flush()


def _skills(s: Session, value: object) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise InvalidError(f"skills: {show(value)} is not valid; expected {{skill: level 1..10}}")
    skills = known_skills(s)
    out: dict[str, int] = {}
    for skill, level in sorted(value.items()):
        if skill not in skills:
            raise InvalidError(f"skills: unknown skill {show(skill)}")
        out[skill] = check_int(f"skills.{skill}", level, LEVELS)
    return out


def _queues(s: Session, value: object) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise InvalidError(
            f"queues: {show(value)} is not valid; expected a list of queue names or null"
        )
    known = set(s.scalars(select(QueueRow.name)))
    out: list[str] = []
    for i, q in enumerate(value):
        if q not in known:
            raise InvalidError(f"queues[{i}]: unknown queue {show(q)}")
        if q not in out:
            out.append(q)
    return out


def delete_agent(s: Session, agent_id: int) -> None:
    """Remove a profile whose user no longer works as an agent (history keeps the name)."""
    row = get_row(s, AgentRow, agent_id, "agent")
    if agent_active(s, row):
        raise ConflictError(
            f"agent {row.name!r} belongs to an active user with role 'agent'; deactivate the "
            "user or change its role first"
        )
    if is_logged_in(row):
        raise ConflictError(f"agent {row.name!r} is logged in ({row.status}); log them out first")
    s.delete(row)
    s.flush()


__all__ = [
    "agent_active",
    "agent_view",
    "create_agent",
    "delete_agent",
    "get_agent",
    "is_logged_in",
    "list_agents",
    "update_agent",
]
