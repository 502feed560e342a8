"""The server's log never holds a query's values (``cli/access_log.py``): personal
searches and credentials sent in URLs are redacted, on a real ``callcenter serve`` at
log level ``info`` (uvicorn's access log on)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.seed import seed
from tests.support.server import LiveServer
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from callcenter.cli.access_log import REDACTED, RedactQuery, redact_path

EMAIL = "victim.x@example.com"
PHONE = "+79161234567"


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/api/search?q=victim%40example.com", "/api/search?q=***"),
        ("/api/customers?q=a&limit=5&offset=10", "/api/customers?q=***&limit=5&offset=10"),
        ("/ws/desk?access_token=s3cret", "/ws/desk?access_token=***"),
        ("/ws/chat/7?token=s3cret", "/ws/chat/7?token=***"),
        ("/api/search?victim@example.com", "/api/search?***=***"),
        ("/api/tickets?status=open&assignee=ann", "/api/tickets?status=open&assignee=***"),
        ("/api/health", "/api/health"),
        ("/a?", "/a"),
    ],
)
def test_redact_path(path: str, logged: str) -> None:
    assert redact_path(path) == logged


def test_the_filter_rewrites_uvicorns_records() -> None:
    access = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", f"/api/search?q={EMAIL}", "1.1", 200), None,
    )  # fmt: skip
    ws = logging.LogRecord(
        "uvicorn.error", logging.INFO, __file__, 1, '%s - "WebSocket %s" [accepted]',
        ("127.0.0.1:5", "/ws/desk?ticket=abc"), None,
    )  # fmt: skip
    f = RedactQuery()
    assert f.filter(access) and f.filter(ws)
    assert access.getMessage() == '127.0.0.1:5 - "GET /api/search?q=*** HTTP/1.1" 200'
    assert ws.getMessage() == '127.0.0.1:5 - "WebSocket /ws/desk?ticket=***" [accepted]'


@pytest.fixture
def chatty(tmp_path: Path) -> Iterator[LiveServer]:
    db_url = f"sqlite:///{tmp_path / 'center.db'}"
    seed(db_url)
    srv = LiveServer(db_url=db_url, workdir=tmp_path, log_level="info")
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


async def _socket(url: str) -> None:
    try:
        async with connect(url, proxy=None) as ws:
            await asyncio.wait_for(ws.recv(), 5)
    except (ConnectionClosed, InvalidStatus, TimeoutError):
        pass


def test_a_real_servers_log_holds_no_search_or_secret(chatty: LiveServer) -> None:
    server = chatty
    with server.client("manager") as c:
        secrets = [EMAIL, PHONE]
        assert c.get("/api/search", params={"q": EMAIL}).status_code == 200
        assert c.get("/api/customers", params={"q": PHONE, "limit": 5}).status_code == 200
        token = c.post("/api/tokens", json={"name": "log test"}).json()["token"]
        secrets.append(token)
        assert c.get("/api/me", params={"access_token": token}).status_code in (200, 401)
        ticket = c.post("/api/ws-ticket").json()["ticket"]
        secrets.append(ticket)
    asyncio.run(_socket(f"{server.ws_url}/ws/wallboard?ticket={ticket}"))
    asyncio.run(_socket(f"{server.ws_url}/ws/chat/1?token=chat-s3cret-token"))
    secrets.append("chat-s3cret-token")
    time.sleep(0.5)  # the log lines are written as the requests end
    log = (server.workdir / f"server-{server.port}.log").read_text(errors="replace")
    assert f"/api/search?q={REDACTED}" in log, log[-3000:]  # the access log is on
    assert f"/api/customers?q={REDACTED}&limit=5" in log
    assert "/ws/wallboard?ticket=***" in log
    for secret in secrets:
        for form in {secret, secret.replace("@", "%40"), secret.replace("+", "%2B")}:
            assert form not in log, (form, log[-3000:])
