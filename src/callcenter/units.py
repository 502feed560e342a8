"""Small parsers and formatters for human-written quantities (durations).

A duration is a non-negative number with an optional unit: ``s`` (seconds, the default),
``m`` (minutes), ``h`` (hours) or ``d`` (days).  Parts may be combined, largest first:

>>> parse_duration("900"), parse_duration("90s"), parse_duration("15m"), parse_duration("1h")
(900.0, 90.0, 900.0, 3600.0)
>>> parse_duration("1h30m"), parse_duration("1.5 h"), parse_duration("2d")
(5400.0, 5400.0, 172800.0)
"""

from __future__ import annotations

import datetime as dt
import math
import re

from callcenter.errors import UserError

SECONDS_PER_UNIT: dict[str, float] = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}

_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_PART = re.compile(rf"\s*({_NUMBER})\s*([smhd]?)\s*", re.IGNORECASE)
_UNIT_ORDER = "dhms"  # compound durations name their units largest first, each at most once


class DurationError(UserError):
    """Text that is not a duration."""


class TimeError(UserError):
    """Text that is not a point in time."""


TIME_HINT = (
    "an ISO 8601 time such as 2024-05-01T08:00:00Z (UTC unless an offset is given) or epoch seconds"
)


def parse_time(text: str, *, what: str = "time") -> float:
    """Epoch seconds of ``text``: an ISO 8601 date/time (UTC unless it gives an offset) or
    epoch seconds.  ``what`` names the input in the error (``"--from"``, ``"to"``).

    >>> parse_time("2024-05-01T08:00:00Z"), parse_time("2024-05-01T11:00:00+03:00")
    (1714550400.0, 1714550400.0)

    Raises :class:`TimeError` for anything else, including times outside years 1..9999
    (what a calendar date can show).
    """
    raw = text.strip()
    try:
        t = float(raw)
    except ValueError:
        try:
            when = dt.datetime.fromisoformat(raw)
        except ValueError:
            raise TimeError(f"{what} {text!r}: expected {TIME_HINT}") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        t = when.timestamp()
    try:
        dt.datetime.fromtimestamp(t, dt.UTC)
    except (ValueError, OverflowError, OSError):
        raise TimeError(f"{what} {text!r}: expected {TIME_HINT} (years 1 to 9999)") from None
    return t


def parse_interval(text: str, *, what: str = "interval") -> int:
    """Seconds of a report interval: a whole number of minutes that divides a day.

    >>> parse_interval("15m"), parse_interval("1h")
    (900, 3600)
    """
    seconds = parse_duration(text, what=what)
    if seconds <= 0 or seconds % 60 or 86_400 % seconds:
        raise DurationError(
            f"{what} must be a whole number of minutes that divides a day "
            f"(e.g. 15m, 30m, 60m), got {text!r}"
        )
    return int(seconds)


def parse_duration(text: str, *, what: str = "duration") -> float:
    """Seconds in ``text`` (``"900"``, ``"900s"``, ``"15m"``, ``"1h"``, ``"1h30m"``, ``"2d"``).

    A bare number is seconds.  ``what`` names the input in the error message (for example
    ``"--period"``).  Raises :class:`DurationError` for anything else, including negative
    numbers and a unit that appears twice or out of order.
    """
    raw = text
    text = text.strip()
    expected = "a duration like 900, 90s, 15m, 1h or 1h30m (units s, m, h, d; no unit = seconds)"
    if not text:
        raise DurationError(f"{what} must be {expected}, got an empty value")
    if text.startswith("-"):
        raise DurationError(f"{what} must not be negative, got {raw!r}")
    total = 0.0
    pos = 0
    last_rank = -1
    while pos < len(text):
        m = _PART.match(text, pos)
        if m is None or m.end() == pos:
            raise DurationError(f"{what} must be {expected}, got {raw!r}")
        number, unit = m.group(1), (m.group(2) or "s").lower()
        if not m.group(2) and m.end() < len(text):
            # A bare number is only allowed as the whole value or the last part ("1m30").
            raise DurationError(f"{what} must be {expected}, got {raw!r}")
        rank = _UNIT_ORDER.index(unit)
        if rank <= last_rank:
            raise DurationError(
                f"{what} must name each unit at most once, largest first (like 1h30m), got {raw!r}"
            )
        last_rank = rank
        total += float(number) * SECONDS_PER_UNIT[unit]
        pos = m.end()
    if not math.isfinite(total):
        raise DurationError(f"{what} is too large to be a duration, got {raw!r}")
    return total


def format_duration(seconds: float) -> str:
    """A short human form of ``seconds``: ``"20 s"``, ``"15m"``, ``"1h30m"``, ``"2d"``.

    Whole minutes, hours and days use compound units; anything else is shown in seconds.
    """
    if not math.isfinite(seconds):
        return str(seconds)
    if seconds < 60 or seconds != math.floor(seconds) or seconds % 60:
        return f"{seconds:g} s"
    rest = int(seconds)
    out = []
    for unit in "dhm":
        size = int(SECONDS_PER_UNIT[unit])
        q, rest = divmod(rest, size)
        if q:
            out.append(f"{q}{unit}")
    return "".join(out)
