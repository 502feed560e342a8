"""The audit log (who changed what, when and from where) and per-author contact notes.

``audit_log`` is append-only: the migration that creates it (``0004``) adds triggers
that refuse every ``UPDATE`` and ``DELETE`` of its rows on SQLite, PostgreSQL and MySQL,
and no code path writes anything but ``INSERT`` (``storage/audit.py`` is its one door).

``contact_notes`` holds one row per note: a contact's author may edit its own note while
the contact is open; once the contact is closed its notes only grow (``crm/notes.py``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Double, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.storage.base import Base


class AuditRow(Base):
    """One recorded change: the actor (copied, so the row outlives renames), the time,
    the client address, the action, the entity and the changed fields."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity_entity_id", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[float] = mapped_column(Double, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer)  # no foreign key: the log outlives rows
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    role: Mapped[str | None] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(String(64))  # the client's IP address
    action: Mapped[str] = mapped_column(String(32), index=True)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    # {field: [before, after]} for the fields that changed (secrets as "(changed)")
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)


class ContactNote(Base):
    """One agent's note on a contact (a contact has one note per author while open, and
    more once closed: closed contacts' notes are only ever added to)."""

    __tablename__ = "contact_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_id: Mapped[str] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[str] = mapped_column(String(64))  # username
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double)


__all__ = ["AuditRow", "ContactNote"]
