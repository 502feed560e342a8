"""Administration of the center's configuration: validation and writes.

Pure functions over a SQLAlchemy :class:`Session` (they flush, never commit): skills,
queues, agent profiles, business hours, pause reasons and dispositions here; users and
teams in :mod:`callcenter.live.admin.people`.  The API (``api/admin.py``) and any other
edge (a future CLI or YAML import) call them, so every rule lives in one place.

Every value is checked before anything is written; a bad one raises
:class:`InvalidError` (422) with one line naming the field, the value and what was expected,
a clash with the stored configuration raises :class:`ConflictError` (409), an unknown id
:class:`NotFoundError` (404).

Names that history refers to — queue names, pause-reason names, disposition codes — are
keys in the event log and in contacts, so they cannot change once created, and
"deleting" one deactivates it (``active = false``) instead of removing the row.  Skills,
business hours, teams and agent profiles are removed for real, but only when nothing
uses them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.events import Channel
from callcenter.live.admin.checks import (
    CAPACITY,
    LEVELS,
    MAX_NO_ANSWER,
    PAUSE_MINUTES,
    PRIORITY,
    ConflictError,
    InvalidError,
    assign,
    check_bool,
    check_choice,
    check_int,
    check_name,
    check_seconds,
    check_text,
    check_unique,
    get_row,
    immutable,
    known_skills,
    merge,
    name_list,
    open_contacts,
    show,
)
from callcenter.live.admin.hours import check_holidays, check_timezone, check_weekly
from callcenter.routing import Strategy
from callcenter.storage.tables import (
    AgentRow,
    AgentStatus,
    BusinessHours,
    Disposition,
    PauseReason,
    QueueRow,
    Role,
    Skill,
    User,
)

# --------------------------------------------------------------------------- skills

SKILL_FIELDS: Final[dict[str, Any]] = {"name": None, "description": ""}


def queue_names(s: Session) -> list[str]:
    """Every queue's name (active or not), in name order."""
    return list(s.scalars(select(QueueRow.name).order_by(QueueRow.name)))


def save_skill(s: Session, changes: Mapping[str, Any], skill_id: int | None = None) -> Skill:
    """Create (``skill_id`` None) or update a skill.  A skill in use keeps its name."""
    row = get_row(s, Skill, skill_id, "skill") if skill_id is not None else None
    v = merge(row, SKILL_FIELDS, changes)
    name = check_name("name", v["name"])
    if row is not None and name != row.name:
        users = skill_users(s, row.name)
        if users:
            raise ConflictError(f"skill {row.name!r} is used by {users}; it cannot be renamed")
    check_unique(s, Skill.name, name, row, "skill")
    values = {"name": name, "description": check_text("description", v["description"], 255)}
    row = row or Skill()
    assign(row, values)
    s.add(row)
    s.flush()
    return row


def skill_users(s: Session, skill: str) -> str:
    """Who needs ``skill``: "queue 'a', agents 'x', 'y'" (empty if nobody)."""
    queues = [
        q.name for q in s.scalars(select(QueueRow).order_by(QueueRow.name))
        if any(r.get("skill") == skill for r in q.requirements)
    ]  # fmt: skip
    agents = [
        a.name for a in s.scalars(select(AgentRow).order_by(AgentRow.name)) if skill in a.skills
    ]
    parts = []
    if queues:
        parts.append(("queue " if len(queues) == 1 else "queues ") + name_list(queues))
    if agents:
        parts.append(("agent " if len(agents) == 1 else "agents ") + name_list(agents))
    return " and ".join(parts)


def delete_skill(s: Session, skill_id: int) -> None:
    row = get_row(s, Skill, skill_id, "skill")
    users = skill_users(s, row.name)
    if users:
        raise ConflictError(f"skill {row.name!r} is used by {users}; remove it there first")
    s.delete(row)
    s.flush()


# --------------------------------------------------------------------------- queues

