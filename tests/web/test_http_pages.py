"""The pages under the security headers, in Chromium against a real server (issue 14):
every page runs without a single Content-Security-Policy violation, sign-in never
follows a ``next`` to another site (the server's check and the page's own), and the API
docs render offline from the server's own files."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route, expect
from tests.support.seed import PASSWORD, seed
from tests.support.server import LiveServer

# Collects CSP violations as the page reports them (an init script runs before the
# page's own and is not subject to its CSP).
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " "
                    + (e.sourceFile || "") + ":" + (e.lineNumber || ""));
});
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("pages")
    db_url = f"sqlite:///{tmp / 'center.db'}"
    seed(db_url)
    srv = LiveServer(db_url=db_url, workdir=tmp, env={"CALLCENTER_API_DOCS": "true"})
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@dataclass
class Offline:
    """Requests to anywhere but the server are aborted and remembered."""

    origin: str
    elsewhere: list[str] = field(default_factory=list)

    def __call__(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(self.origin + "/") or url == self.origin:
            route.continue_()
        else:
            self.elsewhere.append(url)
            route.abort()


def _watch(page: Page, server: LiveServer) -> tuple[Offline, list[str]]:
    offline = Offline(server.url)
    page.route("**/*", offline)
    page.add_init_script(WATCH_CSP)
    console: list[str] = []
    page.on(
        "console",
        lambda m: console.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return offline, console


def _sign_in(page: Page, server: LiveServer, user: str, next_: str | None = None) -> None:
    page.goto(server.url + "/login" + ("" if next_ is None else f"?next={next_}"))
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    # (wait_for_function would evaluate a string in the page: the CSP forbids that)
    page.wait_for_url(lambda url: urlsplit(url).path != "/login")
    page.wait_for_load_state("load")


def _violations(page: Page) -> list[str]:
    return list(page.evaluate("window.__csp || []"))


PAGES = [
    ("ann", "/agent", "#state-bar"),
    ("sue", "/wallboard", "main"),
    ("manager", "/crm", "main"),
    ("manager", "/reports", "main"),
    ("admin", "/admin", "#admin-title"),
    ("manager", "/audit", "#audit-form"),
]


@pytest.mark.parametrize(("user", "path", "ready"), PAGES)
def test_pages_run_without_csp_violations(
    page: Page, server: LiveServer, user: str, path: str, ready: str
) -> None:
    offline, console = _watch(page, server)
    _sign_in(page, server, user)
    page.goto(server.url + path)
    expect(page.locator(ready).first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert page.evaluate("getComputedStyle(document.body).margin") in ("0px", "0px 0px")
    assert _violations(page) == [] and console == [], (_violations(page), console)
    assert offline.elsewhere == []


def test_the_desk_socket_opens_with_a_ticket(page: Page, server: LiveServer) -> None:
    _offline, console = _watch(page, server)
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    _sign_in(page, server, "ann")
    page.goto(server.url + "/agent")
    page.wait_for_timeout(1000)
    assert sockets and all("?ticket=" in u for u in sockets), sockets
    assert not any("access_token" in u or "cc_session" in u for u in sockets)
    assert _violations(page) == [] and console == []


def test_the_login_and_chat_pages_run_without_csp_violations(
    page: Page, server: LiveServer
) -> None:
    offline, console = _watch(page, server)
    page.goto(server.url + "/login")
    expect(page.locator("#login-form")).to_be_visible()
    # the chat widget draws itself (its own <style> in a shadow root is allowed there)
    page.goto(server.url + "/chat?queue=support")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.querySelectorAll('script').length") >= 1
    assert _violations(page) == [] and console == [], (_violations(page), console)
    assert offline.elsewhere == []


HOSTILE = [
    "/%5Cevil.example/",
    "/%5C%5Cevil.example/",
    "/%09/evil.example/",
    "/%0a/evil.example/",
    "/%0d%0a/evil.example/",
    "//evil.example/",
    "https://evil.example/",
    "/%2F/evil.example/".replace("%2F", "/"),  # "///evil.example/"
    "javascript:alert(1)",
]


@pytest.mark.parametrize("next_", HOSTILE)
def test_sign_in_never_follows_next_to_another_site(
    page: Page, server: LiveServer, next_: str
) -> None:
    offline, _console = _watch(page, server)
    page.goto(server.url + f"/login?next={next_}")
    assert page.locator("#login-form").get_attribute("data-next") == "/"
    _sign_in(page, server, "manager", next_)
    assert urlsplit(page.url).netloc == urlsplit(server.url).netloc, page.url
    assert urlsplit(page.url).path == "/wallboard"  # the manager's home, via "/"
    assert offline.elsewhere == []


def test_sign_in_follows_a_path_on_this_server(page: Page, server: LiveServer) -> None:
    _watch(page, server)
    _sign_in(page, server, "manager", "/crm%3Fq%3Dx")
    assert page.url == server.url + "/crm?q=x"


@pytest.mark.parametrize(
    "value",
    [
        "/\\evil.example/",
        "/\\\\evil.example",
        "/\t/evil.example/",
        "/\n/evil.example/",
        "/\r\n/evil.example/",
        "//evil.example/",
        "https://evil.example/",
        "javascript:alert(1)",
        "/ok\u0085/",
        "",
    ],
)
def test_the_page_checks_next_itself(page: Page, server: LiveServer, value: str) -> None:
    """The client-side check alone (as if a page had been served without the server's)."""
    page.goto(server.url + "/login")
    assert page.evaluate("(v) => window.ccSafeNext(v)", value) == "/"
    assert page.evaluate("(v) => window.ccSafeNext(v)", "/crm?q=a%40b") == "/crm?q=a%40b"


def test_api_docs_render_offline_from_the_servers_own_files(page: Page, server: LiveServer) -> None:
    offline, console = _watch(page, server)
    page.goto(server.url + "/docs")  # anonymous: sign in first, then back to the docs
    assert urlsplit(page.url).path == "/login"
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(server.url + "/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("callcenter")
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    assert offline.elsewhere == [], offline.elsewhere
    assert _violations(page) == [] and console == [], (_violations(page), console)
