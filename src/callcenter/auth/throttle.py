"""Sign-in throttling: failed attempts per account and per client address, with backoff.

After ``free_failures`` failed sign-ins of one key (an account, or a client address) the
key is locked for ``base_s`` seconds, doubling with each further failure up to
``max_s``.  While a key is locked every attempt is refused *before* the password is
checked — the right password too, so that an attacker learns nothing from the answer
or its timing.  A success resets the account's count (not the address's: one's own
account must not wash an address clean).  A key with no failure for ``forget_s``
seconds after its lock ended is forgotten.

An attempt counts from the moment it is let through (:meth:`Throttle.begin`) until its
outcome is known (:meth:`Attempt.failed` / :meth:`Attempt.succeeded`): attempts in
flight count as failures, so 200 concurrent wrong passwords cannot all slip in before
the first of them has failed.  An attempt turned away because the hashing pool was full
(:meth:`Attempt.overflowed`) is a failure of its address, not of its account.

State is kept in memory, at most ``max_keys`` keys per kind, the least recently used
evicted first: a flood of random usernames cannot grow it.  Nothing here reads a clock
or the settings: the caller passes ``now`` (a monotonic clock in the server, a fake one
in the tests).  Written here rather than taken from a rate-limit library because none
of them does lock-out by failures with in-flight counting and a bounded table; the
logic is small.
"""

from __future__ import annotations

import ipaddress
import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Policy:
    """When to lock a key and for how long."""

    free_failures: int  # failures allowed before the first lock
    base_s: float  # the first lock
    max_s: float  # the longest lock
    forget_s: float  # a key with no failure this long after its lock ended is forgotten

    def lock_seconds(self, failures: int) -> float:
        """How long ``failures`` failures lock a key (0 while under the threshold)."""
        over = failures - self.free_failures
        if over < 0:
            return 0.0
        return float(min(self.max_s, self.base_s * 2.0 ** min(over, 62)))


@dataclass(slots=True)
class _Key:
    failures: int = 0
    in_flight: int = 0
    locked_until: float = 0.0
    last_failure: float = 0.0


class _Table:
    """The keys of one kind (accounts or addresses), bounded, least recently used first."""

    def __init__(self, policy: Policy, max_keys: int) -> None:
        self.policy = policy
        self.max_keys = max_keys
        self._keys: OrderedDict[str, _Key] = OrderedDict()

    def __len__(self) -> int:
        return len(self._keys)

    def wait(self, key: str, now: float) -> float:
        """Seconds until ``key`` may try again (0: now)."""
        k = self._get(key, now)
        if k is None:
            return 0.0
        if now < k.locked_until:
            return k.locked_until - now
        if k.in_flight and k.failures + k.in_flight >= self.policy.free_failures:
            # the attempts in flight would lock it if they all failed: wait for them to be
            # decided (within about a second, or the hashing pool turns them away)
            return 1.0
        return 0.0

    def enter(self, key: str, now: float) -> None:
        k = self._get(key, now)
        if k is None:
            k = self._keys[key] = _Key()
            while len(self._keys) > self.max_keys:
                self._keys.popitem(last=False)
        k.in_flight += 1

    def leave(self, key: str, now: float, *, failed: bool, reset: bool) -> None:
        k = self._keys.get(key)
        if k is None:  # evicted meanwhile
            return
        k.in_flight = max(0, k.in_flight - 1)
        if reset:
            k.failures, k.locked_until = 0, 0.0
        elif failed:
            k.failures += 1
            k.last_failure = now
            lock = self.policy.lock_seconds(k.failures)
            if lock:
                k.locked_until = max(k.locked_until, now + lock)
        if k.failures == 0 and k.in_flight == 0:
            del self._keys[key]

    def _get(self, key: str, now: float) -> _Key | None:
        k = self._keys.get(key)
        if k is None:
            return None
        quiet_since = max(k.locked_until, k.last_failure)
        if k.in_flight == 0 and now - quiet_since >= self.policy.forget_s:
            del self._keys[key]
            return None
        self._keys.move_to_end(key)
        return k


@dataclass(frozen=True, slots=True)
class Refused:
    """An attempt refused before the password was checked: try again in ``retry_after``
    whole seconds (at least 1)."""

    retry_after: int
    reason: str  # "account" or "address"


class Attempt:
    """A sign-in let through: report its outcome exactly once."""

    def __init__(self, throttle: Throttle, account: str, address: str) -> None:
        self._throttle = throttle
        self.account = account
        self.address = address
        self._done = False

    def failed(self, now: float) -> None:
        self._finish(now, ok=False)

    def succeeded(self, now: float) -> None:
        self._finish(now, ok=True)

    def overflowed(self, now: float) -> None:
        """Not checked because too many were waiting for a hashing thread: a failure of
        the address (it sends more sign-ins than the server can check), not of the
        account (whose password was not tried)."""
        if not self._done:
            self._done = True
            self._throttle.accounts.leave(self.account, now, failed=False, reset=False)
            self._throttle.addresses.leave(self.address, now, failed=True, reset=False)

    def abandoned(self, now: float) -> None:
        """Neither: the check did not run (the hashing pool was full, an error)."""
        if not self._done:
            self._done = True
            self._throttle.accounts.leave(self.account, now, failed=False, reset=False)
            self._throttle.addresses.leave(self.address, now, failed=False, reset=False)

    def _finish(self, now: float, *, ok: bool) -> None:
        if self._done:
            return
        self._done = True
        self._throttle.accounts.leave(self.account, now, failed=not ok, reset=ok)
        self._throttle.addresses.leave(self.address, now, failed=not ok, reset=False)


class Throttle:
    """Per-account and per-address throttling of sign-ins (see the module's doc).

    Not thread-safe: the server calls it from its event loop only.
    """

    def __init__(self, account: Policy, address: Policy, max_keys: int) -> None:
        self.accounts = _Table(account, max_keys)
        self.addresses = _Table(address, max_keys)

    def begin(self, account: str, address: str, now: float) -> Attempt | Refused:
        """Let a sign-in of ``account`` from ``address`` through, or refuse it."""
        address = address_key(address)
        wait_address = self.addresses.wait(address, now)
        if wait_address:  # checked first: a flood from one address leaves accounts alone
            return Refused(_whole(wait_address), "address")
        wait_account = self.accounts.wait(account, now)
        if wait_account:
            return Refused(_whole(wait_account), "account")
        self.addresses.enter(address, now)
        self.accounts.enter(account, now)
        return Attempt(self, account, address)


def _whole(seconds: float) -> int:
    return max(1, math.ceil(seconds - 1e-9))


def address_key(host: str) -> str:
    """The throttling key of a client address: the address itself, or its /64 network
    for IPv6 (one host commonly holds a whole /64); anything else as it is."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


UNKNOWN_ADDRESS: Final = "unknown"

__all__ = ["UNKNOWN_ADDRESS", "Attempt", "Policy", "Refused", "Throttle", "address_key"]
