"""The embedded Asterisk: the real build of ``scripts/asterisk.sh``, nothing mocked.

What is checked against outside truth: the version is the pinned release ``22.10.1``
(``shared/vendor/README.md``); who listens where is read from the kernel
(``/proc/<pid>/fd`` and ``/proc/<pid>/net/*``), not from Asterisk; a call put into the
dialplan arrives at our Stasis application as ARI's own ``StasisStart`` event.
The build must exist (``make asterisk``): without it these tests fail, naming the script.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from callcenter.settings import Settings
from callcenter.voice import asterisk as asterisk_module
from callcenter.voice.asterisk import (
    AsteriskError,
    AsteriskInstall,
    AsteriskMissingError,
    RunningAsterisk,
    find_install,
    start_asterisk,
)

PINNED = "22.10.1"  # the release scripts/asterisk.sh pins (shared/vendor/README.md)


@pytest.fixture(scope="module")
def install() -> AsteriskInstall:
    return find_install(Settings.load().cache_dir)


@pytest.fixture(scope="module")
def asterisk(install: AsteriskInstall) -> Iterator[RunningAsterisk]:
    running = start_asterisk(install)
    try:
        yield running
    finally:
        running.stop()


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _events(running: RunningAsterisk) -> ClientConnection:
    return connect(running.events_url, additional_headers=_basic(*running.ari_auth), open_timeout=5)


def test_ari_answers_the_pinned_version(asterisk: RunningAsterisk) -> None:
    r = httpx.get(f"{asterisk.ari_url}/asterisk/info", auth=asterisk.ari_auth, timeout=5)
    assert r.status_code == 200
    assert r.json()["system"]["version"] == PINNED


# What a call center needs (shared/vendor/README.md's module set), each of which must
# be running, and what must not be there at all.
NEEDED = (
    "chan_pjsip", "res_pjsip", "res_pjsip_session", "res_pjsip_transport_websocket",
    "res_pjsip_authenticator_digest", "res_pjsip_endpoint_identifier_ip",
    "res_pjsip_endpoint_identifier_user", "res_pjsip_registrar", "res_pjsip_refer",
    "res_pjsip_dtmf_info", "res_ari", "res_ari_channels", "res_ari_bridges",
    "res_ari_recordings", "res_ari_playbacks", "res_stasis", "app_stasis",
    "res_stasis_snoop", "res_stasis_recording", "res_stasis_playback",
    "res_http_websocket", "res_rtp_asterisk", "res_srtp", "res_musiconhold",
    "bridge_simple", "bridge_softmix", "bridge_holding", "bridge_native_rtp",
    "codec_ulaw", "codec_alaw", "codec_resample", "format_wav", "format_pcm", "format_sln",
    "app_mixmonitor", "app_confbridge", "pbx_config", "chan_bridge_media", "chan_rtp",
    "chan_websocket",
)  # fmt: skip
UNWANTED = ("res_pjsip_endpoint_identifier_anonymous", "res_stir_shaken", "chan_sip", "chan_iax2")


def test_the_call_center_modules_run_and_no_others(asterisk: RunningAsterisk) -> None:
    r = httpx.get(f"{asterisk.ari_url}/asterisk/modules", auth=asterisk.ari_auth, timeout=5)
    assert r.status_code == 200
    status = {m["name"].removesuffix(".so"): m["status"] for m in r.json()}
    assert {name: status.get(name) for name in NEEDED} == dict.fromkeys(NEEDED, "Running")
    assert [name for name in UNWANTED if name in status] == []


@pytest.mark.parametrize("who", ["wrong password", "unknown user", "no credentials"])
def test_ari_refuses_wrong_credentials(asterisk: RunningAsterisk, who: str) -> None:
    user, password = asterisk.ari_auth
    auth = {
        "wrong password": (user, password + "x"),
        "unknown user": ("asterisk", password),
        "no credentials": None,
    }[who]
    r = httpx.get(f"{asterisk.ari_url}/asterisk/info", auth=auth, timeout=5)
    assert r.status_code == 401


def test_events_socket_registers_our_application(asterisk: RunningAsterisk) -> None:
    def apps() -> list[str]:
        r = httpx.get(f"{asterisk.ari_url}/applications", auth=asterisk.ari_auth, timeout=5)
        assert r.status_code == 200
        return [a["name"] for a in r.json()]

    assert "callcenter" not in apps()  # nothing registers it but the socket
    with _events(asterisk):
        assert apps() == ["callcenter"]


def test_events_socket_refuses_wrong_credentials(asterisk: RunningAsterisk) -> None:
    user, _password = asterisk.ari_auth
    with pytest.raises(InvalidStatus) as e:
        connect(asterisk.events_url, additional_headers=_basic(user, "nope"), open_timeout=5)
    assert e.value.response.status_code == 401


def test_the_dialplan_sends_a_call_into_our_application(asterisk: RunningAsterisk) -> None:
    # A Local channel into the inbound context: its dialplan half must reach Stasis.
    with _events(asterisk) as ws:
        r = httpx.post(
            f"{asterisk.ari_url}/channels",
            params={"endpoint": "Local/5551234@callcenter-in", "app": "callcenter"},
            auth=asterisk.ari_auth,
            timeout=5,
        )
        assert r.status_code == 200, r.text
        started = None
        deadline = time.monotonic() + 5
        while started is None and time.monotonic() < deadline:
            event = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if event["type"] == "StasisStart":
                started = event["channel"]
        # The Local channel's second half ran the dialplan: Stasis(callcenter) took it.
        assert started is not None, "no StasisStart within 5 s"
        assert started["name"].startswith("Local/5551234@callcenter-in-")
        assert started["name"].endswith(";2")
        assert started["dialplan"]["context"] == "callcenter-in"
        assert started["dialplan"]["exten"] == "5551234"
        assert started["dialplan"]["app_name"] == "Stasis"
        httpx.delete(f"{asterisk.ari_url}/channels/{r.json()['id']}", auth=asterisk.ari_auth)


def _listening(pid: int) -> set[tuple[str, str, int]]:
    """(protocol, address, port) of every listening TCP / bound UDP socket of ``pid``."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        lines = Path(f"/proc/{pid}/net/{proto}").read_text().splitlines()[1:]
        for line in lines:
            cols = line.split()
            local, state, inode = cols[1], cols[3], cols[9]
            listening = state == "0A" if proto.startswith("tcp") else state == "07"
            if inode in inodes and listening:
                host, port = local.split(":")
                found.add((proto[:3], _address(host), int(port, 16)))
    return found


