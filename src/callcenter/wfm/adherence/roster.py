"""Reading a roster (who is scheduled when, with which breaks) for adherence.

The scheduler (``callcenter schedule``) writes the roster; people write it by hand or
export it from another WFM tool.  Two shapes are accepted:

* **CSV** with the columns ``agent``, ``date`` (``YYYY-MM-DD``), ``shift_start``,
  ``shift_end`` and optionally ``break_start``, ``break_end``: one row per break, the
  rows of one shift repeating its shift columns (a shift without breaks is one row with
  the break cells empty).  Other columns are ignored.
* **JSON** (a ``.json`` file): a list of objects, or an object holding the list under
  ``shifts`` or ``roster``.  Each object has ``agent``, ``date``, ``shift_start``,
  ``shift_end`` and optionally ``breaks``: a list of ``{"start": .., "end": ..}`` (or
  ``break_start``/``break_end`` keys, or ``[start, end]`` pairs); flat ``break_start``/
  ``break_end`` keys as in the CSV are accepted too.

Times are ISO 8601 date-times (``2026-03-02T08:00:00Z``; an offset is converted to UTC,
no offset means UTC) or a time of day (``08:00``, ``24:00``) on the row's ``date``.
Every problem is one :class:`RosterError` line naming the file, the row (CSV line or
JSON entry), the bad value and what is expected.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, Final

import orjson

from callcenter.errors import InputFileError

REQUIRED_COLUMNS: Final = ("agent", "date", "shift_start", "shift_end")
BREAK_COLUMNS: Final = ("break_start", "break_end")

_DATE_RE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME_OF_DAY_RE: Final = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?$")
_DATETIME_HINT: Final = (
    "an ISO 8601 date-time like 2026-03-02T08:00:00Z or a time of day like 08:00"
)


class RosterError(InputFileError):
    """A roster that cannot be used: ``<file>[:<line>]: <problem>``."""


Where = int | str
"""Where a roster row is: its CSV line number, or ``"entry 3"`` in a JSON list."""


def _err(path: Path, where: Where, problem: str) -> RosterError:
    if isinstance(where, int):
        return RosterError(path, problem, line=where)
    return RosterError(path, f"{where}: {problem}" if where else problem)


def _where_text(path: Path, where: Where) -> str:
    return f"{path.name}:{where}" if isinstance(where, int) else f"{where}"


@dataclass(frozen=True, slots=True)
class Shift:
    """One scheduled shift of one agent; times are epoch seconds (UTC).

    ``breaks`` are ``(start, end)`` pairs inside ``[start, end)``, sorted, not
    overlapping.  ``where`` names the roster row, for messages.
    """

    agent: str
    date: dt.date
    start: float
    end: float
    breaks: tuple[tuple[float, float], ...] = ()
    where: str = ""  # the roster row, for messages: "roster.csv:5" or "entry 3"

    @property
    def length_s(self) -> float:
        return self.end - self.start

    @property
    def break_s(self) -> float:
        return sum(b - a for a, b in self.breaks)


@dataclass(frozen=True, slots=True)
class Roster:
    """The shifts of a roster, sorted by (agent, start)."""

    shifts: tuple[Shift, ...]
    name: str = "roster"

    @property
    def agents(self) -> tuple[str, ...]:
        return tuple(sorted({s.agent for s in self.shifts}))


# --------------------------------------------------------------------------------------
# values


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_date(value: object, where: Where, path: Path) -> dt.date:
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and _DATE_RE.match(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise _err(path, where, f"date {value!r} is not a date; expected YYYY-MM-DD")


def _parse_time(value: object, column: str, day: dt.date, where: Where, path: Path) -> float:
    """Epoch seconds of an ISO date-time, or of a time of day on ``day``."""
    text = value.strip() if isinstance(value, str) else None
    if text:
        m = _TIME_OF_DAY_RE.match(text)
        if m is not None:
            h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
            frac = float(m.group(4) or 0.0)
            if (h < 24 and mi < 60 and s < 60) or (h == 24 and mi == s == 0 and not frac):
                midnight = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp()
                return midnight + h * 3600 + mi * 60 + s + frac
        elif not _DATE_RE.match(text):  # a bare date has no time of day: refused
            try:
                stamp = dt.datetime.fromisoformat(text.replace("z", "Z"))
            except ValueError:
                pass
            else:
                if stamp.tzinfo is None:
                    stamp = stamp.replace(tzinfo=dt.UTC)
                return stamp.timestamp()
    raise _err(path, where, f"{column} {value!r} is not a date-time; expected {_DATETIME_HINT}")


# --------------------------------------------------------------------------------------
# building the roster from rows

_Item = tuple[Where, Mapping[str, Any], list[tuple[object, object]]]
"""A roster row: where it is, its values, and its breaks as (start, end) values."""


@dataclass(slots=True)
class _Pending:
    agent: str
    date: dt.date
    start: float
    end: float
    where: Where
    breaks: list[tuple[float, float, Where]]


def _shift_key(
    row: Mapping[str, Any], where: Where, path: Path
) -> tuple[str, dt.date, float, float]:
    agent = row.get("agent")
    if not isinstance(agent, str) or not agent.strip():
        raise _err(path, where, f"agent {agent!r} is empty; expected an agent name")
    day = _parse_date(row.get("date"), where, path)
    start = _parse_time(row.get("shift_start"), "shift_start", day, where, path)
    end = _parse_time(row.get("shift_end"), "shift_end", day, where, path)
    if end <= start:
        raise _err(
            path,
            where,
            f"shift_end {_iso(end)} is not after shift_start {_iso(start)}; "
            "expected a shift that ends after it starts",
        )
    return agent.strip(), day, start, end


def _add_break(pending: _Pending, start_v: object, end_v: object, where: Where, path: Path) -> None:
    blank_start = start_v is None or (isinstance(start_v, str) and not start_v.strip())
    blank_end = end_v is None or (isinstance(end_v, str) and not end_v.strip())
    if blank_start and blank_end:
        return
    if blank_start or blank_end:
        missing = "break_start" if blank_start else "break_end"
        raise _err(path, where, f"{missing} is empty; expected both break_start and break_end")
    a = _parse_time(start_v, "break_start", pending.date, where, path)
    b = _parse_time(end_v, "break_end", pending.date, where, path)
    if b <= a:
        raise _err(
            path,
            where,
            f"break_end {_iso(b)} is not after break_start {_iso(a)}; "
            "expected a break that ends after it starts",
        )
    if a < pending.start or b > pending.end:
        raise _err(
            path,
            where,
            f"break {_iso(a)}-{_iso(b)} is not inside the shift "
            f"{_iso(pending.start)}-{_iso(pending.end)}; expected breaks within their shift",
        )
    pending.breaks.append((a, b, where))


def _finish(pending: _Pending, path: Path) -> Shift:
    breaks = sorted(pending.breaks, key=lambda x: (x[0], x[1]))
    unique: list[tuple[float, float]] = []
    for a, b, where in breaks:
        if unique and unique[-1] == (a, b):
            continue  # the same break given twice (CSV rows repeating it)
        if unique and a < unique[-1][1]:
            prev = unique[-1]
            raise _err(
                path,
                where,
                f"break {_iso(a)}-{_iso(b)} overlaps break {_iso(prev[0])}-"
                f"{_iso(prev[1])} of the same shift; expected breaks that do not overlap",
            )
        unique.append((a, b))
    return Shift(
        agent=pending.agent,
        date=pending.date,
        start=pending.start,
        end=pending.end,
        breaks=tuple(unique),
        where=_where_text(path, pending.where),
    )


def _build(
    items: Iterable[_Item],
    path: Path,
    name: str,
) -> Roster:
    """Shifts from ``(where, row, breaks)`` items: rows of one shift are merged."""
    pending: dict[tuple[str, dt.date, float, float], _Pending] = {}
    for where, row, breaks in items:
        key = _shift_key(row, where, path)
        p = pending.get(key)
        if p is None:
            p = pending[key] = _Pending(*key, where=where, breaks=[])
        for start_v, end_v in breaks:
            _add_break(p, start_v, end_v, where, path)
    if not pending:
        raise RosterError(
            path,
            "the roster has no shifts; expected at least one row with "
            + ", ".join(REQUIRED_COLUMNS),
        )
    shifts = sorted((_finish(p, path) for p in pending.values()), key=lambda s: (s.agent, s.start))
    for prev, cur in pairwise(shifts):
        if prev.agent == cur.agent and cur.start < prev.end:
            raise RosterError(
                path,
                f"agent {cur.agent!r} has overlapping shifts {_iso(prev.start)}-{_iso(prev.end)}"
                f" ({prev.where}) and {_iso(cur.start)}-{_iso(cur.end)} ({cur.where}); "
                "expected one shift at a time per agent",
            )
    return Roster(shifts=tuple(shifts), name=name)


# --------------------------------------------------------------------------------------
# files


def _read_csv(path: Path, text: str) -> Roster:
    reader = csv.DictReader(text.splitlines())
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    if not header:
        raise RosterError(path, "the roster has no header row; expected " + _expected_columns())
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        names = ", ".join(repr(c) for c in missing)
        raise RosterError(
            path, f"missing column(s) {names}; expected columns {_expected_columns()}"
        )
    has_breaks = [c in header for c in BREAK_COLUMNS]
    if any(has_breaks) and not all(has_breaks):
        absent = BREAK_COLUMNS[has_breaks.index(False)]
        raise RosterError(path, f"missing column {absent!r}; break_start and break_end go together")
    reader.fieldnames = header

    def items() -> Iterable[_Item]:
        for row in reader:
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue  # a blank line
            where = reader.line_num
            breaks = [(row.get("break_start"), row.get("break_end"))] if all(has_breaks) else []
            breaks += _interval_list(row.get("breaks"), where, path)
            yield where, row, breaks

    return _build(items(), path, path.name)


def _interval_list(value: object, where: Where, path: Path) -> list[tuple[object, object]]:
    """A CSV ``breaks`` cell: ISO 8601 intervals ``start/end`` separated by ``;``."""
    if not isinstance(value, str) or not value.strip():
        return []
    out: list[tuple[object, object]] = []
    for part in value.split(";"):
        ends = part.strip().split("/")
        if len(ends) != 2 or not all(e.strip() for e in ends):
            raise _err(
                path,
                where,
                f"breaks {value!r} is not a list of breaks; expected start/end intervals "
                "separated by ';' like 10:00/10:15;12:00/12:30",
            )
        out.append((ends[0], ends[1]))
    return out


def _json_breaks(value: object, where: Where, path: Path) -> list[tuple[object, object]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _err(path, where, f"breaks {value!r} is not a list; expected a list of breaks")
    out: list[tuple[object, object]] = []
    for i, b in enumerate(value):
        if isinstance(b, Mapping):
            start = b.get("start", b.get("break_start"))
            end = b.get("end", b.get("break_end"))
        elif isinstance(b, list) and len(b) == 2:
            start, end = b
        else:
            raise _err(
                path,
                where,
                f"breaks[{i}] {b!r} is not a break; expected "
                '{"start": ..., "end": ...} or [start, end]',
            )
        out.append((start, end))
    return out


def _read_json(path: Path, data: bytes) -> Roster:
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise RosterError(path, f"not valid JSON ({e}); expected a list of shifts") from None
    if isinstance(doc, Mapping):
        doc = doc.get("shifts", doc.get("roster"))
    if not isinstance(doc, list):
        raise RosterError(
            path, 'expected a JSON list of shifts (or an object with a "shifts" list)'
        )

    return _build(_json_items(doc, path), path, path.name)


def _json_items(entries: Iterable[object], path: Path) -> Iterable[_Item]:
    for i, entry in enumerate(entries, start=1):
        where = f"entry {i}"
        if not isinstance(entry, Mapping):
            raise _err(path, where, f"{entry!r} is not an object; expected a shift")
        missing = [c for c in REQUIRED_COLUMNS if c not in entry]
        if missing:
            names = ", ".join(repr(c) for c in missing)
            raise _err(path, where, f"missing key(s) {names}; expected {_expected_columns()}")
        breaks = _json_breaks(entry.get("breaks"), where, path)
        if "break_start" in entry or "break_end" in entry:
            breaks.append((entry.get("break_start"), entry.get("break_end")))
        yield where, entry, breaks


def _expected_columns() -> str:
    return ", ".join(REQUIRED_COLUMNS) + " (and optional break_start, break_end)"


def load_roster(path: str | os.PathLike[str]) -> Roster:
    """Read a roster file: JSON if it ends ``.json``, else CSV (see the module doc).

    Raises :class:`RosterError` naming the file, the row and the problem.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise RosterError(p, "no such file") from None
    except IsADirectoryError:
        raise RosterError(p, "is a directory; expected a roster CSV or JSON file") from None
    if p.suffix.lower() == ".json":
        return _read_json(p, data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RosterError(p, "is not UTF-8 text; expected a roster CSV file") from None
    if not text.strip():
        raise RosterError(p, "the file is empty; expected a header row " + _expected_columns())
    return _read_csv(p, text)


def roster_from_records(records: Iterable[Mapping[str, Any]], *, name: str = "roster") -> Roster:
    """A roster from in-memory rows shaped like the JSON form (for tests and other tools)."""
    path = Path(name)
    return _build(_json_items(records, path), path, name)


__all__ = [
    "BREAK_COLUMNS",
    "REQUIRED_COLUMNS",
    "Roster",
    "RosterError",
    "Shift",
    "load_roster",
    "roster_from_records",
]
