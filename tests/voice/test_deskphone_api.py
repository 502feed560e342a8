"""``POST /api/desk/phone`` against a real server with voice ``embedded`` (its own
Asterisk): who may ask, the refusals (409 with a code the desk acts on), and a
credential that works at once and rotates — checked with SIPp REGISTERs against the
running Asterisk (the independent truth: Asterisk's own digest check), and with the
stored HA1 computed here by hand (RFC 2617: md5 of ``user:realm:password``)."""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.support.seed import seed
from tests.support.server import LiveServer
from tests.support.sip import register_phone

from callcenter.storage.db import make_engine
from callcenter.storage.tables import VoiceDevice

TTL_S = 600.0


def _free(kind: socket.SocketKind) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Voice:
    def __init__(self, server: LiveServer, db_url: str, sip_port: int, http_port: int) -> None:
        self.server, self.db_url = server, db_url
        self.sip = ("127.0.0.1", sip_port)
        self.http_port = http_port


@pytest.fixture(scope="module")
def voice(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Voice]:
    tmp = tmp_path_factory.mktemp("deskphone-api")
    url = f"sqlite:///{tmp / 'center.db'}"
    seed(url)
    sip_port, http_port = _free(socket.SOCK_DGRAM), _free(socket.SOCK_STREAM)
    server = LiveServer(db_url=url, workdir=tmp, log_level="info")
    server.env = {
        "CALLCENTER_VOICE": "embedded",
        "CALLCENTER_VOICE_SIP_PORT": str(sip_port),
        "CALLCENTER_VOICE_HTTP_PORT": str(http_port),
        "CALLCENTER_DATA_DIR": str(tmp / "data"),
        "CALLCENTER_DESK_PHONE_TTL_S": str(TTL_S),
    }
    server.start()
    try:
        with server.client("admin") as admin:
            admin.ok("PUT", "/api/admin/voice/agents/ann/device", json={"kind": "webrtc"})
            admin.ok("PUT", "/api/admin/voice/agents/bob/device", json={"kind": "sip"})
        yield Voice(server, url, sip_port, http_port)
    finally:
        server.stop()


def _error(r: object) -> tuple[int, str, str]:
    import httpx

    assert isinstance(r, httpx.Response)
    body = r.json()["error"]
    return r.status_code, body["code"], body["message"]


@pytest.mark.parametrize("user", ["admin", "manager", "sue", "quinn"])
def test_only_agents_get_a_desk_phone(voice: Voice, user: str) -> None:
    with voice.server.client(user) as c:
        assert c.post("/api/desk/phone").status_code == 403


def test_no_one_signed_in_gets_401_and_a_page_without_csrf_403(voice: Voice) -> None:
    with voice.server.client() as anon:
        assert anon.post("/api/desk/phone").status_code == 401
    with voice.server.client("ann") as ann:
        del ann.headers["X-CSRF-Token"]
        assert ann.post("/api/desk/phone").status_code == 403


def test_a_sip_desk_phone_and_no_phone_are_clear_409s(voice: Voice) -> None:
    with voice.server.client("bob") as bob:
        assert _error(bob.post("/api/desk/phone")) == (
            409,
            "sip_phone",
            "agent 'bob' answers calls on a SIP desk phone (device sip), not in the "
            "browser: the desk shows the offer, answer it on the phone",
        )
    with voice.server.client("cid") as cid:
        assert _error(cid.post("/api/desk/phone")) == (
            409,
            "no_phone",
            "agent 'cid' has no phone; an administrator gives one in Telephony: phones "
            "(kind webrtc for the desk's softphone)",
        )


def _ha1(s: Session) -> tuple[str | None, float | None]:
    row = s.scalar(select(VoiceDevice).where(VoiceDevice.sip_username == "agent-ann"))
    assert row is not None
    return row.ha1, row.expires_at


def test_the_credential_registers_at_once_and_the_next_one_replaces_it(voice: Voice) -> None:
    before = time.time()
    with voice.server.client("ann") as ann:
        t0 = time.perf_counter()
        first = ann.ok("POST", "/api/desk/phone")
        print(f"POST /api/desk/phone (issue + reload): {time.perf_counter() - t0:.3f} s")
        assert set(first) == {
            "wsUrl", "uri", "authorizationUser", "password", "displayName", "expiresAt",
        }  # fmt: skip
        assert first["wsUrl"] == f"ws://127.0.0.1:{voice.http_port}/ws"
        assert first["uri"] == "sip:agent-ann@127.0.0.1"
        assert first["authorizationUser"] == "agent-ann"
        assert first["displayName"] == "Ann"  # the seed's display name
        assert len(first["password"]) == 32  # 24 random bytes, URL-safe base64
        assert before + TTL_S - 1 <= first["expiresAt"] <= time.time() + TTL_S + 1
        db = make_engine(voice.db_url)
        try:
            with Session(db) as s:
                ha1, expires = _ha1(s)
            assert (
                ha1 == hashlib.md5(f"agent-ann:callcenter:{first['password']}".encode()).hexdigest()
            )
            assert expires == pytest.approx(first["expiresAt"])
            # Asterisk took it before the answer: it registers now
            register_phone(
                voice.sip, "agent-ann", first["password"], _free(socket.SOCK_DGRAM)
            ).assert_ok()
            second = ann.ok("POST", "/api/desk/phone")
        finally:
            db.dispose()
    assert second["password"] != first["password"]
    old = register_phone(voice.sip, "agent-ann", first["password"], _free(socket.SOCK_DGRAM))
    assert old.status_codes == [401, 401], old.status_codes  # the old one no longer registers
    register_phone(voice.sip, "agent-ann", second["password"], _free(socket.SOCK_DGRAM)).assert_ok()


def test_the_agent_page_carries_the_phone_and_may_reach_asterisk(voice: Voice) -> None:
    with voice.server.client("ann") as ann:
        r = ann.get("/agent")
    assert r.status_code == 200
    assert 'data-softphone-config-url="/api/desk/phone"' in r.text
    csp = r.headers["content-security-policy"]
    connect = next(p.strip() for p in csp.split(";") if p.strip().startswith("connect-src"))
    assert connect == f"connect-src 'self' ws://127.0.0.1:{voice.http_port}"
    with voice.server.client("ann") as ann:  # other pages are not opened
        assert "ws://" not in ann.get("/crm").headers["content-security-policy"]


def test_with_voice_off_the_desk_phone_is_a_409(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'center.db'}"
    seed(url)
    server = LiveServer(db_url=url, workdir=tmp_path)
    server.start()
    try:
        with server.client("ann") as ann:
            assert _error(ann.post("/api/desk/phone")) == (
                409,
                "voice_off",
                "calls are off in this center (serve --voice)",
            )
            assert "data-softphone-config-url" not in ann.get("/agent").text
    finally:
        server.stop()
