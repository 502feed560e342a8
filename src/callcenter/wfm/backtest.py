"""Rolling-origin backtest: how accurate a forecast method was on the history's last weeks.

For ``weeks`` origins, one a week, the last at seven days before the end of the history,
each method is trained on the days before the origin only and forecasts the horizon after
it; the forecasts are compared with what happened (the days left in the history).  The
accuracy figures (Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 3rd
ed., §5.8; Tashman 2000 for rolling origins):

* WAPE  = Σ|a − f| / Σa  (weighted absolute percentage error)
* MAPE  = mean of |a − f| / a over the cells with a > 0
* bias  = Σ(f − a) / Σa  (positive: over-forecast)
* within ±5 %: the share of cells with a > 0 and |a − f| ≤ 5 % of a

at two levels: **intervals** (queue × day × interval of the day) and **days** (queue × day
totals).  Seed 001 quotes a "forecast accuracy" benchmark of ±5 % without naming the
period; it is applied here to daily totals (:data:`BENCHMARK`), and the interval level is
shown beside it together with its **Poisson floor**: the WAPE that even the exact expected
volume would have if arrivals are Poisson, Σ E|X − a| / Σa with X ~ Poisson(a).

Days that are gaps in the data (an open weekday with no contacts and no special-day
entry) are not scored: the method could not have known.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from callcenter.kpi.benchmarks import Benchmark
from callcenter.wfm.forecast import (
    BASELINE,
    MIN_HISTORY_DAYS,
    ForecastOptions,
    Method,
    describe_plan,
    forecast_counts,
    plan_days,
    single_threaded_blas,
)
from callcenter.wfm.history import ForecastInputError, Grid, History

WITHIN: Final = 0.05
BENCHMARK: Final = Benchmark(
    "forecast_wape_daily",
    "Forecast accuracy (daily totals)",
    "ratio",
    "±5 % (forecast vs actual contacts)",
    None,
    WITHIN,
)
"""Seed 001's forecast-accuracy figure, read as: the daily totals' WAPE is at most 5 %."""


def poisson_mad(mean: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """E|X − λ| for X ~ Poisson(λ): 2 λ P(X = ⌊λ⌋) (the closed form of the mean absolute
    deviation of a Poisson variable; 0 for λ = 0)."""
    from scipy.special import gammaln, xlogy  # lighter to import than scipy.stats

    lam = np.asarray(mean, dtype=np.float64)
    k = np.floor(lam)
    pmf = np.exp(xlogy(k, lam) - lam - gammaln(k + 1.0))
    return np.asarray(2.0 * lam * pmf, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Accuracy:
    """Error sums over a set of scored cells (intervals or days); ratios as properties."""

    cells: int
    actual: float
    forecast: float
    abs_error: float
    ape_sum: float  # Σ |a − f| / a over cells with a > 0
    positive: int  # cells with a > 0
    within: int  # cells with a > 0 and |a − f| <= 5 % of a
    poisson_floor: float  # Σ E|X − a|, X ~ Poisson(a)

    @classmethod
    def of(cls, actual: Grid, forecast: Grid) -> Accuracy:
        a = np.asarray(actual, dtype=np.float64).ravel()
        f = np.asarray(forecast, dtype=np.float64).ravel()
        err = np.abs(a - f)
        pos = a > 0
        ape = err[pos] / a[pos]
        return cls(
            cells=int(a.size),
            actual=float(a.sum()),
            forecast=float(f.sum()),
            abs_error=float(err.sum()),
            ape_sum=float(ape.sum()),
            positive=int(pos.sum()),
            within=int((ape <= WITHIN + 1e-12).sum()),
            poisson_floor=float(poisson_mad(a).sum()),
        )

    @property
    def wape(self) -> float | None:
        return self.abs_error / self.actual if self.actual > 0 else None

    @property
    def mape(self) -> float | None:
        return self.ape_sum / self.positive if self.positive else None

    @property
    def bias(self) -> float | None:
        return (self.forecast - self.actual) / self.actual if self.actual > 0 else None

    @property
    def within_share(self) -> float | None:
        return self.within / self.positive if self.positive else None

    @property
    def floor_wape(self) -> float | None:
        return self.poisson_floor / self.actual if self.actual > 0 else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "cells": self.cells,
            "actual": self.actual,
            "forecast": self.forecast,
            "wape": self.wape,
            "mape": self.mape,
            "bias": self.bias,
            "within_5pct": self.within_share,
            "poisson_floor_wape": self.floor_wape,
        }


@dataclass(frozen=True, slots=True)
class MethodScore:
    """One method's accuracy over every origin: intervals, days, per interval of the day
    (``by_slot[s]``: the ``s``-th interval of the day) and per queue (interval level)."""

    method: Method
    interval: Accuracy
    daily: Accuracy
    by_slot: tuple[Accuracy, ...]
    by_queue: tuple[Accuracy, ...]

    @property
    def benchmark_met(self) -> bool | None:
        return BENCHMARK.met(self.daily.wape)


@dataclass(frozen=True, slots=True)
class BacktestReport:
    queues: tuple[str, ...]
    interval_s: int
    tz: str
    horizon_days: int
    origins: tuple[date, ...]  # the first forecast day of each origin
    history_end: date
    scores: tuple[MethodScore, ...]  # the method(s) asked for, then the baseline
    notes: tuple[str, ...] = ()

    def score(self, method: Method) -> MethodScore:
        return next(s for s in self.scores if s.method is method)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (slot start times as ``HH:MM`` of the local day)."""

        def slot_name(s: int) -> str:
            minutes = s * self.interval_s // 60
            return f"{minutes // 60:02d}:{minutes % 60:02d}"

        return {
            "queues": list(self.queues),
            "interval_s": self.interval_s,
            "tz": self.tz,
            "horizon_days": self.horizon_days,
            "origins": [d.isoformat() for d in self.origins],
            "history_end": self.history_end.isoformat(),
            "benchmark": {
                "label": BENCHMARK.label,
                "figure": BENCHMARK.benchmark,
                "rule": f"daily WAPE {BENCHMARK.rule}",
                "source": BENCHMARK.source,
            },
            "methods": [
                {
                    "method": s.method.value,
                    "baseline": s.method is BASELINE,
                    "benchmark_met": s.benchmark_met,
                    "interval": s.interval.to_dict(),
                    "daily": s.daily.to_dict(),
                    "by_queue": {
                        q: a.to_dict() for q, a in zip(self.queues, s.by_queue, strict=True)
                    },
                    "by_interval_of_day": [
                        {"interval": slot_name(i), **a.to_dict()}
                        for i, a in enumerate(s.by_slot)
                        if a.actual > 0 or a.forecast > 0
                    ],
                }
                for s in self.scores
            ],
            "notes": list(self.notes),
        }


