"""The SIP guard of an embedded Asterisk: follow its security log, block repeat offenders.

:class:`GuardService` reads the new lines of ``<instance>/log/security.log``
(:class:`LogFollower`: the file may appear late, be rotated or truncated; a line is
taken only once it is complete), feeds them to :class:`~callcenter.voice.sip_guard.SipGuard`
and, whenever the block list changes (an address blocked, a block's time up), rewrites
``<etc>/pjsip_blocked.conf`` (a temporary file, mode 0600, renamed over the old one) and
reloads ``res_pjsip`` over ARI (``PUT /ari/asterisk/modules/res_pjsip.so``): PJSIP then
answers every request from a blocked address with 403 before looking at it, and calls
in progress go on.

Each block and unblock is logged with the address and the count (never the account
name, a URI or a digest: the log line's other fields are not copied anywhere).

:meth:`GuardService.run` is a coroutine for the server's background tasks: the reads
and the reload run in a worker thread (``asyncio.to_thread``), never on the event loop.
The server keeps the running service in ``center.extras[GUARD_KEY]``, where
``GET /api/admin/voice/blocked`` (``api/voice_security.py``) finds it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import BaseModel

from callcenter.settings import Settings
from callcenter.voice.asterisk import RunningAsterisk
from callcenter.voice.sip_guard import (
    BLOCKED_FILE,
    Block,
    GuardPolicy,
    SipGuard,
    parse_event,
    parse_networks,
    render_acl,
)

__all__ = [
    "GUARD_KEY",
    "SECURITY_LOG",
    "BlockedOut",
    "GuardService",
    "Instance",
    "LogFollower",
    "ReloadFailedError",
    "policy_from_settings",
]

log = logging.getLogger(__name__)

GUARD_KEY = "voice_guard"
"""Where the server keeps its :class:`GuardService` in ``center.extras``."""
SECURITY_LOG = "security.log"
"""The file ``asterisk_config``'s ``logger.conf`` sends the ``security`` level to."""
MAX_LINE = 16_384
"""A longer line is not a security event of ours: it is dropped, not buffered."""
_RELOAD = "asterisk/modules/res_pjsip.so"


class ReloadFailedError(RuntimeError):
    """Asterisk did not take the new block list (the message says what it answered)."""


class BlockedOut(BaseModel):
    """A blocked address on the admin page: Unix times, failures counted."""

    address: str
    since: float
    until: float
    failures: int


def policy_from_settings(s: Settings, extra_allow: tuple[str, ...] = ()) -> GuardPolicy:
    """The settings ``voice_guard_*`` as a policy; ``extra_allow``: more networks never
    blocked (e.g. the IP trunks' networks)."""
    allow = parse_networks(s.voice_guard_allow) + parse_networks(extra_allow, "trunk networks")
    return GuardPolicy(
        max_failures=s.voice_guard_max_failures,
        window_s=s.voice_guard_window_s,
        block_s=s.voice_guard_block_s,
        max_tracked=s.voice_guard_max_tracked,
        max_blocked=s.voice_guard_max_blocked,
        allow=tuple(dict.fromkeys(allow)),
    )


@dataclass(slots=True)
class LogFollower:
    """The complete lines appended to ``path`` since the last :meth:`read`.

    Survives the file appearing late (nothing until it exists), being rotated (a new
    inode: the rest of the old file is lost with it, the new one is read from its start)
    or truncated (read again from its start). Reads at most ``max_bytes`` a call."""

    path: Path
    max_bytes: int = 1 << 20
    _inode: int | None = None
    _offset: int = 0
    _partial: bytes = b""

    def read(self) -> list[str]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return []
        if st.st_ino != self._inode or st.st_size < self._offset:
            self._inode, self._offset, self._partial = st.st_ino, 0, b""
        if st.st_size == self._offset:
            return []
        with open(self.path, "rb") as f:
            f.seek(self._offset)
            data = f.read(self.max_bytes)
        self._offset += len(data)
        chunks = (self._partial + data).split(b"\n")
        self._partial = chunks.pop()
        if len(self._partial) > MAX_LINE:
            self._partial = b""
        return [c.decode("utf-8", "replace") for c in chunks if len(c) <= MAX_LINE]


@dataclass(frozen=True, slots=True)
class Instance:
    """The Asterisk a guard watches: its log and config folders and its ARI."""

    log_dir: Path
    etc_dir: Path
    ari_url: str
    ari_auth: tuple[str, str] = field(repr=False)

    @classmethod
    def of(cls, a: RunningAsterisk) -> Instance:
        return cls(a.config.log_dir, a.config.etc_dir, a.ari_url, a.ari_auth)


