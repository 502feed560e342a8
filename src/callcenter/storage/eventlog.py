"""The event log's one front door: open a log, append events, read a frame, read the header.

An event log is one of

* a **JSON Lines** file: a header line, then one event per line (the interchange format);
* a **Parquet** file (suffix ``.parquet`` / ``.pq``): the same events by column, the
  header as row 0 (the fast one to read back);
* the ``events`` table of a **SQL database** (a URL such as ``sqlite:///callcenter.db``):
  one row per event, no header (each load is a row of ``event_logs`` instead).

Every writer (live engine, simulator, importers) and every reader (KPIs, callers, WFM,
speech metadata, reports, the wallboard) goes through this module; nothing else writes
the ``events`` table or parses a log's header.  Behind it, as its implementation:
``jsonl.py`` (line format, atomic writer, line-by-line validation), ``columnar.py``
(Parquet and the column schema), ``event_store.py`` (SQL) and ``_background.py``.

>>> log = open_log("day.jsonl")                                  # doctest: +SKIP
>>> log.header().source                                          # doctest: +SKIP
'sim:helpdesk'
>>> log.read_frame(["t", "type", "agent"])                       # doctest: +SKIP
>>> open_log("sqlite:///callcenter.db").append(events, "import:x")  # doctest: +SKIP

Reading a file checks its header first (a missing, empty or foreign file, or a schema
version this build does not read, is one :class:`~callcenter.errors.InputFileError`), and
a line the fast columnar parser cannot take is found by validating the file line by line,
so the error names the file and the line.

polars is imported when a file log is opened, SQLAlchemy when a database is used: the live
server and a quick command do not pay for what they do not touch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from callcenter.errors import InputFileError
from callcenter.events import FIELD_NAMES, Event, EventValidationError, event_from_dict
from callcenter.storage.jsonl import (
    EventLogWriter,
    encode_event,
    encode_events,
    find_bad_line,
    header_event,
    read_events,
    read_header,
    write_events,
)

if TYPE_CHECKING:
    import polars as pl
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.orm import Session

    # imported on first use at run time (module __getattr__ below): polars, SQLAlchemy
    from callcenter.storage.columnar import (
        EVENT_SCHEMA,
        EVENT_TYPE_DTYPE,
        PARQUET_SUFFIXES,
        is_parquet,
        jsonl_to_parquet,
        parquet_to_jsonl,
        write_event_frame,
    )
    from callcenter.storage.event_store import EventStore, LogInfo

_LAZY: Final = {
    "EVENT_SCHEMA": "columnar",
    "EVENT_TYPE_DTYPE": "columnar",
    "PARQUET_SUFFIXES": "columnar",
    "is_parquet": "columnar",
    "jsonl_to_parquet": "columnar",
    "parquet_to_jsonl": "columnar",
    "write_event_frame": "columnar",
    "EventStore": "event_store",
    "LogInfo": "event_store",
}


def is_database_url(where: str | os.PathLike[str]) -> bool:
    """True for a database URL (``sqlite:///x.db``, ``postgresql+psycopg://...``)."""
    return isinstance(where, str) and "://" in where


def open_log(where: str | os.PathLike[str]) -> FileLog | DatabaseLog:
    """The event log at ``where``: a database URL, else a JSONL / Parquet file path.

    Opening a file does no I/O; opening a database connects once (a missing SQLite file
    or an unknown driver fails here, as :class:`~callcenter.storage.db.DatabaseError`).
    """
    if is_database_url(where):
        assert isinstance(where, str)
        return DatabaseLog(where)
    return FileLog(where)


def _checked_columns(columns: Sequence[str]) -> list[str]:
    cols = list(columns)
    unknown = [c for c in cols if c not in FIELD_NAMES]
    if unknown:
        raise ValueError(f"not event fields: {', '.join(map(repr, unknown))}")
    return cols


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


# --------------------------------------------------------------------------- files


class FileLog:
    """An event log file: JSON Lines, or Parquet by its suffix (:data:`PARQUET_SUFFIXES`)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        from callcenter.storage.columnar import is_parquet

        self.path = Path(path)
        self.parquet = is_parquet(self.path)
        self._appending = False

    def __repr__(self) -> str:
        return f"FileLog({str(self.path)!r})"

    # ------------------------------------------------------------------ reading

    def header(self) -> Event:
        """The checked header (first line / row 0); :class:`InputFileError` if the file is
        missing, empty, not an event log, or of a schema version this build does not read."""
        if not self.parquet:
            return read_header(self.path)
        from callcenter.storage.columnar import read_parquet_header

        row = read_parquet_header(self.path)
        try:
            return event_from_dict({k: v for k, v in row.items() if k in FIELD_NAMES})
        except EventValidationError as e:
            raise InputFileError(self.path, f"header row: {e}") from None

    def read_frame(
        self,
        columns: Sequence[str] = FIELD_NAMES,
        *,
        query: Callable[[pl.LazyFrame], pl.LazyFrame] | None = None,
        streaming: bool = False,
    ) -> pl.DataFrame:
        """The events (header left out) with ``columns`` (event fields, in that order; the
        others are not even parsed), in file order, one chunk per column.

        ``query`` transforms the lazy frame before it is collected (filters, joins,
        encodings: only what it needs is read); ``streaming`` collects with polars'
        streaming engine (JSON Lines parse about twice as fast).  Column types are
        :data:`EVENT_SCHEMA`'s (``type`` is an Enum).  The header is checked first; a
        line the parser cannot take raises :class:`InputFileError` naming file and line.
        """
        import polars as pl

        from callcenter.storage.columnar import EVENT_SCHEMA

        cols = _checked_columns(columns)
        self.header()  # one clear line for a missing, empty or foreign file
        scan = (
            pl.scan_parquet(self.path)
            if self.parquet
            else pl.scan_ndjson(self.path, schema=EVENT_SCHEMA)
        )
        lazy = scan.slice(1).select(cols)  # row 0: the header, checked above
        if query is not None:
            lazy = query(lazy)
        try:
            frame = lazy.collect(engine="streaming" if streaming else "auto")
        except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as e:
            self.check()  # raises at the first bad line
            raise InputFileError(
                self.path, f"cannot be read as an event log: {_first_line(e)}"
            ) from None
        return frame.rechunk()

    def check(self) -> None:
        """Validate every line of a JSON Lines log, raising :class:`InputFileError` at the
        first bad one (readers call it when the columnar parse or their own checks fail).
        A Parquet log has no lines: its header is checked, the rows were when written."""
        if self.parquet:
            self.header()
        else:
            find_bad_line(self.path)

    def events(self, *, with_header: bool = False) -> Iterator[Event]:
        """The events one by one, each validated (a bad one raises naming file and line,
        or row for Parquet)."""
        if not self.parquet:
            yield from read_events(self.path, with_header=with_header)
            return
        import polars as pl

        header = self.header()
        if with_header:
            yield header
        frame = pl.read_parquet(self.path).select(FIELD_NAMES)
        row_no = 0
        for chunk in frame.iter_slices(100_000):
            for row in chunk.iter_rows(named=True):
                row_no += 1
                if row_no == 1:
                    continue  # the header
                try:
                    yield event_from_dict(row)
                except EventValidationError as e:
                    raise InputFileError(self.path, f"row {row_no}: {e}") from None

    # ------------------------------------------------------------------ writing

    def writer(self, source: str, start: float = 0.0, *, background: bool = False) -> LogWriter:
        """A new log at this path, written atomically (a context manager; see
        :class:`~callcenter.storage.jsonl.EventLogWriter`).  A Parquet log is written
        as JSON Lines beside it, then converted (streaming) when the writer closes."""
        if self.parquet:
            return _ParquetWriter(self.path, source, start, background=background)
        return EventLogWriter(self.path, source, start, background=background)

    def write(self, events: Iterable[Event], source: str, start: float = 0.0) -> int:
        """Write ``events`` as a new log (atomic); return how many were written."""
        with self.writer(source, start) as log:
            log.write_many(events)
        return log.count

    def write_frame(self, frame: pl.DataFrame, source: str) -> None:
        """Write events held as an :data:`EVENT_SCHEMA` frame (time order, no header) as a
        new log (atomic)."""
        from callcenter.storage.columnar import write_event_frame

        write_event_frame(frame, self.path, source)

    def append(self, events: Iterable[Event], source: str) -> int:
        """Add ``events`` at the end of a JSON Lines log; return how many.

        A missing or empty file is started with a header naming ``source``; an existing
        one must be an event log (its header is checked once per :class:`FileLog`).
        Unlike :meth:`write` this is not atomic: it is the ``--follow`` importers' sink.
        """
        if self.parquet:
            raise InputFileError(self.path, "a Parquet event log cannot be appended to")
        if not self._appending:
            if self.path.exists() and self.path.stat().st_size > 0:
                read_header(self.path)
            else:
                self.path.write_bytes(encode_event(header_event(source)))
            self._appending = True
        batch = list(events)
        if batch:
            with self.path.open("ab") as fh:
                fh.write(encode_events(batch))
        return len(batch)


LogWriter = EventLogWriter
"""What :meth:`FileLog.writer` returns: ``write``, ``write_many``, ``write_batch``,
``write_raw_batch`` (compact tuples) and ``count``."""


class _ParquetWriter(EventLogWriter):
    """JSON Lines to ``<name>.jsonl.part``, converted to Parquet at ``<name>`` on close."""

    def __init__(
        self, path: Path, source: str, start: float = 0.0, *, background: bool = False
    ) -> None:
        self.target = path
        super().__init__(
            path.with_name(path.name + ".jsonl.part"), source, start, background=background
        )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        super().__exit__(exc_type, exc, tb)
        if exc_type is None:
            from callcenter.storage.columnar import jsonl_to_parquet

            try:
                jsonl_to_parquet(self.path, self.target)
            finally:
                self.path.unlink(missing_ok=True)


# --------------------------------------------------------------------------- the database


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
        start, end, queue, agent, source=source, columns=_checked_columns(columns)
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
    from callcenter.storage.event_store import select_rows

    return select_rows(
        _connection(db),
        _checked_columns(columns),
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
        """``engine``: one the caller opened already (the CLI opens every database with
        :func:`callcenter.storage.database.open_database`); closed with this log."""
        from callcenter.storage.db import open_engine

        self.url = url
        self.engine: Engine = engine if engine is not None else open_engine(url)

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
        """A checked connection; driver and SQL errors become one-line DatabaseErrors."""
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
            conn.rollback()  # end the check's read transaction: the load is its own unit
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
    from callcenter.storage.db import database_errors, require_current

    with database_errors(url), engine.connect() as conn:
        require_current(conn)
        yield conn


def __getattr__(name: str) -> Any:
    # polars (columnar) and SQLAlchemy (event_store) are imported on first use
    module = _LAZY.get(name)
    if module is not None:
        import importlib

        return getattr(importlib.import_module(f"callcenter.storage.{module}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "EVENT_SCHEMA",
    "EVENT_TYPE_DTYPE",
    "PARQUET_SUFFIXES",
    "DatabaseLog",
    "EventLogWriter",
    "EventStore",
    "FileLog",
    "LogInfo",
    "LogWriter",
    "append",
    "append_in_transaction",
    "is_database_url",
    "is_parquet",
    "iter_events",
    "jsonl_to_parquet",
    "last_id",
    "load_id",
    "open_log",
    "parquet_to_jsonl",
    "read_events",
    "read_frame",
    "read_header",
    "read_rows",
    "write_event_frame",
    "write_events",
]
