"""The agent desktop's view of the center: an agent's work, and pushes when it changes.

**Whose contact is it?**  The router is the truth about who holds what right now: a
contact ringing at an agent, the agent's conversations and its after-contact work
(wrap-up) — including the wrap-up of a contact it transferred on, which the ``contacts``
row no longer shows (the row follows the contact to its new agent).  So the desk reads
the router's state under the engine lock (:func:`agent_view`, :func:`contact_state`)
and the rows for everything else (customer, times, transcript, notes).

**Pushes.**  :class:`DeskPusher` is an engine listener: after each engine request it
turns the router's events into WebSocket messages —

- ``offer`` -> ``{"type": "offer", "contact": {...}}`` to ``agent:<name>``;
- ``connect``, ``complete``, ``wrapup_end``, ``ring_noanswer``, ``transfer``,
  ``abandon``, ``timeout`` -> ``{"type": "contact", "event": ..., "contact": {...}}`` to
  the agent involved;
- every contact event of a chat -> ``{"type": "status", "status": ..., "agent_name": ...}``
  to ``chat:<id>`` (the customer's widget);
- ``agent_login``, ``agent_logout``, ``agent_state`` -> ``{"type": "state", ...}`` to
  ``agent:<name>``.

Channels nobody listens to are skipped before anything is read from the database.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final, Protocol

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from callcenter.crm.claims import Claim, ClaimMatch, claim_of, possible_matches
from callcenter.crm.notes import NoteView, notes_of, notes_text
from callcenter.errors import NotFoundError
from callcenter.events import EventType
from callcenter.live.chat.records import (
    MAX_PAGE,
    RECENT_LINES,
    ChatMessage,
    Transcript,
    display_names,
    recent_messages_of,
)
from callcenter.live.engine import Applied, LiveEngine
from callcenter.routing.state import CState
from callcenter.storage.tables import (
    AgentRow,
    ContactAgent,
    ContactRow,
    ContactStatus,
    Customer,
    User,
)

log = logging.getLogger("callcenter.desk")

RINGING: Final = "ringing"
ACTIVE: Final = "active"
WRAPUP: Final = "wrapup"

_CONTACT_EVENTS: Final = frozenset(
    {
        EventType.CONNECT,
        EventType.COMPLETE,
        EventType.WRAPUP_END,
        EventType.RING_NOANSWER,
        EventType.TRANSFER,
        EventType.HOLD,
        EventType.UNHOLD,
        EventType.ABANDON,
        EventType.TIMEOUT,
    }
)
_STATE_EVENTS: Final = frozenset(
    {EventType.AGENT_LOGIN, EventType.AGENT_LOGOUT, EventType.AGENT_STATE}
)
# What a customer sees of the agent: its name once it took the chat, never while ringing.
_NAMED: Final = frozenset({ContactStatus.ACTIVE, ContactStatus.WRAPUP, ContactStatus.CLOSED})


@dataclass(frozen=True, slots=True)
class Work:
    """One contact on an agent's desk, as the router sees it."""

    contact: str
    state: str  # ringing | active | wrapup (this agent's part of it)
    since: float  # offered / connected / wrap-up started
    queue: str
    ring_deadline: float | None  # ringing: offered + the queue's ring timeout
    held_since: float | None = None  # active and on hold: since when


@dataclass(frozen=True, slots=True)
class AgentView:
    """An agent's live state in the router (``known``: the router has the profile)."""

    name: str
    known: bool
    logged_in: bool
    activity: str  # AgentState value: logged_out, available, ringing, on_contact ...
    pause_pending: str | None  # a pause asked for while busy: the reason
    logout_pending: bool
    work: tuple[Work, ...]


