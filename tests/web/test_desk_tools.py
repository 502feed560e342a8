"""The agent desktop's work tools in Debian's Chromium: the customer card's ticket,
its status, a follow-up, notes on the contact and a transfer to another queue.

The customer starts the chat through the public API (the widget is covered by
``test_chat_flow.py``); ann works it on ``/agent``; every change is then read back
through the API as the manager, so the page is checked against what was stored.
"""

from __future__ import annotations

import time

from playwright.sync_api import Page, expect
from tests.support.seed import PASSWORD
from tests.support.server import LiveServer

URGENT_SLA_S = 4 * 3600  # docs/crm.md: urgent tickets are due 4 h after creation


def test_card_ticket_follow_up_notes_and_transfer(live_server: LiveServer, page: Page) -> None:
    server = live_server
    with server.client() as anon:
        started = anon.ok(
            "POST", "/api/chat/start",
            json={"queue": "support", "name": "Dan Brown", "email": "dan@example.com",
                  "message": "I was charged twice"},
        )  # fmt: skip
    cid = started["contact_id"]

    page.goto(f"{server.url}/login?next=/agent")
    page.fill("#username", "ann")
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(f"{server.url}/agent")
    page.click("#btn-login")
    offer = page.locator('[data-testid="offer"]')
    expect(offer).to_contain_text("Dan Brown")
    offer.locator('[data-action="accept"]').click()
    pane = page.locator('[data-testid="chat-pane"]')
    expect(pane).to_have_attribute("data-status", "active")
    card = page.locator('[data-testid="customer-card"]')
    expect(card.locator('[data-testid="customer-name"]')).to_have_text("Dan Brown")

    # a ticket from the card: listed with its priority, its status changed in place
    before = time.time()
    page.fill("#ticket-subject", "Refund the double charge")
    page.fill("#ticket-description", "Charged twice on 3 May")
    page.select_option("#ticket-priority", "urgent")
    page.click("#ticket-create")
    ticket = card.locator('[data-testid="ticket"]')
    expect(ticket).to_have_count(1)
    expect(ticket).to_contain_text("Refund the double charge")
    expect(ticket).to_contain_text("urgent")
    ticket.locator('[data-field="ticket-status"]').select_option("pending")
    expect(page.locator("#card-msg")).to_have_text("Ticket #1 created.")

    # a follow-up due tomorrow, and notes on the contact
    page.fill("#followup-due", time.strftime("%Y-%m-%dT09:30", time.localtime(time.time() + 86400)))
    page.fill("#followup-note", "Check the refund arrived")
    page.click("#followup-create")
    expect(card.locator('[data-testid="follow-up"]')).to_contain_text("Check the refund arrived")
    page.fill("#contact-notes", "asked for a refund")
    page.click("#save-notes")
    expect(page.locator("#card-msg")).to_have_text("Notes saved.")
    # listed with its author (notes are per author: docs/crm.md)
    expect(page.locator('#notes-list li[data-author="ann"]')).to_contain_text("ann · ")
    expect(page.locator('#notes-list li[data-author="ann"] bdi')).to_have_text("asked for a refund")

    # what was stored, read as the manager
    with server.client("manager") as m:
        tickets = m.ok("GET", "/api/tickets")["tickets"]
        assert [(t["subject"], t["priority"], t["contact_id"]) for t in tickets] == [
            ("Refund the double charge", "urgent", cid)
        ]
        t = tickets[0]
        assert t["created_at"] >= before - 1
        assert abs(t["sla_due_at"] - (t["created_at"] + URGENT_SLA_S)) < 1e-3
        # the status change is stored (the page re-reads the card after it)
        expect(ticket.locator('[data-field="ticket-status"]')).to_have_value("pending")
        assert m.ok("GET", f"/api/tickets/{t['id']}")["status"] == "pending"
        follow = m.ok("GET", "/api/follow-ups")["follow_ups"]
        assert [(f["note"], f["assignee"], f["contact_id"]) for f in follow] == [
            ("Check the refund arrived", "ann", cid)
        ]
        assert follow[0]["due_at"] > time.time() + 3600
        assert m.ok("GET", f"/api/contacts/{cid}")["notes"] == "asked for a refund"

    # transfer to the sales queue: ann keeps the wrap-up of her part, the chat waits there
    pane.locator('[data-field="transfer-target"]').select_option(label="sales")
    pane.locator('[data-action="transfer"]').click()
    expect(pane).to_have_attribute("data-status", "wrapup")
    with server.client("manager") as m:
        contact = m.ok("GET", f"/api/contacts/{cid}")
        got = (contact["queue"], contact["status"], contact["agent"])
        assert got == ("sales", "queued", None), contact  # not offered back to ann
