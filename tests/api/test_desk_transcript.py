"""Long transcripts travel in pages (issue 14, item 6): ``GET /api/desk`` and the
customer's ``GET /api/chat/{id}`` send a contact's newest 200 lines and say whether
earlier ones exist; ``GET /api/desk/contacts/{id}/messages?before=`` pages back through
the rest, for the agents who held the contact only.  Checked on a real server against a
transcript of 1,001 lines written straight into its database."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from typing import Any, Final

from tests.support.server import LiveServer

LINES: Final = 1001
RECENT: Final = 200  # live/chat/records.py RECENT_LINES
PAGE: Final = 500  # live/chat/records.py MAX_PAGE


def _bodies(messages: list[dict[str, Any]]) -> list[str]:
    return [m["body"] for m in messages]


def _lines(first: int, last: int) -> list[str]:
    return [f"line {n}" for n in range(first, last + 1)]


def test_the_desk_sends_the_newest_lines_and_pages_back(live_server: LiveServer) -> None:
    server = live_server
    with server.client() as anon:
        started = anon.ok(
            "POST", "/api/chat/start", json={"queue": "support", "name": "Lo", "message": "line 1"}
        )
    cid, token = started["contact_id"], {"X-Chat-Token": started["token"]}
    ann, bob = server.client("ann"), server.client("bob")
    ann.ok("POST", "/api/desk/login")
    ann.ok("POST", f"/api/desk/contacts/{cid}/accept")
    with closing(sqlite3.connect(server.db_url.removeprefix("sqlite:///"), timeout=30)) as db:
        db.executemany(
            "INSERT INTO messages (contact_id, t, sender, agent, body) VALUES (?, ?, ?, ?, ?)",
            [(cid, time.time(), "customer", None, f"line {n}") for n in range(2, LINES + 1)],
        )
        db.commit()

    (contact,) = ann.ok("GET", "/api/desk")["contacts"]
    assert _bodies(contact["messages"]) == _lines(LINES - RECENT + 1, LINES)  # 802..1001
    assert contact["earlier"] is True
    with server.client() as anon:  # the customer's widget gets the same newest lines
        view = anon.ok("GET", f"/api/chat/{cid}", headers=token)
    assert _bodies(view["messages"]) == _lines(LINES - RECENT + 1, LINES)
    assert view["earlier"] is True

    # page back: 500 before line 802 (302..801), then the 301 left (1..301), then no more
    first_id = contact["messages"][0]["id"]
    page = ann.ok("GET", f"/api/desk/contacts/{cid}/messages", params={"before": first_id})
    assert _bodies(page["messages"]) == _lines(LINES - RECENT - PAGE + 1, LINES - RECENT)
    assert page["earlier"] is True
    before = page["messages"][0]["id"]
    page = ann.ok("GET", f"/api/desk/contacts/{cid}/messages", params={"before": before})
    assert _bodies(page["messages"]) == _lines(1, LINES - RECENT - PAGE)
    assert page["earlier"] is False
    few = ann.ok(
        "GET", f"/api/desk/contacts/{cid}/messages", params={"before": first_id, "limit": 3}
    )
    assert _bodies(few["messages"]) == _lines(799, 801) and few["earlier"] is True

    # bad input and other agents
    for params, message in (
        ({"before": first_id, "limit": 0}, "limit: Input should be greater than or equal to 1"),
        ({"before": first_id, "limit": 501}, "limit: Input should be less than or equal to 500"),
        ({"before": "x"}, "before: Input should be a valid integer"),
        ({}, "before: Field required"),
    ):  # fmt: skip
        r = ann.get(f"/api/desk/contacts/{cid}/messages", params=params)
        assert r.status_code == 422 and message in r.json()["error"]["message"], r.text
    r = bob.get(f"/api/desk/contacts/{cid}/messages", params={"before": first_id})
    assert r.status_code == 404 and r.json()["error"]["message"] == f"no contact {cid!r}"
    ann.close()
    bob.close()
