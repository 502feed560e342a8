"""Forecast contacts and handle time per queue and interval from a :class:`History`.

The classic call-center decomposition: a day's volume, split over the day by an intraday
profile of its weekday.  Methods (docs/wfm-forecast.md has the measurements):

``seasonal-naive``  the baseline: each interval as on the same weekday one week earlier
                    (the last week before the horizon, repeated)
``weekly-average``  each interval as the mean of the same interval on the same weekday
                    over the last ``profile_weeks`` weeks
``holt-winters``    daily totals by Holt-Winters exponential smoothing with a multiplicative
                    weekly season (statsmodels), times the weekday's intraday profile
``weekly-ets``      weekly totals by exponential smoothing with a damped trend,
                    ETS(A,Ad,N) (statsmodels),
                    split into weekdays and intervals by the recent weekday and intraday
                    profiles

Every method works on the days the center is open: a weekday on which most recent weeks
had no contacts is closed (forecast 0); an open weekday with no contacts at all that is
not a listed special day is a gap in the data (or an unannounced closure) and is left out
of training, like a special day.  Intervals with no contacts (the center closed at night)
have a profile of 0, so the forecast there is 0.  Special days in the horizon are closed
(0) or scaled by their multiplier.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl

from callcenter.errors import InputFileError
from callcenter.wfm.history import (
    ForecastInputError,
    Grid,
    History,
    SpecialDay,
    grid_to_table,
)

WEEKDAY_NAMES: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAX_HORIZON_DAYS: Final = 366


class Method(StrEnum):
    SEASONAL_NAIVE = "seasonal-naive"
    WEEKLY_AVERAGE = "weekly-average"
    HOLT_WINTERS = "holt-winters"
    WEEKLY_ETS = "weekly-ets"


BASELINE: Final = Method.SEASONAL_NAIVE
DEFAULT_METHOD: Final = Method.WEEKLY_ETS
"""Chosen on the bank_calls backtest (docs/wfm-forecast.md)."""

MIN_HISTORY_DAYS: Final[dict[Method, int]] = {
    Method.SEASONAL_NAIVE: 7,  # one season (a week)
    Method.WEEKLY_AVERAGE: 7,
    Method.HOLT_WINTERS: 14,  # two seasons, to estimate the weekly season
    Method.WEEKLY_ETS: 14,  # two weekly totals
}


@dataclass(frozen=True, slots=True)
class ForecastOptions:
    """What to forecast and how.  Build with keywords; :meth:`validated` checks them."""

    method: Method = DEFAULT_METHOD
    horizon_days: int = 14
    profile_weeks: int = 8  # weeks of history behind the weekday and intraday profiles
    special_days: tuple[SpecialDay, ...] = ()
    default_aht_s: float | None = None  # handle time when the history has none
    aht_prior: float = 10.0  # pseudo-contacts at the queue's mean AHT in every interval

    def validated(self) -> ForecastOptions:
        if not 1 <= self.horizon_days <= MAX_HORIZON_DAYS:
            raise ForecastInputError(
                f"--horizon: {self.horizon_days} days is not valid; expected 1 to "
                f"{MAX_HORIZON_DAYS} days"
            )
        if self.profile_weeks < 1:
            raise ForecastInputError(
                f"--profile-weeks: {self.profile_weeks} is not valid; expected at least 1 week"
            )
        aht = self.default_aht_s
        if aht is not None and not (math.isfinite(aht) and aht > 0):
            raise ForecastInputError(
                f"--aht: {aht:g} is not valid; expected a positive number of seconds"
            )
        return self

    def special(self) -> dict[date, SpecialDay]:
        return {s.day: s for s in self.special_days}


def check_history_length(history_days: int, method: Method, *, first_day: date) -> None:
    """:class:`ForecastInputError` if ``method`` needs more days of history."""
    need = MIN_HISTORY_DAYS[method]
    if history_days < need:
        last = first_day + timedelta(days=history_days - 1)
        raise ForecastInputError(
            f"history: {history_days} day(s) ({first_day} to {last}) is shorter than "
            f"{method.value} needs; expected at least {need} days ({need // 7} week(s))"
        )


# --- which days train the models --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DayPlan:
    """How each history day of one queue is used: its weekday, whether it trains the
    models, which weekdays are open, and the open-weekday days with no contacts at all."""

    weekday: npt.NDArray[np.int64]
    valid: npt.NDArray[np.bool_]
    open_weekdays: tuple[int, ...]
    missing: tuple[int, ...] = field(default=())


def plan_days(
    totals: npt.NDArray[np.float64], first_day: date, options: ForecastOptions
) -> DayPlan:
    """Classify the days of one queue's history (``totals``: contacts per day).

    A weekday is open if, over the last ``profile_weeks`` weeks, more than half of its
    days that are not special days had contacts.  A day trains the models if it is an
    open weekday, not a special day and has contacts.
    """
    days = totals.size
    weekday = (first_day.weekday() + np.arange(days, dtype=np.int64)) % 7
    special = options.special()
    is_special = np.array(
        [first_day + timedelta(days=int(d)) in special for d in range(days)], dtype=np.bool_
    )
    recent = np.arange(days) >= days - 7 * options.profile_weeks
    open_weekdays = []
    for w in range(7):
        mine = (weekday == w) & ~is_special
        window = mine & recent if (mine & recent).any() else mine
        if window.any() and (totals[window] > 0).mean() > 0.5:
            open_weekdays.append(w)
    on_open = np.isin(weekday, open_weekdays)
    valid = on_open & ~is_special & (totals > 0)
    missing = tuple(int(d) for d in np.flatnonzero(on_open & ~is_special & (totals <= 0)))
    return DayPlan(weekday, valid, tuple(open_weekdays), missing)


def _recent_days(plan: DayPlan, weekday: int, weeks: int) -> npt.NDArray[np.int64]:
    """The last ``weeks`` training days that fall on ``weekday``."""
    return np.flatnonzero(plan.valid & (plan.weekday == weekday))[-weeks:]


def _profiles(counts: Grid, plan: DayPlan, weeks: int) -> Grid:
    """Intraday profile of each weekday (7 × slots; rows sum to 1 for open weekdays):
    the share of the day's contacts in each interval over its recent training days."""
    out = np.zeros((7, counts.shape[1]))
    for w in plan.open_weekdays:
        rows = counts[_recent_days(plan, w, weeks)]
        total = rows.sum()
        if total > 0:
            out[w] = rows.sum(axis=0) / total
    return out


