"""Customers: identification, records, search and the customer card.

**Identity**: e-mail addresses are kept lower-cased, phone numbers in E.164 form
(``+14155550123``, parsed with the ``phonenumbers`` library — the Python port of Google's
libphonenumber — in the caller's default region); both are unique across customers.  A
chat does not pick its customer: what the customer typed is a claim, and a contact is
linked to a customer only deliberately (:mod:`callcenter.crm.claims`).

**Visibility**: every user with ``crm.read`` sees the customer directory (names and
contact details: an agent must find the customer on the line).  What a customer's card
shows of past *contacts* follows the contact rule of :mod:`callcenter.auth.scope`: a
contact the reader may not open appears only as an outcome row (time, channel, queue,
status, disposition, CSAT) without its id, agent, subject, notes or transcript.  Tickets
and follow-ups on the card follow :func:`callcenter.crm.common.involvement_filter`.

Functions take a :class:`Session` and never commit; they flush so new rows have ids.
Every change by a person (:func:`create_customer`, :func:`update_customer`) is recorded in
the audit log in the same transaction, with the ``actor`` the edge passes in.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Final

import phonenumbers
from sqlalchemy import ColumnElement, Select, case, func, or_, select
from sqlalchemy.orm import Session

from callcenter.auth.service import Principal
from callcenter.crm.common import (
    ConflictError,
    CrmError,
    NotFoundError,
    View,
    clean_text,
    visible_contact_ids,
)
from callcenter.crm.tickets import (
    FollowUpView,
    TicketView,
    list_follow_ups,
    list_tickets,
)
from callcenter.storage.audit import Actor, AuditAction, record, row_values
from callcenter.storage.tables import ContactAgent, ContactRow, Customer

DEFAULT_REGION: Final = "US"
HISTORY_LIMIT: Final = 200  # contacts shown on a card, newest first
# A deliberately loose check: one "@", no blanks, a dot in the domain.  Whether the
# mailbox exists only a mail server can tell; this catches typing mistakes.
_PHONE_CHARS = re.compile(r"^[\d\s()+./-]+$")


# --------------------------------------------------------------------------- normalising


def normalize_email(raw: str | None) -> str | None:
    """``raw`` stripped and lower-cased, None if blank; a :class:`CrmError` if malformed.

    The syntax is RFC 5321/6531 as ``email-validator`` checks it (no DNS look-up), the
    same check as users' addresses (``live/admin/people.py``): ``x"><script>@example.com``,
    ``a@b`` and special-use domains such as ``.local`` are refused."""
    from email_validator import EmailNotValidError, validate_email  # here: a quick import

    if raw is None or not raw.strip():
        return None
    email = raw.strip()
    bad = CrmError(f"email {raw!r} is not a valid e-mail address (expected name@domain.tld)")
    if len(email) > 254:
        raise bad
    try:
        return validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise bad from None


def check_region(region: str) -> str:
    """``region`` upper-cased if ``phonenumbers`` knows it (ISO 3166 alpha-2)."""
    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise CrmError(
            f"region {region!r} is not a known phone region (expected an ISO 3166 code "
            "like US, GB or DE)"
        )
    return code


def normalize_phone(raw: str | None, region: str = DEFAULT_REGION) -> str | None:
    """``raw`` in E.164 (``+14155550123``), None if blank; a :class:`CrmError` if it is not
    a valid number.  A national number (``(415) 555-0123``) is read in ``region``."""
    if raw is None or not raw.strip():
        return None
    code = check_region(region)
    try:
        number = phonenumbers.parse(raw, code)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise CrmError(
            f"phone {raw!r} is not a valid phone number (expected E.164 like +14155550123, "
            f"or a national number of region {code})"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# --------------------------------------------------------------------------- records


class CustomerView(View):
    """A customer as the CRM shows it (e-mail lower-cased, phone in E.164)."""

    id: int
    name: str
    email: str | None
    phone: str | None
    company: str | None
    notes: str
    created_at: float
    updated_at: float


def get_customer(s: Session, customer_id: int) -> Customer:
    row = s.get(Customer, customer_id)
    if row is None:
        raise NotFoundError("customer", customer_id)
    return row


@dataclass(frozen=True, slots=True)
class CustomerFields:
    """Editable fields of a customer; ``None`` in an update means "leave as is"."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    company: str | None = None
    notes: str | None = None


