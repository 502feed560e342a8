"""The recording's marks from a contact's events (``live/voice/media.py``), against spans
worked out by hand: the file starts at the first ``connect``; each mark is seconds from
there."""

from __future__ import annotations

from callcenter.events import Event, EventType
from callcenter.live.voice.media import recording_marks

T0 = 1_800_000_000.0
C = "call-0123456789ab"


def ev(dt: float, type_: EventType, agent: str | None = "ann", **kw: object) -> Event:
    return Event(T0 + dt, type_, C, queue="phones", agent=agent, **kw)  # type: ignore[arg-type]


def spans(events: list[Event]) -> list[tuple[str, float, float, str | None]]:
    return [(m.kind, m.start_s, m.end_s, m.agent) for m in recording_marks(events)]


def supervised(events: list[Event]) -> list[tuple[str, float, float, str | None]]:
    return [(m.kind, m.start_s, m.end_s, m.supervisor) for m in recording_marks(events)]


def test_a_hold_and_a_pause_are_offsets_from_the_connect() -> None:
    events = [
        Event(T0 - 20, EventType.ARRIVE, C, queue="phones", channel="voice"),
        ev(-5, EventType.OFFER),
        ev(0, EventType.CONNECT),
        ev(0.4, EventType.RECORDING, reason="started"),
        ev(12.5, EventType.HOLD),
        ev(40.25, EventType.UNHOLD, hold=27.75),
        ev(50, EventType.RECORDING, reason="paused"),
        ev(58, EventType.RECORDING, reason="resumed"),
        ev(70, EventType.COMPLETE, by="caller", talk=42.25, hold=27.75),
    ]
    assert spans(events) == [("hold", 12.5, 40.25, "ann"), ("paused", 50.0, 58.0, "ann")]


def test_what_is_open_at_the_end_ends_with_the_call() -> None:
    events = [
        ev(0, EventType.CONNECT),
        ev(3, EventType.RECORDING, reason="paused"),
        ev(5, EventType.HOLD),
        ev(9, EventType.COMPLETE, by="agent", talk=5, hold=4),
    ]
    assert spans(events) == [("paused", 3.0, 9.0, "ann"), ("hold", 5.0, 9.0, "ann")]


def test_a_blind_transfer_marks_the_wait_until_the_next_agent_answers() -> None:
    events = [
        ev(0, EventType.CONNECT),
        ev(4, EventType.HOLD),
        ev(6, EventType.TRANSFER, target="bob", target_type="agent", kind="blind", talk=4, hold=2),
        ev(6, EventType.OFFER, agent="bob"),
        ev(9.5, EventType.CONNECT, agent="bob"),
        ev(20, EventType.COMPLETE, agent="bob", by="caller", talk=10.5, hold=0),
    ]
    # the hold ends with ann's talk; the wait is ann's transfer, up to bob's answer
    assert spans(events) == [("hold", 4.0, 6.0, "ann"), ("transfer", 6.0, 9.5, "ann")]


def test_a_caller_who_leaves_while_transferred_ends_the_mark() -> None:
    events = [
        ev(0, EventType.CONNECT),
        ev(6, EventType.TRANSFER, target="sales", target_type="queue", kind="blind", talk=6),
        ev(6, EventType.ENQUEUE, agent=None),
        ev(30, EventType.ABANDON, agent=None, wait=24),
    ]
    assert spans(events) == [("transfer", 6.0, 30.0, "ann")]


def test_no_answer_no_marks() -> None:
    assert recording_marks([ev(0, EventType.OFFER), ev(15, EventType.RING_NOANSWER)]) == []


def test_a_supervisors_listen_whisper_and_barge_are_spans_each_switch_ends_one() -> None:
    sup = EventType.SUPERVISE
    events = [
        ev(0, EventType.CONNECT),
        ev(10, sup, target="sue", reason="listen"),
        ev(14, sup, target="sue", reason="whisper"),
        ev(20.5, sup, target="sue", reason="barge"),
        ev(25, sup, target="sue", reason="stop"),
        ev(30, sup, target="mia", reason="listen"),
        ev(33, EventType.COMPLETE, by="caller", talk=33),
    ]
    assert supervised(events) == [
        ("listen", 10.0, 14.0, "sue"),
        ("whisper", 14.0, 20.5, "sue"),
        ("barge", 20.5, 25.0, "sue"),
        ("listen", 30.0, 33.0, "mia"),  # still listening when the call ended
    ]
    assert {m.agent for m in recording_marks(events)} == {"ann"}
