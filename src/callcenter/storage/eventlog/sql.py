"""The event log in a SQL database: functions on a connection or session the caller owns,
and :class:`DatabaseLog` for a whole database; the SQL side of
:mod:`callcenter.storage.eventlog` (implemented by :mod:`callcenter.storage.event_store`).
SQLAlchemy is imported when a function runs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

from callcenter.events import FIELD_NAMES, Event
from callcenter.storage.eventlog.columns import checked_columns

if TYPE_CHECKING:
    import polars as pl
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.orm import Session


def append(
    conn: Connection,
    events: Iterable[Event],
    source: str,
    *,
    path: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Insert ``events`` as one load (recorded in ``event_logs``) and commit; all or
    nothing (see :meth:`EventStore.append`).  Return how many were added."""
    from callcenter.storage.event_store import EventStore

    return EventStore(conn).append(events, source, path=path, progress=progress)


def iter_events(
    conn: Connection,
    start: float | None = None,
    end: float | None = None,
    queue: str | None = None,
    agent: str | None = None,
) -> Iterator[Event]:
    """The stored events with ``start <= t < end`` (and the given queue, agent) one by
    one, in insertion order."""
    from callcenter.storage.event_store import EventStore

    return EventStore(conn).iter_events(start, end, queue, agent)


def contact_events(db: Connection | Session, contact: str) -> list[Event]:
    """One contact's events, in the order they were logged."""
    from callcenter.storage.event_store import EventStore

    return EventStore(_connection(db)).of_contact(contact)


def load_id(db: Connection | Session, source: str) -> int:
    """The first ``event_logs`` row of ``source``, added in the caller's transaction if
    there is none yet (the live engine's one open-ended load)."""
    from callcenter.storage.event_store import load_id as _load_id

    return _load_id(_connection(db), source)


def append_in_transaction(
    db: Connection | Session, events: Sequence[Event], *, log_id: int | None, source: str
) -> None:
    """Insert ``events`` as rows of the load ``log_id`` inside the caller's transaction,
    committing nothing (the live engine writes its events with its read models)."""
    from callcenter.storage.event_store import insert_rows

    if events:
        insert_rows(db, events, log_id, source)


def read_frame(
    conn: Connection,
    columns: Sequence[str] = FIELD_NAMES,
    *,
    start: float | None = None,
    end: float | None = None,
    queue: str | None = None,
    agent: str | None = None,
    source: str | None = None,
) -> pl.DataFrame:
    """The stored events with ``start <= t < end`` (and the given queue, agent, load
    source) in insertion order, with ``columns`` (``type`` a String column; the
    header-only ``schema``, ``version``, ``source`` are null): see
    :meth:`EventStore.to_frame`."""
    from callcenter.storage.event_store import EventStore

    return EventStore(conn).to_frame(
        start, end, queue, agent, source=source, columns=checked_columns(columns)
    )


def read_rows(
    db: Connection | Session,
    columns: Sequence[str],
    *,
    source: str | None = None,
    types: Iterable[str] | None = None,
    start: float | None = None,
    after_id: int | None = None,
    through_id: int | None = None,
) -> Sequence[Sequence[Any]]:
    """Rows ``(id, *columns)`` of the stored events in insertion order.

    ``id`` is the insertion order: a reader that keeps the last id it saw reads only the
    newer rows next time (``after_id``); ``through_id`` stops at a known last id
    (:func:`last_id`).  ``types``: event type values; ``start``: ``t >= start``.
    """
    from callcenter.storage.db import STORED_FIELDS
    from callcenter.storage.event_store import select_rows

    return select_rows(
        _connection(db),
        checked_columns(columns, STORED_FIELDS, "stored event fields"),
        source=source,
        types=types,
        start=start,
        after_id=after_id,
        through_id=through_id,
    )


def last_id(db: Connection | Session) -> int:
    """The id of the newest stored event (0: none)."""
    from callcenter.storage.event_store import last_id as _last_id

    return _last_id(_connection(db))


def _connection(db: Connection | Session) -> Connection:
    from sqlalchemy.orm import Session

    return db.connection() if isinstance(db, Session) else db


class DatabaseLog:
    """The events of a SQL database at ``url`` (which must exist and be migrated:
    ``callcenter db upgrade``).  Connects once on creation; :meth:`close` (or use as a
    context manager) releases the engine."""

    def __init__(self, url: str, engine: Engine | None = None) -> None:
        """``engine``: one the caller opened and checked already (the CLI opens every
        database with :func:`callcenter.storage.database.open_database`); closed with
        this log.  Without one, the database is opened and its schema checked here, once."""
        from callcenter.storage.db import database_errors, open_engine, require_current

        self.url = url
        if engine is None:
            engine = open_engine(url)
            with database_errors(url), engine.connect() as conn:
                require_current(conn)
        self.engine: Engine = engine

    def __repr__(self) -> str:
        from callcenter.storage.db import shown_url

        return f"DatabaseLog({shown_url(self.url)!r})"

    def __enter__(self) -> DatabaseLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.engine.dispose()

    def _connect(self) -> AbstractContextManager[Connection]:
        """A connection; driver and SQL errors become one-line DatabaseErrors."""
        return _checked_connection(self.url, self.engine)

    def append(
        self,
        events: Iterable[Event],
        source: str,
        *,
        path: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Insert ``events`` as one load and commit (all or nothing); return the count."""
        with self._connect() as conn:
            return append(conn, events, source, path=path, progress=progress)

    def read_frame(
        self,
        columns: Sequence[str] = FIELD_NAMES,
        *,
        start: float | None = None,
        end: float | None = None,
        queue: str | None = None,
        agent: str | None = None,
        source: str | None = None,
    ) -> pl.DataFrame:
        """As the module-level :func:`read_frame`."""
        with self._connect() as conn:
            return read_frame(
                conn, columns, start=start, end=end, queue=queue, agent=agent, source=source
            )

    def events(
        self,
        start: float | None = None,
        end: float | None = None,
        queue: str | None = None,
        agent: str | None = None,
    ) -> Iterator[Event]:
        """The stored events one by one, in insertion order (a connection stays open
        while the iterator runs)."""
        with self._connect() as conn:
            yield from iter_events(conn, start, end, queue, agent)


@contextmanager
def _checked_connection(url: str, engine: Engine) -> Iterator[Connection]:
    """A connection whose driver and SQL errors become one-line DatabaseErrors."""
    from callcenter.storage.db import database_errors

    with database_errors(url), engine.connect() as conn:
        yield conn


__all__ = [
    "DatabaseLog",
    "append",
    "append_in_transaction",
    "iter_events",
    "last_id",
    "load_id",
    "read_frame",
    "read_rows",
]
