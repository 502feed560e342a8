"""The wallboard snapshot (``callcenter.live.wallboard``), in process, on a SQLite file.

Two kinds of check:

* a hand-written day — contacts, agents and events rows written straight into the
  tables — against figures worked out by hand below (every number has its reason);
* the live engine driven by random requests on a fake clock: after every request the
  snapshot must agree with the router itself (each agent's state and open contacts,
  each queue's waiting count) and today's figures with the KPI engine run on the same
  events — with a tally carried along (incremental) and with a fresh one.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from tests.support.seed import AGENTS, seed

from callcenter.api.wallboard import scope_of
from callcenter.auth.scope import agent_filter
from callcenter.auth.service import create_user, principal_for
from callcenter.events import Event, EventType
from callcenter.kpi import Breakdown, KpiSettings, compute_kpis
from callcenter.live.engine import LiveEngine
from callcenter.live.wallboard import DayTally, Snapshot, compute_snapshot, utc_day_start
from callcenter.routing import RoutingError
from callcenter.storage.db import make_engine
from callcenter.storage.event_store import EventStore
from callcenter.storage.tables import (
    AgentRow,
    ContactRow,
    ContactStatus,
    QueueRow,
    Role,
    Team,
    User,
)

D = 1_714_521_600.0  # 2024-05-01 00:00 UTC: "today" starts here
NOW = D + 3600.0
E = EventType


def ev(dt: float, typ: EventType, contact: str | None = None, **kw: Any) -> Event:
    return Event(t=D + dt, type=typ, contact=contact, **kw)


BLIND_TO_SUPPORT: dict[str, Any] = {"target": "support", "target_type": "queue", "kind": "blind"}
MISSED_AFTER_20S: dict[str, Any] = {"ring": 20.0, "wait": 30.0, "reason": "timeout"}

# The hand-written day (times are seconds after midnight; queue support T = 20 s, sales 30 s).
EVENTS = [
    ev(-200, E.AGENT_LOGIN, agent="ann"),
    # c0: entered support yesterday, answered today -> not one of today's visits
    ev(-100, E.ENQUEUE, "c0", queue="support"),
    ev(10, E.CONNECT, "c0", queue="support", agent="ann", wait=110.0),
    ev(30, E.AGENT_LOGIN, agent="dan"),
    ev(40, E.AGENT_LOGIN, agent="bob"),
    ev(40, E.COMPLETE, "c0", queue="support", agent="ann", by="caller", talk=30.0),
    ev(45, E.WRAPUP_END, "c0", queue="support", agent="ann", acw=5.0),
    ev(60, E.AGENT_LOGIN, agent="cid"),
    # c1: support, answered by ann after 5 s (within 20 s); ann is wrapping it up now
    ev(100, E.ENQUEUE, "c1", queue="support"),
    ev(101, E.OFFER, "c1", queue="support", agent="ann", wait=1.0),
    ev(105, E.CONNECT, "c1", queue="support", agent="ann", wait=5.0, ring=4.0),
    # c2: support, rang bob, abandoned after 30 s while ringing
    ev(200, E.ENQUEUE, "c2", queue="support"),
    ev(210, E.OFFER, "c2", queue="support", agent="bob", wait=10.0),
    ev(230, E.ABANDON, "c2", queue="support", wait=30.0),
    # c3: support, answered by bob after 25 s (not within 20 s), wrapped up
    ev(300, E.ENQUEUE, "c3", queue="support"),
    ev(301, E.OFFER, "c3", queue="support", agent="bob", wait=1.0),
    ev(325, E.CONNECT, "c3", queue="support", agent="bob", wait=25.0, ring=24.0),
    # c4: support, answered by ann after exactly 20 s (within: wait <= T); in progress
    ev(400, E.ENQUEUE, "c4", queue="support"),
    ev(401, E.OFFER, "c4", queue="support", agent="ann", wait=1.0),
    ev(420, E.CONNECT, "c4", queue="support", agent="ann", wait=20.0, ring=19.0),
    ev(500, E.COMPLETE, "c3", queue="support", agent="bob", by="agent", talk=175.0),
    ev(530, E.WRAPUP_END, "c3", queue="support", agent="bob", acw=30.0),
    # c5: sales, timed out after 100 s into support (overflow), waiting there since
    ev(500, E.ENQUEUE, "c5", queue="sales"),
    ev(600, E.TIMEOUT, "c5", queue="sales", wait=100.0, target="support", target_type="queue"),
    ev(600, E.ENQUEUE, "c5", queue="support"),
    # c6: sales, answered by cid after 10 s; cid transferred it to support, where it
    # now rings bob; cid is still wrapping up its part
    ev(700, E.ENQUEUE, "c6", queue="sales"),
    ev(702, E.OFFER, "c6", queue="sales", agent="cid", wait=2.0),
    ev(710, E.CONNECT, "c6", queue="sales", agent="cid", wait=10.0, ring=8.0),
    ev(800, E.TRANSFER, "c6", queue="sales", agent="cid", talk=90.0, **BLIND_TO_SUPPORT),
    ev(800, E.ENQUEUE, "c6", queue="support"),
    ev(801, E.OFFER, "c6", queue="support", agent="bob", wait=1.0),
    # c7: sales, asked for a call back (no outcome in SL / abandonment)
    ev(900, E.ENQUEUE, "c7", queue="sales"),
    ev(950, E.CALLBACK_REQUEST, "c7", queue="sales", wait=50.0),
    # c8: support, waiting
    ev(1000, E.ENQUEUE, "c8", queue="support"),
    # c9: sales, dan missed the offer, then the customer left
    ev(1090, E.ENQUEUE, "c9", queue="sales"),
    ev(1100, E.OFFER, "c9", queue="sales", agent="dan", wait=10.0),
    ev(1120, E.RING_NOANSWER, "c9", queue="sales", agent="dan", **MISSED_AFTER_20S),
    ev(1130, E.ABANDON, "c9", queue="sales", wait=40.0),
    ev(1200, E.COMPLETE, "c1", queue="support", agent="ann", by="caller", talk=1095.0),
    ev(1400, E.AGENT_LOGIN, agent="eve"),
    ev(1500, E.AGENT_STATE, agent="eve", state="paused", reason="lunch"),
]

# contact -> (status, queue, agent, enqueued_at, offered_at, answered_at, ended_at)
CONTACTS: dict[str, tuple[str, str, str | None, float, float | None, float | None, float | None]]
CONTACTS = {
    "c0": ("closed", "support", "ann", D - 100, D - 50, D + 10, D + 40),
    "c1": ("wrapup", "support", "ann", D + 100, D + 101, D + 105, D + 1200),
    "c2": ("abandoned", "support", None, D + 200, D + 210, None, D + 230),
    "c3": ("closed", "support", "bob", D + 300, D + 301, D + 325, D + 500),
    "c4": ("active", "support", "ann", D + 400, D + 401, D + 420, None),
    "c5": ("queued", "support", None, D + 600, None, None, None),
    "c6": ("ringing", "support", "bob", D + 800, D + 801, D + 710, None),
    "c7": ("queued", "sales", None, D + 900, None, None, None),
    "c8": ("queued", "support", None, D + 1000, None, None, None),
    "c9": ("abandoned", "sales", None, D + 1090, D + 1100, None, D + 1130),
}

# agent -> (status, reason, status_since)
AGENT_ROWS = {
    "ann": ("available", None, D - 200),
    "bob": ("available", None, D + 40),
    "cid": ("available", None, D + 60),
    "dan": ("available", None, D + 30),
    "eve": ("paused", "lunch", D + 1500),
    "zed": ("logged_out", None, None),
    "old": ("logged_out", None, None),
}


def _write_day(url: str) -> None:
    db = make_engine(url)
    try:
        with Session(db) as s, s.begin():
            green = s.scalar(select(Team.id).where(Team.name == "green"))
            for name, team in (("dan", green), ("eve", None), ("zed", None), ("old", None)):
                create_user(s, name, "Lantern-Wolf-42", Role.AGENT, now=D, team_id=team)
            s.execute(update(User).where(User.username == "old").values(active=False))
            s.execute(update(AgentRow).where(AgentRow.name == "dan").values(skills={"sales": 2}))
            s.execute(update(AgentRow).where(AgentRow.name == "bob").values(capacity=1))
            s.execute(update(QueueRow).where(QueueRow.name == "sales").values(channel="voice"))
            for name in ("eve", "zed", "old"):
                s.execute(
                    update(AgentRow).where(AgentRow.name == name).values(skills={"support": 1})
                )
            for name, (status, reason, since) in AGENT_ROWS.items():
                s.execute(
                    update(AgentRow)
                    .where(AgentRow.name == name)
                    .values(status=status, status_reason=reason, status_since=since)
                )
            for cid, (status, queue, agent, enq, offered, answered, ended) in CONTACTS.items():
                channel = "voice" if queue == "sales" else "chat"
                s.add(ContactRow(id=cid, channel=channel, queue=queue, agent=agent, status=status,
                                 arrived_at=enq, enqueued_at=enq, offered_at=offered,
                                 answered_at=answered, ended_at=ended))  # fmt: skip
        with db.connect() as conn:
            EventStore(conn).append(EVENTS, source="live")
            EventStore(conn).append([ev(100, E.ENQUEUE, "x1", queue="support")], source="sim")
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path_factory.mktemp('wb') / 'center.db'}"
    seed(url)
    _write_day(url)
    db = make_engine(url)
    yield db
    db.dispose()


def test_hand_written_day_gives_the_hand_computed_board(day: Engine) -> None:
    with Session(day) as s:
        board = compute_snapshot(s, NOW).to_dict()
    assert board["t"] == NOW and board["day_start"] == D
    sales, support = board["queues"]  # active queues by name
    assert support == {
        "name": "support",
        "channel": "chat",
        "waiting": 2,  # c5 (since 600), c8; c6 rings bob, so it is not waiting
        "longest_wait_s": 3000.0,  # NOW - (D + 600)
        "offered_today": 7,  # c1 c2 c3 c4 c5 c6 c8 (c0 entered yesterday; x1 is not live)
        "answered_today": 3,  # c1 (5 s), c3 (25 s), c4 (20 s)
        "abandoned_today": 1,  # c2
        "timed_out_today": 0,
        "answered_within_today": 2,  # c1, c4 (<= 20 s)
        "service_level_today": 0.5,  # 2 / (3 + 1 + 0)
        "sl_threshold_s": 20.0,
        "sl_target": 0.8,
        "agents_available": 2,  # ann (2 of 3), cid (1 of 3); bob full (capacity 1),
        # dan lacks the skill, eve paused, zed logged out
    }
    assert sales == {
        "name": "sales",
        "channel": "voice",  # sales takes calls in this day, support chats
        "waiting": 1,  # c7 keeps its place for the call back
        "longest_wait_s": 2700.0,  # NOW - (D + 900)
        "offered_today": 4,  # c5 c6 c7 c9
        "answered_today": 1,  # c6 after 10 s
        "abandoned_today": 1,  # c9
        "timed_out_today": 1,  # c5 overflowed
        "answered_within_today": 1,
        "service_level_today": pytest.approx(1 / 3),  # 1 / (1 + 1 + 1); c7 not counted
        "sl_threshold_s": 30.0,
        "sl_target": 0.8,
        "agents_available": 3,  # ann, cid, dan
    }
    # calls next to chats: the queues of each channel added up (one queue each here),
    # the service level of the sums; in progress: c4 (chat) is the only active contact
    assert board["channels"] == [
        {
            "channel": "voice", "queues": 1, "waiting": 1, "longest_wait_s": 2700.0,
            "offered_today": 4, "answered_today": 1, "abandoned_today": 1,
            "timed_out_today": 1, "answered_within_today": 1,
            "service_level_today": pytest.approx(1 / 3), "in_progress": 0,
        },
        {
            "channel": "chat", "queues": 1, "waiting": 2, "longest_wait_s": 3000.0,
            "offered_today": 7, "answered_today": 3, "abandoned_today": 1,
            "timed_out_today": 0, "answered_within_today": 2, "service_level_today": 0.5,
            "in_progress": 1,
        },
    ]  # fmt: skip
    agents = {a["name"]: a for a in board["agents"]}
    assert list(agents) == ["ann", "bob", "cid", "dan", "eve", "zed"]  # old is inactive
    expect = {
        # name: (status, reason, since, contacts, team)
        "ann": ("on_contact", None, D + 420, 2, "blue"),  # c4 connected at 420; c1 wrap-up
        "bob": ("ringing", None, D + 801, 1, "blue"),  # c6 offered at 801
        "cid": ("wrap_up", None, D + 800, 1, "green"),  # transferred c6 away at 800
        "dan": ("available", None, D + 1120, 0, "green"),  # missed c9's offer at 1120
        "eve": ("paused", "lunch", D + 1500, 0, None),
        "zed": ("logged_out", None, None, 0, None),
    }
    for name, (status, reason, since, contacts, team) in expect.items():
        a = agents[name]
        got = (a["status"], a["reason"], a["since"], a["contacts"], a["team"])
        assert got == (status, reason, since, contacts, team), name
        assert a["time_in_state_s"] == (None if since is None else NOW - since)
    assert agents["ann"]["display_name"] == "Ann"


def test_today_figures_match_the_kpi_engine(day: Engine) -> None:
    """The same visits, outcomes and SL as ``callcenter kpi`` on today's live events."""
    with Session(day) as s:
        board = compute_snapshot(s, NOW)
    with day.connect() as conn:
        frame = EventStore(conn).to_frame(start=D, end=NOW)
        frame = frame.filter(frame["contact"] != "x1")  # the one non-live event
    for q in board.queues:
        settings = KpiSettings(by=Breakdown.QUEUE, sl_threshold_s=q.sl_threshold_s)
        (row,) = [r for r in compute_kpis(frame, settings).rows if r.queue == q.name]
        v = row.visits
        assert v is not None
        assert (q.offered_today, q.answered_today, q.abandoned_today, q.timed_out_today) == (
            v.offered, v.answered, v.abandoned, v.timed_out,
        )  # fmt: skip
        assert q.answered_within_today == v.answered_within
        assert q.service_level_today == v.service_level_offered


