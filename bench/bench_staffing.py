"""Staffing speed: a 96-interval x 50-queue table, ours against pyworkforce in the same run.

The table: 50 queues, one day of 15-minute intervals (4,800 rows).  Each queue gets a
daily volume between 2,000 and 40,000 contacts (log-uniform), a two-peak intraday curve
with a night floor, and an AHT of 150-600 s varying +-10 % per interval; contacts are
fractional, as a forecast writes them.  Targets: 80 % answered within 20 s and
occupancy at most 85 % (Erlang C).

* ours: ``callcenter.wfm.staffing.staff_intervals`` on the in-memory table -- checks
  the table, solves every row (vectorised search over rows), computes the predicted
  service level, ASA, occupancy, P(wait) and the rostered agents, builds the output
  frame.  The solver alone (``agents_erlang_c_array``) is timed too.
* baseline: pyworkforce (0.5.1) -- ``ErlangC(...).required_positions(...)`` row by row,
  and ``MultiErlangC`` (joblib, 2 workers) given the 4,800 rows as a list of parameter
  grids.  The faster of the two is the baseline.

Agent counts must be identical row for row (asserted).  Target: ours >= 10x faster.

Run:  .venv/bin/python bench/bench_staffing.py [--repeat 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import polars as pl
from pyworkforce.queuing import ErlangC, MultiErlangC

from callcenter.queueing.erlang_arrays import agents_erlang_c_array
from callcenter.wfm.staffing import StaffingOptions, Targets, check_interval_table, staff_intervals

QUEUES, INTERVALS, INTERVAL_S = 50, 96, 900
TARGET_SL, TARGET_TIME_S, MAX_OCC = 0.8, 20.0, 0.85


def make_table(seed: int = 1) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    hours = (np.arange(INTERVALS) + 0.5) * INTERVAL_S / 3600
    curve = 0.03 + np.exp(-(((hours - 10.5) / 2.2) ** 2)) + 0.8 * np.exp(-(((hours - 15) / 2) ** 2))
    curve /= curve.sum()
    start = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    rows: dict[str, list[object]] = {c: [] for c in ("queue", "interval_start", "interval_s",
                                                      "contacts", "aht_s")}  # fmt: skip
    for q in range(QUEUES):
        daily = float(np.exp(rng.uniform(np.log(2000), np.log(40000))))
        aht = rng.uniform(150, 600)
        contacts = daily * curve * rng.uniform(0.9, 1.1, INTERVALS)
        ahts = aht * rng.uniform(0.9, 1.1, INTERVALS)
        for i in range(INTERVALS):
            rows["queue"].append(f"queue-{q:02d}")
            rows["interval_start"].append(start + dt.timedelta(seconds=INTERVAL_S * i))
            rows["interval_s"].append(INTERVAL_S)
            rows["contacts"].append(round(float(contacts[i]), 2))
            rows["aht_s"].append(round(float(ahts[i]), 1))
    return pl.DataFrame(rows)


def run_ours(table: pl.DataFrame) -> tuple[float, np.ndarray]:
    opts = StaffingOptions(
        targets=Targets(service_level=TARGET_SL, target_time_s=TARGET_TIME_S, max_occupancy=MAX_OCC)
    )
    t = time.perf_counter()
    plan = staff_intervals(table, opts)
    return time.perf_counter() - t, plan.table["agents"].to_numpy()


def run_solver(table: pl.DataFrame) -> float:
    a = (table["contacts"] * table["aht_s"] / table["interval_s"]).to_numpy()
    h = table["aht_s"].to_numpy()
    t = time.perf_counter()
    agents_erlang_c_array(
        a, h, target_sl=TARGET_SL, target_time_s=TARGET_TIME_S, max_occupancy=MAX_OCC
    )
    return time.perf_counter() - t


def pyworkforce_params(table: pl.DataFrame) -> list[dict[str, float]]:
    """pyworkforce works in one time unit throughout: minutes here; its ``asa`` is the
    service-level answer time."""
    return [
        {"transactions": c, "aht": h / 60, "asa": TARGET_TIME_S / 60, "interval": iv / 60}
        for c, h, iv in zip(table["contacts"], table["aht_s"], table["interval_s"], strict=True)
    ]


def run_pyworkforce_loop(params: list[dict[str, float]]) -> tuple[float, np.ndarray]:
    t = time.perf_counter()
    out = [
        ErlangC(**p).required_positions(service_level=TARGET_SL, max_occupancy=MAX_OCC)[
            "raw_positions"
        ]
        for p in params
    ]
    return time.perf_counter() - t, np.asarray(out)


def run_pyworkforce_multi(params: list[dict[str, float]]) -> tuple[float, np.ndarray]:
    grid = [{k: [v] for k, v in p.items()} for p in params]
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = MultiErlangC(param_grid=grid, n_jobs=2).required_positions(
            {"service_level": [TARGET_SL], "max_occupancy": [MAX_OCC]}
        )
    return time.perf_counter() - t, np.asarray([r["raw_positions"] for r in res])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5, help="timed runs of each (median shown)")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args()

    raw = make_table()
    table = check_interval_table(raw)  # typed once, as read_interval_table would
    params = pyworkforce_params(table)
    traffic = (table["contacts"] * table["aht_s"] / table["interval_s"]).to_numpy()
    print(
        f"table: {QUEUES} queues x {INTERVALS} intervals of {INTERVAL_S // 60} min = "
        f"{table.height:,} rows; {table['contacts'].sum():,.0f} contacts; traffic "
        f"{traffic.min():.2f}-{traffic.max():.1f} Erlangs; targets {TARGET_SL:.0%} in "
        f"{TARGET_TIME_S:g} s, occupancy <= {MAX_OCC:.0%} (Erlang C)"
    )
    run_ours(raw)  # warm-up (imports, first-call caches)
    ours_t, ours_n, solver_t = [], None, []
    for _ in range(args.repeat):
        t, ours_n = run_ours(raw)
        ours_t.append(t)
        solver_t.append(run_solver(table))
    loop_t, loop_n = run_pyworkforce_loop(params)
    multi_t, multi_n = run_pyworkforce_multi(params)
    assert ours_n is not None
    same_loop = int((ours_n == loop_n).sum())
    same_multi = int((ours_n == multi_n).sum())
    ours_med, solver_med = statistics.median(ours_t), statistics.median(solver_t)
    baseline = min(loop_t, multi_t)
    ratio = baseline / ours_med
    print(f"  ours      staff_intervals (check + solve + metrics)  {ours_med * 1e3:8.1f} ms  "
          f"(median of {args.repeat}; solver alone {solver_med * 1e3:.1f} ms)")  # fmt: skip
    print(f"  baseline  pyworkforce ErlangC, row by row            {loop_t * 1e3:8.1f} ms")
    print(f"  baseline  pyworkforce MultiErlangC (2 jobs)          {multi_t * 1e3:8.1f} ms")
    print(f"  agents identical: {same_loop:,}/{table.height:,} rows (ErlangC), "
          f"{same_multi:,}/{table.height:,} (MultiErlangC); total {int(ours_n.sum()):,} "
          f"agent-intervals")  # fmt: skip
    met = ratio >= 10.0
    print(f"  speed-up vs the faster pyworkforce: {ratio:.1f}x   target >= 10x: "
          f"{'MET' if met else 'NOT MET'}")  # fmt: skip
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "rows": table.height,
                    "ours_s": ours_med,
                    "solver_s": solver_med,
                    "pyworkforce_loop_s": loop_t,
                    "pyworkforce_multi_s": multi_t,
                    "speedup": ratio,
                    "identical_rows": same_loop,
                    "target_met": met,
                },
                indent=2,
            )
        )
    if same_loop != table.height or same_multi != table.height:
        bad = np.flatnonzero(ours_n != loop_n)[:5]
        print(f"  MISMATCH at rows {bad.tolist()}: ours {ours_n[bad]}, pyworkforce {loop_n[bad]}")
        return 1
    return 0 if met else 2


if __name__ == "__main__":
    sys.exit(main())
