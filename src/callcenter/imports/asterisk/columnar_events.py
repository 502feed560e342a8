"""The events of a queue_log, by columns: the second half of
:mod:`callcenter.imports.asterisk.columnar`.

Each line gives at most three events: an ``offer`` (the ring Asterisk does not log,
dated ``ring`` seconds before its CONNECT or RINGNOANSWER), then the line's first and
second event (``arrive`` + ``enqueue``, ``complete`` + ``wrapup_end``, …).  All their
fields are first worked out once per line (:func:`line_fields`, in line order, without
moving rows), then :func:`assemble` puts the events in order and takes each field from
its line.  Only five narrow columns are ever sorted: at ten million lines, moving whole
rows around is what costs most.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

import numpy as np
import polars as pl

from callcenter.events import FIELD_NAMES, EventType
from callcenter.imports.asterisk.queue_log import (
    AGENT_EVENTS,
    COMPLETE_EVENTS,
    KEPT_RAW,
    NEEDS_AGENT,
    RING_REASON,
    TIMEOUT_REASON,
    TRANSFER_EVENTS,
    caller_number,
    enterqueue_fields,
    num_field,
    transfer_target,
)
from callcenter.storage.eventlog import EVENT_SCHEMA, EVENT_TYPE_DTYPE

# What a line does, by event name (anything else is kept raw).
RAW, AGENT, ENQ, CONNECT, COMPLETE, RING, ABANDON, TIMEOUT, TRANSFER = range(9)
CODE_OF: Final[dict[str, int]] = {
    **dict.fromkeys(AGENT_EVENTS, AGENT),
    "ENTERQUEUE": ENQ,
    "CONNECT": CONNECT,
    **dict.fromkeys(COMPLETE_EVENTS, COMPLETE),
    **dict.fromkeys(RING_REASON, RING),
    "ABANDON": ABANDON,
    **dict.fromkeys(TIMEOUT_REASON, TIMEOUT),
    **dict.fromkeys(TRANSFER_EVENTS, TRANSFER),
}
assert not KEPT_RAW & CODE_OF.keys()
NAMES: Final = tuple(CODE_OF)  # a line's ``nid`` indexes this; len(NAMES): not mapped
NEEDS_AGENT_CODES: Final = sorted({CODE_OF[n] for n in NEEDS_AGENT})
CLOSERS: Final = (CONNECT, ABANDON, TIMEOUT)  # lines that end a queue visit

c, lit, when = pl.col, pl.lit, pl.when
E = EventType
_AGENT_TYPES: Final = (E.AGENT_LOGIN, E.AGENT_LOGOUT, E.AGENT_STATE)
# a line's first and second event, by what the line does
_FIRST: Final = {COMPLETE: E.COMPLETE, ABANDON: E.ABANDON, TIMEOUT: E.TIMEOUT, TRANSFER: E.TRANSFER}
_SECOND: Final = {
    ENQ: E.ENQUEUE,
    CONNECT: E.CONNECT,
    COMPLETE: E.WRAPUP_END,
    RING: E.RING_NOANSWER,
    TRANSFER: E.WRAPUP_END,
}
FIRST_EVENT: Final = {
    **{n: e.value for n, (e, _s) in AGENT_EVENTS.items()},
    **{n: _FIRST[k].value for n, k in CODE_OF.items() if k in _FIRST},
}  # ENTERQUEUE's first event, arrive, only on the call's first visit
SECOND_EVENT: Final = {n: _SECOND[k].value for n, k in CODE_OF.items() if k in _SECOND}


def by_name(table: dict[str, Any], dtype: pl.DataType) -> pl.Expr:
    """``table[name]`` of each line (null where absent), looked up by ``nid``."""
    values = [table.get(n) for n in NAMES] + [None]
    return lit(pl.Series(values, dtype=dtype)).gather(c("nid"))


def _etype(e: EventType) -> pl.Expr:
    return lit(e.value, dtype=EVENT_TYPE_DTYPE)


def number(field: pl.Expr) -> pl.Expr:
    """A data field as a finite non-negative number, else null (as ``num_field``)."""
    v = field.str.strip_chars().cast(pl.Float64, strict=False)
    return when(v.is_finite() & (v >= 0)).then(v)


def numbers(field: pl.Series) -> pl.Series:
    """:func:`number` of a whole column; only the few values that need it are stripped
    (a copy of ten million strings costs more than the conversion)."""
    v = field.cast(pl.Float64, strict=False)
    retry = v.is_null() & field.is_not_null() & (field != "")
    if retry.any():  # " 12", "\t5"…
        rows = retry.arg_true()
        v = v.scatter(rows, field.gather(rows).str.strip_chars().cast(pl.Float64, strict=False))
    return pl.select(when(v.is_finite() & (v >= 0)).then(v)).to_series().rename(field.name)


def in_slices(frame: pl.DataFrame, work: Callable[[pl.DataFrame], pl.DataFrame]) -> pl.DataFrame:
    """``work`` applied to contiguous slices of ``frame`` at once, one per core, joined.

    For row-by-row work: polars runs one expression over a column on one core, so
    string splitting and parsing would leave the other cores idle.  Polars releases the
    GIL inside its operations, so plain threads run the slices in parallel.
    """
    k = pl.thread_pool_size()
    if k == 1 or frame.height < MIN_SLICE * 2:
        return work(frame)
    step = -(-frame.height // k)
    with ThreadPoolExecutor(k) as pool:
        parts = list(pool.map(lambda i: work(frame.slice(i * step, step)), range(k)))
    return pl.concat(parts)


#: Fewer rows than this per slice are not worth a thread.
MIN_SLICE: Final = 100_000


def data_fields() -> pl.Expr:
    """A line's data fields as written (``d0|d1|…``; null without any), rebuilt from the
    split columns for the few rows read in Python or shown in messages."""
    joined = pl.concat_str([c(f"d{i}") for i in range(5)], separator="|", ignore_nulls=True)
    return when(c("d0").is_not_null()).then(joined)


def whole(v: pl.Expr) -> pl.Expr:
    """A :func:`number` as a whole number ≥ 1, else null (as ``int_field``)."""
    return when((v >= 1) & (v == v.floor())).then(v.cast(pl.Int64))


# --------------------------------------------------------------------------- per line


def line_fields(f: pl.DataFrame) -> pl.DataFrame:
    """Every event field each good line gives, and which events it gives (``ev1``,
    ``ev2``, ``offer_t``/``offer_wait``).  ``f`` is in line (``seq``) order with the
    visit state of :func:`~callcenter.imports.asterisk.columnar._with_visit`."""
    code, name = c("code"), c("name")
    key, withdraw = name == "EXITWITHKEY", name == "WITHDRAW"
    since = c("since")
    good = c("why").is_null() & (code != RAW)
    f = f.with_columns(**{f"n{i}": numbers(f[f"d{i}"]) for i in (0, 1, 2, 3)})
    n0, n2, n3 = c("n0"), c("n2"), c("n3")
    ms = when(name == "SYSCOMPAT").then(0.0).otherwise(n0)
    exit_wait = pl.coalesce(when(key).then(n3).otherwise(n2), since)
    pause = name.is_in(["PAUSE", "PAUSEALL"]) & c("d0").is_not_null()
    logoff = (name == "AGENTCALLBACKLOGOFF") & (c("d2").str.strip_chars() != "")
    agent_reason = (
        when(code != AGENT)
        .then(None)
        .when(pause)
        .then(c("d0"))
        .when(logoff)
        .then(c("d2"))
        .str.strip_chars()
    )
    f = f.with_columns(
        wait=when(code == CONNECT)
        .then(pl.coalesce(n0, since))
        .when(code == RING)
        .then(since)
        .when(code == ABANDON)
        .then(pl.coalesce(n2, since))
        .when(code == TIMEOUT)
        .then(when(withdraw).then(since).otherwise(exit_wait)),
        ring=when(code == CONNECT).then(n2).when(code == RING).then(ms.fill_null(0.0) / 1000.0),
        position=when(code == ABANDON)
        .then(whole(n0))
        .when((code == TIMEOUT) & ~withdraw)
        .then(when(key).then(whole(c("n1"))).otherwise(whole(n0))),
        reason=when(code == RING)
        .then(by_name(RING_REASON, pl.String()))
        .when(code == TIMEOUT)
        .then(by_name(TIMEOUT_REASON, pl.String()))
        .when(code == AGENT)
        .then(when(agent_reason != "").then(agent_reason)),
        state=when(code == AGENT).then(
            by_name({n: s for n, (_e, s) in AGENT_EVENTS.items()}, pl.String())
        ),
        by=when(name == "COMPLETECALLER")
        .then(lit("caller"))
        .when(code == COMPLETE)
        .then(lit("agent")),
        target_type=when(c("target").is_not_null()).then(lit("queue")),
        ev1=when(good).then(
            when(code == ENQ)
            .then(when(c("arrive")).then(_etype(E.ARRIVE)))
            .otherwise(by_name(FIRST_EVENT, EVENT_TYPE_DTYPE))
        ),
        ev2=when(good).then(by_name(SECOND_EVENT, EVENT_TYPE_DTYPE)),
    )
    # the ring Asterisk does not log: ``ring`` s before the outcome, not before the
    # visit began; its wait is the visit's time up to then
    at = c("t") - c("ring").fill_null(0.0)
    at = when(at < c("visit_t")).then(c("visit_t")).otherwise(at)
    offered = good & code.is_in([CONNECT, RING]) & c("queue_eff").is_not_null()
    f = f.with_columns(
        offer_t=when(offered).then(at),
        offer_wait=when(offered).then(pl.max_horizontal(lit(0.0), c("wait") - (c("t") - at))),
    )
    f = _enterqueue_fields(f.drop("n0", "n1", "n2", "n3"))
    f = _transfer_fields(f, good)
    return f.drop("d0", "d1", "d2", "d3", "d4", "name", "nid", "why", "since", "visit_t")


def _enterqueue_fields(f: pl.DataFrame) -> pl.DataFrame:
    """``caller`` and ``position`` of ENTERQUEUE lines (``url|callerid|position``).

    Worked out on the ENTERQUEUE rows only and scattered back.  The usual line has
    exactly three data fields and is read by columns; a caller name holding '|' (or a
    line missing fields) goes through the line mapper's own function.
    """
    row = pl.int_range(pl.len(), dtype=pl.UInt32).alias("row")
    enq = f.select(row, "code", "d0", "d1", "d2", "d3", "d4").filter(c("code") == ENQ)
    last = c("d2").str.strip_chars()
    three_fields = c("d2").is_not_null() & c("d3").is_null()
    usual = (three_fields & last.str.contains(r"^[0-9]+$") & (last != "0")).fill_null(False)
    enq = enq.with_columns(usual=usual).with_columns(
        cid=when("usual").then(c("d1")),
        position=when("usual").then(last.cast(pl.Int64, strict=False)),
    )
    odd = enq.filter(~c("usual"))
    if odd.height:
        fields = [
            enterqueue_fields(r.split("|") if r is not None else [])
            for r in odd.select(data_fields()).to_series()
        ]
        at = enq.select(c("usual").not_().arg_true()).to_series()
        enq = enq.with_columns(
            enq["cid"].scatter(at, pl.Series([x[0] for x in fields], dtype=pl.String)),
            enq["position"].scatter(at, pl.Series([x[1] for x in fields], dtype=pl.Int64)),
        )
    # caller numbers: digits as they are; anything else ("Name" <5551234>, unknown…) by
    # the line mapper's caller_number, once per distinct text
    cid = c("cid").str.strip_chars()
    plain = cid.str.contains(r"^[0-9]+$")
    other = enq.select("cid", other=~plain).filter("other")["cid"].unique().to_list()
    callers = {s: caller_number(s) for s in other if s is not None}
    named = c("cid").replace_strict(callers, default=None, return_dtype=pl.String)
    enq = enq.select("row", "position", caller=when(plain).then(cid).otherwise(named))
    rows = enq["row"]
    return f.with_columns(
        f["position"].scatter(rows, enq["position"]),
        _nulls("caller", pl.String(), f.height).scatter(rows, enq["caller"]),
    )


def _nulls(name: str, dtype: pl.DataType, n: int) -> pl.Series:
    return pl.Series(name, [None], dtype=dtype).extend_constant(None, n - 1)


def _transfer_fields(f: pl.DataFrame, good: pl.Expr) -> pl.DataFrame:
    """Transfers: their fields differ by method, so they are read in Python (they are few)."""
    row = pl.int_range(pl.len(), dtype=pl.UInt32).alias("row")
    fields = ("d0", "d1", "d2", "d3", "d4")
    rows = (
        f.select(row, "name", *fields, x=good & (c("code") == TRANSFER))
        .filter("x")
        .select("row", "name", rest=data_fields())
    )
    f = f.with_columns(kind=lit(None, pl.String))
    if rows.height == 0:
        return f
    targets, kinds, talks = [], [], []
    for name, rest in rows.select("name", "rest").iter_rows():
        data = rest.split("|") if rest is not None else []
        kind, target, hold_i = transfer_target(name, data)
        targets.append(target)
        kinds.append(kind)
        talks.append(num_field(data, hold_i + 1))
    seq = rows["row"]
    return f.with_columns(
        f["target"].scatter(seq, pl.Series(targets, dtype=pl.String)),
        f["target_type"].scatter(seq, pl.Series(["extension"] * len(seq), dtype=pl.String)),
        f["kind"].scatter(seq, pl.Series(kinds, dtype=pl.String)),
        f["talk"].scatter(seq, pl.Series(talks, dtype=pl.Float64)),
    )


# --------------------------------------------------------------------------- in order


# Which event types carry each field taken from the line (others leave it unset).
_FIELD_TYPES: Final[dict[str, tuple[EventType, ...]]] = {
    "contact": tuple(e for e in E if e not in _AGENT_TYPES and e is not E.HEADER),
    "queue": tuple(e for e in E if e not in _AGENT_TYPES and e is not E.HEADER),
    "agent": (
        E.OFFER,
        E.CONNECT,
        E.COMPLETE,
        E.WRAPUP_END,
        E.RING_NOANSWER,
        E.TRANSFER,
        *_AGENT_TYPES,
    ),
    "caller": (E.ARRIVE,),
    "position": (E.ENQUEUE, E.ABANDON, E.TIMEOUT),
    "wait": (E.CONNECT, E.RING_NOANSWER, E.ABANDON, E.TIMEOUT),
    "ring": (E.CONNECT, E.RING_NOANSWER),
    "talk": (E.COMPLETE, E.TRANSFER),
    "by": (E.COMPLETE,),
    "target": (E.TIMEOUT, E.TRANSFER),
    "target_type": (E.TIMEOUT, E.TRANSFER),
    "kind": (E.TRANSFER,),
    "state": _AGENT_TYPES,
    "reason": (E.RING_NOANSWER, E.TIMEOUT, *_AGENT_TYPES),
}
_LINE_COLUMN: Final = {"contact": "callid", "queue": "queue_eff"}


def _from_lines(
    column: pl.Series, src: pl.Series, types: pl.Series, carriers: tuple[EventType, ...]
) -> pl.Series:
    """``column`` of each event's line, for the events of the ``carriers`` types."""
    carried = types.is_in([e.value for e in carriers])
    n_carried = int(carried.sum())
    if n_carried == 0 or column.null_count() == column.len():
        return _nulls(column.name, column.dtype, len(src))
    if n_carried > len(src) // 2:
        return pl.select(when(carried).then(column.gather(src))).to_series()
    rows = carried.arg_true()  # a few events: take only theirs
    return _nulls(column.name, column.dtype, len(src)).scatter(
        rows, column.gather(src.gather(rows))
    )


