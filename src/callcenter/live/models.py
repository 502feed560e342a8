"""The live center's tables (SQLAlchemy 2 ORM, on the same metadata as the event log).

Everything the server knows lives here, so a restart loses nothing (``docs/server.md``):

- people: ``users`` (one role each), ``teams`` and ``team_supervisors``, ``web_sessions``
  (cookie sessions for pages) and ``api_tokens`` (bearer tokens for the API) — both keep
  only a SHA-256 of the secret;
- configuration: ``skills``, ``queues``, ``agents`` (an agent profile of a user: skills,
  capacity, live state), ``business_hours``, ``pause_reasons``, ``dispositions``;
- CRM: ``customers``, ``contacts`` (one row per contact: chat now, calls later),
  ``messages`` (chat transcripts), ``tickets``, ``follow_ups``;
- the routing engine's input log ``engine_commands``: every request the router accepted,
  in order, with its time — replayed into a fresh router on start (``live/engine.py``).

Times are UNIX seconds (float, UTC), the same clock as the event log's ``t``; the API
shows them as ISO 8601.  JSON columns hold small structured values (skill levels,
opening hours) that are always read and written whole.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final

from sqlalchemy import (
    JSON,
    Boolean,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.storage.db import Base


class Role(StrEnum):
    """What a user may do; see ``auth/permissions.py`` for the grants of each role."""

    ADMIN = "admin"
    MANAGER = "manager"
    SUPERVISOR = "supervisor"
    QA = "qa"
    AGENT = "agent"


class ContactStatus(StrEnum):
    """Where a contact is in its life, as the router's events move it."""

    QUEUED = "queued"  # waiting in a queue
    RINGING = "ringing"  # offered to an agent, not accepted yet
    ACTIVE = "active"  # connected to an agent
    WRAPUP = "wrapup"  # the customer side ended; the agent is in after-contact work
    CLOSED = "closed"  # handled and wrapped up
    ABANDONED = "abandoned"  # the customer left before an agent took it
    TIMEOUT = "timeout"  # left the center after the queue's maximum wait


OPEN_STATUSES: Final = frozenset(
    {ContactStatus.QUEUED, ContactStatus.RINGING, ContactStatus.ACTIVE, ContactStatus.WRAPUP}
)


class AgentStatus(StrEnum):
    """An agent's state as shown to people (the router's states plus logged out)."""

    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    PAUSED = "paused"


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


# --------------------------------------------------------------------------- people


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    email: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[float] = mapped_column(Double)


class TeamSupervisor(Base):
    """A supervisor (or manager) in charge of a team: sees its agents and contacts."""

    __tablename__ = "team_supervisors"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )


class WebSession(Base):
    """A signed-in browser: the cookie holds the secret, the row its SHA-256."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Double)
    expires_at: Mapped[float] = mapped_column(Double)


class ApiToken(Base):
    """A bearer token for the API (scripts, integrations, the demo driver)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[float] = mapped_column(Double)
    last_used_at: Mapped[float | None] = mapped_column(Double)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


# --------------------------------------------------------------------------- configuration


class Skill(Base):
    __tablename__ = "skills"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(255), default="")


class BusinessHours(Base):
    """Opening hours: ``weekly`` maps ``mon``..``sun`` to ``[["08:00", "18:00"], ...]``;
    ``holidays`` lists closed dates (``YYYY-MM-DD``) in ``timezone``."""

    __tablename__ = "business_hours"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    weekly: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    holidays: Mapped[list[Any]] = mapped_column(JSON, default=list)


class QueueRow(Base):
    """A queue as configured; the router's :class:`~callcenter.routing.QueueConfig`."""

    __tablename__ = "queues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    channel: Mapped[str] = mapped_column(String(16), default="chat")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    strategy: Mapped[str] = mapped_column(String(32), default="longest_idle")
    # [{"skill": "billing", "min_level": 1}, ...]
    requirements: Mapped[list[Any]] = mapped_column(JSON, default=list)
    ring_timeout_s: Mapped[float] = mapped_column(Double, default=20.0)
    wrapup_s: Mapped[float | None] = mapped_column(Double)
    max_wait_s: Mapped[float | None] = mapped_column(Double)
    overflow_queue: Mapped[str | None] = mapped_column(String(64))
    sl_target: Mapped[float] = mapped_column(Double, default=0.8)
    sl_threshold_s: Mapped[float] = mapped_column(Double, default=20.0)
    business_hours_id: Mapped[int | None] = mapped_column(
        ForeignKey("business_hours.id", ondelete="SET NULL")
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AgentRow(Base):
    """An agent profile of a user: routing settings and the live state shown to people."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    # the router's agent name (= the username): what the event log's `agent` field holds
    name: Mapped[str] = mapped_column(String(64), unique=True)
    skills: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # skill -> level 1..10
    queues: Mapped[list[Any] | None] = mapped_column(JSON)  # explicit membership, or None
    capacity: Mapped[int] = mapped_column(Integer, default=3)  # simultaneous chats
    max_no_answer: Mapped[int] = mapped_column(Integer, default=3)
    status: Mapped[str] = mapped_column(String(16), default=AgentStatus.LOGGED_OUT.value)
    status_reason: Mapped[str | None] = mapped_column(String(64))
    status_since: Mapped[float | None] = mapped_column(Double)


class PauseReason(Base):
    __tablename__ = "pause_reasons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    paid: Mapped[bool] = mapped_column(Boolean, default=True)
    max_minutes: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Disposition(Base):
    """The outcome an agent records at the end of a contact (``resolved`` feeds FCR)."""

    __tablename__ = "dispositions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(128), default="")
    resolved: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


# --------------------------------------------------------------------------- CRM


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


# --------------------------------------------------------------------------- engine log


class EngineCommand(Base):
    """One request the router accepted (``name`` = a :class:`Router` method, ``args`` its
    keyword arguments, ``t`` the wall-clock time passed as ``now``)."""

    __tablename__ = "engine_commands"
    __table_args__ = (UniqueConstraint("epoch", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    epoch: Mapped[int] = mapped_column(Integer, index=True)
    seq: Mapped[int] = mapped_column(Integer)
    t: Mapped[float] = mapped_column(Double)
    name: Mapped[str] = mapped_column(String(32))
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


__all__ = [
    "OPEN_STATUSES",
    "AgentRow",
    "AgentStatus",
    "ApiToken",
    "BusinessHours",
    "ContactAgent",
    "ContactRow",
    "ContactStatus",
    "Customer",
    "Disposition",
    "EngineCommand",
    "FollowUp",
    "Message",
    "PauseReason",
    "QueueRow",
    "Role",
    "Skill",
    "Team",
    "TeamSupervisor",
    "Ticket",
    "TicketPriority",
    "TicketStatus",
    "User",
    "WebSession",
]
