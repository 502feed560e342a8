"""``callcenter serve --database postgresql+psycopg://...`` against a real PostgreSQL.

The ``postgres_url`` fixture (``tests/support/fixtures.py``) gives an empty database on a
throw-away PostgreSQL server from Debian's package.  Its URL is given a password (the
test server trusts every local connection, so any password is accepted): it must never
be shown, only ``***``.

1. ``serve`` on the empty database refuses to start: one error line naming the command
   that fixes it, exit status 2, and not a table created;
2. ``callcenter db upgrade --database URL`` migrates it (twice: the second is a no-op);
3. the standard test center is seeded and a real server runs on it: a customer's chat
   goes through the agent's desk (offer, accept, messages both ways, end, wrap-up with
   a disposition), the customer rates it, the CRM shows it in the customer's history,
   the wallboard counts it; a second chat of the same customer (e-mail in another case)
   shows it as the possible match and is linked to it; a third waits in the queue;
4. the server is killed (SIGKILL) and started again on the same database: the closed,
   the active and the queued chat, the desks, the CRM and the wallboard are as before,
   and the queued chat is offered to the agent when she frees up.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any, Final

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from tests.support.seed import seed
from tests.support.server import Client, LiveServer, free_port

from callcenter.storage.db import head_revision, make_engine
from callcenter.storage.tables import ContactRow, EngineCommand

pytestmark = pytest.mark.slow

PG_PASSWORD: Final = "pg-secret-4242"


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _tables_and_counts(url: str) -> tuple[list[str], int, int]:
    """(tables, contacts, engine commands) straight from the database."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            tables = sorted(inspect(conn).get_table_names())
        if "contacts" not in tables:
            return tables, 0, 0
        with Session(engine) as s:
            contacts = s.scalar(select(func.count()).select_from(ContactRow)) or 0
            commands = s.scalar(select(func.count()).select_from(EngineCommand)) or 0
        return tables, contacts, commands
    finally:
        engine.dispose()


def _start_chat(server: LiveServer, name: str, email: str, message: str) -> tuple[str, Client]:
    """A customer starts a chat: (contact id, the customer's client with its token)."""
    cust = server.client()
    r = cust.post(
        "/api/chat/start",
        json={"queue": "support", "name": name, "email": email, "message": message},
    )
    assert r.status_code == 201, r.text
    cust.headers["X-Chat-Token"] = r.json()["token"]
    return r.json()["contact_id"], cust


def _support(board: dict[str, Any]) -> tuple[int, int, int, int]:
    (q,) = [q for q in board["queues"] if q["name"] == "support"]
    return q["offered_today"], q["answered_today"], q["abandoned_today"], q["waiting"]


def _agents(board: dict[str, Any]) -> dict[str, tuple[str, str | None, int]]:
    return {a["name"]: (a["status"], a["reason"], a["contacts"]) for a in board["agents"]}


def _transcript(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(m["sender"], m["body"]) for m in messages]


