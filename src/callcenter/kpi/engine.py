"""From events to the four tables every KPI is summed from (columnar, no per-event Python).

:func:`build_tables` turns a checked events frame (see :mod:`callcenter.kpi.frame`) into

``visits``      one row per queue visit (an ``enqueue``): queue, channel, interval, outcome,
                wait
``legs``        one row per agent leg (a ``connect``): agent, queue, channel, interval,
                talk/hold/ACW
``counts``      offer / ring_noanswer / transfer / callback_made events: agent, queue,
                channel, interval
``agent_time``  agent state segments cut at interval boundaries: agent, interval, state,
                pause reason, seconds

How events are paired: a contact's events are put in (t, file order) order and grouped
by contact; each ``enqueue`` opens a visit and the first terminal event after it
(``connect``, ``abandon``, ``timeout``, ``callback_request``) closes it.  Within each
(contact, agent) pair, each ``connect`` opens a leg; the first ``complete``/``transfer``
after it ends the conversation and the first ``wrapup_end`` gives its after-call work.
Grouping uses a stable sort by a 64-bit hash of the key (checked for collisions, with a
slower exact sort as the fallback), which is much cheaper than sorting strings.

A contact's **channel** (voice, chat, ...) is the one its ``arrive`` event names (an
event that names a channel itself keeps its own); a contact whose log has no ``arrive``
has none (null), so imported fragments still count, under no channel.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final

import polars as pl

from callcenter.events import STATE_AFTER_TYPE, AgentState, EventType
from callcenter.kpi.frame import STATE_DTYPE
from callcenter.kpi.settings import KpiSettings

E = EventType
OUTCOMES: Final = ("answered", "abandoned", "overflowed", "exited", "callback", "open")
OUTCOME_DTYPE: Final = pl.Enum(list(OUTCOMES))
NO_QUEUE: Final = "(none)"
"""The queue name used for agent activity whose event names no queue and no visit."""
UNSPECIFIED: Final = "unspecified"
"""The pause reason used when an ``agent_state`` pause gives none."""

_TERMINAL: Final = [E.CONNECT.value, E.ABANDON.value, E.TIMEOUT.value, E.CALLBACK_REQUEST.value]
_LEG_TYPES: Final = [E.CONNECT.value, E.COMPLETE.value, E.TRANSFER.value, E.WRAPUP_END.value]
_COUNTED: Final = [E.OFFER.value, E.RING_NOANSWER.value, E.TRANSFER.value, E.CALLBACK_MADE.value]
_CONTACT_TYPES: Final = sorted(
    {E.ARRIVE.value, E.ENQUEUE.value, *_TERMINAL, *_LEG_TYPES, *_COUNTED}
)
_STATE_TYPES: Final = sorted({*STATE_AFTER_TYPE, E.AGENT_STATE.value})


@dataclass(frozen=True, slots=True)
class KpiTables:
    """The per-visit, per-leg, per-event and agent-time tables a report is summed from."""

    visits: pl.DataFrame  # queue, channel, bin, outcome, wait
    legs: pl.DataFrame  # agent, queue, channel, bin, ended, talk, hold, acw
    counts: pl.DataFrame  # agent, queue, channel, bin, type
    agent_time: pl.DataFrame  # agent, bin, state, reason, seconds (segments cut at bins)
    start: float  # first event time
    end: float  # last event time (open visits and agent segments run to here)
    events: int  # events read (header excluded)
    interval_s: int


def _bin(expr: pl.Expr, interval_s: int) -> pl.Expr:
    """Start (epoch seconds, Int64) of the interval holding ``expr``; UTC-midnight aligned."""
    return (expr // interval_s).cast(pl.Int64) * interval_s


def _sort_groups(
    frame: pl.DataFrame, key: pl.Expr, exact: list[str], *, maybe_grouped: bool = False
) -> pl.DataFrame:
    """``frame`` stably sorted so that rows with equal ``exact`` columns are adjacent.

    Sorting uses ``key``, a 64-bit hash of ``exact`` (one integer sort key instead of
    several); if two different groups share a key, the rows are sorted by ``exact``
    itself.  Adds ``_new``, true on each group's first row.  Row order inside a group is
    kept.  With ``maybe_grouped``, a frame whose groups are already contiguous runs (each
    key starts one run only) is returned unsorted.
    """
    frame = frame.rechunk()  # gathers from a many-chunk frame are ~10x slower
    differs = pl.any_horizontal(pl.col(c).ne_missing(pl.col(c).shift()) for c in exact)
    if maybe_grouped:
        runs = frame.select(key.filter(differs.fill_null(True)).alias("_k"))
        if not runs.select(pl.col("_k").is_duplicated().any()).item():
            return frame.with_columns(_new=differs.fill_null(True))
    perm = frame.select(pl.arg_sort_by(key, maintain_order=True)).to_series()
    out = frame.select(pl.all().gather(perm))
    collided = out.select(((key == key.shift()) & differs).any()).item()
    if collided:
        out = frame.sort(exact, maintain_order=True)
    return out.with_columns(_new=differs.fill_null(True))


def _first_since(flag: pl.Expr, start: str) -> pl.Expr:
    """True on the first row where ``flag`` holds since the row index in column ``start``."""
    cs = flag.cum_sum()
    return flag & ((cs - cs.gather(pl.col(start))) == 1)


def _contact_rows(events: pl.DataFrame) -> pl.DataFrame:
    """Contact events grouped by contact, each tagged with its visit (``vstart``) and its
    contact's channel (the latest ``arrive`` of the contact before it)."""
    typ = pl.col("type")
    rows = events.filter(typ.is_in(_CONTACT_TYPES) & pl.col("cid").is_not_null()).drop(
        "state", "reason"
    )
    rows = _sort_groups(rows, pl.col("cid"), ["cid", "cid2"]).with_row_index("_i")
    is_enq = typ == E.ENQUEUE.value
    is_arrive = typ == E.ARRIVE.value
    rows = rows.with_columns(
        vstart=pl.when(is_enq | pl.col("_new")).then("_i").forward_fill(),
        astart=pl.when(is_arrive | pl.col("_new")).then("_i").forward_fill(),
    )
    arrived = pl.when(is_arrive.gather(pl.col("astart"))).then(
        pl.col("channel").gather(pl.col("astart"))
    )
    return rows.with_columns(
        in_visit=is_enq.gather(pl.col("vstart")),
        t_enq=pl.col("t").gather(pl.col("vstart")),
        vqueue=pl.col("queue").gather(pl.col("vstart")),
        channel=pl.coalesce(pl.col("channel"), arrived),
    )


