"""Chat identity claims in Debian's Chromium (issue 14, item 2).

1. A customer chats as ``eve@example.com``, a customer the CRM knows: ann's card shows the
   claim and Eve Stone as the possible match (no history, no tickets), and Eve's ticket
   only once ann clicks "Link to this customer".
2. A customer proves its e-mail in the widget: "Send me a code", the code read from the
   mail a real SMTP server (aiosmtpd on 127.0.0.1) received, "Confirm" — the chat is
   linked to that customer, and ann's desk shows the customer's card.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.support.browser import DEFAULT_TIMEOUT_MS
from tests.support.seed import PASSWORD, seed
from tests.support.server import LiveServer, running_server
from tests.support.smtp import Inbox, smtp_server


@pytest.fixture
def center(tmp_path: Path) -> Iterator[tuple[LiveServer, Inbox]]:
    url = f"sqlite:///{tmp_path / 'center.db'}"
    seed(url)
    with smtp_server() as inbox, running_server(url, tmp_path, **inbox.env()) as server:
        yield server, inbox


def _desk(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/login?next=/agent")
    page.fill("#username", "ann")
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(f"{server.url}/agent")
    page.click("#btn-login")


def test_possible_match_then_deliberate_link(center: tuple[LiveServer, Inbox], page: Page) -> None:
    server, _ = center
    with server.client("manager") as m:
        eve = m.ok("POST", "/api/customers", json={"name": "Eve Stone", "email": "eve@example.com"})
        ticket = m.ok("POST", "/api/tickets", json={"customer_id": eve["id"], "subject": "Refund"})
    with server.client() as anon:
        anon.ok("POST", "/api/chat/start", json={"queue": "support", "name": "Eve",
                "email": "EVE@example.com", "message": "hi"})  # fmt: skip
    _desk(page, server)
    offer = page.locator('[data-testid="offer"]')
    expect(offer).to_contain_text("Eve (unverified)")
    offer.locator('[data-action="accept"]').click()
    card = page.locator("#customer-card")
    expect(card.locator('[data-testid="claim-name"]')).to_have_text("Eve (unverified)")
    match = card.locator('[data-testid="match"]')
    expect(match).to_have_count(1)
    expect(match).to_contain_text("Eve Stone")
    expect(match).to_contain_text("same email")
    expect(card.locator('[data-testid="ticket"]')).to_have_count(0)  # nothing before the link
    match.locator('[data-action="link"]').click()
    expect(card.locator('[data-testid="customer-name"]')).to_have_text("Eve Stone")
    expect(card.locator(f'[data-ticket="{ticket["id"]}"]')).to_have_count(1)


def test_widget_proves_the_email_with_a_code(
    center: tuple[LiveServer, Inbox], page: Page, chromium_browser: Browser
) -> None:
    server, inbox = center
    with server.client("manager") as m:
        m.ok(
            "POST", "/api/customers", json={"name": "Rasa Kazlauskienė", "email": "rasa@example.lt"}
        )
    cust = page
    cust.goto(f"{server.url}/chat?queue=support")
    cust.fill("input[name=name]", "Rasa")
    cust.fill("input[name=email]", "rasa@example.lt")
    cust.fill("textarea[name=message]", "Labas")
    cust.click('[data-testid="chat-start"]')
    box = cust.locator('[data-testid="verify"]')
    expect(box).to_be_visible()
    box.locator('[data-testid="verify-send"]').click()
    expect(box.locator('[data-testid="verify-msg"]')).to_have_text(
        "We sent a code to rasa@example.lt."
    )
    box.locator('[data-testid="verify-code"]').fill("000000" if inbox.code_for(
        "rasa@example.lt") != "000000" else "111111")  # fmt: skip
    box.locator('[data-testid="verify-confirm"]').click()
    expect(box.locator('[data-testid="verify-msg"]')).to_have_text("code: wrong code; 4 tries left")
    box.locator('[data-testid="verify-code"]').fill(inbox.code_for("rasa@example.lt"))
    box.locator('[data-testid="verify-confirm"]').click()
    expect(box.locator('[data-testid="verify-done"]')).to_have_text("Your e-mail is confirmed.")

    ctx = chromium_browser.new_context()  # ann: cookies of her own
    ctx.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        agent = ctx.new_page()
        _desk(agent, server)
        agent.locator('[data-testid="offer"] [data-action="accept"]').click()
        name = agent.locator('#customer-card [data-testid="customer-name"]')
        expect(name).to_have_text("Rasa Kazlauskienė")
    finally:
        ctx.close()
