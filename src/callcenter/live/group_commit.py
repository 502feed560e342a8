"""Group commit: requests decided one at a time, written several to a transaction.

The live engine decides every request under its lock, in memory, in microseconds; the
transaction that keeps the request, its events and the read models costs milliseconds
(the commit most of them). Holding the engine's lock through that transaction made
every other request, and every reader of the router, wait for the disk: under a burst
of calls the engine became a queue. So the engine only *queues* each decision's write,
in decision order, and the caller waits here until it is committed.

The first waiting caller that finds no write in progress becomes the **leader**: it
takes everything queued so far and writes it in one transaction, in order; the others
(**followers**) wait for it and find their write done, or take the lead for what queued
meanwhile. With one request at a time this is exactly one transaction per request, as
before; under load, one commit serves many — the group commit databases use for their
own logs. No thread of its own: nothing to start or stop, nothing left behind.

**Failure.** A transaction that fails fails every write in it, and every write queued
behind them: each was decided by a router that had already taken the failed ones. The
queue then refuses writes until :meth:`GroupCommit.reset` — the engine rebuilds its
router from the database first (what was committed is the truth).

Written by hand: the standard library has the pieces (a condition variable), not the
pattern, and no database library offers it for a caller's own transactions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


class WriteLostError(RuntimeError):
    """This request was decided after one whose transaction failed; not written."""


@dataclass(eq=False, slots=True)
class Pending(Generic[T]):
    """One queued write: the item, and when written its outcome."""

    item: T
    done: bool = False
    error: BaseException | None = None


class GroupCommit(Generic[T]):
    """An ordered queue of writes, written by whichever waiting caller leads."""

    def __init__(self, write: Callable[[Sequence[T]], None]) -> None:
        self._write = write  # writes a batch in one transaction (or raises)
        self._cond = threading.Condition(threading.Lock())
        self._queue: list[Pending[T]] = []
        self._writing = False
        self._broken: BaseException | None = None
        self.batches = 0  # transactions written (for tests and the bench)
        self.items = 0  # writes committed

    def put(self, item: T) -> Pending[T]:
        """Queue ``item`` (the caller decides the order: call under its own lock)."""
        pending = Pending(item)
        with self._cond:
            if self._broken is not None:
                pending.done, pending.error = True, _lost(self._broken)
            else:
                self._queue.append(pending)
        return pending

    def wait(self, pending: Pending[T]) -> None:
        """Return when ``pending`` is committed; raise its failure if it was not."""
        while True:
            with self._cond:
                while not pending.done and self._writing:
                    self._cond.wait()
                if pending.done:
                    break
                batch, self._queue = self._queue, []
                self._writing = True
            self._lead(batch)
        if pending.error is not None:
            raise pending.error

    def _lead(self, batch: list[Pending[T]]) -> None:
        error: BaseException | None = None
        try:
            self._write([p.item for p in batch])
        except BaseException as e:  # handed to every waiter, raised there
            error = e
        with self._cond:
            for p in batch:
                p.done, p.error = True, error
            if error is not None:
                self._broken = error
                for p in self._queue:  # decided after the failed ones: not written
                    p.done, p.error = True, _lost(error)
                self._queue = []
            else:
                self.batches += 1
                self.items += len(batch)
            self._writing = False
            self._cond.notify_all()

    @property
    def queued(self) -> int:
        """Writes waiting behind the one being written."""
        with self._cond:
            return len(self._queue)

    @property
    def broken(self) -> bool:
        """Whether a failed transaction left the queue refusing writes."""
        with self._cond:
            return self._broken is not None

    def idle(self) -> None:
        """Wait until nothing is queued or being written (e.g. before reading the
        database as the truth). The caller must not hold a write of its own."""
        while True:
            with self._cond:
                while self._writing:
                    self._cond.wait()
                if not self._queue:
                    return
                batch, self._queue = self._queue, []
                self._writing = True
            self._lead(batch)

    def reset(self) -> None:
        """Take writes again (after the caller rebuilt its state from the database)."""
        with self._cond:
            self._broken = None


def _lost(cause: BaseException) -> WriteLostError:
    err = WriteLostError(f"not written: an earlier request's transaction failed ({cause!r})")
    err.__cause__ = cause
    return err


__all__ = ["GroupCommit", "Pending", "WriteLostError"]