def test_serve_on_postgresql_from_empty_database_to_restart(
    postgres_url: str, tmp_path: Path
) -> None:
    url = make_url(postgres_url).set(password=PG_PASSWORD).render_as_string(hide_password=False)
    shown = make_url(url).render_as_string(hide_password=True)
    assert url.startswith("postgresql+psycopg://") and ":***@" in shown

    # ------------------------------------------------------------ 1. not migrated: refused
    r = _cli("serve", "--database", url, "--port", str(free_port()), cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.splitlines() == [
        f"error: database {shown} has no callcenter tables yet; "
        f"run: callcenter db upgrade --database {shown}"
    ]
    assert "Traceback" not in r.stdout + r.stderr
    assert PG_PASSWORD not in r.stdout + r.stderr
    assert _tables_and_counts(url) == ([], 0, 0)  # serve created nothing
    assert not (tmp_path / "callcenter.db").exists()  # nor fell back to SQLite

    # ------------------------------------------------------------ 2. migrated by the CLI
    for _ in range(2):
        r = _cli("db", "upgrade", "--database", url, cwd=tmp_path)
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout.splitlines() == [
            f"database {shown} is at schema revision {head_revision()}"
        ]
        assert PG_PASSWORD not in r.stdout + r.stderr
    tables, _, _ = _tables_and_counts(url)
    assert {"alembic_version", "contacts", "engine_commands", "events", "users"} <= set(tables)

    # ------------------------------------------------------------ 3. a real flow
    seed(url, capacity=1)  # seed's own upgrade finds the schema current
    server = LiveServer(db_url=url, workdir=tmp_path)
    server.start()
    users: dict[str, Client] = {}
    customers: list[Client] = []
    try:
        users = {name: server.client(name) for name in ("ann", "bob", "manager")}
        ann, bob, manager = users["ann"], users["bob"], users["manager"]
        assert _support(manager.ok("GET", "/api/wallboard")) == (0, 0, 0, 0)

        c1, carol = _start_chat(server, "Carol Jones", "carol@example.com", "Where is my parcel?")
        customers.append(carol)
        assert carol.ok("GET", f"/api/chat/{c1}")["status"] == "queued"  # nobody logged in
        desk = ann.ok("POST", "/api/desk/login")
        assert [(x["id"], x["status"]) for x in desk["contacts"]] == [(c1, "ringing")]
        desk = ann.ok("POST", f"/api/desk/contacts/{c1}/accept")
        assert desk["activity"] == "on_contact"
        ann.ok("POST", f"/api/desk/contacts/{c1}/link", json={"new_customer": True})  # a claim
        ann.ok("POST", f"/api/desk/contacts/{c1}/messages", json={"body": "It ships today."})
        carol.ok("POST", f"/api/chat/{c1}/messages", json={"body": "Great, thanks!"})
        assert ann.ok("POST", f"/api/desk/contacts/{c1}/end")["contacts"][0]["status"] == "wrapup"
        desk = ann.ok(
            "POST",
            f"/api/desk/contacts/{c1}/wrapup",
            json={"disposition": "resolved", "notes": "parcel ships today"},
        )
        assert (desk["activity"], desk["contacts"]) == ("available", [])
        view = carol.ok("POST", f"/api/chat/{c1}/csat", json={"score": 5, "comment": "quick"})
        assert (view["status"], view["agent_name"], view["csat"], view["ended"]) == (
            "closed",
            "Ann",
            5,
            True,
        )
        transcript1 = [
            ("customer", "Where is my parcel?"),
            ("agent", "It ships today."),
            ("customer", "Great, thanks!"),
            ("system", "Ann ended the chat."),
        ]
        assert _transcript(view["messages"]) == transcript1

        # the CRM: the contact with its outcome, on the customer's card
        detail = manager.ok("GET", f"/api/contacts/{c1}")
        assert (detail["status"], detail["agent"], detail["agents"]) == ("closed", "ann", ["ann"])
        assert (detail["disposition"], detail["notes"], detail["csat"]) == (
            "resolved",
            "parcel ships today",
            5,
        )
        assert detail["customer"]["name"] == "Carol Jones"
        assert _transcript(detail["messages"]) == transcript1
        carol_id = detail["customer_id"]
        (row,) = ann.ok("GET", f"/api/customers/{carol_id}/card")["history"]
        assert (row["id"], row["status"], row["disposition"], row["agent"], row["csat"]) == (
            c1,
            "closed",
            "resolved",
            "ann",
            5,
        )
        assert row["mine"] and row["visible"]
        found = ann.ok("GET", "/api/search", params={"q": "carol"})
        assert [x["id"] for x in found["customers"]] == [carol_id]
        board = manager.ok("GET", "/api/wallboard")
        assert _support(board)[:3] == (1, 1, 0)
        chats = next(x for x in board["channels"] if x["channel"] == "chat")
        assert (chats["offered_today"], chats["answered_today"]) == (1, 1)  # carol's chat

        # work in flight for the restart: an active chat, a queued one, a paused agent
        c2, carol2 = _start_chat(server, "Carol J.", "CAROL@Example.com", "One more thing")
        customers.append(carol2)
        ann.ok("POST", f"/api/desk/contacts/{c2}/accept")
        ann.ok("POST", f"/api/desk/contacts/{c2}/messages", json={"body": "Yes?"})
        carol2.ok("POST", f"/api/chat/{c2}/messages", json={"body": "Gift wrap, please."})
        bob.ok("POST", "/api/desk/login")  # nothing waits: he gets nothing, then pauses
        bob.ok("POST", "/api/desk/pause", json={"reason": "break"})
        c3, dan = _start_chat(server, "Dan Brown", "dan@example.com", "Hello?")
        customers.append(dan)
        dan.ok("POST", f"/api/chat/{c3}/messages", json={"body": "Anyone there?"})

        # the same e-mail again (another case) is a claim: shown as a possible match of
        # Carol, linked when ann links it
        (mine,) = [x for x in ann.ok("GET", "/api/desk")["contacts"] if x["id"] == c2]
        assert mine["customer_id"] is None
        assert [(m["customer"]["id"], m["by"]) for m in mine["matches"]] == [(carol_id, ["email"])]
        ann.ok("POST", f"/api/desk/contacts/{c2}/link", json={"customer_id": carol_id})
        assert manager.ok("GET", f"/api/contacts/{c2}")["customer_id"] == carol_id
        states = {c: manager.ok("GET", f"/api/contacts/{c}") for c in (c1, c2, c3)}
        assert [(d["status"], d["agent"]) for d in states.values()] == [
            ("closed", "ann"),
            ("active", "ann"),
            ("queued", None),
        ]
        desks = {name: users[name].ok("GET", "/api/desk") for name in ("ann", "bob")}
        board = manager.ok("GET", "/api/wallboard")
        assert _support(board) == (3, 2, 0, 1)
        assert _agents(board) == {
            "ann": ("on_contact", None, 1),
            "bob": ("paused", "break", 0),
            "cid": ("logged_out", None, 0),
        }
        card = ann.ok("GET", f"/api/customers/{carol_id}/card")
        _, contacts, commands = _tables_and_counts(url)
        assert contacts == 3 and commands > 0  # the server's state is in PostgreSQL

        # ------------------------------------------------------------ 4. crash, restart
        server.stop(kill=True)
        server.start()

        for c, before in states.items():
            assert manager.ok("GET", f"/api/contacts/{c}") == before, c
        for name, before in desks.items():
            assert users[name].ok("GET", "/api/desk") == before, name
        after = manager.ok("GET", "/api/wallboard")
        assert (_support(after), _agents(after)) == (_support(board), _agents(board))
        assert ann.ok("GET", f"/api/customers/{carol_id}/card") == card
        assert _transcript(carol2.ok("GET", f"/api/chat/{c2}")["messages"]) == [
            ("customer", "One more thing"),
            ("agent", "Yes?"),
            ("customer", "Gift wrap, please."),
        ]

        # the center goes on: ann finishes c2, the queued c3 is offered to her
        carol2.ok("POST", f"/api/chat/{c2}/messages", json={"body": "Still there?"})
        ann.ok("POST", f"/api/desk/contacts/{c2}/messages", json={"body": "Done, gift wrapped."})
        ann.ok("POST", f"/api/desk/contacts/{c2}/end")
        desk = ann.ok("POST", f"/api/desk/contacts/{c2}/wrapup", json={"disposition": "resolved"})
        assert [(x["id"], x["status"]) for x in desk["contacts"]] == [(c3, "ringing")]
        ann.ok("POST", f"/api/desk/contacts/{c3}/accept")
        ann.ok("POST", f"/api/desk/contacts/{c3}/messages", json={"body": "Sorry for the wait!"})
        view = dan.ok("GET", f"/api/chat/{c3}")
        assert (view["status"], view["agent_name"]) == ("active", "Ann")
        assert _transcript(view["messages"]) == [
            ("customer", "Hello?"),
            ("customer", "Anyone there?"),
            ("agent", "Sorry for the wait!"),
        ]
        history = ann.ok("GET", f"/api/customers/{carol_id}/card")["history"]
        assert sorted((h["id"], h["status"], h["disposition"]) for h in history) == sorted(
            [(c1, "closed", "resolved"), (c2, "closed", "resolved")]
        )
        final = manager.ok("GET", "/api/wallboard")
        assert _support(final) == (3, 3, 0, 0)
        assert _agents(final)["ann"] == ("on_contact", None, 1)
        log = server.log()
        assert "Traceback" not in log and PG_PASSWORD not in log
    finally:
        for client in [*users.values(), *customers]:
            client.close()
        server.stop()
