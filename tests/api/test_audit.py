"""The audit log against a real server: changes by agents and administrators recorded
with who, when, from where and before -> after; failed changes leave nothing; only
administrators and managers read it (JSON and CSV, with filters); notes on a closed
contact are append-only, so the agent who transferred a chat cannot overwrite the final
agent's note.  Expected values are written out by hand."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.seed import seed
from tests.support.server import Client, LiveServer, running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp: Path = tmp_path_factory.mktemp("audit")
    url = f"sqlite:///{tmp / 'center.db'}"
    seed(url)
    with running_server(url, tmp) as srv:
        yield srv


@pytest.fixture(scope="module")
def clients(server: LiveServer) -> Iterator[dict[str, Client]]:
    out = {name: server.client(name) for name in ("admin", "manager", "sue", "quinn", "ann", "bob")}
    try:
        yield out
    finally:
        for c in out.values():
            c.close()


def _audit(c: Client, **params: Any) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = c.ok("GET", "/api/audit", params=params)["entries"]
    return entries


def test_an_email_changed_and_back_is_on_record(clients: dict[str, Client]) -> None:
    ann, manager = clients["ann"], clients["manager"]
    ann_id = ann.ok("GET", "/api/me")["id"]
    t0 = time.time()
    dana = ann.ok("POST", "/api/customers", json={"name": "Dana", "email": "dana@example.com"})
    url = f"/api/customers/{dana['id']}"
    ann.ok("PATCH", url, json={"email": "attacker@evil.example"})
    ann.ok("PATCH", url, json={"email": "Dana@Example.com "})  # stored lower-cased: back
    ann.ok("PATCH", url, json={"email": "dana@example.com"})  # no change: no entry
    t1 = time.time()
    got = _audit(manager, entity="customer", entity_id=str(dana["id"]))
    assert [e["action"] for e in got] == ["customer.update", "customer.update", "customer.create"]
    assert got[0]["changes"] == {"email": ["attacker@evil.example", "dana@example.com"]}
    assert got[1]["changes"] == {"email": ["dana@example.com", "attacker@evil.example"]}
    # a new record: every field set, from None (phone and company stay None: not shown)
    assert got[2]["changes"] == {
        "email": [None, "dana@example.com"],
        "name": [None, "Dana"],
        "notes": [None, ""],
    }
    for e in got:
        assert (e["username"], e["user_id"], e["role"]) == ("ann", ann_id, "agent")
        assert e["address"] == "127.0.0.1"
        assert t0 - 1 <= e["at"] <= t1 + 1
    assert got[0]["id"] > got[1]["id"] > got[2]["id"]  # newest first


def test_a_failed_change_writes_nothing(clients: dict[str, Client]) -> None:
    ann, manager = clients["ann"], clients["manager"]
    eve = ann.ok("POST", "/api/customers", json={"name": "Eve", "email": "eve@example.com"})
    ann.ok("POST", "/api/customers", json={"name": "Fay", "email": "fay@example.com"})
    url = f"/api/customers/{eve['id']}"
    before = _audit(manager, entity="customer", entity_id=str(eve["id"]))
    taken = ann.patch(url, json={"email": "fay@example.com"})  # another customer's: 409
    assert taken.status_code == 409
    bad = ann.patch(url, json={"name": "Eve 2", "email": "not-an-address"})  # 422
    assert bad.status_code == 422
    assert _audit(manager, entity="customer", entity_id=str(eve["id"])) == before
    assert ann.ok("GET", url)["name"] == "Eve"  # and the change itself did not happen


def test_only_admins_and_managers_read_the_log(
    server: LiveServer, clients: dict[str, Client]
) -> None:
    for name in ("ann", "sue", "quinn"):
        for path in ("/api/audit", "/api/audit.csv"):
            r = clients[name].get(path)
            assert r.status_code == 403, (name, path)
            assert r.json()["error"]["message"].endswith("may not do this (audit.read)")
    with server.client() as anonymous:
        assert anonymous.get("/api/audit").status_code == 401
    for name in ("admin", "manager"):
        assert clients[name].get("/api/audit").status_code == 200


def _csv(c: Client, **params: Any) -> list[list[str]]:
    r = c.get("/api/audit.csv", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith("\ufeff".encode())  # a byte-order mark: Excel reads UTF-8
    return list(csv.reader(io.StringIO(r.text.removeprefix("\ufeff"))))


def test_csv_has_a_header_and_guards_formulas(clients: dict[str, Client]) -> None:
    ann, admin = clients["ann"], clients["admin"]
    evil = '=HYPERLINK("http://evil.example","x")'
    row = ann.ok("POST", "/api/customers", json={"name": evil, "company": "@SUM(1)"})
    ann.ok("PATCH", f"/api/customers/{row['id']}", json={"name": "Голнар تست"})
    lines = _csv(admin, entity="customer", entity_id=str(row["id"]))
    assert lines[0] == [
        "id", "time_utc", "username", "user_id", "role", "address",
        "action", "entity", "entity_id", "field", "before", "after",
    ]  # fmt: skip
    body = lines[1:]
    by_field = {(line[6], line[9]): (line[10], line[11]) for line in body}
    assert by_field[("customer.update", "name")] == ("'" + evil, "Голнар تست")
    assert by_field[("customer.create", "name")] == ("", "'" + evil)
    assert by_field[("customer.create", "company")] == ("", "'@SUM(1)")
    assert all(line[2] == "ann" and line[5] == "127.0.0.1" for line in body)
    assert body[0][6] == "customer.update"  # newest first
    assert time.strptime(body[0][1], "%Y-%m-%dT%H:%M:%SZ")


def test_filters_and_paging(clients: dict[str, Client]) -> None:
    ann, bob, manager = clients["ann"], clients["bob"], clients["manager"]
    t0 = time.time()
    mine = ann.ok("POST", "/api/customers", json={"name": "Gil"})
    theirs = bob.ok("POST", "/api/customers", json={"name": "Hal"})
    bob.ok("PATCH", f"/api/customers/{theirs['id']}", json={"company": "Hal & Co"})
    since = {"since": t0 - 0.001}
    assert [e["entity_id"] for e in _audit(manager, actor="bob", **since)] == [
        str(theirs["id"]),
        str(theirs["id"]),
    ]
    ann_new = _audit(manager, actor="ann", action="customer.create", **since)
    assert [e["entity_id"] for e in ann_new] == [str(mine["id"])]
    old = _audit(manager, until=t0, entity="customer")
    assert (
        old
        and all(e["at"] < t0 for e in old)
        and str(mine["id"]) not in {e["entity_id"] for e in old}
    )
    page1 = manager.ok("GET", "/api/audit", params={"limit": 2, **since})
    assert len(page1["entries"]) == 2 and page1["next_before_id"] == page1["entries"][1]["id"]
    page2 = manager.ok(
        "GET", "/api/audit", params={"limit": 2, "before_id": page1["next_before_id"], **since}
    )
    ids = [e["id"] for e in page1["entries"] + page2["entries"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 3
    assert page2["next_before_id"] is None
    bad = manager.get("/api/audit", params={"action": "customer.explode"})
    assert bad.status_code == 422
    assert bad.json()["error"]["message"].startswith(
        "action: 'customer.explode' is not an audit action (expected one of auth.login, "
    )
    span = manager.get("/api/audit.csv", params={"since": 10, "until": 5})
    assert span.status_code == 422
    assert span.json()["error"]["message"] == "until: 5 is not after since (10)"


def test_configuration_users_and_roles_are_on_record(clients: dict[str, Client]) -> None:
    admin = clients["admin"]
    q = admin.ok("POST", "/api/admin/queues", json={"name": "audit-q", "channel": "chat"})
    admin.ok("PATCH", f"/api/admin/queues/{q['id']}", json={"max_wait_s": 600})
    got = _audit(admin, entity="queue", entity_id=str(q["id"]))
    assert [e["action"] for e in got] == ["queue.update", "queue.create"]
    assert got[0]["changes"] == {"max_wait_s": [None, 600.0]}
    assert got[0]["username"] == "admin" and got[0]["role"] == "admin"
    user = admin.ok(
        "POST",
        "/api/users",
        json={"username": "zoe", "password": "a-long-secret-1", "role": "qa"},
    )
    admin.ok("PATCH", f"/api/users/{user['id']}", json={"role": "manager"})
    admin.ok("PATCH", f"/api/users/{user['id']}", json={"password": "another-secret-2"})
    got = _audit(admin, entity="user", entity_id=str(user["id"]))
    assert [e["action"] for e in got] == ["user.password_reset", "user.role", "user.create"]
    assert got[0]["changes"] == {"password_hash": ["(hidden)", "(changed)"]}
    assert got[1]["changes"] == {"role": ["qa", "manager"]}
    assert got[2]["changes"]["password_hash"] == ["(hidden)", "(changed)"]
    text = admin.get("/api/audit.csv", params={"entity": "user"}).text
    assert "$argon2" not in text and "another-secret-2" not in text
    # a team removed with its supervisor: both rows on record
    team = admin.ok("POST", "/api/admin/teams", json={"name": "red", "supervisors": ["sue"]})
    admin.ok("DELETE", f"/api/admin/teams/{team['id']}")
    sue_id = next(u["id"] for u in admin.ok("GET", "/api/users") if u["username"] == "sue")
    link = f"{team['id']}/{sue_id}"
    got = _audit(admin, entity="team_supervisor", entity_id=link)
    assert [e["action"] for e in got] == ["team_supervisor.delete", "team_supervisor.create"]
    assert got[0]["changes"] == {"team_id": [team["id"], None], "user_id": [sue_id, None]}
    got = _audit(admin, entity="team", entity_id=str(team["id"]))
    assert [(e["action"], e["changes"]["name"]) for e in got] == [
        ("team.delete", ["red", None]),
        ("team.create", [None, "red"]),
    ]


# --------------------------------------------------------------------------- notes


def _desk(c: Client) -> dict[str, Any]:
    desk: dict[str, Any] = c.ok("GET", "/api/desk")
    return desk


def _wait_for(c: Client, contact_id: str, status: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if any(x["id"] == contact_id and x["status"] == status for x in _desk(c)["contacts"]):
            return
        time.sleep(0.05)
    raise AssertionError(f"contact {contact_id} never became {status}: {_desk(c)}")


def test_a_transferring_agent_cannot_overwrite_the_final_agents_note(
    server: LiveServer, clients: dict[str, Client]
) -> None:
    ann, bob, manager = clients["ann"], clients["bob"], clients["manager"]
    ann.ok("POST", "/api/desk/login")
    with server.client() as customer:
        started = customer.ok("POST", "/api/chat/start", json={"queue": "support", "name": "Ida"})
    cid = started["contact_id"]
    _wait_for(ann, cid, "ringing")
    ann.ok("POST", f"/api/desk/contacts/{cid}/accept")
    ann.ok("PATCH", f"/api/desk/contacts/{cid}", json={"notes": "ann: wants a refund"})
    bob.ok("POST", "/api/desk/login")
    ann.ok("POST", f"/api/desk/contacts/{cid}/transfer", json={"agent": "bob"})
    _wait_for(bob, cid, "ringing")
    bob.ok("POST", f"/api/desk/contacts/{cid}/accept")
    # while open, bob edits his own note: ann's stays as she wrote it
    bob.ok("PATCH", f"/api/desk/contacts/{cid}", json={"notes": "bob: draft"})
    bob.ok("POST", f"/api/desk/contacts/{cid}/end")
    bob.ok("POST", f"/api/desk/contacts/{cid}/wrapup",
           json={"disposition": "resolved", "notes": "bob: refund sent"})  # fmt: skip
    ann.ok("POST", f"/api/desk/contacts/{cid}/wrapup", json={"disposition": "resolved"})
    ann.ok("POST", "/api/desk/logout")
    bob.ok("POST", "/api/desk/logout")

    # the contact is closed: ann's overwrite is refused, bob's note is intact
    r = ann.patch(f"/api/desk/contacts/{cid}", json={"notes": "nothing happened"})
    assert r.status_code == 409
    assert r.json()["error"]["message"] == (
        f"contact '{cid}' is closed: its notes can no longer be edited; add a new note instead"
    )
    added = ann.ok("POST", f"/api/desk/contacts/{cid}/notes", json={"body": "ann: called back"})
    assert (added["author"], added["body"]) == ("ann", "ann: called back")
    detail = manager.ok("GET", f"/api/contacts/{cid}")
    notes = [(n["author"], n["body"]) for n in detail["note_list"]]
    assert notes == [
        ("ann", "ann: wants a refund"),
        ("bob", "bob: refund sent"),
        ("ann", "[before transfer: resolved]"),
        ("ann", "ann: called back"),
    ]
    assert detail["notes"] == "\n".join(body for _, body in notes)
    # a note of a contact the agent never held: 404, as for no contact
    assert (
        clients["bob"].post("/api/desk/contacts/nope/notes", json={"body": "x"}).status_code == 404
    )
    got = _audit(manager, entity="contact", entity_id=cid)
    assert [(e["username"], e["action"]) for e in reversed(got)] == [
        ("ann", "contact.note_add"),
        ("ann", "contact.transfer"),
        ("bob", "contact.note_add"),
        ("bob", "contact.wrapup"),
        ("bob", "contact.note_edit"),  # the wrap-up's notes: bob's own note, still open
        ("ann", "contact.note_add"),  # ann's wrap-up after the close: a new note
        ("ann", "contact.note_add"),
    ]
    assert got[-2]["changes"] == {"agent": ["ann", "bob"]}
    assert got[-4]["changes"] == {"disposition": [None, "resolved"]}
    assert got[-5]["changes"] == {"note": ["bob: draft", "bob: refund sent"]}