def _address(hex_host: str) -> str:
    """An address as /proc/net writes it (32-bit words in host order) → text."""
    raw = bytes.fromhex(hex_host)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, words)


def test_http_and_sip_listen_on_loopback_only(asterisk: RunningAsterisk) -> None:
    sockets = _listening(asterisk.pid)
    tcp = {(address, port) for proto, address, port in sockets if proto == "tcp"}
    assert tcp == {("127.0.0.1", asterisk.config.http_port)}  # ARI/HTTP, and nothing else
    udp = {(address, port) for proto, address, port in sockets if proto == "udp"}
    assert ("127.0.0.1", asterisk.config.sip_port) in udp
    # Besides SIP, the only UDP sockets are the client sockets of PJSIP's DNS resolver
    # (pjlib binds them to the wildcard address, one per family, on a kernel-chosen
    # ephemeral port; docs/voice.md). Anything else must be on 127.0.0.1.
    low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    resolver = {(a, p) for a, p in udp if a in ("0.0.0.0", "::")}
    assert len(resolver) <= 2 and len({a for a, _p in resolver}) == len(resolver), resolver
    assert all(low <= p <= high for _a, p in resolver), resolver
    assert {a for a, _p in udp - resolver} == {"127.0.0.1"}, udp


def test_the_ari_password_is_in_no_log_and_no_repr(asterisk: RunningAsterisk) -> None:
    user, password = asterisk.ari_auth
    httpx.get(f"{asterisk.ari_url}/asterisk/info", auth=(user, "nope"), timeout=5)
    assert password not in repr(asterisk)
    for path in asterisk.config.log_dir.rglob("*"):
        if path.is_file():
            assert password not in path.read_text(errors="replace"), path
    ari_conf = asterisk.config.etc_dir / "ari.conf"
    assert ari_conf.stat().st_mode & 0o077 == 0  # only its owner reads the password


def _processes_using(text: str) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if text.encode() in (proc / "cmdline").read_bytes():
                    pids.append(int(proc.name))
            except OSError:
                continue
    return pids


def _children() -> set[int]:
    """The live child processes of this (test) process."""
    out: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        out |= {int(pid) for pid in (task / "children").read_text().split()}
    return out


def test_stop_leaves_no_process_and_no_folder(install: AsteriskInstall) -> None:
    running = start_asterisk(install)
    base = running.config.base_dir
    assert _processes_using(str(base)) == [running.pid]
    running.stop()
    assert _processes_using(str(base)) == []
    assert not base.exists()
    running.stop()  # idempotent


def test_asterisk_dies_with_the_process_that_started_it(
    install: AsteriskInstall, tmp_path: Path
) -> None:
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from callcenter.voice.asterisk import start_asterisk, AsteriskInstall\n"
        "a = start_asterisk(AsteriskInstall(Path(sys.argv[1])))\n"
        "print(a.pid, a.config.base_dir, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script, str(install.prefix)], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    pid_text, base = parent.stdout.readline().split()
    try:
        assert _processes_using(base) == [int(pid_text)]
        parent.send_signal(signal.SIGKILL)  # no finally, no atexit: only the kernel helps
        parent.wait()
        deadline = time.monotonic() + 10
        while _processes_using(base) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _processes_using(base) == []
    finally:
        for pid in _processes_using(base):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(base, ignore_errors=True)


