"""Contacts as the CRM shows them: lists with filters, the search by id or subject, and
one contact with its transcript and the agents who held it.

**Visibility** (row scope): every query goes through
:func:`callcenter.auth.scope.contact_filter` — an agent sees the contacts it held, a
supervisor its teams', the other roles all.  A contact the reader may not see answers
"no contact" exactly like one that does not exist.

Functions take a :class:`Session` and the reader's :class:`Principal` and return views
(:class:`ContactView`, :class:`ContactDetailView`); they never write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session

from callcenter.auth.scope import contact_filter
from callcenter.auth.service import Principal
from callcenter.crm.common import CrmError, NotFoundError, View
from callcenter.crm.notes import NoteView, notes_of, notes_text
from callcenter.storage.tables import ContactAgent, ContactRow, ContactStatus, Customer, Message

# --------------------------------------------------------------------------- views


class CustomerBriefView(View):
    """Who a contact's customer is (the card has the rest)."""

    id: int
    name: str
    email: str | None
    phone: str | None


class ContactView(View):
    """One contact in a list: its route, times and outcome."""

    id: str
    customer_id: int | None
    customer_name: str | None = None
    channel: str
    direction: str
    queue: str | None
    agent: str | None  # the agent holding / last holding it
    status: str
    subject: str
    arrived_at: float
    answered_at: float | None
    ended_at: float | None
    closed_at: float | None
    disposition: str | None
    csat: int | None


class MessageView(View):
    """One line of a transcript."""

    id: int
    t: float
    sender: str  # customer | agent | system
    agent: str | None
    body: str


class ContactDetailView(ContactView):
    """One contact with everything the reader may know of it."""

    enqueued_at: float | None
    offered_at: float | None
    notes: str  # the notes' texts, one per line (the old single field)
    note_list: list[NoteView]  # the notes, one per author and more once closed, oldest first
    csat_comment: str | None
    recording_url: str | None
    customer: CustomerBriefView | None
    agents: list[str]  # every agent who held it, in name order
    messages: Sequence[MessageView]  # the transcript, oldest first


# --------------------------------------------------------------------------- filters


@dataclass(frozen=True, slots=True)
class ContactFilter:
    """What a contact list asks for; None: any.  Arrival time in ``[arrived_from,
    arrived_to)``; ``agent``: an agent who held the contact (not only the last one)."""

    status: str | None = None
    queue: str | None = None
    agent: str | None = None
    customer_id: int | None = None
    arrived_from: float | None = None
    arrived_to: float | None = None


def parse_status(value: str) -> ContactStatus:
    """``value`` as a contact status, else a :class:`CrmError` naming it and the choices."""
    try:
        return ContactStatus(value)
    except ValueError:
        choices = ", ".join(x.value for x in ContactStatus)
        raise CrmError(f"status: {value!r} is not a contact status (expected {choices})") from None


def _held_by(agent: str) -> ColumnElement[bool]:
    return exists(
        select(ContactAgent.contact_id).where(
            ContactAgent.contact_id == ContactRow.id, ContactAgent.agent == agent
        )
    )


def _conditions(f: ContactFilter) -> list[ColumnElement[bool]]:
    """``f`` as SQL conditions; a :class:`CrmError` for a bad status or an empty span."""
    start, end = f.arrived_from, f.arrived_to
    if start is not None and end is not None and end <= start:
        raise CrmError(f"to: {end:g} is not after from ({start:g})")
    where: list[ColumnElement[bool]] = []
    if f.status is not None:
        where.append(ContactRow.status == parse_status(f.status).value)
    if f.queue is not None:
        where.append(ContactRow.queue == f.queue)
    if f.agent is not None:
        where.append(_held_by(f.agent))
    if f.customer_id is not None:
        where.append(ContactRow.customer_id == f.customer_id)
    if start is not None:
        where.append(ContactRow.arrived_at >= start)
    if end is not None:
        where.append(ContactRow.arrived_at < end)
    return where


# --------------------------------------------------------------------------- reads


def _view(row: ContactRow, customer_name: str | None) -> ContactView:
    return ContactView.model_validate(row).model_copy(update={"customer_name": customer_name})


def _page(
    s: Session, p: Principal, where: list[ColumnElement[bool]], limit: int, offset: int
) -> tuple[list[ContactView], int]:
    """Contacts ``p`` may see matching ``where``, newest first: one page and the count."""
    conds = [contact_filter(p), *where]
    total = s.scalar(select(func.count(ContactRow.id)).where(*conds)) or 0
    rows = s.execute(
        select(ContactRow, Customer.name)
        .outerjoin(Customer, Customer.id == ContactRow.customer_id)
        .where(*conds)
        .order_by(ContactRow.arrived_at.desc(), ContactRow.id)
        .limit(limit)
        .offset(offset)
    )
    return [_view(row, name) for row, name in rows], total


def list_contacts(
    s: Session, p: Principal, f: ContactFilter, *, limit: int = 100, offset: int = 0
) -> tuple[list[ContactView], int]:
    """Contacts ``p`` may see matching ``f``, newest first: one page and how many match."""
    return _page(s, p, _conditions(f), limit, offset)


def search_contacts(
    s: Session, p: Principal, q: str, *, limit: int = 20
) -> tuple[list[ContactView], int]:
    """Contacts ``p`` may see whose id is ``q`` or whose subject contains it (any case),
    newest first, and how many match."""
    text = q.strip()
    subject = func.lower(ContactRow.subject).contains(text.lower(), autoescape=True)
    return _page(s, p, [(ContactRow.id == text) | subject], limit, 0)


def visible_contact(s: Session, p: Principal, contact_id: str) -> ContactRow:
    """The contact if ``p`` may see it, else 404 — the same answer as for no contact."""
    row = s.scalar(select(ContactRow).where(ContactRow.id == contact_id, contact_filter(p)))
    if row is None:
        raise NotFoundError("contact", contact_id)
    return row


def contact_detail(s: Session, p: Principal, contact_id: str) -> ContactDetailView:
    """The contact with its customer, agents and transcript; "no contact" if ``p`` may
    not see it."""
    row = visible_contact(s, p, contact_id)
    customer = s.get(Customer, row.customer_id) if row.customer_id is not None else None
    agents = s.scalars(
        select(ContactAgent.agent)
        .where(ContactAgent.contact_id == row.id)
        .order_by(ContactAgent.agent)
    )
    messages = s.scalars(select(Message).where(Message.contact_id == row.id).order_by(Message.id))
    notes = notes_of(s, [row.id])[row.id]
    return ContactDetailView.model_validate(
        {
            **_view(row, customer.name if customer else None).model_dump(),
            "enqueued_at": row.enqueued_at,
            "offered_at": row.offered_at,
            "notes": notes_text(notes),
            "note_list": notes,
            "csat_comment": row.csat_comment,
            "recording_url": row.recording_url,
            "customer": CustomerBriefView.model_validate(customer) if customer else None,
            "agents": list(agents),
            "messages": [MessageView.model_validate(m) for m in messages],
        }
    )


__all__ = [
    "ContactDetailView",
    "ContactFilter",
    "ContactView",
    "CustomerBriefView",
    "MessageView",
    "contact_detail",
    "list_contacts",
    "parse_status",
    "search_contacts",
    "visible_contact",
]
