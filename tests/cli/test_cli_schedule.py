"""`callcenter schedule` end to end, run as the real command in a fresh interpreter."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[2] / "src" / "callcenter" / "examples"
SHIFTS = EXAMPLES / "wfm-shifts.yaml"
HEADER = ["queue", "interval_start", "interval_s", "contacts", "aht_s", "agents", "required"]


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", "schedule", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "COLUMNS": "200", "PYTHONIOENCODING": "utf-8"},
    )


def write_requirements(path: Path, need: dict[str, int], interval: int = 1800) -> Path:
    """One Monday of intervals; ``need`` maps 'HH:MM' interval starts to agents."""
    day = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for k in range(86400 // interval):
            t = day + dt.timedelta(seconds=k * interval)
            n = need.get(f"{t:%H:%M}", 0)
            w.writerow(["sales", f"{t:%Y-%m-%dT%H:%M:%SZ}", interval, 10 * n, 300, n, n])
    return path


def curve() -> dict[str, int]:
    """Agents needed 07:00-21:00, peaking at midday (every 30 minutes)."""
    out = {}
    for h in range(7, 21):
        for m in (0, 30):
            out[f"{h:02d}:{m:02d}"] = 2 + (4 if 10 <= h < 16 else 0) + (2 if 11 <= h < 14 else 0)
    return out


def on_phone_from_roster(rows: list[dict[str, str]], t: dt.datetime) -> int:
    """Agents on shift and not on break at ``t``, from the roster CSV rows."""
    shifts: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for r in rows:
        breaks = shifts.setdefault((r["agent"], r["shift_start"] + "/" + r["shift_end"]), [])
        if r["break_start"]:
            breaks.append((r["break_start"], r["break_end"]))

    def ts(x: str) -> dt.datetime:
        return dt.datetime.fromisoformat(x.replace("Z", "+00:00"))

    n = 0
    for (_, span), breaks in shifts.items():
        a, b = span.split("/")
        if ts(a) <= t < ts(b) and not any(ts(x) <= t < ts(y) for x, y in breaks):
            n += 1
    return n


@pytest.mark.slow  # a real solve of a day for 14 agents (~8 s)
def test_roster_coverage_chart_and_json(tmp_path: Path) -> None:
    req = write_requirements(tmp_path / "plan.csv", curve())
    out, cov, chart = tmp_path / "roster.csv", tmp_path / "coverage.csv", tmp_path / "cov.png"
    p = run(
        req, "--shifts", SHIFTS, "--agent-count", "14", "--time-limit", "8s", "--workers", "2",
        "--out", out, "--coverage", cov, "--chart", chart, "--format", "json",
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["status"] in ("OPTIMAL", "FEASIBLE")
    assert 0 <= doc["gap"] <= 1 and doc["days"] == 1 and doc["grid_s"] == 900
    # the roster file holds the same shifts as the JSON, one row per break
    rows = list(csv.DictReader(out.open()))
    assert len({(r["agent"], r["shift_start"]) for r in rows}) == len(doc["roster"])
    breaks = {"early": 3, "late": 3, "part-time": 1}  # as the example templates say
    assert all(len(s["breaks"]) == breaks[s["template"]] for s in doc["roster"])
    # coverage recomputed from the roster rows, at the middle of each quarter hour
    coverage = list(csv.DictReader(cov.open()))
    assert len(coverage) == 48
    for c in coverage:
        t = dt.datetime.fromisoformat(c["interval_start"].replace("Z", "+00:00"))
        quarters = [on_phone_from_roster(rows, t + dt.timedelta(minutes=m)) for m in (7, 22)]
        scheduled = sum(quarters) / 2
        assert float(c["scheduled"]) == pytest.approx(scheduled)
        short = sum(max(0, int(c["required"]) - q) for q in quarters) / 2
        assert float(c["shortfall"]) == pytest.approx(short)
    assert doc["totals"]["shortfall_h"] == 0  # 14 agents are enough for this curve
    png = chart.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
    assert not list(tmp_path.glob(".*.part"))


def test_table_and_csv_and_svg(tmp_path: Path) -> None:
    req = write_requirements(tmp_path / "plan.csv", {"08:00": 1, "08:30": 1, "09:00": 1})
    shifts = tmp_path / "shifts.yaml"
    shifts.write_text("templates:\n  - {name: short, start: '08:00', length: 1h30m}\n")
    p = run(req, "--shifts", shifts, "--agent-count", "3", "--chart", tmp_path / "c.svg")
    assert p.returncode == 0, p.stderr
    assert "CP-SAT OPTIMAL" in p.stdout and "gap 0.00%" in p.stdout
    assert "Coverage per day" in p.stdout and "total" in p.stdout
    assert "│ agent-" in p.stdout and "08:00-09:30" in p.stdout
    assert (tmp_path / "c.svg").read_text().lstrip().startswith("<?xml")
    p = run(req, "--shifts", shifts, "--agent-count", "3", "--format", "csv")
    assert p.returncode == 0, p.stderr
    (row,) = csv.DictReader(io.StringIO(p.stdout))
    assert row["shift_start"] == "2026-03-02T08:00:00Z" and row["break_start"] == ""


@pytest.mark.slow  # a real solve of a day for the 50 example agents (~8 s)
def test_agents_file_and_adherence_can_read_the_roster(tmp_path: Path) -> None:
    req = write_requirements(tmp_path / "plan.csv", curve())
    out = tmp_path / "roster.csv"
    p = run(
        req, "--shifts", SHIFTS, "--agents", EXAMPLES / "wfm-agents.yaml", "--out", out,
        "--time-limit", "8s", "--workers", "2", "--format", "json",
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    names = {s["agent"] for s in json.loads(p.stdout)["roster"]}
    known = {"ana", "ben"} | {f"full-time-{i:02d}" for i in range(1, 41)}
    assert names and names <= known | {f"part-time-{i}" for i in range(1, 9)}
    roster_mod = pytest.importorskip("callcenter.wfm.adherence.roster")
    roster = roster_mod.load_roster(out)
    assert {s.agent for s in roster.shifts} == names


def test_start_and_days_choose_the_horizon(tmp_path: Path) -> None:
    req = write_requirements(tmp_path / "plan.csv", {"08:00": 1, "08:30": 1})
    shifts = tmp_path / "shifts.yaml"
    shifts.write_text("templates:\n  - {name: h, start: '08:00', length: 1h}\n")
    p = run(req, "--shifts", shifts, "--agent-count", "1", "--start", "2026-03-02", "--days",
            "3", "--format", "json")  # fmt: skip
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["days"] == 3 and len(doc["daily"]) == 3 and len(doc["roster"]) == 1


BAD_SHIFT = "templates:\n  - {name: early, start: '06:00-08:00', length: 9h, end_by: '14:00'}\n"
GOOD_SHIFT = "templates:\n  - {name: early, start: '08:00', length: 1h}\n"


@pytest.mark.parametrize(
    ("rows", "shifts", "extra", "expected"),
    [
        (
            "sales,2026-03-02T08:00:00Z,1800,1,1,1,-3\n", GOOD_SHIFT, ["--agent-count", "2"],
            "plan.csv:2: required: '-3' is not valid; expected a whole number of agents >= 0",
        ),
        (
            "sales,2026-03-02T08:00:00Z,2100,1,1,1,3\n", GOOD_SHIFT, ["--agent-count", "2"],
            "plan.csv:2: interval_s: '2100' is not valid; expected seconds that divide the day "
            "in 5-minute steps (900, 1800, 3600)",
        ),
        (
            "", GOOD_SHIFT, ["--agent-count", "2"],
            "plan.csv: no requirement rows; expected the interval table with at least one row",
        ),
        (
            "sales,2026-03-02T08:00:00Z,1800,1,1,1,3\n", BAD_SHIFT, ["--agent-count", "2"],
            "shift template 'early': no shift fits its window: the earliest start 06:00 plus "
            "the shortest length 9h ends after end_by 14:00",
        ),
        (
            "sales,2026-03-02T08:00:00Z,1800,1,1,1,3\n", GOOD_SHIFT, ["--agents", "AGENTS"],
            "agents.yaml: agents[0].templates: unknown template 'late' (the shift templates "
            "are: early)",
        ),
        (
            "sales,2026-03-02T08:00:00Z,1800,1,1,1,3\n", GOOD_SHIFT,
            ["--agents", "AGENTS", "--agent-count", "3"],
            "give either --agents FILE or --agent-count N (not both)",
        ),
        (
            "sales,2026-03-02T08:00:00Z,1800,1,1,1,3\n", GOOD_SHIFT,
            ["--agent-count", "2", "--chart", "cov.jpg"],
            "--chart: 'cov.jpg' is not valid; expected a file name ending in .png or .svg",
        ),
        (
            "sales,2026-03-02T08:00:00Z,1800,1,1,1,3\n", GOOD_SHIFT,
            ["--agent-count", "2", "--start", "2.3.2026"],
            "--start: '2.3.2026' is not valid; expected a date like 2026-03-02",
        ),
        (
            "sales,2026-03-02T08:00:00Z,1800,1,1,1,3\n", GOOD_SHIFT,
            ["--agent-count", "2", "--time-limit", "-5s"],
            "--time-limit must not be negative, got '-5s'",
        ),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, rows: str, shifts: str, extra: list[str], expected: str
) -> None:
    req = tmp_path / "plan.csv"
    req.write_text(",".join(HEADER) + "\n" + rows)
    (tmp_path / "shifts.yaml").write_text(shifts)
    (tmp_path / "agents.yaml").write_text("agents:\n  - {name: ann, templates: [late]}\n")
    extra = [str(tmp_path / "agents.yaml") if x == "AGENTS" else x for x in extra]
    extra = [str(tmp_path / x) if x.startswith("cov.") else x for x in extra]
    out = tmp_path / "roster.csv"
    p = subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", "schedule", "plan.csv", "--shifts",
         "shifts.yaml", *extra, "--out", str(out)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={**os.environ, "COLUMNS": "400", "PYTHONIOENCODING": "utf-8"},
    )  # fmt: skip
    assert p.returncode == 2, (p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), p.stderr
    assert lines[0].removeprefix("error: ").replace(str(tmp_path) + "/", "") == expected
    assert not out.exists() and p.stdout == ""
