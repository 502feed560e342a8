"""SIP security: who keeps failing to authenticate, and PJSIP's ACL that shuts them out.

Pure (no I/O): :mod:`callcenter.live.voice.guard` follows the embedded Asterisk's
security log, feeds each line to :func:`parse_event` and :class:`SipGuard`, and writes
:func:`render_acl` to ``pjsip_blocked.conf`` (``#tryinclude``-d by the generated
``pjsip.conf``) before reloading ``res_pjsip``.

**The log.** Asterisk's ``res_security_log`` writes one line per security event to the
logger's ``security`` level (``logger.conf``: ``security.log => security``)::

    [2026-12-07 12:38:42.187] SECURITY[31760] res_security_log.c: SecurityEvent="Challenge
    ResponseFailed",EventTV="2026-12-07T12:38:42.187+0000",Severity="Error",Service="PJSIP",
    EventVersion="1",AccountID="alice",SessionID="4136323980",LocalAddress="IPV4/UDP/127.0.0.1/
    46531",RemoteAddress="IPV4/UDP/127.0.0.1/5060",Challenge="…",Response="…",ExpectedResponse=""

(one line; the fields of each event type are fixed in ``main/security_events.c``).
A *failure* is ``InvalidAccountID`` (no such endpoint: a scan, or a guessed user name),
``ChallengeResponseFailed`` (a wrong digest: a wrong password), ``InvalidPassword`` and
``FailedACL`` (an endpoint's own ACL refused the address). ``ChallengeSent`` and
``SuccessfulAuth`` are not failures.

**Which address.** Asterisk writes the values unescaped, and two fields before
``RemoteAddress`` come from the request: ``AccountID`` (the From user) and ``SessionID``
(the Call-ID, which PJSIP takes up to the end of the line, quotes included). A Call-ID
such as ``x",LocalAddress="…",RemoteAddress="IPV4/UDP/10.0.0.9/5060`` therefore writes a
second, false ``RemoteAddress`` into the line — *before* the true one. The fields after
the true one are Asterisk's own or quoted strings from the Authorization header, where a
quote can only appear escaped (``\\"``). So the true address is the **last**
``",RemoteAddress="`` whose quote is not escaped: an attacker can neither hide behind
nor frame another address. (Hand-written: no library parses this format.)

**The rule.** An address with ``max_failures`` failures within ``window_s`` seconds is
blocked for ``block_s`` seconds; its count starts again from zero when the block ends.
Addresses in ``allow`` (the center's trunks, its own networks) are never counted.
Memory is bounded: at most ``max_tracked`` addresses are counted (the one seen least
recently is forgotten first) and at most ``max_blocked`` are blocked at once (a new
offender beyond that is reported, not blocked).
"""

from __future__ import annotations

import ipaddress
import re
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from callcenter.errors import UserError

__all__ = [
    "ACL_SECTION",
    "BLOCKED_FILE",
    "FAILURES",
    "Block",
    "GuardPolicy",
    "SecurityEvent",
    "SipGuard",
    "parse_event",
    "parse_networks",
    "render_acl",
]

BLOCKED_FILE = "pjsip_blocked.conf"
"""The file (next to ``pjsip.conf``) that holds the block list as a PJSIP ACL."""
ACL_SECTION = "callcenter-blocked"
"""Its ``type=acl`` section: PJSIP applies every such section to every request."""

FAILURES = frozenset(
    {"InvalidAccountID", "ChallengeResponseFailed", "InvalidPassword", "FailedACL"}
)
"""The security events that count against the address they came from."""

_EVENT = re.compile(r'SecurityEvent="([A-Za-z]+)"')
# an unescaped quote closes the previous field; see the module's docstring
_REMOTE = re.compile(r'(?<!\\)",RemoteAddress="IPV([46])/([A-Za-z]+)/\[?([0-9A-Fa-f.:]+)\]?/(\d+)"')
_ACCOUNT = re.compile(r'",AccountID="([^"]{0,64})"')
_EVENT_TV = re.compile(r'",EventTV="([0-9T:.+-]{10,40})"')


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    """One line of Asterisk's security log, as far as the guard needs it."""

    name: str
    """``SecurityEvent``, e.g. ``ChallengeResponseFailed``."""
    address: str
    """The source IP (normalised: ``::ffff:1.2.3.4`` is ``1.2.3.4``)."""
    port: int
    transport: str
    account: str = ""
    """``AccountID`` as logged (text from the request: shown, never trusted)."""
    at: float | None = None
    """``EventTV`` as a Unix time, when it parsed."""

    @property
    def failure(self) -> bool:
        return self.name in FAILURES


def parse_event(line: str) -> SecurityEvent | None:
    """The event in one security-log line, or None for any other line (a banner, a
    truncated line, an address that is not an IP)."""
    head = _EVENT.search(line)
    remote = None
    for remote in _REMOTE.finditer(line):  # noqa: B007 (the last one is the true one)
        pass
    if head is None or remote is None:
        return None
    try:
        ip = ipaddress.ip_address(remote.group(3))
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    account = _ACCOUNT.search(line)
    return SecurityEvent(
        name=head.group(1),
        address=str(ip),
        port=int(remote.group(4)),
        transport=remote.group(2).upper(),
        account=account.group(1) if account else "",
        at=_event_time(line),
    )


