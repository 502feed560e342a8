"""The demo center: what ``callcenter demo`` writes into a database before it starts.

:func:`seed_demo` is idempotent (what already exists is kept): staff of every role,
agents, teams, skills, the queues ``support`` and ``sales`` (open around the clock),
dispositions and pause reasons.  :func:`issue_tokens` and :func:`revoke_tokens` give the
driver (:mod:`callcenter.live.demo.driver`) its credentials for one run.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from callcenter.auth.service import create_token, create_user, digest
from callcenter.errors import UserError
from callcenter.storage.tables import (
    AgentRow,
    ApiToken,
    BusinessHours,
    Disposition,
    PauseReason,
    QueueRow,
    Role,
    Skill,
    Team,
    TeamSupervisor,
    User,
)

DEMO_PASSWORD: Final = "demo1234"
HUMAN_AGENT: Final = "ann"  # left for a person to sign in as
MAX_AGENTS: Final = 20
# username -> (role, display name, team)
STAFF: Final[dict[str, tuple[Role, str, str | None]]] = {
    "admin": (Role.ADMIN, "Ada Admin", None),
    "manager": (Role.MANAGER, "Max Manager", None),
    "sue": (Role.SUPERVISOR, "Sue Supervisor", "blue"),
    "quinn": (Role.QA, "Quinn QA", None),
    HUMAN_AGENT: (Role.AGENT, "Ann Agent", "blue"),
}
AGENT_NAMES: Final = (
    "bob", "cid", "dee", "eve", "fay", "gus", "hal", "ivy", "jon", "kim",
    "lee", "mia", "ned", "ola", "pat", "ray", "sam", "tia", "uma", "vic",
)  # fmt: skip
QUEUES: Final = ("support", "sales")
DISPOSITIONS: Final = (
    ("resolved", "Resolved", True),
    ("follow_up", "Needs follow-up", False),
    ("escalated", "Escalated", False),
)
PAUSE_REASONS: Final = (("break", True, 15), ("lunch", False, 60), ("training", True, 120))


def agent_names(count: int) -> list[str]:
    """The simulated agents' usernames (``count`` of them; ``ann`` is never one)."""
    return list(AGENT_NAMES[:count])


def _ensure_user(
    s: Session, username: str, role: Role, display: str, team: Team | None, now: float
) -> User:
    user = s.scalar(select(User).where(User.username == username))
    if user is None:
        user = create_user(
            s, username, DEMO_PASSWORD, role, now=now, display_name=display,
            team_id=team.id if team is not None else None,
        )  # fmt: skip
    return user


def _ensure_config(s: Session) -> dict[str, Team]:
    """Teams, skills, always-open hours, queues, dispositions and pause reasons."""
    teams = {}
    for name in ("blue", "green"):
        team = s.scalar(select(Team).where(Team.name == name))
        if team is None:
            team = Team(name=name)
            s.add(team)
        teams[name] = team
    for skill in QUEUES:
        if s.scalar(select(Skill).where(Skill.name == skill)) is None:
            s.add(Skill(name=skill, description=f"{skill} chats"))
    hours = s.scalar(select(BusinessHours).where(BusinessHours.name == "always"))
    if hours is None:
        day = [["00:00", "24:00"]]
        hours = BusinessHours(
            name="always", timezone="UTC", holidays=[],
            weekly={d: day for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
        )  # fmt: skip
        s.add(hours)
    s.flush()
    for name, threshold in zip(QUEUES, (20.0, 30.0), strict=True):
        if s.scalar(select(QueueRow).where(QueueRow.name == name)) is None:
            s.add(
                QueueRow(
                    name=name, description=f"{name.title()} chats", channel="chat",
                    requirements=[{"skill": name, "min_level": 1}], ring_timeout_s=20.0,
                    sl_target=0.8, sl_threshold_s=threshold, business_hours_id=hours.id,
                )
            )  # fmt: skip
    for code, label, resolved in DISPOSITIONS:
        if s.scalar(select(Disposition).where(Disposition.code == code)) is None:
            s.add(Disposition(code=code, label=label, resolved=resolved))
    for reason, paid, minutes in PAUSE_REASONS:
        if s.scalar(select(PauseReason).where(PauseReason.name == reason)) is None:
            s.add(PauseReason(name=reason, paid=paid, max_minutes=minutes))
    s.flush()
    return teams


def seed_demo(db: Engine, agents: int, *, now: float | None = None) -> list[str]:
    """Write the demo center into ``db`` (already migrated); keep whatever exists.

    Returns the usernames of the ``agents`` simulated agents.  Every user created here
    has the password :data:`DEMO_PASSWORD`; ``sue`` supervises team blue (ann and every
    other simulated agent).  Agents have skill ``support``; every other one ``sales`` too.
    """
    if not 1 <= agents <= MAX_AGENTS:
        raise UserError(f"--agents: {agents} is not valid; expected 1 to {MAX_AGENTS}")
    now = time.time() if now is None else now
    names = agent_names(agents)
    with Session(db) as s, s.begin():
        teams = _ensure_config(s)
        for username, (role, display, team) in STAFF.items():
            user = _ensure_user(s, username, role, display, teams[team] if team else None, now)
            if role is Role.SUPERVISOR and team is not None:
                key = (teams[team].id, user.id)
                if s.get(TeamSupervisor, key) is None:
                    s.add(TeamSupervisor(team_id=key[0], user_id=key[1]))
        for i, name in enumerate(names):
            agent_team = teams["blue" if i % 2 == 0 else "green"]
            _ensure_user(s, name, Role.AGENT, name.title(), agent_team, now)
        s.flush()
        sales_agents = {HUMAN_AGENT, *names[::2]}
        for a in s.scalars(select(AgentRow).where(AgentRow.name.in_([HUMAN_AGENT, *names]))):
            if not a.skills:  # a profile the demo made, not one someone edited since
                a.skills = {"support": 5, **({"sales": 4} if a.name in sales_agents else {})}
                a.capacity = 3
    return names


def issue_tokens(
    db: Engine, usernames: Iterable[str], *, now: float | None = None
) -> dict[str, str]:
    """A fresh API token for each user (the driver's credentials for this run)."""
    now = time.time() if now is None else now
    out = {}
    with Session(db) as s, s.begin():
        for username in usernames:
            user = s.scalar(select(User).where(User.username == username))
            if user is None:
                raise LookupError(f"no user {username!r}")
            _row, out[username] = create_token(s, user, "callcenter demo", now=now)
    return out


def revoke_tokens(db: Engine, secrets: Iterable[str]) -> None:
    """Revoke the driver's tokens when the demo stops (they are of no use afterwards)."""
    hashes = [digest(t) for t in secrets]
    with Session(db) as s, s.begin():
        s.execute(update(ApiToken).where(ApiToken.token_hash.in_(hashes)).values(revoked=True))


__all__ = [
    "AGENT_NAMES",
    "DEMO_PASSWORD",
    "DISPOSITIONS",
    "HUMAN_AGENT",
    "MAX_AGENTS",
    "QUEUES",
    "STAFF",
    "agent_names",
    "issue_tokens",
    "revoke_tokens",
    "seed_demo",
]
