"""The customer chat API against a real server: lifecycle, event log, tokens, CSAT, pushes.

One server for the module (a start costs seconds); every test ends its chats and logs
its agents out (the autouse ``tidy`` fixture), so tests do not see each other's work.
Times are checked against the event log in the SQLite file: the contact row's times must
be exactly the times of its events, and the durations the router wrote must be the
differences of those times.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session
from tests.support.seed import AGENTS, seed
from tests.support.server import Client, LiveServer
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from callcenter.storage.db import make_engine
from callcenter.storage.tables import BusinessHours, QueueRow


@dataclass
class Env:
    server: LiveServer
    db: Path
    closed_hour: int  # the "night" queue opens daily at this UTC hour, for one hour
    clients: dict[str, Client] = field(default_factory=dict)
    chats: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def agent(self, name: str) -> Client:
        if name not in self.clients:
            self.clients[name] = self.server.client(name)
        return self.clients[name]

    def start(self, queue: str = "support", **body: Any) -> tuple[str, dict[str, str]]:
        """Start a chat as a customer; returns (contact id, token header)."""
        with self.server.client() as c:
            r = c.post("/api/chat/start", json={"queue": queue, "name": "Carol", **body})
        assert r.status_code == 201, r.text
        out = r.json()
        chat = (out["contact_id"], {"X-Chat-Token": out["token"]})
        self.chats.append(chat)
        return chat

    def sql(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(self.db)) as conn:
            return conn.execute(query, args).fetchall()


def _add_queues(url: str) -> int:
    """A voice queue, an inactive chat queue and a chat queue open one hour a day, starting
    three hours from now (UTC) — closed while the tests run."""
    hour = (dt.datetime.now(dt.UTC).hour + 3) % 24
    end = "24:00" if hour == 23 else f"{hour + 1:02d}:00"
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    engine = make_engine(url)
    try:
        with Session(engine) as s, s.begin():
            hours = BusinessHours(
                name="late", timezone="UTC", weekly={d: [[f"{hour:02d}:00", end]] for d in days}
            )
            s.add(hours)
            s.flush()
            s.add_all(
                [
                    QueueRow(name="phone", channel="voice"),
                    QueueRow(name="old", channel="chat", active=False),
                    QueueRow(name="night", channel="chat", business_hours_id=hours.id),
                ]
            )
    finally:
        engine.dispose()
    return hour


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("chat")
    db = tmp / "center.db"
    url = f"sqlite:///{db}"
    seed(url)
    hour = _add_queues(url)
    server = LiveServer(db_url=url, workdir=tmp)
    server.start()
    e = Env(server, db, hour)
    try:
        yield e
    finally:
        for c in e.clients.values():
            c.close()
        server.stop()


@pytest.fixture(autouse=True)
def tidy(env: Env) -> Iterator[None]:
    """After each test: customers leave their chats, agents finish wrap-ups and log out."""
    yield
    with env.server.client() as c:
        for cid, headers in env.chats:
            c.post(f"/api/chat/{cid}/end", headers=headers)  # 409 if already ended: fine
    env.chats.clear()
    for name in AGENTS:
        a = env.agent(name)
        for contact in a.ok("GET", "/api/desk")["contacts"]:
            if contact["status"] == "wrapup":
                a.ok(
                    "POST",
                    f"/api/desk/contacts/{contact['id']}/wrapup",
                    json={"disposition": "resolved"},
                )
        if a.ok("GET", "/api/desk")["status"] != "logged_out":
            a.ok("POST", "/api/desk/logout")


@pytest.fixture
def cust(env: Env) -> Iterator[Client]:
    """An anonymous client: the customer's browser."""
    with env.server.client() as c:
        yield c


def _err(r: Any, status: int) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}
    return str(body["error"]["message"])


# --------------------------------------------------------------------------- lifecycle