def test_the_day_starts_at_day_start(day: Engine) -> None:
    with Session(day) as s:
        later = compute_snapshot(s, NOW, day_start=D + 650)  # c6, c7, c8, c9 only
        tally = DayTally(D)
        with pytest.raises(ValueError, match="the tally counts from"):
            compute_snapshot(s, NOW, day_start=D + 650, tally=tally)
    sales, support = later.queues
    assert (support.offered_today, support.answered_today) == (2, 0)  # c6 (800), c8
    assert (sales.offered_today, sales.answered_today, sales.abandoned_today) == (3, 1, 1)
    assert utc_day_start(NOW) == D and utc_day_start(D) == D and utc_day_start(D - 0.5) == D - 86400


def test_supervisor_scope_is_the_agent_filter(day: Engine) -> None:
    """Sue (supervisor of blue) sees ann and bob; managers and admins everyone; all queues."""
    with Session(day) as s:
        board = compute_snapshot(s, NOW)
        seen: dict[str, tuple[str, list[str]]] = {}
        for username in ("sue", "manager", "admin"):
            p = principal_for(s, s.scalars(select(User).where(User.username == username)).one())
            channel, teams = scope_of(p)
            view = board.to_dict(teams)
            assert len(view["queues"]) == 2
            seen[username] = (channel, [a["name"] for a in view["agents"]])
            allowed = s.scalars(
                select(AgentRow.name)
                .join(User, User.id == AgentRow.user_id)
                .where(agent_filter(p), User.active)
                .order_by(AgentRow.name)
            ).all()
            assert seen[username][1] == list(allowed), username
    blue = 1  # the seed's first team
    assert seen["sue"] == (f"wallboard:team:{blue}", ["ann", "bob"])
    assert (
        seen["manager"]
        == seen["admin"]
        == ("wallboard", ["ann", "bob", "cid", "dan", "eve", "zed"])
    )


