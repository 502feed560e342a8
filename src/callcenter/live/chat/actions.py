"""What a customer does in a chat: the use cases behind ``/api/chat`` (``docs/chat.md``).

A chat is routed by the same engine as every contact: start = one ``arrive`` request
that also writes the contact row (with the name, e-mail and phone the customer typed as
a *claim*, linked to no customer: ``crm/claims.py``) and the first message, in one
transaction.  The customer may write while waiting and while talking; leaving is
``abandon`` while the chat waits or rings and ``hangup`` (by the caller) once an agent
took it.  After the end the customer may rate it once (CSAT 1..5).

Every function but :func:`availability` and :func:`start` proves the chat with its
token first (a wrong token reads as a chat that does not exist).  Lines written here are
returned for the caller to push; nothing here knows about WebSockets or HTTP.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from callcenter.auth.service import digest, new_secret
from callcenter.crm.common import clean_text
from callcenter.crm.service import DEFAULT_REGION, normalize_email, normalize_phone
from callcenter.errors import ConflictError, NotFoundError, UserError
from callcenter.events import HangupBy
from callcenter.live.business_hours import describe, is_open, next_opening
from callcenter.live.chat.records import (
    ENDED,
    WRITABLE,
    ChatMessage,
    add_message,
    chat_with_token,
    display_names,
    message_view,
    new_contact_id,
    recent_messages_of,
    request_time,
)
from callcenter.live.commands import Abandon, Arrive, Hangup
from callcenter.live.desk.views import contact_state, customer_agent_name
from callcenter.live.engine import LiveEngine
from callcenter.storage.tables import BusinessHours, ContactRow, ContactStatus, QueueRow

# --------------------------------------------------------------------------- typed results


class Availability(BaseModel):
    queue: str
    open: bool
    hours: str = Field(description="the opening hours in words")
    next_open: float | None = Field(description="when it opens next (now if open)")


class Started(BaseModel):
    contact_id: str
    token: str = Field(description="send it as X-Chat-Token; shown only here")
    status: str


class ChatView(BaseModel):
    contact_id: str
    status: str
    agent_name: str | None
    queue: str | None
    messages: list[ChatMessage] = Field(description="the newest transcript lines (id order)")
    earlier: bool = Field(default=False, description="earlier lines exist (not sent)")
    csat: int | None
    ended: bool
    email_verification: Literal["none", "unverified", "verified"] = Field(
        description="none (no e-mail claimed) | unverified | verified (POST .../verify)"
    )


class Ended(BaseModel):
    contact_id: str
    status: str


@dataclass(frozen=True, slots=True)
class Left:
    """What :func:`leave` did: the chat's status after it, the line it wrote, and the
    agent involved (``rung``: the contact was ringing at that agent)."""

    ended: Ended
    said: dict[str, Any] | None
    agent: str | None
    rung: bool


# --------------------------------------------------------------------------- helpers


def _when(t: float, tz: str) -> str:
    return dt.datetime.fromtimestamp(t, ZoneInfo(tz)).strftime("%a %Y-%m-%d %H:%M")


def chat_queue(s: Session, name: str, now: float) -> str:
    """``name`` if it is an active chat queue open at ``now``; else the error saying why."""
    q = s.scalar(select(QueueRow).where(QueueRow.name == name))
    if q is None:
        raise NotFoundError("queue", name)
    if not q.active:
        raise ConflictError(f"queue {name!r} is not taking contacts (it is inactive)")
    if q.channel != "chat":
        raise UserError(f"queue: {name!r} is a {q.channel} queue; expected a chat queue")
    hours = s.get(BusinessHours, q.business_hours_id) if q.business_hours_id else None
    if hours is not None and not is_open(hours, now):
        text = f"queue {name!r} is closed now; opening hours: {describe(hours)}"
        nxt = next_opening(hours, now)
        if nxt is not None:
            text += f"; it opens again {_when(nxt, hours.timezone)} ({hours.timezone})"
        raise ConflictError(text)
    return q.name


def _chat(s: Session, contact_id: str, token: str) -> ContactRow:
    row = chat_with_token(s, contact_id, token)
    if row is None:
        raise NotFoundError("chat", contact_id)
    return row


# --------------------------------------------------------------------------- use cases


def availability(engine: LiveEngine, queue: str) -> Availability:
    """Whether a chat queue takes chats now, its opening hours and next opening."""
    now = engine.clock()
    with engine.sessions() as s:
        q = s.scalar(select(QueueRow).where(QueueRow.name == queue, QueueRow.channel == "chat"))
        if q is None or not q.active:
            raise NotFoundError("chat queue", queue)
        hours = s.get(BusinessHours, q.business_hours_id) if q.business_hours_id else None
        return Availability(
            queue=q.name,
            open=is_open(hours, now),
            hours=describe(hours),
            next_open=next_opening(hours, now),
        )


def start(
    engine: LiveEngine,
    *,
    queue: str,
    name: str,
    email: str | None,
    phone: str | None,
    message: str | None,
    region: str = DEFAULT_REGION,
) -> Started:
    """Start a chat: the chat queued with the customer's claim (no customer linked: an
    agent links it deliberately, or the customer proves the e-mail), its token made."""
    with engine.sessions() as s:
        queue = chat_queue(s, queue, engine.clock())
    name = clean_text(name, "name", 255)  # bad input fails here, before the engine moves
    email = normalize_email(email)
    phone = normalize_phone(phone, region)
    contact_id, token = new_contact_id(), new_secret()

    def write(s: Session) -> None:
        t = request_time(s)
        s.add(
            ContactRow(
                id=contact_id, customer_id=None, channel="chat", direction="inbound",
                queue=queue, status=ContactStatus.QUEUED.value, subject=(message or "")[:120],
                arrived_at=t, enqueued_at=t, customer_token_hash=digest(token),
                claimed_name=name or None, claimed_email=email, claimed_phone=phone,
            )
        )  # fmt: skip
        s.flush()
        if message:
            add_message(s, contact_id, "customer", message, t=t)

    arrive = Arrive(contact=contact_id, queue=queue, caller=email or phone, channel="chat")
    engine.request(arrive, extra=write)
    with engine.sessions() as s:
        row = s.get(ContactRow, contact_id)
        status = row.status if row is not None else ContactStatus.QUEUED.value
    return Started(contact_id=contact_id, token=token, status=status)


def view(engine: LiveEngine, contact_id: str, token: str) -> ChatView:
    """The chat's status, the agent's name once one took it, and the transcript."""
    with engine.sessions() as s:
        row = _chat(s, contact_id, token)
        names = display_names(s, [row.agent])
        lines = recent_messages_of(s, [row.id])[row.id]
        return ChatView(
            contact_id=row.id,
            status=row.status,
            agent_name=customer_agent_name(row, names),
            queue=row.queue,
            messages=lines.messages,
            earlier=lines.earlier,
            csat=row.csat,
            ended=row.status in ENDED,
            email_verification="none" if row.claimed_email is None
            else "verified" if row.email_verified_at is not None else "unverified",
        )  # fmt: skip


def write(
    engine: LiveEngine, contact_id: str, token: str, text: str
) -> tuple[ChatMessage, str | None]:
    """The customer writes (while waiting or talking): the line, and the agent to tell."""
    with engine.sessions() as s:
        row = _chat(s, contact_id, token)
        if row.status not in WRITABLE:
            raise ConflictError(
                f"chat {contact_id!r} has ended ({row.status}); it takes no messages"
            )
    with engine.sessions.begin() as s:  # a fresh transaction that starts with its write
        m = add_message(s, contact_id, "customer", text, t=engine.clock())
        line = ChatMessage(**message_view(m, {}))
    return line, row.agent


def leave(engine: LiveEngine, contact_id: str, token: str) -> Left:
    """The customer leaves: ``abandon`` while waiting or ringing, ``hangup`` once talking."""
    with engine.sessions() as s:
        row = _chat(s, contact_id, token)
    said: list[dict[str, Any]] = []

    def note(s: Session) -> None:
        m = add_message(s, contact_id, "system", "The customer left the chat.", t=request_time(s))
        said.append(message_view(m, {}))

    with engine.lock:  # the state read and the request are one step
        state, agent = contact_state(engine, contact_id)
        if state in (ContactStatus.QUEUED.value, "ringing"):
            engine.request(Abandon(contact=contact_id), extra=note)
        elif state == "active":
            engine.request(Hangup(contact=contact_id, by=HangupBy.CALLER), extra=note)
        else:
            raise ConflictError(f"chat {contact_id!r} has already ended ({row.status})")
    with engine.sessions() as s:
        after = s.get(ContactRow, contact_id)
        status = after.status if after is not None else row.status
    return Left(
        ended=Ended(contact_id=contact_id, status=status),
        said=said[0] if said else None,
        agent=agent,
        rung=state == "ringing",
    )


def rate(
    engine: LiveEngine, contact_id: str, token: str, score: int, comment: str | None
) -> ChatView:
    """The customer's satisfaction score (1..5, optional comment): once, after the end."""
    with engine.sessions() as s:
        row = _chat(s, contact_id, token)
        if row.status not in ENDED:
            raise ConflictError(f"chat {contact_id!r} has not ended yet; rate it after it ends")
        if row.csat is not None:
            raise ConflictError(f"chat {contact_id!r} was already rated ({row.csat})")
    with engine.sessions.begin() as s:
        done = s.execute(
            update(ContactRow)
            .where(ContactRow.id == contact_id, ContactRow.csat.is_(None))
            .values(csat=score, csat_comment=(comment or "").strip() or None)
        )
    if done.rowcount != 1:  # type: ignore[attr-defined]  # a second rating raced this one
        raise ConflictError(f"chat {contact_id!r} was already rated")
    return view(engine, contact_id, token)


def token_ok(engine: LiveEngine, contact_id: str, token: str | None) -> bool:
    """Whether ``token`` opens chat ``contact_id`` (the WebSocket's check)."""
    with engine.sessions() as s:
        return chat_with_token(s, contact_id, token) is not None


__all__ = [
    "Availability",
    "ChatMessage",
    "ChatView",
    "Ended",
    "Left",
    "Started",
    "availability",
    "chat_queue",
    "leave",
    "rate",
    "start",
    "token_ok",
    "view",
    "write",
]
