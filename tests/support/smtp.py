"""A real SMTP server on 127.0.0.1 for tests: ``aiosmtpd`` keeping what it receives.

``with smtp_server() as inbox:`` runs one on a free port (``inbox.port``) for the block;
the server the test starts sends to it (``inbox.env()``: the ``CALLCENTER_SMTP_*``
settings), and the test reads the mails — the one-time codes — as a person would.
"""

from __future__ import annotations

import email
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.server import free_port


class Inbox:
    """aiosmtpd handler: every message received, with its envelope recipients."""

    def __init__(self) -> None:
        self.mails: list[tuple[list[str], Message]] = []
        self.lock = threading.Lock()
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.mails.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        """The mails to ``address``, oldest first."""
        with self.lock:
            return [m for rcpt, m in self.mails if address in rcpt]

    def code_for(self, address: str) -> str:
        """The one-time code of the newest mail to ``address``, read from its text."""
        mails = self.to(address)
        assert mails, f"no mail to {address}"
        body = mails[-1].get_payload(decode=True)
        assert isinstance(body, bytes)
        found = re.search(r"Your code is (\d{6})", body.decode())
        assert found is not None, body
        return found.group(1)

    def env(self, **more: str) -> dict[str, str]:
        """Settings for a server that sends through this one (plain SMTP, no auth)."""
        return {
            "CALLCENTER_SMTP_HOST": "127.0.0.1",
            "CALLCENTER_SMTP_PORT": str(self.port),
            "CALLCENTER_SMTP_SECURITY": "none",
            **more,
        }


@contextmanager
def smtp_server() -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    try:
        yield inbox
    finally:
        controller.stop()


__all__ = ["Inbox", "smtp_server"]
