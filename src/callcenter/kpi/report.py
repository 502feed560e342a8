"""Assemble a :class:`~callcenter.kpi.results.KpiReport` from the KPI tables."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Final

import polars as pl

from callcenter.kpi.aggregate import (
    agent_time_sums,
    handling_sums,
    join_on,
    paused_by_reason,
    visit_sums,
)
from callcenter.kpi.benchmarks import evaluate
from callcenter.kpi.engine import KpiTables, build_tables
from callcenter.kpi.frame import load_events, prepare_frame
from callcenter.kpi.results import (
    AgentTimeMetrics,
    HandlingMetrics,
    KpiReport,
    KpiRow,
    Period,
    RowLevel,
    VisitMetrics,
    service_levels,
)
from callcenter.kpi.settings import Breakdown, KpiSettings


@dataclass(frozen=True, slots=True)
class _Spec:
    """One kind of row: its level, group keys and which metric groups it carries."""

    level: RowLevel
    keys: tuple[str, ...]
    visits: bool | None  # None: no visit metrics; True: all queues (overflow excluded)
    agent_time: bool


_SPECS: Final[dict[Breakdown, tuple[_Spec, ...]]] = {
    Breakdown.QUEUE: (_Spec(RowLevel.QUEUE, ("queue", "channel"), False, False),),
    Breakdown.CHANNEL: (_Spec(RowLevel.CHANNEL, ("channel",), True, False),),
    Breakdown.INTERVAL: (
        _Spec(RowLevel.INTERVAL, ("bin", "queue"), False, False),
        _Spec(RowLevel.INTERVAL, ("bin",), True, True),
    ),
    Breakdown.DAY: (_Spec(RowLevel.DAY, ("day",), True, True),),
    Breakdown.AGENT: (_Spec(RowLevel.AGENT, ("agent",), None, True),),
}
_TOTAL: Final = _Spec(RowLevel.TOTAL, (), True, True)
_QUEUE_ALL_CHANNELS: Final = _Spec(RowLevel.QUEUE, ("queue",), False, False)


def _sums(tables: KpiTables, settings: KpiSettings, spec: _Spec) -> list[dict[str, Any]]:
    keys = list(spec.keys)
    frames = []
    if spec.visits is not None:
        frames.append(visit_sums(tables.visits, keys, settings, all_queues=spec.visits))
    frames.append(handling_sums(tables.legs, tables.counts, keys))
    if spec.agent_time:
        frames.append(agent_time_sums(tables.agent_time, keys))
        frames.append(paused_by_reason(tables.agent_time, keys))
    collected = pl.collect_all(frames)  # the group-bys run in parallel
    if spec.agent_time:
        reason_rows = collected.pop().to_dicts()
    merged = (
        join_on(keys, [c.lazy() for c in collected])
        .with_columns(pl.col(k).cast(pl.String) for k in keys if k in ("queue", "agent", "channel"))
        .collect()
    )
    if keys:
        merged = merged.sort(keys, nulls_last=True)
    rows = merged.to_dicts()
    if spec.agent_time:
        reasons: dict[tuple[Any, ...], dict[str, float]] = {}
        for d in reason_rows:
            key = tuple(d[k] for k in keys)
            reasons.setdefault(key, {})[str(d["reason"])] = d["seconds"]
        for row in rows:
            row["_reasons"] = reasons.get(tuple(row[k] for k in keys), {})
    return rows


def _row(spec: _Spec, sums: dict[str, Any], settings: KpiSettings) -> KpiRow:
    bin_, day = sums.get("bin"), sums.get("day")
    return KpiRow(
        level=spec.level,
        interval_start=None if bin_ is None else datetime.fromtimestamp(bin_, UTC),
        day=None if day is None else datetime.fromtimestamp(day, UTC).date(),
        queue=sums.get("queue"),
        agent=sums.get("agent"),
        channel=sums.get("channel"),
        visits=None if spec.visits is None else VisitMetrics.from_sums(sums, settings),
        handling=HandlingMetrics.from_sums(sums),
        agent_time=(
            AgentTimeMetrics.from_sums(sums, sums["_reasons"]) if spec.agent_time else None
        ),
    )


def _interval_order(row: KpiRow) -> tuple[datetime, bool, str]:
    assert row.interval_start is not None
    return (row.interval_start, row.queue is None, row.queue or "")


def build_report(tables: KpiTables, settings: KpiSettings) -> KpiReport:
    """The report ``settings`` asks for, from tables built with the same interval."""
    return _build(tables, settings, _total_sums(tables, settings))


def _total_sums(tables: KpiTables, settings: KpiSettings) -> dict[str, Any]:
    (sums,) = _sums(tables, settings, _TOTAL)
    return sums


def _build(tables: KpiTables, settings: KpiSettings, total_sums: dict[str, Any]) -> KpiReport:
    if tables.interval_s != settings.interval_s:
        raise ValueError("tables were built for another interval")
    rows = [
        _row(spec, sums, settings)
        for spec in _SPECS[settings.by]
        for sums in _sums(tables, settings, spec)
    ]
    if settings.by is Breakdown.INTERVAL:
        rows.sort(key=_interval_order)
    total = _row(_TOTAL, total_sums, settings)
    finished = total_sums["answered"] + total_sums["abandoned"] + total_sums["timed_out"]
    sl_20s = service_levels(
        total_sums["answered_within_benchmark"],
        total_sums["answered"],
        finished,
        total_sums["short_abandoned"],
    )[settings.sl_mode]
    return KpiReport(
        settings=settings,
        period=Period(
            start=datetime.fromtimestamp(tables.start, UTC),
            end=datetime.fromtimestamp(tables.end, UTC),
            events=tables.events,
        ),
        total=total,
        rows=tuple(rows),
        benchmarks=evaluate(total, settings, sl_20s),
    )


def compute_kpis(
    source: str | os.PathLike[str] | pl.DataFrame, settings: KpiSettings | None = None
) -> KpiReport:
    """Read events (a JSONL log path or an events frame) and compute the report."""
    settings = (settings or KpiSettings()).validated()
    return build_report(build_tables(_events(source), settings), settings)


def _events(source: str | os.PathLike[str] | pl.DataFrame) -> pl.DataFrame:
    return prepare_frame(source) if isinstance(source, pl.DataFrame) else load_events(source)


def compute_reports(
    source: str | os.PathLike[str] | pl.DataFrame,
    settings: KpiSettings,
    breakdowns: tuple[Breakdown, ...],
) -> dict[Breakdown, KpiReport]:
    """Several breakdowns of the same events, reading and pairing them only once."""
    settings = settings.validated()
    tables = build_tables(_events(source), settings)
    total = _total_sums(tables, settings)  # the same for every breakdown
    return {by: _build(tables, replace(settings, by=by), total) for by in breakdowns}


def compute_queue_report(
    source: str | os.PathLike[str] | pl.DataFrame, settings: KpiSettings, queue: str
) -> KpiReport | None:
    """One queue's view of the events: its interval rows (``settings.interval_s``) and,
    as the total, its per-queue row over all its channels; no benchmarks (they judge
    the whole center).  None if the queue had no visits and no legs."""
    settings = replace(settings.validated(), by=Breakdown.INTERVAL)
    tables = build_tables(_events(source), settings)
    totals = [r for r in _sums(tables, settings, _QUEUE_ALL_CHANNELS) if r["queue"] == queue]
    if not totals:
        return None
    report = _build(tables, settings, _total_sums(tables, settings))
    rows = tuple(r for r in report.rows if r.queue == queue)
    return replace(
        report, rows=rows, total=_row(_QUEUE_ALL_CHANNELS, totals[0], settings), benchmarks=()
    )
