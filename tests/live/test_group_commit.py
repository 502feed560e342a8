"""Group commit: decisions queued in order, written several to a transaction.

The writer here is a list standing in for the database: a batch is "committed" when it
is appended, and a gate holds the first batch open so the others queue behind it —
the order and grouping are then known by construction, not by timing.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.support.seed import seed

from callcenter.live.engine import LiveEngine
from callcenter.live.group_commit import GroupCommit, WriteLostError
from callcenter.storage.db import EventRow, make_engine
from callcenter.storage.tables import EngineCommand

WAIT_S = 10.0


class Disk:
    """Batches as written; the first one waits for ``gate``; ``fail_on`` raises."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.fail_on: int | None = None

    def write(self, items: Sequence[int]) -> None:
        if not self.batches and not self.entered.is_set():
            self.entered.set()
            assert self.gate.wait(WAIT_S)
        if self.fail_on in items:
            raise OSError("disk full")
        self.batches.append(list(items))


def _writer(gc: GroupCommit[int], lock: threading.Lock, item: int, out: dict[int, object]) -> None:
    with lock:  # the caller's own lock decides the order, as the engine's does
        pending = gc.put(item)
    try:
        gc.wait(pending)
        out[item] = "ok"
    except Exception as e:
        out[item] = e


def _start(
    gc: GroupCommit[int], lock: threading.Lock, item: int, out: dict[int, object]
) -> threading.Thread:
    t = threading.Thread(target=_writer, args=(gc, lock, item, out))
    t.start()
    return t


def _queued(gc: GroupCommit[int], n: int) -> None:
    """Wait until ``n`` writes are queued behind the one being written."""
    for _ in range(1000):
        if gc.queued == n:
            return
        threading.Event().wait(0.005)
    raise AssertionError(f"{n} writes never queued")


def test_writes_queued_during_a_commit_share_the_next_one_in_order() -> None:
    disk, lock = Disk(), threading.Lock()
    out: dict[int, object] = {}
    gc: GroupCommit[int] = GroupCommit(disk.write)
    first = _start(gc, lock, 0, out)
    assert disk.entered.wait(WAIT_S)  # 0 is being written; 1..5 queue behind it
    others = []
    for i in range(1, 6):
        others.append(_start(gc, lock, i, out))
        _queued(gc, i)  # one at a time: the put order is known
    disk.gate.set()
    for t in [first, *others]:
        t.join(WAIT_S)
    assert disk.batches == [[0], [1, 2, 3, 4, 5]]
    assert out == {i: "ok" for i in range(6)}
    assert (gc.batches, gc.items) == (2, 6)


def test_a_lone_write_is_its_own_transaction() -> None:
    disk = Disk()
    disk.entered.set()  # no gate
    gc: GroupCommit[int] = GroupCommit(disk.write)
    for i in range(3):
        gc.wait(gc.put(i))
    assert disk.batches == [[0], [1], [2]]


def test_a_failed_transaction_fails_its_writes_and_those_decided_after() -> None:
    disk, lock = Disk(), threading.Lock()
    out: dict[int, object] = {}
    disk.fail_on = 2
    gc: GroupCommit[int] = GroupCommit(disk.write)
    first = _start(gc, lock, 0, out)
    assert disk.entered.wait(WAIT_S)
    threads = []
    for i in (1, 2):  # the batch [1, 2] fails
        threads.append(_start(gc, lock, i, out))
        _queued(gc, i)
    disk.gate.set()
    for t in [first, *threads]:
        t.join(WAIT_S)
    assert out[0] == "ok"
    assert isinstance(out[1], OSError) and isinstance(out[2], OSError)
    assert gc.broken
    late = gc.put(3)  # decided by a router that took the failed ones: refused
    with pytest.raises(WriteLostError, match="earlier request's transaction failed"):
        gc.wait(late)
    gc.reset()  # the caller rebuilt its state from the database
    gc.wait(gc.put(4))
    assert disk.batches == [[0], [4]]


def test_idle_writes_what_is_queued_first() -> None:
    disk = Disk()
    disk.entered.set()
    gc: GroupCommit[int] = GroupCommit(disk.write)
    pending = gc.put(7)
    gc.idle()
    assert pending.done and disk.batches == [[7]]


def test_engine_requests_from_many_threads_all_land_in_decision_order(tmp_path: Path) -> None:
    """Sixteen threads each bring chats in and answer them; every request is in the
    database once, seq 1..N without a gap, and the event log's order is the router's
    (every ``connect`` after its contact's ``offer``)."""
    url = f"sqlite:///{tmp_path / 'c.db'}"
    seed(url)
    db = make_engine(url)
    eng = LiveEngine(db)
    eng.start()
    for a in ("ann", "bob", "cid"):
        eng.submit("login", agent=a)
    errors: list[BaseException] = []

    def caller(k: int) -> None:
        try:
            for j in range(10):
                eng.submit("arrive", contact=f"c{k}-{j}", queue="support", caller=None)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=caller, args=(k,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    with Session(db) as s:
        seqs = list(s.scalars(select(EngineCommand.seq).order_by(EngineCommand.id)))
        arrivals = [
            str(c)
            for c in s.scalars(
                select(EventRow.contact).where(EventRow.type == "arrive").order_by(EventRow.id)
            )
        ]
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) == 3 + 160
    assert sorted(arrivals) == sorted(f"c{k}-{j}" for k in range(16) for j in range(10))
    # the router numbered the contacts in the order it decided them: the log's order
    assert sorted(arrivals, key=lambda c: eng.router.contacts[c].seq) == arrivals
    assert eng.commits.items == 3 + 160
