"""Identity claims: who a chat's customer *said* it is, and linking a contact to a customer.

What a customer types into the chat form (name, e-mail, phone) proves nothing: anybody
can type anybody's address.  So it is kept on the contact as a **claim**
(``contacts.claimed_*``) and never changes a customer record or links the contact by
itself — a link would show the customer's card to the agent and widen what the agent and
its supervisor may see (:func:`callcenter.crm.common.involvement_filter`: tickets and
follow-ups of customers they served).

A contact gets its customer only through :func:`link_contact`, the one function that
sets ``contacts.customer_id`` (a change to personal data: it writes the ``contact.link``
entry of the audit log in the same transaction), called

- when an agent links it deliberately to an existing customer, after seeing the
  :func:`possible_matches` of the claim (customers whose e-mail or phone equal the
  claimed ones, as the customer directory shows them — no tickets, no history);
- for "new customer from this claim" (:func:`customer_from_claim`);
- when the customer proved the claimed e-mail with a one-time code
  (:func:`link_verified`, from ``live/chat/verify.py``).

Functions take a :class:`Session` and never commit; they flush.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from callcenter.auth.scope import contact_filter
from callcenter.auth.service import Principal
from callcenter.crm.common import ConflictError, CrmError, NotFoundError, View
from callcenter.storage.audit import Actor, AuditAction, record, row_values
from callcenter.storage.tables import ContactRow, Customer


class Claim(View):
    """Who the customer said it is when the chat started (unproven unless
    ``email_verified``)."""

    name: str | None
    email: str | None
    phone: str | None
    email_verified: bool


class MatchedCustomer(View):
    """A possible match as the customer directory shows it (no history, no tickets)."""

    id: int
    name: str
    email: str | None
    phone: str | None
    company: str | None


class ClaimMatch(View):
    """An existing customer whose e-mail or phone equals the claimed one (``by``)."""

    customer: MatchedCustomer
    by: list[str]  # "email", "phone"


@dataclass(frozen=True, slots=True)
class Linked:
    """What :func:`link_contact` did: the contact, its customer before and after, who (a
    username, or ``customer`` for a proven e-mail) and how."""

    contact_id: str
    before: int | None
    after: int
    by: str
    how: str  # "agent" | "new_customer" | "email_code"


CUSTOMER_ACTOR_ROLE = "customer"


def customer_actor(address: str | None) -> Actor:
    """The chat's customer as the audit log names it (it proved an e-mail: no account)."""
    return Actor(user_id=None, username="customer", role=CUSTOMER_ACTOR_ROLE, address=address)


def claim_of(row: ContactRow) -> Claim | None:
    """The contact's claim, or None when the customer claimed nothing."""
    if not (row.claimed_name or row.claimed_email or row.claimed_phone):
        return None
    return Claim(
        name=row.claimed_name,
        email=row.claimed_email,
        phone=row.claimed_phone,
        email_verified=row.email_verified_at is not None,
    )


def possible_matches(
    s: Session, claims: Iterable[tuple[str, str | None, str | None]]
) -> dict[str, list[ClaimMatch]]:
    """Contact id -> customers whose e-mail or phone equal the contact's claimed ones, for
    ``claims`` = (contact id, claimed e-mail, claimed phone); one query for all."""
    wanted = list(claims)
    emails = {e for _, e, _ in wanted if e}
    phones = {p for _, _, p in wanted if p}
    out: dict[str, list[ClaimMatch]] = {cid: [] for cid, _, _ in wanted}
    if not (emails or phones):
        return out
    rows = list(
        s.scalars(
            select(Customer)
            .where(or_(Customer.email.in_(emails), Customer.phone.in_(phones)))
            .order_by(Customer.id)
        )
    )
    for cid, email, phone in wanted:
        for c in rows:
            by = [k for k, mine, theirs in (("email", email, c.email), ("phone", phone, c.phone))
                  if mine and mine == theirs]  # fmt: skip
            if by:
                out[cid].append(ClaimMatch(customer=MatchedCustomer.model_validate(c), by=by))
    return out


def contact_to_link(s: Session, p: Principal, contact_id: str) -> ContactRow:
    """The contact if ``p`` may see it (an agent: one it holds or held), else 404."""
    row = None
    if len(contact_id) <= 64:
        row = s.scalar(select(ContactRow).where(ContactRow.id == contact_id, contact_filter(p)))
    if row is None:
        raise NotFoundError("contact", contact_id)
    return row