class GuardService:
    """The guard of the embedded Asterisk: :meth:`poll` does one round (thread-safe),
    :meth:`run` polls every ``poll_s`` seconds until cancelled, :meth:`follow` does the
    same for whichever instance a supervisor runs now (a restarted Asterisk is a new
    instance: its log is read from the start and the blocks still running are written
    into its configuration at once)."""

    def __init__(
        self,
        policy: GuardPolicy,
        instance: Instance | None = None,
        *,
        clock: Callable[[], float] = time.time,
        poll_s: float = 0.5,
    ) -> None:
        self._guard = SipGuard(policy)
        self._clock = clock
        self.poll_s = poll_s
        self._lock = threading.Lock()  # the counts and the list (held briefly)
        self._io = threading.Lock()  # one round at a time: the file and the reload
        self.instance: Instance | None = None
        self._follower: LogFollower | None = None
        self._written: list[str] | None = None  # the addresses in the instance's file now
        self.reloads = 0
        if instance is not None:
            self.attach(instance)

    def attach(self, instance: Instance) -> None:
        """Watch ``instance`` from now on (its log from its start)."""
        with self._lock:
            self.instance = instance
            self._follower = LogFollower(instance.log_dir / SECURITY_LOG)
            self._written = None

    def blocked(self) -> list[BlockedOut]:
        """The addresses blocked now (``GET /api/admin/voice/blocked``)."""
        with self._lock:
            return [BlockedOut(**_fields(b)) for b in self._guard.blocked()]

    def poll(self) -> bool:
        """Read new lines, count, end blocks whose time is up; write the file and reload
        PJSIP when the list changed (True then). :class:`ReloadFailedError` if ARI
        refuses the reload (the next poll tries again)."""
        with self._io:
            with self._lock:
                inst, follower = self.instance, self._follower
                if inst is None or follower is None:
                    return False
                self._count(follower.read(), self._clock())
                blocks = self._guard.blocked()
                addresses = [b.address for b in blocks]
                if addresses == self._written:
                    return False
                self._written = None  # until the reload is done: the next poll retries
            # outside the counts' lock: the admin page never waits for Asterisk
            _write_private(inst.etc_dir / BLOCKED_FILE, render_acl(blocks))
            _reload(inst)
            with self._lock:
                if self.instance == inst:
                    self._written = addresses
                self.reloads += 1
            return True

    def _count(self, lines: list[str], now: float) -> None:
        for line in lines:
            event = parse_event(line)
            if event is None:
                continue
            block = self._guard.feed(event, now)
            if block is not None:
                log.warning(
                    "SIP guard: blocked %s for %.0f s after %d failures in %.0f s",
                    block.address,
                    block.until - block.since,
                    block.failures,
                    self._guard.policy.window_s,
                )
        for b in self._guard.expire(now):
            log.warning("SIP guard: unblocked %s (%d failures)", b.address, b.failures)

    async def run(self) -> None:
        """Poll the attached instance until cancelled; a failed round is logged and
        retried at the next."""
        while True:
            await self._round()
            await asyncio.sleep(self.poll_s)

    async def follow(self, current: Callable[[], RunningAsterisk | None]) -> None:
        """Like :meth:`run`, for the instance ``current()`` returns now (e.g. the voice
        service's ``asterisk``); nothing while it returns None or a stopped one."""
        while True:
            a = current()
            if a is not None and a.is_running():
                inst = Instance.of(a)
                if inst != self.instance:
                    self.attach(inst)
                await self._round()
            await asyncio.sleep(self.poll_s)

    async def _round(self) -> None:
        try:
            await asyncio.to_thread(self.poll)
        except ReloadFailedError as e:
            log.error("SIP guard: %s", e)
        except Exception:
            log.exception("SIP guard: a poll failed")


def _reload(inst: Instance) -> None:
    url = f"{inst.ari_url.rstrip('/')}/{_RELOAD}"
    try:
        r = httpx.put(url, auth=inst.ari_auth, timeout=10.0)
    except httpx.TransportError as e:
        raise ReloadFailedError(f"Asterisk's ARI did not answer the reload: {e}") from e
    if r.status_code != httpx.codes.NO_CONTENT:
        raise ReloadFailedError(
            f"Asterisk refused to reload res_pjsip: {r.status_code} {r.text[:200]}"
        )


def _fields(b: Block) -> dict[str, object]:
    return {"address": b.address, "since": b.since, "until": b.until, "failures": b.failures}


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically: a 0600 temporary file renamed over it."""
    tmp = path.with_name(f".{path.name}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    tmp.replace(path)
