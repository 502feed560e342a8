"""Business hours: checking them when written, asking whether a queue is open now, and
their administration (create, change, remove one no queue uses).

A set of business hours is a time zone (IANA name, checked with :mod:`zoneinfo`), a
weekly plan ``{"mon": [["08:00", "12:00"], ["13:00", "18:00"]], ..., "sun": []}`` in that
zone's wall-clock time, and holidays (``YYYY-MM-DD`` dates in that zone) when it is
closed all day.  Intervals are half-open ``[start, end)``; ``"24:00"`` may end a day;
intervals of one day must not overlap (touching is fine).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.errors import UserError
from callcenter.live.admin.checks import (
    ConflictError,
    assign,
    check_text,
    check_unique,
    get_row,
    merge,
    name_list,
)
from callcenter.live.admin.schemas import HoursIn, HoursOut, HoursPatch
from callcenter.storage.tables import BusinessHours, QueueRow

DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME: Final = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")
_DATE: Final = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class HoursError(UserError):
    """Opening hours that cannot be used."""


def _show(value: object) -> str:
    return "null" if value is None else repr(value)


def check_timezone(value: object) -> str:
    """An IANA time zone name known to this system's zone database."""
    ok = isinstance(value, str) and bool(value) and not value.startswith(("/", "."))
    if ok:
        try:
            ZoneInfo(str(value))
        except (ZoneInfoNotFoundError, ValueError):
            ok = False
    if not ok:
        raise HoursError(
            f"timezone: {_show(value)} is not a known IANA time zone "
            "(e.g. 'Europe/Berlin', 'America/New_York', 'UTC')"
        )
    return str(value)


def _time(where: str, value: object) -> str:
    if not isinstance(value, str) or not _TIME.match(value):
        raise HoursError(
            f"{where}: {_show(value)} is not a time; expected HH:MM from 00:00 to 24:00"
        )
    return value


def check_weekly(value: object) -> dict[str, list[list[str]]]:
    """Every day's intervals, sorted; a day left out is closed.  Raises :class:`HoursError`."""
    if not isinstance(value, Mapping):
        raise HoursError(
            f'weekly: {_show(value)} is not valid; expected {{"mon": [["08:00", "18:00"]], ...}}'
        )
    out: dict[str, list[list[str]]] = {d: [] for d in DAYS}
    for day, intervals in value.items():
        if day not in DAYS:
            raise HoursError(f"weekly: unknown day {_show(day)} (expected {', '.join(DAYS)})")
        if not isinstance(intervals, list):
            raise HoursError(
                f"weekly.{day}: {_show(intervals)} is not valid; expected a list of "
                '["HH:MM", "HH:MM"] intervals'
            )
        spans: list[list[str]] = []
        for i, iv in enumerate(intervals):
            where = f"weekly.{day}[{i}]"
            if not isinstance(iv, list | tuple) or len(iv) != 2:
                raise HoursError(f'{where}: {_show(iv)} is not valid; expected ["HH:MM", "HH:MM"]')
            start, end = _time(where, iv[0]), _time(where, iv[1])
            if start == "24:00" or start >= end:
                raise HoursError(f"{where}: start {start} is not before end {end}")
            spans.append([start, end])
        spans.sort()
        for a, b in itertools.pairwise(spans):
            if b[0] < a[1]:
                raise HoursError(f"weekly.{day}: {a[0]}-{a[1]} overlaps {b[0]}-{b[1]}")
        out[day] = spans
    return out


def check_holidays(value: object) -> list[str]:
    """Closed dates ``YYYY-MM-DD``, sorted, each once."""
    if not isinstance(value, list):
        raise HoursError(f"holidays: {_show(value)} is not valid; expected a list of YYYY-MM-DD")
    out: set[str] = set()
    for i, d in enumerate(value):
        ok = isinstance(d, str) and bool(_DATE.match(d))
        if ok:
            try:
                dt.date.fromisoformat(str(d))
            except ValueError:
                ok = False
        if not ok:
            raise HoursError(f"holidays[{i}]: {_show(d)} is not a date; expected YYYY-MM-DD")
        out.add(str(d))
    return sorted(out)


