"""Events as a columnar frame: loading a JSONL log with polars, checking it, building one.

The JSON reader gets the explicit :data:`EVENT_SCHEMA` and parses only the fields the
KPIs use (:data:`KPI_COLUMNS`); they are then encoded into compact columns
(:data:`ENCODE`) in the same streaming pass.  Sources other than the JSONL file (SQL,
importers, tests) hand over a frame with event-field columns; :func:`prepare_frame`
encodes and checks it the same way.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Final

import polars as pl

from callcenter.errors import UserError
from callcenter.events import FIELD_NAMES, REQUIRED_BY_TYPE, AgentState, Event, EventType
from callcenter.storage.eventlog import EVENT_SCHEMA, FileLog

STATE_DTYPE: Final = pl.Enum([s.value for s in AgentState])

KPI_COLUMNS: Final[tuple[str, ...]] = (
    "t",
    "type",
    "contact",
    "queue",
    "agent",
    "wait",
    "talk",
    "hold",
    "acw",
    "target",
    "state",
    "reason",
    "channel",
)
"""The event fields the KPI engine reads; the others are not even parsed out of the file."""


def _contact_hash(seed: int) -> pl.Expr:
    contact = pl.col("contact")
    return pl.when(contact.is_not_null()).then(contact.hash(seed=seed))


ENCODE: Final[tuple[pl.Expr, ...]] = (
    pl.col("t"),
    pl.col("type"),
    _contact_hash(0).alias("cid"),
    _contact_hash(1).alias("cid2"),
    pl.col("queue").cast(pl.Categorical),
    pl.col("agent").cast(pl.Categorical),
    pl.col("wait"),
    pl.col("talk"),
    pl.col("hold"),
    pl.col("acw"),
    pl.col("target").is_not_null().alias("has_target"),
    pl.col("state").cast(STATE_DTYPE),
    pl.col("reason").cast(pl.Categorical),
    pl.col("channel").cast(pl.Categorical),
)
"""From :data:`KPI_COLUMNS` to the engine's compact columns.

Contact ids become two independent 64-bit hashes (``cid``, ``cid2``: grouping compares
integers, and the pair tells a hash collision from a repeat); queue, agent and pause
reason and channel become categoricals; only the presence of ``target`` matters (overflow or exit).
"""

_DURATIONS: Final = ("wait", "talk", "hold", "acw")


def events_to_frame(events: Iterable[Event]) -> pl.DataFrame:
    """A frame with every event field as a column (for tests and in-memory sources)."""
    rows = list(events)
    data: dict[str, list[object]] = {name: [] for name in FIELD_NAMES}
    for ev in rows:
        for name in FIELD_NAMES:
            value = getattr(ev, name)
            data[name].append(value.value if name == "type" else value)
    return pl.DataFrame(data, schema=EVENT_SCHEMA)


def load_events(path: str | os.PathLike[str]) -> pl.DataFrame:
    """Read an event log (JSON Lines; Parquet by its suffix) into a checked frame of
    encoded columns (:data:`ENCODE`).

    Raises :class:`InputFileError` ``<file>[:<line>]: <problem>`` for a missing, empty
    or foreign file and for the first bad line, and :class:`UserError` for a log without
    events.
    """
    log = FileLog(path)
    frame = log.read_frame(KPI_COLUMNS, query=lambda events: events.select(ENCODE), streaming=True)
    return _check(frame, str(log.path), log=log)


def prepare_frame(frame: pl.DataFrame, *, name: str = "events") -> pl.DataFrame:
    """Encode and check a frame of events from any source (columns named as the fields).

    Missing optional columns are added as nulls, ``type`` may be a string column (it is
    checked against :class:`EventType`), and header rows are dropped.  ``name`` names
    the source in error messages.
    """
    if "t" not in frame.columns or "type" not in frame.columns:
        raise UserError(f"{name}: an events frame needs the columns 't' and 'type'")
    missing = [c for c in KPI_COLUMNS if c not in frame.columns]
    frame = frame.with_columns(pl.lit(None, dtype=EVENT_SCHEMA[c]).alias(c) for c in missing)
    try:
        frame = frame.select(
            pl.col(c).cast(EVENT_SCHEMA[c], strict=True) for c in KPI_COLUMNS
        ).select(ENCODE)
    except pl.exceptions.PolarsError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UserError(f"{name}: a column does not fit the event schema: {first}") from None
    if frame.height and frame["type"][0] == EventType.HEADER.value:
        frame = frame.slice(1)
    return _check(frame, name, log=None)


def _bad_rows() -> pl.Expr:
    """True for a row that breaks the schema in a way the JSON reader lets through."""
    typ = pl.col("type")
    bad = pl.col("t").is_null() | typ.is_null() | (typ == EventType.HEADER.value)
    bad = bad | pl.any_horizontal((pl.col(c) < 0).fill_null(False) for c in _DURATIONS)
    for etype, required in REQUIRED_BY_TYPE.items():
        cols = [c for c in sorted(required) if c in KPI_COLUMNS]
        if cols and etype is not EventType.HEADER:
            missing = pl.any_horizontal(_is_missing(c) for c in cols)
            bad = bad | ((typ == etype.value) & missing)
    return bad


def _is_missing(field: str) -> pl.Expr:
    """The field is not set, in the encoded columns."""
    if field == "contact":
        return pl.col("cid").is_null()
    if field == "target":
        return ~pl.col("has_target")
    return pl.col(field).is_null()


def _check(frame: pl.DataFrame, name: str, *, log: FileLog | None) -> pl.DataFrame:
    if frame.height == 0:
        raise UserError(f"{name}: the event log has no events (only a header line)")
    bad = frame.select(_bad_rows().arg_true().first()).item()
    if bad is None:
        return frame
    if log is not None:
        log.check()  # raises with the exact line
    row = frame.row(int(bad), named=True)
    shown = {k: v for k, v in row.items() if v is not None}
    raise UserError(
        f"{name}: event {int(bad) + 1} does not fit the event schema "
        f"(missing required field, negative duration or a second header): {shown}"
    )