def agent_view(engine: LiveEngine, name: str) -> AgentView:
    """What ``name`` is doing now: state, pending pause/logout, contacts (router state)."""
    with engine.lock:
        router = engine.router
        a = router.agents.get(name)
        if a is None:
            return AgentView(name, False, False, "logged_out", None, False, ())
        work: list[Work] = []
        if a.ringing:
            for c in router.contacts.values():
                q = c.queue
                if c.state == CState.RINGING and c.agent is a and q is not None:
                    deadline = c.offer_t + q.cfg.ring_timeout_s
                    work.append(Work(c.id, RINGING, c.offer_t, q.name, deadline))
        for cid, leg in a.legs.items():
            if leg.contact.leg is leg:
                work.append(Work(cid, ACTIVE, leg.connect_t, leg.queue, None, leg.hold_start))
            else:
                work.append(Work(cid, WRAPUP, leg.wrap_t, leg.queue, None))
        return AgentView(
            name=name,
            known=True,
            logged_in=a.logged_in,
            activity=router.agent_state(name).value,
            pause_pending=a.pause_pending,
            logout_pending=a.logout_pending,
            work=tuple(work),
        )


def contact_state(engine: LiveEngine, contact_id: str) -> tuple[str | None, str | None]:
    """(state, agent) of a contact in the router: ``queued``/``ringing``/``active`` and
    the agent ringing or holding it; (None, None) once it left the router (ended)."""
    with engine.lock:
        c = engine.router.contacts.get(contact_id)
        if c is None:
            return None, None
        if c.state == CState.QUEUED:
            return ContactStatus.QUEUED.value, None
        if c.state == CState.RINGING and c.agent is not None:
            return RINGING, c.agent.name
        if c.state == CState.CONNECTED and c.leg is not None:
            return ACTIVE, c.leg.agent.name
        return None, None


def customer_agent_name(row: ContactRow, names: dict[str, str]) -> str | None:
    """The agent's display name as the customer may see it (not while only ringing)."""
    if row.agent and row.status in _NAMED:
        return names.get(row.agent, row.agent)
    return None


class DeskContact(BaseModel):
    """A contact on an agent's desk: the row, its customer, transcript and timers."""

    id: str
    status: str = Field(description="this agent's part: ringing | active | wrapup")
    contact_status: str = Field(description="the contact's status (contacts.status)")
    channel: str
    queue: str
    subject: str
    customer_id: int | None = Field(description="the linked customer (None until linked)")
    customer_name: str | None
    customer_email: str | None
    customer_phone: str | None
    claim: Claim | None = Field(
        description="who the customer said it is (proven only where email_verified)"
    )
    matches: list[ClaimMatch] = Field(
        description="not linked yet: customers the claimed e-mail / phone match (possible "
        "matches, as the directory shows them); link one deliberately"
    )
    arrived_at: float
    offered_at: float | None
    answered_at: float | None
    ended_at: float | None
    acw_since: float | None = Field(description="wrap-up: when the after-contact work began")
    ring_deadline: float | None = Field(description="ringing: offered_at + ring timeout")
    held_since: float | None = Field(
        default=None, description="a call on hold: since when (None: not on hold)"
    )
    notes: str = Field(description="the notes' texts, one per line (the old single field)")
    note_list: list[NoteView] = Field(description="the notes (one per author), oldest first")
    disposition: str | None
    ivr_data: dict[str, str] = Field(
        default_factory=dict,
        description="a call: what the caller gave the IVR, label -> value (contacts.ivr_data)",
    )
    messages: list[ChatMessage] = Field(
        description=f"the newest {RECENT_LINES} transcript lines (id order)"
    )
    earlier: bool = Field(
        description="earlier lines exist: GET /api/desk/contacts/{id}/messages?before=<first id>"
    )


class Desk(BaseModel):
    """``GET /api/desk``: an agent's state, since when, capacity and its contacts."""

    agent: str
    display_name: str
    status: str = Field(description="logged_out | available | paused")
    reason: str | None
    since: float | None
    capacity: int
    activity: str = Field(description="available | ringing | on_contact | wrap_up | paused ...")
    pending_pause: str | None = Field(description="a pause asked for while busy: its reason")
    pending_logout: bool
    contacts: list[DeskContact]


def contact_views(s: Session, work: Iterable[Work]) -> list[DeskContact]:
    """The desk's contact records for ``work``: row, customer, transcript, timers."""
    return [DeskContact.model_validate(d) for d in _contact_dicts(s, work)]


