"""Chat rate limits: keyed token buckets, open-socket slots and one-use socket tickets.

Pure and in memory: every class takes its clock (seconds, monotonic) and keeps at most
``max_keys`` keys, forgetting the least recently used one first, so a flood of new keys
(addresses, chats) costs bounded memory.  Thread-safe (the API's sync routes run in a
thread pool).  :class:`ChatLimits` puts them together for ``api/chat.py``; the numbers
come from the "chat limits" settings (``docs/security.md``).

Written here rather than taken from a library: PyrateLimiter (the well-kept Python
one) keeps a log of every admitted request per key (memory = limit x keys), leaks its
buckets from a background thread and has no bound on the number of keys; a token bucket
is two numbers per key and a few lines of arithmetic, and the wait it answers is the
``Retry-After`` we send.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from callcenter.auth.tickets import TicketBook

Clock = Callable[[], float]

DEFAULT_MAX_KEYS: Final = 20_000  # ~6 MB per table when full (measured: 30 MB at 100,000)


@dataclass(frozen=True, slots=True)
class Rate:
    """``burst`` requests at once, refilled at ``per_minute`` a minute."""

    burst: int
    per_minute: float

    def __post_init__(self) -> None:
        if self.burst < 1 or not self.per_minute > 0 or not math.isfinite(self.per_minute):
            raise ValueError(f"a rate needs burst >= 1 and per_minute > 0, not {self}")

    @property
    def per_second(self) -> float:
        return self.per_minute / 60.0


class TokenBuckets:
    """One token bucket per key: a key may spend ``rate.burst`` at once, then one token
    every ``60 / rate.per_minute`` seconds.

    :meth:`take` spends a token and answers 0.0, or spends nothing and answers the seconds
    until a token is there (the ``Retry-After``).  A forgotten key (idle the longest when
    ``max_keys`` is reached) starts full again, as it would have after that idle time.
    """

    def __init__(
        self, rate: Rate, *, clock: Clock = time.monotonic, max_keys: int = DEFAULT_MAX_KEYS
    ) -> None:
        if max_keys < 1:
            raise ValueError(f"max_keys must be >= 1, not {max_keys}")
        self.rate = rate
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, t)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one token of ``key``: 0.0 if there was one, else the seconds to wait."""
        rate = self.rate
        with self._lock:
            now = self.clock()
            tokens, then = self._buckets.pop(key, (float(rate.burst), now))
            tokens = min(float(rate.burst), tokens + max(0.0, now - then) * rate.per_second)
            if tokens >= 1.0:
                tokens, wait = tokens - 1.0, 0.0
            else:
                wait = (1.0 - tokens) / rate.per_second
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return wait

    def give_back(self, key: str) -> None:
        """Return the token :meth:`take` just spent (another limit refused the request)."""
        with self._lock:
            if key in self._buckets:
                tokens, then = self._buckets[key]
                self._buckets[key] = (min(float(self.rate.burst), tokens + 1.0), then)

    def __len__(self) -> int:
        return len(self._buckets)


class Slots:
    """How many of something (open sockets) each key holds, at most ``per_key`` each.

    Keys with nothing open are dropped at once, so the table holds only keys with open
    sockets; ``max_keys`` bounds it even then (a new key is refused when it is full).
    """

    def __init__(self, per_key: int, *, max_keys: int = DEFAULT_MAX_KEYS) -> None:
        if per_key < 1:
            raise ValueError(f"per_key must be >= 1, not {per_key}")
        self.per_key = per_key
        self.max_keys = max_keys
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> bool:
        """Take a slot of ``key``; False (nothing taken) when it holds ``per_key``."""
        with self._lock:
            n = self._held.get(key, 0)
            if n >= self.per_key or (n == 0 and len(self._held) >= self.max_keys):
                return False
            self._held[key] = n + 1
            return True

    def release(self, key: str) -> None:
        """Give back a slot taken with :meth:`acquire`."""
        with self._lock:
            n = self._held.get(key, 0) - 1
            if n > 0:
                self._held[key] = n
            else:
                self._held.pop(key, None)

    def held(self, key: str) -> int:
        with self._lock:
            return self._held.get(key, 0)


