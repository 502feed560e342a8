"""The typed results of a KPI report and their JSON shape (documented in docs/kpis.md).

Ratios are ``None`` (JSON ``null``) when their denominator is zero; they are fractions
(0.8 = 80 %).  Durations are seconds.  Every metric group of a row is ``None`` where it
does not apply (queue-visit figures on agent rows, agent time on per-queue rows).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Final

from callcenter.kpi.settings import KpiSettings, SlMode

SECONDS_DECIMALS: Final = 3
RATIO_DECIMALS: Final = 6


class RowLevel(StrEnum):
    INTERVAL = "interval"
    QUEUE = "queue"
    AGENT = "agent"
    DAY = "day"
    CHANNEL = "channel"
    TOTAL = "total"


def ratio(num: float, den: float) -> float | None:
    """``num / den``, or None when ``den`` is 0."""
    return None if den == 0 else num / den


def service_levels(
    within: int, answered: int, finished: int, short_abandoned: int
) -> dict[SlMode, float | None]:
    """The three service-level definitions; ``finished`` = answered + abandoned + timed out."""
    return {
        SlMode.ANSWERED: ratio(within, answered),
        SlMode.OFFERED: ratio(within, finished),
        SlMode.EXCL_SHORT: ratio(within, finished - short_abandoned),
    }


@dataclass(frozen=True, slots=True)
class VisitMetrics:
    """Queue visits: one per ``enqueue``, counted in the interval it entered the queue."""

    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    timed_out: int
    overflowed: int
    exited: int
    callbacks_requested: int
    open: int
    answered_within: int
    service_level: float | None  # the definition picked by the settings' sl_mode
    service_level_answered: float | None
    service_level_offered: float | None
    service_level_excl_short: float | None
    abandon_rate: float | None
    asa_s: float | None
    avg_wait_s: float | None
    max_wait_s: float | None

    @classmethod
    def from_sums(cls, s: dict[str, Any], settings: KpiSettings) -> VisitMetrics:
        answered, abandoned, short = s["answered"], s["abandoned"], s["short_abandoned"]
        finished = answered + abandoned + s["timed_out"]
        within = s["answered_within"]
        by_mode = service_levels(within, answered, finished, short)
        if settings.sl_mode is SlMode.EXCL_SHORT:
            abandon_rate = ratio(abandoned - short, finished - short)
        else:
            abandon_rate = ratio(abandoned, finished)
        max_wait = s["max_wait"]
        return cls(
            offered=s["offered"],
            answered=answered,
            abandoned=abandoned,
            short_abandoned=short,
            timed_out=s["timed_out"],
            overflowed=s["overflowed"],
            exited=s["exited"],
            callbacks_requested=s["callbacks_requested"],
            open=s["open"],
            answered_within=within,
            service_level=by_mode[settings.sl_mode],
            service_level_answered=by_mode[SlMode.ANSWERED],
            service_level_offered=by_mode[SlMode.OFFERED],
            service_level_excl_short=by_mode[SlMode.EXCL_SHORT],
            abandon_rate=abandon_rate,
            asa_s=ratio(s["wait_sum_answered"], answered),
            avg_wait_s=ratio(s["wait_sum_finished"], finished),
            max_wait_s=None if max_wait is None else float(max_wait),
        )


@dataclass(frozen=True, slots=True)
class HandlingMetrics:
    """Agent legs (one per ``connect``) and agent-side events."""

    offers: int  # the contact rang an agent (offer events)
    connects: int  # an agent answered (connect events = legs)
    ring_noanswer: int
    handled: int  # legs whose conversation ended (complete or transfer)
    in_progress: int  # legs still talking at the end of the log (not in AHT)
    aht_s: float | None
    avg_talk_s: float | None
    avg_hold_s: float | None
    avg_acw_s: float | None
    transfers: int
    transfer_rate: float | None
    callbacks_made: int

    @classmethod
    def from_sums(cls, s: dict[str, Any]) -> HandlingMetrics:
        handled = s["handled"]
        talk, hold, acw = s["talk_sum"], s["hold_sum"], s["acw_sum"]
        return cls(
            offers=s["offers"],
            connects=s["connects"],
            ring_noanswer=s["ring_noanswer"],
            handled=handled,
            in_progress=s["in_progress"],
            aht_s=ratio(talk + hold + acw, handled),
            avg_talk_s=ratio(talk, handled),
            avg_hold_s=ratio(hold, handled),
            avg_acw_s=ratio(acw, handled),
            transfers=s["transfers"],
            transfer_rate=ratio(s["transfers"], handled),
            callbacks_made=s["callbacks_made"],
        )


@dataclass(frozen=True, slots=True)
class AgentTimeMetrics:
    """Seconds agents spent in each state; summed over agents above the agent level."""

    staffed_s: float  # logged in: every state but logged_out
    available_s: float
    ringing_s: float
    on_contact_s: float
    wrap_up_s: float
    paused_s: float
    paused_by_reason_s: dict[str, float]
    occupancy: float | None  # busy / (busy + available); busy = ringing + on contact + wrap-up
    utilisation: float | None  # busy / staffed

    @classmethod
    def from_sums(cls, s: dict[str, Any], reasons: dict[str, float]) -> AgentTimeMetrics:
        available, ringing = float(s["available_s"]), float(s["ringing_s"])
        on_contact, wrap_up = float(s["on_contact_s"]), float(s["wrap_up_s"])
        paused = float(s["paused_s"])
        busy = ringing + on_contact + wrap_up
        staffed = busy + available + paused
        return cls(
            staffed_s=staffed,
            available_s=available,
            ringing_s=ringing,
            on_contact_s=on_contact,
            wrap_up_s=wrap_up,
            paused_s=paused,
            paused_by_reason_s=dict(sorted(reasons.items())),
            occupancy=ratio(busy, busy + available),
            utilisation=ratio(busy, staffed),
        )


@dataclass(frozen=True, slots=True)
class KpiRow:
    """One row of a report: its key (which of the key fields are set depends on ``level``)."""

    level: RowLevel
    interval_start: datetime | None  # interval rows (UTC)
    day: date | None  # day rows (UTC calendar day)
    queue: str | None  # per-queue rows; None = all queues
    agent: str | None  # agent rows
    visits: VisitMetrics | None
    handling: HandlingMetrics | None
    agent_time: AgentTimeMetrics | None
    channel: str | None = None  # channel and queue rows: the contacts' channel (None: unknown)


@dataclass(frozen=True, slots=True)
class Period:
    """What the report covers: first and last event time (UTC) and the number of events."""

    start: datetime
    end: datetime
    events: int


@dataclass(frozen=True, slots=True)
class BenchmarkResult:
    """One figure of the report compared with its industry benchmark."""

    key: str  # the metric compared, e.g. "service_level", "avg_talk_s"
    label: str
    value: float | None
    unit: str  # "ratio" | "seconds"
    benchmark: str  # the benchmark as quoted, e.g. "80 % answered within 20 s"; "—" if none
    rule: str  # when it counts as met, e.g. ">= 0.8"
    met: bool | None  # None: no value, or no benchmark figure
    note: str | None
    source: str


@dataclass(frozen=True, slots=True)
class KpiReport:
    settings: KpiSettings
    period: Period
    total: KpiRow
    rows: tuple[KpiRow, ...]
    benchmarks: tuple[BenchmarkResult, ...]

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON shape (see docs/kpis.md)."""
        return {
            "settings": self.settings.to_dict(),
            "period": {
                "start": _iso(self.period.start),
                "end": _iso(self.period.end),
                "events": self.period.events,
            },
            "total": row_to_dict(self.total),
            "rows": [row_to_dict(r) for r in self.rows],
            "benchmarks": [_plain(b) for b in self.benchmarks],
        }


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _round(name: str, value: Any) -> Any:
    if isinstance(value, float):
        return round(value, SECONDS_DECIMALS if name.endswith("_s") else RATIO_DECIMALS)
    if isinstance(value, dict):
        return {k: _round(name, v) for k, v in value.items()}
    return value


def _plain(obj: Any) -> dict[str, Any] | None:
    if obj is None:
        return None
    return {f.name: _round(f.name, getattr(obj, f.name)) for f in fields(obj)}


def row_to_dict(row: KpiRow) -> dict[str, Any]:
    return {
        "level": row.level.value,
        "interval_start": None if row.interval_start is None else _iso(row.interval_start),
        "day": None if row.day is None else row.day.isoformat(),
        "queue": row.queue,
        "agent": row.agent,
        "channel": row.channel,
        "visits": _plain(row.visits),
        "handling": _plain(row.handling),
        "agent_time": _plain(row.agent_time),
    }