def is_open(timezone: str, weekly: Mapping[str, Any], holidays: Iterable[str], t: float) -> bool:
    """Whether hours stored by :func:`check_weekly` etc. are open at UNIX time ``t``."""
    local = dt.datetime.fromtimestamp(t, ZoneInfo(timezone))
    if local.date().isoformat() in set(holidays):
        return False
    hm = local.strftime("%H:%M")
    return any(start <= hm < end for start, end in weekly.get(DAYS[local.weekday()], ()))


def describe(timezone: str, weekly: Mapping[str, Any]) -> str:
    """One line for people: ``mon 08:00-18:00; tue 08:00-12:00, 13:00-18:00 (Europe/Berlin)``."""
    days = [
        f"{d} " + ", ".join(f"{a}-{b}" for a, b in weekly.get(d, ())) for d in DAYS if weekly.get(d)
    ]
    return ("; ".join(days) or "closed every day") + f" ({timezone})"


# --------------------------------------------------------------------------- administration


def hours_view(row: BusinessHours, now: float) -> HoursOut:
    """The stored hours, whether they are open at ``now`` and a one-line summary."""
    return HoursOut(
        id=row.id,
        name=row.name,
        timezone=row.timezone,
        weekly=row.weekly,
        holidays=row.holidays,
        open_now=is_open(row.timezone, row.weekly, row.holidays, now),
        summary=describe(row.timezone, row.weekly),
    )


def list_hours(s: Session, *, now: float) -> list[HoursOut]:
    rows = s.scalars(select(BusinessHours).order_by(BusinessHours.name))
    return [hours_view(r, now) for r in rows]


def get_hours(s: Session, hours_id: int, *, now: float) -> HoursOut:
    return hours_view(get_row(s, BusinessHours, hours_id, "business hours"), now)


def create_hours(s: Session, new: HoursIn, *, now: float) -> HoursOut:
    return hours_view(_save(s, None, new), now)


def update_hours(s: Session, hours_id: int, patch: HoursPatch, *, now: float) -> HoursOut:
    row = get_row(s, BusinessHours, hours_id, "business hours")
    return hours_view(_save(s, row, patch), now)


def _save(s: Session, row: BusinessHours | None, changes: HoursIn | HoursPatch) -> BusinessHours:
    v = merge(row, changes)
    name = check_text("name", v["name"] if v["name"] is not None else "", 64, required=True)
    check_unique(s, BusinessHours.name, name, row, "business hours")
    values = {
        "name": name,
        "timezone": check_timezone(v["timezone"]),
        "weekly": check_weekly(v["weekly"]),
        "holidays": check_holidays(v["holidays"]),
    }
    row = row or BusinessHours()
    assign(row, values)
    s.add(row)
    s.flush()
    return row


def hours_users(s: Session, hours_id: int) -> list[str]:
    """The names of the queues open during these hours."""
    return list(
        s.scalars(
            select(QueueRow.name)
            .where(QueueRow.business_hours_id == hours_id)
            .order_by(QueueRow.name)
        )
    )


def delete_hours(s: Session, hours_id: int) -> None:
    """Remove hours no queue uses."""
    row = get_row(s, BusinessHours, hours_id, "business hours")
    queues = hours_users(s, hours_id)
    if queues:
        raise ConflictError(
            f"business hours {row.name!r} are used by queue{'s' if len(queues) > 1 else ''} "
            f"{name_list(queues)}; give them other hours first"
        )
    s.delete(row)
    s.flush()


__all__ = [
    "DAYS",
    "HoursError",
    "check_holidays",
    "check_timezone",
    "check_weekly",
    "create_hours",
    "delete_hours",
    "describe",
    "get_hours",
    "hours_users",
    "hours_view",
    "is_open",
    "list_hours",
    "update_hours",
]