QUEUE_FIELDS: Final[dict[str, Any]] = {
    "name": None,
    "description": "",
    "channel": Channel.CHAT.value,
    "priority": 0,
    "strategy": Strategy.LONGEST_IDLE.value,
    "requirements": [],
    "ring_timeout_s": 20.0,
    "wrapup_s": None,
    "max_wait_s": None,
    "overflow_queue": None,
    "sl_target": 0.8,
    "sl_threshold_s": 20.0,
    "business_hours_id": None,
    "active": True,
}


def _requirements(s: Session, value: object) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise InvalidError(f"requirements: {show(value)} is not valid; expected a list")
    skills = known_skills(s)
    out: list[dict[str, Any]] = []
    for i, r in enumerate(value):
        where = f"requirements[{i}]"
        if not isinstance(r, Mapping) or set(r) - {"skill", "min_level"} or "skill" not in r:
            raise InvalidError(f"{where}: {show(r)} is not valid; expected {{skill, min_level}}")
        skill = r["skill"]
        if skill not in skills:
            raise InvalidError(f"{where}.skill: unknown skill {show(skill)}")
        if any(o["skill"] == skill for o in out):
            raise InvalidError(f"{where}.skill: {skill!r} is required twice")
        level = check_int(f"{where}.min_level", r.get("min_level", 1), LEVELS)
        out.append({"skill": skill, "min_level": level})
    return out


def _overflow(s: Session, value: object, name: str) -> str | None:
    if value is None:
        return None
    if value == name:
        raise InvalidError(f"overflow_queue: a queue cannot overflow into itself ({name!r})")
    target = s.scalar(select(QueueRow).where(QueueRow.name == value))
    if target is None:
        raise InvalidError(f"overflow_queue: unknown queue {show(value)}")
    if not target.active:
        raise InvalidError(f"overflow_queue: queue {target.name!r} is inactive")
    return target.name


def _check_queue(s: Session, v: Mapping[str, Any], row: QueueRow | None) -> dict[str, Any]:
    name = check_name("name", v["name"])
    if row is not None:
        immutable(row, "name", row.name, name, "history refers to queues by name")
    check_unique(s, QueueRow.name, name, row, "queue")
    sl_target = v["sl_target"]
    if (
        isinstance(sl_target, bool)
        or not isinstance(sl_target, int | float)
        or not (0 < sl_target <= 1)
    ):
        raise InvalidError(
            f"sl_target: {show(sl_target)} is not valid; expected a fraction > 0 and <= 1 "
            "(0.8 = 80 %)"
        )
    hours = v["business_hours_id"]
    if hours is not None and (
        isinstance(hours, bool) or not isinstance(hours, int) or s.get(BusinessHours, hours) is None
    ):
        raise InvalidError(f"business_hours_id: no business hours with id {show(hours)}")
    wrapup, max_wait = v["wrapup_s"], v["max_wait_s"]
    return {
        "name": name,
        "description": check_text("description", v["description"], 255),
        "channel": check_choice("channel", v["channel"], Channel, "a channel").value,
        "priority": check_int("priority", v["priority"], PRIORITY),
        "strategy": check_choice("strategy", v["strategy"], Strategy, "a routing strategy").value,
        "requirements": _requirements(s, v["requirements"]),
        "ring_timeout_s": check_seconds("ring_timeout_s", v["ring_timeout_s"]),
        "wrapup_s": None if wrapup is None else check_seconds("wrapup_s", wrapup, zero_ok=True),
        "max_wait_s": None if max_wait is None else check_seconds("max_wait_s", max_wait),
        "overflow_queue": _overflow(s, v["overflow_queue"], name),
        "sl_target": float(sl_target),
        "sl_threshold_s": check_seconds("sl_threshold_s", v["sl_threshold_s"]),
        "business_hours_id": hours,
        "active": check_bool("active", v["active"]),
    }


