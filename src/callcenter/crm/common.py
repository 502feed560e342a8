"""What the CRM modules share: their errors, input checks, who-may-see-what filters and
the base of the views their reads return (:class:`View`).

Errors are of the three kinds of :mod:`callcenter.errors` — bad input, something not
there (or not visible), a change the record's state forbids; the API maps the kinds to
HTTP statuses in one place (``api/errors.py``).
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import QueryableAttribute, Session

from callcenter import errors
from callcenter.auth.scope import contact_filter
from callcenter.auth.service import Principal
from callcenter.errors import UserError
from callcenter.storage.tables import ContactRow, Role, User


class CrmError(UserError):
    """Bad CRM input, explained in one line."""


class NotFoundError(CrmError, errors.NotFoundError):
    """A customer, contact, ticket or follow-up that does not exist for the asker."""


class ConflictError(CrmError, errors.ConflictError):
    """A change the record's current state does not allow."""


class View(BaseModel):
    """A record as a reader sees it: what the CRM's reads return.  Immutable, and built
    from any object with the same attribute names (``View.model_validate(row)``), which
    is also how the API renders one into a response body of the same fields."""

    model_config = ConfigDict(frozen=True, from_attributes=True)


def sees_everything(p: Principal) -> bool:
    """Administrators, managers and QA analysts see every contact and CRM record."""
    return p.role in (Role.ADMIN, Role.MANAGER, Role.QA)


def team_members(s: Session, p: Principal) -> list[str]:
    """Usernames of the members of the teams ``p`` supervises (empty for others)."""
    if p.role is not Role.SUPERVISOR or not p.supervised_teams:
        return []
    return list(s.scalars(select(User.username).where(User.team_id.in_(p.supervised_teams))))


def involvement_filter(
    s: Session,
    p: Principal,
    customer_col: QueryableAttribute[int],
    people: Iterable[QueryableAttribute[str] | QueryableAttribute[str | None]],
) -> ColumnElement[bool]:
    """The visibility rule for tickets and follow-ups (``docs/crm.md``, "Visibility").

    - administrator, manager, QA: all of them;
    - agent: those assigned to it or created by it, and those of customers it served
      (a customer with a contact the agent held);
    - supervisor: the same for itself and every member of the teams it supervises, and
      those of customers served by its teams' agents (contacts it may see).

    ``customer_col`` is the record's customer id column and ``people`` its assignee /
    creator columns (usernames).
    """
    if sees_everything(p):
        return true()
    if p.role not in (Role.AGENT, Role.SUPERVISOR):
        return false()
    names = [p.username, *team_members(s, p)]
    served = select(ContactRow.customer_id).where(
        ContactRow.customer_id.is_not(None), contact_filter(p)
    )
    clauses: list[ColumnElement[bool]] = [col.in_(names) for col in people]
    clauses.append(customer_col.in_(served))
    return or_(*clauses)


def visible_contact_ids(s: Session, p: Principal, ids: Iterable[str | None]) -> set[str]:
    """The ids among ``ids`` naming contacts ``p`` may see (the rest must not be shown)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return set()
    return set(s.scalars(select(ContactRow.id).where(ContactRow.id.in_(wanted), contact_filter(p))))


def check_user(s: Session, username: str, field: str) -> str:
    """``username`` if it names an active user, else a 422 naming ``field``."""
    found = s.scalar(select(User.username).where(User.username == username, User.active))
    if found is None:
        raise CrmError(f"{field}: no active user {username!r} (expected an existing username)")
    return found


def clean_text(value: str | None, field: str, max_len: int, *, required: bool = False) -> str:
    """``value`` stripped; a 422 if it is longer than ``max_len`` or required and empty."""
    text = (value or "").strip()
    if required and not text:
        raise CrmError(f"{field}: must not be empty")
    if len(text) > max_len:
        raise CrmError(f"{field}: {len(text)} characters is too long (at most {max_len})")
    return text


__all__ = [
    "ConflictError",
    "CrmError",
    "NotFoundError",
    "View",
    "check_user",
    "clean_text",
    "involvement_filter",
    "sees_everything",
    "team_members",
    "visible_contact_ids",
]
