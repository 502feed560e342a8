"""Row-level visibility: which contacts (and so transcripts, customers' histories) a
principal may see.

- administrator, manager, QA analyst: every contact;
- supervisor: contacts held at some point by an agent of a team it supervises;
- agent: contacts it held itself (``contact_agents``), never another agent's.

The API applies :func:`contact_filter` to every query that returns contacts, so an
agent asking for someone else's contact by id gets 404, as if it did not exist.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, false, select, true

from callcenter.auth.service import Principal
from callcenter.storage.tables import AgentRow, ContactAgent, ContactRow, Role, User


def contact_filter(p: Principal) -> ColumnElement[bool]:
    """A WHERE clause on :class:`ContactRow` limiting it to what ``p`` may see."""
    if p.role in (Role.ADMIN, Role.MANAGER, Role.QA):
        return true()
    if p.role is Role.AGENT:
        if p.agent is None:
            return false()
        return exists(
            select(ContactAgent.contact_id).where(
                ContactAgent.contact_id == ContactRow.id, ContactAgent.agent == p.agent
            )
        )
    if p.role is Role.SUPERVISOR:
        if not p.supervised_teams:
            return false()
        team_agents = (
            select(AgentRow.name)
            .join(User, User.id == AgentRow.user_id)
            .where(User.team_id.in_(p.supervised_teams))
        )
        return exists(
            select(ContactAgent.contact_id).where(
                ContactAgent.contact_id == ContactRow.id, ContactAgent.agent.in_(team_agents)
            )
        )
    return false()


def agent_filter(p: Principal) -> ColumnElement[bool]:
    """A WHERE clause on :class:`AgentRow` (joined to :class:`User`): agents ``p`` sees."""
    if p.role in (Role.ADMIN, Role.MANAGER):
        return true()
    if p.role is Role.SUPERVISOR:
        return User.team_id.in_(p.supervised_teams) if p.supervised_teams else false()
    if p.role is Role.AGENT and p.agent is not None:
        return AgentRow.name == p.agent
    return false()


__all__ = ["agent_filter", "contact_filter"]