def _unique(s: Session, field: str, value: str | None, me: int | None) -> None:
    if value is None:
        return
    col = Customer.email if field == "email" else Customer.phone
    other = s.scalar(select(Customer.id).where(col == value, Customer.id != (me or -1)))
    if other is not None:
        raise ConflictError(f"{field} {value!r} already belongs to customer {other}")


def create_customer(
    s: Session, f: CustomerFields, *, now: float, actor: Actor, region: str = DEFAULT_REGION
) -> Customer:
    """A new customer; its e-mail and phone must not belong to another one (409)."""
    email, phone = normalize_email(f.email), normalize_phone(f.phone, region)
    name = clean_text(f.name, "name", 255, required=email is None and phone is None)
    _unique(s, "email", email, None)
    _unique(s, "phone", phone, None)
    row = Customer(
        name=name, email=email, phone=phone,
        company=clean_text(f.company, "company", 255) or None,
        notes=clean_text(f.notes, "notes", 20_000), created_at=now, updated_at=now,
    )  # fmt: skip
    s.add(row)
    s.flush()
    record(s, actor, AuditAction.CUSTOMER_CREATE, "customer", row.id, {}, _audited(row), at=now)
    return row


def _audited(row: Customer) -> dict[str, object]:
    """A customer's fields as the audit log shows them (not its bookkeeping times)."""
    values = row_values(row)
    return {k: v for k, v in values.items() if k not in ("id", "created_at", "updated_at")}


def update_customer(
    s: Session,
    customer_id: int,
    f: CustomerFields,
    *,
    clear: frozenset[str] = frozenset(),
    now: float,
    actor: Actor,
    region: str = DEFAULT_REGION,
) -> Customer:
    """Change the fields given in ``f`` and empty those named in ``clear`` (recorded in
    the audit log as before -> after of the fields that changed)."""
    row = get_customer(s, customer_id)
    before = _audited(row)
    if f.name is not None:
        row.name = clean_text(f.name, "name", 255)
    if f.email is not None or "email" in clear:
        row.email = normalize_email(f.email)
        _unique(s, "email", row.email, row.id)
    if f.phone is not None or "phone" in clear:
        row.phone = normalize_phone(f.phone, region)
        _unique(s, "phone", row.phone, row.id)
    if f.company is not None or "company" in clear:
        row.company = clean_text(f.company, "company", 255) or None
    if f.notes is not None or "notes" in clear:
        row.notes = clean_text(f.notes, "notes", 20_000)
    if not (row.name or row.email or row.phone):
        raise CrmError("customer: needs a name, an e-mail or a phone")
    row.updated_at = now
    s.flush()
    record(s, actor, AuditAction.CUSTOMER_UPDATE, "customer", row.id, before, _audited(row),
           at=now)  # fmt: skip
    return row


# --------------------------------------------------------------------------- search


def _phone_digits(q: str) -> str | None:
    """The digits of ``q`` if it looks like (part of) a phone number with 3+ digits."""
    if not _PHONE_CHARS.match(q):
        return None
    digits = re.sub(r"\D", "", q)
    return digits if len(digits) >= 3 else None


def _try_phone(q: str, region: str) -> str | None:
    try:
        return normalize_phone(q, region)
    except CrmError:
        return None


def customer_search(q: str, region: str = DEFAULT_REGION) -> Select[Customer]:
    """Customers matching ``q``, best first (a query; page it with limit/offset).

    Matches: name, e-mail and company containing ``q`` (any case); the phone equal to
    ``q`` read as a phone number, or containing its digits (3 or more).  Rank: an exact
    e-mail or phone first, then an exact name, then names starting with ``q``, then the
    rest; ties by name and id.
    """
    text = q.strip().lower()
    if not text:
        raise CrmError("q: must not be empty (a name, e-mail, phone or company to look for)")
    phone = _try_phone(q, region)
    digits = _phone_digits(q)
    name = func.lower(Customer.name)
    matches: list[ColumnElement[bool]] = [
        name.contains(text, autoescape=True),
        Customer.email.contains(text, autoescape=True),
        func.lower(Customer.company).contains(text, autoescape=True),
    ]
    if phone is not None:
        matches.append(Customer.phone == phone)
    if digits is not None:
        matches.append(Customer.phone.contains(digits, autoescape=True))
    exact = Customer.email == text if phone is None else Customer.phone == phone
    rank = case(
        (exact, 0),
        (name == text, 1),
        (name.startswith(text, autoescape=True), 2),
        else_=3,
    )
    return select(Customer).where(or_(*matches)).order_by(rank, name, Customer.id)


