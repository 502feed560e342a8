"""LiveEngine: each request one transaction — command, caller's rows, events, read models."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.support.seed import seed

from callcenter.live.engine import LiveEngine
from callcenter.routing import RoutingError
from callcenter.storage.db import EventRow, make_engine
from callcenter.storage.tables import AgentRow, ContactRow, EngineCommand


class Clock:
    def __init__(self, t: float = 1_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _contact(cid: str, t: float) -> object:
    def add(s: Session) -> None:
        s.add(ContactRow(id=cid, channel="chat", status="queued", arrived_at=t))

    return add


def test_chat_lifecycle_writes_events_and_read_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    seed(url)
    db = make_engine(url)
    clock = Clock()
    eng = LiveEngine(db, clock=clock)
    eng.start()
    eng.submit("login", agent="ann")
    clock.t = 1_010.0
    eng.submit("arrive", contact="c1", queue="support", caller="x@y.z", channel="chat",
               extra=_contact("c1", 1_010.0))  # fmt: skip
    clock.t = 1_013.0
    eng.submit("answer", contact="c1")
    clock.t = 1_100.0
    eng.submit("hangup", contact="c1", by="agent")
    clock.t = 1_130.0
    eng.submit("end_wrapup", agent="ann", contact="c1")
    with Session(db) as s:
        types = [(e.type, e.t) for e in s.scalars(select(EventRow).order_by(EventRow.id))]
        row = s.get(ContactRow, "c1")
        agent = s.scalar(select(AgentRow).where(AgentRow.name == "ann"))
        n_commands = len(s.scalars(select(EngineCommand)).all())
    assert types == [
        ("agent_login", 1_000.0),
        ("arrive", 1_010.0),
        ("enqueue", 1_010.0),
        ("offer", 1_010.0),
        ("connect", 1_013.0),
        ("complete", 1_100.0),
        ("wrapup_end", 1_130.0),
    ]
    assert row is not None and agent is not None
    assert (row.status, row.agent, row.queue) == ("closed", "ann", "support")
    assert (row.enqueued_at, row.offered_at, row.answered_at) == (1_010.0, 1_010.0, 1_013.0)
    assert (row.ended_at, row.closed_at) == (1_100.0, 1_130.0)
    assert (agent.status, agent.status_since) == ("available", 1_000.0)
    assert n_commands == 5
    db.dispose()


def test_refused_request_writes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    seed(url)
    db = make_engine(url)
    eng = LiveEngine(db, clock=Clock())
    eng.start()
    with pytest.raises(RoutingError, match="not logged in"):
        eng.submit("pause", agent="ann", reason="break")
    with Session(db) as s:
        assert s.scalars(select(EngineCommand)).all() == []
        assert s.scalars(select(EventRow)).all() == []
    db.dispose()


def test_log_appends_events_that_are_not_requests_and_replay_skips_them(tmp_path: Path) -> None:
    from callcenter.events import Event, EventType

    url = f"sqlite:///{tmp_path / 'c.db'}"
    seed(url)
    db = make_engine(url)
    clock = Clock()
    seen: list[list[str]] = []
    eng = LiveEngine(db, clock=clock, listeners=[lambda a: seen.append([e.type for e in a.events])])
    eng.start()
    eng.submit("arrive", contact="v1", channel="voice", extra=_contact("v1", 1_000.0))
    ivr = [
        Event(1_001.0, EventType.IVR_ENTER, "v1"),
        Event(1_004.0, EventType.IVR_CHOICE, "v1", target="main", reason="2"),
        Event(1_005.0, EventType.IVR_LEAVE, "v1", queue="support", reason="queue"),
    ]
    eng.log(ivr)
    with Session(db) as s:
        rows = [(e.type, e.t) for e in s.scalars(select(EventRow).order_by(EventRow.id))]
        commands = [c.name for c in s.scalars(select(EngineCommand))]
    assert rows[-3:] == [("ivr_enter", 1_001.0), ("ivr_choice", 1_004.0), ("ivr_leave", 1_005.0)]
    assert commands == ["arrive"]  # nothing to replay for the logged events
    assert seen[-1] == ["ivr_enter", "ivr_choice", "ivr_leave"]
    again = LiveEngine(db, clock=clock)
    again.start()  # replays the arrive only: "v1" is back in the router, still unqueued
    assert again.replayed == 1 and "v1" in again.router.contacts
    with Session(db) as s:
        assert len(s.scalars(select(EventRow)).all()) == len(rows)
