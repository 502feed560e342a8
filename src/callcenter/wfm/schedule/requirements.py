"""The scheduler's requirements: the interval table that staffing writes, read and checked.

``read_requirements(path)`` reads ``interval_start``, ``interval_s``, ``required`` and an
optional ``queue`` from CSV or a JSON list of objects (other columns are ignored).  Every
problem is one :class:`~callcenter.wfm.shifts.ScheduleInputError` line naming the file,
the line, the bad value and what was expected.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from callcenter.units import format_duration
from callcenter.wfm.shifts import DAY_S, QUANTUM_S, ScheduleInputError


@dataclass(frozen=True, slots=True)
class Requirement:
    """One row of the interval table: agents to schedule in one interval of one queue."""

    queue: str
    interval_start: dt.datetime  # UTC
    interval_s: int
    required: int


def _rows(path: Path) -> Iterator[tuple[int | None, dict[str, Any]]]:
    """(line or index, row) from a CSV file or a JSON list of objects."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ScheduleInputError(path, "no such file") from None
    except (IsADirectoryError, UnicodeDecodeError) as e:
        raise ScheduleInputError(
            path, f"cannot read it as a text file ({type(e).__name__})"
        ) from None
    if path.suffix.lower() == ".json" or text.lstrip().startswith("["):
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as e:
            raise ScheduleInputError(path, f"invalid JSON: {e}") from None
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise ScheduleInputError(path, "expected a JSON list of objects (the interval table)")
        yield from ((None, r) for r in data)
        return
    reader = csv.DictReader(text.splitlines())
    missing = [
        c
        for c in ("interval_start", "interval_s", "required")
        if c not in (reader.fieldnames or [])
    ]
    if missing:
        raise ScheduleInputError(
            path,
            f"missing column(s) {', '.join(missing)}; expected the interval table "
            "(interval_start, interval_s, required[, queue])",
        )
    for row in reader:
        yield reader.line_num, row


def _parse_time(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError
    t = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


def _whole(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError
    x = float(value)
    if not math.isfinite(x) or not x.is_integer():
        raise ValueError
    return int(x)


def _requirement(path: Path, line: int | None, row: dict[str, Any]) -> Requirement:
    def bad(column: str, expected: str) -> ScheduleInputError:
        value = row.get(column)
        return ScheduleInputError(
            path, f"{column}: {value!r} is not valid; expected {expected}", line
        )

    for column in ("interval_start", "interval_s", "required"):
        if row.get(column) in (None, ""):
            raise ScheduleInputError(path, f"{column}: missing value", line)
    try:
        start = _parse_time(row["interval_start"])
    except ValueError:
        raise bad("interval_start", "an ISO 8601 time like 2026-03-02T08:00:00Z") from None
    try:
        interval_s = _whole(row["interval_s"])
    except ValueError:
        interval_s = -1
    if interval_s <= 0 or interval_s % QUANTUM_S or DAY_S % interval_s:
        raise bad("interval_s", "seconds that divide the day in 5-minute steps (900, 1800, 3600)")
    try:
        required = _whole(row["required"])
    except ValueError:
        required = -1
    if required < 0:
        raise bad("required", "a whole number of agents >= 0")
    since_midnight = start.hour * 3600 + start.minute * 60 + start.second
    if since_midnight % interval_s or start.microsecond:
        raise bad(
            "interval_start", f"a start on the {format_duration(interval_s)} grid from midnight UTC"
        )
    return Requirement(str(row.get("queue") or ""), start, interval_s, required)


def read_requirements(path: str | Path) -> list[Requirement]:
    """The interval table from CSV or JSON: one :class:`Requirement` per row.

    Every row must have the same ``interval_s``; a (queue, interval_start) pair may appear
    once.
    """
    p = Path(path)
    out: list[Requirement] = []
    seen: set[tuple[str, dt.datetime]] = set()
    for line, row in _rows(p):
        req = _requirement(p, line, row)
        if out and req.interval_s != out[0].interval_s:
            raise ScheduleInputError(
                p,
                f"interval_s: {req.interval_s} differs from the first row's {out[0].interval_s}; "
                "expected one interval length for the whole table",
                line,
            )
        key = (req.queue, req.interval_start)
        if key in seen:
            where = f" of queue {req.queue!r}" if req.queue else ""
            raise ScheduleInputError(
                p, f"interval {req.interval_start:%Y-%m-%dT%H:%M}Z{where} appears twice", line
            )
        seen.add(key)
        out.append(req)
    if not out:
        raise ScheduleInputError(
            p, "no requirement rows; expected the interval table with at least one row"
        )
    return out
