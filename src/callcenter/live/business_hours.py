"""Opening hours of a queue: is it open at a time, and how to say when it is.

A :class:`~callcenter.storage.tables.BusinessHours` row holds weekly ranges in its own time
zone (``weekly``: ``mon`` .. ``sun`` -> ``[["08:00", "18:00"], ...]``) and closed dates
(``holidays``: ``["2026-12-25", ...]``).  The rules:

- ranges are local wall-clock times in ``timezone`` (an IANA name, read with
  :mod:`zoneinfo`), so ``08:00-18:00`` stays 08:00-18:00 across daylight-saving changes;
- a range includes its start and excludes its end; ``24:00`` is allowed as an end;
- a range whose end is not after its start runs past midnight (``22:00-06:00``): it
  belongs to the day it starts on;
- a holiday closes every range that *starts* on that local date (the early-morning tail
  of an overnight range from the day before stays open);
- no row (``None``) means always open: a queue without business hours takes chats at
  any time.

The chat API refuses a chat while the queue is closed and names the hours
(:func:`describe`) and the next opening (:func:`next_opening`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_LABEL: Final = {d: d.title() for d in DAYS}
_MAX_DAYS_AHEAD: Final = 400  # how far next_opening looks (a year of holidays and then some)


class HoursLike(Protocol):
    """What the functions read from a business-hours row (the ORM row fits)."""

    @property
    def timezone(self) -> str: ...

    @property
    def weekly(self) -> Mapping[str, Any]: ...

    @property
    def holidays(self) -> Sequence[Any]: ...


class HoursError(ValueError):
    """A business-hours value that cannot be read (bad zone, day name or time)."""


@dataclass(frozen=True, slots=True)
class Range:
    """One opening range of a weekday, in minutes after local midnight."""

    start: int  # 0 .. 1439
    end: int  # 1 .. 1440; <= start: the range runs past midnight

    @property
    def overnight(self) -> bool:
        return self.end <= self.start


def _minutes(text: object, *, day: str, allow_24: bool) -> int:
    if not isinstance(text, str) or len(text) != 5 or text[2] != ":":
        raise HoursError(f"{day}: time {text!r} is not valid; expected HH:MM like '08:30'")
    try:
        h, m = int(text[:2]), int(text[3:])
    except ValueError:
        raise HoursError(
            f"{day}: time {text!r} is not valid; expected HH:MM like '08:30'"
        ) from None
    if (h, m) == (24, 0) and allow_24:
        return 1440
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise HoursError(f"{day}: time {text!r} is not valid; expected 00:00 to 23:59")
    return h * 60 + m


def parse_weekly(weekly: Mapping[str, Any]) -> dict[str, tuple[Range, ...]]:
    """``weekly`` as ranges per day name (days not listed are closed).

    Raises :class:`HoursError` naming the day and value for anything malformed, so the
    administration API can refuse it with that message.
    """
    out: dict[str, tuple[Range, ...]] = {d: () for d in DAYS}
    for day, ranges in weekly.items():
        if day not in out:
            raise HoursError(f"unknown day {day!r}; expected one of: {', '.join(DAYS)}")
        if not isinstance(ranges, list):
            raise HoursError(f"{day}: expected a list of [start, end] pairs, got {ranges!r}")
        parsed = []
        for pair in ranges:
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                raise HoursError(f"{day}: range {pair!r} is not valid; expected [start, end]")
            start = _minutes(pair[0], day=day, allow_24=False)
            end = _minutes(pair[1], day=day, allow_24=True)
            if start == end:
                raise HoursError(f"{day}: range {pair!r} is empty; start and end are equal")
            parsed.append(Range(start, end))
        out[day] = tuple(sorted(parsed, key=lambda r: r.start))
    return out


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise HoursError(
            f"unknown time zone {name!r}; expected an IANA name like 'Europe/Berlin'"
        ) from None


def _holidays(values: Sequence[Any]) -> frozenset[dt.date]:
    days = set()
    for v in values:
        try:
            days.add(dt.date.fromisoformat(str(v)))
        except ValueError:
            raise HoursError(f"holiday {v!r} is not a date; expected YYYY-MM-DD") from None
    return frozenset(days)


def _windows(
    hours: HoursLike, first: dt.date, last: dt.date
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """Opening windows (local, aware) of ranges starting on ``first`` .. ``last``."""
    tz = _zone(hours.timezone)
    weekly = parse_weekly(hours.weekly)
    closed = _holidays(hours.holidays)
    day = first
    while day <= last:
        if day not in closed:
            midnight = dt.datetime(day.year, day.month, day.day, tzinfo=tz)
            for r in weekly[DAYS[day.weekday()]]:
                end = r.end + (1440 if r.overnight else 0)
                # wall-clock arithmetic: add minutes to the naive local time, then attach tz
                start_dt = midnight + dt.timedelta(minutes=r.start)
                end_dt = midnight + dt.timedelta(minutes=end)
                yield start_dt, end_dt
        day += dt.timedelta(days=1)


def is_open(hours: HoursLike | None, t: float) -> bool:
    """Whether ``hours`` is open at UNIX time ``t`` (None: always open)."""
    if hours is None:
        return True
    tz = _zone(hours.timezone)
    local = dt.datetime.fromtimestamp(t, tz)
    wall = local.replace(tzinfo=None)
    today = local.date()
    for start, end in _windows(hours, today - dt.timedelta(days=1), today):
        if start.replace(tzinfo=None) <= wall < end.replace(tzinfo=None):
            return True
    return False


def next_opening(hours: HoursLike | None, t: float) -> float | None:
    """The UNIX time the hours next open at or after ``t`` (``t`` itself if open now);
    None if they never open within about a year (no ranges, or all holidays)."""
    if hours is None or is_open(hours, t):
        return t
    tz = _zone(hours.timezone)
    today = dt.datetime.fromtimestamp(t, tz).date()
    last = today + dt.timedelta(days=_MAX_DAYS_AHEAD)
    for start, _end in _windows(hours, today, last):
        # a wall-clock start that falls into a DST gap is moved forward by fromtimestamp
        ts = start.timestamp()
        if ts >= t:
            return ts
    return None


def _fmt(m: int) -> str:
    return f"{m // 60:02d}:{m % 60:02d}"


def describe(hours: HoursLike | None) -> str:
    """The hours in one line, e.g. ``Mon-Fri 08:00-18:00, Sat 10:00-14:00 (Europe/Berlin);
    closed on holidays``; consecutive days with the same ranges are grouped."""
    if hours is None:
        return "always open"
    weekly = parse_weekly(hours.weekly)
    groups: list[tuple[list[str], tuple[Range, ...]]] = []
    for day in DAYS:
        ranges = weekly[day]
        if groups and groups[-1][1] == ranges:
            groups[-1][0].append(day)
        else:
            groups.append(([day], ranges))
    parts = []
    for days, ranges in groups:
        if not ranges:
            continue
        label = _LABEL[days[0]] if len(days) == 1 else f"{_LABEL[days[0]]}-{_LABEL[days[-1]]}"
        spans = " and ".join(f"{_fmt(r.start)}-{_fmt(r.end)}" for r in ranges)
        parts.append(f"{label} {spans}")
    text = ", ".join(parts) if parts else "closed every day"
    text += f" ({hours.timezone})"
    if hours.holidays:
        text += "; closed on holidays"
    return text


__all__ = [
    "DAYS",
    "HoursError",
    "HoursLike",
    "Range",
    "describe",
    "is_open",
    "next_opening",
    "parse_weekly",
]