def test_lifecycle_statuses_times_and_event_log(env: Env, cust: Client) -> None:
    cid, tok = env.start(name="Carol Jones", email="Carol@Example.COM", message="My order is late")
    chat = cust.get(f"/api/chat/{cid}", headers=tok).json()
    assert chat["status"] == "queued" and chat["agent_name"] is None and not chat["ended"]
    assert [(m["sender"], m["body"]) for m in chat["messages"]] == [
        ("customer", "My order is late")
    ]
    # the customer may write while waiting
    assert (
        cust.post(
            f"/api/chat/{cid}/messages", json={"body": " Order 1234 "}, headers=tok
        ).status_code
        == 201
    )

    ann = env.agent("ann")
    desk = ann.ok("POST", "/api/desk/login")  # the waiting chat is offered at once
    (offer,) = desk["contacts"]
    assert offer["id"] == cid and offer["status"] == "ringing" and offer["queue"] == "support"
    assert (
        offer["customer_name"] == "Carol Jones" and offer["customer_email"] == "carol@example.com"
    )
    assert offer["ring_deadline"] == pytest.approx(offer["offered_at"] + 30.0)  # seed: 30 s
    chat = cust.get(f"/api/chat/{cid}", headers=tok).json()
    assert chat["status"] == "ringing" and chat["agent_name"] is None  # not named until taken

    desk = ann.ok("POST", f"/api/desk/contacts/{cid}/accept")
    assert desk["activity"] == "on_contact" and desk["contacts"][0]["status"] == "active"
    chat = cust.get(f"/api/chat/{cid}", headers=tok).json()
    assert chat["status"] == "active" and chat["agent_name"] == "Ann"
    sent = ann.ok("POST", f"/api/desk/contacts/{cid}/messages", json={"body": "Let me check"})
    assert sent["sender"] == "agent" and sent["agent_name"] == "Ann"

    desk = ann.ok("POST", f"/api/desk/contacts/{cid}/end")
    (mine,) = desk["contacts"]
    assert mine["status"] == "wrapup" and mine["acw_since"] == mine["ended_at"]
    chat = cust.get(f"/api/chat/{cid}", headers=tok).json()
    assert chat["status"] == "wrapup" and chat["ended"]
    r = cust.post(f"/api/chat/{cid}/messages", json={"body": "hello?"}, headers=tok)
    assert _err(r, 409) == f"chat {cid!r} has ended (wrapup); it takes no messages"

    desk = ann.ok(
        "POST",
        f"/api/desk/contacts/{cid}/wrapup",
        json={"disposition": "resolved", "notes": "refund sent"},
    )
    assert desk["contacts"] == [] and desk["activity"] == "available"
    rated = cust.post(f"/api/chat/{cid}/csat", json={"score": 4, "comment": " quick "}, headers=tok)
    assert rated.status_code == 200 and rated.json()["csat"] == 4

    # --- the SQLite file: events in order, row times = event times, durations = differences
    ev = env.sql(
        "SELECT type, t, agent, queue, wait, ring, talk, acw, by, caller, channel FROM events"
        " WHERE contact = ? ORDER BY id",
        cid,
    )
    assert [e[0] for e in ev] == ["arrive", "enqueue", "offer", "connect", "complete", "wrapup_end"]
    t = {e[0]: e[1] for e in ev}
    arrive, _, offer_e, connect_e, complete, wrapup_end = ev
    assert arrive[9:] == ("carol@example.com", "chat")
    assert t["arrive"] == t["enqueue"] < t["offer"] < t["connect"] < t["complete"] < t["wrapup_end"]
    (login_t,) = env.sql("SELECT max(t) FROM events WHERE type = 'agent_login' AND agent = 'ann'")[
        0
    ]
    assert t["offer"] == login_t  # the waiting chat went to ann the moment she logged in
    assert all(e[2] == "ann" for e in (offer_e, connect_e, complete, wrapup_end))
    assert offer_e[4] == pytest.approx(t["offer"] - t["enqueue"])
    assert connect_e[4] == pytest.approx(t["connect"] - t["enqueue"])  # wait: queue + ring
    assert connect_e[5] == pytest.approx(t["connect"] - t["offer"])  # ring
    assert complete[6] == pytest.approx(t["complete"] - t["connect"]) and complete[8] == "agent"
    assert wrapup_end[7] == pytest.approx(t["wrapup_end"] - t["complete"])  # acw
    (row,) = env.sql(
        "SELECT status, queue, agent, arrived_at, enqueued_at, offered_at, answered_at, ended_at,"
        " closed_at, disposition,"
        " (SELECT group_concat(body) FROM contact_notes n WHERE n.contact_id = contacts.id),"
        " csat, csat_comment, customer_token_hash, channel"
        " FROM contacts WHERE id = ?",
        cid,
    )
    assert row[:3] == ("closed", "support", "ann")
    assert row[3:9] == (
        t["arrive"],
        t["enqueue"],
        t["offer"],
        t["connect"],
        t["complete"],
        t["wrapup_end"],
    )
    assert row[9:13] == ("resolved", "refund sent", 4, "quick")
    assert row[13] == hashlib.sha256(tok["X-Chat-Token"].encode()).hexdigest()
    assert row[14] == "chat"
    msgs = env.sql(
        "SELECT sender, agent, body, t FROM messages WHERE contact_id = ? ORDER BY id", cid
    )
    assert [m[:3] for m in msgs] == [
        ("customer", None, "My order is late"),
        ("customer", None, "Order 1234"),
        ("agent", "ann", "Let me check"),
        ("system", None, "Ann ended the chat."),
    ]
    assert msgs[0][3] == t["arrive"] and msgs[3][3] == t["complete"]
    assert t["enqueue"] < msgs[1][3] < t["offer"] and t["connect"] < msgs[2][3] < t["complete"]
    assert env.sql("SELECT agent FROM contact_agents WHERE contact_id = ?", cid) == [("ann",)]
    # the same customer comes back (e-mail in another case): recognised, not duplicated
    cid2, _ = env.start(name="C. Jones", email="carol@example.com")
    ids = env.sql("SELECT DISTINCT customer_id FROM contacts WHERE id IN (?, ?)", cid, cid2)
    assert len(ids) == 1
    assert env.sql("SELECT name, email FROM customers WHERE id = ?", ids[0][0]) == [
        ("Carol Jones", "carol@example.com")
    ]