# --------------------------------------------------------------------------- live engine


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _request(engine: LiveEngine, name: str, args: dict[str, Any], now: float) -> None:
    extra = None
    if name == "arrive":
        cid, queue = args["contact"], args["queue"]

        def extra(s: Session) -> None:
            s.add(ContactRow(id=cid, channel="chat", queue=queue, arrived_at=now,
                             status=ContactStatus.QUEUED.value))  # fmt: skip
            s.flush()

    with contextlib.suppress(RoutingError):  # a refused request changes nothing
        engine.tick() if name == "tick" else engine.submit(name, extra=extra, **args)


def _random_request(rng: random.Random, engine: LiveEngine, serial: int) -> tuple[str, Any]:
    r = engine.router
    ringing = [c.id for c in r.contacts.values() if c.state.name == "RINGING"]
    talking = [c.id for c in r.contacts.values() if c.state.name == "CONNECTED"]
    queued = [c.id for c in r.contacts.values() if c.state.name == "QUEUED"]
    wrapping = [(a.name, c) for a in r.agents.values() for c, leg in a.legs.items()
                if leg.contact.leg is not leg]  # fmt: skip
    kinds = {"arrive": 5, "login": 3, "logout": 1, "pause": 1, "unpause": 2, "tick": 2,
             "answer": 8 * bool(ringing), "decline": bool(ringing), "hangup": 5 * bool(talking),
             "transfer": 2 * bool(talking), "abandon": 2 * bool(ringing or queued),
             "end_wrapup": 4 * bool(wrapping)}  # fmt: skip
    kind = rng.choices(list(kinds), weights=list(kinds.values()))[0]
    if kind == "arrive":
        return kind, {"contact": f"k{serial}", "queue": rng.choice(["support", "sales"]),
                      "caller": None, "channel": "chat"}  # fmt: skip
    if kind in ("login", "logout", "unpause"):
        return kind, {"agent": rng.choice(AGENTS)}
    if kind == "pause":
        return kind, {"agent": rng.choice(AGENTS), "reason": "break"}
    if kind in ("answer", "decline"):
        return kind, {"contact": rng.choice(ringing)}
    if kind == "hangup":
        return kind, {"contact": rng.choice(talking), "wrapup": rng.choice([None, 0.0, 10.0])}
    if kind == "transfer":  # to an agent or a queue (never back to the agent wrapping up)
        if rng.random() < 0.5:
            return kind, {"contact": rng.choice(talking), "target": rng.choice(AGENTS),
                          "target_type": "agent"}  # fmt: skip
        return kind, {"contact": rng.choice(talking), "target": rng.choice(["support", "sales"]),
                      "target_type": "queue"}  # fmt: skip
    if kind == "abandon":
        return kind, {"contact": rng.choice(ringing + queued)}
    if kind == "end_wrapup":
        agent, cid = rng.choice(wrapping)
        return kind, {"agent": agent, "contact": cid}
    return "tick", {}


