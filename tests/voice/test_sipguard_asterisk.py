"""SIP security against a real Asterisk and real attack tools nobody here wrote.

One desk phone (``agent-bob``, digest auth) and our ARI event socket open. ``sipvicious``
(PyPI) scans the SIP port (``svmap``), enumerates extensions (``svwar``) and brute-forces
the phone's password from a word list without the real one (``svcrack``); SIPp sends an
INVITE without credentials. Nothing may get in: no ``StasisStart``, no channel, no
registration. Then the guard (``live/voice/guard.py``) reads the security log, blocks the
address after N failures (PJSIP answers a *correct* REGISTER with 403 while blocked) and
lets it in again when the block ends (a clock of the test's: no sleeping for it).

Needs the build of ``scripts/asterisk.sh``, ``sipp`` and the ``sipvicious`` commands.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from callcenter.live.voice.guard import SECURITY_LOG, GuardService, Instance
from callcenter.settings import Settings
from callcenter.voice import pjsip_config as pc
from callcenter.voice.ari import AriEvent
from callcenter.voice.ari_events import connect_events
from callcenter.voice.asterisk import (
    AsteriskMissingError,
    RunningAsterisk,
    find_install,
    start_asterisk,
)
from callcenter.voice.sip_guard import BLOCKED_FILE, GuardPolicy, parse_event

PASSWORD = "Zq7-long-random-desk-phone-secret-41"
PHONE = "agent-bob"
# a brute-force list: common passwords and the user name, never the real one
WORDS = ["123456", "password", "agent-bob", "1234", "secret", "qwerty", "admin", "0000"]
EXTENSIONS = ["100", "101", "1000", "200", "admin", "agent-amy", "agent-bob", "bob", "test"]
BIN = Path(sys.executable).parent

REGISTER = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="register with digest">
  <send retrans="500"><![CDATA[
REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[service]@[remote_ip]>;tag=[call_number]
To: <sip:[service]@[remote_ip]>
Call-ID: [call_id]
CSeq: 1 REGISTER
Contact: <sip:[service]@[local_ip]:[local_port]>
Max-Forwards: 70
Expires: 60
Content-Length: 0

]]></send>
{rest}
</scenario>
"""
AUTHENTICATED = """  <recv response="401" auth="true"/>
  <send retrans="500"><![CDATA[
REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[service]@[remote_ip]>;tag=[call_number]
To: <sip:[service]@[remote_ip]>
Call-ID: [call_id]
CSeq: 2 REGISTER
Contact: <sip:[service]@[local_ip]:[local_port]>
[authentication]
Max-Forwards: 70
Expires: 60
Content-Length: 0

]]></send>
  <recv response="200"/>"""
REFUSED = '  <recv response="403"/>'

INVITE = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="invite without credentials">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:intruder@[local_ip]:[local_port]>;tag=[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:intruder@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=- 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
]]></send>
  <recv response="100" optional="true"/>
  <recv response="{code}"/>
  <send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
