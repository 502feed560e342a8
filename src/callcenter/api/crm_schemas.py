"""Request and response bodies of the CRM API (:mod:`callcenter.api.crm`).

Inputs forbid unknown fields, so a misspelt field is a 422 naming it rather than a
silent no-op.  Times are UNIX seconds (floats).

Each record a response carries is the CRM's own view of it (:mod:`callcenter.crm`'s
``...View`` models) under the API's name: ``TicketOut`` *is* a
:class:`~callcenter.crm.tickets.TicketView`, so the two cannot drift apart, and a
view renders into it field for field (``TicketOut.model_validate(view)``).  Only the
envelopes (lists with their paging, the card, the search) are the API's own.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from callcenter.crm.contacts import ContactDetailView, ContactView, CustomerBriefView, MessageView
from callcenter.crm.service import CustomerView, HistoryItem
from callcenter.crm.tickets import FollowUpView, TicketView
from callcenter.inputs import Input, VisibleName
from callcenter.live.voice.media import AnalysisView, RecordingMark


class _In(Input):
    # no unknown fields; no NaN or infinity (Input): "sla_due_at": NaN was stored as null
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --------------------------------------------------------------------------- customers


class CustomerIn(_In):
    name: VisibleName = Field(default="", max_length=255)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=64)
    company: VisibleName | None = Field(default=None, max_length=255)
    notes: str | None = Field(default=None, max_length=20_000)
    region: str | None = Field(
        default=None,
        max_length=8,
        description="region for national phone numbers (default: the center's phone_region)",
    )


class CustomerPatch(_In):
    """Fields to change; ``null`` empties e-mail, phone, company or notes."""

    name: VisibleName | None = Field(default=None, max_length=255)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=64)
    company: VisibleName | None = Field(default=None, max_length=255)
    notes: str | None = Field(default=None, max_length=20_000)
    region: str | None = Field(default=None, max_length=8)


class CustomerOut(CustomerView):
    pass


class CustomerBrief(CustomerBriefView):
    pass


class CustomerList(BaseModel):
    customers: list[CustomerOut]
    total: int
    limit: int
    offset: int


# --------------------------------------------------------------------------- tickets


class TicketIn(_In):
    customer_id: int | None = Field(default=None, description="or taken from contact_id")
    contact_id: str | None = None
    subject: VisibleName = Field(min_length=1, max_length=255)
    description: str = Field(default="", max_length=20_000)
    status: str = "open"
    priority: str = "normal"
    assignee: str | None = None
    sla_due_at: float | None = Field(
        default=None, description="UNIX seconds, finite; default: from the priority"
    )


class TicketPatch(_In):
    """Fields to change; ``assignee: null`` unassigns."""

    subject: VisibleName | None = Field(default=None, max_length=255)
    description: str | None = Field(default=None, max_length=20_000)
    status: str | None = None
    priority: str | None = None
    assignee: str | None = None
    sla_due_at: float | None = None


class TicketOut(TicketView):
    pass


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


class FollowUpOut(FollowUpView):
    pass


class FollowUpList(BaseModel):
    follow_ups: list[FollowUpOut]
    total: int
    limit: int
    offset: int


# --------------------------------------------------------------------------- contacts


class HistoryOut(HistoryItem):
    """A past contact on a customer card; ``visible: false`` rows are outcomes only."""


class CardOut(_Out):
    customer: CustomerOut
    history: list[HistoryOut]
    tickets: list[TicketOut]
    follow_ups: list[FollowUpOut]


class ContactOut(ContactView):
    pass


class ContactList(BaseModel):
    contacts: list[ContactOut]
    total: int
    limit: int
    offset: int


class MessageOut(MessageView):
    pass


class ContactDetail(ContactDetailView):
    # the view's fields, its parts under their API names
    customer: CustomerBrief | None
    messages: list[MessageOut]


class AnalysisOut(AnalysisView):
    """A contact's automatic analysis (``live/voice/media.py``)."""


class RecordingMarkOut(RecordingMark):
    """A marked span of a call's recording (``live/voice/media.py``)."""


class SearchOut(_Out):
    customers: list[CustomerOut]
    tickets: list[TicketOut]
    contacts: list[ContactOut]


__all__ = [
    "AnalysisOut",
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
    "RecordingMarkOut",
    "SearchOut",
    "TicketIn",
    "TicketList",
    "TicketOut",
    "TicketPatch",
]
