"""`callcenter staff` end to end, in a fresh interpreter as the shell runs it."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from callcenter.queueing import agents_for_service_level, service_level

HEADER = "queue,interval_start,interval_s,contacts,aht_s\n"
FORECAST = HEADER + (
    "sales,2026-03-02T08:00:00Z,1800,100,180\n"
    "sales,2026-03-02T08:30:00Z,1800,150,180\n"
    "support,2026-03-02T08:00:00Z,1800,40,300\n"
    "support,2026-03-02T08:30:00Z,1800,0,300\n"
)


def staff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", "staff", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


@pytest.fixture
def forecast(tmp_path: Path) -> Path:
    p = tmp_path / "forecast.csv"
    p.write_text(FORECAST)
    return p


def test_table_with_shrinkage(forecast: Path) -> None:
    r = staff(str(forecast), "--breaks", "0.1", "--absence", "0.08")
    assert r.returncode == 0, r.stderr
    assert "Staffing (Erlang C): 80.0% in 20 s; shrinkage 17.2%" in r.stdout
    lines = [line.split() for line in r.stdout.splitlines()]
    sales = next(w for w in lines if w[:2] == ["sales", "08:00"])
    assert "14" in sales and "17" in sales  # 14 on the phones, ceil(14 / 0.828) = 17 rostered
    assert "88.8%" in sales
    total = next(w for w in lines if w and w[0] == "total")
    # agent-hours: (14 + 19 + 10 + 0) x 0.5 h; rostered (17 + 23 + 13) x 0.5 h
    assert "21.5" in total and "26.5" in total


def test_csv_output_is_the_interval_table_plus_staffing(forecast: Path) -> None:
    r = staff(str(forecast), "--format", "csv", "--target-sl", "0.9", "--target-time", "15s")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert list(rows[0])[:8] == [
        "queue", "interval_start", "interval_s", "contacts", "aht_s", "traffic", "agents",
        "required",
    ]  # fmt: skip
    assert rows[0]["interval_start"] == "2026-03-02T08:00:00Z"
    for row in rows:
        a = float(row["traffic"])
        assert int(row["agents"]) == agents_for_service_level(a, float(row["aht_s"]), 0.9, 15)
    assert rows[3]["agents"] == "0" and rows[3]["abandon"] == ""


def test_json_and_out_files(forecast: Path, tmp_path: Path) -> None:
    out_csv, out_json = tmp_path / "plan.csv", tmp_path / "plan.json"
    r = staff(str(forecast), "--model", "erlang-a", "--patience", "3m", "--max-abandon",
              "0.03", "--format", "json", "--out", str(out_json))  # fmt: skip
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["options"]["model"] == "erlang-a" and doc["options"]["patience_s"] == 180.0
    assert doc["options"]["target_sl"] is None  # a service target was given: no default SL
    assert all(row["abandon"] <= 0.03 for row in doc["rows"])
    assert json.loads(out_json.read_text()) == doc["rows"]  # the file is the table itself
    r = staff(str(out_json), "--out", str(out_csv), "--format", "csv")  # a plan re-staffs
    assert r.returncode == 0, r.stderr
    assert out_csv.read_text() == r.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["forecast.csv", "plan.csv", "plan.json"]


@pytest.mark.slow
def test_simulate_end_to_end(forecast: Path) -> None:
    r = staff(str(forecast), "--simulate", "--seed", "3", "--sim-days", "4", "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    sim = doc["simulated"]
    assert sim["days"] == 4 and sim["seed"] == 3
    assert 250 < sim["contacts"] < 330  # 290 expected per day
    assert 0.75 < sim["service_level"] <= 1.0 and sim["abandon"] == 0.0
    first = doc["rows"][0]
    assert first["service_level"] == pytest.approx(service_level(14, 10.0, 180.0, 20.0))
    assert 0.6 < first["sim_service_level"] <= 1.0 and first["sim_asa_s"] >= 0.0
    assert doc["rows"][3]["sim_service_level"] is None  # no calls
    r = staff(str(forecast), "--simulate", "--sim-days", "2", "--patience", "1m")
    assert r.returncode == 0, r.stderr
    assert "Sim SL" in r.stdout and "Sim aband." in r.stdout  # Erlang C plan, impatient callers


SECONDS = "is not valid; expected a positive number of seconds"


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (HEADER + "q,2026-03-02T08:00:00Z,1800,10,-3\n", [], "{f}:2: aht_s: '-3' " + SECONDS),
        (
            HEADER + "q,2026-03-02T08:00:00Z,0,10,180\n",
            [],
            "{f}:2: interval_s: '0' is not valid; expected a whole number of seconds > 0 "
            "(e.g. 1800)",
        ),
        (FORECAST, ["--target-time", "0"], f"--target-time: 0 {SECONDS}"),
        (
            FORECAST,
            ["--target-sl", "1.5"],
            "--target-sl: 1.5 is not valid; expected a fraction between 0 exclusive and 1 "
            "exclusive (0.8 means 80%)",
        ),
        ("", [], "{f}: the interval table is empty; expected a header row"),
        (
            "queue,interval_start,interval_s,contacts\nq,2026-03-02T08:00:00Z,1800,10\n",
            [],
            "{f}: missing column 'aht_s'; expected columns queue, interval_start, interval_s, "
            "contacts, aht_s",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    tmp_path: Path, content: str, args: list[str], message: str
) -> None:
    f = tmp_path / "forecast.csv"
    f.write_text(content)
    out = tmp_path / "plan.csv"
    r = staff(str(f), *args, "--out", str(out))
    assert r.returncode == 2, r.stdout
    assert r.stderr.strip() == "error: " + message.format(f=f)
    assert r.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["forecast.csv"]


def run_main(*args: str) -> tuple[int, str, str]:
    """The real entry point, callcenter.cli.main:main, in this process (faster: the
    command-line checks below need no fresh interpreter)."""
    from callcenter.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    saved = sys.argv, sys.stdout, sys.stderr
    sys.argv, sys.stdout, sys.stderr = ["callcenter", "staff", *args], out, err
    try:
        main()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    finally:
        sys.argv, sys.stdout, sys.stderr = saved
    return code, out.getvalue(), " ".join(err.getvalue().split())


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (HEADER, [], "{f}: the interval table has no rows"),
        (
            FORECAST,
            ["--model", "erlang-a"],
            "--model erlang-a needs --patience (the callers' mean patience, e.g. 3m)",
        ),
        (
            FORECAST,
            ["--model", "erlang-b"],
            "--model: 'erlang-b' is not valid; expected erlang-c or erlang-a",
        ),
        (
            FORECAST,
            ["--patience", "3m"],
            "--patience applies to --model erlang-a, or to --simulate (the simulated callers' "
            "patience); Erlang C itself assumes nobody hangs up",
        ),
        (
            FORECAST,
            ["--shrinkage", "1"],
            "--shrinkage: 1 is not valid; expected a fraction from 0 to 1 exclusive",
        ),
        (FORECAST, ["--target-asa", "-5s"], "--target-asa must not be negative, got '-5s'"),
        (
            FORECAST,
            ["--simulate", "--sim-days", "0"],
            "--sim-days: 0 is not valid; expected a whole number of days >= 1",
        ),
        (
            FORECAST,
            ["--simulate", "--seed", "-1"],
            "--seed: -1 is not valid; expected a whole number >= 0",
        ),
        (
            FORECAST,
            ["--out", "{d}/plan.xlsx"],
            "--out: '{d}/plan.xlsx' is not valid; expected a .csv or .json file name",
        ),
    ],
)
def test_command_line_checks(tmp_path: Path, content: str, args: list[str], message: str) -> None:
    f = tmp_path / "forecast.csv"
    f.write_text(content)
    code, out, err = run_main(str(f), *(a.format(d=tmp_path) for a in args))
    assert code == 2 and out == ""
    assert err == "error: " + message.format(f=f, d=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["forecast.csv"]


def test_missing_file(tmp_path: Path) -> None:
    code, out, err = run_main(str(tmp_path / "nope.csv"))
    assert (code, out, err) == (2, "", f"error: {tmp_path / 'nope.csv'}: no such file")
