"""`callcenter kpi` end to end (a fresh interpreter, as the shell runs it)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from callcenter.events import Event, EventType
from callcenter.storage.jsonl import write_events

T0 = 1_704_067_200.0  # 2024-01-01T00:00:00Z


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", "kpi", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "120", "PYTHONIOENCODING": "utf-8"},
    )


def ev(t: float, etype: str, **fields: object) -> Event:
    return Event(t=T0 + t, type=EventType(etype), **fields)  # type: ignore[arg-type]


def small_log(path: Path) -> Path:
    """Two queues: c1 answered in sales after 10 s (talk 100, ACW 20); c2 abandons support
    after 30 s; c3 answered in sales after 40 s (talk 200, ACW 40) at 00:31:40."""
    events = [
        ev(0, "agent_login", agent="a1"),
        ev(0, "enqueue", contact="c1", queue="sales"),
        ev(9, "offer", contact="c1", queue="sales", agent="a1", wait=9),
        ev(10, "connect", contact="c1", queue="sales", agent="a1", wait=10),
        ev(20, "enqueue", contact="c2", queue="support"),
        ev(50, "abandon", contact="c2", queue="support", wait=30),
        ev(110, "complete", contact="c1", queue="sales", agent="a1", by="caller", talk=100),
        ev(130, "wrapup_end", contact="c1", queue="sales", agent="a1", acw=20),
        ev(1900, "enqueue", contact="c3", queue="sales"),
        ev(1940, "connect", contact="c3", queue="sales", agent="a1", wait=40),
        ev(2140, "complete", contact="c3", queue="sales", agent="a1", by="agent", talk=200),
        ev(2180, "wrapup_end", contact="c3", queue="sales", agent="a1", acw=40),
    ]
    write_events(path, events, source="test")
    return path


def test_default_table(tmp_path: Path) -> None:
    r = run(str(small_log(tmp_path / "day.jsonl")))
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "KPIs by queue" in out and "Benchmarks" in out
    assert "Service level shown: offered" in out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 120
    sales = next(line for line in lines if line.lstrip().startswith("sales"))
    # sales: 2 offered, 2 answered, SL 50.0% (10 s in, 40 s out), ASA 0:25, AHT 3:00
    assert sales.split()[1:3] == ["2", "2"]
    assert "50.0%" in sales and "0:25" in sales and "3:00" in sales
    total = next(line for line in lines if line.lstrip().startswith("Total"))
    assert "33.3%" in total  # SL: 1 within 20 s / (2 answered + 1 abandoned)


def test_json_shape(tmp_path: Path) -> None:
    r = run(str(small_log(tmp_path / "day.jsonl")), "--format", "json", "--sl-mode", "answered")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert set(data) == {"settings", "period", "total", "rows", "benchmarks"}
    assert data["settings"] == {
        "by": "queue",
        "interval_s": 1800,
        "sl_mode": "answered",
        "sl_definition": "answered within T / answered (Asterisk)",
        "sl_threshold_s": 20.0,
        "short_abandon_s": 5.0,
    }
    assert data["period"] == {
        "start": "2024-01-01T00:00:00Z",
        "end": "2024-01-01T00:36:20Z",
        "events": 12,
    }
    total = data["total"]
    assert total["level"] == "total" and total["queue"] is None
    assert total["visits"]["service_level"] == 0.5  # 1 of 2 answered within 20 s
    assert total["visits"]["abandon_rate"] == pytest.approx(1 / 3, abs=1e-6)
    assert total["handling"]["aht_s"] == 180.0  # (100 + 20 + 200 + 40) / 2
    assert [row["queue"] for row in data["rows"]] == ["sales", "support"]
    support = data["rows"][1]
    assert support["visits"]["service_level"] is None  # no answered call: null, not NaN
    assert support["agent_time"] is None
    keys = [b["key"] for b in data["benchmarks"]]
    assert keys == ["service_level", "asa_s", "abandon_rate", "occupancy", "avg_talk_s",
                    "avg_acw_s"]  # fmt: skip
    bench = {b["key"]: b for b in data["benchmarks"]}
    assert bench["service_level"]["met"] is False
    assert bench["asa_s"]["benchmark"] == "—" and bench["asa_s"]["met"] is None
    assert bench["avg_talk_s"]["value"] == 150.0 and bench["avg_talk_s"]["met"] is True
    assert bench["avg_acw_s"]["met"] is True  # 30 s <= 6 min


def test_csv_by_interval(tmp_path: Path) -> None:
    r = run(str(small_log(tmp_path / "day.jsonl")), "--by", "interval", "--format", "csv",
            "--interval", "30m")  # fmt: skip
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    got = [(x["level"], x["interval_start"], x["queue"], x["offered"]) for x in rows]
    assert got == [
        ("interval", "2024-01-01T00:00:00Z", "sales", "1"),
        ("interval", "2024-01-01T00:00:00Z", "support", "1"),
        ("interval", "2024-01-01T00:00:00Z", "", "2"),
        ("interval", "2024-01-01T00:30:00Z", "sales", "1"),
        ("interval", "2024-01-01T00:30:00Z", "", "1"),
        ("total", "", "", "3"),
    ]
    assert rows[2]["occupancy"] != "" and rows[0]["occupancy"] == ""


@pytest.mark.parametrize("by", ["agent", "day", "interval"])
def test_every_breakdown_renders(tmp_path: Path, by: str) -> None:
    r = run(str(small_log(tmp_path / "day.jsonl")), "--by", by)
    assert r.returncode == 0, r.stderr
    assert f"KPIs by {by}" in r.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--interval", "7m"], "--interval must be a whole number of minutes"),
        (["--interval", "soon"], "--interval must be a duration"),
        (["--sl-threshold", "-3"], "--sl-threshold must not be negative"),
    ],
)
def test_bad_options(tmp_path: Path, args: list[str], message: str) -> None:
    r = run(str(small_log(tmp_path / "day.jsonl")), *args)
    assert r.returncode == 2
    assert message in r.stderr
    assert "Traceback" not in r.stderr


def _good_lines(tmp_path: Path) -> list[str]:
    return small_log(tmp_path / "good.jsonl").read_text().splitlines()


def _bad_log(tmp_path: Path, case: str) -> Path:
    path = tmp_path / f"{case}.jsonl"
    lines = _good_lines(tmp_path)
    if case == "truncated":
        text = "\n".join(lines) + "\n" + lines[-1][:25]
    elif case == "garbled":
        lines[5] = '{"t": 1704067210, "type": "abandon", "contact": ,, }'
        text = "\n".join(lines) + "\n"
    elif case == "unknown_type":
        lines[3] = lines[3].replace('"offer"', '"teleport"')
        text = "\n".join(lines) + "\n"
    elif case == "missing_field":
        lines[4] = re.sub(r'"wait":[0-9.]+', '"ring":1', lines[4])  # connect without wait
        assert '"connect"' in lines[4] and "wait" not in lines[4]
        text = "\n".join(lines) + "\n"
    elif case == "empty":
        text = ""
    elif case == "header_only":
        text = lines[0] + "\n"
    elif case == "foreign":
        text = "time,event\n1,enqueue\n"
    else:
        raise AssertionError(case)
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("truncated", "truncated.jsonl:14: not a JSON object (truncated or garbled line?)"),
        ("garbled", "garbled.jsonl:6: not a JSON object"),
        ("unknown_type", "unknown_type.jsonl:4: unknown event type 'teleport'"),
        ("missing_field", "missing_field.jsonl:5: 'connect' event is missing wait"),
        ("empty", "empty.jsonl: empty event log"),
        ("header_only", "header_only.jsonl: the event log has no events"),
        ("foreign", "foreign.jsonl:1: not a JSON object"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path: Path, case: str, expected: str) -> None:
    r = run(str(_bad_log(tmp_path, case)))
    assert r.returncode == 2, r.stdout
    err = r.stderr.strip()
    assert expected in err
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    assert r.stdout == ""


def test_missing_file(tmp_path: Path) -> None:
    r = run(str(tmp_path / "nope.jsonl"), "--format", "json")
    assert r.returncode == 2
    assert r.stderr.strip().endswith("nope.jsonl: no such file")
    assert len(r.stderr.strip().splitlines()) == 1


def test_narrow_terminal_drops_the_least_important_columns_first() -> None:
    from callcenter.cli.kpi import _fit

    headers = ["Queue", "Offered", "SL", "Transf.", "Avg wait", "T/out"]
    rows = [["support", "550", "74.9%", "23", "0:22", "0"]]
    # natural widths (text + 2): 9 + 9 + 7 + 9 + 10 + 7 = 51
    assert _fit(headers, rows, 51) == [0, 1, 2, 3, 4, 5]
    assert _fit(headers, rows, 50) == [0, 1, 2, 4, 5]  # Transf. goes first
    assert _fit(headers, rows, 30) == [0, 1, 2]  # then T/out, then Avg wait
