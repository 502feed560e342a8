"""Event log files: JSON Lines, or Parquet by suffix (:class:`FileLog`), the file side of
:mod:`callcenter.storage.eventlog`."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from callcenter.errors import InputFileError
from callcenter.events import FIELD_NAMES, Event, EventValidationError, event_from_dict
from callcenter.storage.eventlog.columns import checked_columns
from callcenter.storage.jsonl import (
    EventLogWriter,
    encode_event,
    encode_events,
    find_bad_line,
    header_event,
    read_events,
    read_header,
)

if TYPE_CHECKING:
    import polars as pl


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


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

        cols = checked_columns(columns)
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


__all__ = ["FileLog", "LogWriter"]
