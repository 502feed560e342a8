"""The event store: append event logs to the database, read them back (rows or a frame).

Split from :mod:`callcenter.storage.db` (schema, engines, migrations), which re-exports
:class:`EventStore` and :class:`LogInfo`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from callcenter.events import FIELD_NAMES, SCHEMA_VERSION, Event, EventType
from callcenter.storage.db import (
    _EVENT_COLUMNS,
    BATCH_SIZE,
    HEADER_ONLY_FIELDS,
    STORED_FIELDS,
    event_logs_table,
    events_table,
    frame_schema,
)

if TYPE_CHECKING:
    import polars as pl


_INSERT_KEYS: Final[tuple[str, ...]] = ("log_id", "source", *STORED_FIELDS)
_get_stored = attrgetter(*STORED_FIELDS)


def _event_values(ev: Event, log_id: Any, source: str) -> tuple[Any, ...]:
    """The values of an ``events`` row in :data:`_INSERT_KEYS` order."""
    values = _get_stored(ev)
    etype = values[1]
    return (
        log_id,
        source,
        values[0],
        etype.value if isinstance(etype, EventType) else str(etype),
        *values[2:],
    )


def _batch_writer(
    conn: Connection,
) -> tuple[Callable[[list[Any]], None], Callable[[Event, Any, str], Any]]:
    """How to insert a batch of events on ``conn``: ``(write_batch, make_row)``.

    The INSERT is compiled once for the connection's dialect and the rows go to the
    driver's ``executemany`` as plain tuples (or dicts, for drivers with named
    parameters): several times faster than per-row parameter processing, and still
    dialect-neutral.  Should a dialect need bind processing for any of the columns, the
    ordinary Core ``executemany`` is used instead.
    """
    dialect = conn.dialect
    columns = [events_table.c[k] for k in _INSERT_KEYS]
    compiled = events_table.insert().compile(dialect=dialect, column_keys=list(_INSERT_KEYS))
    # Float columns' processors only coerce to float, which Event values already are.
    needs_processing = any(
        c.type._cached_bind_processor(dialect) is not None
        for c in columns
        if not isinstance(c.type, Float)
    )
    order = compiled.positiontup if compiled.positional else None
    if needs_processing or (order is not None and list(order) != list(_INSERT_KEYS)):
        insert = events_table.insert()

        def core_write(batch: list[Any]) -> None:
            conn.execute(insert, batch)

        def core_row(ev: Event, log_id: Any, source: str) -> dict[str, Any]:
            return dict(zip(_INSERT_KEYS, _event_values(ev, log_id, source), strict=True))

        return core_write, core_row

    sql = str(compiled)

    def driver_write(batch: list[Any]) -> None:
        conn.exec_driver_sql(sql, batch)

    if order is not None:
        return driver_write, _event_values

    def named_row(ev: Event, log_id: Any, source: str) -> dict[str, Any]:
        return dict(zip(_INSERT_KEYS, _event_values(ev, log_id, source), strict=True))

    return driver_write, named_row


def insert_rows(
    db: Connection | Session, events: Iterable[Event], log_id: Any, source: str
) -> None:
    """Insert ``events`` as rows of the load ``log_id`` in the caller's transaction
    (nothing is committed): the live engine's write, with its read models."""
    rows = []
    for e in events:
        if e.type == EventType.HEADER:
            raise ValueError("header events are log framing and are not stored")
        rows.append(dict(zip(_INSERT_KEYS, _event_values(e, log_id, source), strict=True)))
    db.execute(insert(events_table), rows)


def load_id(conn: Connection, source: str) -> int:
    """The first ``event_logs`` row of ``source``; added (in the caller's transaction,
    not committed) if there is none."""
    c = event_logs_table.c
    found = conn.scalar(select(c.id).where(c.source == source).order_by(c.id))
    if found is not None:
        return int(found)
    res = conn.execute(
        event_logs_table.insert().values(
            source=source,
            schema_version=SCHEMA_VERSION,
            loaded_at=dt.datetime.now(dt.UTC),
            path=None,
            event_count=0,
        )
    )
    pk = res.inserted_primary_key
    assert pk is not None
    return int(pk[0])


