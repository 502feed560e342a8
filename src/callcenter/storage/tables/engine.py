"""The routing engine's input log: every request the router accepted, in order, with its
time; replayed into a fresh router on start (``live/engine.py``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Double, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.storage.base import Base


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
    "EngineCommand",
]
