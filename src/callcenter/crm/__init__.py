"""The CRM: customers (claims and linking, search, the customer card), contacts,
tickets with SLA due times, and follow-ups; ``docs/crm.md``.

Modules: :mod:`~callcenter.crm.service` (customers and the card),
:mod:`~callcenter.crm.contacts` (contact lists and one contact with its transcript),
:mod:`~callcenter.crm.tickets` (tickets and follow-ups), :mod:`~callcenter.crm.claims`
(who a chat claims to be; :func:`link_contact`, the one way a contact gets its
customer), :mod:`~callcenter.crm.search` (the one search box) and
:mod:`~callcenter.crm.common` (errors, checks, visibility).  Reads return views (pydantic
models, :class:`~callcenter.crm.common.View`); the HTTP side, :mod:`callcenter.api.crm`,
only parses, calls and renders them."""

from __future__ import annotations

from callcenter.crm.claims import Claim, ClaimMatch, Linked, link_contact
from callcenter.crm.common import ConflictError, CrmError, NotFoundError, View
from callcenter.crm.contacts import ContactDetailView, ContactView
from callcenter.crm.service import (
    CustomerCard,
    CustomerView,
    HistoryItem,
    customer_card,
    normalize_email,
    normalize_phone,
)
from callcenter.crm.tickets import SLA_HOURS, FollowUpView, TicketView

__all__ = [
    "SLA_HOURS",
    "Claim",
    "ClaimMatch",
    "ConflictError",
    "ContactDetailView",
    "ContactView",
    "CrmError",
    "CustomerCard",
    "CustomerView",
    "FollowUpView",
    "HistoryItem",
    "Linked",
    "NotFoundError",
    "TicketView",
    "View",
    "customer_card",
    "link_contact",
    "normalize_email",
    "normalize_phone",
]
