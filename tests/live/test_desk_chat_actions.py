"""The desk's and the chat's use cases (``live/desk/actions.py``, ``live/chat/actions.py``)
run on a real engine and database, without HTTP: one chat from start to rating, on a
clock set by hand, and each refusal with the domain error and message it must raise."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.support.seed import seed

from callcenter.errors import ConflictError, NotFoundError, UserError
from callcenter.live.chat import actions as chat
from callcenter.live.commands import Answer, Login
from callcenter.live.desk import actions as desk
from callcenter.live.engine import LiveEngine
from callcenter.storage.audit import Actor
from callcenter.storage.db import make_engine
from callcenter.storage.tables import ContactNote, ContactRow, Message


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


# A Monday, 2024-05-06 10:00 UTC (the seeded queues have no opening hours).
T0 = 1_714_989_600.0
ANN = Actor(user_id=None, username="ann", role="agent", address="127.0.0.1")


@pytest.fixture
def center(tmp_path: Path) -> Iterator[tuple[LiveEngine, Clock]]:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    seed(url)
    db = make_engine(url)
    clock = Clock(T0)
    engine = LiveEngine(db, clock=clock)
    engine.start()
    yield engine, clock
    db.dispose()


def _session(engine: LiveEngine) -> Session:
    return engine.sessions()


def test_one_chat_from_start_to_rating(center: tuple[LiveEngine, Clock]) -> None:
    engine, clock = center
    with _session(engine) as s:
        assert desk.change_state(engine, s, "ann", Login(agent="ann")).status == "available"
    clock.t = T0 + 10
    started = chat.start(
        engine, queue="support", name="Dana", email="Dana@Example.com", phone=None, message="hi"
    )
    assert started.status == "ringing"  # ann is the only agent logged in
    with _session(engine) as s:
        view = desk.snapshot(engine, "ann")
        assert [(c.id, c.status) for c in view.contacts] == [(started.contact_id, "ringing")]
        clock.t = T0 + 13
        desk.answer_offer(engine, s, "ann", Answer(contact=started.contact_id))
    with _session(engine) as s:
        clock.t = T0 + 20
        line = desk.write_message(engine, s, "ann", started.contact_id, "Hello Dana")
    assert (line["sender"], line["t"], line["agent_name"]) == ("agent", T0 + 20, "Ann")
    clock.t = T0 + 30
    said, agent = chat.write(engine, started.contact_id, started.token, "my bill")
    assert (said.sender, said.body, agent) == ("customer", "my bill", "ann")
    with _session(engine) as s:
        clock.t = T0 + 60
        after, lines = desk.end(engine, s, "ann", started.contact_id)
    assert [c.status for c in after.contacts] == ["wrapup"]
    assert [(x["sender"], x["body"], x["t"]) for x in lines] == [
        ("system", "Ann ended the chat.", T0 + 60)
    ]
    with _session(engine) as s:
        clock.t = T0 + 90
        done = desk.wrap_up(
            engine, s, "ann", started.contact_id, "resolved", "paid twice", actor=ANN
        )
    assert done.contacts == []
    rated = chat.rate(engine, started.contact_id, started.token, 5, "  quick  ")
    assert (rated.status, rated.csat, rated.ended, rated.agent_name) == ("closed", 5, True, "Ann")
    assert [m.sender for m in rated.messages] == ["customer", "agent", "customer", "system"]
    with _session(engine) as s:
        row = s.get(ContactRow, started.contact_id)
        assert row is not None
        assert (row.disposition, row.csat_comment) == ("resolved", "quick")
        notes = s.execute(select(ContactNote.author, ContactNote.body)).all()
        assert [tuple(n) for n in notes] == [
            ("ann", "paid twice")
        ]  # the agent's own note, not the old column
        assert (row.arrived_at, row.answered_at, row.ended_at) == (T0 + 10, T0 + 13, T0 + 60)
        assert s.scalar(select(Message.t).where(Message.sender == "system")) == T0 + 60


def test_refusals_raise_the_domain_error(center: tuple[LiveEngine, Clock]) -> None:
    engine, _clock = center
    with _session(engine) as s, pytest.raises(UserError) as bad_reason:
        desk.pause(engine, s, "ann", "nap")
    assert str(bad_reason.value) == (
        "reason: 'nap' is not a pause reason; choose one of: break, lunch"
    )
    assert not isinstance(bad_reason.value, (ConflictError, NotFoundError))
    with _session(engine) as s, pytest.raises(NotFoundError, match="no contact 'nope'"):
        desk.answer_offer(engine, s, "ann", Answer(contact="nope"))
    with pytest.raises(NotFoundError, match="no queue 'billing'"):
        chat.start(engine, queue="billing", name="X", email=None, phone=None, message=None)
    started = chat.start(engine, queue="support", name="X", email=None, phone=None, message=None)
    assert started.status == "queued"  # nobody logged in
    with _session(engine) as s, pytest.raises(ConflictError, match="is not ringing at 'ann'"):
        desk.answer_offer(engine, s, "ann", Answer(contact=started.contact_id))
    with pytest.raises(NotFoundError, match=f"no chat '{started.contact_id}'"):
        chat.view(engine, started.contact_id, "wrong-token")
    with pytest.raises(ConflictError, match="has not ended yet"):
        chat.rate(engine, started.contact_id, started.token, 4, None)
    with _session(engine) as s, pytest.raises(UserError, match="agent: no agent 'zed'"):
        desk.transfer(engine, s, "ann", started.contact_id, to_agent="zed", actor=ANN)
    left = chat.leave(engine, started.contact_id, started.token)
    assert (left.ended.status, left.rung, left.agent) == ("abandoned", False, None)
    assert left.said is not None and left.said["body"] == "The customer left the chat."
    with pytest.raises(ConflictError, match="has already ended"):
        chat.leave(engine, started.contact_id, started.token)


class RecordingHub:
    """A hub with every desk open: what the pusher publishes, by channel."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, object]]] = []

    def publish(self, channel: str, message: dict[str, object]) -> None:
        self.sent.append((channel, message))

    def count(self, channel: str) -> int:
        return 1


def test_a_contact_that_leaves_while_ringing_is_dropped_from_the_agents_desk(
    center: tuple[LiveEngine, Clock],
) -> None:
    """The router's abandon names no agent; the desk it was ringing is told anyway (else
    the offer stayed on screen until the ring timed out)."""
    from callcenter.live.commands import Abandon
    from callcenter.live.desk.views import DeskPusher

    engine, clock = center
    hub = RecordingHub()
    engine.listeners.append(DeskPusher(hub, engine.sessions, engine))
    with _session(engine) as s:
        desk.change_state(engine, s, "ann", Login(agent="ann"))
    clock.t = T0 + 10
    started = chat.start(
        engine, queue="support", name="Dana", email="dana@example.com", phone=None, message="hi"
    )
    assert started.status == "ringing"
    hub.sent.clear()
    clock.t = T0 + 14
    engine.request(Abandon(contact=started.contact_id))
    to_ann = [m for ch, m in hub.sent if ch == "agent:ann"]
    assert {"type": "contact", "event": "abandon"}.items() <= to_ann[0].items()
    assert to_ann[0]["contact"] == {"id": started.contact_id, "status": "gone"}
    assert [m["activity"] for m in to_ann if m["type"] == "state"] == ["available"]
    assert not desk.snapshot(engine, "ann").contacts  # nothing rings there any more
