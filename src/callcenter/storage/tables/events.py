"""The event log's tables: ``events`` (one row per event, one column per event field) and
``event_logs`` (one row per load). Read and written through :mod:`callcenter.storage.eventlog`
/ :class:`~callcenter.storage.event_store.EventStore`; ``docs/storage.md`` describes them.
"""

from __future__ import annotations

import datetime as dt
from typing import Final, cast

from sqlalchemy import DateTime, Double, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.storage.base import Base


class EventLog(Base):
    """One load of events into the database (a JSONL file, a simulation, an import)."""

    __tablename__ = "event_logs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(255))
    schema_version: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    path: Mapped[str | None] = mapped_column(String(1024))
    event_count: Mapped[int] = mapped_column(Integer, default=0)


class EventRow(Base):
    """One event; the columns are the :class:`~callcenter.events.Event` fields."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    log_id: Mapped[int | None] = mapped_column(
        ForeignKey("event_logs.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(255))
    t: Mapped[float] = mapped_column(Double, index=True)
    type: Mapped[str] = mapped_column(String(32), index=True)
    contact: Mapped[str | None] = mapped_column(String(128), index=True)
    queue: Mapped[str | None] = mapped_column(String(128), index=True)
    agent: Mapped[str | None] = mapped_column(String(128), index=True)
    channel: Mapped[str | None] = mapped_column(String(32))
    caller: Mapped[str | None] = mapped_column(String(255))
    priority: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int | None] = mapped_column(Integer)
    wait: Mapped[float | None] = mapped_column(Double)
    ring: Mapped[float | None] = mapped_column(Double)
    talk: Mapped[float | None] = mapped_column(Double)
    hold: Mapped[float | None] = mapped_column(Double)
    acw: Mapped[float | None] = mapped_column(Double)
    by: Mapped[str | None] = mapped_column(String(32))
    target: Mapped[str | None] = mapped_column(String(128))
    target_type: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(255))


events_table: Final = cast(Table, EventRow.__table__)
event_logs_table: Final = cast(Table, EventLog.__table__)


__all__ = ["EventLog", "EventRow", "event_logs_table", "events_table"]
