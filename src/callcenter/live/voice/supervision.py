"""Who may supervise whose calls (``docs/call-control.md``): a manager any agent's, a
supervisor the agents of the teams it supervises. The controller does the rest
(``calls/supervise.py``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.auth.service import Principal
from callcenter.crm.common import team_members
from callcenter.errors import NotFoundError
from callcenter.storage.tables import AgentRow
from callcenter.storage.tables.people import Role


def check_scope(s: Session, p: Principal, agent: str) -> None:
    """Raise :class:`NotFoundError` unless ``p`` may supervise ``agent``'s calls (an
    agent outside a supervisor's teams is answered like one that does not exist)."""
    if p.role is Role.MANAGER:
        if s.scalar(select(AgentRow.id).where(AgentRow.name == agent)) is None:
            raise NotFoundError("agent", agent)
        return
    if p.role is not Role.SUPERVISOR or agent not in team_members(s, p):
        raise NotFoundError("agent of your teams", agent)


__all__ = ["check_scope"]
