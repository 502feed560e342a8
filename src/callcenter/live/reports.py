"""KPI reports over the live event log: the use case behind ``GET /api/reports/kpi``.

The report is the KPI engine's (``callcenter.kpi``, docs/kpis.md) run on the events the
live engine wrote (``events.source = 'live'``) with ``from <= t < to``, broken down by
interval — exactly what ``callcenter kpi --by interval`` reports for the same events
exported with ``callcenter db export``.  ``queue`` keeps that queue's interval rows and
makes its per-queue row the total.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from callcenter.errors import NotFoundError, UserError
from callcenter.kpi.settings import Breakdown, KpiSettings, SlMode
from callcenter.live.engine import LIVE_SOURCE
from callcenter.live.wallboard import utc_day_start
from callcenter.storage.eventlog import read_frame
from callcenter.storage.tables import QueueRow
from callcenter.units import parse_interval, parse_time

if TYPE_CHECKING:
    import polars as pl

    from callcenter.kpi.results import KpiReport

DEFAULT_SL_THRESHOLD_S: Final = 20.0  # the KPI engine's default, when no queue is chosen
INTERVALS: Final = ("15m", "30m", "60m")


@dataclass(frozen=True, slots=True)
class LiveReport:
    """A report asked for: its window, queue, settings, and the report (None: no events)."""

    start: float
    end: float
    queue: str | None
    settings: KpiSettings
    report: KpiReport | None

    def to_dict(self) -> dict[str, Any]:
        """The JSON body: window and queue, then the report (or empty settings-only rows)."""
        body: dict[str, Any] = {"from": self.start, "to": self.end, "queue": self.queue}
        if self.report is None:
            body.update(
                settings=self.settings.to_dict(),
                period=None,
                total=None,
                rows=[],
                benchmarks=[],
            )
        else:
            body.update(self.report.to_dict())
        return body

    def to_csv(self) -> str:
        """The CSV of ``callcenter kpi --format csv`` (the header alone when empty)."""
        from callcenter.kpi.export import report_to_csv

        return empty_csv() if self.report is None else report_to_csv(self.report)

    def file_name(self) -> str:
        queue = f"-{self.queue}" if self.queue else ""
        return f"kpi-{_stamp(self.start)}-{_stamp(self.end)}{queue}.csv"


def live_frame(conn: Connection, start: float, end: float) -> pl.DataFrame:
    """The live events with ``start <= t < end`` as the KPI engine's input frame.

    The frame of :func:`callcenter.storage.eventlog.read_frame`, limited to the rows the
    live engine wrote (other loads in the same database are left out).
    """
    return read_frame(conn, start=start, end=end, source=LIVE_SOURCE)


def kpi_report(
    conn: Connection, start: float, end: float, settings: KpiSettings, queue: str | None
) -> KpiReport | None:
    """The interval report of the live log in ``[start, end)``; None if it has no events.

    With ``queue``: that queue's interval rows, its per-queue row as the total, and no
    benchmarks (they judge the whole center); None if the queue had no visits or legs.
    """
    from callcenter.kpi import compute_kpis, compute_queue_report

    frame = live_frame(conn, start, end)
    if frame.height == 0:
        return None
    if queue is None:
        return compute_kpis(frame, settings)
    return compute_queue_report(frame, settings, queue)


def live_kpi(
    db: Engine,
    s: Session,
    *,
    now: float,
    start: str | None,
    end: str | None,
    interval: str,
    queue: str | None,
    sl_threshold: float | None,
    sl_mode: SlMode,
) -> LiveReport:
    """The live report asked for by the API's parameters (times as given by the user).

    ``start`` defaults to today's UTC midnight, ``end`` to ``now``.  The service-level
    threshold defaults to the queue's ``sl_threshold_s`` (with ``queue``) or 20 s.
    """
    t0 = parse_time(start, what="from") if start is not None else utc_day_start(now)
    t1 = parse_time(end, what="to") if end is not None else now
    if t1 <= t0:
        raise UserError(f"to ({end or 'now'}) must be after from ({start or 'midnight'})")
    threshold = DEFAULT_SL_THRESHOLD_S
    if queue is not None:
        row = s.scalar(select(QueueRow).where(QueueRow.name == queue))
        if row is None:
            raise NotFoundError("queue", queue)
        threshold = row.sl_threshold_s
    settings = KpiSettings(
        by=Breakdown.INTERVAL,
        interval_s=parse_interval(interval),
        sl_threshold_s=threshold if sl_threshold is None else sl_threshold,
        sl_mode=sl_mode,
    ).validated()
    with db.connect() as conn:
        report = kpi_report(conn, t0, t1, settings, queue)
    return LiveReport(start=t0, end=t1, queue=queue, settings=settings, report=report)


def empty_csv() -> str:
    from callcenter.kpi.export import GROUPS, KEY_COLUMNS

    cols = list(KEY_COLUMNS)
    for _, cls in GROUPS:
        cols += [f.name for f in fields(cls) if f.name != "paused_by_reason_s"]
    return ",".join(cols) + "\n"


def _stamp(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y%m%dT%H%MZ")


__all__ = [
    "DEFAULT_SL_THRESHOLD_S",
    "INTERVALS",
    "LiveReport",
    "empty_csv",
    "kpi_report",
    "live_frame",
    "live_kpi",
]
