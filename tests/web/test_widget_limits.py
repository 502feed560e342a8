"""The chat widget under the chat limits, in Debian's Chromium (issue 14, items 5 and 7).

A server with small limits (two messages at once per chat, two chat starts per address):
the widget opens its socket with a ticket (the token is never in a socket URL), tells
the customer to slow down when a message is refused (429), keeps the text typed, and
sends it once the wait is over; a third chat start from the same address is refused
with a clear message.  The page is served from the center itself; the widget's calls
are CORS calls all the same (``docs/chat.md``)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, WebSocket, expect
from tests.support.seed import seed
from tests.support.server import LiveServer, running_server

LIMITS = {
    "CALLCENTER_CHAT_MESSAGES_BURST": "2",
    "CALLCENTER_CHAT_MESSAGES_PER_MINUTE": "30",  # one every 2 s
    "CALLCENTER_CHAT_STARTS_BURST": "2",
    "CALLCENTER_CHAT_STARTS_PER_MINUTE": "1",
}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    url = f"sqlite:///{tmp_path / 'center.db'}"
    seed(url)
    with running_server(url, tmp_path, **LIMITS) as s:
        yield s


def _start(page: Page, server: LiveServer, name: str) -> None:
    page.goto(f"{server.url}/chat?queue=support")
    page.fill("input[name=name]", name)
    page.fill("textarea[name=message]", "hello")
    page.click('[data-testid="chat-start"]')


def test_widget_uses_a_ticket_and_says_slow_down(
    server: LiveServer, page: Page, chromium_browser: Browser
) -> None:
    sockets: list[WebSocket] = []
    page.on("websocket", lambda ws: sockets.append(ws))
    _start(page, server, "Quick Typer")
    expect(page.locator('[data-testid="chat-status"]')).to_have_text("Waiting for an agent…")
    assert sockets, "the widget opened no socket"
    assert re.search(r"/ws/chat/chat-[0-9a-f]+\?ticket=[\w-]+$", sockets[0].url), sockets[0].url
    assert "token" not in sockets[0].url

    box, send = (
        page.locator('[data-testid="chat-input"]'),
        page.locator('[data-testid="chat-send"]'),
    )
    for text in ("one", "two"):
        box.fill(text)
        send.click()
        expect(page.locator('[data-testid="chat-message"]').last).to_contain_text(text)
    box.fill("three")
    send.click()
    notice = page.locator('[data-testid="chat-notice"]')
    expect(notice).to_have_text(re.compile(r"^Please slow down: .* You can send again in \d s\.$"))
    expect(box).to_have_value("three")  # nothing typed is lost
    expect(send).to_be_disabled()
    expect(send).to_be_enabled(timeout=5000)  # after Retry-After (at most 2 s)
    expect(notice).to_have_text("")
    send.click()
    expect(page.locator('[data-testid="chat-message"]').last).to_contain_text("three")

    # a second start from this address is fine (a burst of 2); a third is refused, clearly
    other = chromium_browser.new_context()
    try:
        for name in ("Second Start", "Third Start"):
            p = other.new_page()
            _start(p, server, name)
        error = p.locator('[data-testid="chat-error"]')
        expect(error).to_have_text(re.compile(
            r"^Too many chats were started from your network just now\. "
            r"Please try again in \d+ s\.$"))  # fmt: skip
    finally:
        other.close()


def test_widget_reconnects_with_a_new_ticket(server: LiveServer, page: Page) -> None:
    """Tickets live in the server's memory and are used once: after a restart the widget
    must fetch a new one to reconnect, and then it gets the chat's pushes again."""
    sockets: list[tuple[WebSocket, list[str]]] = []

    def opened(ws: WebSocket) -> None:
        frames: list[str] = []
        ws.on("framereceived", lambda f: frames.append(str(f)))
        sockets.append((ws, frames))

    page.on("websocket", opened)
    _start(page, server, "Patient Pat")
    status = page.locator('[data-testid="chat-status"]')
    expect(status).to_have_text("Waiting for an agent…")
    server.stop()
    server.start()
    deadline = time.monotonic() + 20
    while len(sockets) < 2 or not any('"hello"' in f for f in sockets[-1][1]):
        assert time.monotonic() < deadline, [ws.url for ws, _ in sockets]
        page.wait_for_timeout(100)
    tickets = [ws.url.rsplit("?ticket=", 1)[1] for ws, _ in sockets]
    assert len(set(tickets)) == len(tickets)  # a fresh ticket every time
    with server.client("ann") as ann:
        ann.ok("POST", "/api/desk/login")
        (offer,) = ann.ok("GET", "/api/desk")["contacts"]
        ann.ok("POST", f"/api/desk/contacts/{offer['id']}/accept")
        ann.ok("POST", f"/api/desk/contacts/{offer['id']}/messages", json={"body": "Back again"})
    expect(status).to_have_text("You are chatting with Ann.")
    expect(page.locator('[data-testid="chat-message"]').last).to_contain_text("Back again")
    assert any("Back again" in f for f in sockets[-1][1])  # pushed on the new socket
