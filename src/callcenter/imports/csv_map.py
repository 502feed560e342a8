"""Any CDR export (CSV) as events, through a YAML mapping that names its columns.

Each CDR row is one queue visit of one call: ``arrive`` (the first row of a call id only),
``enqueue``, then ``connect`` + ``complete`` (answered), ``abandon`` or ``timeout``. The
mapping (see docs/import-freeswitch-csv.md and examples/cdr-mapping.yaml) says which column
holds what, how times are written, and which disposition values mean which outcome.

Dirty rows are counted with their line number (:meth:`ImportStats.bad_line`); a row whose
disposition the mapping does not list is kept raw (:meth:`ImportStats.unmapped`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from callcenter.errors import InputFileError
from callcenter.events import Event, EventType
from callcenter.imports.common import ImportStats, sort_events

SOURCE = "import:csv"
Column = str | int  # a header name, or a 1-based column number (files without a header)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CsvOptions(_Strict):
    delimiter: str = ","
    encoding: str = "utf-8"
    header: bool = True  # the first row names the columns
    skip_rows: int = Field(0, ge=0)  # lines before the header (report titles ...)

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, v: str) -> str:
        if v == "\\t":
            v = "\t"
        if len(v) != 1:
            raise ValueError(f"must be one character, got {v!r}")
        return v


class Columns(_Strict):
    call_id: Column
    arrival: Column
    caller: Column | None = None
    queue: Column | None = None
    agent: Column | None = None
    answer: Column | None = None
    end: Column | None = None
    wait: Column | None = None  # arrival -> answer, or arrival -> leaving the queue
    talk: Column | None = None  # answer -> end
    disposition: Column | None = None
    hangup_side: Column | None = None

    @model_validator(mode="after")
    def _enough(self) -> Columns:
        if self.answer is None and self.wait is None:
            raise ValueError("name an 'answer' time column or a 'wait' duration column")
        if self.end is None and self.talk is None:
            raise ValueError("name an 'end' time column or a 'talk' duration column")
        return self


class TimeOptions(_Strict):
    # iso, epoch (seconds), epoch_ms, or a strftime pattern such as "%d/%m/%Y %H:%M:%S"
    format: str = "iso"
    zone: str = "UTC"  # zone of times written without an offset

    @field_validator("zone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {v!r} (use an IANA name like Europe/Paris)"
            ) from None
        return v

    @field_validator("format")
    @classmethod
    def _format(cls, v: str) -> str:
        if v not in ("iso", "epoch", "epoch_ms") and "%" not in v:
            raise ValueError(f"must be iso, epoch, epoch_ms or a strftime pattern, got {v!r}")
        return v


class Outcomes(_Strict):
    answered: list[str] = Field(default_factory=lambda: ["answered"])
    abandoned: list[str] = Field(default_factory=lambda: ["abandoned"])
    timeout: list[str] = Field(default_factory=list)
    ignore: list[str] = Field(default_factory=list)  # rows to skip (outbound, internal ...)


class HangupSides(_Strict):
    agent: list[str] = Field(default_factory=lambda: ["agent"])
    caller: list[str] = Field(default_factory=lambda: ["caller"])
    default: Literal["agent", "caller"] = "caller"


class CsvMapping(_Strict):
    csv: CsvOptions = CsvOptions()
    columns: Columns
    time: TimeOptions = TimeOptions()
    duration_unit: Literal["s", "ms"] = "s"  # of wait / talk (h:mm:ss is always understood)
    default_queue: str | None = None  # queue of every row when there is no queue column
    outcomes: Outcomes = Outcomes()
    hangup_side: HangupSides = HangupSides()

    @model_validator(mode="after")
    def _queue(self) -> CsvMapping:
        if self.columns.queue is None and self.default_queue is None:
            raise ValueError("name a 'columns.queue' column or give 'default_queue'")
        return self


def _loc(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc if not str(p).startswith(("function-", "union[")))


def load_mapping(path: str | Path) -> CsvMapping:
    """Read and validate a mapping YAML; raises :class:`InputFileError` (one line)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(p, "no such file") from None
    except (IsADirectoryError, UnicodeDecodeError) as e:
        raise InputFileError(p, f"cannot read it as a YAML file ({e.__class__.__name__})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or "invalid YAML"
        raise InputFileError(
            p, f"invalid YAML: {problem}", mark.line + 1 if mark is not None else None
        ) from None
    if not isinstance(data, dict):
        raise InputFileError(p, "expected a mapping with the keys columns, time, outcomes ...")
    try:
        return CsvMapping.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        where = _loc(tuple(err["loc"])) or "mapping"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (see docs/import-freeswitch-csv.md)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        elif err["type"] not in ("value_error",) and "input" in err:
            msg = f"{msg} (got {err['input']!r})"
        more = f" (and {e.error_count() - 1} more problems)" if e.error_count() > 1 else ""
        raise InputFileError(p, f"{where}: {msg}{more}") from None


class RowError(ValueError):
    """A CDR row that cannot be used; the message says which column and why."""


_HMS = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")


def parse_duration_cell(text: str, unit: str, name: str) -> float:
    """Seconds in a duration cell: a number (in ``unit``) or ``[h:]mm:ss``."""
    m = _HMS.match(text)
    if m is not None:
        h, mi, s = m.groups()
        return int(h or 0) * 3600 + int(mi) * 60 + float(s)
    try:
        value = float(text)
    except ValueError:
        raise RowError(f"{name} {text!r} is not a duration") from None
    if value != value or value < 0 or value == float("inf"):
        raise RowError(f"{name} {text!r} is not a duration >= 0")
    return value / 1000 if unit == "ms" else value


def parse_time_cell(text: str, options: TimeOptions, name: str) -> float:
    """Epoch seconds (UTC) of a time cell written as ``options`` says."""
    fmt = options.format
    try:
        if fmt in ("epoch", "epoch_ms"):
            value = float(text)
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError
            return value / 1000 if fmt == "epoch_ms" else value
        if fmt == "iso":
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        else:
            dt = datetime.strptime(text, fmt)
    except ValueError:
        raise RowError(f"{name} {text!r} is not a time in the format {fmt!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=ZoneInfo(options.zone))
    return dt.astimezone(UTC).timestamp()


class _Row:
    """Cells of one CSV row by mapping key."""

    def __init__(self, cells: list[str], index: dict[str, int]) -> None:
        self.cells = cells
        self.index = index

    def get(self, key: str) -> str | None:
        i = self.index.get(key)
        if i is None or i >= len(self.cells):
            return None
        value = self.cells[i].strip()
        return value or None


def _resolve_columns(mapping: CsvMapping, header: list[str] | None, path: Path) -> dict[str, int]:
    index: dict[str, int] = {}
    names = [h.strip() for h in header] if header is not None else None
    for key, ref in mapping.columns.model_dump().items():
        if ref is None:
            continue
        if isinstance(ref, int):
            if ref < 1:
                raise InputFileError(path, f"columns.{key}: column numbers start at 1, got {ref}")
            index[key] = ref - 1
        elif names is None:
            raise InputFileError(
                path, f"columns.{key}: {ref!r} is a column name but the mapping says header: false"
            )
        elif ref.strip() in names:
            index[key] = names.index(ref.strip())
        else:
            shown = ", ".join(names[:12]) + (", …" if len(names) > 12 else "")
            raise InputFileError(
                path,
                f"column {ref!r} (columns.{key} in the mapping) is not in the header ({shown})",
            )
    return index


def _outcome(mapping: CsvMapping, row: _Row) -> str | None:
    """answered / abandoned / timeout / ignore, or None if the mapping lists no such value."""
    raw = row.get("disposition")
    if mapping.columns.disposition is None:
        return "answered" if row.get("answer") or row.get("agent") else "abandoned"
    if raw is None:
        return None
    folded = raw.casefold()
    for name, values in mapping.outcomes.model_dump().items():
        if folded in (v.casefold() for v in values):
            return str(name)
    return None


def _side(mapping: CsvMapping, row: _Row) -> tuple[str, bool]:
    """Who hung up, and whether it was known (False: the mapping's default was used)."""
    raw = row.get("hangup_side")
    if raw is not None:
        folded = raw.casefold()
        if folded in (v.casefold() for v in mapping.hangup_side.agent):
            return "agent", True
        if folded in (v.casefold() for v in mapping.hangup_side.caller):
            return "caller", True
    return mapping.hangup_side.default, False


def row_events(mapping: CsvMapping, row: _Row, first_visit: bool) -> list[Event]:
    """The events of one CDR row (raises :class:`RowError`); [] for an ignored row."""
    outcome = _outcome(mapping, row)
    if outcome is None or outcome == "ignore":
        return []
    contact = row.get("call_id")
    if contact is None:
        raise RowError("the call id is empty")
    arrival_text = row.get("arrival")
    if arrival_text is None:
        raise RowError("the arrival time is empty")
    arrival = parse_time_cell(arrival_text, mapping.time, "arrival time")
    queue = row.get("queue") or mapping.default_queue
    if queue is None:
        raise RowError("the queue is empty")

    def time_of(key: str) -> float | None:
        text = row.get(key)
        return None if text is None else parse_time_cell(text, mapping.time, f"{key} time")

    def duration_of(key: str) -> float | None:
        text = row.get(key)
        return None if text is None else parse_duration_cell(text, mapping.duration_unit, key)

    answer, end, wait, talk = time_of("answer"), time_of("end"), duration_of("wait"), None
    out: list[Event] = []
    if first_visit:
        out.append(
            Event(arrival, EventType.ARRIVE, contact, channel="voice", caller=row.get("caller"))
        )
    out.append(Event(arrival, EventType.ENQUEUE, contact, queue))
    if outcome == "answered":
        if answer is None and wait is not None:
            answer = arrival + wait
        if answer is None:
            raise RowError("answered, but the answer time and the wait are empty")
        if answer < arrival:
            raise RowError("the answer time is before the arrival time")
        agent = row.get("agent")
        if agent is None:
            raise RowError("answered, but the agent is empty")
        talk = duration_of("talk")
        if talk is None:
            if end is None:
                raise RowError("answered, but the end time and the talk time are empty")
            if end < answer:
                raise RowError("the end time is before the answer time")
            talk = end - answer
        by, _ = _side(mapping, row)
        out.append(Event(answer, EventType.CONNECT, contact, queue, agent, wait=answer - arrival))
        out.append(
            Event(answer + talk, EventType.COMPLETE, contact, queue, agent, by=by, talk=talk)
        )
        return out
    if wait is None:
        if end is None:
            raise RowError(f"{outcome}, but the end time and the wait are empty")
        if end < arrival:
            raise RowError("the end time is before the arrival time")
        wait = end - arrival
    kind = EventType.ABANDON if outcome == "abandoned" else EventType.TIMEOUT
    reason = "max_wait" if kind is EventType.TIMEOUT else None
    out.append(Event(arrival + wait, kind, contact, queue, wait=wait, reason=reason))
    return out


def _rows(text: str, mapping: CsvMapping) -> Iterator[tuple[int, list[str], str]]:
    """(line number, cells, raw line) of each record; blank lines skipped."""
    lines = text.splitlines(keepends=True)
    reader = csv.reader(io.StringIO(text), delimiter=mapping.csv.delimiter)
    last = 0
    for cells in reader:
        start, last = last + 1, reader.line_num
        raw = "".join(lines[start - 1 : last]).rstrip("\r\n")
        yield start, cells, raw


def import_csv(path: str | Path, mapping: CsvMapping) -> tuple[list[Event], ImportStats]:
    """All rows of the CDR file as events in time order, with the import's counts."""
    p = Path(path)
    stats = ImportStats(source=SOURCE, path=str(p))
    try:
        text = p.read_text(encoding=mapping.csv.encoding, errors="strict")
    except FileNotFoundError:
        raise InputFileError(p, "no such file") from None
    except IsADirectoryError:
        raise InputFileError(p, "is a folder, not a CSV file") from None
    except (UnicodeDecodeError, LookupError) as e:
        raise InputFileError(
            p,
            f"cannot read it as {mapping.csv.encoding} text ({e.__class__.__name__}); "
            "set csv.encoding in the mapping",
        ) from None
    text = text.removeprefix("\ufeff")
    stats.lines = len(text.splitlines())
    rows = _rows(text, mapping)
    index: dict[str, int] | None = None
    events: list[Event] = []
    seen_rows: set[str] = set()
    seen_calls: set[str] = set()
    unknown_side = 0
    try:
        for lineno, cells, raw in rows:
            if lineno <= mapping.csv.skip_rows:
                continue
            if index is None:
                index = _resolve_columns(mapping, cells if mapping.csv.header else None, p)
                if mapping.csv.header:
                    continue
            if not any(c.strip() for c in cells):
                continue
            if raw in seen_rows:
                stats.duplicates += 1
                continue
            seen_rows.add(raw)
            row = _Row(cells, index)
            try:
                out = row_events(mapping, row, row.get("call_id") not in seen_calls)
            except RowError as e:
                stats.bad_line(lineno, str(e))
                continue
            if not out and _outcome(mapping, row) is None:
                stats.unmapped(lineno, f"disposition={row.get('disposition') or '(empty)'}", raw)
                continue
            if any(e.type is EventType.COMPLETE for e in out) and not _side(mapping, row)[1]:
                unknown_side += 1
            if out:
                seen_calls.add(out[0].contact or "")
            events.extend(out)
    except csv.Error as e:
        raise InputFileError(p, f"not readable as CSV ({e})") from None
    if index is None:
        raise InputFileError(p, "the file has no rows")
    if unknown_side:
        stats.notes.append(
            f"{unknown_side} answered calls without a known hangup side: "
            f"counted as ended by the {mapping.hangup_side.default}"
        )
    return sort_events(events), stats


__all__ = [
    "SOURCE",
    "CsvMapping",
    "RowError",
    "import_csv",
    "load_mapping",
    "parse_duration_cell",
    "parse_time_cell",
    "row_events",
]
