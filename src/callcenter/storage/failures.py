"""When a store cannot take a write: the disk is full or the store is unavailable.

:func:`storage_failure` recognises such an error, whichever door raised it — SQLite's
``SQLITE_FULL`` ("database or disk is full"), PostgreSQL's ``disk_full`` (SQLSTATE
53100) and its other "insufficient resources" / I/O errors, an ``OSError`` with
``ENOSPC`` or ``EDQUOT`` on a file write — and names the store and why. The server answers
it with 503 and reports it in ``/api/health`` until :func:`probe_database` writes again
(``api/storage_health.py``).
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from typing import Final

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

# PostgreSQL SQLSTATEs: class 53 "insufficient resources" (53100 disk_full, 53200
# out_of_memory, 53300 too_many_connections) and 58030 io_error.
_PG_FULL: Final = "53100"
_PG_UNAVAILABLE_PREFIXES: Final = ("53", "58030")
_SQLITE_FULL: Final = ("database or disk is full",)
_SQLITE_UNAVAILABLE: Final = ("disk i/o error", "unable to open database file")
_OS_FULL: Final = frozenset({errno.ENOSPC, errno.EDQUOT})

PROBE_TABLE: Final = "cc_health_probe"


@dataclass(frozen=True, slots=True)
class StoreFailure:
    """A store that failed: ``store`` ("database" or "files"), ``full`` (no space left)
    or merely unavailable, and ``reason``, one line from the error."""

    store: str
    full: bool
    reason: str

    def message(self) -> str:
        what = "is full" if self.full else "is unavailable"
        return f"the {self.store} {what} ({self.reason}); try again later"


def _sqlstate(orig: object) -> str:
    for attr in ("sqlstate", "pgcode"):  # psycopg 3, psycopg 2
        value = getattr(orig, attr, None)
        if isinstance(value, str):
            return value
    return ""


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def storage_failure(exc: BaseException) -> StoreFailure | None:
    """The :class:`StoreFailure` that ``exc`` reports, or None for any other error."""
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        reason = _first_line(orig) if orig is not None else _first_line(exc)
        state = _sqlstate(orig)
        if state == _PG_FULL:
            return StoreFailure("database", True, reason)
        if state.startswith(_PG_UNAVAILABLE_PREFIXES):
            return StoreFailure("database", False, reason)
        low = reason.lower()
        if any(m in low for m in _SQLITE_FULL):
            return StoreFailure("database", True, reason)
        if any(m in low for m in _SQLITE_UNAVAILABLE):
            return StoreFailure("database", False, reason)
        if isinstance(orig, OSError) and orig.errno in _OS_FULL:
            return StoreFailure("database", True, reason)
        return None
    if isinstance(exc, OSError) and exc.errno in _OS_FULL:
        return StoreFailure("files", True, _first_line(exc))
    return None


def probe_database(db: Engine) -> StoreFailure | None:
    """Try a real write that needs new space, then take it back: None if it went
    through, else why not. Creating a table allocates pages (SQLite) or catalogue rows
    and WAL (PostgreSQL); DDL is transactional in both, so nothing is left behind."""
    try:
        with db.connect() as conn, conn.begin() as txn:
            conn.execute(text(f"CREATE TABLE {PROBE_TABLE} (x VARCHAR(4000))"))
            conn.execute(text(f"INSERT INTO {PROBE_TABLE} VALUES (:x)"), {"x": "x" * 4000})
            txn.rollback()
    except Exception as e:
        return storage_failure(e) or StoreFailure("database", False, _first_line(e))
    return None


__all__ = ["PROBE_TABLE", "StoreFailure", "probe_database", "storage_failure"]