def _check_deactivate(s: Session, row: QueueRow) -> None:
    n = open_contacts(s, row.name)
    if n:
        raise ConflictError(
            f"queue {row.name!r} has {n} open contact{'s' if n != 1 else ''} (queued, ringing, "
            "active or in wrap-up); deactivate it when they are done"
        )
    sources = list(
        s.scalars(
            select(QueueRow.name)
            .where(QueueRow.overflow_queue == row.name, QueueRow.active)
            .order_by(QueueRow.name)
        )
    )
    if sources:
        raise ConflictError(
            f"queue {row.name!r} is the overflow queue of {name_list(sources)}; change that first"
        )


def save_queue(s: Session, changes: Mapping[str, Any], queue_id: int | None = None) -> QueueRow:
    """Create (``queue_id`` None) or update a queue; deactivating one needs it idle."""
    row = get_row(s, QueueRow, queue_id, "queue") if queue_id is not None else None
    values = _check_queue(s, merge(row, QUEUE_FIELDS, changes), row)
    if row is not None and row.active and not values["active"]:
        _check_deactivate(s, row)
    row = row or QueueRow()
    assign(row, values)
    s.add(row)
    s.flush()
    return row


def deactivate_queue(s: Session, queue_id: int) -> QueueRow:
    """``DELETE``: the queue stops taking contacts; its row (and name) stay for history."""
    return save_queue(s, {"active": False}, queue_id)


# --------------------------------------------------------------------------- agent profiles

AGENT_FIELDS: Final[dict[str, Any]] = {
    "skills": {},
    "capacity": 3,
    "queues": None,
    "max_no_answer": 3,
}


def _agent_skills(s: Session, value: object) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise InvalidError(f"skills: {show(value)} is not valid; expected {{skill: level 1..10}}")
    skills = known_skills(s)
    out: dict[str, int] = {}
    for skill, level in sorted(value.items()):
        if skill not in skills:
            raise InvalidError(f"skills: unknown skill {show(skill)}")
        out[skill] = check_int(f"skills.{skill}", level, LEVELS)
    return out


def _agent_queues(s: Session, value: object) -> list[str] | None:
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


def is_logged_in(agent: AgentRow) -> bool:
    return agent.status != AgentStatus.LOGGED_OUT.value


def agent_active(s: Session, agent: AgentRow) -> bool:
    """Whether the profile routes: its user is active and still has the agent role."""
    user = s.get(User, agent.user_id)
    return user is not None and user.active and user.role == Role.AGENT.value


def save_agent(s: Session, changes: Mapping[str, Any], agent_id: int) -> AgentRow:
    """Change an agent profile's routing settings (skills, capacity, queues, no-answers)."""
    row = get_row(s, AgentRow, agent_id, "agent")
    v = merge(row, AGENT_FIELDS, changes)
    values = {
        "skills": _agent_skills(s, v["skills"]),
        "capacity": check_int("capacity", v["capacity"], CAPACITY),
        "queues": _agent_queues(s, v["queues"]),
        "max_no_answer": check_int("max_no_answer", v["max_no_answer"], MAX_NO_ANSWER),
    }
    assign(row, values)
    s.flush()
    return row


def create_agent(s: Session, username: object, changes: Mapping[str, Any]) -> AgentRow:
    """An agent profile for an existing user with the agent role that has none."""
    user = s.scalar(select(User).where(User.username == username))
    if user is None:
        raise InvalidError(f"username: unknown user {show(username)}")
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
    return save_agent(s, changes, row.id)


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


# --------------------------------------------------------------------------- business hours

HOURS_FIELDS: Final[dict[str, Any]] = {
    "name": None,
    "timezone": "UTC",
    "weekly": {},
    "holidays": [],
}


