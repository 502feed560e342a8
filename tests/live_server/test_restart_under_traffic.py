"""Restart during traffic: stop the server with chats queued, ringing, active and in
wrap-up, start it again on the same database, and nothing is lost.

A real ``callcenter serve`` process (:class:`~tests.support.server.LiveServer`) on a
SQLite file, and on a real PostgreSQL database (the ``postgres_url`` fixture).  Before
the stop the center is busy:

* cid is logged in and paused (``lunch``);
* bob (capacity 2) talks in chat B and wraps up chat W, and asked for a ``break`` while
  busy (a pending pause);
* ann (capacity 2) talks in chat A and chat R rings at her;
* chats Q1, Q2, Q3 wait in the queue (more chats than the agents can take).

Then six threads post messages as fast as the server answers (the customers of A, B,
R and Q1; ann in A, bob in B) and the server is stopped in the middle of that burst:
SIGKILL (a crash) or SIGTERM (a clean stop).  After ``start()`` every check is made
through the API against what was recorded, or known, before the stop:

* every chat has the same status, agent, times and transcript; every message the
  server acknowledged (201) is there, in the order of its id, and the only extra ones
  are messages whose request was in flight when the server went away;
* the desks (``GET /api/desk``) and the wallboard (agents and today's counters) are
  what they were; the signed-in sessions still work;
* the center goes on: messages in the active chats, ann accepts the chat that rang
  through the restart, bob's pending pause takes effect when his last wrap-up ends
  (he is offered nothing), a queued chat goes to ann when she frees up, the other two
  to cid when she comes back from lunch.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
from tests.support.seed import seed
from tests.support.server import Client, LiveServer

pytestmark = pytest.mark.slow

RING_TIMEOUT_S: Final = 3600.0  # no offer times out during the test (nor over the restart)
CAPACITY: Final = 2
BURST_MIN_ACKED: Final = 5  # every sender has this many messages acknowledged at the stop
BURST_MAX: Final = 5000  # a sender gives up after this many (the stop never came)
SIGNED_IN: Final = ("ann", "bob", "cid", "manager", "sue")

# The chats in the order they start, with the status and agent each has at the stop.
EXPECTED: Final[dict[str, tuple[str, str | None]]] = {
    "B": ("active", "bob"),
    "W": ("wrapup", "bob"),
    "A": ("active", "ann"),
    "R": ("ringing", "ann"),
    "Q1": ("queued", None),
    "Q2": ("queued", None),
    "Q3": ("queued", None),
}
# GET /api/contacts/{id} fields that nothing but the router's decisions changes
DETAIL_FIELDS: Final = (
    "status",
    "agent",
    "queue",
    "customer_id",
    "customer_name",
    "subject",
    "arrived_at",
    "enqueued_at",
    "offered_at",
    "answered_at",
    "ended_at",
    "closed_at",
    "disposition",
    "notes",
    "agents",
)


@dataclass(frozen=True)
class Chat:
    label: str
    id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Chat-Token": self.token}


@dataclass
class Center:
    """The running server, its signed-in users and the chats started so far."""

    server: LiveServer
    users: dict[str, Client] = field(default_factory=dict)
    chats: dict[str, Chat] = field(default_factory=dict)

    def __getitem__(self, username: str) -> Client:
        return self.users[username]

    def start_chat(self, label: str) -> Chat:
        with self.server.client() as c:
            r = c.post(
                "/api/chat/start",
                json={
                    "queue": "support",
                    "name": f"Customer {label}",
                    "email": f"{label.lower()}@example.com",
                    "message": f"{label}: hello",
                },
            )
        assert r.status_code == 201, r.text
        chat = Chat(label, r.json()["contact_id"], r.json()["token"])
        self.chats[label] = chat
        return chat

    def view(self, label: str) -> dict[str, Any]:
        """The customer's view of a chat (``GET /api/chat/{id}`` with its token)."""
        chat = self.chats[label]
        with self.server.client() as c:
            r = c.get(f"/api/chat/{chat.id}", headers=chat.headers)
        assert r.status_code == 200, r.text
        return dict(r.json())

    def detail(self, label: str) -> dict[str, Any]:
        """The contact as the manager sees it (``GET /api/contacts/{id}``)."""
        return dict(self["manager"].ok("GET", f"/api/contacts/{self.chats[label].id}"))

    def desk(self, agent: str) -> dict[str, Any]:
        return dict(self[agent].ok("GET", "/api/desk"))

    def act(self, agent: str, label: str, action: str, **body: Any) -> dict[str, Any]:
        path = f"/api/desk/contacts/{self.chats[label].id}/{action}"
        return dict(self[agent].ok("POST", path, json=body or None))

    def say(self, who: str, label: str, text: str) -> dict[str, Any]:
        """``who`` (an agent, or ``customer``) writes in chat ``label``; the 201 answer."""
        chat = self.chats[label]
        if who == "customer":
            with self.server.client() as c:
                r = c.post(
                    f"/api/chat/{chat.id}/messages", json={"body": text}, headers=chat.headers
                )
            assert r.status_code == 201, r.text
            return dict(r.json())
        return dict(
            self[who].ok("POST", f"/api/desk/contacts/{chat.id}/messages", json={"body": text})
        )


