"""The event log as JSON Lines: one header line, then one event per line.

The header is itself an event (``{"t": ..., "type": "header", "schema":
"callcenter.events", "version": 1, "source": "sim"}``) so that columnar readers can load
the whole file with one schema and drop it by type.

Writing is atomic: lines go to ``<name>.part`` beside the target and the file is renamed
into place only when the writer closes cleanly, so an interrupted run never leaves a
half-written log under the requested name.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import orjson

from callcenter.errors import InputFileError
from callcenter.events import (
    SCHEMA_NAME,
    SCHEMA_VERSION,
    Event,
    EventType,
    EventValidationError,
    RawEvent,
    event_from_dict,
    event_to_raw,
)
from callcenter.storage._background import BackgroundAppender
from callcenter.storage.encode import encode_raw


def header_event(source: str, t: float = 0.0) -> Event:
    return Event(
        t=t, type=EventType.HEADER, schema=SCHEMA_NAME, version=SCHEMA_VERSION, source=source
    )


def encode_event(event: Event) -> bytes:
    """One JSONL line (with its newline) for ``event``; unset fields are left out."""
    return orjson.dumps(event.to_dict(), option=orjson.OPT_APPEND_NEWLINE)


def encode_events(events: Iterable[Event]) -> bytes:
    """Many JSONL lines at once (the simulator's and importers' bulk path)."""
    dumps = orjson.dumps
    opt = orjson.OPT_APPEND_NEWLINE
    return b"".join([dumps(ev.to_dict(), option=opt) for ev in events])


def encode_raw_events(events: list[RawEvent]) -> bytes:
    """JSONL lines for events in compact tuple form (see :data:`EXTRAS_BY_TYPE`)."""
    return encode_raw(events)


class EventLogWriter:
    """Write an event log atomically.  Use as a context manager.

    >>> with EventLogWriter(path, source="sim") as log:   # doctest: +SKIP
    ...     log.write(event)
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        source: str,
        start: float = 0.0,
        *,
        background: bool = False,
    ) -> None:
        """``background``: encode :meth:`write_raw_batch` batches in a child process."""
        self.path = Path(path)
        self.source = source
        self.start = start
        self.background = background
        self._tmp = self.path.with_name(self.path.name + ".part")
        self._fh: IO[bytes] | None = None
        self._child: BackgroundAppender | None = None
        self.count = 0

    def __enter__(self) -> EventLogWriter:
        if self.path.parent and not self.path.parent.exists():
            raise InputFileError(self.path.parent, "output folder does not exist")
        self._fh = open(self._tmp, "wb", buffering=1 << 20)
        self._fh.write(encode_event(header_event(self.source, self.start)))
        if self.background:
            self._fh.close()
            self._child = BackgroundAppender(self._tmp)
        return self

    def write(self, event: Event) -> None:
        self.write_batch([event])

    def write_many(self, events: Iterable[Event]) -> None:
        assert self._fh is not None, "use EventLogWriter as a context manager"
        batch: list[Event] = []
        for ev in events:
            batch.append(ev)
            if len(batch) >= 65536:
                self.write_batch(batch)
                batch = []
        self.write_batch(batch)

    def write_batch(self, events: list[Event]) -> None:
        assert self._fh is not None, "use EventLogWriter as a context manager"
        if self._child is not None:
            self._child.send([event_to_raw(e) for e in events])
        else:
            self._fh.write(encode_events(events))
        self.count += len(events)

    def write_raw_batch(self, events: list[RawEvent]) -> None:
        assert self._fh is not None, "use EventLogWriter as a context manager"
        if self._child is not None:
            self._child.send(events)
        else:
            self._fh.write(encode_raw_events(events))
        self.count += len(events)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._fh is not None
        self._fh.close()
        self._fh = None
        if self._child is not None:
            self._child.close(ok=exc_type is None)
            self._child = None
        if exc_type is None:
            os.replace(self._tmp, self.path)
        else:
            self._tmp.unlink(missing_ok=True)


def write_events(path: str | os.PathLike[str], events: Iterable[Event], source: str) -> int:
    """Write ``events`` to ``path`` (atomically); return how many were written."""
    with EventLogWriter(path, source=source) as log:
        log.write_many(events)
        return log.count


def _decode_line(path: Path, lineno: int, raw: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        shown = raw[:60].decode("utf-8", "replace")
        raise InputFileError(
            path, f"not a JSON object (truncated or garbled line?): {shown!r}", lineno
        ) from None
    if not isinstance(data, dict):
        raise InputFileError(path, f"expected a JSON object, got {type(data).__name__}", lineno)
    return data


def read_header(path: str | os.PathLike[str]) -> Event:
    """Read and check the header line; raise :class:`InputFileError` if it is not one."""
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            for lineno, raw in enumerate(fh, start=1):
                if raw.strip():
                    return _check_header(p, lineno, _decode_line(p, lineno, raw))
    except FileNotFoundError:
        raise InputFileError(p, "no such file") from None
    except IsADirectoryError:
        raise InputFileError(p, "is a folder, expected an event log file") from None
    raise InputFileError(p, "empty event log (expected a header line, then events)")


def _check_header(path: Path, lineno: int, data: dict[str, Any]) -> Event:
    if data.get("type") != EventType.HEADER.value or data.get("schema") != SCHEMA_NAME:
        raise InputFileError(
            path,
            f'expected the header line {{"type": "header", "schema": "{SCHEMA_NAME}", ...}} '
            "first; is this a callcenter event log?",
            lineno,
        )
    version = data.get("version")
    if not isinstance(version, int) or version > SCHEMA_VERSION or version < 1:
        raise InputFileError(
            path, f"unsupported schema version {version!r} (this build reads 1..{SCHEMA_VERSION})"
        )
    try:
        return event_from_dict(data)
    except EventValidationError as e:
        raise InputFileError(path, str(e), lineno) from None


def read_events(path: str | os.PathLike[str], *, with_header: bool = False) -> Iterator[Event]:
    """Yield the events of a log file, validating every line.

    Raises :class:`InputFileError` naming the file and line of the first bad line.
    """
    p = Path(path)
    read_header(p)  # clear errors for missing/empty/foreign files before streaming
    with open(p, "rb") as fh:
        seen_header = False
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            data = _decode_line(p, lineno, raw)
            if not seen_header:
                header = _check_header(p, lineno, data)
                seen_header = True
                if with_header:
                    yield header
                continue
            try:
                ev = event_from_dict(data)
            except EventValidationError as e:
                raise InputFileError(p, str(e), lineno) from None
            if ev.type is EventType.HEADER:
                raise InputFileError(p, "a second header line inside the log", lineno)
            yield ev


def find_bad_line(path: str | os.PathLike[str]) -> None:
    """Validate a whole log, raising :class:`InputFileError` at its first bad line.

    Columnar readers call this after a fast parse fails, to report a precise line.
    """
    for _ in read_events(path):
        pass