def _weekday_means(totals: npt.NDArray[np.float64], plan: DayPlan, weeks: int) -> Grid:
    """Mean daily total of each weekday over its recent training days (0 if closed)."""
    out = np.zeros(7)
    for w in plan.open_weekdays:
        idx = _recent_days(plan, w, weeks)
        if idx.size:
            out[w] = totals[idx].mean()
    return out


def _filled_totals(totals: npt.NDArray[np.float64], plan: DayPlan, weeks: int) -> Grid:
    """Daily totals with the days that do not train (special days, gaps) filled in by the
    mean of the same weekday's training days within ``weeks`` weeks either side; closed
    weekdays are 0."""
    out = np.where(plan.valid, totals, 0.0)
    fallback = _weekday_means(totals, plan, 10**6)
    for d in np.flatnonzero(~plan.valid & np.isin(plan.weekday, plan.open_weekdays)):
        near = plan.valid & (plan.weekday == plan.weekday[d])
        near &= np.abs(np.arange(totals.size) - d) <= 7 * weeks
        out[d] = totals[near].mean() if near.any() else fallback[plan.weekday[d]]
    return out


# --- the methods: (counts, plan, horizon, weeks) -> horizon × slots ----------------------

MethodFn = Callable[[Grid, DayPlan, int, int], Grid]


