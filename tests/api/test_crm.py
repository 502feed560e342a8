"""The CRM API against a real server: customers, contacts with transcripts, the customer
card, tickets with SLA due times, follow-ups, search, the ``/crm`` page.

Contacts, contact_agents and messages are written straight into the server's SQLite
file (the chat API that creates them in production is a separate feature); customers,
tickets and follow-ups go through the API.  Expected values are worked out by hand.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session
from tests.support.seed import PASSWORD, seed
from tests.support.server import LiveServer, running_server

from callcenter.storage.db import make_engine
from callcenter.storage.tables import (
    ContactAgent,
    ContactNote,
    ContactRow,
    Customer,
    Message,
    Ticket,
)

NOW = time.time()
DAY = 86_400.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp: Path = tmp_path_factory.mktemp("crm-api")
    db_url = f"sqlite:///{tmp / 'center.db'}"
    seed(db_url)
    with running_server(db_url, tmp) as srv:
        yield srv


@dataclass(frozen=True)
class Data:
    kim: int  # the customer all contacts below belong to
    overdue_ticket: int


# id -> (holders in order, queue, status, arrived days ago, disposition, csat)
CONTACTS = {
    "k-ann-1": (("ann",), "support", "closed", 5.0, "resolved", 5),
    "k-ann-2": (("ann",), "sales", "closed", 4.0, "follow_up", None),
    "k-bob-1": (("bob",), "support", "closed", 3.0, "resolved", 2),
    "k-cid-1": (("cid",), "sales", "closed", 2.0, "resolved", 4),
    "k-xfer": (("ann", "bob"), "support", "closed", 1.0, "resolved", None),
    "k-queued": ((), "support", "queued", 0.01, None, None),
}


@pytest.fixture(scope="module")
def data(server: LiveServer) -> Data:
    engine = make_engine(server.db_url)
    try:
        with Session(engine) as s, s.begin():
            kim = Customer(name="Kim <b>Lee</b>", email="kim@example.com", phone="+14155550177",
                           company="Kimco", notes="", created_at=NOW - 30 * DAY,
                           updated_at=NOW - 30 * DAY)  # fmt: skip
            s.add(kim)
            s.flush()
            for cid, (holders, queue, status, ago, disp, csat) in CONTACTS.items():
                t = NOW - ago * DAY
                s.add(ContactRow(
                    id=cid, customer_id=kim.id, channel="chat", queue=queue, status=status,
                    agent=holders[-1] if holders else None, subject=f"about {cid}",
                    arrived_at=t, answered_at=t + 10 if holders else None,
                    ended_at=t + 300 if holders else None, disposition=disp, csat=csat,
                ))  # fmt: skip
                s.flush()
                s.add(ContactNote(contact_id=cid, author=holders[-1] if holders else "-",
                                  body=f"notes of {cid}", created_at=t, updated_at=t))  # fmt: skip
                s.add_all(ContactAgent(contact_id=cid, agent=a) for a in holders)
                s.add_all([
                    Message(contact_id=cid, t=t + 1, sender="customer", body=f"hello from {cid}"),
                    Message(contact_id=cid, t=t + 20, sender="agent",
                            agent=holders[0] if holders else None, body="how can I help?"),
                ])  # fmt: skip
            # an overdue ticket (its due time passed an hour ago): only writable directly
            overdue = Ticket(customer_id=kim.id, subject="refund late", status="open",
                             priority="urgent", sla_due_at=NOW - 3600, assignee="ann",
                             created_by="sue", created_at=NOW - 5 * 3600,
                             updated_at=NOW - 5 * 3600)  # fmt: skip
            s.add(overdue)
            s.flush()
            return Data(kim=kim.id, overdue_ticket=overdue.id)
    finally:
        engine.dispose()


def err(status: int, message: str) -> tuple[int, dict[str, dict[str, str]]]:
    codes = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 409: "conflict",
             422: "invalid"}  # fmt: skip
    return status, {"error": {"code": codes[status], "message": message}}


def answer(r: object) -> tuple[int, object]:
    return r.status_code, r.json()  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- customers


def test_customers_create_search_patch_and_errors(server: LiveServer) -> None:
    with server.client("ann") as ann:
        body = {"name": "Maria Garcia", "email": " Maria@Example.COM", "phone": "(415) 555-0142"}
        maria = ann.ok("POST", "/api/customers", json=body)
        assert (maria["email"], maria["phone"], maria["company"]) == (
            "maria@example.com", "+14155550142", None)  # fmt: skip
        r = ann.post("/api/customers", json={"name": "Dup", "email": "MARIA@example.com"})
        assert answer(r) == err(
            409, f"email 'maria@example.com' already belongs to customer {maria['id']}"
        )
        r = ann.post("/api/customers", json={"name": "Bad", "phone": "555"})
        assert answer(r) == err(
            422,
            "phone '555' is not a valid phone number (expected E.164 like +14155550123, "
            "or a national number of region US)",
        )
        r = ann.post("/api/customers", json={"name": "Bad", "email": "nobody@"})
        assert answer(r) == err(
            422, "email 'nobody@' is not a valid e-mail address (expected name@domain.tld)"
        )
        r = ann.post("/api/customers", json={"name": "X", "nickname": "y"})
        assert answer(r) == err(422, "nickname: Extra inputs are not permitted")
        uk = ann.ok("POST", "/api/customers",
                    json={"name": "Oliver", "phone": "020 7946 0018", "region": "GB"})  # fmt: skip
        assert uk["phone"] == "+442079460018"

        def names(url: str) -> list[str]:
            return [c["name"] for c in ann.ok("GET", url)["customers"]]

        assert names("/api/customers?q=GARC") == ["Maria Garcia"]
        assert names("/api/customers?q=415%20555%200142") == ["Maria Garcia"]
        assert names("/api/customers?q=%2B44%2020%207946%200018") == ["Oliver"]
        r = ann.get("/api/customers?limit=501")
        assert answer(r) == err(422, "query.limit: Input should be less than or equal to 500")

        p = ann.ok("PATCH", f"/api/customers/{maria['id']}", json={"company": "ACME"})
        assert p["company"] == "ACME" and p["updated_at"] >= maria["updated_at"]
        p = ann.ok("PATCH", f"/api/customers/{maria['id']}", json={"company": None})
        assert p["company"] is None and p["phone"] == "+14155550142"
        r = ann.patch(f"/api/customers/{uk['id']}", json={"email": "MARIA@example.com"})
        assert r.status_code == 409
        assert answer(ann.get("/api/customers/99999")) == err(404, "no customer 99999")
    with server.client("quinn") as qa:  # QA reads the CRM but changes nothing
        assert qa.ok("GET", f"/api/customers/{maria['id']}")["name"] == "Maria Garcia"
        r = qa.patch(f"/api/customers/{maria['id']}", json={"name": "x"})
        assert answer(r) == err(403, "role 'qa' may not do this (crm.write)")
    with server.client() as anon:
        assert anon.get("/api/customers").status_code == 401


# --------------------------------------------------------------------------- contacts


def test_contacts_list_scoped_filtered_and_paged(server: LiveServer, data: Data) -> None:
    def ids(client: object, query: str = "") -> list[str]:
        body = client.ok("GET", "/api/contacts" + query)  # type: ignore[attr-defined]
        assert body["total"] >= len(body["contacts"])
        return [c["id"] for c in body["contacts"]]

    newest_first = ["k-queued", "k-xfer", "k-cid-1", "k-bob-1", "k-ann-2", "k-ann-1"]
    with server.client("admin") as admin:
        assert ids(admin) == newest_first
        assert ids(admin, "?queue=sales") == ["k-cid-1", "k-ann-2"]
        assert ids(admin, "?agent=bob") == ["k-xfer", "k-bob-1"]  # held at any point
        assert ids(admin, "?status=queued") == ["k-queued"]
        assert ids(admin, f"?customer_id={data.kim}&status=closed&queue=support") == [
            "k-xfer", "k-bob-1", "k-ann-1"]  # fmt: skip
        window = f"?from={NOW - 3.5 * DAY}&to={NOW - 1.5 * DAY}"
        assert ids(admin, window) == ["k-cid-1", "k-bob-1"]
        page = admin.ok("GET", "/api/contacts?limit=2&offset=1")
        assert [c["id"] for c in page["contacts"]] == newest_first[1:3]
        assert (page["total"], page["limit"], page["offset"]) == (6, 2, 1)
        first = page["contacts"][0]
        assert (first["customer_name"], first["agent"], first["queue"]) == (
            "Kim <b>Lee</b>", "bob", "support")  # fmt: skip
        assert answer(admin.get("/api/contacts?status=done")) == err(
            422, "status: 'done' is not a contact status (expected ivr, queued, ringing, active, "
            "wrapup, closed, abandoned, timeout)")  # fmt: skip
        assert answer(admin.get("/api/contacts?from=200&to=100")) == err(
            422, "to: 100 is not after from (200)"
        )
        assert admin.get("/api/contacts?limit=0").status_code == 422
        assert admin.get("/api/contacts?offset=-1").status_code == 422
    with server.client("ann") as ann:
        assert ids(ann) == ["k-xfer", "k-ann-2", "k-ann-1"]  # only contacts ann held
        assert ids(ann, "?agent=bob") == ["k-xfer"]
        assert ids(ann, "?agent=cid") == []
    with server.client("sue") as sue:  # team blue: ann's and bob's
        assert ids(sue) == ["k-xfer", "k-bob-1", "k-ann-2", "k-ann-1"]
    with server.client("quinn") as qa:
        assert ids(qa) == newest_first


def test_contact_detail_with_transcript_and_holders(server: LiveServer, data: Data) -> None:
    with server.client("ann") as ann:
        c = ann.ok("GET", "/api/contacts/k-xfer")
        assert c["agents"] == ["ann", "bob"]
        assert c["customer"] == {"id": data.kim, "name": "Kim <b>Lee</b>",
                                 "email": "kim@example.com", "phone": "+14155550177"}  # fmt: skip
        assert [(m["sender"], m["agent"], m["body"]) for m in c["messages"]] == [
            ("customer", None, "hello from k-xfer"),
            ("agent", "ann", "how can I help?"),
        ]
        assert c["notes"] == "notes of k-xfer" and c["disposition"] == "resolved"
        # another agent's contact answers exactly like one that does not exist
        assert answer(ann.get("/api/contacts/k-bob-1")) == err(404, "no contact 'k-bob-1'")
        assert answer(ann.get("/api/contacts/nope")) == err(404, "no contact 'nope'")
    with server.client("sue") as sue:
        assert sue.ok("GET", "/api/contacts/k-bob-1")["agents"] == ["bob"]
        assert sue.get("/api/contacts/k-cid-1").status_code == 404


# --------------------------------------------------------------------------- card


def test_customer_card_masks_others_contacts(server: LiveServer, data: Data) -> None:
    with server.client("ann") as ann:
        card = ann.ok("GET", f"/api/customers/{data.kim}/card")
        assert card["customer"]["email"] == "kim@example.com"
        rows = [(h["id"], h["queue"], h["status"], h["disposition"], h["csat"], h["agent"],
                 h["mine"], h["visible"]) for h in card["history"]]  # fmt: skip
        assert rows == [
            (None, "support", "queued", None, None, None, False, False),
            ("k-xfer", "support", "closed", "resolved", None, "bob", True, True),
            (None, "sales", "closed", "resolved", 4, None, False, False),
            (None, "support", "closed", "resolved", 2, None, False, False),
            ("k-ann-2", "sales", "closed", "follow_up", None, "ann", True, True),
            ("k-ann-1", "support", "closed", "resolved", 5, "ann", True, True),
        ]
        assert all(h["subject"] is None for h in card["history"] if not h["visible"])
        (ticket,) = [t for t in card["tickets"] if t["id"] == data.overdue_ticket]
        assert ticket["overdue"] is True and ticket["sla_due_at"] == pytest.approx(NOW - 3600)
    with server.client("sue") as sue:
        card = sue.ok("GET", f"/api/customers/{data.kim}/card")
        assert [h["id"] for h in card["history"]] == [
            None, "k-xfer", None, "k-bob-1", "k-ann-2", "k-ann-1"]  # fmt: skip
        assert not any(h["mine"] for h in card["history"])
    with server.client("ann") as ann:
        assert answer(ann.get("/api/customers/777/card")) == err(404, "no customer 777")


# --------------------------------------------------------------------------- tickets


def test_tickets_sla_overdue_rules_and_visibility(server: LiveServer, data: Data) -> None:
    with server.client("ann") as ann:
        t = ann.ok("POST", "/api/tickets", json={
            "customer_id": data.kim, "subject": "Card blocked", "priority": "high",
            "contact_id": "k-ann-1"})  # fmt: skip
        assert t["sla_due_at"] == t["created_at"] + 8 * 3600  # high: 8 h
        assert (t["status"], t["overdue"], t["created_by"], t["contact_id"]) == (
            "open", False, "ann", "k-ann-1")  # fmt: skip
        # the customer comes from the contact when not given
        t2 = ann.ok("POST", "/api/tickets", json={"contact_id": "k-ann-2", "subject": "Upgrade",
                                                  "priority": "low"})  # fmt: skip
        assert t2["customer_id"] == data.kim
        assert t2["sla_due_at"] == t2["created_at"] + 72 * 3600
        p = ann.ok("PATCH", f"/api/tickets/{t2['id']}", json={"priority": "urgent"})
        assert p["sla_due_at"] == t2["created_at"] + 4 * 3600
        p = ann.ok("PATCH", f"/api/tickets/{t2['id']}", json={"assignee": "bob"})
        assert p["assignee"] == "bob"
        p = ann.ok("PATCH", f"/api/tickets/{t2['id']}", json={"assignee": None})
        assert p["assignee"] is None

        r = ann.post("/api/tickets", json={"contact_id": "k-bob-1", "subject": "x"})
        assert answer(r) == err(404, "no contact 'k-bob-1'")
        r = ann.post("/api/tickets", json={"customer_id": data.kim, "subject": "x",
                                           "assignee": "ghost"})  # fmt: skip
        assert answer(r) == err(
            422, "assignee: no active user 'ghost' (expected an existing username)"
        )
        r = ann.post("/api/tickets", json={"customer_id": data.kim, "subject": "x",
                                           "priority": "asap"})  # fmt: skip
        assert answer(r) == err(
            422, "priority: 'asap' is not a priority (expected low, normal, high, urgent)"
        )
        r = ann.post("/api/tickets", json={"subject": "x"})
        assert answer(r) == err(422, "customer_id: required (or a contact_id of a known customer)")
        overdue = ann.ok("GET", "/api/tickets?overdue=true")["tickets"]
        assert [x["id"] for x in overdue] == [data.overdue_ticket]

        ann.ok("PATCH", f"/api/tickets/{t['id']}", json={"status": "closed"})
        r = ann.patch(f"/api/tickets/{t['id']}", json={"status": "open"})
        assert answer(r) == err(
            409, f"ticket {t['id']} is closed and cannot change (open a new ticket)"
        )
        card = ann.ok("GET", f"/api/customers/{data.kim}/card")
        assert t["id"] not in [x["id"] for x in card["tickets"]]  # closed: not on the card
    with server.client("bob") as bob:
        b = bob.ok("POST", "/api/tickets", json={"contact_id": "k-bob-1", "subject": "bob's"})
    with server.client("ann") as ann:  # ann served Kim: sees bob's ticket, not its contact
        seen = ann.ok("GET", f"/api/tickets/{b['id']}")
        assert seen["contact_id"] is None and seen["created_by"] == "bob"
    with server.client("sue") as sue:
        assert sue.ok("GET", f"/api/tickets/{b['id']}")["contact_id"] == "k-bob-1"
    with server.client("quinn") as qa:
        r = qa.post("/api/tickets", json={"customer_id": data.kim, "subject": "x"})
        assert answer(r) == err(403, "role 'qa' may not do this (crm.write)")


def test_follow_ups(server: LiveServer, data: Data) -> None:
    with server.client("bob") as bob:
        r = bob.post("/api/follow-ups", json={"customer_id": data.kim, "due_at": 1000.0})
        status, body = answer(r)
        assert status == 422
        assert body["error"]["message"].startswith("due_at: 1000 is not in the future (now ")
        due = time.time() + 3600
        f = bob.ok("POST", "/api/follow-ups", json={
            "contact_id": "k-bob-1", "due_at": due, "note": "call back about refund"})  # fmt: skip
        assert (f["assignee"], f["created_by"], f["customer_id"], f["done"], f["overdue"]) == (
            "bob", "bob", data.kim, False, False)  # fmt: skip
        later = bob.ok("POST", "/api/follow-ups", json={
            "customer_id": data.kim, "due_at": due + 7200, "assignee": "ann"})  # fmt: skip
        mine = bob.ok("GET", f"/api/follow-ups?customer_id={data.kim}")["follow_ups"]
        assert [x["id"] for x in mine] == [f["id"], later["id"]]  # earliest due first
        soon = bob.ok("GET", f"/api/follow-ups?due_before={due + 60}")["follow_ups"]
        assert [x["id"] for x in soon] == [f["id"]]
        done = bob.ok("PATCH", f"/api/follow-ups/{f['id']}", json={"done": True})
        assert done["done"] is True and done["done_at"] is not None
        assert [x["id"] for x in bob.ok("GET", "/api/follow-ups")["follow_ups"]] == [later["id"]]
        assert [x["id"] for x in bob.ok("GET", "/api/follow-ups?done=true")["follow_ups"]] == [
            f["id"]]  # fmt: skip
        assert bob.ok("GET", "/api/follow-ups?all=true")["total"] == 2
        r = bob.patch("/api/follow-ups/99999", json={"done": True})
        assert answer(r) == err(404, "no follow-up 99999")
    with server.client("ann") as ann:  # assigned to her; bob's contact link hidden
        (fu,) = ann.ok("GET", "/api/follow-ups?assignee=ann")["follow_ups"]
        assert fu["id"] == later["id"]
        card = ann.ok("GET", f"/api/customers/{data.kim}/card")
        assert [x["id"] for x in card["follow_ups"]] == [later["id"]]


# --------------------------------------------------------------------------- search


def test_search_customers_tickets_contacts(server: LiveServer, data: Data) -> None:
    with server.client("ann") as ann:
        r = ann.ok("GET", "/api/search?q=kimco")
        assert [c["id"] for c in r["customers"]] == [data.kim]
        r = ann.ok("GET", "/api/search?q=REFUND%20late")
        assert [t["id"] for t in r["tickets"]] == [data.overdue_ticket]
        r = ann.ok("GET", f"/api/search?q=%23{data.overdue_ticket}")  # "#12": a ticket id
        assert data.overdue_ticket in [t["id"] for t in r["tickets"]]
        assert [c["id"] for c in ann.ok("GET", "/api/search?q=about%20k-")["contacts"]] == [
            "k-xfer", "k-ann-2", "k-ann-1"]  # fmt: skip
        assert ann.ok("GET", "/api/search?q=k-bob-1")["contacts"] == []
        assert answer(ann.get("/api/search?q=%20")) == err(
            422, "q: must not be empty (a name, e-mail, phone or company to look for)"
        )
    with server.client("admin") as admin:
        assert [c["id"] for c in admin.ok("GET", "/api/search?q=k-bob-1")["contacts"]] == [
            "k-bob-1"]  # fmt: skip


# --------------------------------------------------------------------------- page


def test_crm_page_guarded(server: LiveServer) -> None:
    with server.client("ann") as ann:
        r = ann.get("/crm")
        assert r.status_code == 200 and '<script src="/static/crm.js">' in r.text
        assert ann.get("/static/crm.js").status_code == 200
    with server.client() as anon:
        r = anon.get("/crm", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login?next=/crm"


def test_crm_page_in_browser(server: LiveServer, data: Data, page: Page) -> None:
    page.goto(server.url + "/login?next=/crm")
    page.fill("#username", "ann")
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(server.url + "/crm")
    page.fill("#q", "kim")
    page.click("#search-form button[type=submit]")
    link = page.locator("#results a[data-customer]").first
    expect(link).to_have_text("Kim <b>Lee</b>")  # shown as text, not markup
    assert page.locator("#results b").count() == 0
    link.click()
    expect(page.locator("#cust-name")).to_have_text("Kim <b>Lee</b>")
    overdue_row = page.locator(f"#tickets tr[data-ticket='{data.overdue_ticket}']")
    expect(overdue_row).to_have_class("overdue")
    expect(overdue_row.locator(".tag.bad")).to_have_text("overdue")
    # history: ann's contacts open, others are outcome rows without a link
    expect(page.locator("#history a[data-contact]")).to_have_count(3)
    page.locator("#history a[data-contact='k-ann-1']").click()
    expect(page.locator("#transcript")).to_contain_text("hello from k-ann-1")
    page.fill("#ticket-form input[name=subject]", "Browser ticket")
    page.select_option("#ticket-form select[name=priority]", "urgent")
    page.click("#ticket-form button[type=submit]")
    expect(page.locator("#tickets")).to_contain_text("Browser ticket")
    page.fill("#follow-up-form input[name=due]", "2099-01-02T10:30")
    page.fill("#follow-up-form input[name=note]", "ring back")
    page.click("#follow-up-form button[type=submit]")
    row = page.locator("#follow-ups tr", has_text="ring back")
    expect(row).to_have_count(1)
    row.locator("button.follow-up-done").click()
    expect(page.locator("#follow-ups")).not_to_contain_text("ring back")
    assert page.locator("#crm-error").text_content() == ""
