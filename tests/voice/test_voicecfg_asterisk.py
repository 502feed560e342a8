"""The generated telephony configuration in a real Asterisk: it loads (ARI lists every
endpoint), a reload over ARI adds and removes endpoints without a restart, and SIPp
(Debian's ``sip-tester``) registering a desk phone is refused with a wrong password and
accepted with the right one; an INVITE from nobody is challenged and makes no channel,
one from an ip trunk's address enters our Stasis application with its number, and a
desk phone's (digest-authenticated) call enters it as a phone.
Needs the build of ``scripts/asterisk.sh`` and ``sipp``."""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.sip import register_phone
from websockets.sync.client import ClientConnection, connect

from callcenter.live.voice.config import apply_pjsip
from callcenter.settings import Settings
from callcenter.voice import pjsip_config as pc
from callcenter.voice.asterisk import (
    AsteriskMissingError,
    RunningAsterisk,
    find_install,
    start_asterisk,
)

OPTS = pc.PjsipOptions()
PASSWORD = "c0rrect-Horse-battery-staple-9"
TRUNKS = [
    pc.TrunkSpec("carrier-a", "ip", networks=("192.0.2.0/24",)),
    # a registrar nobody answers on (port 9 discard): the registration just retries
    pc.TrunkSpec("carrier-b", "register", server="127.0.0.1:9", username="u1", password="pw-1"),
]
PHONES = [
    pc.PhoneSpec("agent-bob", "sip", pc.ha1("agent-bob", PASSWORD)),
    pc.PhoneSpec("agent-amy", "webrtc"),
]


@pytest.fixture
def asterisk() -> Iterator[RunningAsterisk]:
    try:
        install = find_install(Settings.load().cache_dir)
    except AsteriskMissingError as e:
        pytest.fail(str(e))
    running = start_asterisk(install, extra=pc.render_files(TRUNKS, PHONES, OPTS))
    try:
        yield running
    finally:
        running.stop()


def _endpoints(a: RunningAsterisk) -> dict[str, str]:
    r = httpx.get(f"{a.ari_url}/endpoints/PJSIP", auth=a.ari_auth, timeout=5)
    r.raise_for_status()
    return {e["resource"]: e["state"] for e in r.json()}


