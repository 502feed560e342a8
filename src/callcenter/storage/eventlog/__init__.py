"""The event log's one front door: open a log, append events, read a frame, read the header.

An event log is one of

* a **JSON Lines** file: a header line, then one event per line (the interchange format);
* a **Parquet** file (suffix ``.parquet`` / ``.pq``): the same events by column, the
  header as row 0 (the fast one to read back);
* the ``events`` table of a **SQL database** (a URL such as ``sqlite:///callcenter.db``):
  one row per event, no header (each load is a row of ``event_logs`` instead).

This package is the door; behind it ``files`` (:class:`FileLog`) and ``sql``
(:class:`DatabaseLog` and the functions on a caller's connection).  Every writer (live
engine, simulator, importers) and every reader (KPIs, callers, WFM,
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
from typing import TYPE_CHECKING, Any, Final

from callcenter.storage.eventlog.files import FileLog, LogWriter
from callcenter.storage.eventlog.sql import (
    DatabaseLog,
    append,
    append_in_transaction,
    contact_events,
    iter_events,
    last_id,
    load_id,
    read_frame,
    read_rows,
)
from callcenter.storage.jsonl import EventLogWriter, read_events, read_header, write_events

if TYPE_CHECKING:
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
    "contact_events",
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