def test_customer_ends_while_queued_ringing_and_talking(env: Env, cust: Client) -> None:
    # queued: abandon
    cid, tok = env.start(message="anyone?")
    r = cust.post(f"/api/chat/{cid}/end", headers=tok)
    assert r.status_code == 200 and r.json() == {"contact_id": cid, "status": "abandoned"}
    assert _err(cust.post(f"/api/chat/{cid}/end", headers=tok), 409) == (
        f"chat {cid!r} has already ended (abandoned)"
    )
    types = [e[0] for e in env.sql("SELECT type FROM events WHERE contact = ? ORDER BY id", cid)]
    assert types == ["arrive", "enqueue", "abandon"]
    # ringing at ann: abandon, ann's desk is empty again
    ann = env.agent("ann")
    ann.ok("POST", "/api/desk/login")
    cid, tok = env.start()
    assert ann.ok("GET", "/api/desk")["contacts"][0]["status"] == "ringing"
    assert cust.post(f"/api/chat/{cid}/end", headers=tok).json()["status"] == "abandoned"
    desk = ann.ok("GET", "/api/desk")
    assert desk["contacts"] == [] and desk["activity"] == "available"
    # talking: hangup by the caller, the agent is left in wrap-up
    cid, tok = env.start()
    ann.ok("POST", f"/api/desk/contacts/{cid}/accept")
    assert cust.post(f"/api/chat/{cid}/end", headers=tok).json()["status"] == "wrapup"
    (c,) = ann.ok("GET", "/api/desk")["contacts"]
    assert c["status"] == "wrapup" and c["messages"][-1]["body"] == "The customer left the chat."
    (by,) = env.sql("SELECT by FROM events WHERE contact = ? AND type = 'complete'", cid)
    assert by == ("caller",)


# --------------------------------------------------------------------------- errors


