"""KPI reports over the live event log: ``GET /api/reports/kpi`` and the page ``/reports``.

The report is the KPI engine's (``callcenter.kpi``, docs/kpis.md) run on the events the
live engine wrote (``events.source = 'live'``) with ``from <= t < to``, broken down by
interval — exactly what ``callcenter kpi --by interval`` reports for the same events
exported with ``callcenter db export``.  ``queue`` keeps that queue's interval rows and
makes its per-queue row the total.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import fields, replace
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy import select
from sqlalchemy.engine import Connection

from callcenter.api.center import Center, center
from callcenter.api.deps import Db, require
from callcenter.api.errors import ApiError, not_found
from callcenter.auth.permissions import Permission
from callcenter.auth.service import Principal
from callcenter.errors import UserError
from callcenter.kpi.settings import Breakdown, KpiSettings, SlMode
from callcenter.live.engine import LIVE_SOURCE
from callcenter.live.wallboard import utc_day_start
from callcenter.storage.eventlog import read_frame
from callcenter.storage.tables import QueueRow
from callcenter.units import parse_duration

if TYPE_CHECKING:
    import polars as pl

    from callcenter.kpi.results import KpiReport

router = APIRouter(tags=["reports"])

DEFAULT_SL_THRESHOLD_S: Final = 20.0  # the KPI engine's default, when no queue is chosen
INTERVALS: Final = ("15m", "30m", "60m")
_TIME_HINT: Final = (
    "an ISO 8601 time such as 2024-05-01T08:00:00Z (UTC unless an offset is given) or epoch seconds"
)

Reader = Annotated[Principal, Depends(require(Permission.REPORTS))]
CenterDep = Annotated[Center, Depends(center)]


def parse_time(value: str, name: str) -> float:
    """Epoch seconds of an ISO 8601 time (UTC unless it says otherwise) or epoch seconds."""
    text = value.strip()
    try:
        t = float(text)
    except ValueError:
        try:
            when = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ApiError(422, f"{name} {value!r}: expected {_TIME_HINT}") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        t = when.timestamp()
    if not math.isfinite(t):
        raise ApiError(422, f"{name} {value!r}: expected {_TIME_HINT}")
    return t


def interval_seconds(text: str) -> int:
    """``15m`` / ``30m`` / ``60m`` (any whole number of minutes dividing a day) in seconds."""
    try:
        seconds = parse_duration(text, what="interval")
    except UserError as e:
        raise ApiError(422, str(e)) from None
    if seconds <= 0 or seconds % 60 or 86_400 % seconds:
        raise ApiError(
            422,
            f"interval must be a whole number of minutes that divides a day "
            f"(e.g. {', '.join(INTERVALS)}), got {text!r}",
        )
    return int(seconds)


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
    from callcenter.kpi import compute_reports

    frame = live_frame(conn, start, end)
    if frame.height == 0:
        return None
    reports = compute_reports(frame, settings, (Breakdown.INTERVAL, Breakdown.QUEUE))
    report = reports[Breakdown.INTERVAL]
    if queue is None:
        return report
    total = next((r for r in reports[Breakdown.QUEUE].rows if r.queue == queue), None)
    if total is None:
        return None
    rows = tuple(r for r in report.rows if r.queue == queue)
    return replace(report, rows=rows, total=total, benchmarks=())


def _empty_csv() -> str:
    from callcenter.kpi.export import GROUPS, KEY_COLUMNS

    cols = list(KEY_COLUMNS)
    for _, cls in GROUPS:
        cols += [f.name for f in fields(cls) if f.name != "paused_by_reason_s"]
    return ",".join(cols) + "\n"


@router.get("/api/reports/kpi", response_model=None)
def get_kpi_report(
    _p: Reader,
    s: Db,
    c: CenterDep,
    from_: Annotated[
        str | None, Query(alias="from", description="start (ISO 8601 / epoch)")
    ] = None,
    to: Annotated[str | None, Query(description="end, exclusive (default: now)")] = None,
    interval: Annotated[str, Query(description="15m, 30m or 60m")] = "30m",
    queue: Annotated[str | None, Query(description="one queue (default: all)")] = None,
    format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json",
    sl_threshold: Annotated[
        float | None, Query(ge=0, description="service-level threshold T, seconds")
    ] = None,
    sl_mode: Annotated[SlMode, Query(description="service-level definition")] = SlMode.OFFERED,
) -> Response:
    """KPIs per interval (and queue) of the live log, with a total row; see docs/kpis.md.

    ``from`` defaults to today's UTC midnight, ``to`` to now.  The service-level
    threshold defaults to the queue's ``sl_threshold_s`` (with ``queue``) or 20 s.
    """
    now = c.clock()
    start = parse_time(from_, "from") if from_ is not None else utc_day_start(now)
    end = parse_time(to, "to") if to is not None else now
    if end <= start:
        raise ApiError(422, f"to ({to or 'now'}) must be after from ({from_ or 'midnight'})")
    if queue is not None:
        row = s.scalar(select(QueueRow).where(QueueRow.name == queue))
        if row is None:
            raise not_found("queue", queue)
        threshold = row.sl_threshold_s if sl_threshold is None else sl_threshold
    else:
        threshold = DEFAULT_SL_THRESHOLD_S if sl_threshold is None else sl_threshold
    settings = KpiSettings(
        by=Breakdown.INTERVAL,
        interval_s=interval_seconds(interval),
        sl_threshold_s=threshold,
        sl_mode=sl_mode,
    ).validated()
    with c.db.connect() as conn:
        report = kpi_report(conn, start, end, settings, queue)
    if format == "csv":
        from callcenter.kpi.export import report_to_csv

        name = f"kpi-{_stamp(start)}-{_stamp(end)}{'-' + queue if queue else ''}.csv"
        return PlainTextResponse(
            _empty_csv() if report is None else report_to_csv(report),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    body: dict[str, Any] = {"from": start, "to": end, "queue": queue}
    if report is None:
        body.update(settings=_settings(settings), period=None, total=None, rows=[], benchmarks=[])
    else:
        body.update(report.to_dict())
    return JSONResponse(body)


def _settings(settings: KpiSettings) -> dict[str, Any]:
    from callcenter.kpi.settings import SL_MODE_TEXT

    return {
        "by": settings.by.value,
        "interval_s": settings.interval_s,
        "sl_mode": settings.sl_mode.value,
        "sl_definition": SL_MODE_TEXT[settings.sl_mode],
        "sl_threshold_s": settings.sl_threshold_s,
        "short_abandon_s": settings.short_abandon_s,
    }


def _stamp(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y%m%dT%H%MZ")


__all__ = ["interval_seconds", "kpi_report", "live_frame", "parse_time", "router"]