def test_asterisk_outlives_the_thread_that_started_it(install: AsteriskInstall) -> None:
    # The kernel's parent-death signal follows the thread that forked: a server starts
    # Asterisk from a worker thread, which a pool may retire while Asterisk carries calls.
    started: list[RunningAsterisk] = []
    worker = threading.Thread(target=lambda: started.append(start_asterisk(install)))
    worker.start()
    worker.join()
    (running,) = started
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            running.process.wait(timeout=1.0)  # a SIGKILL from the kernel would end it now
        assert running.is_running()
        r = httpx.get(f"{running.ari_url}/asterisk/info", auth=running.ari_auth, timeout=5)
        assert r.status_code == 200
    finally:
        running.stop()


def test_a_missing_build_names_the_script(tmp_path: Path) -> None:
    with pytest.raises(AsteriskMissingError) as e:
        find_install(tmp_path)
    message = str(e.value)
    assert "scripts/asterisk.sh" in message
    assert str(tmp_path / "asterisk" / f"current-{PINNED}") in message


def test_an_unfinished_build_is_not_used(install: AsteriskInstall, tmp_path: Path) -> None:
    # Everything a build has except the marker the script writes last.
    partial = tmp_path / "asterisk" / f"{PINNED}-interrupted"
    (partial / "sbin").mkdir(parents=True)
    (partial / "sbin" / "asterisk").symlink_to(install.binary)
    (partial / "lib" / "asterisk").mkdir(parents=True)
    (partial / "lib" / "asterisk" / "modules").symlink_to(install.modules_dir)
    (tmp_path / "asterisk" / f"current-{PINNED}").symlink_to(partial)
    with pytest.raises(AsteriskMissingError, match=r"scripts/asterisk\.sh"):
        find_install(tmp_path)


@pytest.fixture
def taken_ports() -> Iterator[dict[socket.SocketKind, int]]:
    """A TCP and a UDP port on 127.0.0.1 held by this test (as another program would)."""
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with tcp, udp:
        tcp.bind(("127.0.0.1", 0))
        tcp.listen()
        udp.bind(("127.0.0.1", 0))
        yield {socket.SOCK_STREAM: tcp.getsockname()[1], socket.SOCK_DGRAM: udp.getsockname()[1]}


@pytest.mark.parametrize("kind", [socket.SOCK_STREAM, socket.SOCK_DGRAM], ids=["http", "sip"])
def test_a_port_taken_before_asterisk_binds_it_is_replaced(
    install: AsteriskInstall,
    taken_ports: dict[socket.SocketKind, int],
    kind: socket.SocketKind,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The race the free-port choice leaves open, made certain: the first choice is taken.
    real = asterisk_module._free_port
    given: list[int] = []

    def first_taken(k: socket.SocketKind, host: str) -> int:
        if k != kind:
            return real(k, host)
        given.append(taken_ports[k] if not given else real(k, host))
        return given[-1]

    monkeypatch.setattr(asterisk_module, "_free_port", first_taken)
    with start_asterisk(install) as running:
        chosen = running.config.http_port if kind == socket.SOCK_STREAM else running.config.sip_port
        assert given[0] == taken_ports[kind] and chosen == given[1] != taken_ports[kind]
        proto = "tcp" if kind == socket.SOCK_STREAM else "udp"
        assert (proto, "127.0.0.1", chosen) in _listening(running.pid)


def test_ports_that_stay_taken_give_up_with_the_reason(
    install: AsteriskInstall,
    taken_ports: dict[socket.SocketKind, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(asterisk_module, "_free_port", lambda k, _host: taken_ports[k])
    before = _children()  # e.g. the module's own Asterisk
    started = time.monotonic()
    with pytest.raises(AsteriskError, match="Address already in use"):
        start_asterisk(install)
    assert time.monotonic() - started < 20  # three quick tries, not three time-outs
    assert _children() == before  # each try was stopped


def test_fixed_ports_that_are_taken_fail_at_once_naming_them(
    install: AsteriskInstall, taken_ports: dict[socket.SocketKind, int]
) -> None:
    """A port the settings name (voice_sip_port, voice_http_port) is not replaced by
    another: the start fails with one line naming both and the settings."""
    sip, http = taken_ports[socket.SOCK_DGRAM], taken_ports[socket.SOCK_STREAM]
    with pytest.raises(AsteriskError) as e:
        start_asterisk(install, sip_port=sip, http_port=http)
    first = str(e.value).splitlines()[0]
    assert f"SIP port {sip}, HTTP port {http}" in first
    assert "voice_sip_port, voice_http_port" in first
