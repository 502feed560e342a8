"""Calls next to chats in the adherence report: what each agent's work went to.

Adherence's own figures do not change with the channel (working is working); the
``contacts_by_channel`` / ``talk_s_by_channel`` columns are counted by hand below.
"""

from __future__ import annotations

import csv
import io

from test_adherence import DAY, at, call, login, logout, run, shift

from callcenter.events import Event, EventType
from callcenter.wfm.adherence import Breakdown
from callcenter.wfm.adherence.report import report_to_csv


def arrive(contact: str, t: float, channel: str) -> Event:
    return Event(t=t - 10, type=EventType.ARRIVE, contact=contact, channel=channel)


def day_of_calls_and_chats() -> list[Event]:
    """a1: shift 08:00-16:00, two calls (c1 09:00, c2 14:00) and a chat (h1 11:00);
    a2: no shift, a chat at 10:00 (h2) and an imported call without arrive (x1 12:00).
    Every conversation: 300 s of talk (``call``)."""
    events = [login("a1", at(8)), login("a2", at(9)), logout("a1", at(16)), logout("a2", at(13))]
    for agent, contact, t, channel in (
        ("a1", "c1", at(9), "voice"),
        ("a1", "c2", at(14), "voice"),
        ("a1", "h1", at(11), "chat"),
        ("a2", "h2", at(10), "chat"),
        ("a2", "x1", at(12), None),
    ):
        if channel is not None:
            events.append(arrive(contact, t, channel))
        events += call(agent, contact, t)
    return events


def test_contacts_and_talk_by_channel_per_agent_and_in_total() -> None:
    rep = run(day_of_calls_and_chats(), [shift("a1", at(8), at(16))])
    a1, a2 = (next(r for r in rep.rows if r.agent == a) for a in ("a1", "a2"))
    assert a1.contacts_by_channel == {"chat": 1, "voice": 2}
    assert a1.talk_s_by_channel == {"chat": 300.0, "voice": 600.0}
    assert a2.contacts_by_channel == {"chat": 1, "unknown": 1}  # x1 has no arrive
    assert rep.total.contacts_by_channel == {"chat": 2, "unknown": 1, "voice": 2}
    assert rep.total.talk_s_by_channel["chat"] == 600.0
    # adherence itself is unchanged by the channels: a1 worked its whole shift
    assert a1.adherence == 1.0
    assert rep.to_dict()["rows"][0]["contacts_by_channel"] == {"chat": 1, "voice": 2}


def test_work_off_shift_counts_on_its_utc_day_and_shift_work_on_the_shift_date() -> None:
    """An overnight shift dated the 2nd (22:00-06:00): a call at 01:00 on the 3rd counts
    on the 2nd; a call the next evening (outside any shift) on the 3rd."""
    events = [login("a1", at(22)), logout("a1", at(20, day=1))]
    events += [arrive("n1", at(1, day=1), "voice"), *call("a1", "n1", at(1, day=1))]
    events += [arrive("n2", at(18, day=1), "chat"), *call("a1", "n2", at(18, day=1))]
    rep = run(events, [shift("a1", at(22), at(6, day=1), date=DAY)], by=Breakdown.AGENT_DAY)
    got = {(r.date.isoformat(), ch): n for r in rep.rows if r.date for ch, n in
           r.contacts_by_channel.items()}  # fmt: skip
    assert got == {(DAY, "voice"): 1, ("2026-03-03", "chat"): 1}


def test_csv_has_a_column_per_channel() -> None:
    rep = run(day_of_calls_and_chats(), [shift("a1", at(8), at(16))])
    rows = list(csv.DictReader(io.StringIO(report_to_csv(rep))))
    assert [(r["agent"], r["contacts:voice"], r["contacts:chat"]) for r in rows] == [
        ("a1", "2", "1"),
        ("a2", "0", "1"),
        ("", "2", "2"),
    ]
    assert rows[-1]["talk_s:unknown"] == "300.0"
    assert "contacts_by_channel" not in rows[0]
