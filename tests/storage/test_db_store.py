"""EventStore on a real SQLite file: round trips, filters, frames, atomic loads."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from callcenter.events import FIELD_NAMES, Event, EventType, event_from_dict
from callcenter.storage.db import (
    BATCH_SIZE,
    events_table,
    frame_schema,
    make_engine,
    upgrade,
)
from callcenter.storage.event_store import EventStore
from callcenter.storage.jsonl import read_events, write_events

T0 = 1_714_550_400.0  # 2024-05-01T08:00:00Z


def sample_events(n_contacts: int = 3) -> list[Event]:
    """A small but complete log: every optional field type is used somewhere."""
    raw: list[dict[str, object]] = [
        {"t": T0, "type": "agent_login", "agent": "a1"},
        {"t": T0, "type": "agent_login", "agent": "a2"},
        {"t": T0 + 0.5, "type": "agent_state", "agent": "a2", "state": "paused", "reason": "lunch"},
    ]
    for i in range(n_contacts):
        c = f"c{i}"
        q = "sales" if i % 2 == 0 else "support"
        a = "a1" if i % 2 == 0 else "a2"
        t = T0 + 10.0 * i + 1 / 3  # a non-terminating binary fraction
        raw += [
            {
                "t": t,
                "type": "arrive",
                "contact": c,
                "channel": "voice",
                "caller": f"+4930{i:04d}",
                "queue": q,
            },
            {"t": t, "type": "enqueue", "contact": c, "queue": q, "priority": i, "position": 1},
            {"t": t + 0.1, "type": "offer", "contact": c, "queue": q, "agent": a, "wait": 0.1},
            {
                "t": t + 2.1,
                "type": "connect",
                "contact": c,
                "queue": q,
                "agent": a,
                "wait": 2.1,
                "ring": 2.0,
            },
            {
                "t": t + 5.0,
                "type": "complete",
                "contact": c,
                "queue": q,
                "agent": a,
                "by": "caller",
                "talk": 2.9,
                "hold": 0.0,
            },
            {
                "t": t + 7.25,
                "type": "wrapup_end",
                "contact": c,
                "queue": q,
                "agent": a,
                "acw": 2.25,
            },
        ]
    raw += [
        {"t": T0 + 100, "type": "enqueue", "contact": "x", "queue": "sales"},
        {
            "t": T0 + 130,
            "type": "timeout",
            "contact": "x",
            "queue": "sales",
            "wait": 30.0,
            "target": "overflow",
            "target_type": "queue",
            "position": 2,
        },
        {
            "t": T0 + 131,
            "type": "transfer",
            "contact": "y",
            "agent": "a1",
            "target": "a2",
            "target_type": "agent",
            "kind": "blind",
            "talk": 1e-9,
        },
    ]
    return [event_from_dict(r) for r in raw]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    upgrade(url)
    eng = make_engine(url)
    yield eng
    eng.dispose()


def test_round_trip_jsonl_db_jsonl(engine: Engine, tmp_path: Path) -> None:
    original = sample_events()
    src = tmp_path / "in.jsonl"
    write_events(src, original, source="sim")
    with engine.connect() as conn:
        store = EventStore(conn)
        n = store.append(read_events(src), source="sim", path=str(src))
        assert n == len(original)
        out = tmp_path / "out.jsonl"
        write_events(out, store.iter_events(), source="db")
    back = list(read_events(out))
    assert back == original
    # floats come back bit for bit
    assert [e.t for e in back] == [e.t for e in original]


def test_order_is_insertion_order_across_loads(engine: Engine) -> None:
    first = sample_events(2)
    second = [Event(t=T0 - 1000.0, type=EventType.AGENT_LOGIN, agent="early")]
    with engine.connect() as conn:
        store = EventStore(conn)
        store.append(first, source="one")
        store.append(second, source="two")
        assert list(store.iter_events()) == first + second
        logs = store.logs()
        assert [(g.source, g.event_count) for g in logs] == [("one", len(first)), ("two", 1)]
        assert all(g.schema_version == 1 for g in logs)
        sources = conn.execute(select(events_table.c.source).order_by(events_table.c.id))
        assert [s for (s,) in sources] == ["one"] * len(first) + ["two"]


def test_filters(engine: Engine) -> None:
    events = sample_events(4)
    with engine.connect() as conn:
        store = EventStore(conn)
        store.append(events, source="sim")

        def expect(**kw: object) -> list[Event]:
            start = kw.get("start")
            end = kw.get("end")
            return [
                e
                for e in events
                if (start is None or e.t >= start)  # type: ignore[operator]
                and (end is None or e.t < end)  # type: ignore[operator]
                and ("queue" not in kw or e.queue == kw["queue"])
                and ("agent" not in kw or e.agent == kw["agent"])
            ]

        cases: list[dict[str, object]] = [
            {},
            {"start": T0 + 10},
            {"end": T0 + 20},
            {"start": T0 + 10, "end": T0 + 20},
            {"queue": "sales"},
            {"agent": "a2"},
            {"queue": "support", "agent": "a2", "start": T0 + 1},
            {"queue": "nowhere"},
        ]
        for kw in cases:
            want = expect(**kw)
            assert list(store.iter_events(**kw)) == want, kw  # type: ignore[arg-type]
            assert store.count(**kw) == len(want), kw  # type: ignore[arg-type]
        # the start bound is inclusive, the end bound exclusive
        assert store.count(start=T0, end=T0) == 0
        assert store.count(start=T0, end=math.nextafter(T0, math.inf)) == 2


def test_to_frame_columns_and_values(engine: Engine) -> None:
    events = sample_events()
    with engine.connect() as conn:
        store = EventStore(conn)
        empty = store.to_frame()
        assert empty.columns == list(FIELD_NAMES)
        assert empty.schema == pl.Schema(frame_schema())
        assert empty.height == 0
        store.append(events, source="sim")
        frame = store.to_frame()
        sales = store.to_frame(queue="sales", start=T0 + 1)
    assert frame.columns == list(FIELD_NAMES)
    assert frame.schema == pl.Schema(frame_schema())
    assert frame.height == len(events)
    expected = pl.DataFrame(
        [{n: getattr(e, n) for n in FIELD_NAMES} for e in events], schema=frame_schema()
    )
    assert frame.equals(expected)
    assert frame["source"].null_count() == frame.height
    assert sales.height == sum(1 for e in events if e.queue == "sales" and e.t >= T0 + 1)


def test_failed_append_writes_nothing(engine: Engine) -> None:
    good = sample_events(10)

    def exploding() -> Iterator[Event]:
        yield from good
        raise RuntimeError("source died")

    with engine.connect() as conn:
        store = EventStore(conn, batch_size=7)  # several batches are inserted first
        store.append(good[:3], source="before")
        with pytest.raises(RuntimeError, match="source died"):
            store.append(exploding(), source="broken")
        assert store.count() == 3
        assert [g.source for g in store.logs()] == ["before"]
    # and the committed state on a fresh connection agrees
    with engine.connect() as conn:
        assert EventStore(conn).count() == 3


def test_append_refuses_header_events(engine: Engine) -> None:
    header = Event(t=0.0, type=EventType.HEADER, schema="callcenter.events", version=1)
    with engine.connect() as conn:
        store = EventStore(conn)
        with pytest.raises(ValueError, match="header"):
            store.append([*sample_events(1), header], source="x")
        assert store.count() == 0


def test_append_commits_even_after_reads(engine: Engine) -> None:
    """A read autobegins a transaction; append still commits its load (via a savepoint)."""
    with engine.connect() as conn:
        store = EventStore(conn)
        assert store.count() == 0
        assert conn.in_transaction()
        store.append(sample_events(1), source="sim")
        assert not conn.in_transaction()
    with engine.connect() as conn:
        assert EventStore(conn).count() == len(sample_events(1))


def test_failed_append_after_reads_keeps_nothing(engine: Engine) -> None:
    def exploding() -> Iterator[Event]:
        yield from sample_events(2)
        raise RuntimeError("boom")

    with engine.connect() as conn:
        store = EventStore(conn, batch_size=2)
        assert store.count() == 0
        with pytest.raises(RuntimeError):
            store.append(exploding(), source="sim")
        assert store.count() == 0
        conn.rollback()
    with engine.connect() as conn:
        assert EventStore(conn).count() == 0
        assert EventStore(conn).logs() == []


def test_append_batches(engine: Engine) -> None:
    assert BATCH_SIZE == 50_000  # the default; a small one keeps this test quick
    n = 2_501
    events = (Event(t=T0 + i, type=EventType.AGENT_LOGIN, agent=f"a{i % 7}") for i in range(n))
    seen: list[int] = []
    with engine.connect() as conn:
        store = EventStore(conn, batch_size=1_000)
        assert store.append(events, source="bulk", progress=seen.append) == n
        assert store.count() == n
        assert store.count(agent="a3") == len(range(3, n, 7))
        assert store.logs()[0].event_count == n
        assert [e.t for e in store.iter_events(start=T0 + 1_999, end=T0 + 2_001)] == [
            T0 + 1_999,
            T0 + 2_000,
        ]
    assert seen == [1_000, 2_000, n]


def test_sqlite_connection_settings(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
