"""Recording retention in the server: sweep the recordings folder now and then.

:func:`sweep_forever` is a coroutine for ``Center.background``: it runs
:func:`callcenter.voice.archive.sweep_recordings` in a worker thread (deleting files
is disk work; the event loop stays free) at start and then every ``interval_s``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Final

from callcenter.voice.archive import sweep_recordings

__all__ = ["SWEEP_INTERVAL_S", "sweep_forever"]

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S: Final = 3600.0


async def sweep_forever(
    root: Path,
    keep_days: int,
    clock: Callable[[], float],
    *,
    interval_s: float = SWEEP_INTERVAL_S,
    on_sweep: Callable[[int], None] | None = None,
) -> None:
    """Sweep ``root`` at once and then every ``interval_s`` seconds, until cancelled.
    ``keep_days == 0``: retention is off, nothing is ever deleted."""
    while True:
        try:
            deleted = await asyncio.to_thread(sweep_recordings, root, keep_days, clock())
        except OSError as e:  # a disk problem is logged; the next sweep tries again
            log.warning("recording retention sweep of %s failed: %s", root, e)
            deleted = 0
        if deleted:
            log.info("recording retention: %d recordings older than %d days deleted",
                     deleted, keep_days)  # fmt: skip
        if on_sweep is not None:
            on_sweep(deleted)
        await asyncio.sleep(interval_s)