def _visits(rows: pl.DataFrame, end: float, interval_s: int) -> pl.DataFrame:
    typ = pl.col("type")
    is_term = typ.is_in(_TERMINAL) & pl.col("in_visit")
    outcome = (
        pl.when(typ == E.CONNECT.value)
        .then(pl.lit("answered"))
        .when(typ == E.ABANDON.value)
        .then(pl.lit("abandoned"))
        .when((typ == E.TIMEOUT.value) & pl.col("has_target"))
        .then(pl.lit("overflowed"))
        .when(typ == E.TIMEOUT.value)
        .then(pl.lit("exited"))
        .otherwise(pl.lit("callback"))
    )
    terms = rows.filter(_first_since(is_term, "vstart")).select(
        "vstart",
        outcome.cast(OUTCOME_DTYPE).alias("outcome"),
        pl.col("wait").fill_null(pl.col("t") - pl.col("t_enq")).alias("wait"),
    )
    enq = rows.filter(typ == E.ENQUEUE.value).select(
        pl.col("_i").alias("vstart"), "queue", "channel", "t_enq"
    )
    return enq.join(terms, on="vstart", how="left").select(
        "queue",
        "channel",
        _bin(pl.col("t_enq"), interval_s).alias("bin"),
        pl.col("outcome").fill_null(pl.lit("open", dtype=OUTCOME_DTYPE)),
        pl.col("wait").fill_null(pl.lit(end) - pl.col("t_enq")),
    )


def _attribution(interval_s: int) -> tuple[pl.Expr, pl.Expr]:
    """(queue, bin) of a contact event: its visit's enqueue interval and queue."""
    t_attr = pl.when(pl.col("in_visit")).then(pl.col("t_enq")).otherwise(pl.col("t"))
    vqueue = pl.when(pl.col("in_visit")).then(pl.col("vqueue"))
    no_queue = pl.lit(NO_QUEUE, dtype=pl.Categorical)
    queue = pl.coalesce(pl.col("queue"), vqueue, no_queue).alias("queue")
    return queue, _bin(t_attr, interval_s).alias("bin")


def _legs(rows: pl.DataFrame, interval_s: int) -> pl.DataFrame:
    typ = pl.col("type")
    queue, bin_ = _attribution(interval_s)
    leg_rows = rows.filter(typ.is_in(_LEG_TYPES) & pl.col("agent").is_not_null()).select(
        "cid", "cid2", "agent", "type", "talk", "hold", "acw", "channel", queue, bin_
    )
    key = pl.struct("cid", "agent").hash()
    # Rows are grouped by contact already; usually each contact's agents follow each other.
    leg_rows = _sort_groups(
        leg_rows, key, ["cid", "cid2", "agent"], maybe_grouped=True
    ).with_row_index("_i")
    is_connect = typ == E.CONNECT.value
    leg_rows = leg_rows.with_columns(
        lstart=pl.when(is_connect | pl.col("_new")).then("_i").forward_fill()
    ).with_columns(in_leg=is_connect.gather(pl.col("lstart")))
    is_end = typ.is_in([E.COMPLETE.value, E.TRANSFER.value]) & pl.col("in_leg")
    is_wrap = (typ == E.WRAPUP_END.value) & pl.col("in_leg")
    connects = leg_rows.filter(is_connect).select(
        pl.col("_i").alias("lstart"), "agent", "queue", "channel", "bin"
    )
    ends = leg_rows.filter(_first_since(is_end, "lstart")).select(
        "lstart", pl.col("talk").fill_null(0.0), pl.col("hold").fill_null(0.0)
    )
    wraps = leg_rows.filter(_first_since(is_wrap, "lstart")).select("lstart", "acw")
    return (
        connects.join(ends, on="lstart", how="left")
        .join(wraps, on="lstart", how="left")
        .select(
            "agent",
            "queue",
            "channel",
            "bin",
            pl.col("talk").is_not_null().alias("ended"),
            "talk",
            "hold",
            pl.col("acw").fill_null(0.0),
        )
    )


