"""A small center for tests: users of every role, two teams, queues, skills, dispositions.

Written straight into the database (before the server starts) with the same service
functions the API uses for users, so tests do not pay for dozens of HTTP set-up calls.
"""

from __future__ import annotations

import time
from typing import Final

from sqlalchemy.orm import Session

from callcenter.auth.service import create_user
from callcenter.storage.db import make_engine, upgrade
from callcenter.storage.tables import (
    AgentRow,
    Disposition,
    PauseReason,
    QueueRow,
    Role,
    Skill,
    Team,
    TeamSupervisor,
)

PASSWORD: Final = "Lantern-Wolf-42"

# username -> (role, team)
USERS: Final[dict[str, tuple[Role, str | None]]] = {
    "admin": (Role.ADMIN, None),
    "manager": (Role.MANAGER, None),
    "sue": (Role.SUPERVISOR, "blue"),  # supervises team blue
    "quinn": (Role.QA, None),
    "ann": (Role.AGENT, "blue"),
    "bob": (Role.AGENT, "blue"),
    "cid": (Role.AGENT, "green"),
}
AGENTS: Final = ("ann", "bob", "cid")


def seed(db_url: str, *, ring_timeout_s: float = 30.0, capacity: int = 3) -> None:
    """Create the schema and the standard test center in ``db_url``."""
    upgrade(db_url)
    engine = make_engine(db_url)
    now = time.time()
    try:
        with Session(engine) as s, s.begin():
            teams = {name: Team(name=name) for name in ("blue", "green")}
            s.add_all(teams.values())
            s.add_all([Skill(name="support"), Skill(name="sales")])
            s.flush()
            for username, (role, team) in USERS.items():
                user = create_user(
                    s,
                    username,
                    PASSWORD,
                    role,
                    now=now,
                    display_name=username.title(),
                    team_id=teams[team].id if team else None,
                )
                if role is Role.SUPERVISOR and team is not None:
                    s.add(TeamSupervisor(team_id=teams[team].id, user_id=user.id))
            s.flush()
            for a in s.query(AgentRow):
                a.skills = {"support": 5, "sales": 3}
                a.capacity = capacity
            s.add_all(
                [
                    QueueRow(
                        name="support",
                        channel="chat",
                        requirements=[{"skill": "support", "min_level": 1}],
                        ring_timeout_s=ring_timeout_s,
                        sl_threshold_s=20.0,
                    ),
                    QueueRow(
                        name="sales",
                        channel="chat",
                        requirements=[{"skill": "sales", "min_level": 1}],
                        ring_timeout_s=ring_timeout_s,
                        sl_threshold_s=30.0,
                    ),
                ]
            )
            s.add_all(
                [
                    Disposition(code="resolved", label="Resolved", resolved=True),
                    Disposition(code="follow_up", label="Needs follow-up", resolved=False),
                    PauseReason(name="break", paid=True, max_minutes=15),
                    PauseReason(name="lunch", paid=False, max_minutes=60),
                ]
            )
    finally:
        engine.dispose()
