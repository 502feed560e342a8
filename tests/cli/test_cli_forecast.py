"""`callcenter forecast` end to end (a fresh interpreter, as the shell runs it)."""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

SCENARIO = """
name: forecast-cli
start_date: 2026-01-05
days: 21
seed: 5
interval: 30m
queues:
  - name: sales
    skills: {sales: 1}
    arrivals:
      per_day: 120
      curve: [0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 1,2,3,3,3,2,2,2,2,3,3,3,2,2,1,1,1,1,1,1,
              0,0,0,0,0,0,0,0,0,0,0,0]
      day_factors: [1.2, 1.0, 1.0, 1.0, 0.9, 0.5, 0]
    talk: {dist: exponential, mean: 150}
    acw: {dist: fixed, value: 20}
agents:
  - name: a
    count: 4
    skills: {sales: 1}
    shift: {start: "07:30", end: "19:00"}
"""


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "120", "PYTHONIOENCODING": "utf-8"},
    )


def run_in_process(*args: str) -> tuple[int, str, str]:
    """The real entry point, callcenter.cli.main:main, in this process (for the many
    bad-input cases; a few of them also run in a fresh interpreter below)."""
    from callcenter.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    saved = sys.argv, sys.stdout, sys.stderr
    sys.argv, sys.stdout, sys.stderr = ["callcenter", *args], out, err
    try:
        main()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    finally:
        sys.argv, sys.stdout, sys.stderr = saved
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("forecast")
    (folder / "s.yaml").write_text(SCENARIO)
    r = run("simulate", str(folder / "s.yaml"), "--out", str(folder / "events.jsonl"), "-q")
    assert r.returncode == 0, r.stderr
    return folder / "events.jsonl"


def series(path: Path, days: int, first: date = date(2026, 3, 2)) -> Path:
    """A CSV series: 10 contacts (AHT 200 s) in every 30 minutes from 09:00 to 17:00."""
    lines = ["timestamp,queue,contacts,aht_s"]
    for d in range(days):
        day = first + timedelta(days=d)
        lines += [f"{day}T{h:02d}:{m:02d}:00Z,q,10,200" for h in range(9, 17) for m in (0, 30)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_csv_output_is_the_interval_table(log: Path, tmp_path: Path) -> None:
    out_json = tmp_path / "f.json"
    r = run(
        "forecast", str(log), "--horizon", "7d", "--method", "weekly-average",
        "--format", "csv", "--out", str(out_json),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert list(rows[0]) == ["queue", "interval_start", "interval_s", "contacts", "aht_s"]
    assert len(rows) == 7 * 48
    starts = [datetime.fromisoformat(row["interval_start"]) for row in rows]
    assert rows[0]["interval_start"] == "2026-01-26T00:00:00Z"
    assert all(b - a == timedelta(minutes=30) for a, b in itertools.pairwise(starts))
    assert {row["interval_s"] for row in rows} == {"1800"}
    assert all(float(row["aht_s"]) > 0 for row in rows)
    by_day: dict[str, float] = {}
    for row in rows:
        day = row["interval_start"][:10]
        by_day[day] = by_day.get(day, 0.0) + float(row["contacts"])
    assert by_day["2026-02-01"] == 0  # Sunday: closed
    assert 100 < by_day["2026-01-26"] < 190  # Monday: 120 × 1.2 expected
    assert r.stderr == ""
    # the --out file (JSON by its name) holds the same rows
    doc = json.loads(out_json.read_text())
    assert len(doc) == len(rows)
    assert [str(d["contacts"]) for d in doc[:40]] == [row["contacts"] for row in rows[:40]]
    assert set(doc[0]) == {"queue", "interval_start", "interval_s", "contacts", "aht_s"}
    assert not list(tmp_path.glob("*.part"))


def test_day_table_and_csv_file(log: Path, tmp_path: Path) -> None:
    out_csv = tmp_path / "f.csv"
    r = run("forecast", str(log), "--horizon", "7d", "--interval", "60m", "--out", str(out_csv))
    assert r.returncode == 0, r.stderr
    assert "Forecast: weekly-ets, 1h intervals" in r.stdout
    assert "2026-02-01 Sun" in r.stdout and "closed" in r.stdout
    assert f"168 intervals; written to {out_csv}" in r.stdout
    assert "note: sales: closed on Sun" in r.stdout
    rows = list(csv.DictReader(io.StringIO(out_csv.read_text())))
    assert len(rows) == 168 and rows[1]["interval_start"] == "2026-01-26T01:00:00Z"


def test_the_staffing_stage_reads_the_forecast(log: Path, tmp_path: Path) -> None:
    staffing = pytest.importorskip("callcenter.wfm.staffing")
    out = tmp_path / "forecast.csv"
    args = ("--horizon", "2d", "--method", "seasonal-naive", "--out", str(out))
    assert run("forecast", str(log), *args).returncode == 0
    table = staffing.read_interval_table(out)
    assert table.height == 2 * 48


def test_backtest_table_json_and_csv(log: Path) -> None:
    r = run("forecast", str(log), "--backtest", "--weeks", "1", "--horizon", "7d")
    assert r.returncode == 0, r.stderr
    assert "Backtest: 1 weekly origin(s) 2026-01-19" in r.stdout
    assert "seasonal-naive (baseline)" in r.stdout and "Poisson floor" in r.stdout
    assert "read as daily WAPE <= 5 %" in r.stdout and "By interval of the day" in r.stdout
    j = run(
        "forecast", str(log), "--backtest", "--weeks", "1", "--format", "json",
        "--method", "weekly-average",
    )  # fmt: skip
    doc = json.loads(j.stdout)
    assert [m["method"] for m in doc["methods"]] == ["weekly-average", "seasonal-naive"]
    assert doc["origins"] == ["2026-01-19"] and doc["horizon_days"] == 14
    interval = doc["methods"][0]["interval"]
    assert set(interval) == {
        "cells",
        "actual",
        "forecast",
        "wape",
        "mape",
        "bias",
        "within_5pct",
        "poisson_floor_wape",
    }
    # one origin, 7 days left in the history (Sunday included), 48 intervals each
    assert interval["cells"] == 7 * 48
    c = run(
        "forecast", str(log), "--backtest", "--weeks", "1", "--format", "csv",
        "--method", "weekly-average",
    )  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(c.stdout)))
    assert rows[0]["method"] == "weekly-average" and rows[0]["level"] == "interval"
    assert {r["level"] for r in rows} == {"interval", "daily", "queue", "interval_of_day"}