Progress = Callable[[int, int], None]


def _origins(history: History, weeks: int, methods: Sequence[Method]) -> list[int]:
    if weeks < 1:
        raise ForecastInputError(f"--weeks: {weeks} is not valid; expected at least 1 week")
    need = max(MIN_HISTORY_DAYS[m] for m in methods)
    first = history.days - 7 * weeks
    if first < need:
        slowest = max(methods, key=lambda m: MIN_HISTORY_DAYS[m])
        raise ForecastInputError(
            f"history: {history.days} days is too short for a {weeks}-week backtest of "
            f"{slowest.value}; expected at least {need + 7 * weeks} days ({need} to train "
            f"before the first origin, then {weeks} week(s))"
        )
    return [history.days - 7 * k for k in range(weeks, 0, -1)]


def backtest(
    history: History,
    options: ForecastOptions,
    *,
    weeks: int = 4,
    progress: Progress | None = None,
) -> BacktestReport:
    """Backtest ``options.method`` and the seasonal-naive baseline over the last ``weeks``
    weekly origins of ``history`` (each scored over ``options.horizon_days`` days, or as
    many as the history has after the origin)."""
    options = options.validated()
    methods = [options.method] if options.method is BASELINE else [options.method, BASELINE]
    origins = _origins(history, weeks, methods)
    n_q, slots = len(history.queues), history.slots
    cells: dict[Method, list[list[tuple[Grid, Grid]]]] = {
        m: [[] for _ in range(n_q)] for m in methods
    }
    notes: list[str] = []
    done, total = 0, len(origins) * n_q
    with single_threaded_blas():  # many tiny fits: BLAS threads only contend
        for q, name in enumerate(history.queues):
            counts = history.contacts[q]
            full_plan = plan_days(counts.sum(axis=1), history.first_day, options)
            notes += describe_plan(name, full_plan, history.first_day)
            gaps = set(full_plan.missing)
            for t in origins:
                days = [t + h for h in range(options.horizon_days) if t + h < history.days]
                scored = [d for d in days if d not in gaps]
                for m in methods:
                    fc, _ = forecast_counts(counts[:t], history.first_day, options, method=m)
                    rows = [d - t for d in scored]
                    cells[m][q].append((counts[scored], fc[rows]))
                done += 1
                if progress is not None:
                    progress(done, total)
    scores = tuple(_score(m, cells[m], slots) for m in methods)
    return BacktestReport(
        queues=history.queues,
        interval_s=history.interval_s,
        tz=history.tz,
        horizon_days=options.horizon_days,
        origins=tuple(history.first_day + timedelta(days=t) for t in origins),
        history_end=history.last_day,
        scores=scores,
        notes=tuple(notes),
    )


def _score(method: Method, per_queue: list[list[tuple[Grid, Grid]]], slots: int) -> MethodScore:
    """Accuracy sums of one method from (actual, forecast) day × slot blocks per queue."""
    empty = np.zeros((0, slots))
    stacked = [
        (
            np.concatenate([a for a, _ in blocks]) if blocks else empty,
            np.concatenate([f for _, f in blocks]) if blocks else empty,
        )
        for blocks in per_queue
    ]
    actual = np.concatenate([a for a, _ in stacked])
    fc = np.concatenate([f for _, f in stacked])
    return MethodScore(
        method=method,
        interval=Accuracy.of(actual, fc),
        daily=Accuracy.of(actual.sum(axis=1), fc.sum(axis=1)),
        by_slot=tuple(Accuracy.of(actual[:, s], fc[:, s]) for s in range(slots)),
        by_queue=tuple(Accuracy.of(a, f) for a, f in stacked),
    )


def fmt_ratio(value: float | None) -> str:
    """``12.3%`` or ``—``."""
    return "—" if value is None or not math.isfinite(value) else f"{100 * value:.1f}%"
