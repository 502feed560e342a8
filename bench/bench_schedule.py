"""Scheduling speed and quality: a 2-week, 200-agent roster, CP-SAT against a greedy baseline.

The case (issue #5): 14 days from Monday 2026-03-02, 15-minute intervals, demand 06:00-22:00
with a late-morning and an afternoon peak (about 85 agents at the Monday peak, weekends
lower), the example templates (src/callcenter/examples/wfm-shifts.yaml: early and late
8h30 shifts with two paid 15-minute breaks and an unpaid lunch, 4-5 h part-time shifts with
one break) and 200 agents: 100 full-time (early or late), 20 full-time with weekends off,
40 early-only, 40 part-time (4 shifts, 25 h a week); 5 shifts and 40 h a week at most,
11 h rest.

* **ours**: ``build_schedule`` (CP-SAT plan + per-class assignment), time limit 60 s.
  Target: < 60 s.
* **baseline** (same run): the greedy heuristic ``greedy_roster`` alone -- while some slot
  is short, add the shift covering the slot with the largest shortfall that removes the
  most shortfall for the least overstaffing, breaks where most agents are spare.
  Reported: its overstaffing, shortfall and time, and the ratio to ours.

Run:  .venv/bin/python bench/bench_schedule.py [--time-limit 60] [--workers 0]
      [--json out.json]
      .venv/bin/python bench/bench_schedule.py --write-inputs DIR   (only write the inputs)
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import time
from pathlib import Path

from callcenter.wfm.schedule import ScheduleOptions, build_schedule, greedy_schedule
from callcenter.wfm.schedule.requirements import Requirement
from callcenter.wfm.shifts import Agent, load_shifts

HERE = Path(__file__).parent
SHIFTS = HERE.parent / "src" / "callcenter" / "examples" / "wfm-shifts.yaml"
START = dt.date(2026, 3, 2)
DAY_FACTORS = (1.15, 1.05, 1.0, 1.0, 0.95, 0.65, 0.5)


def requirements(days: int = 14, interval: int = 900, peak: float = 75) -> list[Requirement]:
    """Agents required per interval: open 06:00-22:00, peaks near 11:00 and 15:30."""
    out = []
    for d in range(days):
        day = START + dt.timedelta(days=d)
        t0 = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
        for k in range(86400 // interval):
            h = (k + 0.5) * interval / 3600
            need = 0
            if 6 <= h < 22:
                shape = 0.25 + 0.75 * math.exp(-(((h - 11) / 2.3) ** 2))
                shape += 0.6 * math.exp(-(((h - 15.5) / 2.6) ** 2))
                need = round(peak * DAY_FACTORS[day.weekday()] * shape / 1.05)
            out.append(Requirement("", t0 + dt.timedelta(seconds=k * interval), interval, need))
    return out


def agents() -> list[Agent]:
    rules = {"max_shifts_per_week": 5, "max_hours_per_week": 40, "min_rest": "11h"}
    groups = [
        Agent(name="ft", count=100, templates=["early", "late"], **rules),
        Agent(name="ftwk", count=20, templates=["early", "late"], days_off=["sat", "sun"], **rules),
        Agent(name="early", count=40, templates=["early"], **rules),
        Agent(
            name="pt",
            count=40,
            templates=["part-time"],
            min_rest="11h",
            max_shifts_per_week=4,
            max_hours_per_week=25,
        ),
    ]
    return [a for g in groups for a in g.expand()]


def write_inputs(folder: Path, reqs: list[Requirement], people: list[Agent]) -> None:
    """The bench's inputs as files, for `callcenter schedule` (see docs/wfm-schedule.md)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "requirements.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["queue", "interval_start", "interval_s", "required"])
        for r in reqs:
            w.writerow(
                ["sales", f"{r.interval_start:%Y-%m-%dT%H:%M:%SZ}", r.interval_s, r.required]
            )
    lines = [
        "defaults: {max_shifts_per_week: 5, max_hours_per_week: 40, min_rest: 11h}",
        "agents:",
        "  - {name: ft, count: 100, templates: [early, late]}",
        "  - {name: ftwk, count: 20, templates: [early, late], days_off: [sat, sun]}",
        "  - {name: early, count: 40, templates: [early]}",
        "  - {name: pt, count: 40, templates: [part-time], max_shifts_per_week: 4,"
        " max_hours_per_week: 25}",
    ]
    (folder / "agents.yaml").write_text("\n".join(lines) + "\n")
    assert len(people) == 200


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--time-limit", type=float, default=60.0, help="solver limit, seconds")
    ap.add_argument("--workers", type=int, default=0, help="solver threads (0: one per core)")
    ap.add_argument("--write-inputs", type=Path, help="write requirements.csv and agents.yaml")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args()
    reqs, people, config = requirements(), agents(), load_shifts(SHIFTS)
    if args.write_inputs:  # only the inputs, for trying `callcenter schedule` on them
        write_inputs(args.write_inputs, reqs, people)
        print(f"wrote {args.write_inputs}/requirements.csv and agents.yaml")
        return 0
    need_h = sum(r.required for r in reqs) * reqs[0].interval_s / 3600
    print(
        f"{len(people)} agents, 14 days of 15-minute intervals, peak "
        f"{max(r.required for r in reqs)} agents, {need_h:,.0f} agent-hours required; "
        f"templates: {SHIFTS.name}"
    )
    t = time.perf_counter()
    greedy = greedy_schedule(reqs, config, people)
    g_s, g = time.perf_counter() - t, greedy.totals()
    g_short, g_over, g_n = g.shortfall_h, g.over_h, g.shifts
    print(
        f"  baseline  greedy (largest shortfall first)  {g_s:6.1f} s  shortfall {g_short:7.1f} h"
        f"  over {g_over:7.1f} h  ({g_n} shifts)"
    )
    t = time.perf_counter()
    opts = ScheduleOptions(time_limit_s=args.time_limit, workers=args.workers)
    result = build_schedule(reqs, config, people, options=opts)
    wall = time.perf_counter() - t
    tot = result.totals()
    print(
        f"  ours      CP-SAT plan + assignment          {wall:6.1f} s  shortfall "
        f"{tot.shortfall_h:7.1f} h  over {tot.over_h:7.1f} h  ({tot.shifts} shifts)"
    )
    print(
        f"  {result.status}, objective {result.objective:,.0f}, bound {result.best_bound:,.0f},"
        f" gap {100 * result.gap:.2f}%, {result.workers} workers"
        + (f"; warnings: {'; '.join(result.warnings)}" if result.warnings else "")
    )
    ratio = g_over / tot.over_h if tot.over_h else math.inf
    met = wall < 60.0
    print(
        f"  overstaffing: greedy / ours = {ratio:.2f}x   "
        f"time target < 60 s: {'MET' if met else 'NOT MET'}"
    )
    if args.json:
        figures = {
            "ours_s": round(wall, 2), "ours_status": result.status,
            "ours_objective": result.objective, "ours_bound": result.best_bound,
            "ours_gap": round(result.gap, 4), "ours_shortfall_h": tot.shortfall_h,
            "ours_over_h": tot.over_h, "ours_shifts": tot.shifts,
            "greedy_s": round(g_s, 2), "greedy_shortfall_h": g_short, "greedy_over_h": g_over,
            "greedy_shifts": g_n, "over_ratio": round(ratio, 3), "target_met": met,
        }  # fmt: skip
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