def search_customers(
    s: Session, q: str, *, limit: int = 20, offset: int = 0, region: str = DEFAULT_REGION
) -> tuple[list[Customer], int]:
    """One page of :func:`customer_search` and the number of matches."""
    query = customer_search(q, region)
    total = s.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    return list(s.scalars(query.limit(limit).offset(offset))), total


def list_customers(
    s: Session,
    q: str = "",
    *,
    limit: int = 50,
    offset: int = 0,
    region: str = DEFAULT_REGION,
) -> tuple[list[CustomerView], int]:
    """Customers matching ``q`` (:func:`customer_search`, best first), or every customer
    by name without ``q``: one page and how many match."""
    if q.strip():
        rows, total = search_customers(s, q, limit=limit, offset=offset, region=region)
    else:
        total = s.scalar(select(func.count(Customer.id))) or 0
        query = select(Customer).order_by(func.lower(Customer.name), Customer.id)
        rows = list(s.scalars(query.limit(limit).offset(offset)))
    return [CustomerView.model_validate(r) for r in rows], total


# --------------------------------------------------------------------------- the card


class HistoryItem(View):
    """One past contact of a customer.  ``visible`` False: an outcome row only — the
    reader may not open that contact, so id, agent and subject are None."""

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
    mine: bool  # the reader (an agent) held it
    visible: bool


class CustomerCard(View):
    """What the CRM knows of a customer, as one reader may see it."""

    customer: CustomerView
    history: list[HistoryItem]
    tickets: list[TicketView]  # open and pending ones the reader may see
    follow_ups: list[FollowUpView]  # not done, that the reader may see


def history(s: Session, p: Principal, customer_id: int) -> list[HistoryItem]:
    """The customer's contacts, newest first, masked as the module docstring says."""
    rows = list(
        s.scalars(
            select(ContactRow)
            .where(ContactRow.customer_id == customer_id)
            .order_by(ContactRow.arrived_at.desc(), ContactRow.id.desc())
            .limit(HISTORY_LIMIT)
        )
    )
    ids = [r.id for r in rows]
    visible = visible_contact_ids(s, p, ids)
    mine: set[str] = set()
    if p.agent is not None and ids:
        mine = set(
            s.scalars(
                select(ContactAgent.contact_id).where(
                    ContactAgent.contact_id.in_(ids), ContactAgent.agent == p.agent
                )
            )
        )
    out = []
    for r in rows:
        seen = r.id in visible
        out.append(
            HistoryItem(
                id=r.id if seen else None, arrived_at=r.arrived_at, channel=r.channel,
                direction=r.direction, queue=r.queue, status=r.status,
                disposition=r.disposition, csat=r.csat, agent=r.agent if seen else None,
                subject=r.subject if seen else None, mine=r.id in mine, visible=seen,
            )
        )  # fmt: skip
    return out


def customer_card(
    session: Session, principal: Principal, customer_id: int, *, now: float | None = None
) -> CustomerCard:
    """The customer, its contact history, open tickets and open follow-ups for
    ``principal`` (each part filtered by the visibility rules)."""
    t = time.time() if now is None else now
    customer = get_customer(session, customer_id)
    tickets, _ = list_tickets(
        session, principal, now=t, customer_id=customer_id, open_only=True, limit=500
    )
    follow_ups, _ = list_follow_ups(
        session, principal, now=t, customer_id=customer_id, done=False, limit=500
    )
    return CustomerCard(
        customer=CustomerView.model_validate(customer),
        history=history(session, principal, customer_id),
        tickets=tickets,
        follow_ups=follow_ups,
    )


__all__ = [
    "DEFAULT_REGION",
    "CustomerCard",
    "CustomerFields",
    "CustomerView",
    "HistoryItem",
    "check_region",
    "create_customer",
    "customer_card",
    "customer_search",
    "get_customer",
    "history",
    "list_customers",
    "normalize_email",
    "normalize_phone",
    "search_customers",
    "update_customer",
]
