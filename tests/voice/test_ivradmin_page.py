"""The admin page's IVR tabs and a queue's call options in Debian's Chromium, and the
agent's desk showing what a caller gave the IVR; each checked against the API or the
database afterwards."""

from __future__ import annotations

import subprocess
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session
from tests.support.live_fixtures import live_server
from tests.support.seed import PASSWORD
from tests.support.server import LiveServer

from callcenter.storage.db import make_engine
from callcenter.storage.tables import ContactRow

__all__ = ["live_server"]

FLOW = """\
name: front
language: en
nodes:
  welcome:
    kind: menu
    prompt: vm-intro
    options: {1: phones}
    on_invalid: bye
  phones: {kind: queue, queue: phones}
  bye: {kind: hangup, prompt: goodbye-forever}
"""


def _sign_in(page: Page, server: LiveServer, user: str, where: str) -> None:
    page.goto(f"{server.url}/login?next=/{where}")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(f"{server.url}/{where}")


def test_ivr_tabs_save_a_flow_upload_a_prompt_and_queue_options(
    live_server: LiveServer, page: Page, tmp_path: Path
) -> None:
    server = live_server
    with server.client("admin") as admin:
        admin.ok("POST", "/api/admin/queues", json={"name": "phones", "channel": "voice"})
    _sign_in(page, server, "admin", "admin")
    page.on("dialog", lambda d: d.accept())

    page.click('[data-tab="ivr-flows"]')
    expect(page.locator("#admin-title")).to_have_text("IVR: flows")
    page.fill("#f-name", "front")
    page.fill("#f-source", FLOW)
    page.click("#admin-save")
    expect(page.locator("#admin-status")).to_have_text(
        "flow 'front', node 'bye': prompt 'goodbye-forever' has no recording in language 'en' "
        "in the prompt catalogue"
    )
    fixed = FLOW.replace("goodbye-forever", "goodbye")
    page.fill("#f-source", fixed)
    page.click("#admin-save")
    expect(page.locator("#admin-status")).to_have_text("Saved front.")
    expect(page.locator("#admin-table tbody tr", has_text="front")).to_contain_text("en")
    # edited: the form holds the stored YAML
    page.locator("#admin-table tbody tr", has_text="front").get_by_text("Edit").click()
    expect(page.locator("#f-source")).to_have_value(fixed)

    # a prompt upload: a WAV made by sox, converted and listed
    wav = tmp_path / "hold.wav"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", str(wav), "synth", "0.8", "sine", "440"],
                   check=True)  # fmt: skip
    page.click('[data-tab="ivr-prompts"]')
    expect(page.locator("#admin-title")).to_have_text("IVR: prompts")
    expect(page.locator("#admin-help")).to_contain_text("Debian's prompts: en ")
    page.fill("#f-name", "please-hold")
    page.fill("#f-language", "ru")
    page.set_input_files("#f-file", str(wav))
    page.click("#admin-save")
    expect(page.locator("#admin-status")).to_have_text("Saved ru/please-hold.")
    expect(page.locator("#admin-table tbody tr", has_text="please-hold")).to_contain_text("ru")

    # a queue's call options: shown only while the channel is voice
    page.click('[data-tab="queues"]')
    page.locator("#admin-table tbody tr", has_text="phones").get_by_text("Edit").click()
    expect(page.locator("#f-callback_digit")).to_be_visible()
    page.select_option("#f-channel", "chat")
    expect(page.locator("#f-callback_digit")).to_be_hidden()
    page.select_option("#f-channel", "voice")
    page.fill("#f-announce_every_s", "5")
    page.click("#admin-save")
    expect(page.locator("#admin-status")).to_have_text(
        "announce_every_s: 5 is out of range; expected 0 (never) or 10 to 600 seconds"
    )
    page.fill("#f-announce_every_s", "60")
    page.fill("#f-callback_digit", "*")
    page.fill("#f-callback_prompt", "please-hold")
    page.uncheck("#f-record_calls")
    page.click("#admin-save")
    expect(page.locator("#admin-status")).to_have_text("Saved phones.")
    expect(page.locator("#admin-table tbody tr", has_text="phones")).to_contain_text(
        "announce every 60 s, call back: * (please-hold), not recorded"
    )
    # a chat queue's row shows no call options
    support = page.locator("#admin-table tbody tr", has_text="support")
    expect(support).not_to_contain_text("announce")

    with server.client("admin") as admin:
        assert admin.ok("GET", "/api/admin/ivr/flows/front")["source"] == fixed
        langs = {p["language"]: p["own"] for p in admin.ok("GET", "/api/admin/ivr/prompts")}
        assert langs["ru"] == ["please-hold"]
        queue = next(q for q in admin.ok("GET", "/api/admin/queues") if q["name"] == "phones")
    assert (queue["announce_every_s"], queue["callback_digit"], queue["callback_prompt"],
            queue["record_calls"]) == (60.0, "*", "please-hold", False)  # fmt: skip


def test_the_desk_shows_what_the_caller_gave_the_ivr(live_server: LiveServer, page: Page) -> None:
    server = live_server
    with server.client() as anon:
        cid = anon.ok("POST", "/api/chat/start",
                      json={"queue": "support", "name": "Dan Brown", "message": "hello"},
                      )["contact_id"]  # fmt: skip
    data = {"Account number": "4000123412341234", "Reason": "<img src=x onerror=alert(1)>",
            "Язык": "русский", "شماره حساب": "۱۲۳۴۵"}  # fmt: skip
    engine = make_engine(server.db_url)
    try:
        with Session(engine) as s, s.begin():
            row = s.get(ContactRow, cid)
            assert row is not None
            row.ivr_data = data
    finally:
        engine.dispose()

    _sign_in(page, server, "ann", "agent")
    page.click("#btn-login")
    offer = page.locator('[data-testid="offer"]')
    expect(offer.locator('[data-field="offer-ivr"]')).to_have_text(
        "Account number: 4000123412341234 · Reason: <img src=x onerror=alert(1)> · Язык: русский"
        " · شماره حساب: ۱۲۳۴۵"
    )
    offer.locator('[data-action="accept"]').click()
    box = page.locator('[data-testid="ivr-data"]')
    expect(box).to_be_visible()
    expect(box.locator('[data-field="ivr-label"]')).to_have_text(list(data))
    expect(box.locator('[data-field="ivr-value"]')).to_have_text(list(data.values()))
    assert box.locator("img").count() == 0  # the caller's text stayed text
    # right-to-left text keeps its own direction beside left-to-right labels
    expect(box.locator("dt").last).to_have_attribute("dir", "auto")
    expect(box.locator("dd").last).to_have_attribute("dir", "auto")
