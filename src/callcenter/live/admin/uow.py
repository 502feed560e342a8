"""The unit of work of an administration change: one transaction of its own, committed,
and — for a change the router must know — taken back if the routing engine refuses it.

The routing engine builds its router from committed tables, so a change to queues or
agent profiles (or to a user's role or active flag) is committed first and then
:meth:`~callcenter.live.engine.LiveEngine.reload` is called.  If the engine cannot
replay the work in flight under the new configuration it raises
:class:`~callcenter.routing.RoutingError`; the change is then taken back with a
:class:`~callcenter.live.admin.undo.ChangeLog` of exactly the rows it wrote, and
:meth:`UnitOfWork.commit` raises :class:`~callcenter.live.admin.checks.ConflictError` —
so the database and the router never disagree for longer than one call.

**Audit.**  Every row a change creates, changes or deletes is recorded in the audit log
(:func:`callcenter.storage.audit.track`) in the change's own transaction, for the
unit's ``actor``; a change taken back is recorded too (``config.undo``, one entry per
row restored), in the undo's transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Protocol, TypeVar

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from callcenter.live.admin.checks import ConflictError
from callcenter.live.admin.undo import ChangeLog
from callcenter.routing import RoutingError
from callcenter.storage.audit import TRACKED, Actor, AuditAction, record, track

T = TypeVar("T")
ATTEMPTS: Final = 5


class Reloads(Protocol):
    """The routing engine as the unit of work sees it (a
    :class:`~callcenter.live.engine.LiveEngine`)."""

    def reload(self) -> None:
        """Build the router from the committed tables; :class:`RoutingError` if it cannot."""


@dataclass(frozen=True, slots=True)
class UnitOfWork:
    """Where administration changes are written: the database's sessions and dialect
    name (``sqlite``, ``postgresql`` ...), the routing engine to reload, the clock, and
    who acts (recorded in the audit log with every row written)."""

    sessions: sessionmaker[Session]
    engine: Reloads
    dialect: str
    clock: Callable[[], float] = time.time
    actor: Actor = field(default_factory=Actor.system)

    def commit(self, s: Session, change: Callable[[Session], T], *, routing: bool = False) -> T:
        """Run ``change`` in a transaction of its own and commit it; with ``routing``
        reload the routing engine afterwards and take the change back if the engine
        refuses it (:class:`ConflictError`).

        The caller's transaction ``s`` (who is asking; a token's last use) is committed
        first, so it holds no lock while the change waits for one.  ``change`` returns
        the result, built before its commit.  On SQLite, a change that lost the race for
        the write lock is run again from the start (a few times).
        """
        s.commit()
        log: ChangeLog | None = None
        for attempt in range(ATTEMPTS):
            try:
                with self.sessions.begin() as w, track(w, self.actor, at=self.clock()):
                    log = ChangeLog(w) if routing else None
                    try:
                        out = change(w)
                        w.flush()
                    finally:
                        if log is not None:
                            log.close()
                break
            except OperationalError as e:
                if attempt == ATTEMPTS - 1 or not self._stale_snapshot(e):
                    raise
                time.sleep(0.01 * (attempt + 1))
        if log is not None:
            self._reload_or_undo(log)
        return out

    def _stale_snapshot(self, e: OperationalError) -> bool:
        """SQLite refusing a write because another connection wrote since this
        transaction began reading ("database is locked", SQLITE_BUSY): safe to run the
        change again."""
        return self.dialect == "sqlite" and "database is locked" in str(e.orig)

    def _reload_or_undo(self, log: ChangeLog) -> None:
        try:
            self.engine.reload()
        except RoutingError as e:
            with self.sessions.begin() as undo:
                log.undo(undo)
                self._record_undo(undo, log, str(e))
            raise ConflictError(
                f"the routing engine cannot take this change while work is in progress: {e}; "
                "nothing was changed"
            ) from None

    def _record_undo(self, s: Session, log: ChangeLog, reason: str) -> None:
        """One ``config.undo`` entry per row restored: what it was set back to."""
        for step in reversed(log.steps):
            entity = TRACKED.get(getattr(step.model, "__tablename__", ""))
            if entity is None:
                continue
            key = "/".join(str(v) for v in step.key.values())
            after = {"undone": step.kind, "reason": reason[:200], **step.values}
            record(s, self.actor, AuditAction.CONFIG_UNDO, entity, key, {}, after,
                   at=self.clock())  # fmt: skip


__all__ = ["ATTEMPTS", "Reloads", "UnitOfWork"]
