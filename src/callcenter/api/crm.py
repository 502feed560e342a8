"""The CRM API: customers, contacts with transcripts, tickets, follow-ups and search
(``docs/crm.md``).

Each route parses the request, calls one of the CRM services (:mod:`callcenter.crm`:
``service`` for customers and the card, ``contacts``, ``tickets``, ``search``) and renders
its view into the response body of :mod:`callcenter.api.crm_schemas`.  The queries and
the rules — who may see what (a contact the asker may not see answers 404 exactly like
one that does not exist), which values are valid — live in the services.

Every change is recorded in the audit log for the request's actor
(:data:`~callcenter.api.audit.Acting`: the principal and the client's address).

Guards: reading customers, tickets, follow-ups and search needs ``crm.read``; contacts
``contacts.read``; every change ``crm.write``.  Service errors
(:class:`~callcenter.crm.common.CrmError`) become the JSON error shape through the one
mapping in ``api/errors.py``.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse

from callcenter.api.audit import Acting
from callcenter.api.center import Center, center
from callcenter.api.crm_schemas import (
    AnalysisOut,
    CardOut,
    ContactDetail,
    ContactList,
    ContactOut,
    CustomerIn,
    CustomerList,
    CustomerOut,
    CustomerPatch,
    FollowUpIn,
    FollowUpList,
    FollowUpOut,
    FollowUpPatch,
    RecordingMarkOut,
    SearchOut,
    TicketIn,
    TicketList,
    TicketOut,
    TicketPatch,
)
from callcenter.api.deps import Db, require
from callcenter.auth.permissions import Permission
from callcenter.auth.service import Principal
from callcenter.crm import contacts, service, tickets
from callcenter.crm import search as crm_search
from callcenter.inputs import MAX_SEARCH
from callcenter.live.voice import media

MAX_LIMIT: Final = 500


router = APIRouter(tags=["crm"])

Reader = Annotated[Principal, Depends(require(Permission.CRM_READ))]
Writer = Annotated[Principal, Depends(require(Permission.CRM_WRITE))]
ContactReader = Annotated[Principal, Depends(require(Permission.CONTACTS_READ))]
TheCenter = Annotated[Center, Depends(center)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"at most {MAX_LIMIT}")]
Offset = Annotated[int, Query(ge=0)]
# Free-text search terms and names in queries are bounded (a 50,000-character LIKE
# pattern is "too complex" for SQLite: a 500 before); times are finite numbers.
Search = Annotated[
    str, Query(max_length=MAX_SEARCH, description=f"at most {MAX_SEARCH} characters")
]
OptSearch = Annotated[
    str | None, Query(max_length=MAX_SEARCH, description=f"at most {MAX_SEARCH} characters")
]
Key = Annotated[str | None, Query(max_length=64)]
Region = Annotated[
    str | None,
    Query(max_length=8, description="region of national numbers (default: phone_region)"),
]
Time = Annotated[float | None, Query(allow_inf_nan=False, description="UNIX seconds")]


# --------------------------------------------------------------------------- customers


def _customer_fields(body: CustomerIn | CustomerPatch) -> service.CustomerFields:
    return service.CustomerFields(
        name=body.name, email=body.email, phone=body.phone, company=body.company, notes=body.notes
    )


@router.get("/api/customers", response_model=CustomerList)
def list_customers(
    s: Db, _p: Reader, c: TheCenter, q: Search = "", region: Region = None,
    limit: Limit = 50, offset: Offset = 0,
) -> CustomerList:  # fmt: skip
    """Customers matching ``q`` (name, e-mail, phone, company; best match first), or all
    customers by name without ``q``."""
    rows, total = service.list_customers(
        s, q, limit=limit, offset=offset, region=region or c.settings.phone_region
    )
    customers = [CustomerOut.model_validate(r) for r in rows]
    return CustomerList(customers=customers, total=total, limit=limit, offset=offset)


@router.post("/api/customers", response_model=CustomerOut, status_code=201)
def create_customer(body: CustomerIn, s: Db, _p: Writer, c: TheCenter, a: Acting) -> CustomerOut:
    """A new customer (409 if its e-mail or phone already belongs to one)."""
    fields = _customer_fields(body)
    region = body.region or c.settings.phone_region
    row = service.create_customer(s, fields, now=c.clock(), actor=a, region=region)
    return CustomerOut.model_validate(row)


@router.get("/api/customers/{customer_id}", response_model=CustomerOut)
def get_customer(customer_id: int, s: Db, _p: Reader) -> CustomerOut:
    return CustomerOut.model_validate(service.get_customer(s, customer_id))


@router.patch("/api/customers/{customer_id}", response_model=CustomerOut)
def patch_customer(
    customer_id: int, body: CustomerPatch, s: Db, _p: Writer, c: TheCenter, a: Acting
) -> CustomerOut:
    """Change a customer; ``null`` empties e-mail, phone, company or notes."""
    clear = frozenset(
        k for k in ("email", "phone", "company", "notes") if k in body.model_fields_set
    )
    row = service.update_customer(
        s, customer_id, _customer_fields(body), clear=clear, now=c.clock(), actor=a,
        region=body.region or c.settings.phone_region,
    )  # fmt: skip
    return CustomerOut.model_validate(row)


@router.get("/api/customers/{customer_id}/card", response_model=CardOut)
def customer_card(customer_id: int, s: Db, p: Reader, c: TheCenter) -> CardOut:
    """The customer, its past contacts (outcome rows only for contacts you may not
    open), its open tickets and open follow-ups."""
    return CardOut.model_validate(service.customer_card(s, p, customer_id, now=c.clock()))


# --------------------------------------------------------------------------- contacts


@router.get("/api/contacts", response_model=ContactList)
def list_contacts(
    s: Db,
    p: ContactReader,
    status: Key = None,
    queue: Key = None,
    agent: Annotated[
        str | None, Query(max_length=64, description="an agent who held the contact")
    ] = None,
    customer_id: int | None = None,
    from_: Annotated[
        float | None, Query(alias="from", allow_inf_nan=False, description="arrived at or after")
    ] = None,
    to: Annotated[float | None, Query(allow_inf_nan=False, description="arrived before")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> ContactList:
    """Contacts you may see (an agent: those it held; a supervisor: its teams'), newest
    first, filtered by status, queue, agent, customer and arrival time ``[from, to)``."""
    f = contacts.ContactFilter(status=status, queue=queue, agent=agent, customer_id=customer_id,
                               arrived_from=from_, arrived_to=to)  # fmt: skip
    rows, total = contacts.list_contacts(s, p, f, limit=limit, offset=offset)
    found = [ContactOut.model_validate(r) for r in rows]
    return ContactList(contacts=found, total=total, limit=limit, offset=offset)


@router.get("/api/contacts/{contact_id}", response_model=ContactDetail)
def get_contact(contact_id: str, s: Db, p: ContactReader) -> ContactDetail:
    """One contact with its transcript and the agents who held it (404 if you may not
    see it)."""
    return ContactDetail.model_validate(contacts.contact_detail(s, p, contact_id))


@router.get(
    "/api/contacts/{contact_id}/recording",
    response_class=FileResponse,
    responses={200: {"content": {"audio/wav": {}}, "description": "the recording"}},
)
def get_recording(contact_id: str, s: Db, p: ContactReader, c: TheCenter) -> FileResponse:
    """The call's recording: a stereo WAV, left what the caller heard (the agent; the
    music while on hold), right what the caller said (404 if you may not
    see the contact or it has none).  Byte ranges (``Range``) are served for seeking."""
    path = media.contact_recording(s, p, contact_id, c.settings.recordings_path)
    return FileResponse(
        path,
        media_type="audio/wav",
        filename=f"{contact_id}.wav",
        content_disposition_type="inline",
        headers={"Cache-Control": "private, no-store"},
    )


@router.get("/api/contacts/{contact_id}/recording/marks", response_model=list[RecordingMarkOut])
def get_recording_marks(contact_id: str, s: Db, p: ContactReader) -> list[RecordingMarkOut]:
    """The spans of the call's recording that are not the conversation as such — ``hold``
    (music to the caller) and ``paused`` (silence) — in seconds from the file's start, so
    QA and speech analytics can skip or flag them (404 as for the recording)."""
    marks = media.recording_marks_of(s, p, contact_id)
    return [RecordingMarkOut.model_validate(m) for m in marks]


@router.get("/api/contacts/{contact_id}/analysis", response_model=AnalysisOut)
def get_analysis(contact_id: str, s: Db, p: ContactReader, c: TheCenter) -> AnalysisOut:
    """The automatic analysis of the call's recording: ``none``, ``pending``, ``failed``
    (with the reason) or ``done`` (with the result document of ``docs/speech.md``)."""
    view = media.contact_analysis(s, p, contact_id, c.settings.data_dir / "analysis")
    return AnalysisOut.model_validate(view)


# --------------------------------------------------------------------------- tickets


@router.post("/api/tickets", response_model=TicketOut, status_code=201)
def create_ticket(body: TicketIn, s: Db, p: Writer, c: TheCenter, a: Acting) -> TicketOut:
    """A new ticket; its SLA due time follows the priority unless ``sla_due_at``."""
    now = c.clock()
    fields = tickets.TicketFields(**body.model_dump())
    row = tickets.create_ticket(s, p, fields, now=now, actor=a)
    return TicketOut.model_validate(tickets.ticket_view(s, p, row, now))


@router.get("/api/tickets", response_model=TicketList)
def list_tickets(
    s: Db,
    p: Reader,
    c: TheCenter,
    status: Key = None,
    open_only: Annotated[bool, Query(alias="open", description="open and pending only")] = False,
    overdue: bool | None = None,
    customer_id: int | None = None,
    assignee: Key = None,
    q: OptSearch = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> TicketList:
    """Tickets you may see, most urgent SLA due first."""
    rows, total = tickets.list_tickets(
        s, p, now=c.clock(), customer_id=customer_id, status=status, open_only=open_only,
        assignee=assignee, overdue=overdue, q=q, limit=limit, offset=offset,
    )  # fmt: skip
    found = [TicketOut.model_validate(t) for t in rows]
    return TicketList(tickets=found, total=total, limit=limit, offset=offset)


@router.get("/api/tickets/{ticket_id}", response_model=TicketOut)
def get_ticket(ticket_id: int, s: Db, p: Reader, c: TheCenter) -> TicketOut:
    return TicketOut.model_validate(tickets.get_ticket(s, p, ticket_id, now=c.clock()))


@router.patch("/api/tickets/{ticket_id}", response_model=TicketOut)
def patch_ticket(
    ticket_id: int, body: TicketPatch, s: Db, p: Writer, c: TheCenter, a: Acting
) -> TicketOut:
    """Change a ticket (409 once closed); a new priority moves the SLA due time."""
    now = c.clock()
    fields = tickets.TicketFields(**body.model_dump(exclude_unset=True))
    unassign = "assignee" in body.model_fields_set and body.assignee is None
    row = tickets.update_ticket(s, p, ticket_id, fields, now=now, actor=a, unassign=unassign)
    return TicketOut.model_validate(tickets.ticket_view(s, p, row, now))


# --------------------------------------------------------------------------- follow-ups


@router.post("/api/follow-ups", response_model=FollowUpOut, status_code=201)
def create_follow_up(body: FollowUpIn, s: Db, p: Writer, c: TheCenter, a: Acting) -> FollowUpOut:
    """A follow-up due in the future, assigned to you unless ``assignee``."""
    now = c.clock()
    row = tickets.create_follow_up(s, p, now=now, actor=a, **body.model_dump())
    return FollowUpOut.model_validate(tickets.follow_up_view(s, p, row, now))


@router.get("/api/follow-ups", response_model=FollowUpList)
def list_follow_ups(
    s: Db,
    p: Reader,
    c: TheCenter,
    due_before: Time = None,
    done: Annotated[bool | None, Query(description="default: open ones only")] = False,
    every: Annotated[bool, Query(alias="all", description="done and open ones")] = False,
    customer_id: int | None = None,
    assignee: Key = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> FollowUpList:
    """Follow-ups you may see, earliest due first."""
    rows, total = tickets.list_follow_ups(
        s, p, now=c.clock(), customer_id=customer_id, done=None if every else done,
        due_before=due_before, assignee=assignee, limit=limit, offset=offset,
    )  # fmt: skip
    found = [FollowUpOut.model_validate(f) for f in rows]
    return FollowUpList(follow_ups=found, total=total, limit=limit, offset=offset)


@router.patch("/api/follow-ups/{follow_up_id}", response_model=FollowUpOut)
def patch_follow_up(
    follow_up_id: int, body: FollowUpPatch, s: Db, p: Writer, c: TheCenter, a: Acting
) -> FollowUpOut:
    """Mark a follow-up done (``{"done": true}``) or undone, or change it."""
    now = c.clock()
    row = tickets.update_follow_up(s, p, follow_up_id, now=now, actor=a, **body.model_dump())
    return FollowUpOut.model_validate(tickets.follow_up_view(s, p, row, now))


# --------------------------------------------------------------------------- search


@router.get("/api/search", response_model=SearchOut)
def search(q: Search, s: Db, p: Reader, c: TheCenter, region: Region = None) -> SearchOut:
    """Customers (name, e-mail, phone, company), tickets (subject or ``#id``) and
    contacts you may see (id or subject) matching ``q``; 20 of each at most."""
    region = region or c.settings.phone_region
    return SearchOut.model_validate(crm_search.search(s, p, q, now=c.clock(), region=region))


__all__ = ["router"]
