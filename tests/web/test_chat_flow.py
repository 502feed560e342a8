"""The whole chat flow in Debian's Chromium, as people see it.

A customer opens ``/chat?queue=support`` and writes; the agent ann (signed in through
the login page) logs in on ``/agent``, sees the offer and accepts it; messages go both
ways and show on both sides; ann ends the chat, picks the disposition ``resolved`` and
clicks Done; the chat then shows in the customer's history on ann's customer card with
the outcome ``resolved``; the supervisor sue's wallboard counted it (offered and
answered today 0 -> 1, pushed); finally the customer answers the CSAT question.

Three browser contexts (separate cookies): the customer, ann, sue.
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing

from playwright.sync_api import Browser, BrowserContext, Page, expect
from tests.support.browser import DEFAULT_TIMEOUT_MS
from tests.support.seed import PASSWORD
from tests.support.server import LiveServer


def _context(browser: Browser) -> BrowserContext:
    ctx = browser.new_context()
    ctx.set_default_timeout(DEFAULT_TIMEOUT_MS)
    ctx.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
    return ctx


def _sign_in(page: Page, server: LiveServer, username: str, target: str) -> None:
    page.goto(f"{server.url}/login?next={target}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(f"{server.url}{target}")


def test_customer_chat_agent_disposition_history_wallboard_csat(
    live_server: LiveServer, page: Page, chromium_browser: Browser
) -> None:
    server = live_server
    customer_ctx, sue_ctx = _context(chromium_browser), _context(chromium_browser)
    try:
        # the supervisor's wallboard before anything happened
        wall = sue_ctx.new_page()
        _sign_in(wall, server, "sue", "/wallboard")
        tile = wall.locator('[data-queue="support"]')
        expect(tile.locator('[data-field="offered_today"]')).to_have_text("0")
        expect(tile.locator('[data-field="answered_today"]')).to_have_text("0")

        # the customer starts a chat on the public page (the widget is in a shadow root;
        # Playwright's CSS selectors pierce open shadow roots)
        cust = customer_ctx.new_page()
        cust.goto(f"{server.url}/chat?queue=support")
        cust.fill("input[name=name]", "Carol Jones")
        cust.fill("input[name=email]", "carol@example.com")
        cust.fill("textarea[name=message]", "Where is my parcel?")
        cust.click('[data-testid="chat-start"]')
        status = cust.locator('[data-testid="chat-status"]')
        expect(status).to_have_text("Waiting for an agent…")

        # ann signs in, logs in to the router and gets the offer
        _sign_in(page, server, "ann", "/agent")
        expect(page.locator("#agent-state")).to_have_text("Logged out")
        page.click("#btn-login")
        expect(page.locator("#agent-state")).to_have_text("Available")
        offer = page.locator('[data-testid="offer"]')
        expect(offer).to_contain_text("Carol Jones")
        expect(offer).to_contain_text("Where is my parcel?")
        expect(offer.locator('[data-field="countdown"]')).to_have_text(re.compile(r"^\d+ s$"))
        offer.locator('[data-action="accept"]').click()
        expect(offer).to_have_count(0)
        pane = page.locator('[data-testid="chat-pane"]')
        expect(pane).to_have_attribute("data-status", "active")
        expect(pane.locator('[data-testid="acw"]')).to_be_hidden()  # no wrap-up while chatting
        expect(pane.locator('[data-testid="transcript"]')).to_contain_text("Where is my parcel?")
        expect(status).to_have_text("You are chatting with Ann.")

        # messages both ways, each visible on both sides
        pane.locator('[data-field="compose"]').fill("It leaves our warehouse today.")
        pane.locator('[data-action="send"]').click()
        transcript = cust.locator('[data-testid="chat-transcript"]')
        expect(transcript).to_contain_text("It leaves our warehouse today.")
        cust.fill('[data-testid="chat-input"]', "Great, thanks!")
        cust.click('[data-testid="chat-send"]')
        expect(pane.locator('[data-testid="transcript"]')).to_contain_text("Great, thanks!")
        expect(transcript.locator('[data-sender="customer"]')).to_have_count(2)
        expect(transcript.locator('[data-sender="agent"]')).to_have_count(1)

        # the card shows what Carol typed as a claim (nobody has that e-mail: no match);
        # ann makes the customer from it, and the card knows Carol while the chat runs
        expect(page.locator('[data-testid="claim-name"]')).to_have_text("Carol Jones (unverified)")
        expect(page.locator('[data-testid="match"]')).to_have_count(0)
        page.locator('[data-action="link-new"]').click()
        expect(page.locator('[data-testid="customer-name"]')).to_have_text("Carol Jones")
        expect(pane.locator('[data-field="customer"]')).to_have_text("Carol Jones")

        # ann ends the chat: after-contact work with a timer, a disposition, Done
        pane.locator('[data-action="end"]').click()
        expect(pane).to_have_attribute("data-status", "wrapup")
        expect(pane.locator('[data-field="compose"]')).to_be_hidden()  # the chat is over
        acw = pane.locator('[data-testid="acw"]')
        expect(acw.locator('[data-field="acw-timer"]')).to_have_text(re.compile(r"^\d+:\d\d$"))
        expect(transcript).to_contain_text("Ann ended the chat.")
        acw.locator('[data-field="disposition"]').select_option("resolved")
        acw.locator('[data-field="wrap-notes"]').fill("parcel ships today")
        acw.locator('[data-action="done"]').click()
        expect(pane).to_have_count(0)

        # the chat is now history on the customer card, with its outcome
        row = page.locator('[data-testid="history-row"]')
        expect(row).to_have_count(1)
        expect(row.locator('[data-field="outcome"]')).to_have_text("resolved")

        # the wallboard's counters moved (pushed to the open page)
        expect(tile.locator('[data-field="offered_today"]')).to_have_text("1")
        expect(tile.locator('[data-field="answered_today"]')).to_have_text("1")
        # and the chat channel's card above the tiles counts it next to the calls
        chats = wall.locator('.wb-channel[data-channel="chat"]')
        expect(chats.locator('[data-field="offered_today"]')).to_have_text("1")
        expect(tile.locator('[data-field="channel"]')).to_have_text("chat")

        # the customer answers the CSAT question
        csat = cust.locator('[data-testid="csat"]')
        csat.locator('[data-score="4"]').click()
        cust.fill('[data-testid="csat-comment"]', "fast answer")
        cust.click('[data-testid="csat-send"]')
        expect(cust.locator('[data-testid="csat-thanks"]')).to_be_visible()
    finally:
        customer_ctx.close()
        sue_ctx.close()

    db = server.db_url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(db)) as conn:
        rows = conn.execute(
            "SELECT c.status, c.agent, c.disposition,"
            " (SELECT group_concat(n.body) FROM contact_notes n WHERE n.contact_id = c.id),"
            " c.csat, c.csat_comment, u.name"
            " FROM contacts c JOIN customers u ON u.id = c.customer_id"
        ).fetchall()
        bodies = conn.execute("SELECT sender, body FROM messages ORDER BY id").fetchall()
    assert rows == [
        ("closed", "ann", "resolved", "parcel ships today", 4, "fast answer", "Carol Jones")
    ]
    assert bodies == [
        ("customer", "Where is my parcel?"),
        ("agent", "It leaves our warehouse today."),
        ("customer", "Great, thanks!"),
        ("system", "Ann ended the chat."),
    ]
