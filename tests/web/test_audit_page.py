"""The audit log page in Debian's Chromium: a manager in Tehran sees an agent's e-mail
change with before -> after, in the browser's time zone; filters narrow the table and
the CSV link; user-written text is shown as text with ``dir="auto"``; an agent is
refused the page."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, expect
from tests.support.browser import DEFAULT_TIMEOUT_MS
from tests.support.seed import PASSWORD
from tests.support.server import LiveServer


def _local(t: float, zone: str) -> str:
    """``new Date(t * 1000).toLocaleString()`` of an en-US browser in ``zone``."""
    d = dt.datetime.fromtimestamp(t, ZoneInfo(zone))
    hour = d.hour % 12 or 12
    return f"{d.month}/{d.day}/{d.year}, {hour}:{d.minute:02d}:{d.second:02d} {d:%p}"


def test_manager_reads_the_log_in_local_time_and_filters_it(
    live_server: LiveServer, chromium_browser: Browser
) -> None:
    server = live_server
    with server.client("ann") as ann:
        name = '<img src=x onerror="window.pwned=1"> دانا'
        row = ann.ok("POST", "/api/customers", json={"name": name, "email": "dana@example.com"})
        ann.ok("PATCH", f"/api/customers/{row['id']}", json={"email": "attacker@evil.example"})
    with server.client("manager") as manager:
        (entry,) = manager.ok("GET", "/api/audit", params={"action": "customer.update"})["entries"]

    zone = "Asia/Tehran"
    ctx = chromium_browser.new_context(locale="en-US", timezone_id=zone)
    ctx.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        page = ctx.new_page()
        page.goto(f"{server.url}/login?next=/audit")
        page.fill("#username", "manager")
        page.fill("#password", PASSWORD)
        page.click("#sign-in")
        page.wait_for_url(f"{server.url}/audit")
        rows = page.locator("#audit-table tbody tr")
        # newest first: the manager's two sign-ins (API client, this page), ann's update
        # and create, ann's sign-in
        expect(rows).to_have_count(5)
        for i, (action, who) in enumerate(
            [("auth.login", "manager"), ("auth.login", "manager"), ("customer.update", "ann"),
             ("customer.create", "ann"), ("auth.login", "ann")]
        ):  # fmt: skip
            expect(rows.nth(i).locator("td").nth(1)).to_contain_text(who)
            expect(rows.nth(i)).to_contain_text(action)
        first = rows.nth(2)
        expect(first).to_contain_text("customer.update")
        expect(first).to_contain_text("ann")
        expect(first).to_contain_text("127.0.0.1")
        expect(first.locator("li")).to_have_text("email: dana@example.com → attacker@evil.example")
        when = first.locator("td.when").inner_text().replace("\u202f", " ")
        assert when == _local(entry["at"], zone)
        # the customer's name is text (not markup), isolated for right-to-left scripts
        created = rows.nth(3).locator("li", has_text="name")
        expect(created.locator("bdi.after")).to_have_text(name)
        expect(created.locator("bdi.after")).to_have_attribute("dir", "auto")
        assert page.evaluate("window.pwned") is None

        page.select_option("#audit-action", "customer.create")
        page.fill("#audit-actor", "ann")
        page.click("#audit-run")
        expect(rows).to_have_count(1)
        expect(rows.nth(0)).to_contain_text("customer.create")
        href = page.locator("#audit-csv").get_attribute("href")
        assert href == "/api/audit.csv?actor=ann&action=customer.create"
        page.fill("#audit-actor", "bob")
        page.click("#audit-run")
        expect(rows).to_have_count(1)
        expect(rows.nth(0)).to_have_text("No entries.")

        agent = ctx.new_page()
        ctx.clear_cookies()
        agent.goto(f"{server.url}/login?next=/audit")
        agent.fill("#username", "ann")
        agent.fill("#password", PASSWORD)
        agent.click("#sign-in")
        agent.wait_for_url(f"{server.url}/audit")
        response = agent.goto(f"{server.url}/audit")
        assert response is not None and response.status == 403
    finally:
        ctx.close()