def _event_time(line: str) -> float | None:
    m = _EVENT_TV.search(line)
    if m is None:
        return None
    try:
        return datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
    except ValueError:
        return None


def parse_networks(value: str | Iterable[str], what: str = "voice_guard_allow") -> tuple[str, ...]:
    """Networks as ``ipaddress`` writes them (``10.0.0.0/8``, ``192.0.2.7/32``) from a
    comma-separated string or a list; :class:`UserError` names a bad one."""
    items = [x.strip() for x in value.split(",")] if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in (x for x in items if x):
        try:
            out.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise UserError(
                f"{what}: {item!r} is not an IP address or network "
                "(expected e.g. 203.0.113.7 or 10.0.0.0/8, comma-separated)"
            ) from None
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True, slots=True)
class GuardPolicy:
    """When an address is blocked, and for how long (settings ``voice_guard_*``)."""

    max_failures: int = 10
    window_s: float = 60.0
    block_s: float = 900.0
    max_tracked: int = 10_000
    max_blocked: int = 1_000
    allow: tuple[str, ...] = ()
    """Networks never counted nor blocked (see :func:`parse_networks`)."""

    def check(self) -> None:
        """:class:`UserError` naming the first value out of range."""
        for what, value, low in (
            ("max_failures", self.max_failures, 1),
            ("window_s", self.window_s, 0.001),
            ("block_s", self.block_s, 0.001),
            ("max_tracked", self.max_tracked, 1),
            ("max_blocked", self.max_blocked, 1),
        ):
            if not value >= low:
                raise UserError(f"SIP guard: {what} = {value!r}; expected at least {low}")
        parse_networks(self.allow, "SIP guard: allow")


@dataclass(frozen=True, slots=True)
class Block:
    """A blocked address: since when, until when, after how many failures."""

    address: str
    since: float
    until: float
    failures: int


@dataclass(slots=True)
class SipGuard:
    """Failures per address in a sliding window, and the addresses blocked now.

    Times are the caller's (``now``, seconds); nothing here reads a clock."""

    policy: GuardPolicy = field(default_factory=GuardPolicy)
    _failures: OrderedDict[str, deque[float]] = field(default_factory=OrderedDict)
    _blocked: dict[str, Block] = field(default_factory=dict)
    _allow: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    refused: int = 0
    """Offenders not blocked because ``max_blocked`` were blocked already."""

    def __post_init__(self) -> None:
        self.policy.check()
        self._allow = tuple(ipaddress.ip_network(n) for n in parse_networks(self.policy.allow))

    def allowed(self, address: str) -> bool:
        ip = ipaddress.ip_address(address)
        return any(ip in net for net in self._allow)

    def feed(self, event: SecurityEvent, now: float) -> Block | None:
        """Count ``event`` if it is a failure; the new :class:`Block` when this one
        reaches ``max_failures`` within ``window_s``, else None."""
        addr = event.address
        if not event.failure or addr in self._blocked or self.allowed(addr):
            return None
        p = self.policy
        times = self._failures.pop(addr, None)
        if times is None:
            times = deque(maxlen=p.max_failures)
        times.append(now)
        self._failures[addr] = times  # most recently seen last
        while len(self._failures) > p.max_tracked:
            self._failures.popitem(last=False)
        recent = sum(1 for t in times if t > now - p.window_s)
        if recent < p.max_failures:
            return None
        if len(self._blocked) >= p.max_blocked:
            self.refused += 1
            return None
        del self._failures[addr]
        block = Block(addr, since=now, until=now + p.block_s, failures=recent)
        self._blocked[addr] = block
        return block

    def expire(self, now: float) -> list[Block]:
        """End the blocks whose time is up (``until <= now``); they are returned."""
        done = [b for b in self._blocked.values() if b.until <= now]
        for b in done:
            del self._blocked[b.address]
        return sorted(done, key=lambda b: b.address)

    def blocked(self) -> list[Block]:
        """The addresses blocked now, by address."""
        return sorted(self._blocked.values(), key=lambda b: _sort_key(b.address))

    def tracked(self) -> int:
        """How many addresses have failures counted (at most ``max_tracked``)."""
        return len(self._failures)

    def next_expiry(self) -> float | None:
        return min((b.until for b in self._blocked.values()), default=None)


def _sort_key(address: str) -> tuple[int, int]:
    ip = ipaddress.ip_address(address)
    return ip.version, int(ip)


def render_acl(blocks: Iterable[Block]) -> str:
    """``pjsip_blocked.conf``: one ``type=acl`` section denying each blocked address
    (``/32`` or ``/128``), or only a comment when none is blocked. PJSIP answers a
    request from a denied address with 403 before looking for its endpoint."""
    lines = ["; written by callcenter's SIP guard (live/voice/guard.py): do not edit"]
    denies = []
    for b in blocks:
        ip = ipaddress.ip_address(b.address)  # checked again: nothing else reaches the file
        denies.append(f"deny = {ip}/{32 if ip.version == 4 else 128}")
    if denies:
        lines += ["", f"[{ACL_SECTION}]", "type = acl", *denies]
    return "\n".join(lines) + "\n"