def _check_against_router(
    snap: Snapshot, engine: LiveEngine, db: Engine, *, with_kpis: bool
) -> None:
    r = engine.router
    for a in snap.agents:
        ra = r.agents[a.name]
        assert a.status == r.agent_state(a.name).value, a.name
        assert a.contacts == ra.ringing + len(ra.legs), a.name
        assert a.since is None or a.since <= snap.t
    for q in snap.queues:
        assert q.waiting == r.waiting(q.name)
    if not with_kpis:
        return
    with db.connect() as conn:
        frame = EventStore(conn).to_frame(start=snap.day_start)
    if frame.height == 0:
        return
    for q in snap.queues:
        settings = KpiSettings(by=Breakdown.QUEUE, sl_threshold_s=q.sl_threshold_s)
        # one KPI row per (queue, channel): the counts add up to the queue's
        visits = [
            x.visits for x in compute_kpis(frame, settings).rows
            if x.queue == q.name and x.visits is not None
        ]  # fmt: skip
        want = tuple(
            sum(getattr(v, f) for v in visits)
            for f in ("offered", "answered", "abandoned", "timed_out", "answered_within")
        )
        got = (q.offered_today, q.answered_today, q.abandoned_today, q.timed_out_today,
               q.answered_within_today)  # fmt: skip
        assert got == want, q.name


