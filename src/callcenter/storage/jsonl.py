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
    event_from_dict,
)



def header_event(source: str, t: float = 0.0) -> Event:
    return Event(
        t=t, type=EventType.HEADER, schema=SCHEMA_NAME, version=SCHEMA_VERSION, source=source
    )


def encode_event(event: Event) -> bytes:
    """One JSONL line (with its newline) for ``event``; unset fields are left out."""
    return orjson.dumps(event.to_dict(), option=orjson.OPT_APPEND_NEWLINE)


class EventLogWriter:
    """Write an event log atomically.  Use as a context manager.

    >>> with EventLogWriter(path, source="sim") as log:   # doctest: +SKIP
    ...     log.write(event)
    """

    def __init__(self, path: str | os.PathLike[str], source: str, start: float = 0.0) -> None:
        self.path = Path(path)
        self.source = source
        self.start = start
        self._tmp = self.path.with_name(self.path.name + ".part")
        self._fh: IO[bytes] | None = None
        self.count = 0

    def __enter__(self) -> EventLogWriter:
        if self.path.parent and not self.path.parent.exists():
            raise InputFileError(self.path.parent, "output folder does not exist")
        self._fh = open(self._tmp, "wb", buffering=1 << 20)  # noqa: SIM115 - closed in __exit__
        self._fh.write(encode_event(header_event(self.source, self.start)))
        return self

    def write(self, event: Event) -> None:
        assert self._fh is not None, "use EventLogWriter as a context manager"
        self._fh.write(encode_event(event))
        self.count += 1

    def write_many(self, events: Iterable[Event]) -> None:
        assert self._fh is not None, "use EventLogWriter as a context manager"
        dumps = orjson.dumps
        opt = orjson.OPT_APPEND_NEWLINE
        n = 0
        chunk: list[bytes] = []
        for ev in events:
            chunk.append(dumps(ev.to_dict(), option=opt))
            n += 1
            if len(chunk) >= 65536:
                self._fh.write(b"".join(chunk))
                chunk.clear()
        self._fh.write(b"".join(chunk))
        self.count += n

    def write_raw(self, data: bytes, count: int) -> None:
        """Append already-encoded JSONL lines (used by the simulator's fast path)."""
        assert self._fh is not None, "use EventLogWriter as a context manager"
        self._fh.write(data)
        self.count += count

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._fh is not None
        self._fh.close()
        self._fh = None
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
