"""A child process that encodes and appends compact events to a log file.

The simulator produces events faster than one core can both simulate and JSON-encode
them; handing batches (cheap to pickle: lists of tuples) to a second process puts the
encoding on the machine's other core.  This module imports only what the child needs.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
from multiprocessing.connection import Connection
from pathlib import Path

from callcenter.events.model import RawEvent


def _child(conn: Connection, path: str) -> None:
    from callcenter.storage.encode import encode_raw

    with open(path, "ab", buffering=1 << 20) as fh:
        while True:
            batch = conn.recv()
            if batch is None:
                break
            fh.write(encode_raw(batch))
    conn.close()


class BackgroundAppender:
    """Append batches of compact events to ``path`` from a child process."""

    def __init__(self, path: Path) -> None:
        ctx = mp.get_context("spawn")
        recv, self._send = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=_child, args=(recv, str(path)), daemon=True)
        self._proc.start()
        recv.close()

    def send(self, batch: list[RawEvent]) -> None:
        self._send.send(batch)

    def close(self, *, ok: bool) -> None:
        """Finish writing; raise OSError if the child failed."""
        with contextlib.suppress(BrokenPipeError, OSError):
            self._send.send(None)
        self._send.close()
        if not ok:
            self._proc.kill()
        self._proc.join()
        if ok and self._proc.exitcode != 0:
            raise OSError(f"the log writer process failed (exit code {self._proc.exitcode})")
