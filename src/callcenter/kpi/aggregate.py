"""Sums and counts of the KPI tables per group (ratios are taken later, in :mod:`.results`).

Every function returns one row per value of ``keys`` (a single row for ``keys=[]``)
with additive columns only, so any breakdown is a plain group-by of the same tables.
``keys`` are column names of the tables: ``queue``, ``agent``, ``bin`` (interval start,
epoch seconds) and ``day`` (UTC day start, derived from ``bin``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import polars as pl

from callcenter.events import AgentState, EventType
from callcenter.kpi.benchmarks import SL_BENCHMARK_THRESHOLD_S
from callcenter.kpi.settings import SECONDS_PER_DAY, KpiSettings

VISIT_SUMS: Final = (
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "timed_out",
    "overflowed",
    "exited",
    "callbacks_requested",
    "open",
    "answered_within",
    "answered_within_benchmark",
    "wait_sum_answered",
    "wait_sum_finished",
    "max_wait",
)
HANDLING_SUMS: Final = (
    "connects",
    "handled",
    "in_progress",
    "talk_sum",
    "hold_sum",
    "acw_sum",
    "offers",
    "ring_noanswer",
    "transfers",
    "callbacks_made",
)
STATES: Final = tuple(s.value for s in AgentState)


def _with_day(frame: pl.LazyFrame, keys: Sequence[str]) -> pl.LazyFrame:
    if "day" in keys and "day" not in frame.collect_schema().names():
        return frame.with_columns(day=(pl.col("bin") // SECONDS_PER_DAY) * SECONDS_PER_DAY)
    return frame


def _group(
    frame: pl.DataFrame | pl.LazyFrame, keys: Sequence[str], aggs: list[pl.Expr]
) -> pl.LazyFrame:
    lazy = _with_day(frame.lazy(), keys)
    if not keys:
        return lazy.select(aggs)
    return lazy.group_by(list(keys)).agg(aggs)


def visit_sums(
    visits: pl.DataFrame, keys: Sequence[str], settings: KpiSettings, *, all_queues: bool
) -> pl.LazyFrame:
    """Counts and wait sums of queue visits per group.

    With ``all_queues`` (rows that span queues: total, day, all-queues interval rows)
    visits that ended by overflowing to another queue are left out of every figure but
    ``overflowed``: the contact is counted once, in the queue it overflowed to.
    """
    o, w = pl.col("outcome"), pl.col("wait")
    counted = o != "overflowed" if all_queues else o.is_not_null()
    answered = counted & (o == "answered")
    abandoned = counted & (o == "abandoned")
    timed_out = counted & o.is_in(["overflowed", "exited"])
    finished = answered | abandoned | timed_out
    aggs = [
        counted.sum().alias("offered"),
        answered.sum().alias("answered"),
        abandoned.sum().alias("abandoned"),
        (abandoned & (w < settings.short_abandon_s)).sum().alias("short_abandoned"),
        timed_out.sum().alias("timed_out"),
        (o == "overflowed").sum().alias("overflowed"),
        (o == "exited").sum().alias("exited"),
        (counted & (o == "callback")).sum().alias("callbacks_requested"),
        (counted & (o == "open")).sum().alias("open"),
        (answered & (w <= settings.sl_threshold_s)).sum().alias("answered_within"),
        (answered & (w <= SL_BENCHMARK_THRESHOLD_S)).sum().alias("answered_within_benchmark"),
        w.filter(answered).sum().alias("wait_sum_answered"),
        w.filter(finished).sum().alias("wait_sum_finished"),
        w.filter(finished | (counted & (o == "open"))).max().alias("max_wait"),
    ]
    return _group(visits, keys, aggs)


def handling_sums(legs: pl.DataFrame, counts: pl.DataFrame, keys: Sequence[str]) -> pl.LazyFrame:
    """Agent legs (handled, in progress, talk/hold/ACW sums) and event counts per group."""
    ended = pl.col("ended")
    leg_aggs = [
        pl.len().alias("connects"),
        ended.sum().alias("handled"),
        (~ended).sum().alias("in_progress"),
        pl.col("talk").filter(ended).sum().alias("talk_sum"),
        pl.col("hold").filter(ended).sum().alias("hold_sum"),
        pl.col("acw").filter(ended).sum().alias("acw_sum"),
    ]
    typ = pl.col("type")
    count_aggs = [
        (typ == EventType.OFFER.value).sum().alias("offers"),
        (typ == EventType.RING_NOANSWER.value).sum().alias("ring_noanswer"),
        (typ == EventType.TRANSFER.value).sum().alias("transfers"),
        (typ == EventType.CALLBACK_MADE.value).sum().alias("callbacks_made"),
    ]
    return join_on(keys, [_group(legs, keys, leg_aggs), _group(counts, keys, count_aggs)])


def agent_time_sums(agent_time: pl.DataFrame, keys: Sequence[str]) -> pl.LazyFrame:
    """Seconds in each agent state per group (``<state>_s`` columns)."""
    per_state = _group(agent_time, [*keys, "state"], [pl.col("seconds").sum()])
    state = pl.col("state")
    aggs = [pl.col("seconds").filter(state == s).sum().alias(f"{s}_s") for s in STATES]
    return _group(per_state, keys, aggs)


def paused_by_reason(agent_time: pl.DataFrame, keys: Sequence[str]) -> pl.LazyFrame:
    """Paused seconds per group and pause reason (columns: keys, ``reason``, ``seconds``)."""
    paused = agent_time.lazy().filter(pl.col("state") == AgentState.PAUSED.value)
    return _group(paused, [*keys, "reason"], [pl.col("seconds").sum()])


def join_on(keys: Sequence[str], frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
    """Frames side by side, matched on ``keys`` (full join; missing sums become 0)."""
    if not keys:
        return pl.concat(frames, how="horizontal")
    out = frames[0]
    for frame in frames[1:]:
        out = out.join(frame, on=list(keys), how="full", coalesce=True, nulls_equal=True)
    names = out.collect_schema().names()
    sums = [c for c in names if c not in keys and c != "max_wait"]
    return out.with_columns(pl.col(c).fill_null(0) for c in sums)
