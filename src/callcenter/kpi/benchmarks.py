"""Industry benchmarks a report is compared with (MISSION.md M14, seed 001).

Seed 001 quotes the IFC (World Bank Group) call-center metrics: service level 80 % of
calls answered within 20 s; ASA includes queue and ring time but not IVR time (no
figure given); abandonment 5–8 %; occupancy 60–80 %; talk time 4 minutes per call;
after-call work 6 minutes.  (Forecast accuracy, schedule adherence, absenteeism,
attrition, CSAT and FCR are quoted too but are not measured from the event log.)

How "met" is decided is this project's reading of those figures; docs/kpis.md explains
each rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from callcenter.kpi.results import BenchmarkResult, KpiRow
from callcenter.kpi.settings import KpiSettings

SOURCE: Final = "IFC (World Bank Group) via seed 001 (MISSION.md M14)"


@dataclass(frozen=True, slots=True)
class Benchmark:
    key: str  # the metric of the total row it applies to
    label: str
    unit: str  # "ratio" | "seconds"
    benchmark: str  # as quoted by the source
    low: float | None  # met when value >= low (None: no lower bound)
    high: float | None  # met when value <= high (None: no upper bound)
    source: str = SOURCE

    @property
    def rule(self) -> str:
        if self.low is None and self.high is None:
            return "no benchmark figure"
        if self.low is not None and self.high is not None:
            return f"{self.low:g} <= value <= {self.high:g}"
        if self.low is not None:
            return f">= {self.low:g}"
        return f"<= {self.high:g}"

    def met(self, value: float | None) -> bool | None:
        if value is None or (self.low is None and self.high is None):
            return None
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


BENCHMARKS: Final[tuple[Benchmark, ...]] = (
    Benchmark("service_level", "Service level", "ratio", "80 % answered within 20 s", 0.80, None),
    Benchmark("asa_s", "Average speed of answer", "seconds", "—", None, None),
    Benchmark("abandon_rate", "Abandonment rate", "ratio", "5–8 %", None, 0.08),
    Benchmark("occupancy", "Occupancy", "ratio", "60–80 %", 0.60, 0.80),
    Benchmark("avg_talk_s", "Talk time", "seconds", "about 4 min per call", None, 240.0),
    Benchmark("avg_acw_s", "After-call work", "seconds", "6 min", None, 360.0),
)
"""The benchmarks, in report order."""

SL_BENCHMARK_THRESHOLD_S: Final = 20.0


def evaluate(
    total: KpiRow, settings: KpiSettings, service_level_at_20s: float | None
) -> tuple[BenchmarkResult, ...]:
    """Compare the total row with :data:`BENCHMARKS`.

    The service level is compared as measured at the benchmark's own 20 s threshold (with
    the report's ``sl_mode``), whatever threshold the report itself uses.
    """
    v, h, a = total.visits, total.handling, total.agent_time
    values: dict[str, float | None] = {
        "service_level": service_level_at_20s,
        "asa_s": v.asa_s if v else None,
        "abandon_rate": v.abandon_rate if v else None,
        "occupancy": a.occupancy if a else None,
        "avg_talk_s": h.avg_talk_s if h else None,
        "avg_acw_s": h.avg_acw_s if h else None,
    }
    out = []
    for b in BENCHMARKS:
        value = values[b.key]
        note = None
        if b.key == "service_level":
            note = f"{settings.sl_mode.value} definition, measured at 20 s"
            if settings.sl_threshold_s != SL_BENCHMARK_THRESHOLD_S:
                note += f" (the report's own threshold is {settings.sl_threshold_s:g} s)"
        elif b.key == "asa_s":
            note = "the source defines ASA (queue + ring time, no IVR) but gives no figure"
        elif b.key == "abandon_rate":
            note = "typical range 5–8 %; at most 8 % counts as met"
        elif b.key == "avg_talk_s" and value is not None:
            note = f"{value - 240.0:+.0f} s against 4 min; at most 4 min counts as met"
        out.append(
            BenchmarkResult(
                key=b.key,
                label=b.label,
                value=value,
                unit=b.unit,
                benchmark=b.benchmark,
                rule=b.rule,
                met=b.met(value),
                note=note,
                source=b.source,
            )
        )
    return tuple(out)
