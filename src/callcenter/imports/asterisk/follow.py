"""Follow a live Asterisk ``queue_log`` (``tail -F``): new lines become events in batches.

The file is read to its end, then polled.  Rotation is survived: when the path names a
new file (logrotate's rename + create: a new inode) or the file got shorter than what
was read (``copytruncate``), the rest of the old file is read and the new one is
followed from its start.  New complete lines are parsed at once but wait up to ``lag_s``
seconds (2 by default; of log time, or of wall time while the log is quiet) before they
are mapped, in time order, by the same
:class:`~callcenter.imports.asterisk.QueueLogMapper` as a line-by-line import (its state
carries over): lines Asterisk wrote slightly out of order, and an EXITWITHTIMEOUT and the
ENTERQUEUE of its overflow, are then mapped together as in a whole-file import.  The
events go to ``on_events``.

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
from callcenter.imports.asterisk.queue_log import SOURCE, Line, QueueLogMapper
from callcenter.imports.common import ImportStats

MAX_REMEMBERED_LINES: Final = 1_000_000  # duplicate detection window while following


class _Hold:
    """Parsed lines waiting to be mapped (see the module docstring)."""

    def __init__(self, lag_s: float) -> None:
        self.lag_s = lag_s
        self.lines: list[tuple[Line, float]] = []  # (line, wall time it arrived)
        self.max_t = float("-inf")

    def add(self, lines: list[Line], now: float) -> None:
        self.lines += [(ln, now) for ln in lines]
        if lines:
            self.max_t = max(self.max_t, max(ln[0] for ln in lines))

    def release(self, now: float, everything: bool = False) -> list[Line]:
        """The lines old enough to map: log time ``lag_s`` behind the newest line, or
        waiting ``lag_s`` of wall time (with every line not later than those)."""
        if everything:
            ready, self.lines = [ln for ln, _ in self.lines], []
            return ready
        cut = self.max_t - self.lag_s
        waited = [ln[0] for ln, at in self.lines if now - at >= self.lag_s]
        if waited:
            cut = max(cut, max(waited))
        ready = [ln for ln, _ in self.lines if ln[0] <= cut]
        if ready:
            self.lines = [(ln, at) for ln, at in self.lines if ln[0] > cut]
        return ready


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
    lag_s: float = 2.0,
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

    hold = _Hold(lag_s)

    def emit(raw_lines: list[bytes]) -> None:
        nonlocal lineno
        texts = [b.decode("utf-8", "replace") for b in raw_lines]
        if len(mapper.seen_lines) > MAX_REMEMBERED_LINES:
            mapper.seen_lines.clear()
        hold.add(mapper.parse(texts, lineno + 1), time.monotonic())
        lineno += len(texts)
        flush()

    def flush(everything: bool = False) -> None:
        events = mapper.map_lines(hold.release(time.monotonic(), everything))
        if events:
            mapper.stats.events += len(events)
            on_events(events)

    def finish() -> None:
        nonlocal buf
        if buf:
            emit([buf])
            buf = b""
        flush(everything=True)

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
            flush()
            if max_idle_s is not None and time.monotonic() - idle_since >= max_idle_s:
                break
            if stop is not None:
                stop.wait(poll_s)
            else:
                time.sleep(poll_s)
    except KeyboardInterrupt:  # hand over what was read, then let it propagate
        tail.close()
        finish()
        raise
    finally:
        tail.close()
    finish()
    return mapper.stats


__all__ = ["follow_queue_log"]