@pytest.mark.parametrize("seed_", range(6))
def test_random_live_day_agrees_with_the_router_and_the_kpi_engine(
    tmp_path: Path, seed_: int
) -> None:
    """120 random requests; after each, the board (incremental tally) matches the router.

    The day starts in the middle of the run, so visits that began the day before (and
    end today) are left out as the KPI engine leaves them out; at the end a fresh tally
    gives the same board as the one carried along.
    """
    url = f"sqlite:///{tmp_path / 'center.db'}"
    seed(url, ring_timeout_s=30.0, capacity=2)
    db = make_engine(url)
    sa_event.listen(db, "connect", lambda conn, _rec: conn.execute("PRAGMA synchronous=OFF"))
    with Session(db) as s, s.begin():
        s.execute(update(QueueRow).where(QueueRow.name == "sales").values(
            wrapup_s=20.0, max_wait_s=60.0, overflow_queue="support"))  # fmt: skip
    rng = random.Random(seed_)
    clock = Clock(D - 400.0)
    engine = LiveEngine(db, clock=clock)
    engine.start()
    tally: DayTally | None = None
    snap = None
    seen: set[str] = set()
    for i in range(120):
        clock.t += round(rng.expovariate(1 / 6.0), 3)
        while (nt := engine.next_timer()) is not None and nt <= clock.t:
            _request(engine, "tick", {}, clock.t)
        name, args = _random_request(rng, engine, i)
        _request(engine, name, args, clock.t)
        day_start = utc_day_start(clock.t)
        if tally is None or tally.day_start != day_start:
            tally = DayTally(day_start)
        with Session(db) as s:
            snap = compute_snapshot(s, clock.t, tally=tally)
        _check_against_router(snap, engine, db, with_kpis=i % 10 == 9)
        seen.update(a.status for a in snap.agents)
    assert snap is not None and snap.day_start == D  # the run crossed midnight
    # the run went through the busy states (with contacts waiting at every login an agent
    # may never be seen idle, so "available" is not required)
    assert {"ringing", "on_contact", "wrap_up"} <= seen
    with Session(db) as s:
        fresh = compute_snapshot(s, clock.t)
    assert fresh.queues == snap.queues
    assert [a.status for a in fresh.agents] == [a.status for a in snap.agents]
    db.dispose()