def test_start_refuses_bad_input_with_clear_messages(env: Env, cust: Client) -> None:
    c = cust

    def start(**body: Any) -> Any:
        return c.post("/api/chat/start", json={"queue": "support", "name": "Carol", **body})

    assert _err(start(queue="nope"), 404) == "no queue 'nope'"
    assert _err(start(queue="old"), 409) == "queue 'old' is not taking contacts (it is inactive)"
    assert (
        _err(start(queue="phone"), 422) == "queue: 'phone' is a voice queue; expected a chat queue"
    )
    assert _err(start(name="   "), 422) == "name: must not be empty"
    assert (
        _err(start(message="x" * 4001), 422)
        == "message: 4001 characters is too long (at most 4000)"
    )
    assert _err(start(email="carol@"), 422) == (
        "email 'carol@' is not a valid e-mail address (expected name@domain.tld)"
    )
    assert _err(start(phone="12"), 422).startswith("phone '12' is not a valid phone number")
    assert _err(c.post("/api/chat/start", json={"name": "Carol"}), 422) == "queue: Field required"
    # nothing of the refused starts reached the engine or the database
    assert env.sql("SELECT count(*) FROM contacts") == env.sql(
        "SELECT count(DISTINCT contact) FROM events WHERE type = 'arrive'"
    )


def test_closed_queue_names_its_hours_and_next_opening(env: Env) -> None:
    h = env.closed_hour
    end = "24:00" if h == 23 else f"{h + 1:02d}:00"
    now = dt.datetime.now(dt.UTC)
    nxt = now.replace(hour=h, minute=0, second=0, microsecond=0)
    if nxt <= now:
        nxt += dt.timedelta(days=1)
    with env.server.client() as c:
        r = c.post("/api/chat/start", json={"queue": "night", "name": "Night Owl"})
        assert _err(r, 409) == (
            f"queue 'night' is closed now; opening hours: Mon-Sun {h:02d}:00-{end} (UTC); "
            f"it opens again {nxt:%a %Y-%m-%d %H:%M} (UTC)"
        )
        av = c.get("/api/chat/availability", params={"queue": "night"}).json()
        assert av == {
            "queue": "night",
            "open": False,
            "hours": f"Mon-Sun {h:02d}:00-{end} (UTC)",
            "next_open": nxt.timestamp(),
        }
        av = c.get("/api/chat/availability", params={"queue": "support"}).json()
        assert av["open"] and av["hours"] == "always open"
        assert _err(c.get("/api/chat/availability", params={"queue": "phone"}), 404) == (
            "no chat queue 'phone'"
        )


def test_chat_token_is_required_and_checked(env: Env, cust: Client) -> None:
    cid, tok = env.start(message="secret stuff")
    other, other_tok = env.start()
    c = cust
    assert _err(c.get(f"/api/chat/{cid}"), 401) == "send the chat token in the X-Chat-Token header"
    assert (
        _err(c.get(f"/api/chat/{cid}", headers={"X-Chat-Token": "guess"}), 404)
        == f"no chat {cid!r}"
    )
    assert _err(c.get(f"/api/chat/{cid}", headers=other_tok), 404) == f"no chat {cid!r}"
    assert (
        _err(c.get("/api/chat/chat-000000000000", headers=tok), 404)
        == "no chat 'chat-000000000000'"
    )
    for path in ("messages", "end", "csat"):
        body = {"body": "x"} if path == "messages" else {"score": 3}
        r = c.post(f"/api/chat/{cid}/{path}", json=body, headers=other_tok)
        assert _err(r, 404) == f"no chat {cid!r}"
    r = c.post(f"/api/chat/{cid}/messages", json={"body": "  "}, headers=tok)
    assert _err(r, 422) == "body: must not be empty"
    r = c.post(f"/api/chat/{cid}/messages", json={"body": "y" * 4001}, headers=tok)
    assert _err(r, 422) == "body: 4001 characters is too long (at most 4000)"
    assert (
        c.post(f"/api/chat/{cid}/messages", json={"body": "y" * 4000}, headers=tok).status_code
        == 201
    )
    # the WebSocket checks the token too: 4404 for a wrong one
    url = f"{env.server.ws_url}/ws/chat/{cid}?token={other_tok['X-Chat-Token']}"
    with connect(url) as ws, pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404
    assert other  # started only for its token


