"""Read models from the router's events: ``contacts`` and ``agents`` rows people look at.

The event log is the truth; these rows are what pages and the API show without reading
the log: a contact's status, queue, current agent and times, an agent's state and since
when.  :func:`apply` runs in the transaction that appends the events.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import CursorResult, Table, Update, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from callcenter.events import Event, EventType
from callcenter.storage.tables import AgentRow, AgentStatus, ContactAgent, ContactRow, ContactStatus

# Core statements on the tables, not ORM ones, built once with bound parameters: the
# engine writes a few per request, and the ORM's bulk UPDATE (matching objects in the
# session to the rows it changed) and building each statement anew cost more than the
# statements themselves. The session's own copies of contacts and agents are expired
# afterwards (:func:`_expire_copies`): read again, they show what was written.
_CONTACTS = cast(Table, ContactRow.__table__)
_AGENTS = cast(Table, AgentRow.__table__)
_CONTACT_AGENTS = cast(Table, ContactAgent.__table__)
_CONTACT_UPDATES: dict[tuple[str, ...], Update] = {}  # by the columns set
_HOLDER = select(_CONTACTS.c.agent).where(_CONTACTS.c.id == bindparam("cid_"))
_RINGING_AT = _HOLDER.where(_CONTACTS.c.status == ContactStatus.RINGING.value)
_CONNECTED = (
    update(_CONTACTS)
    .where(_CONTACTS.c.id == bindparam("cid_"))
    .values(
        status=ContactStatus.ACTIVE.value,
        agent=bindparam("agent_"),
        answered_at=func.coalesce(_CONTACTS.c.answered_at, bindparam("t_")),
    )
)
_KNOWN_AGENT = select(_CONTACT_AGENTS.c.agent).where(
    _CONTACT_AGENTS.c.contact_id == bindparam("cid_"),
    _CONTACT_AGENTS.c.agent == bindparam("agent_"),
)
_ADD_AGENT = insert(_CONTACT_AGENTS)
_AGENT_STATE = (
    update(_AGENTS)
    .where(_AGENTS.c.name == bindparam("name_"))
    .values(
        status=bindparam("status_"),
        status_reason=bindparam("reason_"),
        status_since=bindparam("t_"),
    )
)


def _contact(s: Session, cid: str, **values: Any) -> None:
    """Set ``values`` on the contact's row."""
    keys = tuple(values)
    stmt = _CONTACT_UPDATES.get(keys)
    if stmt is None:
        where = _CONTACTS.c.id == bindparam("cid_")
        stmt = update(_CONTACTS).where(where).values({k: bindparam(k + "_") for k in keys})
        _CONTACT_UPDATES[keys] = stmt
    s.execute(stmt, {"cid_": cid, **{k + "_": v for k, v in values.items()}})


def _holder(s: Session, cid: str) -> str | None:
    return s.execute(_HOLDER, {"cid_": cid}).scalar()


def _ringing_at(s: Session, cid: str) -> str | None:
    """The agent ``cid`` is ringing now, if it is ringing."""
    return s.execute(_RINGING_AT, {"cid_": cid}).scalar()


def _connected(s: Session, cid: str, agent: str, t: float) -> None:
    """In conversation with ``agent`` (answered at its first connect); the agent is
    among the contact's agents."""
    done = s.execute(_CONNECTED, {"cid_": cid, "agent_": agent, "t_": t})
    if not cast(CursorResult[Any], done).rowcount:
        return  # no such contact row
    if s.execute(_KNOWN_AGENT, {"cid_": cid, "agent_": agent}).first() is None:
        s.execute(_ADD_AGENT, {"contact_id": cid, "agent": agent})


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
            _connected(s, c, a, t)
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
    _expire_copies(s)


def _expire_copies(s: Session) -> None:
    for obj in list(s.identity_map.values()):
        if isinstance(obj, (ContactRow, AgentRow, ContactAgent)):
            s.expire(obj)


def _withdraw(s: Session, cid: str, agents: set[str], withdrawn: dict[str, str] | None) -> None:
    agent = _ringing_at(s, cid)
    if agent is not None:
        agents.add(agent)
        if withdrawn is not None:
            withdrawn[cid] = agent


def _agent(s: Session, name: str, status: AgentStatus, reason: str | None, t: float) -> None:
    s.execute(_AGENT_STATE, {"name_": name, "status_": status.value, "reason_": reason, "t_": t})


__all__ = ["apply"]