def _cli(a: RunningAsterisk, command: str) -> str:
    """A CLI command over the instance's control socket (``asterisk -rx``)."""
    out = subprocess.run(
        [str(a.install.binary), "-C", str(a.config.etc_dir / "asterisk.conf"), "-rx", command],
        capture_output=True,
        text=True,
        timeout=10,
        env={"LD_LIBRARY_PATH": str(a.install.lib_dir), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    return out.stdout


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_the_generated_configuration_loads(asterisk: RunningAsterisk) -> None:
    expected = {
        "trunk-carrier-a": "offline",
        # a static contact (the registrar) that Asterisk asks whether it is there (its
        # qualify): nothing answers at 127.0.0.1:9, so once asked it is offline
        "trunk-carrier-b": "offline",
        "agent-bob": "offline",
        "agent-amy": "offline",
    }
    deadline = time.monotonic() + 15
    while _endpoints(asterisk) != expected and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _endpoints(asterisk) == expected
    shown = _cli(asterisk, "pjsip show endpoint agent-amy")
    assert "webrtc" in shown and "transport-ws" in shown
    assert "trunk-carrier-b-reg/sip:127.0.0.1:9" in _cli(asterisk, "pjsip show registrations")
    assert "192.0.2.0/24" in _cli(asterisk, "pjsip show identifies")
    log = asterisk.log_path.read_text()
    assert "ERROR" not in log and "WARNING" not in log, log[-2000:]


def test_a_reload_adds_and_removes_endpoints_without_a_restart(asterisk: RunningAsterisk) -> None:
    pid = asterisk.pid
    phones = [*PHONES, pc.PhoneSpec("agent-cid", "sip", pc.ha1("agent-cid", "x" * 24))]
    text = pc.render_pjsip(TRUNKS[:1], phones, OPTS)  # carrier-b removed, agent-cid added
    apply_pjsip(asterisk.config.etc_dir, text, asterisk.ari_url, asterisk.ari_auth)
    ari = _endpoints(asterisk)
    assert ari["agent-cid"] == "offline"  # the new phone, known without a restart
    # PJSIP drops the removed trunk and its registration; ARI keeps the name of an
    # endpoint it has seen (chan_pjsip's persistent endpoint), offline
    listed = _cli(asterisk, "pjsip show endpoints")
    assert "trunk-carrier-b" not in listed and "agent-cid" in listed
    assert "No objects found." in _cli(asterisk, "pjsip show registrations")
    assert ari["trunk-carrier-b"] == "offline"
    assert asterisk.pid == pid and asterisk.is_running()
    conf = (asterisk.config.etc_dir / "pjsip.conf").read_text()
    assert conf.count("[transport-udp]\n") == 1 and conf.count(pc.GENERATED_MARKER) == 1


def test_a_wrong_password_is_refused_and_the_right_one_registers(
    asterisk: RunningAsterisk, tmp_path: Path
) -> None:
    sip = ("127.0.0.1", asterisk.config.sip_port)
    port = _free_udp_port()
    # The wrong password gets a fresh 401, never a 200.
    assert register_phone(sip, "agent-bob", PASSWORD + "x", port).status_codes == [401, 401]
    assert "sip:agent-bob@" not in _cli(asterisk, "pjsip show contacts")
    # An unknown user gets no 200 either.
    assert register_phone(sip, "agent-nobody", PASSWORD, port).status_codes == [401, 401]
    assert "sip:agent-nobody@" not in _cli(asterisk, "pjsip show contacts")
    # The right password registers: Asterisk holds SIPp's contact for agent-bob.
    register_phone(sip, "agent-bob", PASSWORD, port).assert_ok()
    assert "agent-bob/sip:agent-bob@127.0.0.1:" in _cli(asterisk, "pjsip show contacts")


ANONYMOUS_INVITE = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="an INVITE from nobody">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:anonymous@[local_ip]:[local_port]>;tag=[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:anonymous@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000

]]></send>
  <recv response="100" optional="true"/>
  <recv response="401"/>
  <send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:anonymous@[local_ip]:[local_port]>;tag=[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
</scenario>
"""


PHONE_CALL = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="a desk phone calls, with digest auth">
  <send retrans="500"><![CDATA[
INVITE sip:5000@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[service]@[remote_ip]>;tag=[call_number]
To: <sip:5000@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:[service]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000

]]></send>
  <recv response="100" optional="true"/>
  <recv response="401" auth="true"/>
  <send><![CDATA[
ACK sip:5000@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
From: <sip:[service]@[remote_ip]>;tag=[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
  <send retrans="500"><![CDATA[
INVITE sip:5000@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[service]@[remote_ip]>;tag=[call_number]
To: <sip:5000@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 2 INVITE
Contact: <sip:[service]@[local_ip]:[local_port]>
[authentication]
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000

]]></send>
  <recv response="100" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[service]@[remote_ip]>;tag=[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 2 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
  <pause milliseconds="300"/>
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[service]@[remote_ip]>;tag=[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 3 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>
</scenario>
"""


def _sipp(a: RunningAsterisk, tmp: Path, *args: str) -> list[str]:
    return [
        "sipp", f"127.0.0.1:{a.config.sip_port}", "-m", "1", "-i", "127.0.0.1",
        "-p", str(_free_udp_port()), "-nostdin", "-timeout", "15s", "-timeout_error",
        "-trace_err", *args,
    ]  # fmt: skip


def test_an_invite_from_no_trunk_and_no_phone_is_challenged_and_goes_nowhere(
    asterisk: RunningAsterisk, tmp_path: Path
) -> None:
    if shutil.which("sipp") is None:
        pytest.fail("sipp (Debian sip-tester) is not installed")
    scenario = tmp_path / "anonymous.xml"
    scenario.write_text(ANONYMOUS_INVITE)
    cmd = _sipp(asterisk, tmp_path, "-sf", str(scenario), "-s", "+74951234567")
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, timeout=30)
    assert proc.returncode == 0, proc.stdout[-2000:]
    r = httpx.get(f"{asterisk.ari_url}/channels", auth=asterisk.ari_auth, timeout=5)
    assert r.json() == []  # no channel was ever made for it


def test_a_call_from_an_ip_trunk_enters_our_application_with_its_number(tmp_path: Path) -> None:
    if shutil.which("sipp") is None:
        pytest.fail("sipp (Debian sip-tester) is not installed")
    try:
        install = find_install(Settings.load().cache_dir)
    except AsteriskMissingError as e:
        pytest.fail(str(e))
    trunk = pc.TrunkSpec("local-carrier", "ip", networks=("127.0.0.1/32",))
    running = start_asterisk(install, extra=pc.render_files([trunk], [], OPTS))
    sipp: subprocess.Popen[bytes] | None = None
    try:
        user, password = running.ari_auth
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        headers = {"Authorization": f"Basic {token}"}
        with connect(running.events_url, additional_headers=headers, open_timeout=5) as ws:
            # SIPp's built-in caller: INVITE, then ACK and BYE once answered
            cmd = _sipp(running, tmp_path, "-sn", "uac", "-s", "+74951234567", "-d", "500")
            sipp = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)  # fmt: skip
            started = _next_event(ws, "StasisStart")
            channel = started["channel"]
            assert channel["name"].startswith("PJSIP/trunk-local-carrier-")
            assert channel["dialplan"]["context"] == "callcenter-in"
            assert channel["dialplan"]["exten"] == "+74951234567"
            r = httpx.post(f"{running.ari_url}/channels/{channel['id']}/answer",
                           auth=running.ari_auth, timeout=5)  # fmt: skip
            assert r.status_code == 204, r.text
            assert sipp.wait(timeout=30) == 0  # answered, then SIPp hung up
    finally:
        if sipp is not None and sipp.poll() is None:
            sipp.kill()
            sipp.wait()
        running.stop()


