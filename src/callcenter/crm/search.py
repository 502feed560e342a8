"""One search box over the CRM: customers (name, e-mail, phone, company), tickets (subject
or ``#id``) and contacts (id or subject), each part filtered by what the reader may see."""

from __future__ import annotations

from typing import Final

from sqlalchemy.orm import Session

from callcenter.auth.service import Principal
from callcenter.crm.common import View
from callcenter.crm.contacts import ContactView, search_contacts
from callcenter.crm.service import DEFAULT_REGION, CustomerView, search_customers
from callcenter.crm.tickets import TicketView, list_tickets

SEARCH_LIMIT: Final = 20  # of each kind


class SearchResult(View):
    """The best matches of each kind, best (customers, contacts: newest) first."""

    customers: list[CustomerView]
    tickets: list[TicketView]  # most urgent SLA due first
    contacts: list[ContactView]


def search(
    s: Session,
    p: Principal,
    q: str,
    *,
    now: float,
    region: str = DEFAULT_REGION,
    limit: int = SEARCH_LIMIT,
) -> SearchResult:
    """Customers, tickets and contacts matching ``q``; ``limit`` of each at most.  An
    empty ``q`` is a :class:`~callcenter.crm.common.CrmError` naming it."""
    customers, _ = search_customers(s, q, limit=limit, region=region)
    tickets, _ = list_tickets(s, p, now=now, q=q, limit=limit)
    contacts, _ = search_contacts(s, p, q, limit=limit)
    return SearchResult(
        customers=[CustomerView.model_validate(c) for c in customers],
        tickets=tickets,
        contacts=contacts,
    )


__all__ = ["SEARCH_LIMIT", "SearchResult", "search"]
