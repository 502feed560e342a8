"""Tickets (a customer's request tracked to its end) and follow-ups (a task to come back
to a customer by a time).

**Tickets** move between ``open``, ``pending``, ``solved`` and ``closed`` freely, except
that a closed ticket is final (409: open a new one).  Each has an SLA due time, by
default the creation time plus :data:`SLA_HOURS` of its priority (urgent 4 h, high 8 h,
normal 24 h, low 72 h); changing the priority moves the due time to creation + the new
priority's hours, unless a due time is given with the change.  A ticket is *overdue*
while it is open or pending after its due time.

**Follow-ups** are due in the future when created, assigned to their creator unless
another user is named, and marked done (or undone).  A follow-up is overdue while not
done after its due time.

**Audit**: every create and change is recorded in the audit log in the caller's
transaction (before -> after of the fields that changed), with the ``actor`` passed in.

**Visibility** of both: :func:`callcenter.crm.common.involvement_filter`.  A record may
link a contact the reader may not open (a colleague's chat): its ``contact_id`` is then
shown as None, so no API hands an agent the id of another agent's contact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callcenter.auth.service import Principal
from callcenter.crm.common import (
    ConflictError,
    CrmError,
    NotFoundError,
    View,
    check_user,
    clean_text,
    involvement_filter,
    visible_contact_ids,
)
from callcenter.crm.contacts import visible_contact
from callcenter.storage.audit import Actor, AuditAction, record, row_values
from callcenter.storage.tables import (
    Customer,
    FollowUp,
    Ticket,
    TicketPriority,
    TicketStatus,
)

# Hours from creation to the SLA due time, by priority (docs/crm.md, "SLA").
SLA_HOURS: Final[dict[TicketPriority, float]] = {
    TicketPriority.URGENT: 4.0,
    TicketPriority.HIGH: 8.0,
    TicketPriority.NORMAL: 24.0,
    TicketPriority.LOW: 72.0,
}
OPEN_TICKET: Final = frozenset({TicketStatus.OPEN.value, TicketStatus.PENDING.value})


def sla_due(priority: TicketPriority, created_at: float) -> float:
    return created_at + SLA_HOURS[priority] * 3600.0


def parse_status(value: str) -> TicketStatus:
    try:
        return TicketStatus(value)
    except ValueError:
        choices = ", ".join(x.value for x in TicketStatus)
        raise CrmError(f"status: {value!r} is not a ticket status (expected {choices})") from None


def parse_priority(value: str) -> TicketPriority:
    try:
        return TicketPriority(value)
    except ValueError:
        choices = ", ".join(x.value for x in TicketPriority)
        raise CrmError(f"priority: {value!r} is not a priority (expected {choices})") from None


class TicketView(View):
    """A ticket as a reader sees it: ``contact_id`` None if it links a hidden contact."""

    id: int
    customer_id: int
    customer_name: str
    contact_id: str | None
    subject: str
    description: str
    status: str
    priority: str
    sla_due_at: float | None
    overdue: bool
    assignee: str | None
    created_by: str
    created_at: float
    updated_at: float


class FollowUpView(View):
    """A follow-up as a reader sees it: ``contact_id`` None if it links a hidden contact."""

    id: int
    customer_id: int
    customer_name: str
    contact_id: str | None
    ticket_id: int | None
    assignee: str
    due_at: float
    overdue: bool
    note: str
    done: bool
    done_at: float | None
    created_by: str
    created_at: float


def _names(s: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = s.execute(select(Customer.id, Customer.name).where(Customer.id.in_(ids)))
    return {cid: name for cid, name in rows}


def _ticket_view(r: Ticket, seen: set[str], names: dict[int, str], now: float) -> TicketView:
    return TicketView(
        id=r.id, customer_id=r.customer_id, customer_name=names.get(r.customer_id, ""),
        contact_id=r.contact_id if r.contact_id in seen else None, subject=r.subject,
        description=r.description, status=r.status, priority=r.priority,
        sla_due_at=r.sla_due_at,
        overdue=r.status in OPEN_TICKET and r.sla_due_at is not None and now > r.sla_due_at,
        assignee=r.assignee, created_by=r.created_by, created_at=r.created_at,
        updated_at=r.updated_at,
    )  # fmt: skip


def ticket_views(s: Session, p: Principal, rows: Sequence[Ticket], now: float) -> list[TicketView]:
    """``rows`` as ``p`` sees them (hidden contact links blanked, ``overdue`` at ``now``)."""
    seen = visible_contact_ids(s, p, (r.contact_id for r in rows))
    names = _names(s, {r.customer_id for r in rows})
    return [_ticket_view(r, seen, names, now) for r in rows]


def ticket_view(s: Session, p: Principal, row: Ticket, now: float) -> TicketView:
    """One ticket as ``p`` sees it at ``now`` (:func:`ticket_views` of one row)."""
    return ticket_views(s, p, [row], now)[0]


def _follow_up_view(r: FollowUp, seen: set[str], names: dict[int, str], now: float) -> FollowUpView:
    return FollowUpView(
        id=r.id, customer_id=r.customer_id, customer_name=names.get(r.customer_id, ""),
        contact_id=r.contact_id if r.contact_id in seen else None, ticket_id=r.ticket_id,
        assignee=r.assignee, due_at=r.due_at,
        overdue=r.done_at is None and now > r.due_at, note=r.note,
        done=r.done_at is not None, done_at=r.done_at, created_by=r.created_by,
        created_at=r.created_at,
    )  # fmt: skip


def follow_up_views(
    s: Session, p: Principal, rows: Sequence[FollowUp], now: float
) -> list[FollowUpView]:
    """``rows`` as ``p`` sees them (hidden contact links blanked, ``overdue`` at ``now``)."""
    seen = visible_contact_ids(s, p, (r.contact_id for r in rows))
    names = _names(s, {r.customer_id for r in rows})
    return [_follow_up_view(r, seen, names, now) for r in rows]


def follow_up_view(s: Session, p: Principal, row: FollowUp, now: float) -> FollowUpView:
    """One follow-up as ``p`` sees it at ``now`` (:func:`follow_up_views` of one row)."""
    return follow_up_views(s, p, [row], now)[0]


# --------------------------------------------------------------------------- links


def visible_ticket(s: Session, p: Principal, ticket_id: int) -> Ticket:
    row = s.scalar(
        select(Ticket).where(
            Ticket.id == ticket_id,
            involvement_filter(s, p, Ticket.customer_id, (Ticket.assignee, Ticket.created_by)),
        )
    )
    if row is None:
        raise NotFoundError("ticket", ticket_id)
    return row


def get_ticket(s: Session, p: Principal, ticket_id: int, *, now: float) -> TicketView:
    """The ticket as ``p`` sees it at ``now``; 404 if ``p`` may not see it."""
    return ticket_view(s, p, visible_ticket(s, p, ticket_id), now)


def _customer_for(
    s: Session, p: Principal, customer_id: int | None, contact_id: str | None
) -> tuple[int, str | None]:
    """The customer of a new ticket / follow-up and its checked contact link."""
    contact = visible_contact(s, p, contact_id) if contact_id else None
    if customer_id is None:
        if contact is None or contact.customer_id is None:
            raise CrmError("customer_id: required (or a contact_id of a known customer)")
        customer_id = contact.customer_id
    if s.get(Customer, customer_id) is None:
        raise NotFoundError("customer", customer_id)
    if contact is not None and contact.customer_id != customer_id:
        raise CrmError(f"contact_id: contact {contact.id!r} is not one of customer {customer_id}")
    return customer_id, contact.id if contact else None


# --------------------------------------------------------------------------- tickets


@dataclass(frozen=True, slots=True)
class TicketFields:
    """A new ticket, or the fields to change (None: leave as is)."""

    subject: str | None = None
    description: str | None = None
    status: str | None = None
    priority: str | None = None
    assignee: str | None = None
    sla_due_at: float | None = None
    customer_id: int | None = None
    contact_id: str | None = None


def _audited(row: Ticket | FollowUp) -> dict[str, object]:
    """A record's fields as the audit log shows them (not its id or bookkeeping times)."""
    skip = ("id", "created_at", "updated_at")
    return {k: v for k, v in row_values(row).items() if k not in skip}


