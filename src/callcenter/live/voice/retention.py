"""Recording retention in the server: sweep the recordings folder now and then.

:func:`sweep_forever` is a coroutine for ``Center.background``: it runs
:func:`callcenter.voice.archive.sweep_recordings` in a worker thread (deleting files
is disk work; the event loop stays free) at start and then every ``interval_s``.
:func:`forget_recordings` then clears ``recording_url`` of the contacts whose files
went (the CRM's player would otherwise offer a file that is gone), one audit entry each
(``contact.recording_delete``, by the system actor ``retention``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from callcenter.storage.audit import Actor, AuditAction, record
from callcenter.storage.tables import ContactRow
from callcenter.voice.archive import sweep_recordings

__all__ = ["SWEEP_INTERVAL_S", "forget_recordings", "sweep_forever"]

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S: Final = 3600.0


ACTOR: Final = Actor.system("retention")
_BATCH: Final = 500  # contacts updated per statement (SQLite's bound-parameter limit)


def forget_recordings(db: Engine, deleted: list[str], now: float) -> int:
    """Clear ``recording_url`` where it names one of the ``deleted`` files (paths
    relative to the recordings folder); return how many contacts changed."""
    changed = 0
    with Session(db) as s, s.begin():
        for i in range(0, len(deleted), _BATCH):
            chunk = deleted[i : i + _BATCH]
            rows = s.execute(
                select(ContactRow.id, ContactRow.recording_url).where(
                    ContactRow.recording_url.in_(chunk)
                )
            ).all()
            for contact, url in rows:
                record(s, ACTOR, AuditAction.CONTACT_RECORDING_DELETE, "contact", contact,
                       {"recording_url": url}, {"recording_url": None}, at=now)  # fmt: skip
            s.execute(
                update(ContactRow)
                .where(ContactRow.recording_url.in_(chunk))
                .values(recording_url=None)
            )
            changed += len(rows)
    return changed


async def sweep_forever(
    root: Path,
    keep_days: int,
    clock: Callable[[], float],
    *,
    interval_s: float = SWEEP_INTERVAL_S,
    on_sweep: Callable[[int], None] | None = None,
    db: Engine | None = None,
) -> None:
    """Sweep ``root`` at once and then every ``interval_s`` seconds, until cancelled;
    with ``db``, the contacts of the files deleted forget them.  ``keep_days == 0``:
    retention is off, nothing is ever deleted."""
    while True:
        now = clock()
        try:
            deleted = await asyncio.to_thread(sweep_recordings, root, keep_days, now)
        except OSError as e:  # a disk problem is logged; the next sweep tries again
            log.warning("recording retention sweep of %s failed: %s", root, e)
            deleted = []
        if deleted:
            log.info("recording retention: %d recordings older than %d days deleted",
                     len(deleted), keep_days)  # fmt: skip
            if db is not None:
                await asyncio.to_thread(forget_recordings, db, deleted, now)
        if on_sweep is not None:
            on_sweep(len(deleted))
        await asyncio.sleep(interval_s)
