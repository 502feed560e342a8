"""``GET /api/admin/voice/blocked`` on a real server running its embedded Asterisk
(``serve`` with ``voice=embedded``): svcrack's wrong passwords from 127.0.0.1 get the
address listed (with the failures counted and the block's end), administrators only, in
the API and on the admin page (Debian's Chromium)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from tests.support.seed import PASSWORD, seed
from tests.support.server import Client, LiveServer, running_server

from callcenter.settings import Settings
from callcenter.voice.asterisk import AsteriskMissingError, find_install

BLOCKED = "/api/admin/voice/blocked"
BIN = Path(sys.executable).parent
WORDS = ["123456", "password", "1234", "secret", "qwerty", "admin"]
MAX_FAILURES = 4
BLOCK_S = 600


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, int]]:
    try:
        find_install(Settings.load().cache_dir)
    except AsteriskMissingError as e:
        pytest.fail(str(e))
    if not (BIN / "sipvicious_svcrack").exists():
        pytest.fail("sipvicious is not installed (pip install -e '.[dev]')")
    tmp: Path = tmp_path_factory.mktemp("sipguard")
    url = f"sqlite:///{tmp / 'center.db'}"
    seed(url)
    sip_port = _free_udp_port()
    env = {
        "CALLCENTER_VOICE": "embedded",
        "CALLCENTER_VOICE_SIP_PORT": str(sip_port),
        "CALLCENTER_VOICE_HTTP_PORT": "0",
        "CALLCENTER_VOICE_GUARD_MAX_FAILURES": str(MAX_FAILURES),
        "CALLCENTER_VOICE_GUARD_BLOCK_S": str(BLOCK_S),
        "CALLCENTER_DATA_DIR": str(tmp / "data"),
    }
    with running_server(url, tmp, **env) as srv:
        yield srv, sip_port


def _get(c: Client) -> Any:
    return c.ok("GET", BLOCKED)


def test_only_administrators_see_the_list(server: tuple[LiveServer, int]) -> None:
    srv, _ = server
    for name in ("manager", "sue", "ann"):
        with srv.client(name) as c:
            r = c.request("GET", BLOCKED)
            assert r.status_code == 403, (name, r.text)
            assert set(r.json()["error"]) == {"code", "message"}
    with srv.client() as anonymous:
        assert anonymous.request("GET", BLOCKED).status_code == 401


def _brute_force(srv: LiveServer, sip_port: int, tmp: Path) -> list[dict[str, Any]]:
    """svcrack guesses an unknown user's password from 127.0.0.1; the list the admin
    then sees (waiting up to 15 s for the guard's next rounds)."""
    words = tmp / "words.txt"
    words.write_text("\n".join(WORDS) + "\n")
    cmd = [
        str(BIN / "sipvicious_svcrack"), "-b", "127.0.0.1", "-P", str(_free_udp_port()),
        "-p", str(sip_port), "-u", "agent-nobody", "-d", str(words),
        "--maximumtime=20", "127.0.0.1",
    ]  # fmt: skip
    env = {**os.environ, "HOME": str(tmp)}
    subprocess.run(cmd, cwd=tmp, capture_output=True, timeout=60, env=env)
    listed: list[dict[str, Any]] = []
    with srv.client("admin") as admin:
        deadline = time.monotonic() + 15
        while not listed and time.monotonic() < deadline:
            listed = _get(admin)
            time.sleep(0.2)
    return listed


def test_brute_force_is_listed_for_the_admin(
    server: tuple[LiveServer, int], tmp_path: Path
) -> None:
    srv, sip_port = server
    with srv.client("admin") as admin:
        assert _get(admin) == []
    started = time.time()
    listed = _brute_force(srv, sip_port, tmp_path)
    assert len(listed) == 1, srv.log()[-3000:]
    [row] = listed
    assert row["address"] == "127.0.0.1"
    assert row["failures"] == MAX_FAILURES
    assert started - 1 <= row["since"] <= time.time()
    assert row["until"] == pytest.approx(row["since"] + BLOCK_S)
    assert "SIP guard: blocked 127.0.0.1" in srv.log()


def _sign_in(page: Page, srv: LiveServer, user: str) -> None:
    page.goto(f"{srv.url}/login?next=/admin")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(f"{srv.url}/admin")


def test_the_admin_page_shows_the_blocked_addresses(
    server: tuple[LiveServer, int], tmp_path: Path, page: Page
) -> None:
    srv, sip_port = server
    with srv.client("admin") as admin:
        listed = _get(admin) or _brute_force(srv, sip_port, tmp_path)
    assert [r["address"] for r in listed] == ["127.0.0.1"]
    _sign_in(page, srv, "admin")
    card = page.locator("#sip-blocked")
    expect(card).to_be_visible()
    expect(page.locator("#sip-blocked-none")).to_be_hidden()
    rows = card.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td").nth(0)).to_have_text("127.0.0.1")
    expect(rows.first.locator("td").nth(1)).to_have_text(str(MAX_FAILURES))


def test_the_card_is_hidden_from_a_manager(server: tuple[LiveServer, int], page: Page) -> None:
    srv, _ = server
    with page.expect_response(lambda r: r.url.endswith(BLOCKED)) as answer:
        _sign_in(page, srv, "manager")
    assert answer.value.status == 403  # the card's script asked, and was refused
    expect(page.locator("#sip-blocked")).to_be_hidden()
