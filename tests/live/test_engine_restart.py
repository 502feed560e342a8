"""Restart safety of the live routing engine, in process, on a SQLite file.

The server may die at any moment (``kill -9``, a power cut).  What it promised
(``live/engine.py``): every accepted request is one transaction holding the request, its
events and the read models; on start the current epoch of ``engine_commands`` is
replayed into a fresh router, and the timers that fell due while the server was down fire
at their own times.  So a crashed-and-restarted engine must be indistinguishable from one
that never stopped: the same router state, the same read-model rows and the same event
log (no event lost, none written twice).

Each test runs two engines on two copies of one seeded database, driven by the same
requests at the same (fake) times: ``twin`` never stops and ticks its timers when they
fall due, as the server's ticker does; ``crashy`` is dropped without any shutdown at
chosen moments (its router object simply abandoned) and a new :class:`LiveEngine` is
started on the same file later.  The scripted test also checks the event log against a
hand-written expectation; the randomized one runs 50 seeded request sequences.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from tests.support.seed import AGENTS, seed

from callcenter.live.engine import LiveEngine
from callcenter.routing import Router, RoutingError
from callcenter.storage.db import STORED_FIELDS, events_table, make_engine
from callcenter.storage.tables import AgentRow, ContactRow, ContactStatus, EngineCommand, QueueRow

T0 = 1_700_000_000.0
RING_S = 30.0  # ring timeout of both queues


class Clock:
    """A settable wall clock for the engine."""

    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _fast_sqlite(engine: Engine) -> Engine:
    """No fsync: these tests are about logic, not durability of the disk."""

    @event.listens_for(engine, "connect")
    def _sync_off(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA synchronous=OFF")

    return engine


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The standard test center (ann, bob, cid; queues support and sales), capacity 2.

    ``sales`` has 20 s of automatic wrap-up and a 120 s maximum wait, so its timers are
    exercised too; ``support`` leaves wrap-up to the agent and has no maximum wait.
    """
    path = tmp_path_factory.mktemp("tpl") / "center.db"
    url = f"sqlite:///{path}"
    seed(url, ring_timeout_s=RING_S, capacity=2)
    db = make_engine(url)
    with Session(db) as s, s.begin():
        s.execute(update(QueueRow).where(QueueRow.name == "sales").values(wrapup_s=20.0))
        s.execute(update(QueueRow).where(QueueRow.name == "sales").values(max_wait_s=120.0))
    db.dispose()
    return path


class Node:
    """One engine on its own copy of the template database."""

    def __init__(self, path: Path, clock: Clock) -> None:
        self.path, self.clock = path, clock
        self.engine = self._new_engine()

    def _new_engine(self) -> LiveEngine:
        engine = LiveEngine(_fast_sqlite(make_engine(f"sqlite:///{self.path}")), clock=self.clock)
        engine.start()
        return engine

    def crash_and_restart(self) -> None:
        """Abandon the engine as it is (no shutdown, no flush) and start a new one."""
        self.engine = self._new_engine()

    def request(self, name: str, **args: Any) -> str | None:
        """Run one request; arrivals write their contact row as the chat API does.

        Returns None, or the refusal's message.
        """
        extra = None
        if name == "arrive":
            now, cid, queue = self.clock(), args["contact"], args["queue"]

            def extra(s: Session) -> None:
                s.add(ContactRow(id=cid, channel="chat", queue=queue, arrived_at=now,
                                 status=ContactStatus.QUEUED.value))  # fmt: skip
                s.flush()

        try:
            if name == "tick":
                self.engine.tick()
            else:
                self.engine.submit(name, extra=extra, **args)
        except RoutingError as e:
            return str(e)
        return None

    def events(self) -> list[tuple[Any, ...]]:
        cols = [events_table.c[n] for n in STORED_FIELDS]
        with self.engine.db.connect() as conn:
            return [tuple(r) for r in conn.execute(select(*cols).order_by(events_table.c.id))]

    def read_models(self) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        with Session(self.engine.db) as s:
            contacts = [
                tuple(r)
                for r in s.execute(
                    select(ContactRow.id, ContactRow.status, ContactRow.queue, ContactRow.agent,
                           ContactRow.enqueued_at, ContactRow.offered_at, ContactRow.answered_at,
                           ContactRow.ended_at, ContactRow.closed_at).order_by(ContactRow.id)
                )
            ]  # fmt: skip
            agents = [
                tuple(r)
                for r in s.execute(
                    select(AgentRow.name, AgentRow.status, AgentRow.status_reason,
                           AgentRow.status_since).order_by(AgentRow.name)
                )
            ]  # fmt: skip
        return contacts, agents