def create_ticket(s: Session, p: Principal, f: TicketFields, *, now: float, actor: Actor) -> Ticket:
    """A new ticket by ``p``; SLA due from the priority unless ``f.sla_due_at``."""
    customer_id, contact_id = _customer_for(s, p, f.customer_id, f.contact_id)
    priority = parse_priority(f.priority or TicketPriority.NORMAL.value)
    status = parse_status(f.status or TicketStatus.OPEN.value)
    if status is TicketStatus.CLOSED:
        raise CrmError("status: a new ticket cannot be closed (expected open or pending)")
    if f.sla_due_at is not None and f.sla_due_at <= now:
        raise CrmError(f"sla_due_at: {f.sla_due_at:.0f} is not in the future (now {now:.0f})")
    row = Ticket(
        customer_id=customer_id, contact_id=contact_id,
        subject=clean_text(f.subject, "subject", 255, required=True),
        description=clean_text(f.description, "description", 20_000),
        status=status.value, priority=priority.value,
        sla_due_at=f.sla_due_at if f.sla_due_at is not None else sla_due(priority, now),
        assignee=check_user(s, f.assignee, "assignee") if f.assignee else None,
        created_by=p.username, created_at=now, updated_at=now,
    )  # fmt: skip
    s.add(row)
    s.flush()
    record(s, actor, AuditAction.TICKET_CREATE, "ticket", row.id, {}, _audited(row), at=now)
    return row


