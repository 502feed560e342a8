"""Forecasting: history from event logs and CSV series, the methods against a known truth,
holidays, time zones, the backtest's arithmetic, and every bad input's message."""

from __future__ import annotations

import itertools
import json
import math
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy.stats import poisson

from callcenter.events import RawEvent
from callcenter.sim import load_scenario, simulate
from callcenter.storage.jsonl import EventLogWriter
from callcenter.wfm.backtest import Accuracy, backtest, poisson_mad
from callcenter.wfm.forecast import (
    TABLE_COLUMNS,
    ForecastOptions,
    Method,
    forecast,
    interval_table_csv,
)
from callcenter.wfm.history import (
    ForecastInputError,
    History,
    SpecialDay,
    check_interval,
    history_from_csv,
    history_from_events,
    read_special_days,
)

MONDAY = date(2026, 1, 5)
SLOTS = 48  # 30-minute intervals

# --- a synthetic center with known weekly and intraday seasonality --------------------------

_s = np.arange(SLOTS)
SHAPE = np.where(
    (_s >= 16) & (_s < 40),  # open 08:00-20:00
    1 + 0.6 * np.exp(-0.5 * ((_s - 21) / 2.5) ** 2) + 0.4 * np.exp(-0.5 * ((_s - 31) / 3) ** 2),
    0.0,
)
SHAPE /= SHAPE.sum()
DAY_FACTORS = np.array([1.3, 1.1, 1.0, 1.0, 0.9, 0.4, 0.0])  # Monday first; closed Sunday
LEVEL = 3000.0  # contacts on a factor-1 day


def true_mean(days: int, first: date = MONDAY) -> np.ndarray:
    weekday = (first.weekday() + np.arange(days)) % 7
    return LEVEL * DAY_FACTORS[weekday][:, None] * SHAPE[None, :]


def make_history(counts: np.ndarray, first: date = MONDAY, aht: float = 200.0) -> History:
    c = counts[None].astype(float)
    return History(1800, "UTC", first, ("q",), c, c.copy(), c * aht)


def mean_abs_dev(mu: float) -> float:
    """E|X - mu| for X ~ Poisson(mu), by direct summation (independent of poisson_mad)."""
    k = np.arange(0, int(mu + 12 * math.sqrt(mu) + 30))
    return float((np.abs(k - mu) * poisson.pmf(k, mu)).sum())


HISTORY_WEEKS, HORIZON = 16, 14
PROFILE_WEEKS = 8


@pytest.fixture(scope="module")
def synthetic() -> tuple[History, np.ndarray]:
    lam = true_mean(HISTORY_WEEKS * 7 + HORIZON)
    rng = np.random.default_rng(2026)
    counts = rng.poisson(lam[: HISTORY_WEEKS * 7]).astype(float)
    return make_history(counts), lam[HISTORY_WEEKS * 7 :]


def expected_wape_of_mean(lam: np.ndarray, n: int) -> float:
    """Expected WAPE against the truth of the mean of ``n`` Poisson(λ) samples per cell:
    Σ E|S/n − λ| / Σλ with S ~ Poisson(nλ)."""
    cells = lam[lam > 0]
    return sum(mean_abs_dev(n * x) / n for x in cells) / float(cells.sum())


@pytest.mark.parametrize("method", [Method.WEEKLY_AVERAGE, Method.WEEKLY_ETS, Method.HOLT_WINTERS])
def test_synthetic_series_forecast_is_near_the_true_mean(
    synthetic: tuple[History, np.ndarray], method: Method
) -> None:
    """Poisson noise around a known weekly × intraday mean (3,000 contacts on a factor-1
    day, ~40–190 per open interval).  A method whose profile is an 8-week mean can do no
    better than the noise of that mean: E = Σ E|S/8 − λ| / Σλ, S ~ Poisson(8λ), computed
    here by direct summation: E = 2.55 %.  Bound: 1.25 E (the sampling spread of the
    realised WAPE over 144 independent cells is about 6 % of E, so 1.25 E is about four
    standard deviations).  Measured (seed 2026): about 0.93–1.12 E over eight seeds for
    all three methods.  Daily totals: within ±5 % of the true daily mean (measured ≤ 2.6 %).
    """
    history, lam = synthetic
    bound_e = expected_wape_of_mean(lam, PROFILE_WEEKS)
    assert 0.024 < bound_e < 0.027
    fc = forecast(
        history, ForecastOptions(method=method, horizon_days=HORIZON, profile_weeks=PROFILE_WEEKS)
    ).contacts[0]
    wape = np.abs(fc - lam).sum() / lam.sum()
    assert wape <= 1.25 * bound_e, (wape, bound_e)
    day_truth, day_fc = lam.sum(axis=1), fc.sum(axis=1)
    open_days = day_truth > 0
    assert np.all(np.abs(day_fc[open_days] / day_truth[open_days] - 1) <= 0.05)
    assert np.all(fc[~open_days] == 0)  # Sundays: closed
    assert np.all(fc[:, SHAPE == 0] == 0)  # nights: closed, not smeared


