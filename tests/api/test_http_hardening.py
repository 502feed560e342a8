"""HTTP hardening on a real server (issue 14; ``docs/security.md``): the request-size
limit (413 before the body is read), security headers on every response, the API docs
behind a setting and sign-in with their assets served locally, the 503 and health
report of a full database (SQLite really full: ``PRAGMA max_page_count``) and its
recovery, and the bounds on inputs (search terms, non-finite numbers, e-mails, names)."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.seed import seed
from tests.support.server import Client, LiveServer

REPO = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for the module: API docs on, a small body limit (64 KiB)."""
    tmp = tmp_path_factory.mktemp("http")
    db_url = f"sqlite:///{tmp / 'center.db'}"
    seed(db_url)
    srv = LiveServer(
        db_url=db_url,
        workdir=tmp,
        env={"CALLCENTER_API_DOCS": "true", "CALLCENTER_MAX_BODY_BYTES": str(64 * 1024)},
    )
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def _error(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    return str(body["error"]["message"])


def _raw(port: int, head: bytes, body: bytes = b"", timeout: float = 5.0) -> bytes:
    """Send ``head`` and ``body`` on a fresh connection; what comes back until it closes
    (or ``timeout``)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head + body)
        got = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            got += chunk
            if b"\r\n\r\n" in got and got.split(b"\r\n\r\n", 1)[1].endswith(b"}"):
                break
        return got


# --------------------------------------------------------------------------- body size


def test_the_default_limit_is_one_mib_checked_before_the_body(live_server: LiveServer) -> None:
    # 1 MiB + 1 byte announced: refused whatever follows
    r = httpx.post(
        live_server.url + "/api/chat/start",
        content=b" " * (MIB + 1),
        headers={"Content-Type": "application/json"},
    )
    assert "at most 1048576 bytes" in _error(r, 413)
    # 100 MB announced, 10 bytes sent: the answer comes at once, the body never read
    head = (
        b"POST /api/chat/start HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n"
    )
    t0 = time.monotonic()
    got = _raw(live_server.port, head, b'{"queue":', timeout=5.0)
    assert got.startswith(b"HTTP/1.1 413 "), got[:200]
    assert b'"code":"too_large"' in got
    assert time.monotonic() - t0 < 3.0
    # a body under the limit goes through as before
    with live_server.client() as c:
        r = c.post("/api/chat/start", json={"queue": "support", "name": "Ann", "text": "hi"})
        assert r.status_code == 201, r.text


def test_a_chunked_body_is_counted_as_it_arrives(server: LiveServer) -> None:
    limit = 64 * 1024

    def chunks(total: int) -> Iterator[bytes]:
        yield b'{"queue": "support", "name": "'
        sent = 30
        while sent < total - 2:
            n = min(4096, total - 2 - sent)
            yield b"x" * n
            sent += n
        yield b'"}'

    url = server.url + "/api/chat/start"
    headers = {"Content-Type": "application/json"}
    r = httpx.post(url, content=chunks(limit + 1), headers=headers)  # no Content-Length
    assert r.request.headers.get("transfer-encoding") == "chunked"
    assert f"at most {limit} bytes" in _error(r, 413)
    r = httpx.post(url, content=chunks(limit - 100), headers=headers)
    assert r.status_code == 422, r.text  # under the limit: read and validated (name too long)


# --------------------------------------------------------------------------- headers

CSP = re.compile(r"default-src 'self'; script-src 'self'; style-src 'self'[; ]")


@pytest.mark.parametrize(
    "path", ["/login", "/api/health", "/static/app.js", "/api/nowhere", "/agent"]
)
def test_every_response_carries_the_security_headers(server: LiveServer, path: str) -> None:
    r = httpx.get(server.url + path)
    h = r.headers
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "no-referrer"
    assert h["x-frame-options"] == "DENY"
    assert CSP.match(h["content-security-policy"]), h["content-security-policy"]
    assert "frame-ancestors 'none'" in h["content-security-policy"]
    assert "unsafe-inline" not in h["content-security-policy"]


def test_the_chat_page_may_be_framed_by_other_sites(server: LiveServer) -> None:
    h = httpx.get(server.url + "/chat?queue=support").headers
    assert "x-frame-options" not in h
    assert "frame-ancestors *" in h["content-security-policy"]
    assert "script-src 'self';" in h["content-security-policy"]  # still no inline script


def test_413_carries_the_headers_too(server: LiveServer) -> None:
    r = httpx.post(server.url + "/api/chat/start", content=b" " * (64 * 1024 + 1))
    assert r.status_code == 413 and r.headers["x-frame-options"] == "DENY"
    # the chat widget on another site can read why (CORS), as for every chat error
    assert r.headers["access-control-allow-origin"] == "*"
    signed_in_route = httpx.post(server.url + "/api/customers", content=b" " * (64 * 1024 + 1))
    assert signed_in_route.status_code == 413
    assert "access-control-allow-origin" not in signed_in_route.headers


# --------------------------------------------------------------------------- API docs


def test_api_docs_are_off_by_default(live_server: LiveServer) -> None:
    with live_server.client("admin") as c:
        for path in ("/docs", "/openapi.json", "/redoc", "/docs/assets/swagger-ui.css"):
            assert c.get(path).status_code == 404, path


def test_api_docs_need_sign_in_and_load_nothing_from_elsewhere(server: LiveServer) -> None:
    with server.client() as anonymous:
        assert "sign in first" in _error(anonymous.get("/openapi.json"), 401)
        r = anonymous.get("/docs")
        assert (r.status_code, r.headers["location"]) == (303, "/login?next=/docs")
    with server.client("ann") as c:
        spec = c.get("/openapi.json").json()
        assert spec["info"]["title"] == "callcenter" and "/api/ws-ticket" in spec["paths"]
        page = c.get("/docs")
        assert page.status_code == 200
        refs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert refs and all(ref.startswith("/") and not ref.startswith("//") for ref in refs)
        assert "cdn" not in page.text.lower() and "<script>" not in page.text
        for ref in refs:
            asset = c.get(ref)
            assert asset.status_code == 200, ref
        js = c.get("/docs/assets/swagger-ui-bundle.js")
        assert js.headers["content-type"].startswith(("text/javascript", "application/javascript"))
        assert len(js.content) > 500_000  # the real Swagger UI, from the package


# --------------------------------------------------------------------------- bounds


def test_search_terms_are_bounded(server: LiveServer) -> None:
    with server.client("manager") as c:
        for path in ("/api/search", "/api/customers", "/api/tickets"):
            assert c.get(path, params={"q": "x" * 200}).status_code == 200, path
            for n in (201, 50_001):
                msg = _error(c.get(path, params={"q": "x" * n}), 422)
                assert msg == "query.q: String should have at most 200 characters", msg
        msg = _error(c.get("/api/contacts", params={"agent": "a" * 65}), 422)
        assert msg.startswith("query.agent: String should have at most 64 characters")


def _raw_json(c: Client, method: str, path: str, text: str) -> httpx.Response:
    # httpx refuses to write NaN or Infinity; a client may still send them
    headers = {"Content-Type": "application/json"}
    return c.request(method, path, content=text.encode(), headers=headers)


def test_non_finite_numbers_are_refused(server: LiveServer) -> None:
    with server.client("manager") as c:
        customer = c.ok("POST", "/api/customers", json={"name": "Finite Fay"})
        cid = customer["id"]
        for bad in ("NaN", "Infinity", "-Infinity", "1e999"):
            body = f'{{"customer_id": {cid}, "subject": "s", "sla_due_at": {bad}}}'
            r = _raw_json(c, "POST", "/api/tickets", body)
            assert _error(r, 422) == "sla_due_at: Input should be a finite number", bad
            r = _raw_json(
                c, "POST", "/api/follow-ups", f'{{"customer_id": {cid}, "due_at": {bad}}}'
            )
            assert _error(r, 422) == "due_at: Input should be a finite number", bad
        ticket = c.ok("POST", "/api/tickets", json={"customer_id": cid, "subject": "s"})
        r = _raw_json(c, "PATCH", f"/api/tickets/{ticket['id']}", '{"sla_due_at": NaN}')
        assert _error(r, 422) == "sla_due_at: Input should be a finite number"
        assert c.ok("GET", f"/api/tickets/{ticket['id']}")["sla_due_at"] is not None
        r = c.get("/api/follow-ups", params={"due_before": "inf"})
        assert _error(r, 422) == "query.due_before: Input should be a finite number"
    with server.client("admin") as a:
        r = _raw_json(a, "POST", "/api/admin/queues", '{"name": "nanq", "ring_timeout_s": NaN}')
        assert _error(r, 422) == "ring_timeout_s: Input should be a finite number"


@pytest.mark.parametrize(
    "email",
    [
        'x"><script>alert(1)</script>@example.com',
        '"><script>@example.com',
        "a@b",
        "a b@example.com",
    ],
)
def test_user_emails_are_checked(server: LiveServer, email: str) -> None:
    with server.client("admin") as a:
        body = {"username": "mailer", "password": "long enough 1", "role": "qa", "email": email}
        msg = _error(a.post("/api/users", json=body), 422)
        assert msg.startswith(f"email: {email!r} is not an e-mail address"), msg


@pytest.mark.parametrize(
    ("char", "shown"),
    [
        ("\x00", "U+0000"),
        ("\x1b", "U+001B"),
        ("\x85", "U+0085"),
        ("\u200b", "U+200B (ZERO WIDTH SPACE)"),
        ("\u2060", "U+2060 (WORD JOINER)"),
        ("\ufeff", "U+FEFF (ZERO WIDTH NO-BREAK SPACE)"),
        ("\u202e", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("\u2066", "U+2066 (LEFT-TO-RIGHT ISOLATE)"),
    ],
)
def test_names_with_control_or_invisible_characters_are_refused(
    server: LiveServer, char: str, shown: str
) -> None:
    name = f"Ev{char}e"
    with server.client("manager") as c:
        msg = _error(c.post("/api/customers", json={"name": name}), 422)
        assert msg.startswith(f"name: contains {shown}"), msg
    with server.client("admin") as a:
        body = {"username": "invisible", "password": "long enough 1", "role": "qa",
                "display_name": name}  # fmt: skip
        msg = _error(a.post("/api/users", json=body), 422)
        assert msg.startswith(f"display_name: contains {shown}"), msg
        # one-line texts of the configuration too (team names, labels, descriptions)
        msg = _error(a.post("/api/admin/teams", json={"name": name}), 422)
        assert msg.startswith(f"name: contains {shown}"), msg
        body = {"code": "odd", "label": name}
        msg = _error(a.post("/api/admin/dispositions", json=body), 422)
        assert msg.startswith(f"label: contains {shown}"), msg


def test_persian_names_keep_their_zero_width_non_joiner(server: LiveServer) -> None:
    name = "می\u200cخواهم کتاب\u200cها"  # ZWNJ inside words, as Persian writes them
    with server.client("manager") as c:
        made = c.ok("POST", "/api/customers", json={"name": name})
        assert made["name"] == name
    with server.client("admin") as a:
        body = {"username": "persian", "password": "long enough 1", "role": "qa",
                "display_name": name, "email": "Zahra@Example.COM"}  # fmt: skip
        user = a.ok("POST", "/api/users", json=body)
        assert (user["display_name"], user["email"]) == (name, "zahra@example.com")


# --------------------------------------------------------------------------- a full database


@pytest.fixture
def capped(tmp_path: Path) -> Iterator[tuple[LiveServer, Path]]:
    """A server whose SQLite connections obey a page cap read from a file."""
    db_url = f"sqlite:///{tmp_path / 'center.db'}"
    seed(db_url)
    cap = tmp_path / "cap"
    srv = LiveServer(
        db_url=db_url,
        workdir=tmp_path,
        entry=("-m", "tests.support.sqlite_cap"),
        env={"CC_TEST_SQLITE_CAP_FILE": str(cap), "PYTHONPATH": str(REPO)},
    )
    srv.start()
    try:
        yield srv, cap
    finally:
        srv.stop()


def test_a_full_database_answers_503_and_health_says_so_until_freed(
    capped: tuple[LiveServer, Path],
) -> None:
    server, cap = capped
    c = server.client("manager")
    big = {"name": "Big Notes", "notes": "n" * 20_000}  # needs new pages
    assert c.post("/api/customers", json=big).status_code == 201
    assert httpx.get(server.url + "/api/health").json()["status"] == "ok"

    cap.write_text("1")  # the cap becomes the database's present size: it is full
    for _ in range(3):
        r = c.post("/api/customers", json=big)
        msg = _error(r, 503)
        assert msg.startswith("the database is full (database or disk is full)"), msg
        assert r.json()["error"]["code"] == "storage_full"
        assert r.headers["retry-after"] == "30"
    h = httpx.get(server.url + "/api/health")
    assert h.status_code == 503, h.text
    body: dict[str, Any] = h.json()
    assert (body["status"], body["store"], body["full"]) == ("failing", "database", True)
    assert body["reason"] == "database or disk is full"
    assert body["error"]["code"] == "storage_full"
    assert httpx.get(server.url + "/api/health").status_code == 503  # still, while full
    # reading still works
    assert c.get("/api/customers", params={"q": "Big"}).json()["total"] == 1

    cap.write_text("")  # space again
    h = httpx.get(server.url + "/api/health")
    assert (h.status_code, h.json()["status"]) == (200, "ok"), h.text
    assert c.post("/api/customers", json=big).status_code == 201
    assert c.get("/api/customers", params={"q": "Big"}).json()["total"] == 2
    c.close()