def update_ticket(
    s: Session,
    p: Principal,
    ticket_id: int,
    f: TicketFields,
    *,
    now: float,
    actor: Actor,
    unassign: bool = False,
) -> Ticket:
    """Change a ticket ``p`` may see; a closed ticket cannot change (409)."""
    row = visible_ticket(s, p, ticket_id)
    before = _audited(row)
    if row.status == TicketStatus.CLOSED.value:
        raise ConflictError(f"ticket {ticket_id} is closed and cannot change (open a new ticket)")
    if f.customer_id is not None or f.contact_id is not None:
        raise CrmError("customer_id / contact_id: a ticket's customer and contact cannot change")
    if f.subject is not None:
        row.subject = clean_text(f.subject, "subject", 255, required=True)
    if f.description is not None:
        row.description = clean_text(f.description, "description", 20_000)
    if f.status is not None:
        row.status = parse_status(f.status).value
    if f.priority is not None:
        priority = parse_priority(f.priority)
        if priority.value != row.priority and f.sla_due_at is None:
            row.sla_due_at = sla_due(priority, row.created_at)
        row.priority = priority.value
    if f.sla_due_at is not None:
        if f.sla_due_at <= row.created_at:
            raise CrmError(
                f"sla_due_at: {f.sla_due_at:.0f} is not after the ticket's creation "
                f"({row.created_at:.0f})"
            )
        row.sla_due_at = f.sla_due_at
    if f.assignee:
        row.assignee = check_user(s, f.assignee, "assignee")
    elif unassign:
        row.assignee = None
    row.updated_at = now
    s.flush()
    record(s, actor, AuditAction.TICKET_UPDATE, "ticket", row.id, before, _audited(row), at=now)
    return row


