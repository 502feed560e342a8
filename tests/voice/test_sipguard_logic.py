"""The SIP guard's pure parts: parsing Asterisk's security log, the sliding window, the
allow list, the memory bound and the ACL text, against lines Asterisk 22.10.1 wrote here
(copied verbatim from a run of sipvicious against it) and hand-computed windows."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest

from callcenter.errors import UserError
from callcenter.live.voice.guard import (
    GuardService,
    Instance,
    LogFollower,
    ReloadFailedError,
    policy_from_settings,
)
from callcenter.settings import Settings
from callcenter.voice.sip_guard import (
    BLOCKED_FILE,
    Block,
    GuardPolicy,
    SecurityEvent,
    SipGuard,
    parse_event,
    parse_networks,
    render_acl,
)

_P = "[2026-12-07 12:38:42.187] SECURITY[31760] res_security_log.c: "
CHAL_FAILED = (
    _P + 'SecurityEvent="ChallengeResponseFailed",EventTV="2026-12-07T12:38:42.187+0000",'
    'Severity="Error",Service="PJSIP",EventVersion="1",AccountID="alice",'
    'SessionID="4136323980",LocalAddress="IPV4/UDP/127.0.0.1/46531",'
    'RemoteAddress="IPV4/UDP/127.0.0.1/5060",'
    'Challenge="1796647122/6b3c57ad93b5c68a9d3236f968bffd2f",'
    'Response="8de07bf79ab4bee144e2f98c75a1240b",ExpectedResponse=""'
)
INVALID_ACCOUNT = (
    _P + 'SecurityEvent="InvalidAccountID",EventTV="2026-12-07T12:38:25.124+0000",'
    'Severity="Error",Service="PJSIP",EventVersion="1",AccountID="1102275631",'
    'SessionID="1281285592",LocalAddress="IPV4/UDP/127.0.0.1/59105",'
    'RemoteAddress="IPV4/UDP/198.51.100.7/5060"'
)
CHAL_SENT = (
    _P + 'SecurityEvent="ChallengeSent",EventTV="2026-12-07T12:38:25.124+0000",'
    'Severity="Informational",Service="PJSIP",EventVersion="1",AccountID="<unknown>",'
    'SessionID="1281285592",LocalAddress="IPV4/UDP/127.0.0.1/59105",'
    'RemoteAddress="IPV4/UDP/127.0.0.1/5060",Challenge=""'
)


def ev(address: str, name: str = "ChallengeResponseFailed") -> SecurityEvent:
    return SecurityEvent(name=name, address=address, port=5060, transport="UDP")


def test_parses_the_lines_asterisk_wrote() -> None:
    e = parse_event(CHAL_FAILED)
    assert e is not None
    assert (e.name, e.address, e.port, e.transport, e.account) == (
        "ChallengeResponseFailed",
        "127.0.0.1",
        5060,
        "UDP",
        "alice",
    )
    assert e.failure
    assert e.at == datetime(2026, 12, 7, 12, 38, 42, 187000, tzinfo=UTC).timestamp()
    i = parse_event(INVALID_ACCOUNT)
    assert i is not None and i.failure and i.address == "198.51.100.7"
    s = parse_event(CHAL_SENT)
    assert s is not None and not s.failure


@pytest.mark.parametrize(
    "line",
    [
        "",
        "[2026-12-07 12:38:24.163] Asterisk 22.10.1 built by root @ vm",
        CHAL_FAILED.split(",RemoteAddress")[0],  # cut before the address
        INVALID_ACCOUNT.replace("198.51.100.7", "pbx.example.com"),  # not an IP
        INVALID_ACCOUNT.replace("198.51.100.7", "300.1.1.1"),
    ],
)
def test_lines_without_an_address_are_not_events(line: str) -> None:
    assert parse_event(line) is None


def test_a_forged_call_id_neither_hides_nor_frames() -> None:
    # The Call-ID (SessionID) is the attacker's text and comes before the true address;
    # PJSIP keeps its quotes. The true address is the last unescaped one.
    forged = 'x",LocalAddress="IPV4/UDP/127.0.0.1/5060",RemoteAddress="IPV4/UDP/10.1.2.3/5060'
    line = INVALID_ACCOUNT.replace('SessionID="1281285592"', f'SessionID="{forged}"')
    assert line.count("RemoteAddress=") == 2
    e = parse_event(line)
    assert e is not None and e.address == "198.51.100.7"
    # after the true address only quoted strings of the request follow, quotes escaped
    tail = 'Response="a\\",RemoteAddress=\\"IPV4/UDP/10.9.9.9/5060\\"",ExpectedResponse=""'
    e2 = parse_event(CHAL_FAILED.replace('Response="8de07bf79ab4bee144e2f98c75a1240b"', tail))
    assert e2 is not None and e2.address == "127.0.0.1"


def test_ipv6_and_mapped_addresses() -> None:
    v6 = INVALID_ACCOUNT.replace("IPV4/UDP/198.51.100.7", "IPV6/UDP/2001:db8::7")
    mapped = INVALID_ACCOUNT.replace("IPV4/UDP/198.51.100.7", "IPV6/UDP/[::ffff:192.0.2.9]")
    assert (e := parse_event(v6)) is not None and e.address == "2001:db8::7"
    assert (m := parse_event(mapped)) is not None and m.address == "192.0.2.9"


def test_sliding_window_by_hand() -> None:
    # 3 failures within 10 s block for 100 s.
    g = SipGuard(GuardPolicy(max_failures=3, window_s=10, block_s=100))
    a = "203.0.113.5"
    assert g.feed(ev(a), 0.0) is None
    assert g.feed(ev(a), 5.0) is None
    # at t=12 the one at t=0 is out of the window (12-10=2 > 0): 2 in window
    assert g.feed(ev(a), 12.0) is None
    # at t=14.9: t=5, 12, 14.9 are within (4.9, 14.9]: 3 → blocked
    b = g.feed(ev(a), 14.9)
    assert b == Block(a, since=14.9, until=114.9, failures=3)
    assert g.blocked() == [b]
    assert g.next_expiry() == 114.9
    # not a failure, or while blocked: nothing changes
    assert g.feed(ev(a, "SuccessfulAuth"), 20.0) is None
    assert g.feed(ev(a), 20.0) is None
    assert g.expire(114.8) == []
    assert g.expire(114.9) == [b]
    assert g.blocked() == []
    # the count starts again from zero after the block
    assert g.feed(ev(a), 115.0) is None
    assert g.feed(ev(a), 116.0) is None
    assert g.feed(ev(a), 117.0) is not None


def test_exactly_on_the_window_edge_is_outside() -> None:
    g = SipGuard(GuardPolicy(max_failures=2, window_s=10, block_s=1))
    assert g.feed(ev("192.0.2.1"), 0.0) is None
    assert g.feed(ev("192.0.2.1"), 10.0) is None  # (0, 10]: the one at 0 is out
    assert g.feed(ev("192.0.2.1"), 10.5) is not None


def test_success_does_not_count_and_addresses_are_separate() -> None:
    g = SipGuard(GuardPolicy(max_failures=2, window_s=60, block_s=60))
    assert g.feed(ev("192.0.2.1"), 1.0) is None
    assert g.feed(ev("192.0.2.2"), 2.0) is None
    assert g.feed(ev("192.0.2.1", "ChallengeSent"), 3.0) is None
    assert g.feed(ev("192.0.2.1", "SuccessfulAuth"), 4.0) is None
    blocked = g.feed(ev("192.0.2.1", "InvalidAccountID"), 5.0)
    assert blocked is not None and blocked.address == "192.0.2.1"
    assert [b.address for b in g.blocked()] == ["192.0.2.1"]


def test_allow_list_is_never_blocked() -> None:
    g = SipGuard(GuardPolicy(max_failures=1, allow=("10.0.0.0/8", "2001:db8::/32")))
    assert g.feed(ev("10.200.3.4"), 0.0) is None
    assert g.feed(ev("2001:db8::99"), 0.0) is None
    assert g.feed(ev("11.0.0.1"), 0.0) is not None
    assert g.tracked() == 0


def test_memory_is_bounded() -> None:
    g = SipGuard(GuardPolicy(max_failures=2, window_s=1000, max_tracked=3, max_blocked=1))
    for i in range(10):
        g.feed(ev(f"192.0.2.{i}"), float(i))
    assert g.tracked() == 3
    # 192.0.2.0 was forgotten (least recently seen): its second failure is its first
    assert g.feed(ev("192.0.2.0"), 20.0) is None
    # .9 is still counted: its second failure blocks it
    assert g.feed(ev("192.0.2.9"), 21.0) is not None
    # one block at most: .8's second failure is refused, and counted as refused
    assert g.feed(ev("192.0.2.8"), 22.0) is None
    assert g.refused == 1 and len(g.blocked()) == 1


def test_render_acl() -> None:
    assert "[" not in render_acl([])
    text = render_acl([Block("192.0.2.1", 0, 1, 3), Block("2001:db8::1", 0, 1, 3)])
    assert text.splitlines()[1:] == [
        "",
        "[callcenter-blocked]",
        "type = acl",
        "deny = 192.0.2.1/32",
        "deny = 2001:db8::1/128",
    ]
    with pytest.raises(ValueError):
        render_acl([Block("1.2.3.4/32\n[x]", 0, 1, 1)])


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        (GuardPolicy(max_failures=0), "SIP guard: max_failures = 0; expected at least 1"),
        (GuardPolicy(window_s=0), "SIP guard: window_s = 0; expected at least 0.001"),
        (GuardPolicy(block_s=-1), "SIP guard: block_s = -1; expected at least 0.001"),
        (GuardPolicy(max_tracked=0), "SIP guard: max_tracked = 0; expected at least 1"),
        (GuardPolicy(allow=("10.0.0.0/8", "nope")), "SIP guard: allow: 'nope' is not an IP"),
    ],
)
def test_bad_policy_is_one_clear_error(policy: GuardPolicy, message: str) -> None:
    with pytest.raises(UserError) as e:
        SipGuard(policy)
    assert str(e.value).startswith(message)


def test_networks_and_settings() -> None:
    assert parse_networks(" 10.1.2.3, 192.0.2.0/24 ,,") == ("10.1.2.3/32", "192.0.2.0/24")
    with pytest.raises(UserError, match=r"voice_guard_allow: 'x\.y' is not an IP"):
        parse_networks("x.y")
    s = Settings.load(voice_guard_allow="10.0.0.0/8", voice_guard_max_failures=4)
    p = policy_from_settings(s, ("203.0.113.0/24", "10.0.0.0/8"))
    assert (p.max_failures, p.window_s, p.block_s) == (4, 60.0, 900.0)
    assert p.allow == ("10.0.0.0/8", "203.0.113.0/24")
    with pytest.raises(UserError, match="voice_guard_allow"):
        Settings.load(voice_guard_allow="10.0.0.0/8, bad")


def test_log_follower_late_file_partial_lines_rotation(tmp_path: Path) -> None:
    path = tmp_path / "security.log"
    f = LogFollower(path)
    assert f.read() == []  # not there yet
    path.write_text("one\ntw")
    assert f.read() == ["one"]
    with path.open("a") as out:
        out.write("o\nthree\n")
    assert f.read() == ["two", "three"]
    assert f.read() == []
    # rotated: a new file under the name
    path.rename(tmp_path / "security.log.1")
    path.write_text("four\n")
    assert f.read() == ["four"]
    # truncated in place
    path.write_text("")
    assert f.read() == []
    path.write_text("5\n")
    assert f.read() == ["5"]
    # an over-long line is dropped, the next one kept
    path.rename(tmp_path / "security.log.2")
    path.write_text("x" * 20_000 + "\nsix\n")
    assert f.read() == ["six"]


def test_a_refused_reload_is_retried(tmp_path: Path) -> None:
    """ARI not answering: the file is written, the poll says so, and the next poll tries
    again (the list is not taken as applied)."""
    (tmp_path / "log").mkdir()
    (tmp_path / "etc").mkdir()
    (tmp_path / "log" / "security.log").write_text(INVALID_ACCOUNT + "\n")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inst = Instance(tmp_path / "log", tmp_path / "etc", f"http://127.0.0.1:{port}/ari", ("u", "p"))
    guard = GuardService(GuardPolicy(max_failures=1), inst, clock=lambda: 7.0)
    with pytest.raises(ReloadFailedError, match="ARI did not answer the reload"):
        guard.poll()
    assert "deny = 198.51.100.7/32" in (tmp_path / "etc" / BLOCKED_FILE).read_text()
    assert [b.address for b in guard.blocked()] == ["198.51.100.7"]
    with pytest.raises(ReloadFailedError):
        guard.poll()
    assert guard.reloads == 0