class Sender(threading.Thread):
    """Posts messages to one chat, one after another, until a request gets no answer.

    ``acked`` holds the server's 201 answers in sending order; ``unanswered`` the body
    whose request was in flight when the server went away (it may or may not have been
    stored); ``refused`` any other answer (none is expected).
    """

    def __init__(self, server: LiveServer, chat: Chat, who: str) -> None:
        super().__init__(name=f"{who}->{chat.label}", daemon=True)
        self.chat, self.who = chat, who
        if who == "customer":
            self.client = server.client()
            self.path = f"/api/chat/{chat.id}/messages"
            self.client.headers.update(chat.headers)
        else:
            self.client = server.client(who)
            self.path = f"/api/desk/contacts/{chat.id}/messages"
        self.acked: list[dict[str, Any]] = []
        self.unanswered: str | None = None
        self.refused: list[str] = []
        self.halt = threading.Event()

    def run(self) -> None:
        try:
            for n in range(1, BURST_MAX + 1):
                if self.halt.is_set():
                    return
                body = f"{self.chat.label} burst {self.who} #{n}"
                try:
                    r = self.client.post(self.path, json={"body": body})
                except httpx.TransportError:
                    self.unanswered = body
                    return
                if r.status_code != 201:
                    self.refused.append(f"{body}: {r.status_code} {r.text}")
                    return
                self.acked.append(r.json())
        finally:
            self.client.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def center(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Center]:
    """The seeded center on a SQLite file, or on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'center.db'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    seed(url, ring_timeout_s=RING_TIMEOUT_S, capacity=CAPACITY)
    # the burst is traffic, not abuse: each sender writes as fast as it can, from 127.0.0.1
    unlimited = {f"CALLCENTER_CHAT_{k}": "100000" for k in (
        "MESSAGES_BURST", "MESSAGES_PER_MINUTE", "ADDRESS_MESSAGES_BURST",
        "ADDRESS_MESSAGES_PER_MINUTE")}  # fmt: skip
    server = LiveServer(db_url=url, workdir=tmp_path, env=unlimited)
    server.start()
    c = Center(server)
    try:
        c.users = {name: server.client(name) for name in SIGNED_IN}
        yield c
    finally:
        for client in c.users.values():
            client.close()
        server.stop()


def _busy_center(c: Center) -> None:
    """Build the state of the module docstring, checking each step as it goes."""
    c["cid"].ok("POST", "/api/desk/login")
    assert c["cid"].ok("POST", "/api/desk/pause", json={"reason": "lunch"})["status"] == "paused"

    c["bob"].ok("POST", "/api/desk/login")
    c.start_chat("B")
    c.act("bob", "B", "accept")
    c.say("bob", "B", "B: Bob here, how can I help?")
    c.say("customer", "B", "B: my invoice is wrong")
    c.start_chat("W")
    c.act("bob", "W", "accept")
    c.say("bob", "W", "W: done, anything else?")
    c.say("customer", "W", "W: no, thanks")
    c.act("bob", "W", "end")
    desk = c["bob"].ok("POST", "/api/desk/pause", json={"reason": "break"})
    assert (desk["status"], desk["pending_pause"]) == ("available", "break")  # busy: pending

    c["ann"].ok("POST", "/api/desk/login")
    c.start_chat("A")
    c.act("ann", "A", "accept")
    c.say("ann", "A", "A: Ann here")
    c.say("customer", "A", "A: where is my parcel?")
    c.start_chat("R")  # rings at ann: her second slot
    for label in ("Q1", "Q2", "Q3"):  # nobody is free: they wait
        c.start_chat(label)
    c.say("customer", "Q1", "Q1: still waiting")

    for label, (status, agent) in EXPECTED.items():
        d = c.detail(label)
        assert (d["status"], d["agent"]) == (status, agent), label


def _desk_state(desk: dict[str, Any]) -> dict[str, Any]:
    """A desk without the transcripts (the burst adds to them)."""
    contacts = [{k: v for k, v in x.items() if k != "messages"} for x in desk["contacts"]]
    return {**desk, "contacts": contacts}


def _board_state(board: dict[str, Any]) -> dict[str, Any]:
    """The wallboard without what moves with the clock."""
    return {
        "day_start": board["day_start"],
        "queues": [{k: v for k, v in q.items() if k != "longest_wait_s"} for q in board["queues"]],
        "agents": [{k: v for k, v in a.items() if k != "time_in_state_s"} for a in board["agents"]],
    }


def _queue(board: dict[str, Any], name: str) -> dict[str, Any]:
    (q,) = [q for q in board["queues"] if q["name"] == name]
    return dict(q)


def _agents(board: dict[str, Any]) -> dict[str, tuple[str, str | None, int]]:
    return {a["name"]: (a["status"], a["reason"], a["contacts"]) for a in board["agents"]}


def _check_board_before(board: dict[str, Any]) -> None:
    """The wallboard at the stop, from what the test did (not from the server)."""
    support = _queue(board, "support")
    assert (support["offered_today"], support["answered_today"]) == (7, 3)  # B, W, A answered
    assert (support["abandoned_today"], support["timed_out_today"]) == (0, 0)
    assert (support["waiting"], support["agents_available"]) == (3, 0)
    sales = _queue(board, "sales")
    assert (sales["offered_today"], sales["answered_today"], sales["waiting"]) == (0, 0, 0)
    assert _agents(board) == {
        "ann": ("ringing", None, 2),
        "bob": ("on_contact", None, 2),
        "cid": ("paused", "lunch", 0),
    }


def _burst(c: Center, *, kill: bool) -> list[Sender]:
    """Post messages from six threads and stop the server while they run."""
    senders = [
        Sender(c.server, c.chats[label], who)
        for label, who in (
            ("A", "customer"),
            ("B", "customer"),
            ("R", "customer"),
            ("Q1", "customer"),
            ("A", "ann"),
            ("B", "bob"),
        )
    ]
    for s in senders:
        s.start()
    deadline = time.monotonic() + 30
    while any(len(s.acked) < BURST_MIN_ACKED and s.is_alive() for s in senders):
        assert time.monotonic() < deadline, "the burst did not get going"
        time.sleep(0.01)
    proc = c.server.proc
    assert proc is not None
    c.server.stop(kill=kill)
    # a clean stop ends in time, not SIGKILLed by ``stop`` (uvicorn shuts down gracefully,
    # then re-raises the SIGTERM it caught: the exit status says SIGTERM)
    assert proc.returncode == -(signal.SIGKILL if kill else signal.SIGTERM), c.server.log()
    for s in senders:
        s.halt.set()  # in case one was between requests and never saw the server go
        s.join(timeout=30)
        assert not s.is_alive(), f"sender {s.name} hangs"
    for s in senders:
        assert s.refused == [], f"{s.name}: {s.refused}"
        assert len(s.acked) >= BURST_MIN_ACKED, f"{s.name} stopped early"
        ids = [m["id"] for m in s.acked]
        assert ids == sorted(set(ids)), f"{s.name}: acknowledged ids out of order"
    return senders


def _check_transcript(
    label: str, got: list[dict[str, Any]], want: list[dict[str, Any]], maybe: set[str]
) -> None:
    """``got`` holds every message of ``want`` unchanged and in order; anything else is a
    message whose request was in flight at the stop (``maybe``), each at most once."""
    ids = [m["id"] for m in got]
    assert ids == sorted(set(ids)), f"{label}: transcript out of id order"
    wanted = {m["id"] for m in want}
    assert [m for m in got if m["id"] in wanted] == want, f"{label}: acknowledged messages lost"
    extra = [m["body"] for m in got if m["id"] not in wanted]
    assert len(extra) == len(set(extra)) and set(extra) <= maybe, f"{label}: unknown {extra}"


def _plain(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages as both transcripts show them (the CRM names the agent differently)."""
    return [{k: m[k] for k in ("id", "t", "sender", "body")} for m in messages]