def list_tickets(
    s: Session,
    p: Principal,
    *,
    now: float,
    customer_id: int | None = None,
    status: str | None = None,
    open_only: bool = False,
    assignee: str | None = None,
    overdue: bool | None = None,
    q: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[TicketView], int]:
    """Tickets ``p`` may see, most urgent due first (then newest), and how many match."""
    query = select(Ticket).where(
        involvement_filter(s, p, Ticket.customer_id, (Ticket.assignee, Ticket.created_by))
    )
    if customer_id is not None:
        query = query.where(Ticket.customer_id == customer_id)
    if status is not None:
        query = query.where(Ticket.status == parse_status(status).value)
    if open_only or overdue is not None:
        query = query.where(Ticket.status.in_(OPEN_TICKET))
    if overdue is True:
        query = query.where(Ticket.sla_due_at < now)
    elif overdue is False:
        query = query.where((Ticket.sla_due_at >= now) | Ticket.sla_due_at.is_(None))
    if assignee is not None:
        query = query.where(Ticket.assignee == assignee)
    if q is not None and q.strip():
        text = q.strip().lower()
        match = func.lower(Ticket.subject).contains(text, autoescape=True)
        if text.lstrip("#").isdigit():
            match = match | (Ticket.id == int(text.lstrip("#")))
        query = query.where(match)
    total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = s.scalars(
        query.order_by(Ticket.sla_due_at.is_(None), Ticket.sla_due_at, Ticket.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return ticket_views(s, p, rows, now), total


# --------------------------------------------------------------------------- follow-ups


def create_follow_up(
    s: Session,
    p: Principal,
    *,
    due_at: float,
    now: float,
    actor: Actor,
    note: str = "",
    assignee: str | None = None,
    customer_id: int | None = None,
    contact_id: str | None = None,
    ticket_id: int | None = None,
) -> FollowUp:
    """A follow-up due at ``due_at`` (in the future), assigned to ``assignee`` or ``p``."""
    if due_at <= now:
        raise CrmError(f"due_at: {due_at:.0f} is not in the future (now {now:.0f})")
    ticket = visible_ticket(s, p, ticket_id) if ticket_id is not None else None
    if ticket is not None and customer_id is None:
        customer_id = ticket.customer_id
    customer_id, contact = _customer_for(s, p, customer_id, contact_id)
    if ticket is not None and ticket.customer_id != customer_id:
        raise CrmError(f"ticket_id: ticket {ticket.id} is not one of customer {customer_id}")
    row = FollowUp(
        customer_id=customer_id, contact_id=contact, ticket_id=ticket_id,
        assignee=check_user(s, assignee, "assignee") if assignee else p.username,
        due_at=due_at, note=clean_text(note, "note", 20_000), done_at=None,
        created_by=p.username, created_at=now,
    )  # fmt: skip
    s.add(row)
    s.flush()
    record(s, actor, AuditAction.FOLLOW_UP_CREATE, "follow_up", row.id, {}, _audited(row),
           at=now)  # fmt: skip
    return row


def update_follow_up(
    s: Session,
    p: Principal,
    follow_up_id: int,
    *,
    now: float,
    actor: Actor,
    done: bool | None = None,
    note: str | None = None,
    due_at: float | None = None,
    assignee: str | None = None,
) -> FollowUp:
    """Mark a follow-up ``p`` may see done / not done, or change its note, time, assignee."""
    row = s.scalar(
        select(FollowUp).where(
            FollowUp.id == follow_up_id,
            involvement_filter(
                s, p, FollowUp.customer_id, (FollowUp.assignee, FollowUp.created_by)
            ),
        )
    )
    if row is None:
        raise NotFoundError("follow-up", follow_up_id)
    before = _audited(row)
    if due_at is not None:
        if due_at <= now:
            raise CrmError(f"due_at: {due_at:.0f} is not in the future (now {now:.0f})")
        row.due_at = due_at
    if note is not None:
        row.note = clean_text(note, "note", 20_000)
    if assignee:
        row.assignee = check_user(s, assignee, "assignee")
    if done is True and row.done_at is None:
        row.done_at = now
    elif done is False:
        row.done_at = None
    s.flush()
    record(s, actor, AuditAction.FOLLOW_UP_UPDATE, "follow_up", row.id, before, _audited(row),
           at=now)  # fmt: skip
    return row


def list_follow_ups(
    s: Session,
    p: Principal,
    *,
    now: float,
    customer_id: int | None = None,
    done: bool | None = False,
    due_before: float | None = None,
    assignee: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[FollowUpView], int]:
    """Follow-ups ``p`` may see, earliest due first, and how many match."""
    query = select(FollowUp).where(
        involvement_filter(s, p, FollowUp.customer_id, (FollowUp.assignee, FollowUp.created_by))
    )
    if customer_id is not None:
        query = query.where(FollowUp.customer_id == customer_id)
    if done is True:
        query = query.where(FollowUp.done_at.is_not(None))
    elif done is False:
        query = query.where(FollowUp.done_at.is_(None))
    if due_before is not None:
        query = query.where(FollowUp.due_at < due_before)
    if assignee is not None:
        query = query.where(FollowUp.assignee == assignee)
    total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = s.scalars(query.order_by(FollowUp.due_at, FollowUp.id).limit(limit).offset(offset))
    return follow_up_views(s, p, rows.all(), now), total


__all__ = [
    "OPEN_TICKET",
    "SLA_HOURS",
    "FollowUpView",
    "TicketFields",
    "TicketView",
    "create_follow_up",
    "create_ticket",
    "follow_up_view",
    "follow_up_views",
    "get_ticket",
    "list_follow_ups",
    "list_tickets",
    "parse_priority",
    "parse_status",
    "sla_due",
    "ticket_view",
    "ticket_views",
    "update_follow_up",
    "update_ticket",
    "visible_contact",
    "visible_ticket",
]