def test_seasonal_naive_has_the_noise_of_one_week(synthetic: tuple[History, np.ndarray]) -> None:
    """Copying last week keeps one week's Poisson noise: expected WAPE Σ E|X − λ| / Σλ =
    7.2 %, √8 times the 8-week average's; the realised figure is within ±25 % of it."""
    history, lam = synthetic
    expected = expected_wape_of_mean(lam, 1)
    fc = forecast(history, ForecastOptions(method=Method.SEASONAL_NAIVE)).contacts[0]
    wape = np.abs(fc - lam).sum() / lam.sum()
    assert 0.75 * expected <= wape <= 1.25 * expected


def test_poisson_floor_matches_direct_summation() -> None:
    lam = np.array([0.0, 0.3, 1.0, 2.5, 10.0, 99.5, 1000.7])
    assert poisson_mad(lam) == pytest.approx([mean_abs_dev(x) for x in lam], rel=1e-9, abs=1e-12)


def test_accuracy_sums_by_hand() -> None:
    """a = (10, 0, 5, 20), f = (8, 1, 5, 22): |a − f| = 2 + 1 + 0 + 2 = 5, Σa = 35."""
    acc = Accuracy.of(np.array([10.0, 0.0, 5.0, 20.0]), np.array([8.0, 1.0, 5.0, 22.0]))
    assert acc.wape == pytest.approx(5 / 35)
    assert acc.mape == pytest.approx((0.2 + 0.0 + 0.1) / 3)  # the a = 0 cell is left out
    assert acc.bias == pytest.approx((36 - 35) / 35)
    assert acc.within_share == pytest.approx(1 / 3)  # only the exact 5 is within ±5 %
    assert Accuracy.of(np.zeros(3), np.ones(3)).wape is None