def _ivr_data(value: object) -> dict[str, str]:
    """``contacts.ivr_data`` as labels and texts (a value that is not a mapping: none)."""
    if not isinstance(value, dict):
        return {}
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def _contact_dicts(s: Session, work: Iterable[Work]) -> list[dict[str, Any]]:
    """:func:`contact_views` as the JSON-ready dicts the pushes send (validated by the
    model when a desk is read; the push path skips the round trip)."""
    by_id = {w.contact: w for w in work}
    if not by_id:
        return []
    rows = s.execute(
        select(ContactRow, Customer)
        .outerjoin(Customer, Customer.id == ContactRow.customer_id)
        .where(ContactRow.id.in_(by_id))
        .order_by(ContactRow.arrived_at, ContactRow.id)
    ).all()
    transcripts = recent_messages_of(s, (row.id for row, _ in rows))
    unlinked = [(r.id, r.claimed_email, r.claimed_phone) for r, _ in rows if r.customer_id is None]
    matches = possible_matches(s, unlinked)
    notes = notes_of(s, (row.id for row, _ in rows))
    out = []
    for row, cust in rows:
        w = by_id[row.id]
        claim = claim_of(row)
        out.append(
            {
                "id": row.id,
                "status": w.state,
                "contact_status": row.status,
                "channel": row.channel,
                "queue": w.queue,
                "subject": row.subject,
                "customer_id": row.customer_id,
                "customer_name": cust.name if cust is not None else None,
                "customer_email": cust.email if cust is not None else None,
                "customer_phone": cust.phone if cust is not None else None,
                "claim": claim.model_dump() if claim is not None else None,
                "matches": [m.model_dump() for m in matches.get(row.id, [])],
                "arrived_at": row.arrived_at,
                "offered_at": row.offered_at,
                "answered_at": row.answered_at,
                "ended_at": row.ended_at,
                "acw_since": w.since if w.state == WRAPUP else None,
                "ring_deadline": w.ring_deadline,
                "held_since": w.held_since,
                "notes": notes_text(notes[row.id]),
                "note_list": [n.model_dump() for n in notes[row.id]],
                "disposition": row.disposition,
                "ivr_data": _ivr_data(row.ivr_data),
                "messages": [m.model_dump() for m in transcripts[row.id].messages],
                "earlier": transcripts[row.id].earlier,
            }
        )
    return out


def earlier_lines(
    s: Session, agent: str, contact_id: str, *, before: int, limit: int = MAX_PAGE
) -> Transcript:
    """Transcript lines of a contact ``agent`` holds or held, before message ``before``
    (the newest ``limit`` of them): the desk's "show earlier"."""
    held = s.get(ContactAgent, (contact_id, agent)) if len(contact_id) <= 64 else None
    if held is None:
        raise NotFoundError("contact", contact_id)
    return recent_messages_of(s, [contact_id], limit=min(limit, MAX_PAGE), before=before)[
        contact_id
    ]


def desk_snapshot(engine: LiveEngine, s: Session, agent: str) -> Desk:
    """``GET /api/desk``: the agent's state, since when, capacity and its contacts."""
    view = agent_view(engine, agent)
    found = s.execute(
        select(AgentRow, User.display_name)
        .join(User, User.id == AgentRow.user_id)
        .where(AgentRow.name == agent)
    ).first()
    row, display = found if found is not None else (None, agent)
    return Desk(
        agent=agent,
        display_name=display or agent,
        status=row.status if row is not None else "logged_out",
        reason=row.status_reason if row is not None else None,
        since=row.status_since if row is not None else None,
        capacity=row.capacity if row is not None else 0,
        activity=view.activity,
        pending_pause=view.pause_pending,
        pending_logout=view.logout_pending,
        contacts=contact_views(s, view.work),
    )


class Publisher(Protocol):
    """The hub's side the pusher uses (``callcenter.api.hub.Hub``)."""

    def publish(self, channel: str, message: dict[str, Any]) -> None: ...

    def count(self, channel: str) -> int: ...


