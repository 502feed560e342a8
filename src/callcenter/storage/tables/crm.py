"""CRM: customers, contacts (one row per contact: chat now, calls later), chat messages,
tickets and follow-ups.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from sqlalchemy import JSON, Double, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.storage.base import Base


class ContactStatus(StrEnum):
    """Where a contact is in its life, as the router's events move it."""

    IVR = "ivr"  # a call in an IVR flow, not queued yet
    QUEUED = "queued"  # waiting in a queue
    RINGING = "ringing"  # offered to an agent, not accepted yet
    ACTIVE = "active"  # connected to an agent
    WRAPUP = "wrapup"  # the customer side ended; the agent is in after-contact work
    CLOSED = "closed"  # handled and wrapped up
    ABANDONED = "abandoned"  # the customer left before an agent took it
    TIMEOUT = "timeout"  # left the center after the queue's maximum wait


OPEN_STATUSES: Final = frozenset(
    {
        ContactStatus.IVR,
        ContactStatus.QUEUED,
        ContactStatus.RINGING,
        ContactStatus.ACTIVE,
        ContactStatus.WRAPUP,
    }
)


class TicketStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    SOLVED = "solved"
    CLOSED = "closed"


class TicketPriority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    phone: Mapped[str | None] = mapped_column(String(32), index=True)  # E.164
    email: Mapped[str | None] = mapped_column(String(255), index=True)  # lower case
    company: Mapped[str | None] = mapped_column(String(255))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double)


class ContactRow(Base):
    """One contact (a chat today, a call later): the CRM's record of it."""

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_status_queue", "status", "queue"),
        Index("ix_contacts_agent_status", "agent", "status"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # = the event log's contact
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(16), default="inbound")
    queue: Mapped[str | None] = mapped_column(String(64))
    agent: Mapped[str | None] = mapped_column(String(64))  # the agent holding / last holding it
    status: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(255), default="")
    arrived_at: Mapped[float] = mapped_column(Double, index=True)
    enqueued_at: Mapped[float | None] = mapped_column(Double)  # start of the current queue visit
    offered_at: Mapped[float | None] = mapped_column(Double)
    answered_at: Mapped[float | None] = mapped_column(Double)
    ended_at: Mapped[float | None] = mapped_column(Double)
    closed_at: Mapped[float | None] = mapped_column(Double)
    disposition: Mapped[str | None] = mapped_column(String(64))
    notes: Mapped[str] = mapped_column(Text, default="")
    recording_url: Mapped[str | None] = mapped_column(String(1024))
    csat: Mapped[int | None] = mapped_column(Integer)  # 1..5
    csat_comment: Mapped[str | None] = mapped_column(Text)
    # the customer's widget proves it owns the chat with this secret (SHA-256 kept)
    customer_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # who the customer said it is when the chat started: a claim, never a link by itself
    # (``crm/claims.py``); e-mail lower-cased, phone in E.164
    claimed_name: Mapped[str | None] = mapped_column(String(255))
    claimed_email: Mapped[str | None] = mapped_column(String(255))
    claimed_phone: Mapped[str | None] = mapped_column(String(32))
    # when the customer proved the claimed e-mail with a one-time code
    email_verified_at: Mapped[float | None] = mapped_column(Double)
    # what the caller gave the IVR, for the agent's card: {label: value}
    ivr_data: Mapped[dict[str, str] | None] = mapped_column(JSON)


class ContactAgent(Base):
    """Every agent who held a contact (one row per agent): who may see it later."""

    __tablename__ = "contact_agents"

    contact_id: Mapped[str] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    agent: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class Message(Base):
    """One chat message (the transcript is a contact's messages in id order)."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_id: Mapped[str] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    t: Mapped[float] = mapped_column(Double)
    sender: Mapped[str] = mapped_column(String(16))  # customer | agent | system
    agent: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)


class ClaimCode(Base):
    """One one-time code sent to a chat's claimed e-mail (``live/chat/verify.py``): kept
    as a salted SHA-256, with its expiry and the wrong attempts made against it."""

    __tablename__ = "claim_codes"
    __table_args__ = (Index("ix_claim_codes_email_sent_at", "email", "sent_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_id: Mapped[str] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(255))  # where it was sent (lower case)
    salt: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[float] = mapped_column(Double)
    expires_at: Mapped[float] = mapped_column(Double)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # wrong codes tried
    used_at: Mapped[float | None] = mapped_column(Double)


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[str | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=TicketStatus.OPEN.value)
    priority: Mapped[str] = mapped_column(String(16), default=TicketPriority.NORMAL.value)
    sla_due_at: Mapped[float | None] = mapped_column(Double)
    assignee: Mapped[str | None] = mapped_column(String(64), index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double)


class FollowUp(Base):
    """A task to come back to a customer by ``due_at`` (a call back, an answer owed)."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[str | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    assignee: Mapped[str] = mapped_column(String(64), index=True)
    due_at: Mapped[float] = mapped_column(Double)
    note: Mapped[str] = mapped_column(Text, default="")
    done_at: Mapped[float | None] = mapped_column(Double)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Double)


__all__ = [
    "OPEN_STATUSES",
    "ClaimCode",
    "ContactAgent",
    "ContactRow",
    "ContactStatus",
    "Customer",
    "FollowUp",
    "Message",
    "Ticket",
    "TicketPriority",
    "TicketStatus",
]
