"""The four WFM commands chained as docs/wfm.md shows them: a simulated history →
``forecast`` → ``staff`` → ``schedule`` → ``adherence``; each reads what the previous
one wrote, and the numbers that pass between them are checked independently."""

from __future__ import annotations

import csv
import datetime as dt
import math
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SHIFTS = ROOT / "src" / "callcenter" / "examples" / "wfm-shifts.yaml"


def cli(*args: str | Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def on_phones(roster: list[dict[str, str]], start: dt.datetime, length_s: int) -> float:
    """Agent-intervals on the phones in [start, start + length): shift time minus break
    time, from the roster rows alone (one row per break; shift columns repeated)."""
    end = start + dt.timedelta(seconds=length_s)

    def overlap(a: dt.datetime, b: dt.datetime) -> float:
        return max(0.0, (min(b, end) - max(a, start)).total_seconds())

    shifts: dict[tuple[str, str], tuple[dt.datetime, dt.datetime]] = {}
    breaks: set[tuple[str, str, str]] = set()
    for r in roster:
        shifts[(r["agent"], r["shift_start"])] = (ts(r["shift_start"]), ts(r["shift_end"]))
        if r.get("break_start"):
            breaks.add((r["agent"], r["break_start"], r["break_end"]))
    work = sum(overlap(a, b) for a, b in shifts.values())
    work -= sum(overlap(ts(a), ts(b)) for _agent, a, b in breaks)
    return work / length_s


@pytest.mark.slow  # five CLI runs and a small CP-SAT solve (~25 s)
def test_history_to_forecast_to_staff_to_schedule_to_adherence(tmp_path: Path) -> None:
    log = tmp_path / "history.jsonl"
    cli("simulate", ROOT / "examples" / "helpdesk.yaml", "--days", "14", "--out", log, "-q")

    forecast = tmp_path / "forecast.csv"
    cli("forecast", log, "--horizon", "1d", "--interval", "30m", "--out", forecast)
    fc = rows(forecast)
    assert list(fc[0]) == ["queue", "interval_start", "interval_s", "contacts", "aht_s"]
    assert {r["interval_s"] for r in fc} == {"1800"}
    assert len(fc) == 48 * len({r["queue"] for r in fc})  # one day of 30-min intervals
    assert sum(float(r["contacts"]) for r in fc) > 100

    plan = tmp_path / "plan.csv"
    cli("staff", forecast, "--shrinkage", "0.3", "--out", plan)
    pl_rows = rows(plan)
    assert [(r["queue"], r["interval_start"]) for r in pl_rows] == [
        (r["queue"], r["interval_start"]) for r in fc
    ]
    for r in pl_rows:  # required = agents / (1 - shrinkage), rounded up
        assert int(r["required"]) == math.ceil(int(r["agents"]) / 0.7 - 1e-9)
        assert float(r["contacts"]) == 0 or float(r["service_level"]) >= 0.8

    roster, coverage = tmp_path / "roster.csv", tmp_path / "coverage.csv"
    cli(
        "schedule",
        plan,
        "--shifts",
        SHIFTS,
        "--agent-count",
        "40",
        "--days",
        "1",
        "--time-limit",
        "15s",
        "--out",
        roster,
        "--coverage",
        coverage,
    )
    need: dict[str, int] = defaultdict(int)
    for r in pl_rows:
        need[r["interval_start"]] += int(r["required"])
    ros = rows(roster)
    assert ros
    reported = {r["interval_start"]: r for r in rows(coverage)}
    for start, required in need.items():
        have = on_phones(ros, ts(start), 1800)
        row = reported[start]
        assert float(row["required"]) == required
        assert abs(float(row["scheduled"]) - have) < 1e-6, start
        # met, or the shortfall reported is what the roster leaves uncovered
        assert abs(float(row["shortfall"]) - max(0.0, required - have)) < 1e-6, start

    # the roster reads back for adherence (a log of other days: every shift is absent)
    out = cli("adherence", log, "--roster", roster, "--format", "csv")
    total = list(csv.DictReader(out.splitlines()))[-1]
    shifts = {(r["agent"], r["shift_start"]) for r in ros}
    assert total["level"] == "total"
    assert int(total["shifts"]) == int(total["absent_shifts"]) == len(shifts)
    assert float(total["absenteeism"]) == 1.0 and float(total["adherence"]) == 0.0
    shift_s = sum((ts(b) - ts(a)).total_seconds() for (_agent, a), b in _ends(ros).items())
    assert float(total["shift_s"]) == shift_s


def _ends(roster: list[dict[str, str]]) -> dict[tuple[str, str], str]:
    return {(r["agent"], r["shift_start"]): r["shift_end"] for r in roster}
