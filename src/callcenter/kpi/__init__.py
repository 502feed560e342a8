"""The KPI engine: service level, abandonment, ASA, AHT, occupancy ... from the event log.

>>> from callcenter.kpi import Breakdown, KpiSettings, compute_kpis     # doctest: +SKIP
>>> report = compute_kpis("day.jsonl", KpiSettings(by=Breakdown.INTERVAL))
>>> report.total.visits.service_level, report.to_dict()["benchmarks"]

Definitions: docs/kpis.md.  Columnar (polars) throughout; see :mod:`.engine`.

Only the settings are imported eagerly; the rest (and polars) on first use, so that
registering the ``kpi`` command does not slow down every other command's start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from callcenter.kpi.settings import Breakdown, KpiSettings, KpiSettingsError, SlMode

if TYPE_CHECKING:
    from callcenter.kpi.benchmarks import BENCHMARKS, Benchmark
    from callcenter.kpi.engine import KpiTables, build_tables
    from callcenter.kpi.export import report_to_csv, report_to_json
    from callcenter.kpi.frame import events_to_frame, load_events, prepare_frame
    from callcenter.kpi.report import (
        build_report,
        compute_kpis,
        compute_queue_report,
        compute_reports,
    )
    from callcenter.kpi.results import (
        AgentTimeMetrics,
        BenchmarkResult,
        HandlingMetrics,
        KpiReport,
        KpiRow,
        Period,
        RowLevel,
        VisitMetrics,
    )

_LAZY: dict[str, str] = {
    "BENCHMARKS": "benchmarks",
    "Benchmark": "benchmarks",
    "KpiTables": "engine",
    "build_tables": "engine",
    "report_to_csv": "export",
    "report_to_json": "export",
    "events_to_frame": "frame",
    "load_events": "frame",
    "prepare_frame": "frame",
    "build_report": "report",
    "compute_kpis": "report",
    "compute_reports": "report",
    "compute_queue_report": "report",
    "AgentTimeMetrics": "results",
    "BenchmarkResult": "results",
    "HandlingMetrics": "results",
    "KpiReport": "results",
    "KpiRow": "results",
    "Period": "results",
    "RowLevel": "results",
    "VisitMetrics": "results",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'callcenter.kpi' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"callcenter.kpi.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "BENCHMARKS",
    "AgentTimeMetrics",
    "Benchmark",
    "BenchmarkResult",
    "Breakdown",
    "HandlingMetrics",
    "KpiReport",
    "KpiRow",
    "KpiSettings",
    "KpiSettingsError",
    "KpiTables",
    "Period",
    "RowLevel",
    "SlMode",
    "VisitMetrics",
    "build_report",
    "build_tables",
    "compute_kpis",
    "compute_queue_report",
    "compute_reports",
    "events_to_frame",
    "load_events",
    "prepare_frame",
    "report_to_csv",
    "report_to_json",
]