def link_contact(
    s: Session,
    contact_id: str,
    customer_id: int,
    *,
    now: float,
    actor: Actor,
    how: str = "agent",
) -> Linked:
    """Link contact ``contact_id`` to customer ``customer_id`` (both must exist).

    The one place a contact's customer changes.  The customer record itself is not
    touched: the claim stays on the contact, the customer's fields stay as people
    curated them.  A contact linked already stays with its customer (409): its tickets
    and follow-ups name that customer.  ``now`` is the time of the change.
    """
    row = s.get(ContactRow, contact_id)
    if row is None:
        raise NotFoundError("contact", contact_id)
    if s.get(Customer, customer_id) is None:
        raise NotFoundError("customer", customer_id)
    before = row.customer_id
    if before is not None and before != customer_id:
        raise ConflictError(
            f"contact {contact_id!r} is already linked to customer {before}; it stays with it"
        )
    if before != customer_id:
        row.customer_id = customer_id
        s.flush()
        record(s, actor, AuditAction.CONTACT_LINK, "contact", contact_id,
               {"customer_id": before}, {"customer_id": customer_id, "how": how},
               at=now)  # fmt: skip
    return Linked(contact_id, before, customer_id, actor.username, how)


def _free(s: Session, field: str, value: str | None) -> int | None:
    """The customer that already has this e-mail / phone, if any."""
    if value is None:
        return None
    col = Customer.email if field == "email" else Customer.phone
    return s.scalar(select(Customer.id).where(col == value).order_by(Customer.id))


def customer_from_claim(s: Session, contact_id: str, *, now: float, actor: Actor) -> Linked:
    """A new customer made of the contact's claim (name, e-mail, phone), linked to it.

    An e-mail or phone that belongs to a customer already answers 409 naming it: the
    agent links to that one instead (or edits it), never makes a second record.
    """
    row = s.get(ContactRow, contact_id)
    if row is None:
        raise NotFoundError("contact", contact_id)
    claim = claim_of(row)
    if claim is None:
        raise CrmError(f"contact {contact_id!r} claims no name, e-mail or phone")
    for field, value in (("email", claim.email), ("phone", claim.phone)):
        other = _free(s, field, value)
        if other is not None:
            raise ConflictError(
                f"{field} {value!r} already belongs to customer {other}; link the contact "
                "to that customer instead"
            )
    return _create_and_link(s, row, claim, now=now, actor=actor, how="new_customer")


def _create_and_link(
    s: Session, row: ContactRow, claim: Claim, *, now: float, actor: Actor, how: str
) -> Linked:
    customer = Customer(
        name=claim.name or "", email=claim.email, phone=claim.phone, company=None, notes="",
        created_at=now, updated_at=now,
    )  # fmt: skip
    s.add(customer)
    s.flush()
    fields = {k: v for k, v in row_values(customer).items()
              if k not in ("id", "created_at", "updated_at")}  # fmt: skip
    record(s, actor, AuditAction.CUSTOMER_CREATE, "customer", customer.id, {}, fields, at=now)
    return link_contact(s, row.id, customer.id, now=now, actor=actor, how=how)


def link_verified(
    s: Session, contact_id: str, email: str, *, now: float, address: str | None = None
) -> Linked:
    """The customer proved ``email`` (a one-time code): the contact is linked to the
    customer with that e-mail, or to a new one (claimed name, the e-mail, and the claimed
    phone if no customer has it — the phone itself is not proven).  A contact an agent
    linked already keeps its customer."""
    row = s.get(ContactRow, contact_id)
    if row is None:
        raise NotFoundError("contact", contact_id)
    row.email_verified_at = now
    actor = customer_actor(address)
    if row.customer_id is not None:  # an agent linked it already: that link stands
        return Linked(contact_id, row.customer_id, row.customer_id, actor.username, "email_code")
    found = _free(s, "email", email)
    if found is not None:
        return link_contact(s, contact_id, found, now=now, actor=actor, how="email_code")
    phone = row.claimed_phone if _free(s, "phone", row.claimed_phone) is None else None
    claim = Claim(name=row.claimed_name, email=email, phone=phone, email_verified=True)
    return _create_and_link(s, row, claim, now=now, actor=actor, how="email_code")


__all__ = [
    "Claim",
    "ClaimMatch",
    "Linked",
    "MatchedCustomer",
    "claim_of",
    "contact_to_link",
    "customer_actor",
    "customer_from_claim",
    "link_contact",
    "link_verified",
    "possible_matches",
]