def test_channel_rows_add_up_their_queues() -> None:
    """Two voice queues with their own thresholds: the voice row sums their counts and
    takes the service level of the sums (3 within / 8 finished), not a mean of SLs."""
    from callcenter.live.wallboard import QueueFigures, channel_figures

    def q(name: str, channel: str, waiting: int, longest: float | None, *counts: int) -> Any:
        offered, answered, abandoned, timed_out, within = counts
        return QueueFigures(
            name=name, channel=channel, waiting=waiting, longest_wait_s=longest,
            offered_today=offered, answered_today=answered, abandoned_today=abandoned,
            timed_out_today=timed_out, answered_within_today=within,
            service_level_today=None, sl_threshold_s=20.0, sl_target=0.8, agents_available=0,
        )  # fmt: skip

    rows = channel_figures(
        [
            q("web", "chat", 0, None, 0, 0, 0, 0, 0),
            q("billing", "voice", 2, 40.0, 5, 3, 1, 0, 2),  # SL 2/4
            q("sales", "voice", 1, 90.0, 4, 2, 1, 1, 1),  # SL 1/4
        ],
        {"voice": 3},
    )
    assert [r.channel for r in rows] == ["voice", "chat"]  # the order of Channel
    voice, chat = rows
    assert (voice.queues, voice.waiting, voice.longest_wait_s) == (2, 3, 90.0)
    assert (voice.offered_today, voice.answered_today, voice.abandoned_today) == (9, 5, 2)
    assert voice.service_level_today == pytest.approx(3 / 8)
    assert voice.in_progress == 3
    assert chat.service_level_today is None and chat.longest_wait_s is None  # nothing finished