def test_csat_once_and_only_after_the_end(env: Env, cust: Client) -> None:
    c = cust
    cid, tok = env.start()
    r = c.post(f"/api/chat/{cid}/csat", json={"score": 5}, headers=tok)
    assert _err(r, 409) == f"chat {cid!r} has not ended yet; rate it after it ends"
    c.post(f"/api/chat/{cid}/end", headers=tok)
    assert _err(c.post(f"/api/chat/{cid}/csat", json={"score": 0}, headers=tok), 422) == (
        "score: Input should be greater than or equal to 1"
    )
    assert _err(c.post(f"/api/chat/{cid}/csat", json={"score": 6}, headers=tok), 422) == (
        "score: Input should be less than or equal to 5"
    )
    r = c.post(f"/api/chat/{cid}/csat", json={"score": 1, "comment": "nobody came"}, headers=tok)
    assert r.status_code == 200 and r.json()["csat"] == 1
    r = c.post(f"/api/chat/{cid}/csat", json={"score": 5}, headers=tok)
    assert _err(r, 409) == f"chat {cid!r} was already rated (1)"
    assert env.sql("SELECT csat, csat_comment FROM contacts WHERE id = ?", cid) == [
        (1, "nobody came")
    ]


# --------------------------------------------------------------------------- pushes, CORS, page


def test_widget_socket_gets_status_and_messages(env: Env, cust: Client) -> None:
    cid, tok = env.start()
    ann = env.agent("ann")
    with connect(f"{env.server.ws_url}/ws/chat/{cid}?token={tok['X-Chat-Token']}") as ws:
        assert ws.recv(timeout=5) == f'{{"type":"hello","contact_id":"{cid}"}}'
        ann.ok("POST", "/api/desk/login")
        assert json.loads(ws.recv(timeout=5)) == {
            "type": "status",
            "status": "ringing",
            "agent_name": None,
        }
        ann.ok("POST", f"/api/desk/contacts/{cid}/accept")
        assert json.loads(ws.recv(timeout=5)) == {
            "type": "status",
            "status": "active",
            "agent_name": "Ann",
        }
        sent = ann.ok(
            "POST", f"/api/desk/contacts/{cid}/messages", json={"body": "Hi <b>there</b>"}
        )
        assert json.loads(ws.recv(timeout=5)) == {"type": "message", "message": sent}
        mine = cust.post(f"/api/chat/{cid}/messages", json={"body": "thanks"}, headers=tok).json()
        assert json.loads(ws.recv(timeout=5)) == {"type": "message", "message": mine}


def test_cors_for_a_widget_on_another_site(env: Env, cust: Client) -> None:
    c = cust
    pre = c.options(
        "/api/chat/start",
        headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"},
    )
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == "*"
    assert "X-Chat-Token" in pre.headers["access-control-allow-headers"]
    # errors carry the header too, so the widget can show the message
    r = c.post(
        "/api/chat/start",
        json={"queue": "nope", "name": "x"},
        headers={"Origin": "https://shop.example"},
    )
    assert r.status_code == 404 and r.headers["access-control-allow-origin"] == "*"
    r = c.post("/api/chat/start", json={}, headers={"Origin": "https://shop.example"})
    assert r.status_code == 422 and r.headers["access-control-allow-origin"] == "*"
    # the signed-in API does not answer other origins
    assert "access-control-allow-origin" not in c.get("/api/health").headers


def test_chat_page_hosts_the_widget(env: Env, cust: Client) -> None:
    c = cust
    r = c.get("/chat", params={"queue": 'support"><script>alert(1)</script>'})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "/static/widget.js" in r.text
    assert "<script>alert(1)" not in r.text and "&lt;script&gt;" in r.text
    assert c.get("/static/widget.js").status_code == 200