def _counts(rows: pl.DataFrame, interval_s: int) -> pl.DataFrame:
    queue, bin_ = _attribution(interval_s)
    return rows.filter(pl.col("type").is_in(_COUNTED)).select(
        "agent", queue, "channel", bin_, "type"
    )


def _state_of_event() -> pl.Expr:
    """The agent state an event leaves its agent in (``agent_state`` events: their state)."""
    typ = pl.col("type")
    expr: pl.Expr = pl.lit(None, dtype=STATE_DTYPE)
    for etype, state in STATE_AFTER_TYPE.items():
        expr = pl.when(typ == etype).then(pl.lit(state, dtype=STATE_DTYPE)).otherwise(expr)
    return pl.when(typ == E.AGENT_STATE.value).then(pl.col("state")).otherwise(expr)


def _agent_time(events: pl.DataFrame, end: float, interval_s: int) -> pl.DataFrame:
    """Agent state segments cut at interval boundaries: agent, bin, state, reason, seconds.

    Each state change starts a segment that lasts until the agent's next state change
    (the last one until ``end``).  ``reason`` is set on paused segments only.
    """
    typ = pl.col("type")
    seg = events.filter(
        typ.is_in(_STATE_TYPES)
        & pl.col("agent").is_not_null()
        & ((typ != E.AGENT_STATE.value) | pl.col("state").is_not_null())
    ).rechunk()
    state = _state_of_event()
    paused = state == AgentState.PAUSED.value
    unspecified = pl.lit(UNSPECIFIED, dtype=pl.Categorical)
    seg = seg.select(
        "agent",
        state.alias("state"),
        pl.when(paused).then(pl.col("reason").fill_null(unspecified)).alias("reason"),
        pl.col("t").alias("start"),
        pl.col("t").shift(-1).over("agent").fill_null(end).alias("stop"),
    ).filter(pl.col("stop") > pl.col("start"))
    b0 = (pl.col("start") // interval_s).cast(pl.Int64)
    b1 = (pl.col("stop") // interval_s).cast(pl.Int64)
    seg = seg.with_columns(b0=b0, b1=pl.max_horizontal(b0, b1))
    keys = ["agent", "state", "reason"]
    single = seg.filter(pl.col("b0") == pl.col("b1")).select(
        *keys,
        (pl.col("b0") * interval_s).alias("bin"),
        (pl.col("stop") - pl.col("start")).alias("seconds"),
    )
    lo = pl.col("bin").cast(pl.Float64)
    spanning = (
        seg.filter(pl.col("b0") != pl.col("b1"))
        .with_columns(bin=pl.int_ranges("b0", pl.col("b1") + 1) * interval_s)
        .explode("bin")
        .select(
            *keys,
            "bin",
            (
                pl.min_horizontal(pl.col("stop"), lo + interval_s)
                - pl.max_horizontal(pl.col("start"), lo)
            ).alias("seconds"),
        )
        .filter(pl.col("seconds") > 0)
    )
    return pl.concat([single, spanning]).rechunk()


def build_tables(events: pl.DataFrame, settings: KpiSettings) -> KpiTables:
    """The four KPI tables of a checked events frame (:func:`~callcenter.kpi.frame.load_events`)."""
    interval_s = settings.interval_s
    if not events["t"].is_sorted():
        events = events.sort("t", maintain_order=True)  # (t, file order)
    start = float(events["t"][0])
    end = float(events["t"][-1])
    # Agent time and the contact tables are independent: polars releases the GIL, so a
    # second thread keeps a second core busy during the (mostly single-threaded) sorts.
    with ThreadPoolExecutor(max_workers=1) as pool:
        agent_time = pool.submit(_agent_time, events, end, interval_s)
        rows = _contact_rows(events)
        visits = _visits(rows, end, interval_s)
        legs = _legs(rows, interval_s)
        counts = _counts(rows, interval_s)
        del rows
        return KpiTables(
            visits=visits,
            legs=legs,
            counts=counts,
            agent_time=agent_time.result(),
            start=start,
            end=end,
            events=events.height,
            interval_s=interval_s,
        )
