"""A full or unavailable store is recognised (``storage/failures.py``), and the probe
that ``/api/health`` runs sees a really full SQLite database (``max_page_count``)."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from callcenter.storage.db import open_engine
from callcenter.storage.failures import StoreFailure, probe_database, storage_failure


class PgError(Exception):
    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def _wrapped(orig: Exception) -> OperationalError:
    return OperationalError("INSERT ...", {}, orig)


def test_kinds_of_failure() -> None:
    import sqlite3

    full = _wrapped(sqlite3.OperationalError("database or disk is full"))
    assert storage_failure(full) == StoreFailure("database", True, "database or disk is full")
    io = _wrapped(sqlite3.OperationalError("disk I/O error"))
    assert storage_failure(io) == StoreFailure("database", False, "disk I/O error")
    pg_full = _wrapped(PgError("could not extend file: No space left on device", "53100"))
    assert storage_failure(pg_full) == StoreFailure(
        "database", True, "could not extend file: No space left on device"
    )
    pg_conns = _wrapped(PgError("too many connections", "53300"))
    assert storage_failure(pg_conns) == StoreFailure("database", False, "too many connections")
    enospc = OSError(errno.ENOSPC, "No space left on device")
    assert storage_failure(enospc) == StoreFailure(
        "files", True, "[Errno 28] No space left on device"
    )
    assert storage_failure(OSError(errno.ENOENT, "gone")) is None
    assert storage_failure(_wrapped(sqlite3.OperationalError("no such table: x"))) is None
    assert storage_failure(ValueError("database or disk is full")) is None
    assert StoreFailure("database", True, "r").message() == (
        "the database is full (r); try again later"
    )


def test_the_probe_sees_a_full_database_and_leaves_nothing(tmp_path: Path) -> None:
    # the project's engine: SQLAlchemy emits BEGIN, so DDL is transactional on SQLite
    engine = open_engine(f"sqlite:///{tmp_path / 'x.db'}", create=True)
    cap = {"pages": 1_073_741_823}

    @event.listens_for(engine, "connect")
    def _connect(dbapi: object, _record: object) -> None:
        dbapi.execute(f"PRAGMA max_page_count = {cap['pages']}")  # type: ignore[attr-defined]

    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x TEXT)"))
    assert probe_database(engine) is None
    engine.dispose()
    cap["pages"] = 1  # becomes the present size: no page can be added
    failure = probe_database(engine)
    assert failure == StoreFailure("database", True, "database or disk is full")
    engine.dispose()
    cap["pages"] = 1_073_741_823
    assert probe_database(engine) is None
    with engine.connect() as conn:
        names = conn.execute(text("SELECT name FROM sqlite_master")).scalars().all()
    assert names == ["t"]  # the probe's table was rolled back every time
    engine.dispose()


@pytest.mark.parametrize("store", ["database", "files"])
def test_message_names_the_store(store: str) -> None:
    assert StoreFailure(store, False, "why").message().startswith(f"the {store} is unavailable")
