"""Request and response bodies of the CRM API (:mod:`callcenter.api.crm`).

Inputs forbid unknown fields, so a misspelt field is a 422 naming it rather than a
silent no-op.  Times are UNIX seconds (floats).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --------------------------------------------------------------------------- customers


class CustomerIn(_In):
    name: str = Field(default="", max_length=255)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=64)
    company: str | None = Field(default=None, max_length=255)
    notes: str | None = Field(default=None, max_length=20_000)
    region: str = Field(default="US", description="region for national phone numbers")


class CustomerPatch(_In):
    """Fields to change; ``null`` empties e-mail, phone, company or notes."""

    name: str | None = Field(default=None, max_length=255)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=64)
    company: str | None = Field(default=None, max_length=255)
    notes: str | None = Field(default=None, max_length=20_000)
    region: str = "US"


class CustomerOut(_Out):
    id: int
    name: str
    email: str | None
    phone: str | None
    company: str | None
    notes: str
    created_at: float
    updated_at: float


class CustomerBrief(_Out):
    id: int
    name: str
    email: str | None
    phone: str | None


class CustomerList(BaseModel):
    customers: list[CustomerOut]
    total: int
    limit: int
    offset: int


# --------------------------------------------------------------------------- tickets


class TicketIn(_In):
    customer_id: int | None = Field(default=None, description="or taken from contact_id")
    contact_id: str | None = None
    subject: str = Field(min_length=1, max_length=255)
    description: str = Field(default="", max_length=20_000)
    status: str = "open"
    priority: str = "normal"
    assignee: str | None = None
    sla_due_at: float | None = Field(default=None, description="default: from the priority")


class TicketPatch(_In):
    """Fields to change; ``assignee: null`` unassigns."""

    subject: str | None = Field(default=None, max_length=255)
    description: str | None = Field(default=None, max_length=20_000)
    status: str | None = None
    priority: str | None = None
    assignee: str | None = None
    sla_due_at: float | None = None


class TicketOut(_Out):
    id: int
    customer_id: int
    customer_name: str
    contact_id: str | None  # None also when it links a contact the reader may not see
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


class TicketList(BaseModel):
    tickets: list[TicketOut]
    total: int
    limit: int
    offset: int


# --------------------------------------------------------------------------- follow-ups


class FollowUpIn(_In):
    customer_id: int | None = Field(default=None, description="or from contact_id/ticket_id")
    contact_id: str | None = None
    ticket_id: int | None = None
    due_at: float
    note: str = Field(default="", max_length=20_000)
    assignee: str | None = Field(default=None, description="default: yourself")


class FollowUpPatch(_In):
    done: bool | None = None
    note: str | None = Field(default=None, max_length=20_000)
    due_at: float | None = None
    assignee: str | None = None


class FollowUpOut(_Out):
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


class FollowUpList(BaseModel):
    follow_ups: list[FollowUpOut]
    total: int
    limit: int
    offset: int


# --------------------------------------------------------------------------- contacts


class HistoryOut(_Out):
    """A past contact on a customer card; ``visible: false`` rows are outcomes only."""

    id: str | None
    arrived_at: float
    channel: str
    direction: str
    queue: str | None
    status: str
    disposition: str | None
    csat: int | None
    agent: str | None
    subject: str | None
    mine: bool
    visible: bool


class CardOut(BaseModel):
    customer: CustomerOut
    history: list[HistoryOut]
    tickets: list[TicketOut]
    follow_ups: list[FollowUpOut]


class ContactOut(_Out):
    id: str
    customer_id: int | None
    customer_name: str | None = None
    channel: str
    direction: str
    queue: str | None
    agent: str | None
    status: str
    subject: str
    arrived_at: float
    answered_at: float | None
    ended_at: float | None
    closed_at: float | None
    disposition: str | None
    csat: int | None


class ContactList(BaseModel):
    contacts: list[ContactOut]
    total: int
    limit: int
    offset: int


class MessageOut(_Out):
    id: int
    t: float
    sender: str
    agent: str | None
    body: str


class ContactDetail(ContactOut):
    enqueued_at: float | None
    offered_at: float | None
    notes: str
    csat_comment: str | None
    recording_url: str | None
    customer: CustomerBrief | None
    agents: list[str]  # every agent who held it, in name order
    messages: list[MessageOut]


class SearchOut(BaseModel):
    customers: list[CustomerOut]
    tickets: list[TicketOut]
    contacts: list[ContactOut]


__all__ = [
    "CardOut",
    "ContactDetail",
    "ContactList",
    "ContactOut",
    "CustomerBrief",
    "CustomerIn",
    "CustomerList",
    "CustomerOut",
    "CustomerPatch",
    "FollowUpIn",
    "FollowUpList",
    "FollowUpOut",
    "FollowUpPatch",
    "HistoryOut",
    "MessageOut",
    "SearchOut",
    "TicketIn",
    "TicketList",
    "TicketOut",
    "TicketPatch",
]