def test_csv_series_with_holidays(tmp_path: Path) -> None:
    hol = tmp_path / "holidays.txt"
    hol.write_text("2026-03-31\n2026-04-01,0.5\n")
    src = series(tmp_path / "calls.csv", 28)
    r = run(
        "forecast", str(src), "--horizon", "7d", "--method", "weekly-average",
        "--holidays", str(hol), "--format", "json",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    per_day: dict[str, float] = {}
    for row in json.loads(r.stdout):
        per_day[row["interval_start"][:10]] = (
            per_day.get(row["interval_start"][:10], 0) + row["contacts"]
        )
    assert per_day["2026-03-30"] == pytest.approx(160)  # 16 intervals × 10
    assert per_day["2026-03-31"] == 0  # closed
    assert per_day["2026-04-01"] == pytest.approx(80)  # × 0.5


def write_header_only(path: Path) -> Path:
    path.write_text(
        '{"t":1767571200.0,"type":"header","schema":"callcenter.events","version":1,'
        '"source":"test"}\n'
    )
    return path


ERRORS = [
    (["--interval", "0"], "--interval: 0 is not valid; expected a whole number of minutes "
     "that divides a day (e.g. 15m, 30m, 60m)"),
    (["--interval", "7m"], "--interval: 7m is not valid; expected a whole number of minutes "
     "that divides a day (e.g. 15m, 30m, 60m)"),
    (["--interval", "-30m"], "--interval must not be negative, got '-30m'"),
    (["--horizon", "0"], "--horizon: '0' is not valid; expected a whole number of days, at "
     "least 1 (e.g. 7d, 14d)"),
    (["--horizon", "36h"], "--horizon: '36h' is not valid; expected a whole number of days, "
     "at least 1 (e.g. 7d, 14d)"),
    (["--method", "arima"], "--method: 'arima' is not a method; expected one of "
     "seasonal-naive, weekly-average, holt-winters, weekly-ets"),
    (["--tz", "Mars/Olympus"], "--tz: 'Mars/Olympus' is not a time zone; expected an IANA "
     "name like Europe/Berlin or UTC"),
    (["--queue", "billing"], "--queue: 'billing' is not in the history; queues: q"),
    (["--aht", "-3"], "--aht: -3 is not valid; expected a positive number of seconds"),
    (["--backtest", "--weeks", "0"], "--weeks: 0 is not valid; expected at least 1 week"),
    (["--backtest", "--weeks", "3"], "history: 21 days is too short for a 3-week backtest "
     "of weekly-ets; expected at least 35 days (14 to train before the first origin, then "
     "3 week(s))"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), ERRORS)
def test_bad_options_one_line_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    src = series(tmp_path / "calls.csv", 21)
    out = tmp_path / "out.csv"
    code, stdout, stderr = run_in_process("forecast", str(src), "--out", str(out), *args)
    assert code == 2, stderr
    assert stderr == f"error: {message}\n"
    assert stdout == "" and not out.exists()


def test_bad_inputs_one_line_exit_2(tmp_path: Path) -> None:
    empty = write_header_only(tmp_path / "empty.jsonl")
    short = series(tmp_path / "short.csv", 5)
    hol = tmp_path / "h.txt"
    hol.write_text("2026-12-24\nchristmas\n")
    cases = [
        ([str(empty)], f"{empty}: the event log has no events (only a header line)"),
        ([str(tmp_path / "none.jsonl")], f"{tmp_path / 'none.jsonl'}: no such file"),
        (
            [str(short), "--method", "seasonal-naive"],
            "history: 5 day(s) (2026-03-02 to 2026-03-06) is shorter than seasonal-naive "
            "needs; expected at least 7 days (1 week(s))",
        ),
        (
            [str(short), "--holidays", str(hol)],
            f"{hol}:2: 'christmas' is not a special day; expected YYYY-MM-DD or YYYY-MM-DD,0.5",
        ),
    ]
    for args, message in cases:
        code, stdout, stderr = run_in_process("forecast", *args)
        assert code == 2, (args, stderr)
        assert stderr == f"error: {message}\n" and stdout == ""


@pytest.mark.parametrize(
    "args",
    [["--method", "arima"], ["--backtest", "--weeks", "3"]],
)
def test_bad_input_in_a_fresh_interpreter(tmp_path: Path, args: list[str]) -> None:
    """As the shell sees it: status 2, one line on stderr, nothing on stdout or disk."""
    src = series(tmp_path / "calls.csv", 21)
    out = tmp_path / "out.csv"
    r = run("forecast", str(src), "--out", str(out), *args)
    assert r.returncode == 2
    assert r.stderr.startswith("error: ") and r.stderr.count("\n") == 1
    assert r.stdout == "" and not out.exists()


HOLIDAY_RULE = "expected a number >= 0 (or nothing, or 'closed', for a closed day)"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("25/12/2026", "'25/12/2026' is not a special day; expected YYYY-MM-DD or YYYY-MM-DD,0.5"),
        ("2026-02-30", "'2026-02-30' is not a date"),
        ("2026-12-24,-1", f"multiplier '-1' is not valid; {HOLIDAY_RULE}"),
        ("2026-12-24,half", f"multiplier 'half' is not valid; {HOLIDAY_RULE}"),
    ],
)
def test_bad_holiday_lines(tmp_path: Path, line: str, problem: str) -> None:
    hol = tmp_path / "h.txt"
    hol.write_text(f"# holidays\n{line}\n")
    src = series(tmp_path / "calls.csv", 14)
    code, stdout, stderr = run_in_process("forecast", str(src), "--holidays", str(hol))
    assert code == 2 and stdout == ""
    assert stderr == f"error: {hol}:2: {problem}\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("timestamp,contacts\n", "{p}: the history has no contacts; expected at least one"),
        ("timestamp,contacts\n2026-03-02T08:00:00Z,0\n", "{p}: the history has no contacts; "
         "expected at least one"),
        ("time,calls\n2026-03-02T08:00:00Z,3\n", "{p}: expected the columns 'timestamp' (or "
         "'interval_start') and 'contacts'; found: time, calls"),
        ("timestamp,contacts\n2026-03-02T08:00:00Z,3\n2026-03-02T08:30:00Z,-2\n",
         "{p}:3: column 'contacts': '-2' is not valid; expected a number >= 0"),
        ("timestamp,contacts\n2026-03-02T08:00:00Z,\n",
         "{p}:2: column 'contacts': '' is not valid; expected a number >= 0"),
        ("timestamp,contacts\n2026-03-02T08:00:00Z,3\nyesterday,2\n",
         "{p}:3: column 'timestamp': 'yesterday' is not valid; expected an ISO 8601 time"),
        ("timestamp,contacts,aht_s\n2026-03-02T08:00:00Z,3,0\n",
         "{p}:2: column 'aht_s': '0' is not valid; expected a number of seconds > 0, or empty"),
        ("timestamp,contacts\n2026-03-02T08:00:00Z,3\n2026-03-02T09:00:00Z,3\n",
         "{p}: rows are 1h apart, which does not divide the 30m interval; expected an "
         "--interval that is a multiple of 1h"),
        ("timestamp,queue,contacts\n2026-03-02T08:00:00Z,,3\n",
         "{p}:2: column 'queue': '' is not valid; expected a queue name"),
    ],
)  # fmt: skip
def test_bad_csv_series(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "series.csv"
    p.write_text(text)
    code, stdout, stderr = run_in_process("forecast", str(p))
    assert code == 2 and stdout == ""
    assert stderr == f"error: {message.format(p=p)}\n"