def router_state(r: Router) -> dict[str, Any]:
    """Everything a router decides with, in plain values (what must survive a restart)."""
    contacts = {
        cid: (c.state.name, c.queue.name if c.queue else None, c.agent.name if c.agent else None,
              c.leg.agent.name if c.leg else None, c.enq_t, c.offer_t, c.priority, c.seq, c.token)
        for cid, c in r.contacts.items()
    }  # fmt: skip
    agents = {
        name: (a.logged_in, a.paused, a.pause_reason, a.pause_pending, a.logout_pending,
               a.ringing, a.missed, a.handled, a.idle_since, a.busy_time,
               {cid: (leg.contact.leg is leg, leg.queue, leg.connect_t, leg.wrap_t,
                      leg.hold_start, leg.hold_total) for cid, leg in a.legs.items()})
        for name, a in r.agents.items()
    }  # fmt: skip
    waiting = {}
    for qn, q in r.queues.items():
        live = [
            (-prio, enq_t, seq, c.id)
            for prio, heap in q.prio_heaps.items()
            for enq_t, seq, qtok, c in heap
            if c.state.name == "QUEUED" and c.qtoken == qtok
        ]
        waiting[qn] = (q.waiting, [cid for *_, cid in sorted(live)])
    timers = sorted(
        (t, kind, obj.id if hasattr(obj, "id") else (obj.contact.id, obj.agent.name))
        for t, _seq, kind, obj, tok in r._timers
        if obj.token == tok
    )
    return {
        "contacts": contacts,
        "agents": agents,
        "waiting": waiting,
        "timers": timers,
        "next_timer": r.next_timer(),
    }


def assert_same(twin: Node, crashy: Node) -> None:
    assert router_state(crashy.engine.router) == router_state(twin.engine.router)
    assert crashy.engine.next_timer() == twin.engine.next_timer()
    assert crashy.read_models() == twin.read_models()
    assert crashy.events() == twin.events()


@pytest.fixture
def pair(template: Path, tmp_path: Path) -> Iterator[tuple[Clock, Node, Node]]:
    clock = Clock()
    nodes = []
    for name in ("twin", "crashy"):
        shutil.copy(template, tmp_path / f"{name}.db")
        nodes.append(Node(tmp_path / f"{name}.db", clock))
    yield clock, nodes[0], nodes[1]


def both(twin: Node, crashy: Node, name: str, **args: Any) -> str | None:
    a, b = twin.request(name, **args), crashy.request(name, **args)
    assert a == b, f"{name} {args}: twin {a!r}, restarted {b!r}"
    return a


# --------------------------------------------------------------------------- scripted


# Hand-computed: (seconds after T0, type, contact, agent) of every event of the script in
# test_scripted_crash_and_restart (capacity 2, ring timeout 30 s, longest-idle routing).
EXPECTED = [
    (0, "agent_login", None, "ann"),
    (1, "agent_login", None, "bob"),
    (10, "arrive", "c1", None), (10, "enqueue", "c1", None), (10, "offer", "c1", "ann"),
    (20, "arrive", "c2", None), (20, "enqueue", "c2", None),
    (20, "offer", "c2", "bob"),  # bob carries no contact, ann one
    (25, "connect", "c1", "ann"),
    (30, "arrive", "c3", None), (30, "enqueue", "c3", None),
    (30, "offer", "c3", "ann"),  # both carry one: ann idle since 0, bob since 1
    (45, "connect", "c2", "bob"),  # bob asked for a break at 40: pending
    (47, "arrive", "c4", None), (47, "enqueue", "c4", None),  # ann full, bob pausing
    (52, "complete", "c1", "ann"),
    # crash at 55, start again at 100: the ring timeouts at 60 and 90 fire at their times
    (60, "ring_noanswer", "c3", "ann"), (60, "offer", "c3", "ann"),  # oldest waiting: c3
    (90, "ring_noanswer", "c3", "ann"), (90, "offer", "c3", "ann"),
    (105, "connect", "c3", "ann"),
    (110, "wrapup_end", "c1", "ann"), (110, "offer", "c4", "ann"),
    (115, "complete", "c2", "bob"),
    # crash at 118, start again at 119
    (120, "wrapup_end", "c2", "bob"), (120, "agent_state", None, "bob"),  # paused: break
    (125, "connect", "c4", "ann"),
    (130, "complete", "c3", "ann"), (131, "wrapup_end", "c3", "ann"),
    (135, "complete", "c4", "ann"), (136, "wrapup_end", "c4", "ann"),
    (140, "agent_logout", None, "ann"), (141, "agent_logout", None, "bob"),
]  # fmt: skip


