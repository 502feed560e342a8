"""A report as JSON (the documented shape) or CSV (one header row, one row per report row)."""

from __future__ import annotations

import csv
import io
from dataclasses import fields
from typing import Any, Final

import orjson

from callcenter.kpi.results import (
    AgentTimeMetrics,
    HandlingMetrics,
    KpiReport,
    VisitMetrics,
    row_to_dict,
)

KEY_COLUMNS: Final = ("level", "interval_start", "day", "queue", "agent", "channel")
GROUPS: Final = (
    ("visits", VisitMetrics),
    ("handling", HandlingMetrics),
    ("agent_time", AgentTimeMetrics),
)
REASON_PREFIX: Final = "paused_s:"


def report_to_json(report: KpiReport, *, indent: bool = True) -> str:
    option = orjson.OPT_INDENT_2 if indent else 0
    return orjson.dumps(report.to_dict(), option=option).decode()


def csv_columns(report: KpiReport) -> list[str]:
    """Key columns, then every metric field (paused reasons as ``paused_s:<reason>``)."""
    cols = list(KEY_COLUMNS)
    for _, cls in GROUPS:
        cols += [f.name for f in fields(cls) if f.name != "paused_by_reason_s"]
    reasons = sorted(
        {
            reason
            for row in (*report.rows, report.total)
            if row.agent_time is not None
            for reason in row.agent_time.paused_by_reason_s
        }
    )
    return cols + [REASON_PREFIX + r for r in reasons]


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: row[k] for k in KEY_COLUMNS}
    for group, _ in GROUPS:
        for name, value in (row[group] or {}).items():
            if name == "paused_by_reason_s":
                out.update({REASON_PREFIX + r: s for r, s in value.items()})
            else:
                out[name] = value
    return out


def report_to_csv(report: KpiReport) -> str:
    """CSV text: a header row, the breakdown rows, then the total row (level ``total``)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=csv_columns(report), lineterminator="\n")
    writer.writeheader()
    for row in (*report.rows, report.total):
        writer.writerow(_flat(row_to_dict(row)))
    return buf.getvalue()