@pytest.mark.parametrize("kill", [True, False], ids=["sigkill", "sigterm"])
def test_restart_under_traffic_loses_nothing(center: Center, kill: bool) -> None:
    c = center
    _busy_center(c)

    # ------------------------------------------------------------ recorded at the stop
    views = {label: c.view(label) for label in c.chats}
    details = {label: c.detail(label) for label in c.chats}
    desks = {a: _desk_state(c.desk(a)) for a in ("ann", "bob", "cid")}
    board = c["manager"].ok("GET", "/api/wallboard")
    _check_board_before(board)
    sue_board = c["sue"].ok("GET", "/api/wallboard")
    assert [a["name"] for a in sue_board["agents"]] == ["ann", "bob"]  # its team (blue) only

    senders = _burst(c, kill=kill)
    want = {label: list(v["messages"]) for label, v in views.items()}
    maybe: dict[str, set[str]] = {label: set() for label in c.chats}
    for s in senders:
        want[s.chat.label] += s.acked
        if s.unanswered is not None:
            maybe[s.chat.label].add(s.unanswered)
    for msgs in want.values():
        msgs.sort(key=lambda m: m["id"])
    c.server.start()

    # ------------------------------------------------------------ nothing lost
    for label, (status, agent) in EXPECTED.items():
        view = c.view(label)
        before = views[label]
        for key in ("status", "agent_name", "queue", "ended", "csat"):
            assert view[key] == before[key], f"{label}: {key}"
        _check_transcript(label, view["messages"], want[label], maybe[label])
        detail = c.detail(label)
        assert (detail["status"], detail["agent"]) == (status, agent), label
        for key in DETAIL_FIELDS:
            assert detail[key] == details[label][key], f"{label}: {key}"
        _check_transcript(label, _plain(detail["messages"]), _plain(want[label]), maybe[label])
    assert views["A"]["agent_name"] == "Ann" and views["R"]["agent_name"] is None  # ringing

    for agent, before_desk in desks.items():  # the sessions survived the restart, too
        assert _desk_state(c.desk(agent)) == before_desk, agent
    assert [(x["id"], x["status"]) for x in desks["ann"]["contacts"]] == [
        (c.chats["A"].id, "active"),
        (c.chats["R"].id, "ringing"),
    ]
    assert [(x["id"], x["status"]) for x in desks["bob"]["contacts"]] == [
        (c.chats["B"].id, "active"),
        (c.chats["W"].id, "wrapup"),
    ]
    assert (desks["bob"]["status"], desks["bob"]["pending_pause"]) == ("available", "break")
    assert (desks["cid"]["status"], desks["cid"]["reason"]) == ("paused", "lunch")

    after = c["manager"].ok("GET", "/api/wallboard")
    _check_board_before(after)
    assert _board_state(after) == _board_state(board)
    assert _board_state(c["sue"].ok("GET", "/api/wallboard")) == _board_state(sue_board)

    # ------------------------------------------------------------ and the center goes on
    for label, agent in (("A", "ann"), ("B", "bob")):
        mine = c.say("customer", label, f"{label}: back again")
        theirs = c.say(agent, label, f"{label}: welcome back")
        tail = c.view(label)["messages"][-2:]
        assert tail == [mine, theirs] and mine["id"] < theirs["id"]

    desk = c.act("ann", "R", "accept")  # the offer rang through the restart
    assert [(x["label"], x["status"]) for x in _labelled(c, desk)] == [
        ("A", "active"),
        ("R", "active"),
    ]
    assert c.view("R")["status"] == "active" and c.view("R")["agent_name"] == "Ann"
    r_reply = c.say("ann", "R", "R: sorry for the wait")
    assert c.view("R")["messages"][-1] == r_reply

    # bob: his last wrap-up ends, the pending break begins, no queued chat goes to him
    desk = c.act("bob", "W", "wrapup", disposition="resolved", notes="fixed before restart")
    assert [x["label"] for x in _labelled(c, desk)] == ["B"] and desk["pending_pause"] == "break"
    closed = c.detail("W")
    assert (closed["status"], closed["disposition"], closed["notes"]) == (
        "closed",
        "resolved",
        "fixed before restart",
    )
    c.act("bob", "B", "end")
    desk = c.act("bob", "B", "wrapup", disposition="follow_up")
    assert (desk["status"], desk["reason"], desk["contacts"]) == ("paused", "break", [])
    assert [c.detail(q)["status"] for q in ("Q1", "Q2", "Q3")] == ["queued"] * 3

    # ann frees a slot: the longest-waiting chat is offered to her and she takes it
    c.act("ann", "A", "end")
    desk = c.act("ann", "A", "wrapup", disposition="resolved")
    assert [(x["label"], x["status"]) for x in _labelled(c, desk)] == [
        ("R", "active"),
        ("Q1", "ringing"),
    ]
    c.act("ann", "Q1", "accept")
    hello = c.say("ann", "Q1", "Q1: thanks for waiting")
    answer = c.say("customer", "Q1", "Q1: finally!")
    q1 = c.view("Q1")
    assert (q1["status"], q1["agent_name"]) == ("active", "Ann")
    _check_transcript("Q1", q1["messages"], [*want["Q1"], hello, answer], maybe["Q1"])

    # cid comes back from lunch: the other two go to her (capacity 2)
    desk = c["cid"].ok("POST", "/api/desk/unpause")
    assert [(x["label"], x["status"]) for x in _labelled(c, desk)] == [
        ("Q2", "ringing"),
        ("Q3", "ringing"),
    ]
    c.act("cid", "Q2", "accept")
    c.act("cid", "Q3", "accept")

    final = c["manager"].ok("GET", "/api/wallboard")
    support = _queue(final, "support")
    assert (support["offered_today"], support["answered_today"], support["waiting"]) == (7, 7, 0)
    assert (support["abandoned_today"], support["timed_out_today"]) == (0, 0)
    assert _agents(final) == {
        "ann": ("on_contact", None, 2),
        "bob": ("paused", "break", 0),
        "cid": ("on_contact", None, 2),
    }
    assert "Traceback" not in c.server.log()


def _labelled(c: Center, desk: dict[str, Any]) -> list[dict[str, Any]]:
    """A desk's contacts with the test's label of each chat added."""
    label_of = {chat.id: label for label, chat in c.chats.items()}
    return [{**x, "label": label_of[x["id"]]} for x in desk["contacts"]]
