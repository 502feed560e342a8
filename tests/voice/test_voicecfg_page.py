"""The admin page's Telephony tabs in Debian's Chromium: an administrator adds an ip
trunk (a bad network refused with the API's one line first), gives an agent a SIP desk
phone and reads its password once — the digest stored is md5 of exactly what the page
showed — and makes a new one.  Checked against the API and the database afterwards."""

from __future__ import annotations

import hashlib

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.support.live_fixtures import live_server
from tests.support.seed import PASSWORD
from tests.support.server import LiveServer

from callcenter.storage.db import make_engine
from callcenter.storage.tables import VoiceDevice

__all__ = ["live_server"]


def _stored_ha1(server: LiveServer, user: str) -> str | None:
    engine = make_engine(server.db_url)
    try:
        with Session(engine) as s:
            return s.scalar(select(VoiceDevice.ha1).where(VoiceDevice.sip_username == user))
    finally:
        engine.dispose()


def test_trunks_and_a_desk_phone_password_shown_once(live_server: LiveServer, page: Page) -> None:
    server = live_server
    page.goto(f"{server.url}/login?next=/admin")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(f"{server.url}/admin")
    page.on("dialog", lambda d: d.accept())

    page.click('[data-tab="voice-trunks"]')
    expect(page.locator("#admin-title")).to_have_text("Telephony: trunks")
    page.fill("#f-name", "carrier-a")
    page.select_option("#f-kind", "ip")
    page.fill("#f-networks", "203.0.113.7, sip.example.net")
    page.click("#admin-save")
    expect(page.locator("#admin-status")).to_have_text(
        "networks: 'sip.example.net' is not valid; expected an IP address or network such as "
        "198.51.100.0/24"
    )
    page.fill("#f-networks", "203.0.113.7, 198.51.100.0/24")
    page.click("#admin-save")
    expect(page.locator("#admin-status")).to_have_text("Saved carrier-a.")
    expect(page.locator("#admin-table tbody tr", has_text="carrier-a")).to_contain_text(
        "203.0.113.7/32, 198.51.100.0/24"
    )

    page.click('[data-tab="voice-devices"]')
    page.fill("#f-agent", "bob")
    page.select_option("#f-kind", "sip")
    page.click("#admin-save")
    expect(page.locator("#admin-secret")).to_be_visible()
    expect(page.locator("#admin-secret-user")).to_have_text("agent-bob")
    shown = page.locator("#admin-secret-password").inner_text()
    assert len(shown) >= 24
    digest = hashlib.md5(f"agent-bob:callcenter:{shown}".encode()).hexdigest()
    assert _stored_ha1(server, "agent-bob") == digest
    row = page.locator("#admin-table tbody tr", has_text="agent-bob")
    expect(row).to_contain_text("sip")

    # another tab and back: the password is gone from the page
    page.click('[data-tab="voice-numbers"]')
    expect(page.locator("#admin-secret")).to_be_hidden()
    page.click('[data-tab="voice-devices"]')
    assert shown not in page.content()

    # a new password: shown once, the stored digest follows
    page.locator("#admin-table tbody tr", has_text="agent-bob").get_by_text("New password").click()
    expect(page.locator("#admin-secret")).to_be_visible()
    fresh = page.locator("#admin-secret-password").inner_text()
    assert fresh != shown
    assert (
        _stored_ha1(server, "agent-bob")
        == hashlib.md5(f"agent-bob:callcenter:{fresh}".encode()).hexdigest()
    )
    with server.client("admin") as admin:
        trunks = admin.ok("GET", "/api/admin/voice/trunks")
    assert [(t["name"], t["kind"], t["active"]) for t in trunks] == [("carrier-a", "ip", True)]
