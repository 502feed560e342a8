"""Checks and helpers shared by the administration services (:mod:`.config`,
:mod:`.agents`, :mod:`.hours`, :mod:`.people`): the errors, one-line value checks that
name the field, the bad value and what was expected, and row look-ups.

Every check raises :class:`InvalidError` (bad input: the API answers 422), a clash with
what is stored :class:`ConflictError` (409), an unknown id :class:`NotFoundError` (404).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any, Final, TypeVar

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from callcenter import errors
from callcenter.errors import UserError
from callcenter.inputs import check_visible
from callcenter.storage.base import Base
from callcenter.storage.tables import OPEN_STATUSES, ContactRow, Skill

_NAME: Final = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
NAME_RULE: Final = (
    "1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
)
LEVELS: Final = (1, 10)  # skill proficiency
CAPACITY: Final = (1, 10)  # simultaneous contacts of an agent
PRIORITY: Final = (-100, 100)
MAX_NO_ANSWER: Final = (0, 100)
PAUSE_MINUTES: Final = (1, 1440)
# Durations of a queue, seconds (lowest, highest). A ring shorter than 1 s cannot be
# answered by a person, and one longer than an hour keeps a contact from every other agent;
# a wrap-up longer than an hour is a pause; a maximum wait or service-level threshold
# runs from 1 s to a week (an e-mail queue may wait days; beyond, use null: no limit).
SECONDS: Final[dict[str, tuple[float, float]]] = {
    "ring_timeout_s": (1.0, 3600.0),
    "wrapup_s": (0.0, 3600.0),
    "max_wait_s": (1.0, 604_800.0),
    "sl_threshold_s": (1.0, 604_800.0),
}

R = TypeVar("R", bound=Base)


# --------------------------------------------------------------------------- errors


class AdminError(UserError):
    """A configuration change that cannot be made."""


class InvalidError(AdminError):
    """A value that breaks a rule (a range, a format, a reference to nothing)."""


class ConflictError(AdminError, errors.ConflictError):
    """A change that clashes with what is stored (a duplicate name, a thing in use)."""


class NotFoundError(AdminError, errors.NotFoundError):
    """No row with the id asked for."""


# --------------------------------------------------------------------------- value checks


def show(value: object) -> str:
    """A value as the person sent it (JSON spelling: null, true, 'text', 3)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # JSON 20 arrives as 20.0 in a float field
    return repr(value)


def check_name(field: str, value: object) -> str:
    """A key name (skills, queues, reasons, codes): a slug, safe in URLs and logs."""
    if not isinstance(value, str) or not _NAME.match(value):
        raise InvalidError(f"{field}: {show(value)} is not a valid name; expected {NAME_RULE}")
    return value


def check_text(field: str, value: object, max_len: int, *, required: bool = False) -> str:
    """One line of free text (a name, a label, a description), stripped: no control or
    invisible format character (:func:`callcenter.inputs.check_visible`); ``required``
    refuses an empty one."""
    if not isinstance(value, str):
        raise InvalidError(f"{field}: {show(value)} is not valid; expected text")
    text = value.strip()
    try:
        check_visible(text)
    except ValueError as e:
        raise InvalidError(f"{field}: {e}") from None
    if required and not text:
        raise InvalidError(f"{field}: must not be empty")
    if len(text) > max_len:
        raise InvalidError(
            f"{field}: {len(text)} characters is too long; expected at most {max_len}"
        )
    return text


def check_int(field: str, value: object, bounds: tuple[int, int]) -> int:
    lo, hi = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InvalidError(
            f"{field}: {show(value)} is not valid; expected an integer from {lo} to {hi}"
        )
    return value


def check_seconds(field: str, value: object, *, zero_ok: bool = False) -> float:
    """A duration in seconds: finite, > 0 (or >= 0 with ``zero_ok``), and within
    :data:`SECONDS` for the fields named there."""
    lo, hi = SECONDS.get(field, (0.0, math.inf))
    ok = (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (value >= 0 if zero_ok else value > 0)
        and lo <= value <= hi
    )
    if not ok:
        plain = ">= 0" if zero_ok else "> 0"
        want = f"from {lo:g} to {hi:g}" if field in SECONDS else plain
        raise InvalidError(
            f"{field}: {show(value)} is not valid; expected a number of seconds {want}"
        )
    return float(value)  # type: ignore[arg-type]


def check_bool(field: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidError(f"{field}: {show(value)} is not valid; expected true or false")
    return value


E = TypeVar("E", bound=StrEnum)


def check_choice(field: str, value: object, choices: type[E], what: str) -> E:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return choices(value)
    except ValueError:
        allowed = ", ".join(c.value for c in choices)
        raise InvalidError(
            f"{field}: {show(value)} is not {what}; expected one of: {allowed}"
        ) from None


def get_row(s: Session, model: type[R], row_id: int, what: str) -> R:
    """The row with primary key ``row_id`` or :class:`NotFoundError` (``no queue 7``)."""
    row = s.get(model, row_id)
    if row is None:
        raise NotFoundError(what, row_id)
    return row


def check_unique(
    s: Session,
    column: InstrumentedAttribute[str],
    value: str,
    current: Base | None,
    what: str,
) -> None:
    """Refuse a name another row of the table already has (409, naming it)."""
    model = column.class_
    other = s.scalar(select(model).where(column == value))
    if other is not None and other is not current:
        raise ConflictError(f"{what} {value!r} already exists")


def immutable(row: Base | None, field: str, old: object, new: object, why: str) -> None:
    if row is not None and new != old:
        raise ConflictError(f"{field}: cannot change from {show(old)} to {show(new)}; {why}")


def merge(row: Base | None, changes: BaseModel) -> dict[str, Any]:
    """The row as it would be after ``changes``, field by field: a new row (``row`` None)
    takes every field of ``changes``, defaults included; a stored row keeps its values
    but for the fields set in ``changes`` (a field set to None is None: its check says
    whether that is allowed)."""
    if row is None:
        return changes.model_dump()
    stored = {k: getattr(row, k) for k in type(changes).model_fields}
    return {**stored, **changes.model_dump(exclude_unset=True)}


def assign(row: Base, values: Mapping[str, Any]) -> None:
    for k, v in values.items():
        setattr(row, k, v)  # whole new values: JSON columns are not mutated in place


def name_list(values: Iterable[str]) -> str:
    return ", ".join(repr(v) for v in values)


def open_contacts(s: Session, queue: str) -> int:
    """How many contacts of ``queue`` are queued, ringing, active or in wrap-up."""
    return int(
        s.scalar(
            select(func.count())
            .select_from(ContactRow)
            .where(
                ContactRow.queue == queue,
                ContactRow.status.in_([st.value for st in OPEN_STATUSES]),
            )
        )
        or 0
    )


def known_skills(s: Session) -> set[str]:
    return set(s.scalars(select(Skill.name)))


__all__ = [
    "CAPACITY",
    "LEVELS",
    "MAX_NO_ANSWER",
    "NAME_RULE",
    "PAUSE_MINUTES",
    "PRIORITY",
    "SECONDS",
    "AdminError",
    "ConflictError",
    "InvalidError",
    "NotFoundError",
    "R",
    "assign",
    "check_bool",
    "check_choice",
    "check_int",
    "check_name",
    "check_seconds",
    "check_text",
    "check_unique",
    "get_row",
    "immutable",
    "known_skills",
    "merge",
    "name_list",
    "open_contacts",
    "show",
]