def _seasonal_naive(counts: Grid, plan: DayPlan, horizon: int, weeks: int) -> Grid:
    """Each horizon day copies the same weekday of the last week before the horizon; if
    that day did not train (a special day, a gap), the week before it, and so on."""
    days = counts.shape[0]
    out = np.zeros((horizon, counts.shape[1]))
    for h in range(horizon):
        k = days + h - 7 * (h // 7 + 1)
        while k >= 0 and not plan.valid[k]:
            k -= 7
        if k >= 0:
            out[h] = counts[k]
    return out


def _weekly_average(counts: Grid, plan: DayPlan, horizon: int, weeks: int) -> Grid:
    """Each interval: the mean of the same interval on the same weekday's recent days."""
    means = np.zeros((7, counts.shape[1]))
    for w in plan.open_weekdays:
        idx = _recent_days(plan, w, weeks)
        if idx.size:
            means[w] = counts[idx].mean(axis=0)
    return means[_horizon_weekdays(plan, horizon)]


def _horizon_weekdays(plan: DayPlan, horizon: int) -> npt.NDArray[np.int64]:
    start = int(plan.weekday[-1]) + 1
    return (start + np.arange(horizon, dtype=np.int64)) % 7


def _holt_winters(counts: Grid, plan: DayPlan, horizon: int, weeks: int) -> Grid:
    """Daily totals of the open weekdays (one season = the open days of a week) by
    Holt-Winters with a multiplicative season, times the intraday profile."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    totals = counts.sum(axis=1)
    filled = _filled_totals(totals, plan, weeks)
    on_open = np.isin(plan.weekday, plan.open_weekdays)
    series = filled[on_open]
    season = len(plan.open_weekdays)
    future_wd = _horizon_weekdays(plan, horizon)
    future_open = np.isin(future_wd, plan.open_weekdays)
    model = ExponentialSmoothing(
        series,
        trend=None,
        seasonal="mul" if season > 1 else None,
        seasonal_periods=season if season > 1 else None,
        initialization_method="estimated",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter; the backtest judges the fit
        predicted = np.asarray(model.fit().forecast(int(future_open.sum())), dtype=np.float64)
    day_totals = np.zeros(horizon)
    day_totals[future_open] = predicted
    return day_totals[:, None] * _profiles(counts, plan, weeks)[future_wd]


TREND_MIN_WEEKS: Final = 8
"""weekly-ets fits a damped trend from this many weekly totals on (fewer: level only)."""


def _weekly_ets(counts: Grid, plan: DayPlan, horizon: int, weeks: int) -> Grid:
    """Weekly totals (weeks counted back from the horizon) by ETS(A,Ad,N), additive errors
    and a damped additive trend (ETS(A,N,N), level only, with fewer than
    :data:`TREND_MIN_WEEKS` weeks), split into weekdays by their recent mean shares and
    into intervals by the intraday profile."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    totals = counts.sum(axis=1)
    filled = _filled_totals(totals, plan, weeks)
    n_weeks = totals.size // 7
    week_totals = filled[totals.size - 7 * n_weeks :].reshape(n_weeks, 7).sum(axis=1)
    means = _weekday_means(totals, plan, weeks)
    shares = means / means.sum()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trend = "add" if n_weeks >= TREND_MIN_WEEKS else None
        # ETS(A,Ad,N)'s point forecasts are Holt's damped-trend method's.  Fitted by least
        # squares (holtwinters) rather than by likelihood (ETSModel): 5x faster; on the
        # bank_calls origins the forecasts differ by at most 2 % and the backtest WAPE not
        # at all (7.19 % either way).
        model = ExponentialSmoothing(
            week_totals,
            trend=trend,
            damped_trend=trend is not None,
            initialization_method="estimated",
        )
        fit = model.fit()
        predicted = np.asarray(fit.forecast(-(-horizon // 7)), dtype=np.float64)
    future_wd = _horizon_weekdays(plan, horizon)
    day_totals: Grid = predicted[np.arange(horizon) // 7] * shares[future_wd]
    return day_totals[:, None] * _profiles(counts, plan, weeks)[future_wd]


METHODS: Final[dict[Method, MethodFn]] = {
    Method.SEASONAL_NAIVE: _seasonal_naive,
    Method.WEEKLY_AVERAGE: _weekly_average,
    Method.HOLT_WINTERS: _holt_winters,
    Method.WEEKLY_ETS: _weekly_ets,
}


def forecast_counts(
    counts: Grid, first_day: date, options: ForecastOptions, method: Method | None = None
) -> tuple[Grid, DayPlan]:
    """One queue's contacts for the ``options.horizon_days`` days after ``counts``
    (history days × intervals starting on ``first_day``), and how the history was used.

    Closed weekdays and closed special days are 0; special days with a multiplier are
    scaled; nothing is negative.
    """
    method = options.method if method is None else method
    check_history_length(counts.shape[0], method, first_day=first_day)
    plan = plan_days(counts.sum(axis=1), first_day, options)
    if not plan.valid.any():
        raise ForecastInputError("history: no day with contacts to learn from")
    out = METHODS[method](counts, plan, options.horizon_days, options.profile_weeks)
    out = np.clip(np.nan_to_num(out, nan=0.0), 0.0, None)
    start = first_day + timedelta(days=counts.shape[0])
    future_wd = _horizon_weekdays(plan, options.horizon_days)
    out[~np.isin(future_wd, plan.open_weekdays)] = 0.0
    special = options.special()
    for h in range(options.horizon_days):
        day = special.get(start + timedelta(days=h))
        if day is not None:
            out[h] *= 0.0 if day.multiplier is None else day.multiplier
    return out, plan


def forecast_aht(
    handled: Grid, handle_s: Grid, plan: DayPlan, options: ForecastOptions, *, queue: str
) -> Grid:
    """Handle time per horizon day and interval: per weekday and interval, the handled-
    weighted mean over its recent training days, shrunk toward the queue's mean,
    ``(Σ handle time + k · mean) / (Σ handled + k)`` with ``k = options.aht_prior``: an
    interval with few contacts gets about the queue mean, a busy one its own figure."""
    recent = np.zeros(plan.valid.size, dtype=np.bool_)
    for w in plan.open_weekdays:
        recent[_recent_days(plan, w, options.profile_weeks)] = True
    n_all, s_all = handled[recent].sum(), handle_s[recent].sum()
    if n_all <= 0:
        n_all, s_all = handled.sum(), handle_s.sum()
    if n_all > 0:
        mean = s_all / n_all
    elif options.default_aht_s is not None:
        mean = options.default_aht_s
    else:
        raise ForecastInputError(
            f"history: queue {queue!r} has no handle times to forecast from; "
            "expected answered contacts in the history or --aht SECONDS"
        )
    k = options.aht_prior
    per_weekday = np.full((7, handled.shape[1]), mean)
    for w in plan.open_weekdays:
        idx = _recent_days(plan, w, options.profile_weeks)
        n, s = handled[idx].sum(axis=0), handle_s[idx].sum(axis=0)
        per_weekday[w] = (s + k * mean) / (n + k) if k > 0 else np.where(n > 0, s / n, mean)
    return per_weekday[_horizon_weekdays(plan, options.horizon_days)]


# --- the whole history -------------------------------------------------------------------


def single_threaded_blas() -> AbstractContextManager[object]:
    """BLAS limited to one thread while the models fit.  The fits are many tiny optimisations
    (L-BFGS-B on a handful of parameters): BLAS threads only contend, 5x slower for 50
    queues on a busy 2-core machine.  threadpoolctl comes with scikit-learn."""
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - installed with scikit-learn
        return nullcontext()
    limits: AbstractContextManager[object] = threadpool_limits(limits=1, user_api="blas")
    return limits


@dataclass(frozen=True, slots=True, eq=False)
class Forecast:
    """Contacts and handle time per queue × horizon day × interval, and notes on how the
    history was read (closed weekdays, days left out)."""

    queues: tuple[str, ...]
    first_day: date  # the first horizon day (local)
    tz: str
    interval_s: int
    method: Method
    contacts: Grid  # queues × days × slots
    aht_s: Grid
    notes: tuple[str, ...] = ()

    def to_table(self) -> pl.DataFrame:
        """The interval table: queue, interval_start (UTC), interval_s, contacts, aht_s."""
        return grid_to_table(
            self.queues, self.first_day, self.tz, self.interval_s, self.contacts, self.aht_s
        )


def describe_plan(queue: str, plan: DayPlan, first_day: date) -> list[str]:
    """One-line notes: closed weekdays and days left out of training."""
    notes = []
    closed = [WEEKDAY_NAMES[w] for w in range(7) if w not in plan.open_weekdays]
    if closed:
        notes.append(f"{queue}: closed on {', '.join(closed)} (no contacts on most of them)")
    if plan.missing:
        shown = [
            f"{first_day + timedelta(days=d)} ({WEEKDAY_NAMES[int(plan.weekday[d])]})"
            for d in plan.missing
        ]
        more = f" and {len(shown) - 8} more" if len(shown) > 8 else ""
        notes.append(
            f"{queue}: no contacts on {', '.join(shown[:8])}{more}, which are open weekdays "
            "and not in the special days: left out of training (gaps or closures)"
        )
    return notes


def forecast(
    history: History,
    options: ForecastOptions,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> Forecast:
    """Forecast every queue of ``history`` for the days after its last day (``progress``
    is called with (queues done, queues) after each)."""
    options = options.validated()
    shape = (len(history.queues), options.horizon_days, history.slots)
    contacts, aht = np.zeros(shape), np.zeros(shape)
    notes: list[str] = []
    with single_threaded_blas():
        for q, name in enumerate(history.queues):
            contacts[q], plan = forecast_counts(history.contacts[q], history.first_day, options)
            aht[q] = forecast_aht(
                history.handled[q], history.handle_s[q], plan, options, queue=name
            )
            notes += describe_plan(name, plan, history.first_day)
            if progress is not None:
                progress(q + 1, len(history.queues))
    return Forecast(
        queues=history.queues,
        first_day=history.last_day + timedelta(days=1),
        tz=history.tz,
        interval_s=history.interval_s,
        method=options.method,
        contacts=contacts,
        aht_s=aht,
        notes=tuple(notes),
    )


# --- the interval table as text -----------------------------------------------------------

TABLE_COLUMNS: Final = ("queue", "interval_start", "interval_s", "contacts", "aht_s")


def _text_rows(table: pl.DataFrame) -> pl.DataFrame:
    """The table with ISO 8601 UTC start times (``2026-03-02T08:00:00Z``), contacts to
    4 decimals and handle times to 0.01 s."""
    return table.select(
        pl.col("queue"),
        pl.col("interval_start").dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        pl.col("interval_s"),
        pl.col("contacts").round(4),
        pl.col("aht_s").round(2),
    )


def interval_table_csv(table: pl.DataFrame) -> str:
    """The interval table as CSV (header row first)."""
    return _text_rows(table).write_csv()


def interval_table_json(table: pl.DataFrame) -> str:
    """The interval table as a JSON list of objects (one per queue and interval)."""
    import orjson

    return orjson.dumps(_text_rows(table).to_dicts(), option=orjson.OPT_INDENT_2).decode()


def write_interval_table(path: str | os.PathLike[str], table: pl.DataFrame) -> Path:
    """Write the interval table atomically (``<name>.part``, then renamed): JSON if the
    name ends ``.json``, else CSV."""
    p = Path(path)
    text = interval_table_json(table) if p.suffix.lower() == ".json" else interval_table_csv(table)
    part = p.with_name(p.name + ".part")
    try:
        part.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        os.replace(part, p)
    except OSError as e:
        part.unlink(missing_ok=True)
        raise InputFileError(p, f"cannot be written: {e.strerror or e}") from None
    return p
