"""The scheduler's options and results: the roster (shifts and breaks), the coverage per
interval and per day, the solver's status (see :mod:`callcenter.wfm.schedule`)."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field

from callcenter.wfm.shifts import ScheduleError


@dataclass(frozen=True, slots=True)
class ScheduleOptions:
    """Solver settings; the objective weights are per agent and grid slot."""

    time_limit_s: float = 60.0
    workers: int = 0  # 0: one per CPU core
    shortfall_weight: int = 1000
    over_weight: int = 10
    hour_weight: int = 1
    start_band_s: int = 7200  # starts of one bucket lie within this (see the module doc)
    seed: int = 0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.time_limit_s) and self.time_limit_s > 0):
            raise ScheduleError(
                f"--time-limit: {self.time_limit_s!r} is not valid; expected a positive duration"
            )
        if self.workers < 0:
            raise ScheduleError(
                f"--workers: {self.workers} is not valid; expected 0 (one per CPU core) or more"
            )
        for name in ("shortfall_weight", "over_weight", "hour_weight", "start_band_s"):
            if getattr(self, name) < 0:
                raise ScheduleError(f"{name}: {getattr(self, name)} is not valid; expected >= 0")


@dataclass(frozen=True, slots=True)
class BreakAssignment:
    name: str
    start: dt.datetime
    end: dt.datetime
    paid: bool


@dataclass(frozen=True, slots=True)
class ShiftAssignment:
    """One agent's shift on one date (the date it starts), with its breaks."""

    agent: str
    date: dt.date
    template: str
    start: dt.datetime
    end: dt.datetime
    paid_s: int
    breaks: tuple[BreakAssignment, ...]


@dataclass(frozen=True, slots=True)
class CoverageRow:
    """Agents required and scheduled in one interval, averaged over its grid slots.

    ``shortfall`` and ``over`` average each slot's missing and surplus agents, so
    ``required - scheduled == shortfall - over`` always holds.
    """

    queue: str
    interval_start: dt.datetime
    interval_s: int
    required: int
    scheduled: float
    shortfall: float
    over: float


@dataclass(frozen=True, slots=True)
class DaySummary:
    """Agent-hours of one date (or of the whole horizon) and the shifts starting then."""

    date: dt.date
    required_h: float
    scheduled_h: float
    shortfall_h: float
    over_h: float
    shifts: int


@dataclass(frozen=True)
class ScheduleResult:
    status: str  # OPTIMAL or FEASIBLE
    objective: float
    best_bound: float
    gap: float  # (objective - bound) / objective
    wall_s: float
    workers: int
    start: dt.date
    days: int
    grid_s: int
    roster: list[ShiftAssignment]
    coverage: list[CoverageRow]
    warnings: list[str] = field(default_factory=list)

    def daily(self) -> list[DaySummary]:
        """Coverage per date in agent-hours, with the number of shifts starting that day."""
        acc: dict[dt.date, list[float]] = defaultdict(lambda: [0.0] * 4)
        for row in self.coverage:
            a, h = acc[row.interval_start.date()], row.interval_s / 3600
            for i, v in enumerate((row.required, row.scheduled, row.shortfall, row.over)):
                a[i] += v * h
        shifts: dict[dt.date, int] = defaultdict(int)
        for s in self.roster:
            shifts[s.date] += 1
        dates = [self.start + dt.timedelta(days=d) for d in range(self.days)]
        return [DaySummary(d, *_four(acc[d]), shifts=shifts[d]) for d in dates]

    def totals(self) -> DaySummary:
        d = self.daily()
        return DaySummary(
            self.start,
            *_four([sum(getattr(x, k) for x in d) for k in DaySummary.__slots__[1:5]]),
            shifts=len(self.roster),
        )


def _four(v: list[float]) -> tuple[float, float, float, float]:
    return v[0], v[1], v[2], v[3]
