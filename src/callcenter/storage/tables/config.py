"""The center's configuration: skills, queues, agent profiles (with their live state),
business hours, pause reasons and dispositions.

JSON columns hold small structured values (skill levels, opening hours) that are
always read and written whole.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Double, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.storage.base import Base


class AgentStatus(StrEnum):
    """An agent's state as shown to people (the router's states plus logged out)."""

    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    PAUSED = "paused"


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
    # calls (voice queues): the waiting caller's announcements, the callback offer and
    # whether calls are recorded (live/voice/model.py QueueVoice)
    announce_every_s: Mapped[float] = mapped_column(Double, default=30.0)
    callback_digit: Mapped[str | None] = mapped_column(String(1))
    callback_prompt: Mapped[str | None] = mapped_column(String(128))
    record_calls: Mapped[bool] = mapped_column(Boolean, default=True)


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


__all__ = [
    "AgentRow",
    "AgentStatus",
    "BusinessHours",
    "Disposition",
    "PauseReason",
    "QueueRow",
    "Skill",
]
