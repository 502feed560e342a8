"""Caller analytics against a hand-built log whose every figure is worked out below.

The log (hours after T0 = 2024-01-01T00:00Z; window W = 48 h, repeat-within N = 24 h;
the last event, an agent logout, is at 100 h, so a contact's FCR is known iff t ≤ 52 h):

    id   number  t(h) day   outcome                         last connect (agent, queue)
    c1   A        1   Jan1  answered                        a1 sales
    c2   B        2   Jan1  answered                        a2 support
    c3   A        5   Jan1  answered                        a2 sales
    c4   (none)   6   Jan1  answered                        a1 sales
    c5   C       10   Jan1  abandoned in support            -
    c6   C       11   Jan1  a1 support, transfer -> sales   a3 sales
    c7   A       30   Jan2  answered                        a1 sales
    c14  "  "    35   Jan2  answered (blank = no number)    a1 sales
    c8   D       40   Jan2  answered                        a2 support
    c9   B       50   Jan3  answered                        a3 support
    c10  D       51   Jan3  timed out in support            -
    c11  E       52   Jan3  answered (t + W = end: known)   a1 sales
    c12  A       90   Jan4  answered                        a2 sales
    c13  E       95   Jan4  answered                        a3 sales
    c99  -       20   -     enqueue + abandon, no arrive: not a contact

Per number (gaps to the previous contact; next gap ≤ 48 h = not resolved):
    A: 1, 5, 30, 90  gaps 4, 25, 60   repeats (≤ 24 h): c3     c1, c3 unresolved; c7 resolved
    B: 2, 50         gap 48           none (48 > 24)           c2 unresolved (48 ≤ 48)
    C: 10, 11        gap 1            c6                       c5 (abandon) -> callback
    D: 40, 51        gap 11           c10                      c8 unresolved
    E: 52, 95        gap 43           none                     c11 unresolved
Known answered contacts with a number (t ≤ 52): c1 c2 c3 c6 c7 c8 c9 c11 = 8;
resolved: c6, c7, c9 = 3 → FCR 3/8.  Not yet known: c12, c13.  No number: c4, c14.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
import statistics
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from callcenter.callers import (
    CallerBreakdown,
    CallerSettings,
    caller_report,
    contacts_from_events,
    summarize,
)
from callcenter.callers.analytics import group_order, group_rows
from callcenter.errors import InputFileError, UserError
from callcenter.events import Event, EventType
from callcenter.kpi.frame import events_to_frame
from callcenter.storage.columnar import jsonl_to_parquet
from callcenter.storage.jsonl import write_events

T0 = 1_704_067_200.0  # 2024-01-01T00:00:00Z
H = 3600.0
W48 = CallerSettings(window_s=48 * H, repeat_within_s=24 * H)


def ev(t: float, etype: str, **fields: object) -> Event:
    return Event(t=T0 + t, type=EventType(etype), **fields)  # type: ignore[arg-type]


def answered(cid: str, hour: float, number: str | None, legs: list[tuple[str, str]]) -> list[Event]:
    """A contact answered by each (agent, queue) leg in turn (transfers between them)."""
    t = hour * H
    out = [ev(t, "arrive", contact=cid, channel="voice", caller=number)]
    for i, (agent, queue) in enumerate(legs):
        out += [
            ev(t, "enqueue", contact=cid, queue=queue),
            ev(t + 10, "connect", contact=cid, queue=queue, agent=agent, wait=10.0),
        ]
        t += 60
        if i < len(legs) - 1:
            nxt = legs[i + 1][1]
            out.append(ev(t, "transfer", contact=cid, queue=queue, agent=agent, target=nxt,
                          target_type="queue", kind="blind"))  # fmt: skip
    out.append(ev(t, "complete", contact=cid, queue=legs[-1][1], agent=legs[-1][0], by="caller",
                  talk=50.0))  # fmt: skip
    return out


def unanswered(cid: str, hour: float, number: str | None, how: str) -> list[Event]:
    t = hour * H
    return [
        ev(t, "arrive", contact=cid, channel="voice", caller=number),
        ev(t, "enqueue", contact=cid, queue="support"),
        ev(t + 30, how, contact=cid, queue="support", wait=30.0),
    ]


def hand_log() -> list[Event]:
    events = [ev(0, "agent_login", agent=a) for a in ("a1", "a2", "a3")]
    events += answered("c1", 1, "A", [("a1", "sales")])
    events += answered("c2", 2, "B", [("a2", "support")])
    events += answered("c3", 5, "A", [("a2", "sales")])
    events += answered("c4", 6, None, [("a1", "sales")])
    events += unanswered("c5", 10, "C", "abandon")
    events += answered("c6", 11, "C", [("a1", "support"), ("a3", "sales")])
    events += [ev(20 * H, "enqueue", contact="c99", queue="support"),
               ev(20 * H + 5, "abandon", contact="c99", queue="support", wait=5.0)]  # fmt: skip
    events += answered("c7", 30, "A", [("a1", "sales")])
    events += answered("c14", 35, "  ", [("a1", "sales")])
    events += answered("c8", 40, "D", [("a2", "support")])
    events += answered("c9", 50, "B", [("a3", "support")])
    events += unanswered("c10", 51, "D", "timeout")
    events += answered("c11", 52, "E", [("a1", "sales")])
    events += answered("c12", 90, "A", [("a2", "sales")])
    events += answered("c13", 95, "E", [("a3", "sales")])
    events.append(ev(100 * H, "agent_logout", agent="a1"))
    return sorted(events, key=lambda e: e.t)


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "calls.jsonl"
    write_events(path, hand_log(), source="test")
    return path


def fcr(row: dict[str, object]) -> tuple[object, ...]:
    f = row["fcr"]
    assert isinstance(f, dict)
    return tuple(f[k] for k in ("answered", "no_number", "fcr_known", "fcr_not_yet_known",
                                "fcr_resolved", "fcr_rate", "unanswered",
                                "callbacks_after_abandon"))  # fmt: skip


def test_total(log: Path) -> None:
    report = caller_report(log, W48).to_dict()
    assert report["period"] == {
        "start": "2024-01-01T00:00:00Z",
        "end": "2024-01-05T04:00:00Z",
        "events": len(hand_log()),
    }
    total = report["total"]
    assert total["level"] == "total"
    vol = total["volume"]
    # 14 contacts (c99 has no arrive), c4 and c14 without a number; numbers A..E
    assert vol["contacts"] == 14 and vol["unknown_number"] == 2
    assert vol["numbers"] == 5 and vol["new_numbers"] == 5
    assert vol["calls_per_number_mean"] == pytest.approx(12 / 5)
    assert vol["calls_per_number_max"] == 4  # A
    # gaps 4, 25, 60 (A), 48 (B), 1 (C), 11 (D), 43 (E): 192 h over 7 intervals
    assert vol["intervals"] == 7
    assert vol["mean_interval_s"] == pytest.approx(192 / 7 * H)
    assert vol["repeat_contacts"] == 3 and vol["repeat_numbers"] == 3  # c3 c6 c10 / A C D
    # answered 12 = 2 no number + 8 known + 2 not yet known; resolved c6 c7 c9
    assert fcr(total) == (12, 2, 8, 2, 3, 3 / 8, 2, 1)


def test_by_day(log: Path) -> None:
    rows = caller_report(log, W48).to_dict()["rows"]
    assert [r["day"] for r in rows] == ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]
    vol = [r["volume"] for r in rows]
    keys = ("contacts", "unknown_number", "numbers", "new_numbers", "calls_per_number_max",
            "intervals", "repeat_contacts", "repeat_numbers")  # fmt: skip
    got = [tuple(v[k] for k in keys) for v in vol]
    assert got == [
        (6, 1, 3, 3, 2, 2, 2, 2),  # c1-c6: A B C new; A and C twice; gaps 4, 1 both repeats
        (3, 1, 2, 1, 1, 1, 0, 0),  # c7 c14 c8: D new; gap c7 25 h > 24 h
        (3, 0, 3, 1, 1, 2, 1, 1),  # c9 c10 c11: E new; gaps 48, 11 (c10 repeat)
        (2, 0, 2, 0, 1, 2, 0, 0),  # c12 c13: gaps 60, 43
    ]
    means = [v["calls_per_number_mean"] for v in vol]
    assert means == pytest.approx([5 / 3, 1.0, 1.0, 1.0])
    intervals = [v["mean_interval_s"] for v in vol]
    assert intervals == pytest.approx([2.5 * H, 25 * H, 29.5 * H, 51.5 * H])
    assert [fcr(r) for r in rows] == [
        (5, 1, 4, 0, 1, 0.25, 1, 1),  # known c1 c2 c3 c6, resolved c6; c5 -> callback
        (3, 1, 2, 0, 1, 0.5, 0, 0),  # known c7 c8, resolved c7 (next A 60 h later)
        (2, 0, 2, 0, 1, 0.5, 1, 0),  # c9 resolved, c11 (t + W = end) followed by c13
        (2, 0, 0, 2, 0, None, 0, 0),  # c12 c13: window past the end of the log
    ]


def test_by_queue(log: Path) -> None:
    report = caller_report(log, CallerSettings(48 * H, 24 * H, CallerBreakdown.QUEUE))
    rows = report.to_dict()["rows"]
    assert [r["queue"] for r in rows] == ["sales", "support"]
    assert all(r["volume"] is None and r["level"] == "queue" for r in rows)
    # sales: c1 c3 c4 c6 c7 c14 c11 c12 c13; known c1 c3 c6 c7 c11, resolved c6 c7
    assert fcr(rows[0]) == (9, 2, 5, 2, 2, 0.4, 0, 0)
    # support: c2 c8 c9 answered (c9 resolved), c5 c10 unanswered, c5 called back
    assert fcr(rows[1]) == (3, 0, 3, 0, 1, pytest.approx(1 / 3), 2, 1)


def test_by_agent_last_connect(log: Path) -> None:
    report = caller_report(log, CallerSettings(48 * H, 24 * H, CallerBreakdown.AGENT))
    rows = report.to_dict()["rows"]
    assert [r["agent"] for r in rows] == ["a1", "a2", "a3"]
    # a1: c1 c4 c7 c14 c11 (not c6: a3 had it last); known c1 c7 c11; resolved c7
    assert fcr(rows[0]) == (5, 2, 3, 0, 1, pytest.approx(1 / 3), None, None)
    # a2: c2 c3 c8 c12; c2, c3, c8 all repeated within 48 h; c12 not yet known
    assert fcr(rows[1]) == (4, 0, 3, 1, 0, 0.0, None, None)
    # a3: c6 c9 c13; c6 and c9 resolved; c13 not yet known
    assert fcr(rows[2]) == (3, 0, 2, 1, 2, 1.0, None, None)


def test_default_window_nothing_known_yet(log: Path) -> None:
    # 7 days: no answered contact has its whole window inside a 100-hour log
    total = caller_report(log).to_dict()["total"]
    assert fcr(total) == (12, 2, 0, 10, 0, None, 2, 1)
    assert total["volume"]["repeat_contacts"] == 3


def test_repeat_within_boundary(log: Path) -> None:
    # N = 48 h: gaps 4, 25, 48 (equal counts), 1, 11, 43 repeat; 60 does not
    vol = caller_report(log, CallerSettings(48 * H, 48 * H)).to_dict()["total"]["volume"]
    assert vol["repeat_contacts"] == 6 and vol["repeat_numbers"] == 5


def test_parquet_gives_the_same_report(log: Path, tmp_path: Path) -> None:
    pq = tmp_path / "calls.parquet"
    jsonl_to_parquet(log, pq)
    for by in CallerBreakdown:
        s = CallerSettings(48 * H, 24 * H, by)
        assert caller_report(pq, s).to_dict() == caller_report(log, s).to_dict()


def test_in_memory_events() -> None:
    contacts = contacts_from_events(events_to_frame(hand_log()))
    assert contacts.end - contacts.start == 100 * H
    report = summarize(contacts, W48)
    assert report.total.fcr.fcr_resolved == 3 and report.total.volume is not None
    assert report.total.volume.contacts == 14


def test_event_order_does_not_matter() -> None:
    # an imported log need not be in time order: the last connect is still the latest
    events = hand_log()
    shuffled = events[::2][::-1] + events[1::2]
    a = summarize(contacts_from_events(events_to_frame(events)), W48).to_dict()
    b = summarize(contacts_from_events(events_to_frame(shuffled)), W48).to_dict()
    assert a == b


def test_group_rows_keeps_order_within_groups() -> None:
    frame = pl.DataFrame({"k": ["b", "a", "b", None, "a", "c", None], "i": range(7)})
    out = group_rows(frame, "k")
    assert len(out["k"].rle()) == 4  # a, b, c and null: one run each
    assert sorted(out["i"].to_list()) == list(range(7))
    for key in ("a", "b"):
        assert out.filter(pl.col("k") == key)["i"].to_list() == ([1, 4] if key == "a" else [0, 2])


def test_group_order_falls_back_on_a_hash_collision(monkeypatch: pytest.MonkeyPatch) -> None:
    real = pl.Series.hash

    def colliding(self: pl.Series, seed: int = 0) -> pl.Series:  # every value: one hash
        return real(self, seed) * 0 if seed == 0 else real(self, seed)

    monkeypatch.setattr(pl.Series, "hash", colliding)
    perm, key = group_order(pl.Series(["b", "a", "b", "a"]))
    assert perm.to_list() == [1, 3, 0, 2] and key.to_list() == ["a", "a", "b", "b"]


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        caller_report(tmp_path / "missing.jsonl")
    path = tmp_path / "anon.jsonl"
    write_events(path, answered("c1", 1, None, [("a1", "sales")]), source="test")
    with pytest.raises(InputFileError, match="no arrive event with a caller number"):
        caller_report(path)
    bad = tmp_path / "bad.jsonl"
    lines = (tmp_path / "anon.jsonl").read_text().splitlines()
    bad.write_text("\n".join([*lines[:2], '{"t": "x", "type": "arrive"}', *lines[2:]]) + "\n")
    with pytest.raises(InputFileError, match=r"bad.jsonl:3: field 't' must be a number"):
        caller_report(bad)
    agents = tmp_path / "agents.jsonl"
    write_events(agents, [ev(0, "agent_login", agent="a1")], source="test")
    with pytest.raises(InputFileError, match="no arrive event with a caller number"):
        caller_report(agents)
    with pytest.raises(UserError, match="--window must be longer than 0"):
        CallerSettings(window_s=0)


def reference(
    events: list[Event], s: CallerSettings
) -> dict[str, dict[object, tuple[object, ...]]]:
    """The figures by brute force in plain Python, for the randomised comparison."""
    arrive: dict[str, tuple[float, str | None]] = {}
    connect: dict[str, tuple[str | None, str | None]] = {}
    queue: dict[str, str | None] = {}
    for e in sorted(events, key=lambda e: e.t):  # stable: file order breaks ties
        if e.contact is None:
            continue
        if e.type is EventType.ARRIVE and e.contact not in arrive:
            arrive[e.contact] = (e.t, (e.caller or "").strip() or None)
        if e.type is EventType.CONNECT:
            connect[e.contact] = (e.agent, e.queue)
        if e.queue is not None and e.type.value in ("enqueue", "abandon", "timeout", "connect"):
            queue[e.contact] = e.queue
    end = max(e.t for e in events)
    by_number: dict[str, list[tuple[float, str]]] = {}
    for cid, (t, num) in arrive.items():
        if num is not None:
            by_number.setdefault(num, []).append((t, cid))
    gap: dict[str, float] = {}
    nxt: dict[str, float] = {}
    for calls in by_number.values():
        calls.sort()
        for (t0, c0), (t1, c1) in itertools.pairwise(calls):
            gap[c1], nxt[c0] = t1 - t0, t1 - t0
    out: dict[str, dict[object, tuple[object, ...]]] = {"day": {}, "queue": {}, "agent": {}}
    groups: dict[tuple[str, object], list[str]] = {}
    for cid, (t, _) in arrive.items():
        day = dt.datetime.fromtimestamp(t, dt.UTC).date().isoformat()
        groups.setdefault(("day", day), []).append(cid)
        groups.setdefault(("queue", (connect.get(cid) or (None, queue.get(cid)))[1]), []).append(
            cid
        )
        if cid in connect:
            groups.setdefault(("agent", connect[cid][0]), []).append(cid)
    for (level, key), cids in groups.items():
        nums = [arrive[c][1] for c in cids]
        known = [
            c for c in cids if c in connect and arrive[c][1] and arrive[c][0] + s.window_s <= end
        ]
        resolved = [c for c in known if nxt.get(c, math.inf) > s.window_s]
        repeats = [c for c in cids if gap.get(c, math.inf) <= s.repeat_within_s]
        out[level][key] = (
            len(cids),
            len({n for n in nums if n}),
            sum(1 for c in cids if arrive[c][1] and c not in gap),  # first contact of a number
            len(repeats),
            len({arrive[c][1] for c in repeats}),
            sum(1 for c in cids if c in connect),
            len(known),
            len(resolved),
            sum(1 for c in cids if c not in connect and nxt.get(c, math.inf) <= s.window_s),
            statistics.fmean(gaps) if (gaps := [gap[c] for c in cids if c in gap]) else None,
            max(Counter(n for n in nums if n).values(), default=None),
        )
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_logs_match_brute_force(seed: int) -> None:
    rnd = random.Random(seed)
    events: list[Event] = []
    for n in range(400):
        t = rnd.uniform(0, 10 * 24 * H)
        number = rnd.choice([*"ABCDEFGHIJKLMNOPQRST", None, " "])
        if rnd.random() < 0.25:
            events += unanswered(f"c{n}", t / H, number, rnd.choice(["abandon", "timeout"]))
        else:
            legs = [(rnd.choice(["a1", "a2", "a3"]), rnd.choice(["q1", "q2"]))]
            if rnd.random() < 0.2:
                legs.append((rnd.choice(["a1", "a2", "a3"]), rnd.choice(["q1", "q2"])))
            events += answered(f"c{n}", t / H, number, legs)
    events.append(ev(11 * 24 * H, "agent_logout", agent="a1"))
    s = CallerSettings(window_s=rnd.choice([1, 2, 3]) * 86400.0, repeat_within_s=12 * H)
    truth = reference(events, s)
    contacts = contacts_from_events(events_to_frame(events))
    for by in CallerBreakdown:
        report = summarize(contacts, CallerSettings(s.window_s, s.repeat_within_s, by))
        got = {}
        for row in report.rows:
            key = {"day": row.day.isoformat() if row.day else None, "queue": row.queue,
                   "agent": row.agent}[by.value]  # fmt: skip
            f = row.fcr
            v = row.volume
            got[key] = (
                *(
                    (v.contacts, v.numbers, v.new_numbers, v.repeat_contacts, v.repeat_numbers)
                    if v
                    else (None,) * 5
                ),
                f.answered, f.fcr_known, f.fcr_resolved, f.callbacks_after_abandon,
            )  # fmt: skip
        want = {
            k: (*(w[:5] if by is CallerBreakdown.DAY else (None,) * 5), *w[5:8],
                w[8] if by is not CallerBreakdown.AGENT else None)
            for k, w in truth[by.value].items()
        }  # fmt: skip
        assert got == want, by
    days = summarize(contacts, s).rows
    for row in days:
        assert row.volume is not None and row.day is not None
        w = truth["day"][row.day.isoformat()]
        assert row.volume.mean_interval_s == pytest.approx(w[9])
        assert row.volume.calls_per_number_max == w[10]