def save_hours(
    s: Session, changes: Mapping[str, Any], hours_id: int | None = None
) -> BusinessHours:
    """Create or update opening hours (time zone, weekly intervals, holidays)."""
    row = get_row(s, BusinessHours, hours_id, "business hours") if hours_id is not None else None
    v = merge(row, HOURS_FIELDS, changes)
    name = check_text("name", v["name"] if v["name"] is not None else "", 64, required=True)
    check_unique(s, BusinessHours.name, name, row, "business hours")
    values = {
        "name": name,
        "timezone": check_timezone(v["timezone"]),
        "weekly": check_weekly(v["weekly"]),
        "holidays": check_holidays(v["holidays"]),
    }
    row = row or BusinessHours()
    assign(row, values)
    s.add(row)
    s.flush()
    return row


def hours_users(s: Session, hours_id: int) -> list[str]:
    return list(
        s.scalars(
            select(QueueRow.name)
            .where(QueueRow.business_hours_id == hours_id)
            .order_by(QueueRow.name)
        )
    )


def delete_hours(s: Session, hours_id: int) -> None:
    row = get_row(s, BusinessHours, hours_id, "business hours")
    queues = hours_users(s, hours_id)
    if queues:
        raise ConflictError(
            f"business hours {row.name!r} are used by queue{'s' if len(queues) > 1 else ''} "
            f"{name_list(queues)}; give them other hours first"
        )
    s.delete(row)
    s.flush()


# --------------------------------------------------------------------------- reasons, codes

PAUSE_FIELDS: Final[dict[str, Any]] = {
    "name": None,
    "paid": True,
    "max_minutes": None,
    "active": True,
}
DISPOSITION_FIELDS: Final[dict[str, Any]] = {
    "code": None,
    "label": "",
    "resolved": True,
    "active": True,
}


def save_pause_reason(
    s: Session, changes: Mapping[str, Any], reason_id: int | None = None
) -> PauseReason:
    """Create or update a pause reason; its name is fixed once created (history)."""
    row = get_row(s, PauseReason, reason_id, "pause reason") if reason_id is not None else None
    v = merge(row, PAUSE_FIELDS, changes)
    name = check_name("name", v["name"])
    if row is not None:
        immutable(row, "name", row.name, name, "history refers to pause reasons by name")
    check_unique(s, PauseReason.name, name, row, "pause reason")
    limit = v["max_minutes"]
    values = {
        "name": name,
        "paid": check_bool("paid", v["paid"]),
        "max_minutes": None if limit is None else check_int("max_minutes", limit, PAUSE_MINUTES),
        "active": check_bool("active", v["active"]),
    }
    row = row or PauseReason()
    assign(row, values)
    s.add(row)
    s.flush()
    return row


def save_disposition(
    s: Session, changes: Mapping[str, Any], disposition_id: int | None = None
) -> Disposition:
    """Create or update a disposition; its code is fixed once created (contacts keep it)."""
    row = (
        get_row(s, Disposition, disposition_id, "disposition")
        if disposition_id is not None
        else None
    )
    v = merge(row, DISPOSITION_FIELDS, changes)
    code = check_name("code", v["code"])
    if row is not None:
        immutable(row, "code", row.code, code, "contacts refer to dispositions by code")
    check_unique(s, Disposition.code, code, row, "disposition")
    values = {
        "code": code,
        "label": check_text("label", v["label"], 128),
        "resolved": check_bool("resolved", v["resolved"]),
        "active": check_bool("active", v["active"]),
    }
    row = row or Disposition()
    assign(row, values)
    s.add(row)
    s.flush()
    return row


__all__ = [
    "AGENT_FIELDS",
    "DISPOSITION_FIELDS",
    "HOURS_FIELDS",
    "PAUSE_FIELDS",
    "QUEUE_FIELDS",
    "SKILL_FIELDS",
    "agent_active",
    "create_agent",
    "deactivate_queue",
    "delete_agent",
    "delete_hours",
    "delete_skill",
    "hours_users",
    "is_logged_in",
    "queue_names",
    "save_agent",
    "save_disposition",
    "save_hours",
    "save_pause_reason",
    "save_queue",
    "save_skill",
    "skill_users",
]
