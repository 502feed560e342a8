"""Who may open the push sockets (``/ws/desk``, ``/ws/wallboard``): one rule for both
(``api.deps.socket_principal``). Not signed in: closed with 4401; the wrong role, or a
cookie session whose handshake comes from another site (cross-site WebSocket
hijacking): 4403; a bearer token or a one-use ticket (``POST /api/ws-ticket``) needs no
Origin; a token in the URL (``?access_token=``) is refused. Checked on a real server."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from tests.support.server import LiveServer
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin


def _cookie(server: LiveServer, user: str) -> str:
    with server.client(user) as c:
        return f"cc_session={c.cookies['cc_session']}"


def _token(server: LiveServer, user: str) -> str:
    with server.token_client(user) as c:
        return str(c.headers["Authorization"].removeprefix("Bearer "))


def _open(server: LiveServer, path: str, headers: dict[str, str], origin: str | None) -> Any:
    """The first message, or ("closed", code, reason)."""

    async def run() -> Any:
        async with connect(
            server.ws_url + path,
            additional_headers=headers,
            origin=None if origin is None else Origin(origin),
            proxy=None,
        ) as ws:
            try:
                return json.loads(await asyncio.wait_for(ws.recv(), 10))
            except ConnectionClosed as e:
                assert e.rcvd is not None
                return ("closed", e.rcvd.code, e.rcvd.reason)

    return asyncio.run(run())


@pytest.mark.parametrize("path", ["/ws/desk", "/ws/wallboard"])
def test_anonymous_is_closed_with_4401(live_server: LiveServer, path: str) -> None:
    got = _open(live_server, path, {}, live_server.url)
    assert got == ("closed", 4401, "sign in first")


def test_cookie_sockets_need_this_servers_origin(live_server: LiveServer) -> None:
    server = live_server
    ann, sue = _cookie(server, "ann"), _cookie(server, "sue")
    hello = _open(server, "/ws/desk", {"Cookie": ann}, server.url)
    assert hello == {"type": "hello", "agent": "ann"}
    board = _open(server, "/ws/wallboard", {"Cookie": sue}, server.url)
    assert board["type"] == "wallboard" and {q["name"] for q in board["queues"]} >= {"support"}
    for path, cookie in (("/ws/desk", ann), ("/ws/wallboard", sue)):
        for origin in ("https://evil.example", None):
            got = _open(server, path, {"Cookie": cookie}, origin)
            assert got[:2] == ("closed", 4403), (path, origin, got)
            assert "cross-site" in got[2]


def test_wrong_role_is_closed_with_4403_and_tokens_need_no_origin(live_server: LiveServer) -> None:
    server = live_server
    got = _open(server, "/ws/wallboard", {"Cookie": _cookie(server, "ann")}, server.url)
    assert got == ("closed", 4403, "role 'agent' may not do this (wallboard)")
    got = _open(server, "/ws/desk", {"Cookie": _cookie(server, "sue")}, server.url)
    assert got == ("closed", 4403, "role 'supervisor' may not do this (desk)")
    bearer = {"Authorization": f"Bearer {_token(server, 'manager')}"}
    assert _open(server, "/ws/wallboard", bearer, None)["type"] == "wallboard"
    # a credential in the URL is no credential (it would be logged): closed with 4401
    query = f"/ws/desk?access_token={_token(server, 'bob')}"
    assert _open(server, query, {}, None) == ("closed", 4401, "sign in first")


def _ticket(server: LiveServer, **client: Any) -> str:
    with server.client(**client) if client else server.token_client("bob") as c:
        r = c.post("/api/ws-ticket")
        assert r.status_code == 201, r.text
        body = r.json()
        # valid for about 30 s from now (the server's clock is this machine's)
        assert 25 < body["expires_at"] - time.time() <= 31
        return str(body["ticket"])


def test_a_ticket_opens_one_socket_once(live_server: LiveServer) -> None:
    server = live_server
    ticket = _ticket(server)  # bob, by bearer token
    got = _open(server, f"/ws/desk?ticket={ticket}", {}, "https://elsewhere.example")
    assert got == {"type": "hello", "agent": "bob"}
    used = _open(server, f"/ws/desk?ticket={ticket}", {}, None)
    assert used == ("closed", 4401, "ticket unknown, used or expired: ask for a new one")
    assert _open(server, "/ws/desk?ticket=made-up", {}, None)[:2] == ("closed", 4401)
    # a cookie session gets one too (with its CSRF header), and the role still counts
    ann = _ticket(server, username="ann")
    got = _open(server, f"/ws/wallboard?ticket={ann}", {}, server.url)
    assert got == ("closed", 4403, "role 'agent' may not do this (wallboard)")
    with server.client() as anonymous:
        assert anonymous.post("/api/ws-ticket").status_code == 401
    with server.client("ann") as c:
        del c.headers["X-CSRF-Token"]
        assert c.post("/api/ws-ticket").status_code == 403  # no CSRF header: refused


def test_no_api_route_takes_a_token_from_the_url(live_server: LiveServer) -> None:
    token = _token(live_server, "manager")
    with live_server.client() as c:
        r = c.get("/api/me", params={"access_token": token})
        assert r.status_code == 401, r.text
        r = c.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json()["username"] == "manager"
