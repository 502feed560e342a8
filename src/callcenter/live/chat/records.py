"""Chat records: contact ids, chat tokens, messages and transcripts.

The chat API (``api/chat.py``) and the agent desktop (``api/desk.py``) share these.  A
chat is a :class:`~callcenter.storage.tables.ContactRow` with ``channel="chat"``; its
transcript is its :class:`~callcenter.storage.tables.Message` rows in id order.  The
customer's widget proves it owns the chat with a random token whose SHA-256 is kept in
``contacts.customer_token_hash`` (the database never holds the token itself).

Functions take a :class:`Session` and never commit.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable, Mapping
from typing import Any, Final

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.auth.service import digest
from callcenter.live.engine import REQUEST_TIME
from callcenter.storage.tables import (
    AgentRow,
    ContactRow,
    ContactStatus,
    Message,
    User,
)

MAX_BODY: Final = 4000  # characters of one message
# A transcript is shown from its end: the newest RECENT_LINES lines (the desk, its pushes,
# the widget), earlier ones a page of at most MAX_PAGE at a time (a flooded chat of ten
# thousand lines must not travel, or be drawn, whole on every read).
RECENT_LINES: Final = 200
MAX_PAGE: Final = 500
CHAT_PREFIX: Final = "chat-"

# A customer may write while waiting and while talking; not after the end.
WRITABLE: Final = frozenset({ContactStatus.QUEUED, ContactStatus.RINGING, ContactStatus.ACTIVE})
# The conversation is over (the agent may still be in after-contact work).
ENDED: Final = frozenset(
    {
        ContactStatus.WRAPUP,
        ContactStatus.CLOSED,
        ContactStatus.ABANDONED,
        ContactStatus.TIMEOUT,
    }
)


class ChatMessage(BaseModel):
    """One transcript line as people see it (the API's and the pushes' form)."""

    id: int
    t: float
    sender: str = Field(description="customer | agent | system")
    body: str
    agent_name: str | None = None


def new_contact_id() -> str:
    """``chat-`` and 12 random hex digits (48 bits: no collision in a center's life)."""
    return CHAT_PREFIX + secrets.token_hex(6)


def request_time(s: Session) -> float:
    """The time of the engine request being written in ``s``'s transaction.

    Called from an engine ``extra`` callback: the engine puts the router's ``now`` for
    the request into the session's ``info`` while its extra runs (several requests may
    share the transaction, each with its own time).  Rows written with it (a contact's
    ``arrived_at``, a message's ``t``) then carry exactly the time of its events.
    """
    t = s.info.get(REQUEST_TIME)
    if t is None:  # pragma: no cover - the engine always sets it
        raise RuntimeError("request_time() called outside an engine request")
    return float(t)


def token_matches(row: ContactRow, token: str) -> bool:
    """Whether ``token`` is the chat token of ``row`` (constant-time comparison)."""
    stored = row.customer_token_hash
    return stored is not None and hmac.compare_digest(stored, digest(token))


def chat_with_token(s: Session, contact_id: str, token: str | None) -> ContactRow | None:
    """The chat ``contact_id`` if ``token`` is its chat token, else None."""
    if not token or len(contact_id) > 64:
        return None
    row = s.get(ContactRow, contact_id)
    if row is None or row.channel != "chat" or not token_matches(row, token):
        return None
    return row


def display_names(s: Session, agents: Iterable[str | None]) -> dict[str, str]:
    """Agent name -> the user's display name (the username if it has none)."""
    wanted = {a for a in agents if a}
    if not wanted:
        return {}
    rows = s.execute(
        select(AgentRow.name, User.display_name)
        .join(User, User.id == AgentRow.user_id)
        .where(AgentRow.name.in_(wanted))
    ).all()
    names = {name: (display or name) for name, display in rows}
    return {a: names.get(a, a) for a in wanted}


def message_view(m: Message, names: Mapping[str, str]) -> dict[str, Any]:
    """A message as the API shows it: id, time, sender, body and the agent's name."""
    return {
        "id": m.id,
        "t": m.t,
        "sender": m.sender,
        "body": m.body,
        "agent_name": names.get(m.agent, m.agent) if m.agent else None,
    }


def messages_of(s: Session, contact_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Transcripts of ``contact_ids`` (id order), as :func:`message_view` dicts."""
    ids = list(contact_ids)
    out: dict[str, list[dict[str, Any]]] = {cid: [] for cid in ids}
    if not ids:
        return out
    rows = list(s.scalars(select(Message).where(Message.contact_id.in_(ids)).order_by(Message.id)))
    names = display_names(s, (m.agent for m in rows))
    for m in rows:
        out[m.contact_id].append(message_view(m, names))
    return out


class Transcript(BaseModel):
    """A stretch of a transcript (id order) and whether earlier lines exist."""

    messages: list[ChatMessage]
    earlier: bool = Field(description="earlier lines exist: ask with before=<first id>")


def recent_messages_of(
    s: Session, contact_ids: Iterable[str], *, limit: int = RECENT_LINES, before: int | None = None
) -> dict[str, Transcript]:
    """The newest ``limit`` lines of each contact's transcript (before message id
    ``before``, if given), in id order, and whether earlier ones exist.  One indexed
    query per contact (``messages.contact_id``, whose index is in id order)."""
    picked: dict[str, tuple[list[Message], bool]] = {}
    for cid in dict.fromkeys(contact_ids):
        q = select(Message).where(Message.contact_id == cid)
        if before is not None:
            q = q.where(Message.id < before)
        rows = list(s.scalars(q.order_by(Message.id.desc()).limit(limit + 1)))
        picked[cid] = (rows[:limit][::-1], len(rows) > limit)
    names = display_names(s, (m.agent for rows, _ in picked.values() for m in rows))
    return {
        cid: Transcript(
            messages=[ChatMessage(**message_view(m, names)) for m in rows], earlier=earlier
        )
        for cid, (rows, earlier) in picked.items()
    }


def add_message(
    s: Session, contact_id: str, sender: str, body: str, *, t: float, agent: str | None = None
) -> Message:
    """Append a message to a transcript (flushed, so it has its id)."""
    m = Message(contact_id=contact_id, t=t, sender=sender, agent=agent, body=body)
    s.add(m)
    s.flush()
    return m


def check_body(body: str) -> str:
    """A message body without surrounding blanks; ValueError if empty or too long (the
    API's validation error then names the field: ``body: must not be empty``)."""
    text = body.strip()
    if not text:
        raise ValueError("must not be empty")
    if len(text) > MAX_BODY:
        raise ValueError(f"{len(text)} characters is too long (at most {MAX_BODY})")
    return text


__all__ = [
    "CHAT_PREFIX",
    "ENDED",
    "MAX_BODY",
    "MAX_PAGE",
    "RECENT_LINES",
    "WRITABLE",
    "ChatMessage",
    "Transcript",
    "add_message",
    "chat_with_token",
    "check_body",
    "display_names",
    "message_view",
    "messages_of",
    "new_contact_id",
    "recent_messages_of",
    "request_time",
    "token_matches",
]
