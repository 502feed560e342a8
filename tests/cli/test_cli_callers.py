"""`callcenter callers` end to end (a fresh interpreter running the real entry point).

The log is the hand-built one of tests/callers/test_analytics.py, whose docstring
works out every figure checked here.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from callcenter.storage.jsonl import write_events

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "callers"))
from test_analytics import answered, hand_log

# The real `main()`; importing the command module first registers it even where
# cli/main.py does not list it yet.


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", "callers", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "160", "PYTHONIOENCODING": "utf-8"},
    )


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "calls.jsonl"
    write_events(path, hand_log(), source="test")
    return path


def test_table_by_day(log: Path) -> None:
    r = run(str(log), "--window", "2d", "--repeat-within", "24h")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "Callers by day (UTC)" in out and "2024-01-01T00:00:00Z – 2024-01-05T04:00:00Z" in out
    lines = out.splitlines()
    jan1 = next(line for line in lines if line.lstrip().startswith("2024-01-01"))
    # contacts 6, no number 1, numbers 3, new 3, 1.67 calls/no., max 2, interval 2.5 h,
    # repeats 2 / 2, FCR 25.0% (1 of 4 known), not yet 0, unanswered 1, callback 1
    assert jan1.split()[1:] == ["6", "1", "3", "3", "1.67", "2", "2.5", "h", "2", "2",
                                "25.0%", "4", "0", "1", "1"]  # fmt: skip
    total = next(line for line in lines if line.lstrip().startswith("Total"))
    assert "37.5%" in total  # 3 resolved of 8 known
    assert "within 2d" in out and "within 1d" in out


def test_table_by_agent(log: Path) -> None:
    r = run(str(log), "--window", "48h", "--by", "agent")
    assert r.returncode == 0, r.stderr
    rows = {line.split()[0]: line.split()[1:] for line in r.stdout.splitlines() if line.strip()}
    # answered, no number, known, resolved, FCR, not yet
    assert rows["a1"] == ["5", "2", "3", "1", "33.3%", "0"]
    assert rows["a2"] == ["4", "0", "3", "0", "0.0%", "1"]
    assert rows["a3"] == ["3", "0", "2", "2", "100.0%", "1"]


def test_json(log: Path) -> None:
    r = run(str(log), "--window", "2d", "--by", "queue", "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert set(data) == {"settings", "period", "total", "rows"}
    assert data["settings"] == {
        "by": "queue",
        "window_s": 172800.0,
        "repeat_within_s": 86400.0,
        "tz": "UTC",
    }
    assert [row["queue"] for row in data["rows"]] == ["sales", "support"]
    assert data["rows"][0]["fcr"]["fcr_rate"] == 0.4  # sales: 2 of 5 known
    assert data["total"]["volume"]["new_numbers"] == 5


def test_csv(log: Path) -> None:
    r = run(str(log), "--window", "2d", "--format", "csv")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [(x["level"], x["day"], x["new_numbers"]) for x in rows] == [
        ("day", "2024-01-01", "3"),
        ("day", "2024-01-02", "1"),
        ("day", "2024-01-03", "1"),
        ("day", "2024-01-04", "0"),
        ("total", "", "5"),
    ]
    assert rows[3]["fcr_rate"] == ""  # nothing known yet on Jan 4
    assert float(rows[4]["fcr_rate"]) == 0.375


def test_days_in_a_time_zone(log: Path) -> None:
    """New York is UTC-5 in January: the contacts at 01:00 and 02:00 UTC on Jan 1 (c1 from
    A, c2 from B) fall on Dec 31 there; the one at 05:00 UTC is midnight, Jan 1."""
    r = run(str(log), "--window", "2d", "--tz", "America/New_York", "--format", "csv")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [(x["day"], x["contacts"], x["new_numbers"]) for x in rows[:2]] == [
        ("2023-12-31", "2", "2"),
        ("2024-01-01", "4", "1"),
    ]
    table = run(str(log), "--tz", "America/New_York")
    assert "Callers by day (America/New_York)" in table.stdout


def test_csv_by_agent_has_no_volume(log: Path) -> None:
    r = run(str(log), "--window", "2d", "--by", "agent", "--format", "csv")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [x["agent"] for x in rows] == ["a1", "a2", "a3", ""]
    assert rows[0]["contacts"] == "" and rows[0]["answered"] == "5"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--window", "0"], "--window must be longer than 0"),
        (["--repeat-within", "soon"], "--repeat-within must be a duration"),
        (["--window", "-1d"], "--window must not be negative"),
        (["--by", "week"], "--by must be one of day, queue, agent"),
        (["--tz", "Mars/Olympus"], "--tz: unknown time zone 'Mars/Olympus'"),
    ],
)
def test_bad_options(log: Path, args: list[str], message: str) -> None:
    r = run(str(log), *args)
    assert r.returncode == 2
    assert message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_bad_files(tmp_path: Path) -> None:
    r = run(str(tmp_path / "missing.jsonl"))
    assert r.returncode == 2 and "missing.jsonl: no such file" in r.stderr
    anon = tmp_path / "anon.jsonl"
    write_events(anon, answered("c1", 1, None, [("a1", "sales")]), source="test")
    r = run(str(anon))
    assert r.returncode == 2 and "no arrive event with a caller number" in r.stderr
    assert "Traceback" not in r.stderr
