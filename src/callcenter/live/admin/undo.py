"""Undo a committed configuration change when the routing engine refuses it.

The routing engine reads its configuration from committed tables
(:meth:`~callcenter.live.engine.LiveEngine.reload`), so a change must be committed before
the engine can try it — and taken back if the engine cannot replay the work in flight
under it.  :class:`ChangeLog` watches one session's flushes and remembers, for every row
created, changed or deleted, what it takes to restore it: the primary key of a new row,
the column values of a changed or deleted row *before* the change.  :meth:`ChangeLog.undo`
writes those back, newest first, in another transaction (:mod:`.uow` does both).

It covers changes made through the ORM unit of work (``session.add``, attribute
assignment, ``session.delete``), which is how the services of
:mod:`callcenter.live.admin` write the changes the router must know; bulk
``UPDATE``/``DELETE`` statements are not seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import delete, event, insert, inspect, update
from sqlalchemy.orm import Session, UOWTransaction

from callcenter.storage.base import Base


@dataclass(frozen=True, slots=True)
class _Step:
    kind: Literal["created", "changed", "deleted"]
    model: type[Base]
    key: dict[str, Any]  # primary key column -> value
    values: dict[str, Any]  # the row before the change (changed / deleted)


def _columns(obj: Base) -> dict[str, Any]:
    """The row's column values as they were loaded (before unflushed changes)."""
    state = inspect(obj)
    out: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        hist = state.attrs[attr.key].history
        if hist.deleted:
            out[attr.key] = hist.deleted[0]
        elif hist.unchanged:
            out[attr.key] = hist.unchanged[0]
        else:
            out[attr.key] = hist.added[0] if hist.added else None
    return out


def _key(obj: Base) -> dict[str, Any]:
    mapper = inspect(obj).mapper
    return {c.key: getattr(obj, c.key) for c in mapper.primary_key if c.key is not None}


class ChangeLog:
    """Records what the flushes of ``session`` do, until :meth:`close` (or ``with``)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.steps: list[_Step] = []
        self._seen: set[tuple[type[Base], tuple[Any, ...]]] = set()
        self._pending_new: list[Base] = []
        event.listen(session, "before_flush", self._before_flush)
        event.listen(session, "after_flush", self._after_flush)

    def __enter__(self) -> ChangeLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if event.contains(self.session, "before_flush", self._before_flush):
            event.remove(self.session, "before_flush", self._before_flush)
            event.remove(self.session, "after_flush", self._after_flush)

    def _remember(self, kind: Literal["changed", "deleted"], obj: Base) -> None:
        key = _key(obj)
        ident = (type(obj), tuple(key.values()))
        if ident in self._seen:  # the first snapshot is the row before the change
            return
        self._seen.add(ident)
        self.steps.append(_Step(kind, type(obj), key, _columns(obj)))

    def _before_flush(self, session: Session, ctx: UOWTransaction, instances: object) -> None:
        del ctx, instances
        for obj in session.dirty:
            if isinstance(obj, Base) and session.is_modified(obj):
                self._remember("changed", obj)
        for obj in session.deleted:
            if isinstance(obj, Base):
                self._remember("deleted", obj)
        self._pending_new.extend(o for o in session.new if isinstance(o, Base))

    def _after_flush(self, session: Session, ctx: UOWTransaction) -> None:
        del session, ctx
        for obj in self._pending_new:
            key = _key(obj)
            ident = (type(obj), tuple(key.values()))
            if ident not in self._seen:
                self._seen.add(ident)
                self.steps.append(_Step("created", type(obj), key, {}))
        self._pending_new.clear()

    def undo(self, s: Session) -> None:
        """Restore every recorded row in ``s`` (newest change first); does not commit."""
        for step in reversed(self.steps):
            model = step.model
            where = [getattr(model, k) == v for k, v in step.key.items()]
            if step.kind == "created":
                s.execute(delete(model).where(*where))
            elif step.kind == "changed":
                s.execute(update(model).where(*where).values(**step.values))
            else:
                s.execute(insert(model).values(**step.values))
        s.flush()


__all__ = ["ChangeLog"]