def select_rows(
    conn: Connection,
    columns: Sequence[str],
    *,
    source: str | None = None,
    types: Iterable[str] | None = None,
    start: float | None = None,
    after_id: int | None = None,
    through_id: int | None = None,
) -> Sequence[Sequence[Any]]:
    """Rows ``(id, *columns)`` of the matching events, in insertion order."""
    c = events_table.c
    conds: list[ColumnElement[bool]] = []
    if source is not None:
        conds.append(c.source == source)
    if types is not None:
        conds.append(c.type.in_(list(types)))
    if through_id is not None:
        conds.append(c.id <= through_id)
    if after_id is not None:
        conds.append(c.id > after_id)
    if start is not None:
        conds.append(c.t >= start)
    stmt = select(c.id, *(c[n] for n in columns)).where(*conds).order_by(c.id)
    return conn.execute(stmt).all()


def last_id(conn: Connection) -> int:
    """The id of the newest stored event (0 when there is none)."""
    return int(conn.scalar(select(func.max(events_table.c.id))) or 0)


@dataclass(frozen=True, slots=True)
class LogInfo:
    """A row of ``event_logs``."""

    id: int
    source: str
    schema_version: int
    loaded_at: dt.datetime
    path: str | None
    event_count: int


class EventStore:
    """Read and append events through a connection owned by the caller.

    >>> with engine.connect() as conn:          # doctest: +SKIP
    ...     store = EventStore(conn)
    ...     store.append(events, source="sim")   # commits
    ...     frame = store.to_frame(queue="sales")
    """

    def __init__(self, conn: Connection, *, batch_size: int = BATCH_SIZE) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.conn = conn
        self.batch_size = batch_size

    # ----------------------------------------------------------------- writing

    def append(
        self,
        events: Iterable[Event],
        source: str,
        *,
        path: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Insert ``events`` (in order) as one load; commit; return how many were added.

        This is a unit of work: the rows go in with batched executemany inserts inside
        ONE transaction, recorded in ``event_logs``, and are committed at the end.  If
        anything fails (a bad event, the iterable raising, the database refusing) every
        row of this load is rolled back and the error re-raised.  If the connection
        already has a transaction in progress, the load runs in a savepoint within it,
        and that transaction is committed when the load succeeds.

        ``progress`` is called with the number of events inserted after each batch.
        Header events are log framing and are refused (ValueError).
        """
        conn = self.conn
        if conn.in_transaction():
            with conn.begin_nested():
                n = self._insert(events, source, path, progress)
            conn.commit()
        else:
            with conn.begin():
                n = self._insert(events, source, path, progress)
        return n

    def _insert(
        self,
        events: Iterable[Event],
        source: str,
        path: str | None,
        progress: Callable[[int], None] | None,
    ) -> int:
        conn = self.conn
        res = conn.execute(
            event_logs_table.insert().values(
                source=source,
                schema_version=SCHEMA_VERSION,
                loaded_at=dt.datetime.now(dt.UTC),
                path=path,
                event_count=0,
            )
        )
        pk = res.inserted_primary_key
        assert pk is not None
        log_id = pk[0]
        write_batch, make_row = _batch_writer(conn)
        batch: list[Any] = []
        total = 0
        for ev in events:
            etype = ev.type
            if etype == EventType.HEADER:
                raise ValueError("header events are log framing and are not stored")
            batch.append(make_row(ev, log_id, source))
            if len(batch) >= self.batch_size:
                write_batch(batch)
                total += len(batch)
                batch = []
                if progress is not None:
                    progress(total)
        if batch:
            write_batch(batch)
            total += len(batch)
            if progress is not None:
                progress(total)
        conn.execute(
            update(event_logs_table)
            .where(event_logs_table.c.id == log_id)
            .values(event_count=total)
        )
        return total

    # ----------------------------------------------------------------- reading

    @staticmethod
    def _where(
        start: float | None,
        end: float | None,
        queue: str | None,
        agent: str | None,
        source: str | None = None,
    ) -> list[ColumnElement[bool]]:
        c = events_table.c
        conds: list[ColumnElement[bool]] = []
        if source is not None:
            conds.append(c.source == source)
        if start is not None:
            conds.append(c.t >= start)
        if end is not None:
            conds.append(c.t < end)
        if queue is not None:
            conds.append(c.queue == queue)
        if agent is not None:
            conds.append(c.agent == agent)
        return conds

    def _select(
        self,
        start: float | None,
        end: float | None,
        queue: str | None,
        agent: str | None,
        source: str | None = None,
        columns: Sequence[ColumnElement[Any]] | None = None,
    ) -> Select[Any]:
        return (
            select(*(_EVENT_COLUMNS if columns is None else columns))
            .where(*self._where(start, end, queue, agent, source))
            .order_by(events_table.c.id)
        )

    def iter_events(
        self,
        start: float | None = None,
        end: float | None = None,
        queue: str | None = None,
        agent: str | None = None,
    ) -> Iterator[Event]:
        """Yield the stored events in insertion order, optionally filtered.

        ``start <= t < end`` (epoch seconds; either bound may be None), ``queue`` and
        ``agent`` match exactly.
        """
        stmt = self._select(start, end, queue, agent).execution_options(yield_per=10_000)
        names = STORED_FIELDS
        for row in self.conn.execute(stmt):
            kwargs = dict(zip(names, row, strict=True))
            kwargs["type"] = EventType(kwargs["type"])
            yield Event(**kwargs)

    def of_contact(self, contact: str) -> list[Event]:
        """One contact's events in the order they were logged (``contact`` is indexed)."""
        stmt = (
            select(*_EVENT_COLUMNS)
            .where(events_table.c.contact == contact)
            .order_by(events_table.c.id)
        )
        out = []
        for row in self.conn.execute(stmt):
            kwargs = dict(zip(STORED_FIELDS, row, strict=True))
            kwargs["type"] = EventType(kwargs["type"])
            out.append(Event(**kwargs))
        return out

    def count(
        self,
        start: float | None = None,
        end: float | None = None,
        queue: str | None = None,
        agent: str | None = None,
    ) -> int:
        """How many stored events match the filters (all of them by default)."""
        stmt = (
            select(func.count())
            .select_from(events_table)
            .where(*self._where(start, end, queue, agent))
        )
        return int(self.conn.execute(stmt).scalar_one())

    def to_frame(
        self,
        start: float | None = None,
        end: float | None = None,
        queue: str | None = None,
        agent: str | None = None,
        *,
        source: str | None = None,
        columns: Sequence[str] = FIELD_NAMES,
    ) -> pl.DataFrame:
        """The matching events as a polars DataFrame, in insertion order.

        The columns are ``columns`` (by default every
        :class:`~callcenter.events.Event` field, in field order) with the dtypes of
        :func:`frame_schema` (the header-only ``schema``, ``version`` and ``source``
        columns are all null) — the frame the KPI engine reads.  ``source`` keeps the
        rows of the loads with that source label.
        """
        import polars as pl

        schema = frame_schema()
        stored = [n for n in columns if n not in HEADER_ONLY_FIELDS]
        selected = [events_table.c[n] for n in stored] or [events_table.c.id]
        frame = pl.read_database(
            self._select(start, end, queue, agent, source, selected),
            connection=self.conn,
            schema_overrides={n: schema[n] for n in stored},
        )
        missing = [
            pl.lit(None, dtype=schema[n]).alias(n) for n in columns if n in HEADER_ONLY_FIELDS
        ]
        return frame.with_columns(missing).select([pl.col(n).cast(schema[n]) for n in columns])

    def logs(self) -> list[LogInfo]:
        """The loads recorded in ``event_logs``, oldest first."""
        c = event_logs_table.c
        rows = self.conn.execute(
            select(c.id, c.source, c.schema_version, c.loaded_at, c.path, c.event_count).order_by(
                c.id
            )
        )
        return [LogInfo(*row) for row in rows]


__all__ = ["EventStore", "LogInfo", "insert_rows", "last_id", "load_id", "select_rows"]
