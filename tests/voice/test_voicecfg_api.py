"""``/api/admin/voice/...`` against a real server: administrators only, every bad input
one clear line, secrets never returned and never on the audit log, a device's password
shown once and stored only as its digest, and the tables rendered for Asterisk
(``live/voice/config.py``) as written by hand."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.support.seed import seed
from tests.support.server import Client, LiveServer, running_server, signed_in

from callcenter.live.voice.config import agent_endpoint, number_target, phone_specs, pjsip_text
from callcenter.storage.db import make_engine
from callcenter.storage.tables import VoiceDevice, VoiceTrunk
from callcenter.voice import pjsip_config as pc

TRUNKS = "/api/admin/voice/trunks"
NUMBERS = "/api/admin/voice/numbers"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp: Path = tmp_path_factory.mktemp("voicecfg")
    url = f"sqlite:///{tmp / 'center.db'}"
    seed(url)
    with running_server(url, tmp) as srv:
        with srv.client("admin") as admin:
            admin.ok("POST", "/api/admin/queues", json={"name": "phones", "channel": "voice"})
        yield srv


@pytest.fixture(scope="module")
def clients(server: LiveServer) -> Iterator[dict[str, Client]]:
    with signed_in(server, "admin", "manager", "sue", "quinn", "ann") as out:
        yield out


@pytest.fixture
def db(server: LiveServer) -> Iterator[Session]:
    engine = make_engine(server.db_url)
    try:
        with Session(engine) as s:
            yield s
    finally:
        engine.dispose()


def _audit(c: Client, entity: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = c.ok("GET", "/api/audit", params={"entity": entity})["entries"]
    return out


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", TRUNKS),
        ("POST", TRUNKS),
        ("PATCH", f"{TRUNKS}/x"),
        ("DELETE", f"{TRUNKS}/x"),
        ("GET", NUMBERS),
        ("POST", NUMBERS),
        ("GET", "/api/admin/voice/devices"),
        ("GET", "/api/admin/voice/agents/ann/device"),
        ("PUT", "/api/admin/voice/agents/ann/device"),
        ("POST", "/api/admin/voice/agents/ann/device/password"),
        ("DELETE", "/api/admin/voice/agents/ann/device"),
    ],
)
def test_only_administrators(
    clients: dict[str, Client], server: LiveServer, method: str, url: str
) -> None:
    for role in ("manager", "sue", "quinn", "ann"):
        assert clients[role].request(method, url, json={}).status_code == 403, role
    with server.client() as anonymous:
        assert anonymous.request(method, url, json={}).status_code == 401


def test_ip_trunk_round_trip_and_audit(clients: dict[str, Client]) -> None:
    admin = clients["admin"]
    body = {"name": "carrier-ip", "kind": "ip", "networks": ["203.0.113.7", "198.51.100.9/24"]}
    made = admin.ok("POST", TRUNKS, json=body)
    assert made["networks"] == ["203.0.113.7/32", "198.51.100.0/24"]
    assert (made["codecs"], made["dtmf_mode"], made["has_password"]) == (
        ["ulaw", "alaw"],
        "rfc4733",
        False,
    )
    changed = admin.ok("PATCH", f"{TRUNKS}/carrier-ip", json={"codecs": ["alaw"], "active": False})
    assert (changed["codecs"], changed["active"]) == (["alaw"], False)
    assert any(t["name"] == "carrier-ip" for t in admin.ok("GET", TRUNKS))
    actions = [
        e["action"] for e in _audit(admin, "voice_trunk") if e["entity_id"] == str(made["id"])
    ]
    assert actions == ["voice_trunk.update", "voice_trunk.create"]
    admin.ok("DELETE", f"{TRUNKS}/carrier-ip")
    assert admin.refused("DELETE", f"{TRUNKS}/carrier-ip", 404) == "no trunk 'carrier-ip'"


def test_a_trunk_password_is_written_only(clients: dict[str, Client], db: Session) -> None:
    admin = clients["admin"]
    secret = "Carrier-Pass-7781"
    body = {"name": "carrier-reg", "kind": "register", "server": "sip.example.net:5060",
            "username": "acct1", "password": secret}  # fmt: skip
    made = admin.ok("POST", TRUNKS, json=body)
    assert made["has_password"] is True and "password" not in made
    admin.ok("PATCH", f"{TRUNKS}/carrier-reg", json={"password": secret + "-2"})
    listed = admin.request("GET", TRUNKS).text
    assert secret not in listed
    entries = _audit(admin, "voice_trunk")
    assert secret not in str(entries)
    mine = [e for e in entries if e["entity_id"] == str(made["id"])]
    assert set(mine[0]["changes"]) == {"password", "updated_at"}
    assert mine[0]["changes"]["password"] == ["(hidden)", "(changed)"]
    assert mine[1]["changes"]["password"] == ["(hidden)", "(changed)"]
    row = db.scalar(select(VoiceTrunk).where(VoiceTrunk.name == "carrier-reg"))
    assert row is not None and row.password == secret + "-2"  # Asterisk must send it


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "Bad Name", "kind": "ip", "networks": ["192.0.2.1"]},
         "name: 'Bad Name' is not valid; expected 1-48 lower-case letters, digits or '-', "
         "not starting or ending with '-'"),
        ({"name": "t1", "kind": "ip", "networks": ["sip.example.net"]},
         "networks: 'sip.example.net' is not valid; expected an IP address or network such as "
         "198.51.100.0/24"),
        ({"name": "t1", "kind": "ip", "networks": []},
         "networks: empty; expected at least one IP address or network"),
        ({"name": "t1", "kind": "pots", "networks": ["192.0.2.1"]},
         "kind: 'pots' is not a trunk kind; expected ip or register"),
        ({"name": "t1", "kind": "register", "server": "sip.example.net", "username": "u"},
         "password: missing; a register trunk needs server, username and password"),
        ({"name": "t1", "kind": "register", "server": "sip.example.net\n[x]", "username": "u",
          "password": "p"},
         "server: 'sip.example.net\\n[x]' is not valid; expected host or host:port "
         "(e.g. sip.example.net:5060)"),
        ({"name": "t1", "kind": "ip", "networks": ["192.0.2.1"], "codecs": ["opus"]},
         "codecs: 'opus' is not valid; expected one of ulaw, alaw (G.711; this build has no opus)"),
        ({"name": "t1", "kind": "ip", "networks": ["192.0.2.1"], "transport": "tcp"},
         "transport: 'tcp' is not offered; expected udp"),
    ],
)  # fmt: skip
def test_bad_trunks_get_one_clear_line(
    clients: dict[str, Client], body: dict[str, Any], message: str
) -> None:
    assert clients["admin"].refused("POST", TRUNKS, 422, json=body) == message


def test_numbers(clients: dict[str, Client], db: Session) -> None:
    admin = clients["admin"]
    admin.ok("POST", TRUNKS, json={"name": "carrier-n", "kind": "ip", "networks": ["192.0.2.5"]})
    made = admin.ok("POST", NUMBERS, json={"number": "+74951234567", "trunk": "carrier-n",
                                           "target_kind": "queue", "target": "phones",
                                           "language": "ru"})  # fmt: skip
    assert (made["trunk"], made["target"], made["language"]) == ("carrier-n", "phones", "ru")
    flow = "name: main-menu\nlanguage: en\nnodes:\n  welcome: {kind: queue, queue: phones}\n"
    admin.ok("PUT", "/api/admin/ivr/flows/main-menu", json={"source": flow})  # ivr: a stored flow
    ivr = admin.ok("POST", NUMBERS, json={"number": "37052000000", "target_kind": "ivr",
                                          "target": "main-menu"})  # fmt: skip
    assert (ivr["trunk"], ivr["language"]) == (None, "en")
    # what the call controller asks: by the number as dialled, with or without '+'
    got = number_target(db, "74951234567")
    assert got is not None
    assert (got.kind, got.target, got.language, got.trunk) == ("queue", "phones", "ru", "carrier-n")
    assert number_target(db, "+37052000000") is not None
    assert number_target(db, "+10000000000") is None
    # a trunk a number arrives on cannot go
    message = admin.refused("DELETE", f"{TRUNKS}/carrier-n", 409)
    assert message == "trunk 'carrier-n' is used by numbers +74951234567; move or delete them first"
    admin.ok("PATCH", f"{NUMBERS}/{made['id']}", json={"active": False})
    db.rollback()  # a new read transaction: the server committed since
    assert number_target(db, "+74951234567") is None  # inactive
    again = {"number": "+74951234567", "target_kind": "ivr", "target": "x"}
    assert admin.refused("POST", NUMBERS, 409, json=again) == "number '+74951234567' already exists"
    admin.ok("DELETE", f"{NUMBERS}/{made['id']}")
    admin.ok("DELETE", f"{TRUNKS}/carrier-n")
    assert _audit(admin, "voice_number")[0]["action"] == "voice_number.delete"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"number": "+7 abc", "target_kind": "queue", "target": "phones"},
         "number: '+7 abc' is not a telephone number; expected 1-20 digits with an optional "
         "leading +"),
        ({"number": "+7001", "target_kind": "queue", "target": "support"},
         "target: queue 'support' is a chat queue; expected a voice queue"),
        ({"number": "+7001", "target_kind": "queue", "target": "nowhere"},
         "target: no active queue 'nowhere'; expected a voice queue's name"),
        ({"number": "+7001", "target_kind": "menu", "target": "x"},
         "target_kind: 'menu' is not a target; expected queue or ivr"),
        ({"number": "+7001", "target_kind": "queue", "target": "phones", "trunk": "nope"},
         "trunk: no trunk 'nope'; expected a trunk's name or null"),
        ({"number": "+7001", "target_kind": "queue", "target": "phones", "language": "Russian"},
         "language: 'Russian' is not valid; expected a language code such as en, ru or pt_BR"),
    ],
)  # fmt: skip
def test_bad_numbers_get_one_clear_line(
    clients: dict[str, Client], body: dict[str, Any], message: str
) -> None:
    assert clients["admin"].refused("POST", NUMBERS, 422, json=body) == message


def test_a_desk_phone_password_is_shown_once_and_kept_as_its_digest(
    clients: dict[str, Client], db: Session
) -> None:
    admin = clients["admin"]
    url = "/api/admin/voice/agents/ann/device"
    made = admin.ok("PUT", url, json={"kind": "sip"})
    password = made["password"]
    assert len(password) >= 24 and (made["sip_username"], made["realm"]) == (
        "agent-ann",
        "callcenter",
    )
    assert made["endpoint"] == "PJSIP/agent-ann"
    shown = admin.ok("GET", url)
    assert "password" not in shown and shown["has_secret"] is True
    assert password not in admin.request("GET", "/api/admin/voice/devices").text
    row = db.scalar(select(VoiceDevice).where(VoiceDevice.sip_username == "agent-ann"))
    assert row is not None
    assert row.ha1 == hashlib.md5(f"agent-ann:callcenter:{password}".encode()).hexdigest()
    assert password not in str([getattr(row, c) for c in ("kind", "sip_username", "ha1")])
    # the same kind again: nothing new; a reset: a new password, the old digest gone
    assert admin.ok("PUT", url, json={"kind": "sip"})["password"] is None
    again = admin.ok("POST", f"{url}/password")["password"]
    assert again != password and len(again) >= 24
    db.rollback()  # a new read transaction: the server committed since
    assert db.scalar(select(VoiceDevice.ha1).where(VoiceDevice.sip_username == "agent-ann")) == (
        pc.ha1("agent-ann", again)
    )
    entries = _audit(admin, "voice_device")
    assert password not in str(entries) and again not in str(entries)
    assert entries[0]["changes"]["ha1"] == ["(hidden)", "(changed)"]
    # the renderer's view of the tables
    assert agent_endpoint(db, "ann") == "PJSIP/agent-ann"
    assert agent_endpoint(db, "bob") is None
    text = pjsip_text(db, pc.PjsipOptions())
    assert f"password_digest = MD5:{pc.ha1('agent-ann', again)}\n" in text
    # webrtc: no secret until the desk issues one; a reset is refused
    web = admin.ok("PUT", url, json={"kind": "webrtc"})
    assert (web["password"], web["has_secret"]) == (None, False)
    db.rollback()  # a new read transaction: the server committed since
    assert [(p.username, p.kind, p.ha1) for p in phone_specs(db)] == [
        ("agent-ann", "webrtc", pc.LOCKED_HA1)
    ]
    message = admin.refused("POST", f"{url}/password", 409)
    assert message.startswith("device of agent 'ann' is webrtc")
    admin.ok("DELETE", url)
    assert admin.refused("GET", url, 404) == "no device of agent 'ann'"


def test_bad_devices(clients: dict[str, Client]) -> None:
    admin = clients["admin"]
    url = "/api/admin/voice/agents/{}/device"
    message = admin.refused("PUT", url.format("ann"), 422, json={"kind": "fax"})
    assert message == "kind: 'fax' is not a device; expected webrtc or sip"
    assert admin.refused("PUT", url.format("zed"), 404, json={"kind": "sip"}) == "no agent 'zed'"


def test_supervisors_and_managers_may_have_a_phone_qa_may_not(clients: dict[str, Client]) -> None:
    """Phones belong to users (migration 0008): a supervisor listens in on one."""
    admin = clients["admin"]
    url = "/api/admin/voice/agents/{}/device"
    sue = admin.ok("PUT", url.format("sue"), json={"kind": "sip"})
    assert (sue["agent"], sue["sip_username"], sue["endpoint"]) == (
        "sue", "agent-sue", "PJSIP/agent-sue",
    )  # fmt: skip
    assert len(sue["password"]) >= 16
    listed = [d["agent"] for d in admin.ok("GET", "/api/admin/voice/devices")]
    assert "sue" in listed
    message = admin.refused("PUT", url.format("quinn"), 409, json={"kind": "sip"})
    assert message == (
        "user 'quinn' has role 'qa'; phones are for agents, supervisors and managers"
    )
    admin.ok("DELETE", url.format("sue"))