def test_scripted_crash_and_restart(pair: tuple[Clock, Node, Node]) -> None:
    clock, twin, crashy = pair

    def at(dt: float, name: str, **args: Any) -> None:
        clock.t = T0 + dt
        assert both(twin, crashy, name, **args) is None

    at(0, "login", agent="ann")
    at(1, "login", agent="bob")
    at(10, "arrive", contact="c1", queue="support", caller="c1@example.com", channel="chat")
    at(20, "arrive", contact="c2", queue="support", caller="c2@example.com", channel="chat")
    at(25, "answer", contact="c1")
    at(30, "arrive", contact="c3", queue="support", caller="c3@example.com", channel="chat")
    at(40, "pause", agent="bob", reason="break")
    at(45, "answer", contact="c2")
    at(47, "arrive", contact="c4", queue="support", caller="c4@example.com", channel="chat")
    at(52, "hangup", contact="c1", by="agent")
    before = router_state(crashy.engine.router)
    # crash at 55; the twin's ticker fires the ring timeouts on time, the crashed one is down
    for dt in (60, 90):
        clock.t = T0 + dt
        twin.request("tick")
    clock.t = T0 + 100
    crashy.crash_and_restart()
    assert crashy.engine.epoch == 1
    assert crashy.engine.replayed == 10  # the ten requests above
    assert crashy.engine.next_timer() == T0 + 120  # c3's third offer (at 90) times out at 120
    assert router_state(crashy.engine.router) != before
    assert_same(twin, crashy)
    contacts = {r[0]: r for r in crashy.read_models()[0]}
    assert contacts["c3"][1:6] == ("ringing", "support", "ann", T0 + 30, T0 + 90)
    assert contacts["c4"][1:4] == ("queued", "support", None)

    at(105, "answer", contact="c3")
    at(110, "end_wrapup", agent="ann", contact="c1")
    at(115, "hangup", contact="c2", by="caller")
    clock.t = T0 + 119
    crashy.crash_and_restart()
    assert crashy.engine.replayed == 14  # 10 + the start's tick + three requests
    assert_same(twin, crashy)
    at(120, "end_wrapup", agent="bob", contact="c2")
    at(125, "answer", contact="c4")
    at(130, "hangup", contact="c3", by="agent")
    at(131, "end_wrapup", agent="ann", contact="c3")
    at(135, "hangup", contact="c4", by="caller")
    at(136, "end_wrapup", agent="ann", contact="c4")
    at(140, "logout", agent="ann")
    at(141, "logout", agent="bob")
    assert_same(twin, crashy)

    got = [(round(e[0] - T0), e[1], e[2], e[4]) for e in crashy.events()]
    assert got == EXPECTED
    pause = [e for e in crashy.events() if e[1] == "agent_state"]
    assert [(e[STORED_FIELDS.index("state")], e[STORED_FIELDS.index("reason")]) for e in pause] == [
        ("paused", "break")
    ]

    # nothing in flight any more: the next start opens epoch 2 and forgets epoch 1
    clock.t = T0 + 150
    crashy.crash_and_restart()
    assert (crashy.engine.epoch, crashy.engine.replayed) == (2, 0)
    with Session(crashy.engine.db) as s:
        assert s.scalar(select(func.count()).select_from(EngineCommand)) == 0
    assert crashy.events() == twin.events()  # the log itself is kept


