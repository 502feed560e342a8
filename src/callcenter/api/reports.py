"""KPI reports over the live event log: ``GET /api/reports/kpi`` (the page is ``/reports``).

What the report is and its rules: :mod:`callcenter.live.reports`; this module parses the
query, calls it and renders JSON or CSV.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from callcenter.api.center import Center, center
from callcenter.api.deps import Db, require
from callcenter.auth.permissions import Permission
from callcenter.auth.service import Principal
from callcenter.kpi.settings import SlMode
from callcenter.live.reports import live_kpi

router = APIRouter(tags=["reports"])

Reader = Annotated[Principal, Depends(require(Permission.REPORTS))]
CenterDep = Annotated[Center, Depends(center)]


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
    found = live_kpi(
        c.db, s, now=c.clock(), start=from_, end=to, interval=interval, queue=queue,
        sl_threshold=sl_threshold, sl_mode=sl_mode,
    )  # fmt: skip
    if format == "csv":
        disposition = f'attachment; filename="{found.file_name()}"'
        return PlainTextResponse(
            found.to_csv(), media_type="text/csv", headers={"Content-Disposition": disposition}
        )
    return JSONResponse(found.to_dict())


__all__ = ["router"]
