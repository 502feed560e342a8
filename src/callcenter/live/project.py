"""Read models from the router's events: ``contacts`` and ``agents`` rows people look at.

The event log is the truth; these rows are what pages and the API show without reading
the log: a contact's status, queue, current agent and times, an agent's state and since
when.  :func:`apply` runs in the transaction that appends the events.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from callcenter.events import Event, EventType
from callcenter.storage.tables import AgentRow, AgentStatus, ContactAgent, ContactRow, ContactStatus


def _contact(s: Session, cid: str, **values: Any) -> None:
    s.execute(update(ContactRow).where(ContactRow.id == cid).values(**values))


def _holder(s: Session, cid: str) -> str | None:
    return s.scalar(select(ContactRow.agent).where(ContactRow.id == cid))


def _ringing_at(s: Session, cid: str) -> str | None:
    """The agent ``cid`` is ringing now, if it is ringing."""
    row = s.execute(
        select(ContactRow.agent).where(
            ContactRow.id == cid, ContactRow.status == ContactStatus.RINGING.value
        )
    ).first()
    return None if row is None else row[0]


def apply(
    s: Session,
    events: Iterable[Event],
    contacts: set[str],
    agents: set[str],
    withdrawn: dict[str, str] | None = None,
) -> None:
    """Update the read models for ``events``; add the ids touched to the two sets, and
    to ``withdrawn`` each contact that left while ringing an agent, with that agent."""
    for e in events:
        t, c, a = e.t, e.contact, e.agent
        et = e.type
        if c is not None:
            contacts.add(c)
        if a is not None:
            agents.add(a)
        if et is EventType.ENQUEUE and c is not None:
            _contact(
                s, c, status=ContactStatus.QUEUED.value, queue=e.queue, agent=None, enqueued_at=t
            )
        elif et is EventType.OFFER and c is not None:
            _contact(s, c, status=ContactStatus.RINGING.value, agent=a, offered_at=t)
        elif et is EventType.RING_NOANSWER and c is not None:
            _contact(s, c, status=ContactStatus.QUEUED.value, agent=None)
        elif et in (EventType.CONNECT, EventType.CALLBACK_MADE) and c is not None and a is not None:
            row = s.get(ContactRow, c)
            if row is not None:
                row.status, row.agent = ContactStatus.ACTIVE.value, a
                if row.answered_at is None:
                    row.answered_at = t
                if s.get(ContactAgent, (c, a)) is None:
                    s.add(ContactAgent(contact_id=c, agent=a))
                s.flush()
        elif et is EventType.COMPLETE and c is not None:
            _contact(s, c, status=ContactStatus.WRAPUP.value, ended_at=t)
        elif et is EventType.WRAPUP_END and c is not None:
            if _holder(s, c) == a:  # not the wrap-up of an agent who transferred it on
                _contact(s, c, status=ContactStatus.CLOSED.value, closed_at=t)
        elif et is EventType.ABANDON and c is not None:
            _withdraw(s, c, agents, withdrawn)
            _contact(
                s, c, status=ContactStatus.ABANDONED.value, ended_at=t, closed_at=t, agent=None
            )
        elif et is EventType.TIMEOUT and c is not None and e.target is None:
            _withdraw(s, c, agents, withdrawn)
            _contact(s, c, status=ContactStatus.TIMEOUT.value, ended_at=t, closed_at=t, agent=None)
        elif et is EventType.AGENT_LOGIN and a is not None:
            _agent(s, a, AgentStatus.AVAILABLE, None, t)
        elif et is EventType.AGENT_LOGOUT and a is not None:
            _agent(s, a, AgentStatus.LOGGED_OUT, e.reason, t)
        elif et is EventType.AGENT_STATE and a is not None and e.state is not None:
            _agent(s, a, AgentStatus(e.state), e.reason, t)


def _withdraw(s: Session, cid: str, agents: set[str], withdrawn: dict[str, str] | None) -> None:
    agent = _ringing_at(s, cid)
    if agent is not None:
        agents.add(agent)
        if withdrawn is not None:
            withdrawn[cid] = agent


def _agent(s: Session, name: str, status: AgentStatus, reason: str | None, t: float) -> None:
    s.execute(
        update(AgentRow)
        .where(AgentRow.name == name)
        .values(status=status.value, status_reason=reason, status_since=t)
    )


__all__ = ["apply"]
