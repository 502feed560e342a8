"""The CRM: customers (identification, search, the customer card), tickets with SLA due
times, and follow-ups; ``docs/crm.md``.  The HTTP side is :mod:`callcenter.api.crm`."""

from __future__ import annotations

from callcenter.crm.common import ConflictError, CrmError, NotFoundError
from callcenter.crm.service import (
    CustomerCard,
    HistoryItem,
    customer_card,
    find_or_create_customer,
    normalize_email,
    normalize_phone,
)
from callcenter.crm.tickets import SLA_HOURS, FollowUpView, TicketView

__all__ = [
    "SLA_HOURS",
    "ConflictError",
    "CrmError",
    "CustomerCard",
    "FollowUpView",
    "HistoryItem",
    "NotFoundError",
    "TicketView",
    "customer_card",
    "find_or_create_customer",
    "normalize_email",
    "normalize_phone",
]
