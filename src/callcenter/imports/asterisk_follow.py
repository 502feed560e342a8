"""Follow a live Asterisk ``queue_log`` (``tail -F``): new lines become events in batches.

The file is read to its end, then polled.  Rotation is survived: when the path names a
new file (logrotate's rename + create: a new inode) or the file got shorter than what
was read (``copytruncate``), the rest of the old file is read and the new one is
followed from its start.  Each batch of complete lines is mapped by the same
:class:`~callcenter.imports.asterisk.QueueLogMapper` as a whole-file import (its state
carries over between batches) and handed to ``on_events``.

It stops when ``stop`` is set, when nothing new arrived for ``max_idle_s`` seconds, or on
KeyboardInterrupt (which propagates after the last complete lines were handed over).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Final

from callcenter.errors import InputFileError
from callcenter.events import Event
from callcenter.imports.asterisk import SOURCE, QueueLogMapper
from callcenter.imports.common import ImportStats

MAX_REMEMBERED_LINES: Final = 1_000_000  # duplicate detection window while following


class _Tail:
    def __init__(self, path: Path, from_start: bool) -> None:
        self.path = path
        self.fh: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed in close()
        self.ino = os.fstat(self.fh.fileno()).st_ino
        if not from_start:
            self.fh.seek(0, os.SEEK_END)

    def rotated(self) -> bool:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:  # between logrotate's rename and create
            return False
        return st.st_ino != self.ino or st.st_size < self.fh.tell()

    def reopen(self) -> None:
        self.fh.close()
        self.fh = open(self.path, "rb")  # noqa: SIM115
        self.ino = os.fstat(self.fh.fileno()).st_ino

    def close(self) -> None:
        self.fh.close()


def follow_queue_log(
    path: str | Path,
    on_events: Callable[[list[Event]], None],
    *,
    mapper: QueueLogMapper | None = None,
    stop: threading.Event | None = None,
    max_idle_s: float | None = None,
    poll_s: float = 0.2,
    from_start: bool = True,
) -> ImportStats:
    """Follow ``path`` until stopped (see the module docstring); return the stats."""
    p = Path(path)
    if not p.is_file():
        raise InputFileError(p, "no such file")
    mapper = mapper or QueueLogMapper(ImportStats(source=SOURCE, path=str(p)))
    tail = _Tail(p, from_start)
    buf = b""
    lineno = 0
    idle_since = time.monotonic()

    def emit(raw_lines: list[bytes]) -> None:
        nonlocal lineno
        texts = [b.decode("utf-8", "replace") for b in raw_lines]
        if len(mapper.seen_lines) > MAX_REMEMBERED_LINES:
            mapper.seen_lines.clear()
        events = mapper.feed(texts, lineno + 1)
        lineno += len(texts)
        if events:
            mapper.stats.events += len(events)
            on_events(events)

    try:
        while stop is None or not stop.is_set():
            chunk = tail.fh.read(1 << 20)
            if chunk:
                buf += chunk
                *complete, buf = buf.split(b"\n")
                if complete:
                    emit(complete)
                idle_since = time.monotonic()
                continue
            if tail.rotated():
                if buf:
                    emit([buf])
                    buf = b""
                tail.reopen()
                idle_since = time.monotonic()
                continue
            if max_idle_s is not None and time.monotonic() - idle_since >= max_idle_s:
                break
            if stop is not None:
                stop.wait(poll_s)
            else:
                time.sleep(poll_s)
    finally:
        tail.close()
    if buf:
        emit([buf])
    return mapper.stats


__all__ = ["follow_queue_log"]
