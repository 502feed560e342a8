"""One-use tickets: a client trades a credential it holds (a cookie session or bearer
token; a chat's token) for a short random ticket and opens a WebSocket with
``?ticket=`` — so no lasting credential is ever put in a URL, where access logs, proxies
and browser history would keep it (``docs/security.md``).

A ticket is valid for ``seconds``, for one handshake.  Only its SHA-256 is kept, with
what it stands for (a :class:`~callcenter.auth.service.Principal` for the desk and
wallboard sockets, a chat id for the widget's); the book lives in the server's memory
(one process), so a restart simply makes clients ask for a new one.  At most
``max_tickets`` are outstanding: past that the oldest is forgotten first.

Written here rather than taken from a library: it is a bounded dictionary with expiry,
and what matters — hashing, one use, the bound, an injected clock — is a few lines.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import OrderedDict
from typing import Final, Generic, TypeVar

TICKET_SECONDS: Final = 30.0
MAX_TICKETS: Final = 10_000  # outstanding at once; the oldest go first past it
MAX_TICKET_LENGTH: Final = 128  # longer text is no ticket of ours: not even hashed

T = TypeVar("T")


def _hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


class TicketBook(Generic[T]):
    """Tickets issued and not yet used or expired, each standing for a ``T``."""

    def __init__(self, seconds: float = TICKET_SECONDS, max_tickets: int = MAX_TICKETS) -> None:
        if not seconds > 0:
            raise ValueError(f"seconds must be > 0, not {seconds}")
        self.seconds = seconds
        self.max_tickets = max_tickets
        # hash -> (what it stands for, expiry); in issue order, so also in expiry order
        self._live: OrderedDict[str, tuple[T, float]] = OrderedDict()
        self._lock = threading.Lock()

    def issue(self, value: T, *, now: float) -> tuple[str, float]:
        """A new ticket for ``value`` and when it expires."""
        ticket = secrets.token_urlsafe(32)
        expires = now + self.seconds
        with self._lock:
            while self._live:  # the expired first, then the oldest past the bound
                _, (_, until) = next(iter(self._live.items()))
                if until > now and len(self._live) < self.max_tickets:
                    break
                self._live.popitem(last=False)
            self._live[_hash(ticket)] = (value, expires)
        return ticket, expires

    def redeem(self, ticket: str | None, *, now: float) -> T | None:
        """What ``ticket`` was issued for, once: a used, expired or unknown ticket gives
        None (and a ticket is used up by being shown, expired or not)."""
        if not ticket or len(ticket) > MAX_TICKET_LENGTH:
            return None
        with self._lock:
            found = self._live.pop(_hash(ticket), None)
        if found is None:
            return None
        value, expires = found
        return value if now < expires else None

    def __len__(self) -> int:
        return len(self._live)


__all__ = ["MAX_TICKETS", "MAX_TICKET_LENGTH", "TICKET_SECONDS", "TicketBook"]