def test_epoch_continues_while_anything_is_in_flight(pair: tuple[Clock, Node, Node]) -> None:
    """A logged-in agent alone keeps the epoch: its login must be replayed."""
    clock, _twin, crashy = pair
    crashy.request("login", agent="cid")
    clock.t += 5
    crashy.request("pause", agent="cid", reason="lunch")
    for expected_replayed in (2, 2):  # a start with nothing due logs nothing new
        crashy.crash_and_restart()
        assert (crashy.engine.epoch, crashy.engine.replayed) == (1, expected_replayed)
        cid = crashy.engine.router.agents["cid"]
        assert (cid.logged_in, cid.paused, cid.pause_reason) == (True, True, "lunch")
    crashy.request("logout", agent="cid")
    crashy.crash_and_restart()
    assert (crashy.engine.epoch, crashy.engine.replayed) == (2, 0)
    assert not crashy.engine.router.agents["cid"].logged_in


def test_failed_transaction_leaves_router_as_the_database(pair: tuple[Clock, Node, Node]) -> None:
    """If the request's own rows cannot be written, nothing happened (router included)."""
    clock, twin, crashy = pair
    both(twin, crashy, "login", agent="ann")
    clock.t += 1

    def bad_extra(s: Session) -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        crashy.engine.submit("arrive", extra=bad_extra, contact="x", queue="support")
    assert "x" not in crashy.engine.router.contacts
    assert_same(twin, crashy)


# --------------------------------------------------------------------------- randomized


def random_request(rng: random.Random, r: Router, serial: int) -> tuple[str, dict[str, Any]]:
    """A request a person or the chat API could send now (mostly valid for ``r``'s state).

    One in ten picks its target at random, so refusals (409s) are exercised too: a
    refused request must change nothing, in the live router or in the replayed one.
    """
    agents = list(r.agents.values())
    logged = [a.name for a in agents if a.logged_in]
    by_state: dict[str, list[str]] = {}
    for c in r.contacts.values():
        by_state.setdefault(c.state.name, []).append(c.id)
    wrapping = [(a.name, cid) for a in agents for cid, leg in a.legs.items()
                if leg.contact.leg is not leg]  # fmt: skip
    anyone = [*r.contacts, f"k{serial - 1}", "nobody"]

    def pick(ids: list[str]) -> str:
        return rng.choice(anyone if not ids or rng.random() < 0.1 else ids)

    ringing, connected = by_state.get("RINGING", []), by_state.get("CONNECTED", [])
    weights = {"login": 3, "logout": 1, "pause": 2, "unpause": 2, "arrive": 12, "answer": 8,
               "decline": 1, "abandon": 2, "hangup": 6, "end_wrapup": 4, "transfer": 2,
               "hold": 1, "unhold": 1, "tick": 3}  # fmt: skip
    if rng.random() > 0.1:  # a request that fits the state (else anything, often refused)
        needs = {"answer": ringing, "decline": ringing, "hangup": connected,
                 "transfer": connected, "hold": connected, "unhold": connected,
                 "end_wrapup": wrapping, "abandon": ringing + by_state.get("QUEUED", []),
                 "login": [a for a in agents if not a.logged_in],
                 "logout": logged, "pause": logged, "unpause": logged}  # fmt: skip
        weights = {k: w for k, w in weights.items() if needs.get(k, True)}
    kind = rng.choices(list(weights), weights=list(weights.values()))[0]
    if kind in ("login", "logout", "pause", "unpause"):
        pool = [a.name for a in agents if not a.logged_in] if kind == "login" else logged
        who = rng.choice(pool if pool and rng.random() > 0.1 else list(AGENTS))
        if kind == "pause":
            return kind, {"agent": who, "reason": rng.choice(["break", "lunch"])}
        if kind == "logout":
            return kind, {"agent": who, "reason": rng.choice([None, "end_of_shift"])}
        return kind, {"agent": who}
    if kind == "arrive":
        return kind, {"contact": f"k{serial}", "queue": rng.choice(["support", "sales"]),
                      "caller": f"k{serial}@example.com", "channel": "chat",
                      "priority": rng.choice([0, 0, 0, 1])}  # fmt: skip
    if kind in ("answer", "decline"):
        return kind, {"contact": pick(ringing)}
    if kind == "abandon":
        return kind, {"contact": pick(ringing + by_state.get("QUEUED", []))}
    if kind == "hangup":
        return kind, {"contact": pick(connected), "by": rng.choice(["agent", "caller"]),
                      "wrapup": rng.choice([None, None, 0.0, 15.0])}  # fmt: skip
    if kind == "end_wrapup":
        agent, cid = rng.choice(wrapping) if wrapping else (rng.choice(AGENTS), pick([]))
        return kind, {"agent": agent, "contact": cid}
    if kind == "transfer":
        if rng.random() < 0.5:
            return kind, {"contact": pick(connected), "target": rng.choice(["support", "sales"])}
        return kind, {"contact": pick(connected), "target": rng.choice(AGENTS),
                      "target_type": "agent"}  # fmt: skip
    if kind in ("hold", "unhold"):
        return kind, {"contact": pick(connected)}
    return "tick", {}