def test_backtest_rolling_origin_by_hand() -> None:
    """A 7-day-a-week center whose every open interval gets 100·k contacts in week k
    (k = 1 … 6).  Seasonal naive forecasts week k with week k − 1: 100 too few in every
    cell.  Two 7-day origins (weeks 5 and 6), per cell: Σ|a − f| / Σa =
    (100 + 100) / (500 + 600) = 2/11, and the bias is −2/11."""
    counts = np.zeros((42, SLOTS))
    counts[:, 16:40] = 100.0 * (np.arange(42) // 7 + 1)[:, None]
    report = backtest(
        make_history(counts),
        ForecastOptions(method=Method.WEEKLY_AVERAGE, horizon_days=7, profile_weeks=1),
        weeks=2,
    )
    assert report.origins == (MONDAY + timedelta(days=28), MONDAY + timedelta(days=35))
    naive = report.score(Method.SEASONAL_NAIVE)
    assert naive.interval.wape == pytest.approx(2 / 11)
    assert naive.interval.bias == pytest.approx(-2 / 11)
    assert naive.daily.wape == pytest.approx(2 / 11)
    assert naive.interval.cells == 14 * SLOTS
    # a 1-week average is the seasonal naive here
    assert report.score(Method.WEEKLY_AVERAGE).interval.wape == pytest.approx(2 / 11)
    assert report.scores[-1].method is Method.SEASONAL_NAIVE
    doc = report.to_dict()
    assert doc["origins"] == ["2026-02-02", "2026-02-09"]
    assert [m["method"] for m in doc["methods"]] == ["weekly-average", "seasonal-naive"]
    assert doc["methods"][1]["by_interval_of_day"][0]["interval"] == "08:00"
    json.dumps(doc)  # JSON-ready


def test_backtest_horizon_longer_than_the_history_left() -> None:
    """A 14-day horizon from the last origin scores only the 7 days the history has."""
    counts = np.zeros((28, SLOTS))
    counts[:, 20] = 10.0
    report = backtest(
        make_history(counts),
        ForecastOptions(method=Method.SEASONAL_NAIVE, horizon_days=14),
        weeks=1,
    )
    assert report.score(Method.SEASONAL_NAIVE).daily.cells == 7
    assert report.score(Method.SEASONAL_NAIVE).interval.wape == 0.0


# --- holidays -----------------------------------------------------------------------------


def flat_weeks(weeks: int, per_interval: float = 10.0) -> np.ndarray:
    counts = np.zeros((weeks * 7, SLOTS))
    counts[:, 18:36] = per_interval
    return counts


def test_a_listed_holiday_in_history_is_left_out_of_the_profile() -> None:
    """Four identical weeks, but the third Wednesday had 30 % of the volume.  Listed as a
    special day it is left out: the Wednesday forecast is the other Wednesdays' 10 per
    interval exactly.  Not listed it drags the 4-week mean down to (3·10 + 3)/4."""
    counts = flat_weeks(4)
    wed = MONDAY + timedelta(days=16)
    counts[16] *= 0.3
    h = make_history(counts)
    listed = ForecastOptions(
        method=Method.WEEKLY_AVERAGE,
        horizon_days=7,
        profile_weeks=4,
        special_days=(SpecialDay(wed, 0.3),),
    )
    fc = forecast(h, listed).contacts[0]
    assert fc[2, 18] == pytest.approx(10.0)
    plain = forecast(
        h, ForecastOptions(method=Method.WEEKLY_AVERAGE, horizon_days=7, profile_weeks=4)
    )
    assert plain.contacts[0][2, 18] == pytest.approx((3 * 10 + 3) / 4)


@pytest.mark.parametrize("method", list(Method))
def test_an_unlisted_day_with_no_contacts_is_a_gap_not_a_pattern(method: Method) -> None:
    """A Tuesday with no contacts at all (a data gap or an unannounced closure) is left out
    of training and reported; the next Tuesdays are forecast like the others."""
    counts = flat_weeks(4)
    counts[22] = 0.0  # the fourth Tuesday (the last week's)
    fc = forecast(make_history(counts), ForecastOptions(method=method, horizon_days=14))
    assert fc.contacts[0][1].sum() == pytest.approx(18 * 10.0, rel=0.02)
    assert fc.contacts[0][8].sum() == pytest.approx(18 * 10.0, rel=0.02)
    assert any("2026-01-27 (Tue)" in n and "left out of training" in n for n in fc.notes)


def test_holidays_in_the_horizon_close_or_scale() -> None:
    counts = flat_weeks(3)
    first = MONDAY + timedelta(days=21)
    closed, half = first + timedelta(days=2), first + timedelta(days=3)
    base = ForecastOptions(method=Method.WEEKLY_ETS, horizon_days=7)
    plain = forecast(make_history(counts), base).contacts[0]
    special = (SpecialDay(closed), SpecialDay(half, 0.5))
    fc = forecast(
        make_history(counts),
        ForecastOptions(method=Method.WEEKLY_ETS, horizon_days=7, special_days=special),
    ).contacts[0]
    assert plain[2].sum() > 0 and fc[2].sum() == 0.0
    assert fc[3] == pytest.approx(0.5 * plain[3])
    others = [0, 1, 4, 5, 6]
    assert fc[others] == pytest.approx(plain[others])


def test_special_days_file(tmp_path: Path) -> None:
    p = tmp_path / "holidays.txt"
    p.write_text(
        "date,multiplier\n# national holidays\n2026-12-25\n2026-12-24, 0.5\n"
        "2026-12-31 closed\n\n2026-01-01,0\n"
    )
    days = read_special_days(p)
    assert days == (
        SpecialDay(date(2026, 1, 1), 0.0),
        SpecialDay(date(2026, 12, 24), 0.5),
        SpecialDay(date(2026, 12, 25), None),
        SpecialDay(date(2026, 12, 31), None),
    )


# --- history from an event log ------------------------------------------------------------

SCENARIO = """
name: forecast-test
start_date: 2026-01-05
days: 21
seed: 11
interval: 30m
queues:
  - name: sales
    skills: {sales: 1}
    arrivals:
      per_day: 150
      curve: [0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 1,2,3,3,3,2,2,2,2,3,3,3,2,2,1,1,1,1,1,1,
              0,0,0,0,0,0,0,0,0,0,0,0]
      day_factors: [1.2, 1.0, 1.0, 1.0, 0.9, 0.5, 0]
    talk: {dist: exponential, mean: 150}
    acw: {dist: fixed, value: 20}
    patience: {dist: exponential, mean: 120}
  - name: support
    skills: {support: 1}
    arrivals:
      per_day: 80
      curve: [0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
              0,0,0,0,0,0,0,0,0,0,0,0,0,0]
      day_factors: [1, 1, 1, 1, 1, 0, 0]
    talk: {dist: lognormal, mean: 240, sd: 120}
    acw: {dist: exponential, mean: 30}
agents:
  - name: a
    count: 6
    skills: {sales: 1, support: 1}
    shift: {start: "07:30", end: "19:00"}
"""


@pytest.fixture(scope="module")
def event_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("log")
    (folder / "s.yaml").write_text(SCENARIO)
    sc = load_scenario(folder / "s.yaml")
    path = folder / "events.jsonl"
    with EventLogWriter(path, source="sim:test", start=sc.start_epoch) as log:

        def sink(batch: list[RawEvent]) -> None:
            log.write_raw_batch(batch)

        simulate(sc, sink)
    return path


def independent_counts(path: Path, interval_s: int) -> tuple[dict, dict, dict]:
    """Offered (enqueue events), handled contacts and their handle time (talk + hold of
    the complete, acw of the wrapup_end) per (queue, interval start), read straight from
    the JSON lines.  The scenario has no transfers or callbacks: one visit per contact."""
    offered: dict[tuple[str, int], int] = defaultdict(int)
    where: dict[str, tuple[str, int]] = {}
    handled: dict[tuple[str, int], int] = defaultdict(int)
    handle: dict[tuple[str, int], float] = defaultdict(float)
    with path.open() as f:
        for line in f:
            ev = json.loads(line)
            kind = ev["type"]
            if kind == "enqueue":
                key = (ev["queue"], int(ev["t"] // interval_s * interval_s))
                offered[key] += 1
                where[ev["contact"]] = key
            elif kind == "complete":
                key = where[ev["contact"]]
                handled[key] += 1
                handle[key] += ev["talk"] + ev.get("hold", 0.0)
            elif kind == "wrapup_end":
                handle[where[ev["contact"]]] += ev["acw"]
    return offered, handled, handle


def test_history_counts_match_an_independent_count_of_the_log(event_log: Path) -> None:
    history = history_from_events(event_log, 1800)
    offered, handled, handle = independent_counts(event_log, 1800)
    assert history.queues == ("sales", "support")
    assert history.first_day == MONDAY and history.days == 21
    table = history.to_table()
    seen = 0
    for row in table.iter_rows(named=True):
        key = (row["queue"], int(row["interval_start"].timestamp()))
        assert row["contacts"] == offered.get(key, 0), key
        if handled.get(key):
            assert row["aht_s"] == pytest.approx(handle[key] / handled[key], rel=1e-9)
            seen += 1
        else:
            assert row["aht_s"] is None
    assert sum(history.contacts.ravel()) == sum(offered.values()) > 3000
    assert seen > 500


def test_forecast_from_the_event_log_has_the_interval_table_shape(event_log: Path) -> None:
    history = history_from_events(event_log, 1800)
    fc = forecast(history, ForecastOptions(horizon_days=14))
    table = fc.to_table()
    assert tuple(table.columns) == TABLE_COLUMNS
    assert table.height == 2 * 14 * SLOTS
    assert table.schema["interval_s"] == pl.Int64 and table.schema["contacts"] == pl.Float64
    starts = table.filter(pl.col("queue") == "sales")["interval_start"].to_list()
    assert starts[0] == datetime(2026, 1, 26, tzinfo=UTC)  # the day after the history
    assert all(b - a == timedelta(minutes=30) for a, b in itertools.pairwise(starts))
    assert all(s.minute in (0, 30) and s.second == 0 for s in starts)
    assert table["aht_s"].min() > 0  # every interval has a handle time, closed ones too
    daily = fc.contacts.sum(axis=2)
    sunday = [d for d in range(14) if (fc.first_day + timedelta(days=d)).weekday() == 6]
    assert np.all(daily[:, sunday] == 0)  # both queues are closed on Sundays
    assert np.all(daily[1, [5, 12]] == 0)  # support also on Saturdays
    assert np.all(fc.contacts[:, :, :16] == 0)  # and before 08:00
    # support AHT: lognormal talk mean 240 s + exponential ACW mean 30 s
    assert float(np.average(fc.aht_s[1][daily[1] > 0].ravel())) == pytest.approx(270, rel=0.1)
    text = interval_table_csv(table)
    assert text.splitlines()[0] == "queue,interval_start,interval_s,contacts,aht_s"
    assert text.splitlines()[1].startswith("sales,2026-01-26T00:00:00Z,1800,0.0,")


# --- CSV series and time zones --------------------------------------------------------------


def test_csv_series_five_minute_rows_sum_into_intervals(tmp_path: Path) -> None:
    p = tmp_path / "calls.csv"
    p.write_text(
        "timestamp,queue,contacts,aht_s\n"
        "2026-03-02T08:00:00Z,a,2,100\n"
        "2026-03-02T08:05:00Z,a,6,200\n"
        "2026-03-02T08:25:00Z,a,0,\n"
        "2026-03-02T08:30:00Z,a,1,\n"
        "2026-03-02T09:00:00+01:00,b,3,60\n"
    )
    h = history_from_csv(p, 1800)
    rows = {
        (r["queue"], r["interval_start"].strftime("%H:%M")): (r["contacts"], r["aht_s"])
        for r in h.to_table().filter(pl.col("contacts") > 0).iter_rows(named=True)
    }
    assert rows == {
        ("a", "08:00"): (8.0, pytest.approx((2 * 100 + 6 * 200) / 8)),
        ("a", "08:30"): (1.0, None),
        ("b", "08:00"): (3.0, 60.0),
    }


def test_time_zone_days_and_summer_time(tmp_path: Path) -> None:
    """A center open 09:00-17:00 Berlin time, every day for four weeks before the clocks
    go forward (2026-03-29).  In UTC the forecast opens at 08:00Z before the change and at
    07:00Z after it; the local day of the change has 23 hours."""
    p = tmp_path / "berlin.csv"
    lines = ["timestamp,contacts"]
    for d in range(28):
        day = date(2026, 3, 1) + timedelta(days=d)
        lines += [f"{day}T{h:02d}:{m:02d}:00,5" for h in range(9, 17) for m in (0, 30)]
    p.write_text("\n".join(lines) + "\n")
    h = history_from_csv(p, 1800, "Europe/Berlin")
    assert h.first_day == date(2026, 3, 1) and h.days == 28
    assert h.contacts[0, 0, 18] == 5 and h.contacts[0, 0, 17] == 0  # local 09:00 slot
    options = ForecastOptions(method=Method.SEASONAL_NAIVE, horizon_days=2, default_aht_s=300)
    fc = forecast(h, options)
    table = fc.to_table().filter(pl.col("contacts") > 0)
    by_day = table.group_by(pl.col("interval_start").dt.date()).agg(
        pl.col("interval_start").min().alias("open")
    )
    opens = {r["interval_start"]: r["open"].strftime("%H:%MZ") for r in by_day.to_dicts()}
    assert opens == {date(2026, 3, 29): "07:00Z", date(2026, 3, 30): "07:00Z"}
    assert fc.to_table().height == 46 + 48  # 23 local hours, then 24
    past = h.to_table().filter(pl.col("contacts") > 0)["interval_start"]
    assert past.min() == datetime(2026, 3, 1, 8, tzinfo=UTC)  # 09:00 CET
    h_utc = history_from_csv(p, 1800)  # the same times read as UTC
    assert h_utc.contacts[0, 0, 18] == 5


# --- bad input ------------------------------------------------------------------------------


INTERVAL_RULE = (
    "is not valid; expected a whole number of minutes that divides a day (e.g. 15m, 30m, 60m)"
)


@pytest.mark.parametrize(
    ("seconds", "shown"), [(0, "0"), (-1800, "-1800"), (420, "7m"), (90, "90 s"), (90000, "1d1h")]
)
def test_bad_interval(seconds: float, shown: str) -> None:
    with pytest.raises(ForecastInputError) as e:
        check_interval(seconds)
    assert str(e.value) == f"--interval: {shown} {INTERVAL_RULE}"


def test_time_zone_not_a_whole_number_of_intervals(event_log: Path) -> None:
    with pytest.raises(ForecastInputError) as e:
        history_from_events(event_log, 1800, "Asia/Kathmandu")
    assert str(e.value) == (
        "--tz: Asia/Kathmandu is not a whole number of 30m intervals from UTC; "
        "use a shorter --interval or leave --tz out"
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (ForecastOptions(horizon_days=0), "--horizon: 0 days is not valid; expected 1 to 366 days"),
        (
            ForecastOptions(profile_weeks=0),
            "--profile-weeks: 0 is not valid; expected at least 1 week",
        ),
        (
            ForecastOptions(default_aht_s=-3),
            "--aht: -3 is not valid; expected a positive number of seconds",
        ),
    ],
)
def test_bad_options(options: ForecastOptions, message: str) -> None:
    with pytest.raises(ForecastInputError) as e:
        options.validated()
    assert str(e.value) == message


@pytest.mark.parametrize(
    ("method", "days", "last", "need"),
    [
        (Method.SEASONAL_NAIVE, 5, "2026-01-09", "7 days (1 week(s))"),
        (Method.HOLT_WINTERS, 10, "2026-01-14", "14 days (2 week(s))"),
        (Method.WEEKLY_ETS, 13, "2026-01-17", "14 days (2 week(s))"),
    ],
)
def test_history_shorter_than_a_season(method: Method, days: int, last: str, need: str) -> None:
    with pytest.raises(ForecastInputError) as e:
        forecast(make_history(flat_weeks(3)[:days]), ForecastOptions(method=method))
    assert str(e.value) == (
        f"history: {days} day(s) (2026-01-05 to {last}) is shorter than {method.value} needs; "
        f"expected at least {need}"
    )


def test_backtest_needs_history_before_its_first_origin() -> None:
    with pytest.raises(ForecastInputError) as e:
        backtest(make_history(flat_weeks(5)), ForecastOptions(), weeks=4)
    assert str(e.value) == (
        "history: 35 days is too short for a 4-week backtest of weekly-ets; expected at least "
        "42 days (14 to train before the first origin, then 4 week(s))"
    )
    with pytest.raises(
        ForecastInputError, match=r"^--weeks: 0 is not valid; expected at least 1 week$"
    ):
        backtest(make_history(flat_weeks(5)), ForecastOptions(), weeks=0)


def test_no_handle_time_needs_aht() -> None:
    c = flat_weeks(2)[None]
    h = History(1800, "UTC", MONDAY, ("q",), c, np.zeros_like(c), np.zeros_like(c))
    with pytest.raises(ForecastInputError) as e:
        forecast(h, ForecastOptions(method=Method.WEEKLY_AVERAGE))
    assert str(e.value) == (
        "history: queue 'q' has no handle times to forecast from; expected answered contacts "
        "in the history or --aht SECONDS"
    )
    fc = forecast(h, ForecastOptions(method=Method.WEEKLY_AVERAGE, default_aht_s=180))
    assert np.all(fc.aht_s == 180)


def test_unknown_queue(event_log: Path) -> None:
    with pytest.raises(ForecastInputError) as e:
        history_from_events(event_log, 1800).select(["billing"])
    assert str(e.value) == "--queue: 'billing' is not in the history; queues: sales, support"
