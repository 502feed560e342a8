"""Linking a chat to a customer from the desk (``POST /api/desk/contacts/{id}/link``).

A chat starts with the customer's *claim* only (``crm/claims.py``); the desk shows its
possible matches and the agent links it deliberately — to an existing customer, or to a
new customer made of the claim.  Only a contact the agent holds or held can be linked
(row scope: another agent's contact answers 404).  The link (and a customer made for it)
is recorded in the audit log for ``actor``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from callcenter.auth.service import Principal
from callcenter.crm.claims import contact_to_link, customer_from_claim, link_contact
from callcenter.live.desk.actions import agent_of, snapshot
from callcenter.live.desk.views import Desk
from callcenter.live.engine import LiveEngine
from callcenter.storage.audit import Actor


def link(
    engine: LiveEngine,
    s: Session,
    p: Principal,
    contact_id: str,
    *,
    customer_id: int | None,
    actor: Actor,
) -> Desk:
    """Link the contact to ``customer_id``, or (None) to a new customer made of its claim;
    the desk after it."""
    agent = agent_of(p)
    contact_to_link(s, p, contact_id)
    now = engine.clock()
    if customer_id is not None:
        link_contact(s, contact_id, customer_id, now=now, actor=actor)
    else:
        customer_from_claim(s, contact_id, now=now, actor=actor)
    s.commit()  # before the snapshot takes the engine lock (never hold the write lock then)
    return snapshot(engine, agent)


__all__ = ["link"]