class DeskPusher:
    """Engine listener: router events -> desk and widget pushes (see the module doc)."""

    def __init__(self, hub: Publisher, sessions: sessionmaker[Session], engine: LiveEngine):
        self.hub = hub
        self.sessions = sessions
        self.engine = engine

    def __call__(self, applied: Applied) -> None:
        try:
            self._push(applied)
        except Exception:  # a push must never fail the request that already committed
            log.exception("desk push failed")

    def _push(self, applied: Applied) -> None:
        hub = self.hub
        offers: dict[str, set[str]] = {}  # agent -> contacts offered
        changes: dict[str, dict[str, str]] = {}  # agent -> contact -> last event
        chats: set[str] = set()
        states: set[str] = set()
        for e in applied.events:
            a, c = e.agent, e.contact
            if c is not None and hub.count(f"chat:{c}"):
                chats.add(c)
            if a is None and c is not None:  # left while ringing someone: drop the offer
                a = applied.withdrawn.get(c)
                if a is not None and hub.count(f"agent:{a}"):
                    states.add(a)  # ringing -> available
            if a is None or not hub.count(f"agent:{a}"):
                continue
            if e.type is EventType.OFFER and c is not None:
                offers.setdefault(a, set()).add(c)
            elif e.type in _CONTACT_EVENTS and c is not None:
                changes.setdefault(a, {})[c] = e.type.value
            elif e.type in _STATE_EVENTS:
                states.add(a)
        if not (offers or changes or chats or states):
            return
        # the router's views first, then a database connection: never hold a pooled
        # connection while waiting for the engine lock (its holder may need one)
        with self.engine.lock:
            router_views = {
                a: agent_view(self.engine, a) for a in offers.keys() | changes.keys() | states
            }
        with self.sessions() as s:
            for agent in sorted(offers.keys() | changes.keys()):
                self._agent_contacts(
                    s, router_views[agent], offers.get(agent, set()), changes.get(agent, {})
                )
            for agent in sorted(states):
                self._state(s, router_views[agent])
            if chats:
                self._chats(s, chats)

    def _agent_contacts(
        self, s: Session, view: AgentView, offered: set[str], changed: dict[str, str]
    ) -> None:
        agent = view.name
        views = {v["id"]: v for v in _contact_dicts(s, view.work)}
        channel = f"agent:{agent}"
        for cid, event in sorted(changed.items()):
            if cid in offered:
                continue
            contact = views.get(cid) or {"id": cid, "status": "gone"}
            self.hub.publish(channel, {"type": "contact", "event": event, "contact": contact})
        for cid in sorted(offered):
            if cid in views:  # still ringing here (not already answered or timed out)
                self.hub.publish(channel, {"type": "offer", "contact": views[cid]})

    def _state(self, s: Session, view: AgentView) -> None:
        agent = view.name
        row = s.scalar(select(AgentRow).where(AgentRow.name == agent))
        if row is None:
            return
        self.hub.publish(
            f"agent:{agent}",
            {
                "type": "state",
                "agent": agent,
                "status": row.status,
                "reason": row.status_reason,
                "since": row.status_since,
                "activity": view.activity,
                "pending_pause": view.pause_pending,
                "pending_logout": view.logout_pending,
            },
        )

    def _chats(self, s: Session, chats: set[str]) -> None:
        rows = list(s.scalars(select(ContactRow).where(ContactRow.id.in_(chats))))
        names = display_names(s, (r.agent for r in rows))
        for row in rows:
            self.hub.publish(
                f"chat:{row.id}",
                {
                    "type": "status",
                    "status": row.status,
                    "agent_name": customer_agent_name(row, names),
                },
            )


__all__ = [
    "ACTIVE",
    "RINGING",
    "WRAPUP",
    "AgentView",
    "Desk",
    "DeskContact",
    "DeskPusher",
    "Publisher",
    "Work",
    "agent_view",
    "contact_state",
    "contact_views",
    "customer_agent_name",
    "desk_snapshot",
    "earlier_lines",
]