@pytest.mark.slow
@pytest.mark.parametrize("seed_", range(50))
def test_random_requests_with_crashes_match_an_uninterrupted_run(
    pair: tuple[Clock, Node, Node], seed_: int
) -> None:
    """60 random requests at random times; the engine crashes at one or two random points.

    While the crashed engine is down, the twin's ticker fires the timers that fall due
    (ring timeouts, automatic wrap-ups, maximum waits); the restarted engine must fire
    the same ones at the same times.  At each restart and at the end: equal router state,
    read models and event log.
    """
    clock, twin, crashy = pair
    rng = random.Random(seed_)
    crashes = set(rng.sample(range(5, 60), rng.choice([1, 2])))
    refused, restarts = 0, []
    for i in range(60):
        if i in crashes:
            down_until = clock.t + rng.uniform(0.0, 90.0)
            while (nt := twin.engine.next_timer()) is not None and nt <= down_until:
                clock.t = nt
                twin.request("tick")
            clock.t = down_until
            idle = not any(a.logged_in for a in twin.engine.router.agents.values()) and not any(
                c.state.name != "DONE" for c in twin.engine.router.contacts.values()
            )  # nothing in flight: the restart opens a new epoch
            epoch = crashy.engine.epoch
            crashy.crash_and_restart()
            assert crashy.engine.epoch == epoch + idle
            restarts.append(crashy.engine.replayed)
            assert_same(twin, crashy)
        clock.t += round(rng.expovariate(1 / 8.0), 3)
        name, args = random_request(rng, twin.engine.router, i)
        refused += both(twin, crashy, name, **args) is not None
    assert_same(twin, crashy)
    assert refused < 20  # mostly valid requests: the scenarios do exercise the router
    assert restarts and restarts[-1] > 0


# --------------------------------------------------------------------------- refused requests


def test_arrival_refused_for_an_unknown_queue_changes_nothing(
    pair: tuple[Clock, Node, Node],
) -> None:
    """A refused arrival (409) must leave no trace: not in the router, not in the log.

    (The router checks the queue before it registers the contact: otherwise ``x`` and
    its ``arrive`` event would stay behind, the next request would log them, and a
    restart, which never saw that arrival, would disagree with the live router.)
    """
    clock, twin, crashy = pair
    both(twin, crashy, "login", agent="ann")
    clock.t += 1
    msg = crashy.request("arrive", contact="x", queue="nope", caller=None, channel="chat")
    assert msg == "unknown queue 'nope'"
    clock.t += 1
    both(twin, crashy, "pause", agent="ann", reason="break")
    assert [e[1] for e in crashy.events()] == [e[1] for e in twin.events()]
    assert "x" not in crashy.engine.router.contacts
    crashy.crash_and_restart()
    assert_same(twin, crashy)


def test_request_with_a_bad_argument_is_refused_before_the_router_moves(
    pair: tuple[Clock, Node, Node],
) -> None:
    """A programming error in a request (an argument no command takes) is refused before
    the router moves: nothing is logged, nothing rebuilt, and the timers that fell due
    fire at the next tick exactly as in a twin that never saw the bad request."""
    clock, twin, crashy = pair
    both(twin, crashy, "login", agent="ann")
    clock.t += 1
    both(twin, crashy, "arrive", contact="c1", queue="support", caller=None, channel="chat")
    clock.t += RING_S + 5  # c1's offer to ann timed out meanwhile
    before = crashy.events()
    with pytest.raises(ValueError, match="'nobody' is not a valid HangupBy"):
        crashy.engine.submit("hangup", contact="c1", by="nobody")
    assert crashy.events() == before  # nothing logged
    both(twin, crashy, "tick")
    assert crashy.events() == twin.events()  # the ring_noanswer and the new offer
    assert [e[1] for e in crashy.events()[len(before) :]] == ["ring_noanswer", "offer"]
    assert_same(twin, crashy)