</scenario>
"""


def _need_tools() -> None:
    for tool in ("sipp",):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} (Debian sip-tester) is not installed")
    if not (BIN / "sipvicious_svwar").exists():
        pytest.fail("sipvicious is not installed (pip install -e '.[dev]')")


@pytest.fixture
def asterisk() -> Iterator[RunningAsterisk]:
    _need_tools()
    try:
        install = find_install(Settings.load().cache_dir)
    except AsteriskMissingError as e:
        pytest.fail(str(e))
    phones = [pc.PhoneSpec(PHONE, "sip", pc.ha1(PHONE, PASSWORD))]
    running = start_asterisk(install, extra=pc.render_files([], phones, pc.PjsipOptions()))
    try:
        yield running
    finally:
        running.stop()


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _cli(a: RunningAsterisk, command: str) -> str:
    out = subprocess.run(
        [str(a.install.binary), "-C", str(a.config.etc_dir / "asterisk.conf"), "-rx", command],
        capture_output=True,
        text=True,
        timeout=10,
        env={"LD_LIBRARY_PATH": str(a.install.lib_dir), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    return out.stdout


def _sipvicious(tool: str, a: RunningAsterisk, tmp: Path, *args: str) -> str:
    """Run ``sipvicious_<tool>`` from 127.0.0.1 against the SIP port, bounded in time
    (its own ``--maximumtime`` where it has one, and a kill after 60 s); its output."""
    cmd = [
        str(BIN / f"sipvicious_{tool}"), "-b", "127.0.0.1", "-P", str(_free_udp_port()),
        "-p", str(a.config.sip_port), *args, "127.0.0.1",
    ]  # fmt: skip
    env = {**os.environ, "HOME": str(tmp)}  # its session files go to ~/.sipvicious
    try:
        proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=60, env=env)
    except subprocess.TimeoutExpired:  # run() has killed it
        pytest.fail(f"sipvicious_{tool} did not finish in 60 s")
    return proc.stdout + proc.stderr


def _sipp(a: RunningAsterisk, tmp: Path, name: str, xml: str, *args: str) -> tuple[int, str]:
    """SIPp runs ``xml`` once from 127.0.0.1; its exit status (0: every message as the
    scenario expects) and the messages it exchanged."""
    scenario = tmp / f"{name}.xml"
    scenario.write_text(xml)
    trace = tmp / f"{name}-messages.log"
    cmd = [
        "sipp", f"127.0.0.1:{a.config.sip_port}", "-sf", str(scenario), "-m", "1",
        "-i", "127.0.0.1", "-p", str(_free_udp_port()), "-mp", str(_free_udp_port()),
        "-nostdin", "-timeout", "10s", "-timeout_error", "-trace_msg",
        "-message_file", str(trace), *args,
    ]  # fmt: skip
    try:
        proc = subprocess.run(cmd, cwd=tmp, capture_output=True, timeout=30)
    except subprocess.TimeoutExpired:  # run() has killed it
        pytest.fail(f"sipp ({name}) did not finish in 30 s")
    return proc.returncode, trace.read_text(errors="replace") if trace.exists() else ""


def _register(a: RunningAsterisk, tmp: Path, name: str, rest: str) -> tuple[int, str]:
    xml = REGISTER.replace("{rest}", rest)
    return _sipp(a, tmp, name, xml, "-s", PHONE, "-au", PHONE, "-ap", PASSWORD)


def _failures(a: RunningAsterisk) -> list[str]:
    lines = (a.config.log_dir / SECURITY_LOG).read_text().splitlines()
    return [e.name for e in map(parse_event, lines) if e is not None and e.failure]


def test_scans_and_brute_force_get_nothing(asterisk: RunningAsterisk, tmp_path: Path) -> None:
    a = asterisk
    words = tmp_path / "words.txt"
    words.write_text("\n".join(WORDS) + "\n")
    exts = tmp_path / "extensions.txt"
    exts.write_text("\n".join(EXTENSIONS) + "\n")
    events: list[AriEvent] = []

    async def attack() -> dict[str, str]:
        sock = await connect_events(a.ari_url, a.ari_auth, "callcenter")

        async def collect() -> None:
            async for event in sock:
                events.append(event)

        reader = asyncio.create_task(collect())
        try:
            runs = {
                "svmap": (),
                "svwar": ("-d", str(exts), "--maximumtime=20"),
                "svwar --force": ("--force", "-d", str(exts), "--maximumtime=20"),
                "svcrack": ("-u", PHONE, "-d", str(words), "--maximumtime=20"),
            }
            out = {}
            for name, args in runs.items():
                tool = name.split()[0]
                out[name] = await asyncio.to_thread(_sipvicious, tool, a, tmp_path, *args)
            status, trace = await asyncio.to_thread(
                _sipp, a, tmp_path, "invite", INVITE.replace("{code}", "401"), "-s", "100"
            )
            out["invite"] = f"{status}\n{trace}"
            await asyncio.sleep(0.5)  # any event the attacks caused is in by now
            return out
        finally:
            reader.cancel()
            await sock.aclose()

    out = asyncio.run(attack())

    # svmap finds a SIP server (a SIP service cannot hide that it answers) and no more
    assert "127.0.0.1" in out["svmap"] and "callcenter" in out["svmap"]
    # svwar: unknown users are challenged exactly like the real one, so it refuses to
    # go on ("an authentication request for an unknown extension"); forced, it cannot
    # tell one from the other either
    assert "authentication request for an unknown extension" in out["svwar"]
    assert "found nothing" in out["svwar"] and "found nothing" in out["svwar --force"]
    assert PHONE not in out["svwar --force"].split("found nothing")[0].split("Response:")[0]
    # svcrack tried every word and found no password
    assert "found nothing" in out["svcrack"] and PASSWORD not in out["svcrack"]
    # the INVITE without credentials was challenged (401), never answered
    status, trace = out["invite"].split("\n", 1)
    assert status == "0", trace[-2000:]
    assert "SIP/2.0 401" in trace and "SIP/2.0 200" not in trace
    # nothing got in
    assert [e.type for e in events if e.type == "StasisStart"] == []
    r = httpx.get(f"{a.ari_url}/channels", auth=a.ari_auth, timeout=5)
    assert r.status_code == 200 and r.json() == []
    endpoint = httpx.get(f"{a.ari_url}/endpoints/PJSIP/{PHONE}", auth=a.ari_auth, timeout=5)
    assert endpoint.json()["state"] == "offline"
    assert f"sip:{PHONE}@" not in _cli(a, "pjsip show contacts")
    # and each attempt is a failure in the security log, for the guard to count:
    # svcrack's wrong digests (one per word) and the unknown users svmap/svwar tried
    failures = _failures(a)
    assert failures.count("ChallengeResponseFailed") >= len(WORDS)
    assert failures.count("InvalidAccountID") >= 2


def test_repeat_offender_is_blocked_then_let_in(
    asterisk: RunningAsterisk, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    a = asterisk
    now = [1000.0]
    policy = GuardPolicy(max_failures=5, window_s=60, block_s=120)
    guard = GuardService(policy, Instance.of(a), clock=lambda: now[0])
    blocked_file = a.config.etc_dir / BLOCKED_FILE
    words = tmp_path / "words.txt"
    words.write_text("\n".join(WORDS) + "\n")

    # below the threshold nothing is blocked: one wrong password from SIPp
    assert guard.poll() is True  # the first poll writes the (empty) list once
    status, _ = _sipp(
        a, tmp_path, "wrong", REGISTER.replace("{rest}", AUTHENTICATED), "-s", PHONE,
        "-au", PHONE, "-ap", "wrong-password",
    )  # fmt: skip
    assert status != 0  # the authenticated REGISTER got 401, not 200
    assert guard.poll() is False and guard.blocked() == []

    # svcrack's 8 wrong passwords: 1 + 8 ≥ 5 failures within the minute → blocked
    caplog.set_level(logging.WARNING, logger="callcenter.live.voice.guard")
    _sipvicious("svcrack", a, tmp_path, "-u", PHONE, "-d", str(words), "--maximumtime=20")
    assert guard.poll() is True
    [block] = guard.blocked()
    assert (block.address, block.since, block.until, block.failures) == (
        "127.0.0.1",
        1000.0,
        1120.0,
        5,
    )
    assert stat.S_IMODE(blocked_file.stat().st_mode) == 0o600
    assert "deny = 127.0.0.1/32" in blocked_file.read_text()
    assert "blocked 127.0.0.1 for 120 s after 5 failures" in caplog.text
    assert PHONE not in caplog.text and "sip:" not in caplog.text

    # while blocked, the right password gets 403 before any challenge; no contact
    status, trace = _register(a, tmp_path, "blocked", REFUSED)
    assert status == 0, trace[-2000:]
    assert "SIP/2.0 403" in trace and "SIP/2.0 200" not in trace
    assert f"sip:{PHONE}@" not in _cli(a, "pjsip show contacts")
    assert "did not pass ACL test" in a.log_path.read_text()

    # the block ends (the test's clock): the list is rewritten empty, the phone registers
    now[0] = 1119.0
    assert guard.poll() is False and len(guard.blocked()) == 1
    now[0] = 1120.0
    assert guard.poll() is True and guard.blocked() == []
    assert "deny" not in blocked_file.read_text()
    assert "unblocked 127.0.0.1" in caplog.text
    status, trace = _register(a, tmp_path, "after", AUTHENTICATED)
    assert status == 0, trace[-2000:]
    assert f"{PHONE}/sip:{PHONE}@127.0.0.1:" in _cli(a, "pjsip show contacts")
    assert guard.reloads == 3  # empty list, blocked, unblocked


def test_the_guard_runs_in_the_background(asterisk: RunningAsterisk) -> None:
    """``follow()`` (the server's background task) waits while there is no Asterisk, then
    picks up failures as they are logged and reloads PJSIP, off the event loop."""
    a = asterisk
    guard = GuardService(GuardPolicy(max_failures=3, window_s=60, block_s=600), poll_s=0.05)
    current: list[RunningAsterisk | None] = [None]
    # three failures appended by hand (the format Asterisk writes, another address)
    line = (
        '[2026-12-07 12:38:25.124] SECURITY[1] res_security_log.c: SecurityEvent="Invalid'
        'AccountID",EventTV="2026-12-07T12:38:25.124+0000",Severity="Error",Service="PJSIP",'
        'EventVersion="1",AccountID="x",SessionID="1",LocalAddress="IPV4/UDP/127.0.0.1/5060",'
        'RemoteAddress="IPV4/UDP/198.51.100.23/5060"\n'
    )

    async def go() -> int:
        task = asyncio.create_task(guard.follow(lambda: current[0]))
        ticks = 0
        try:
            await asyncio.sleep(0.2)
            assert guard.instance is None  # nothing to watch yet
            current[0] = a
            with (a.config.log_dir / SECURITY_LOG).open("a") as f:
                f.write(line * 3)
            for _ in range(200):
                await asyncio.sleep(0.02)
                ticks += 1
                if guard.blocked():
                    break
            return ticks
        finally:
            task.cancel()

    ticks = asyncio.run(go())
    assert [b.address for b in guard.blocked()] == ["198.51.100.23"]
    assert ticks >= 1
    assert "deny = 198.51.100.23/32" in (a.config.etc_dir / BLOCKED_FILE).read_text()


FORGED = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="forged call-id">
  <send><![CDATA[
REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:nobody@[remote_ip]>;tag=[call_number]
To: <sip:nobody@[remote_ip]>
Call-ID: x",LocalAddress="IPV4/UDP/127.0.0.1/5060",RemoteAddress="IPV4/UDP/10.1.2.3/5060
CSeq: 1 REGISTER
Contact: <sip:nobody@[local_ip]:[local_port]>
Max-Forwards: 70
Expires: 60
Content-Length: 0

]]></send>
</scenario>
"""


def test_a_forged_call_id_blames_the_sender(asterisk: RunningAsterisk, tmp_path: Path) -> None:
    """A Call-ID holding quotes makes Asterisk write a false ``RemoteAddress`` into its
    security log; the guard counts the address the request really came from."""
    a = asterisk
    _sipp(a, tmp_path, "forged", FORGED, "-nr")
    forged: list[str] = []
    deadline = time.monotonic() + 5  # SIPp does not wait for the answer
    while not forged and time.monotonic() < deadline:
        lines = (a.config.log_dir / SECURITY_LOG).read_text().splitlines()
        forged = [line for line in lines if "InvalidAccountID" in line]
        time.sleep(0.05)
    assert forged, "Asterisk logged no InvalidAccountID"
    # Asterisk wrote both: the forged address first, the true one last
    assert 'RemoteAddress="IPV4/UDP/10.1.2.3/5060"' in forged[0]
    assert forged[0].count("RemoteAddress=") == 2
    guard = GuardService(GuardPolicy(max_failures=1), Instance.of(a), clock=lambda: 5.0)
    assert guard.poll() is True
    assert [b.address for b in guard.blocked()] == ["127.0.0.1"]
