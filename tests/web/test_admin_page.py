"""The administration page in Debian's Chromium: an administrator adds a queue with a
skill requirement through the form, a bad value is refused with the API's one-line
message and nothing is written, and a supervisor sees the same page read-only.
Everything is checked against the API afterwards."""

from __future__ import annotations

import httpx
from playwright.sync_api import Browser, Page, expect
from tests.support.browser import DEFAULT_TIMEOUT_MS
from tests.support.seed import PASSWORD
from tests.support.server import LiveServer


def _sign_in(page: Page, server: LiveServer, username: str) -> None:
    page.goto(f"{server.url}/login?next=/admin")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(f"{server.url}/admin")


def test_admin_adds_a_queue_bad_input_is_refused_supervisor_reads_only(
    live_server: LiveServer, page: Page, chromium_browser: Browser
) -> None:
    server = live_server
    _sign_in(page, server, "admin")
    page.click('[data-tab="queues"]')
    expect(page.locator("#admin-title")).to_have_text("Queues")

    # a bad ring timeout: the API's message, no row
    page.fill("#f-name", "billing")
    page.fill("#f-requirements", "support:2")
    page.fill("#f-ring_timeout_s", "0")
    page.click("#admin-save")
    expect(page.locator("#admin-status")).to_have_text(
        "ring_timeout_s: 0 is not valid; expected a number of seconds from 1 to 3600"
    )
    with server.client("admin") as admin:
        names = [q["name"] for q in admin.ok("GET", "/api/admin/queues")]
    assert "billing" not in names

    # corrected: the queue is added and listed
    page.fill("#f-ring_timeout_s", "15")
    page.click("#admin-save")
    expect(page.locator("#admin-status")).to_have_text("Saved billing.")
    row = page.locator("#admin-table tbody tr", has_text="billing")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("support:2")
    with server.client("admin") as admin:
        billing = next(q for q in admin.ok("GET", "/api/admin/queues") if q["name"] == "billing")
    assert (billing["requirements"], billing["ring_timeout_s"], billing["active"]) == (
        [{"skill": "support", "min_level": 2}], 15.0, True)  # fmt: skip

    # a supervisor may look but not change
    ctx = chromium_browser.new_context()
    ctx.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        sue = ctx.new_page()
        _sign_in(sue, server, "sue")
        expect(sue.locator("#admin-readonly")).to_be_visible()
        sue.click('[data-tab="queues"]')
        expect(sue.locator("#admin-table tbody tr", has_text="billing")).to_have_count(1)
        expect(sue.locator("#admin-editor")).to_be_hidden()
        expect(sue.locator("#admin-table [data-edit]")).to_have_count(0)
    finally:
        ctx.close()


def test_admin_revokes_another_users_tokens_on_the_users_tab(
    live_server: LiveServer, page: Page
) -> None:
    server = live_server
    with server.client("quinn") as q:
        made = [q.ok("POST", "/api/tokens", json={"name": n}) for n in ("report-bot", "laptop")]
    _sign_in(page, server, "admin")
    page.on("dialog", lambda d: d.accept())
    page.click('[data-tab="users"]')
    page.locator("#admin-table tbody tr", has_text="quinn").locator("[data-edit]").click()
    expect(page.locator("#admin-tokens-title")).to_have_text("API tokens of quinn")
    rows = page.locator("#admin-tokens-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("report-bot")
    expect(rows.nth(0)).to_contain_text("active")

    page.click(f'[data-revoke="{made[0]["id"]}"]')
    expect(page.locator("#admin-status")).to_have_text("Revoked this API token of quinn.")
    expect(rows.nth(0)).to_contain_text("revoked")
    expect(rows.nth(1)).to_contain_text("active")
    page.click("#admin-tokens-revoke-all")
    expect(page.locator("#admin-status")).to_have_text("Revoked every API token of quinn.")
    expect(rows.nth(1)).to_contain_text("revoked")
    expect(page.locator("#admin-tokens-revoke-all")).to_be_disabled()
    # the API agrees: neither token signs in any more
    for m in made:
        r = httpx.get(f"{server.url}/api/me", headers={"Authorization": f"Bearer {m['token']}"})
        assert r.status_code == 401
    # another tab hides the panel
    page.click('[data-tab="queues"]')
    expect(page.locator("#admin-tokens")).to_be_hidden()
