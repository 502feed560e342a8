"""The browser fixtures: Debian's Chromium under Playwright clicks through a real page."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.support.browser import DEFAULT_TIMEOUT_MS, find_chromium

REPO = Path(__file__).resolve().parents[2]

PAGE = b"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Queue status</title></head>
<body>
  <p id="status">waiting</p>
  <button id="answer" type="button">Answer</button>
  <script>
    document.getElementById("answer").addEventListener("click", () => {
      document.getElementById("status").textContent = "answered";
    });
  </script>
</body>
</html>
"""


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """Base URL of a tiny HTTP server on 127.0.0.1 (free port), in a thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, name="test-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_click_changes_text(page: Page, site: str) -> None:
    page.goto(site)
    expect(page).to_have_title("Queue status")
    status = page.locator("#status")
    expect(status).to_have_text("waiting")
    page.get_by_role("button", name="Answer").click()
    expect(status).to_have_text("answered")


def test_each_test_gets_a_fresh_page(page: Page, site: str) -> None:
    # The click of the test above is not visible here: new context, new page.
    page.goto(site)
    expect(page.locator("#status")).to_have_text("waiting")


def test_browser_is_the_system_chromium(chromium_browser: Browser) -> None:
    assert chromium_browser.is_connected()
    assert chromium_browser.browser_type.name == "chromium"
    assert chromium_browser.version  # e.g. "156.0.8078.79"


def test_default_timeout_is_ten_seconds(page: Page) -> None:
    # Playwright has no public getter; waiting 10 s for a timeout would be too slow, so
    # peek at the page's timeout settings (private API, checked here only).
    settings = page._impl_obj._timeout_settings
    assert settings.timeout(None) == DEFAULT_TIMEOUT_MS == 10_000
    assert settings.navigation_timeout(None) == DEFAULT_TIMEOUT_MS
    page.set_content("<p>nothing to click</p>")
    with pytest.raises(PlaywrightTimeoutError, match="Timeout 200ms exceeded"):
        page.click("#absent", timeout=200)


_MIXED_SESSION = """
import asyncio

import pytest


async def _answer() -> int:
    await asyncio.sleep(0)
    return 42


def test_1_browser(page):
    page.set_content("<p id='x'>one</p>")
    assert page.inner_text("#x") == "one"


def test_2_asyncio_after_browser():
    assert asyncio.run(_answer()) == 42


def test_3_browser_again(page):
    page.set_content("<p id='x'>three</p>")
    assert page.inner_text("#x") == "three"


@pytest.fixture
def loop_in_fixture():
    loop = asyncio.new_event_loop()
    yield loop.run_until_complete(_answer())
    loop.run_until_complete(asyncio.sleep(0))
    loop.close()


def test_4_asyncio_last(loop_in_fixture):
    # Last test: the browser is closed in its teardown, with Playwright's loop hidden.
    assert loop_in_fixture == 42
    assert asyncio.run(_answer()) == 42
"""


def test_asyncio_tests_can_follow_browser_tests(tmp_path: Path) -> None:
    # In one worker, in this order; run in a separate pytest process so that the order
    # does not depend on how xdist spreads this file's tests.
    test_file = tmp_path / "test_mixed.py"
    test_file.write_text(_MIXED_SESSION)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "tests.support.fixtures",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "-o",
            "addopts=",
            str(test_file),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout


def test_missing_chromium_names_the_apt_package(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"apt-get install chromium\b"):
        find_chromium(tmp_path / "no-chromium")