class Tickets:
    """Short-lived one-use tickets that open a chat's WebSocket (instead of its token in
    the URL, where access logs would keep it): :class:`~callcenter.auth.tickets.TicketBook`
    on this module's clock, a ticket standing for its chat.  At most ``max_keys`` live
    tickets: the oldest is forgotten first.
    """

    def __init__(
        self, ttl_s: float, *, clock: Clock = time.monotonic, max_keys: int = DEFAULT_MAX_KEYS
    ) -> None:
        if not ttl_s > 0:
            raise ValueError(f"ttl_s must be > 0, not {ttl_s}")
        self.ttl_s = ttl_s
        self.clock = clock
        self._book: TicketBook[str] = TicketBook(ttl_s, max_keys)

    def issue(self, chat: str) -> str:
        """A new ticket for ``chat``, valid for ``ttl_s`` seconds, once."""
        return self._book.issue(chat, now=self.clock())[0]

    def redeem(self, chat: str, ticket: str | None) -> bool:
        """Whether ``ticket`` is a live ticket of ``chat``; it is used up either way."""
        return self._book.redeem(ticket, now=self.clock()) == chat

    def __len__(self) -> int:
        return len(self._book)


@dataclass(frozen=True, slots=True)
class ChatLimitSettings:
    """The numbers of :class:`ChatLimits` (from the "chat limits" settings)."""

    starts_per_address: Rate
    messages_per_chat: Rate
    messages_per_address: Rate
    tickets_per_chat: Rate
    reads_per_chat: Rate
    sockets_per_chat: int
    sockets_per_address: int
    ticket_ttl_s: float
    max_keys: int = DEFAULT_MAX_KEYS


class ChatLimits:
    """Every chat limit of one server: starts, messages, socket tickets, open sockets."""

    def __init__(self, cfg: ChatLimitSettings, *, clock: Clock = time.monotonic) -> None:
        keys = cfg.max_keys
        self.cfg = cfg
        self.starts = TokenBuckets(cfg.starts_per_address, clock=clock, max_keys=keys)
        self.chat_messages = TokenBuckets(cfg.messages_per_chat, clock=clock, max_keys=keys)
        self.address_messages = TokenBuckets(cfg.messages_per_address, clock=clock, max_keys=keys)
        self.ticket_rate = TokenBuckets(cfg.tickets_per_chat, clock=clock, max_keys=keys)
        self.reads = TokenBuckets(cfg.reads_per_chat, clock=clock, max_keys=keys)
        # the public look-up of a queue's hours (no chat yet): per address, read numbers
        self.lookups = TokenBuckets(cfg.reads_per_chat, clock=clock, max_keys=keys)
        self.chat_sockets = Slots(cfg.sockets_per_chat, max_keys=keys)
        self.address_sockets = Slots(cfg.sockets_per_address, max_keys=keys)
        self.tickets = Tickets(cfg.ticket_ttl_s, clock=clock, max_keys=keys)

    def message(self, token: str | None, address: str) -> tuple[float, str]:
        """A customer message with chat ``token``: ``(0.0, "")`` if the chat and then the
        address may send one now, else the seconds to wait and who is over its limit
        (``"chat"`` or ``"address"``).

        The chat is asked first: a chat over its limit costs its address nothing (one
        flooding chat does not stop the other chats of an address), and a message its
        address refuses costs the chat nothing.  Keyed by the token's hash, not the chat
        id: who does not hold the token cannot spend a chat's messages (no token: the
        address alone counts).
        """
        key = hashlib.sha256(token.encode()).hexdigest() if token else None
        if key is not None:
            wait = self.chat_messages.take(key)
            if wait:
                return wait, "chat"
        wait = self.address_messages.take(address)
        if not wait:
            return 0.0, ""
        if key is not None:  # a refused message spends nothing
            self.chat_messages.give_back(key)
        return wait, "address"

    def read(self, token: str) -> float:
        """A read of the chat with ``token``: 0.0, or the seconds to wait (keyed by the
        token's hash, as :meth:`message`)."""
        return self.reads.take(hashlib.sha256(token.encode()).hexdigest())

    def ticket(self, token: str) -> float:
        """A socket ticket for the chat with ``token``: 0.0, or the seconds to wait."""
        return self.ticket_rate.take(hashlib.sha256(token.encode()).hexdigest())

    def open_socket(self, chat: str, address: str) -> str | None:
        """Take a socket slot of ``chat`` and of ``address``; None if taken, else why not."""
        if not self.chat_sockets.acquire(chat):
            return f"at most {self.cfg.sockets_per_chat} open sockets per chat"
        if not self.address_sockets.acquire(address):
            self.chat_sockets.release(chat)
            return f"at most {self.cfg.sockets_per_address} open chat sockets per address"
        return None

    def close_socket(self, chat: str, address: str) -> None:
        self.chat_sockets.release(chat)
        self.address_sockets.release(address)


def retry_after(wait: float) -> int:
    """A wait in seconds as ``Retry-After`` (whole seconds, at least 1)."""
    return max(1, math.ceil(wait))


__all__ = [
    "DEFAULT_MAX_KEYS",
    "ChatLimitSettings",
    "ChatLimits",
    "Clock",
    "Rate",
    "Slots",
    "Tickets",
    "TokenBuckets",
    "retry_after",
]