def test_a_desk_phone_call_enters_our_application_as_a_phone(
    asterisk: RunningAsterisk, tmp_path: Path
) -> None:
    if shutil.which("sipp") is None:
        pytest.fail("sipp (Debian sip-tester) is not installed")
    scenario = tmp_path / "phone.xml"
    scenario.write_text(PHONE_CALL)
    cmd = _sipp(asterisk, tmp_path, "-sf", str(scenario), "-s", "agent-bob", "-au", "agent-bob",
                "-ap", PASSWORD)  # fmt: skip
    user, password = asterisk.ari_auth
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    headers = {"Authorization": f"Basic {token}"}
    sipp = None
    try:
        with connect(asterisk.events_url, additional_headers=headers, open_timeout=5) as ws:
            sipp = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)  # fmt: skip
            started = _next_event(ws, "StasisStart")
            channel = started["channel"]
            assert channel["name"].startswith("PJSIP/agent-bob-")
            assert channel["dialplan"]["context"] == "callcenter-phones"
            assert channel["dialplan"]["exten"] == "5000"
            assert started["args"] == ["phone"]
            r = httpx.post(f"{asterisk.ari_url}/channels/{channel['id']}/answer",
                           auth=asterisk.ari_auth, timeout=5)  # fmt: skip
            assert r.status_code == 204, r.text
            assert sipp.wait(timeout=30) == 0  # answered, then the phone hung up
    finally:
        if sipp is not None and sipp.poll() is None:
            sipp.kill()
            sipp.wait()


def _next_event(ws: ClientConnection, kind: str) -> dict[str, Any]:
    while True:
        event: dict[str, Any] = json.loads(ws.recv(timeout=15))
        if event["type"] == kind:
            return event
