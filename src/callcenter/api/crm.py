"""The CRM API: customers, contacts with transcripts, tickets, follow-ups, search — and
the ``/crm`` page (``docs/crm.md``).

Guards: reading customers, tickets, follow-ups and search needs ``crm.read``; contacts
``contacts.read``; every change ``crm.write``.  Every query that returns contacts goes
through :func:`callcenter.auth.scope.contact_filter`, so a contact the asker may not see
answers 404 exactly like one that does not exist; tickets and follow-ups follow
:func:`callcenter.crm.common.involvement_filter`.

Service errors (:class:`~callcenter.crm.common.CrmError`) become the JSON error shape
through the one mapping in ``api/errors.py``.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Depends, Query
from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session

from callcenter.api.center import Center, center
from callcenter.api.crm_schemas import (
    CardOut,
    ContactDetail,
    ContactList,
    ContactOut,
    CustomerBrief,
    CustomerIn,
    CustomerList,
    CustomerOut,
    CustomerPatch,
    FollowUpIn,
    FollowUpList,
    FollowUpOut,
    FollowUpPatch,
    HistoryOut,
    MessageOut,
    SearchOut,
    TicketIn,
    TicketList,
    TicketOut,
    TicketPatch,
)
from callcenter.api.deps import Db, require
from callcenter.api.errors import ApiError
from callcenter.auth.permissions import Permission
from callcenter.auth.scope import contact_filter
from callcenter.auth.service import Principal
from callcenter.crm import service, tickets
from callcenter.storage.tables import ContactAgent, ContactRow, ContactStatus, Customer, Message

MAX_LIMIT: Final = 500
SEARCH_LIMIT: Final = 20


router = APIRouter(tags=["crm"])

Reader = Annotated[Principal, Depends(require(Permission.CRM_READ))]
Writer = Annotated[Principal, Depends(require(Permission.CRM_WRITE))]
ContactReader = Annotated[Principal, Depends(require(Permission.CONTACTS_READ))]
TheCenter = Annotated[Center, Depends(center)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"at most {MAX_LIMIT}")]
Offset = Annotated[int, Query(ge=0)]


# --------------------------------------------------------------------------- customers


def _customer_fields(body: CustomerIn | CustomerPatch) -> service.CustomerFields:
    return service.CustomerFields(
        name=body.name, email=body.email, phone=body.phone, company=body.company, notes=body.notes
    )


@router.get("/api/customers", response_model=CustomerList)
def list_customers(
    s: Db, _p: Reader, q: str = "", region: str = "US", limit: Limit = 50, offset: Offset = 0
) -> CustomerList:
    """Customers matching ``q`` (name, e-mail, phone, company; best match first), or all
    customers by name without ``q``."""
    if q.strip():
        rows, total = service.search_customers(s, q, limit=limit, offset=offset, region=region)
    else:
        query = select(Customer).order_by(func.lower(Customer.name), Customer.id)
        total = s.scalar(select(func.count(Customer.id))) or 0
        rows = list(s.scalars(query.limit(limit).offset(offset)))
    return CustomerList(
        customers=[CustomerOut.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post("/api/customers", response_model=CustomerOut, status_code=201)
def create_customer(body: CustomerIn, s: Db, _p: Writer, c: TheCenter) -> CustomerOut:
    """A new customer (409 if its e-mail or phone already belongs to one)."""
    row = service.create_customer(s, _customer_fields(body), now=c.clock(), region=body.region)
    return CustomerOut.model_validate(row)


@router.get("/api/customers/{customer_id}", response_model=CustomerOut)
def get_customer(customer_id: int, s: Db, _p: Reader) -> CustomerOut:
    return CustomerOut.model_validate(service.get_customer(s, customer_id))


@router.patch("/api/customers/{customer_id}", response_model=CustomerOut)
def patch_customer(
    customer_id: int, body: CustomerPatch, s: Db, _p: Writer, c: TheCenter
) -> CustomerOut:
    """Change a customer; ``null`` empties e-mail, phone, company or notes."""
    clear = frozenset(
        k for k in ("email", "phone", "company", "notes") if k in body.model_fields_set
    )
    row = service.update_customer(
        s, customer_id, _customer_fields(body), clear=clear, now=c.clock(), region=body.region
    )
    return CustomerOut.model_validate(row)


@router.get("/api/customers/{customer_id}/card", response_model=CardOut)
def customer_card(customer_id: int, s: Db, p: Reader, c: TheCenter) -> CardOut:
    """The customer, its past contacts (outcome rows only for contacts you may not
    open), its open tickets and open follow-ups."""
    card = service.customer_card(s, p, customer_id, now=c.clock())
    return CardOut(
        customer=CustomerOut.model_validate(card.customer),
        history=[HistoryOut.model_validate(h) for h in card.history],
        tickets=[TicketOut.model_validate(t) for t in card.tickets],
        follow_ups=[FollowUpOut.model_validate(f) for f in card.follow_ups],
    )


# --------------------------------------------------------------------------- contacts


def _contact_out(row: ContactRow, customer_name: str | None) -> ContactOut:
    out = ContactOut.model_validate(row)
    out.customer_name = customer_name
    return out


def _status(value: str) -> str:
    try:
        return ContactStatus(value).value
    except ValueError:
        choices = ", ".join(x.value for x in ContactStatus)
        raise ApiError(
            422, f"status: {value!r} is not a contact status (expected {choices})"
        ) from None


def _contact_rows(
    s: Session, p: Principal, where: list[ColumnElement[bool]], limit: int, offset: int
) -> tuple[list[ContactOut], int]:
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
    return [_contact_out(row, name) for row, name in rows], total


@router.get("/api/contacts", response_model=ContactList)
def list_contacts(
    s: Db,
    p: ContactReader,
    status: str | None = None,
    queue: str | None = None,
    agent: Annotated[str | None, Query(description="an agent who held the contact")] = None,
    customer_id: int | None = None,
    from_: Annotated[float | None, Query(alias="from", description="arrived at or after")] = None,
    to: Annotated[float | None, Query(description="arrived before")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> ContactList:
    """Contacts you may see (an agent: those it held; a supervisor: its teams'), newest
    first, filtered by status, queue, agent, customer and arrival time ``[from, to)``."""
    if from_ is not None and to is not None and to <= from_:
        raise ApiError(422, f"to: {to:g} is not after from ({from_:g})")
    where: list[ColumnElement[bool]] = []
    if status is not None:
        where.append(ContactRow.status == _status(status))
    if queue is not None:
        where.append(ContactRow.queue == queue)
    if agent is not None:
        where.append(
            exists(
                select(ContactAgent.contact_id).where(
                    ContactAgent.contact_id == ContactRow.id, ContactAgent.agent == agent
                )
            )
        )
    if customer_id is not None:
        where.append(ContactRow.customer_id == customer_id)
    if from_ is not None:
        where.append(ContactRow.arrived_at >= from_)
    if to is not None:
        where.append(ContactRow.arrived_at < to)
    rows, total = _contact_rows(s, p, where, limit, offset)
    return ContactList(contacts=rows, total=total, limit=limit, offset=offset)


@router.get("/api/contacts/{contact_id}", response_model=ContactDetail)
def get_contact(contact_id: str, s: Db, p: ContactReader) -> ContactDetail:
    """One contact with its transcript and the agents who held it (404 if you may not
    see it)."""
    row = tickets.visible_contact(s, p, contact_id)
    customer = s.get(Customer, row.customer_id) if row.customer_id is not None else None
    agents = s.scalars(
        select(ContactAgent.agent)
        .where(ContactAgent.contact_id == row.id)
        .order_by(ContactAgent.agent)
    )
    messages = s.scalars(select(Message).where(Message.contact_id == row.id).order_by(Message.id))
    base = _contact_out(row, customer.name if customer else None).model_dump()
    return ContactDetail(
        **base,
        enqueued_at=row.enqueued_at,
        offered_at=row.offered_at,
        notes=row.notes,
        csat_comment=row.csat_comment,
        recording_url=row.recording_url,
        customer=CustomerBrief.model_validate(customer) if customer else None,
        agents=list(agents),
        messages=[MessageOut.model_validate(m) for m in messages],
    )


# --------------------------------------------------------------------------- tickets


@router.post("/api/tickets", response_model=TicketOut, status_code=201)
def create_ticket(body: TicketIn, s: Db, p: Writer, c: TheCenter) -> TicketOut:
    """A new ticket; its SLA due time follows the priority unless ``sla_due_at``."""
    now = c.clock()
    fields = tickets.TicketFields(**body.model_dump())
    row = tickets.create_ticket(s, p, fields, now=now)
    return TicketOut.model_validate(tickets.ticket_views(s, p, [row], now)[0])


@router.get("/api/tickets", response_model=TicketList)
def list_tickets(
    s: Db,
    p: Reader,
    c: TheCenter,
    status: str | None = None,
    open_only: Annotated[bool, Query(alias="open", description="open and pending only")] = False,
    overdue: bool | None = None,
    customer_id: int | None = None,
    assignee: str | None = None,
    q: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> TicketList:
    """Tickets you may see, most urgent SLA due first."""
    rows, total = tickets.list_tickets(
        s, p, now=c.clock(), customer_id=customer_id, status=status, open_only=open_only,
        assignee=assignee, overdue=overdue, q=q, limit=limit, offset=offset,
    )  # fmt: skip
    return TicketList(
        tickets=[TicketOut.model_validate(t) for t in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/api/tickets/{ticket_id}", response_model=TicketOut)
def get_ticket(ticket_id: int, s: Db, p: Reader, c: TheCenter) -> TicketOut:
    row = tickets.visible_ticket(s, p, ticket_id)
    return TicketOut.model_validate(tickets.ticket_views(s, p, [row], c.clock())[0])


@router.patch("/api/tickets/{ticket_id}", response_model=TicketOut)
def patch_ticket(ticket_id: int, body: TicketPatch, s: Db, p: Writer, c: TheCenter) -> TicketOut:
    """Change a ticket (409 once closed); a new priority moves the SLA due time."""
    now = c.clock()
    fields = tickets.TicketFields(**body.model_dump(exclude_unset=True))
    unassign = "assignee" in body.model_fields_set and body.assignee is None
    row = tickets.update_ticket(s, p, ticket_id, fields, now=now, unassign=unassign)
    return TicketOut.model_validate(tickets.ticket_views(s, p, [row], now)[0])


# --------------------------------------------------------------------------- follow-ups


@router.post("/api/follow-ups", response_model=FollowUpOut, status_code=201)
def create_follow_up(body: FollowUpIn, s: Db, p: Writer, c: TheCenter) -> FollowUpOut:
    """A follow-up due in the future, assigned to you unless ``assignee``."""
    now = c.clock()
    row = tickets.create_follow_up(s, p, now=now, **body.model_dump())
    return FollowUpOut.model_validate(tickets.follow_up_views(s, p, [row], now)[0])


@router.get("/api/follow-ups", response_model=FollowUpList)
def list_follow_ups(
    s: Db,
    p: Reader,
    c: TheCenter,
    due_before: float | None = None,
    done: Annotated[bool | None, Query(description="default: open ones only")] = False,
    every: Annotated[bool, Query(alias="all", description="done and open ones")] = False,
    customer_id: int | None = None,
    assignee: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> FollowUpList:
    """Follow-ups you may see, earliest due first."""
    rows, total = tickets.list_follow_ups(
        s, p, now=c.clock(), customer_id=customer_id, done=None if every else done,
        due_before=due_before, assignee=assignee, limit=limit, offset=offset,
    )  # fmt: skip
    return FollowUpList(
        follow_ups=[FollowUpOut.model_validate(f) for f in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.patch("/api/follow-ups/{follow_up_id}", response_model=FollowUpOut)
def patch_follow_up(
    follow_up_id: int, body: FollowUpPatch, s: Db, p: Writer, c: TheCenter
) -> FollowUpOut:
    """Mark a follow-up done (``{"done": true}``) or undone, or change it."""
    now = c.clock()
    row = tickets.update_follow_up(s, p, follow_up_id, now=now, **body.model_dump())
    return FollowUpOut.model_validate(tickets.follow_up_views(s, p, [row], now)[0])


# --------------------------------------------------------------------------- search


@router.get("/api/search", response_model=SearchOut)
def search(q: str, s: Db, p: Reader, c: TheCenter, region: str = "US") -> SearchOut:
    """Customers (name, e-mail, phone, company), tickets (subject or ``#id``) and
    contacts you may see (id or subject) matching ``q``; 20 of each at most."""
    customers, _ = service.search_customers(s, q, limit=SEARCH_LIMIT, region=region)
    found, _ = tickets.list_tickets(s, p, now=c.clock(), q=q, limit=SEARCH_LIMIT)
    text = q.strip()
    subject = func.lower(ContactRow.subject).contains(text.lower(), autoescape=True)
    contacts, _ = _contact_rows(s, p, [(ContactRow.id == text) | subject], SEARCH_LIMIT, 0)
    return SearchOut(
        customers=[CustomerOut.model_validate(r) for r in customers],
        tickets=[TicketOut.model_validate(t) for t in found],
        contacts=contacts,
    )


__all__ = ["router"]
