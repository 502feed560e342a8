"""Chat identity claims against a real server and a real SMTP server (issue 14, item 2).

An anonymous chat that types a customer's e-mail is a *claim*: it changes no customer
record and widens nobody's access; the desk shows the possible match and the agent links
it deliberately, or the customer proves the e-mail with a one-time code mailed through
the configured SMTP server — here ``aiosmtpd`` on 127.0.0.1, and the tests read the code
from the message it received.

The world: the victim (customer V, e-mail ``victim.x@example.com``) was served by cid
(team green) and has a ticket and a follow-up assigned to cid.  ann (team blue) and her
supervisor sue have never dealt with V.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session
from tests.support.seed import AGENTS, seed
from tests.support.server import Client, LiveServer, free_port
from tests.support.smtp import Inbox, smtp_server
from websockets.sync.client import connect

from callcenter.live.mailer import MailUnavailableError, SmtpConfig, send_mail
from callcenter.storage.db import make_engine
from callcenter.storage.tables import ContactAgent, ContactRow, Customer, FollowUp, Ticket

NOW = 1_780_000_000.0
VICTIM = ("Victor Ivanov", "victim.x@example.com", None)  # no phone: a claim must not add one


@dataclass
class World:
    server: LiveServer
    db: Path
    inbox: Inbox
    victim: int
    ticket: int
    follow_up: int
    clients: dict[str, Client] = field(default_factory=dict)
    chats: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def user(self, name: str) -> Client:
        if name not in self.clients:
            self.clients[name] = self.server.client(name)
        return self.clients[name]

    def start(self, **body: Any) -> tuple[str, dict[str, str]]:
        with self.server.client() as c:
            r = c.post("/api/chat/start", json={"queue": "support", **body})
        assert r.status_code == 201, r.text
        out = r.json()
        chat = (out["contact_id"], {"X-Chat-Token": out["token"]})
        self.chats.append(chat)
        return chat

    def sql(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(self.db)) as conn, conn:
            return conn.execute(query, args).fetchall()

    def code_for(self, address: str) -> str:
        return self.inbox.code_for(address)


def _victim_world(db_url: str) -> tuple[int, int, int]:
    engine = make_engine(db_url)
    try:
        with Session(engine) as s, s.begin():
            v = Customer(name=VICTIM[0], email=VICTIM[1], phone=VICTIM[2], company="Acme",
                         notes="VIP", created_at=NOW, updated_at=NOW)  # fmt: skip
            s.add(v)
            s.flush()
            s.add(ContactRow(id="old-cid-1", customer_id=v.id, channel="chat", queue="support",
                             agent="cid", status="closed", subject="old", arrived_at=NOW,
                             disposition="resolved"))  # fmt: skip
            s.flush()
            s.add(ContactAgent(contact_id="old-cid-1", agent="cid"))
            t = Ticket(customer_id=v.id, contact_id="old-cid-1", subject="refund", status="open",
                       priority="normal", sla_due_at=NOW + 3600, assignee="cid",
                       created_by="cid", created_at=NOW, updated_at=NOW)  # fmt: skip
            s.add(t)
            s.flush()
            f = FollowUp(customer_id=v.id, contact_id="old-cid-1", ticket_id=t.id,
                         assignee="cid", due_at=NOW + 7200, note="call back", created_by="cid",
                         created_at=NOW)  # fmt: skip
            s.add(f)
            s.flush()
            return v.id, t.id, f.id
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("claims")
    db = tmp / "center.db"
    url = f"sqlite:///{db}"
    seed(url)
    victim, ticket, follow_up = _victim_world(url)
    with smtp_server() as inbox:
        # the module starts many chats from one address: the start limit is not what it
        # tests (tests/api/test_chat_limits.py does)
        env = inbox.env(CALLCENTER_SMTP_FROM="desk@center.example",
                        CALLCENTER_OTP_MAX_PER_ADDRESS_HOUR="2",
                        CALLCENTER_CHAT_STARTS_BURST="1000")  # fmt: skip
        yield from _serve(url, tmp, inbox, (victim, ticket, follow_up), env)


def _serve(
    url: str, tmp: Path, inbox: Inbox, ids: tuple[int, int, int], env: dict[str, str]
) -> Iterator[World]:
    server = LiveServer(db_url=url, workdir=tmp, env=env)
    server.start()
    w = World(server, Path(url.removeprefix("sqlite:///")), inbox, *ids)
    try:
        yield w
    finally:
        for c in w.clients.values():
            c.close()
        server.stop()


@pytest.fixture(autouse=True)
def tidy(world: World) -> Iterator[None]:
    """After each test: chats left, wrap-ups done, agents logged out."""
    yield
    with world.server.client() as c:
        for cid, headers in world.chats:
            c.post(f"/api/chat/{cid}/end", headers=headers)
    world.chats.clear()
    for name in AGENTS:
        a = world.user(name)
        for contact in a.ok("GET", "/api/desk")["contacts"]:
            if contact["status"] == "wrapup":
                a.ok("POST", f"/api/desk/contacts/{contact['id']}/wrapup",
                     json={"disposition": "resolved"})  # fmt: skip
        if a.ok("GET", "/api/desk")["status"] != "logged_out":
            a.ok("POST", "/api/desk/logout")


def _err(r: Any, status: int) -> str:
    assert r.status_code == status, r.text
    return str(r.json()["error"]["message"])


def _seen(c: Client) -> tuple[list[int], list[int]]:
    """The ticket and follow-up ids a user may see (all of them, open and done)."""
    tickets = c.ok("GET", "/api/tickets?limit=500")["tickets"]
    follow = c.ok("GET", "/api/follow-ups?all=true&limit=500")["follow_ups"]
    return sorted(t["id"] for t in tickets), sorted(f["id"] for f in follow)


def _victim_row(w: World) -> list[tuple[Any, ...]]:
    query = "SELECT name, email, phone, company, notes, updated_at FROM customers WHERE id = ?"
    return w.sql(query, w.victim)


def _audit(w: World, contact_id: str) -> list[dict[str, Any]]:
    """The ``contact.link`` entries of a contact, as an administrator reads them."""
    params = {"action": "contact.link", "entity_id": contact_id}
    return list(w.user("admin").ok("GET", "/api/audit", params=params)["entries"])


def _take(w: World, agent: str, cid: str) -> dict[str, Any]:
    """``agent`` logs in and accepts chat ``cid``; its desk contact."""
    a = w.user(agent)
    if a.ok("GET", "/api/desk")["status"] == "logged_out":
        a.ok("POST", "/api/desk/login")
    desk = a.ok("POST", f"/api/desk/contacts/{cid}/accept")
    (mine,) = [c for c in desk["contacts"] if c["id"] == cid]
    return dict(mine)


# --------------------------------------------------------------------------- claims


def test_a_claim_changes_no_record_widens_nothing_and_shows_the_possible_match(
    world: World,
) -> None:
    w = world
    ann, sue = w.user("ann"), w.user("sue")
    before_row = _victim_row(w)
    assert before_row == [(*VICTIM, "Acme", "VIP", NOW)]
    before = {"ann": _seen(ann), "sue": _seen(sue)}
    assert _seen(w.user("cid")) == ([w.ticket], [w.follow_up])  # they exist: cid's
    assert w.ticket not in before["ann"][0] and w.ticket not in before["sue"][0]
    assert w.follow_up not in before["ann"][1] and w.follow_up not in before["sue"][1]
    # sue may not close the other team's ticket (it is not hers to see)
    assert sue.patch(f"/api/tickets/{w.ticket}", json={"status": "closed"}).status_code == 404

    cid, _tok = w.start(name="Mallory", email="VICTIM.X@example.com ", phone="+1 415 555 0199",
                        message="change my address")  # fmt: skip
    mine = _take(w, "ann", cid)

    # the victim's record is as it was: e-mail, phone, name, everything
    assert _victim_row(w) == before_row
    # the contact holds the claim and no customer
    assert w.sql(
        "SELECT customer_id, claimed_name, claimed_email, claimed_phone, email_verified_at"
        " FROM contacts WHERE id = ?",
        cid,
    ) == [(None, "Mallory", "victim.x@example.com", "+14155550199", None)]
    # the desk shows the claim and the possible match, not the victim as "the customer"
    assert mine["customer_id"] is None and mine["customer_name"] is None
    assert mine["claim"] == {"name": "Mallory", "email": "victim.x@example.com",
                             "phone": "+14155550199", "email_verified": False}  # fmt: skip
    (match,) = mine["matches"]
    assert match["by"] == ["email"]
    assert (match["customer"]["id"], match["customer"]["name"], match["customer"]["email"]) == (
        w.victim, VICTIM[0], VICTIM[1])  # fmt: skip
    # nobody sees more than before: ann's and sue's tickets and follow-ups are unchanged
    assert {"ann": _seen(ann), "sue": _seen(sue)} == before
    assert sue.patch(f"/api/tickets/{w.ticket}", json={"status": "closed"}).status_code == 404
    card = ann.ok("GET", f"/api/customers/{w.victim}/card")
    assert card["tickets"] == [] and card["follow_ups"] == []
    assert [h["visible"] for h in card["history"]] == [False]  # cid's old chat: outcome only

    # ann links it deliberately: now the card is the victim's, with its ticket and follow-up
    desk = ann.ok("POST", f"/api/desk/contacts/{cid}/link", json={"customer_id": w.victim})
    (linked,) = [c for c in desk["contacts"] if c["id"] == cid]
    assert (linked["customer_id"], linked["customer_name"]) == (w.victim, VICTIM[0])
    assert linked["customer_email"] == VICTIM[1] and linked["matches"] == []
    card = ann.ok("GET", f"/api/customers/{w.victim}/card")
    assert [t["id"] for t in card["tickets"]] == [w.ticket]
    assert [f["id"] for f in card["follow_ups"]] == [w.follow_up]
    assert sorted(h["id"] or "" for h in card["history"]) == ["", cid]
    assert _victim_row(w) == before_row  # linking does not touch the record either
    # the link is on record: who, from where, before -> after
    (entry,) = _audit(w, cid)
    assert (entry["username"], entry["role"], entry["address"]) == ("ann", "agent", "127.0.0.1")
    assert entry["changes"] == {"customer_id": [None, w.victim], "how": [None, "agent"]}


def test_new_customer_from_a_claim_and_link_errors(world: World) -> None:
    w = world
    ann, bob = w.user("ann"), w.user("bob")
    cid, _ = w.start(name="Nina Petrova", email="nina@example.lt", phone="+37061234567")
    mine = _take(w, "ann", cid)
    assert mine["matches"] == [] and mine["customer_id"] is None
    assert w.sql("SELECT count(*) FROM customers WHERE email = 'nina@example.lt'") == [(0,)]
    url = f"/api/desk/contacts/{cid}/link"

    assert _err(ann.post(url, json={}), 422) == (
        "give either customer_id or new_customer: true (exactly one)"
    )
    assert _err(ann.post(url, json={"customer_id": 1, "new_customer": True}), 422) == (
        "give either customer_id or new_customer: true (exactly one)"
    )
    assert _err(ann.post(url, json={"customer_id": 999_999}), 404) == "no customer 999999"
    # another agent may not link ann's chat (it is not there for bob)
    bob.ok("POST", "/api/desk/login")
    assert _err(bob.post(url, json={"new_customer": True}), 404) == f"no contact {cid!r}"
    bob.ok("POST", "/api/desk/logout")

    desk = ann.ok("POST", url, json={"new_customer": True})
    (linked,) = [c for c in desk["contacts"] if c["id"] == cid]
    new_id = linked["customer_id"]
    assert w.sql("SELECT name, email, phone FROM customers WHERE id = ?", new_id) == [
        ("Nina Petrova", "nina@example.lt", "+37061234567")
    ]
    # linked stays linked: no second customer, no move to another
    assert _err(ann.post(url, json={"customer_id": w.victim}), 409) == (
        f"contact {cid!r} is already linked to customer {new_id}; it stays with it"
    )
    # a claim of an e-mail that has a customer cannot become a second one
    cid2, _ = w.start(name="Nina P.", email="NINA@example.lt")
    _take(w, "ann", cid2)
    r = ann.post(f"/api/desk/contacts/{cid2}/link", json={"new_customer": True})
    assert _err(r, 409) == (
        f"email 'nina@example.lt' already belongs to customer {new_id}; link the contact to "
        "that customer instead"
    )


# --------------------------------------------------------------------------- one-time codes


def test_code_by_email_proves_the_claim_and_links_the_chat(world: World) -> None:
    w = world
    cid, tok = w.start(name="Victor", email="Victim.X@example.com")
    with w.server.client() as cust:
        assert cust.get(f"/api/chat/{cid}", headers=tok).json()["email_verification"] == (
            "unverified"
        )
        r = cust.post(f"/api/chat/{cid}/verify", headers=tok)
        assert r.status_code == 201, r.text
        assert r.json()["email"] == VICTIM[1] and r.json()["sends_left"] == 2
        (mail,) = w.inbox.to(VICTIM[1])
        assert mail["From"] == "desk@center.example" and mail["To"] == VICTIM[1]
        code = w.code_for(VICTIM[1])
        assert code in str(mail["Subject"])
        # the database keeps no code, only its salted hash
        (stored,) = w.sql("SELECT code_hash, salt FROM claim_codes WHERE contact_id = ?", cid)
        assert code not in stored[0] and len(stored[0]) == 64
        assert stored[0] == hashlib.sha256(f"{stored[1]}:{cid}:{code}".encode()).hexdigest()
        # a wrong one first: refused, the tries left counted down
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        r = cust.post(f"/api/chat/{cid}/verify/confirm", json={"code": wrong}, headers=tok)
        assert _err(r, 422) == "code: wrong code; 4 tries left"
        assert w.sql("SELECT customer_id FROM contacts WHERE id = ?", cid) == [(None,)]
        r = cust.post(f"/api/chat/{cid}/verify/confirm", json={"code": "12ab"}, headers=tok)
        assert _err(r, 422) == "code: '12ab' is not a code (expected the 6 digits from the e-mail)"
        r = cust.post(f"/api/chat/{cid}/verify/confirm", json={"code": code}, headers=tok)
        assert r.status_code == 200 and r.json()["verified"] is True
        assert cust.get(f"/api/chat/{cid}", headers=tok).json()["email_verification"] == (
            "verified"
        )
        # the wrong token proves nothing
        r = cust.post(f"/api/chat/{cid}/verify", headers={"X-Chat-Token": "nope"})
        assert _err(r, 404) == f"no chat {cid!r}"
    (row,) = w.sql("SELECT customer_id, email_verified_at FROM contacts WHERE id = ?", cid)
    assert row[0] == w.victim and row[1] is not None
    (entry,) = _audit(w, cid)  # on record, for the customer (no account) at its address
    assert (entry["username"], entry["role"], entry["address"]) == (
        "customer", "customer", "127.0.0.1")  # fmt: skip
    assert entry["changes"] == {"customer_id": [None, w.victim], "how": [None, "email_code"]}
    assert _victim_row(w)[0][:3] == VICTIM  # proven, linked, and still not rewritten
    mine = _take(w, "ann", cid)
    assert mine["customer_id"] == w.victim and mine["claim"]["email_verified"] is True


def test_a_code_confirmed_mid_chat_makes_the_customer_and_tells_the_desk(world: World) -> None:
    w = world
    address = "pia@example.lt"
    cid, tok = w.start(name="Pia", email=address, phone="+37061234000")
    _take(w, "ann", cid)
    cookie = w.user("ann").cookies.get("cc_session")
    headers = {"Cookie": f"cc_session={cookie}", "Origin": w.server.url}
    with connect(w.server.ws_url + "/ws/desk", additional_headers=headers, proxy=None) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "hello"
        with w.server.client() as cust:
            assert cust.post(f"/api/chat/{cid}/verify", headers=tok).status_code == 201
            body = {"code": w.code_for(address)}
            r = cust.post(f"/api/chat/{cid}/verify/confirm", json=body, headers=tok)
            assert r.status_code == 200, r.text
        pushed = json.loads(ws.recv(timeout=10))
    assert pushed == {"type": "contact", "event": "linked",
                      "contact": {"id": cid, "status": "linked"}}  # fmt: skip
    (mine,) = w.user("ann").ok("GET", "/api/desk")["contacts"]
    # nobody had the address: a new customer, with the claimed name and (free) phone
    assert (mine["customer_name"], mine["customer_email"], mine["customer_phone"]) == (
        "Pia", address, "+37061234000")  # fmt: skip
    assert mine["claim"]["email_verified"] is True


def test_expired_code_too_many_tries_and_resend_limits(world: World) -> None:
    w = world
    address = "olga@example.ru"
    cid, tok = w.start(name="Olga", email=address)
    with w.server.client() as cust:
        assert cust.post(f"/api/chat/{cid}/verify", headers=tok).status_code == 201
        code = w.code_for(address)
        # again at once: 429 with Retry-After (30 s between codes by default)
        r = cust.post(f"/api/chat/{cid}/verify", headers=tok)
        assert r.status_code == 429, r.text
        assert 1 <= int(r.headers["Retry-After"]) <= 30
        assert "ask again in" in r.json()["error"]["message"]
        # expired: the clock moves past the expiry (written into the code's row)
        w.sql("UPDATE claim_codes SET expires_at = sent_at - 1 WHERE contact_id = ?", cid)
        r = cust.post(f"/api/chat/{cid}/verify/confirm", json={"code": code}, headers=tok)
        assert _err(r, 409) == f"chat {cid!r}: the code has expired; ask for a new one"
        # a new code (the resend interval passed): five tries, then 429 even for the right one
        w.sql("UPDATE claim_codes SET sent_at = sent_at - 60 WHERE contact_id = ?", cid)
        assert cust.post(f"/api/chat/{cid}/verify", headers=tok).status_code == 201
        code = w.code_for(address)
        assert len(w.inbox.to(address)) == 2
        wrong = f"{(int(code) + 7) % 1_000_000:06d}"
        said = [
            cust.post(f"/api/chat/{cid}/verify/confirm", json={"code": wrong}, headers=tok)
            for _ in range(5)
        ]
        assert [_err(r, 422) for r in said] == [
            "code: wrong code; 4 tries left",
            "code: wrong code; 3 tries left",
            "code: wrong code; 2 tries left",
            "code: wrong code; 1 tries left",
            "code: wrong code; no tries left, ask for a new one",
        ]
        r = cust.post(f"/api/chat/{cid}/verify/confirm", json={"code": code}, headers=tok)
        assert _err(r, 429) == (f"chat {cid!r}: too many wrong codes (5); ask for a new one")
        assert "Retry-After" not in r.headers
    assert w.sql("SELECT customer_id, email_verified_at FROM contacts WHERE id = ?", cid) == [
        (None, None)
    ]
    assert w.sql("SELECT attempts FROM claim_codes WHERE contact_id = ? ORDER BY id", cid) == [
        (0,),
        (5,),
    ]


def test_codes_to_one_address_are_limited_across_chats(world: World) -> None:
    # the server allows 2 codes an hour to one address (CALLCENTER_OTP_MAX_PER_ADDRESS_HOUR)
    w = world
    address = "target@example.com"
    with w.server.client() as cust:
        for _ in range(2):
            cid, tok = w.start(name="X", email=address)
            assert cust.post(f"/api/chat/{cid}/verify", headers=tok).status_code == 201
        cid, tok = w.start(name="X", email=address)
        r = cust.post(f"/api/chat/{cid}/verify", headers=tok)
        assert r.status_code == 429
        assert r.json()["error"]["message"].startswith(
            "2 codes went to this address in the last hour (at most 2)"
        )
        assert 3500 <= int(r.headers["Retry-After"]) <= 3600
        # a chat that claims no e-mail has nothing to verify
        cid, tok = w.start(name="Y", phone="+14155550100")
        r = cust.post(f"/api/chat/{cid}/verify", headers=tok)
        assert _err(r, 409) == f"chat {cid!r} claims no e-mail address; there is nothing to verify"
    assert len(w.inbox.to(address)) == 2


# --------------------------------------------------------------------------- the mailer


def test_mailer_failures_are_one_clear_error() -> None:
    closed = SmtpConfig("127.0.0.1", free_port(), "none", None, None, "a@b.example", 5.0)
    with pytest.raises(MailUnavailableError, match=r"SMTP server 127\.0\.0\.1:\d+ \(none\)"):
        send_mail(closed, "x@example.com", "s", "b")
    with smtp_server() as inbox:  # STARTTLS asked of a server without it: refused, not sent
        cfg = SmtpConfig("127.0.0.1", inbox.port, "starttls", None, None, "a@b.example", 5.0)
        with pytest.raises(MailUnavailableError, match="SMTPNotSupportedError"):
            send_mail(cfg, "x@example.com", "s", "b")
        assert inbox.mails == []


def test_parallel_guesses_get_no_more_tries_than_the_limit(world: World) -> None:
    w = world
    address = "guess@example.com"
    cid, tok = w.start(name="G", email=address)
    with w.server.client() as cust:
        assert cust.post(f"/api/chat/{cid}/verify", headers=tok).status_code == 201
    wrong = f"{(int(w.code_for(address)) + 1) % 1_000_000:06d}"

    def guess(_: int) -> int:
        with w.server.client() as c:
            body = {"code": wrong}
            return c.post(f"/api/chat/{cid}/verify/confirm", json=body, headers=tok).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = sorted(pool.map(guess, range(20)))
    assert statuses == [422] * 5 + [429] * 15  # 5 tries per code, however they arrive
    assert w.sql("SELECT attempts FROM claim_codes WHERE contact_id = ?", cid) == [(5,)]
