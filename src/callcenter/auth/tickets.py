"""One-use WebSocket tickets: a signed-in client trades its credential (cookie session
or bearer token, sent the usual way) for a short random ticket, and opens the socket with
``?ticket=`` — so no lasting credential is ever put in a URL, where access logs, proxies
and browser history would keep it (``docs/security.md``).

A ticket is valid for :data:`TICKET_SECONDS`, for one handshake; the book lives in the
server's memory (one process), so a restart simply makes clients ask for a new one.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from typing import Final

from callcenter.auth.service import Principal

TICKET_SECONDS: Final = 30.0
MAX_TICKETS: Final = 10_000  # outstanding at once; the oldest go first past it


@dataclass
class TicketBook:
    """Tickets issued and not yet used or expired."""

    seconds: float = TICKET_SECONDS
    _tickets: dict[str, tuple[Principal, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self, principal: Principal, *, now: float) -> tuple[str, float]:
        """A new ticket for ``principal`` and when it expires."""
        ticket = secrets.token_urlsafe(32)
        expires = now + self.seconds
        with self._lock:
            self._drop_expired(now)
            while len(self._tickets) >= MAX_TICKETS:
                self._tickets.pop(next(iter(self._tickets)))
            self._tickets[ticket] = (principal, expires)
        return ticket, expires

    def redeem(self, ticket: str, *, now: float) -> Principal | None:
        """The principal ``ticket`` was issued to, once: a used, expired or unknown
        ticket gives None."""
        with self._lock:
            found = self._tickets.pop(ticket, None)
        if found is None:
            return None
        principal, expires = found
        return principal if now < expires else None

    def _drop_expired(self, now: float) -> None:
        for key in [k for k, (_p, exp) in self._tickets.items() if exp <= now]:
            del self._tickets[key]

    def __len__(self) -> int:
        return len(self._tickets)


__all__ = ["MAX_TICKETS", "TICKET_SECONDS", "TicketBook"]