def assemble(f: pl.DataFrame) -> pl.DataFrame:
    """The events of ``line_fields`` in order, with the ``EVENT_SCHEMA`` columns.

    Order: by (time, line, event of the line).  The first and second events of each
    line have their line's time, and lines are in time order, so keying them
    ``4·seq + 1`` and ``4·seq + 2`` orders them.  An offer at time ``t`` from line ``s``
    goes right before the first line ``c`` that sorts after it: ``c = min(s, first line
    later than t)``, key ``4·c``; offers sharing ``c`` keep their (time, line) order.
    """
    seq = c("seq").cast(pl.UInt64)
    parts = [
        f.select("t", k=seq * 4 + slot, type=ev, src="seq").filter(c("type").is_not_null())
        for slot, ev in ((1, "ev1"), (2, "ev2"))
    ]
    offers = (
        f.filter(c("offer_t").is_not_null())
        .select(t="offer_t", src="seq", wait="offer_wait")
        .sort("t", "src")
    )
    later = f["t"].search_sorted(offers["t"], side="right").cast(pl.UInt64)
    parts.append(
        offers.with_columns(
            k=pl.min_horizontal(c("src").cast(pl.UInt64), later) * 4, type=_etype(E.OFFER)
        )
    )
    ev = pl.concat(parts, how="diagonal")
    # three sorted runs: numpy's stable sort (a merge) orders them in one pass
    ev = ev[np.argsort(ev["k"].to_numpy(), kind="stable")]
    src, types = ev["src"], ev["type"]
    # one gather per field, the fields spread over the cores (polars releases the GIL)
    with ThreadPoolExecutor(pl.thread_pool_size()) as pool:
        gathered = pool.map(
            lambda item: _from_lines(f[_LINE_COLUMN.get(item[0], item[0])], src, types, item[1]),
            _FIELD_TYPES.items(),
        )
        columns: dict[str, pl.Series | pl.Expr] = dict(zip(_FIELD_TYPES, gathered, strict=True))
    columns["wait"] = pl.coalesce(c("wait"), lit(columns["wait"]))
    columns["channel"] = when(c("type") == E.ARRIVE.value).then(lit("voice"))
    columns["acw"] = when(c("type") == E.WRAPUP_END.value).then(lit(0.0))
    ev = ev.with_columns(**columns)
    return ev.select(
        (c(n) if n in ev.columns else lit(None)).cast(EVENT_SCHEMA[n]).alias(n) for n in FIELD_NAMES
    )


__all__ = ["CODE_OF", "NAMES", "assemble", "data_fields", "in_slices", "line_fields"]
