"""A voicemail left in the IVR becomes a ticket with its recording.

When a flow's ``voicemail`` node has recorded the caller, :class:`VoicemailKeeper`
fetches the message over ARI, files it under ``<recordings_dir>/voicemail/`` (the same
date layout as calls' recordings), sets the contact's ``recording_url`` (so the CRM's
player plays it) and opens a ticket for the caller's customer record: the one customer
whose telephone number is the caller's, else a new customer record holding only that
number (a caller without a number gets a record named for the contact).  Tickets need a
customer; a caller id is what a phone call has to go by — the ticket says that it was
matched by caller id, and no customer record is changed.  Everything written is on the
audit log, made by the actor ``voicemail`` (role ``system``).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Final

import anyio
from sqlalchemy import select

from callcenter.crm.tickets import sla_due
from callcenter.live.engine import LiveEngine
from callcenter.storage.audit import Actor, AuditAction, record
from callcenter.storage.tables import ContactRow, Customer, Ticket, TicketPriority, TicketStatus
from callcenter.voice.archive import VOICEMAIL_DIR, recording_relpath
from callcenter.voice.ari import Ari

log = logging.getLogger("callcenter.voice")

ACTOR: Final = Actor(user_id=None, username="voicemail", role="system")
CLOSE_WAIT_S: Final = 10.0


class VoicemailKeeper:
    """Files voicemail messages and opens their tickets."""

    def __init__(self, engine: LiveEngine, root: Path) -> None:
        self.engine = engine
        self.root = root

    async def keep(self, ari: Ari, contact: str, name: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CLOSE_WAIT_S
        while await ari.live_recording(name) is not None and loop.time() < deadline:
            await asyncio.sleep(0.05)
        data = await ari.stored_recording(name)
        now = self.engine.clock()
        rel = f"{VOICEMAIL_DIR}/{recording_relpath(contact, now)}"
        await anyio.to_thread.run_sync(self._write, self.root / rel, data)
        await ari.delete_stored_recording(name)
        ticket = await anyio.to_thread.run_sync(self._ticket, contact, rel, now)
        log.info("%s: voicemail filed as %s, ticket %s", contact, rel, ticket)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)

    def _ticket(self, contact: str, rel: str, now: float) -> int:
        with self.engine.sessions.begin() as s:
            row = s.get(ContactRow, contact)
            if row is None:
                raise LookupError(f"voicemail of unknown contact {contact!r}")
            phone = row.claimed_phone
            matches = (
                s.scalars(select(Customer).where(Customer.phone == phone).limit(2)).all()
                if phone
                else []
            )
            if len(matches) == 1:
                customer, how = matches[0], "matched by caller id"
            else:
                customer = Customer(
                    name=f"Caller {phone}" if phone else f"Caller of {contact}",
                    phone=phone if not matches else None,
                    created_at=now,
                    updated_at=now,
                )
                s.add(customer)
                s.flush()
                record(s, ACTOR, AuditAction.CUSTOMER_CREATE, "customer", customer.id, {},
                       {"name": customer.name, "phone": customer.phone}, at=now)  # fmt: skip
                how = "a new customer record for the caller id"
            row.recording_url = rel
            before = {"customer_id": row.customer_id}
            row.customer_id = customer.id
            record(s, ACTOR, AuditAction.CONTACT_LINK, "contact", contact, before,
                   {"customer_id": customer.id, "by": "caller id (voicemail)"}, at=now)  # fmt: skip
            ticket = Ticket(
                customer_id=customer.id,
                contact_id=contact,
                subject=f"Voicemail from {phone or 'an unknown number'}",
                description=f"Voicemail left in the IVR ({how}); listen on contact {contact}.",
                status=TicketStatus.OPEN.value,
                priority=TicketPriority.NORMAL.value,
                sla_due_at=sla_due(TicketPriority.NORMAL, now),
                created_by=ACTOR.username,
                created_at=now,
                updated_at=now,
            )
            s.add(ticket)
            s.flush()
            record(s, ACTOR, AuditAction.TICKET_CREATE, "ticket", ticket.id, {},
                   {"subject": ticket.subject, "contact_id": contact}, at=now)  # fmt: skip
            return ticket.id


__all__ = ["VoicemailKeeper"]
