"""`callcenter adherence` end to end (a fresh interpreter, as the shell runs it).

The day (2026-03-02), every shift 08:00-16:00 with a break 12:00-12:30:

* a1 logs in at 08:10, pauses 12:00-12:45, logs out at 16:00: late login 600 s, break
  overrun 900 s; adherence (28,800 - 1,500) / 28,800 = 94.79 %; worked 7 h 50 min - 45
  min = 25,500 s of 27,000 s scheduled work: conformance 94.44 %.
* a2 never logs in: absent; adherence 0 %.
* a3 keeps the schedule and works on until 18:00: off-shift work 7,200 s, adherence
  100 %, conformance (36,000 - 1,800) / 27,000 = 126.67 %.

Total: adherence (27,300 + 0 + 28,800) / 86,400 = 64.93 %; absenteeism 1 / 3 = 33.3 %.
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

from callcenter.events import Event, EventType
from callcenter.storage.jsonl import write_events
from callcenter.wfm.adherence.report import ROW_KEYS

T0 = 1_772_409_600.0  # 2026-03-02T00:00:00Z


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", "adherence", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "120", "PYTHONIOENCODING": "utf-8"},
    )


def at(h: int, m: int = 0) -> float:
    return T0 + h * 3600 + m * 60


def state(agent: str, t: float, etype: str, **fields: str) -> Event:
    return Event(t=t, type=EventType(etype), agent=agent, **fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("adherence")
    events = [
        state("a1", at(8, 10), "agent_login"),
        state("a3", at(8), "agent_login"),
        state("a1", at(12), "agent_state", state="paused", reason="lunch"),
        state("a3", at(12), "agent_state", state="paused", reason="lunch"),
        state("a3", at(12, 30), "agent_state", state="available"),
        state("a1", at(12, 45), "agent_state", state="available"),
        state("a1", at(16), "agent_logout"),
        state("a3", at(18), "agent_logout"),
    ]
    # a3 takes a call and a chat (working, as scheduled: no adherence figure changes)
    for contact, channel, t in (("c1", "voice", at(9)), ("h1", "chat", at(10))):
        events += [
            Event(t=t - 5, type=EventType.ARRIVE, contact=contact, channel=channel),
            Event(t=t, type=EventType.CONNECT, contact=contact, queue="q", agent="a3", wait=5.0),
            Event(t=t + 120, type=EventType.COMPLETE, contact=contact, queue="q", agent="a3",
                  by="caller", talk=120.0),
        ]  # fmt: skip
    log = folder / "day.jsonl"
    write_events(log, sorted(events, key=lambda e: e.t), source="test")
    roster = folder / "roster.csv"
    lines = ["agent,date,shift_start,shift_end,break_start,break_end"]
    for agent in ("a1", "a2", "a3"):
        lines.append(f"{agent},2026-03-02,08:00,16:00,12:00,12:30")
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return log, roster


def test_table(day: tuple[Path, Path]) -> None:
    log, roster = day
    r = run(str(log), "--roster", str(roster))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert max(len(line) for line in lines) <= 120
    assert "Schedule adherence by agent (grace none)" in r.stdout
    a1 = next(line for line in lines if line.lstrip().startswith("a1"))
    assert "94.8%" in a1 and "94.4%" in a1 and "0:10:00" in a1 and "0:15:00" in a1
    a2 = next(line for line in lines if line.lstrip().startswith("a2"))
    assert "0.0%" in a2 and "100.0%" in a2  # adherence 0 %, absenteeism 100 %
    a3 = next(line for line in lines if line.lstrip().startswith("a3"))
    assert "126.7%" in a3 and "2:00:00" in a3
    header = next(line for line in lines if "Agent" in line and "Shifts" in line)
    assert header.split()[-2:] == ["chat", "voice"]  # calls next to chats: a column each
    assert a3.split()[-2:] == ["1", "1"] and a1.split()[-2:] == ["0", "0"]
    total = next(line for line in lines if line.lstrip().startswith("Total"))
    assert "64.9%" in total and "33.3%" in total
    assert "Schedule adherence: 64.9%  (benchmark 95 %: not met)" in r.stdout
    assert "a2" in next(line for line in lines if line.startswith("note:"))


def test_json(day: tuple[Path, Path]) -> None:
    log, roster = day
    r = run(str(log), "--roster", str(roster), "--format", "json")
    assert r.returncode == 0, r.stderr  # a rostered agent missing from the log is absence
    data = json.loads(r.stdout)
    assert set(data) == {"settings", "period", "roster", "total", "rows", "benchmarks", "notes"}
    assert data["settings"] == {"by": "agent", "grace_s": 0.0, "break_reasons": None}
    assert data["roster"] == {"shifts": 3, "agents": 3}
    assert list(data["total"]) == list(ROW_KEYS)
    a1, a2, a3 = data["rows"]
    assert (a1["late_login_s"], a1["break_overrun_s"]) == (600.0, 900.0)
    assert a1["adherence"] == round(27_300 / 28_800, 6)
    assert a1["conformance"] == round(25_500 / 27_000, 6)
    assert (a2["absent_shifts"], a2["adherence"], a2["adherence_excl_absent"]) == (1, 0.0, None)
    assert (a3["off_shift_work_s"], a3["conformance"]) == (7_200.0, round(34_200 / 27_000, 6))
    t = data["total"]
    assert t["adherence"] == round(56_100 / 86_400, 6)
    assert t["absenteeism"] == round(1 / 3, 6)
    assert [b["key"] for b in data["benchmarks"]] == ["adherence", "absenteeism"]


def test_csv_by_agent_day_with_grace(day: tuple[Path, Path]) -> None:
    log, roster = day
    r = run(
        str(log), "--roster", str(roster), "--by", "agent-day", "--grace", "2m", "--format", "csv"
    )
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    plain = tuple(k for k in ROW_KEYS if not k.endswith("_by_channel"))
    channels = ("contacts:chat", "contacts:voice", "talk_s:chat", "talk_s:voice")
    assert tuple(rows[0]) == plain + channels  # one column per channel worked
    assert [x["contacts:voice"] for x in rows] == ["0", "0", "1", "1"]
    assert [(x["level"], x["agent"], x["date"]) for x in rows] == [
        ("agent-day", "a1", "2026-03-02"),
        ("agent-day", "a2", "2026-03-02"),
        ("agent-day", "a3", "2026-03-02"),
        ("total", "", ""),
    ]
    # the first 2 minutes of each deviation are forgiven: 600 - 120 and 900 - 120
    assert (float(rows[0]["late_login_s"]), float(rows[0]["break_overrun_s"])) == (480.0, 780.0)
    assert float(rows[0]["graced_s"]) == 240.0
    assert rows[1]["adherence_excl_absent"] == ""  # null


def test_out_writes_the_report_atomically(day: tuple[Path, Path], tmp_path: Path) -> None:
    log, roster = day
    out = tmp_path / "adherence.json"
    r = run(str(log), "--roster", str(roster), "--format", "json", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    assert json.loads(out.read_text(encoding="utf-8"))["total"]["shifts"] == 3
    assert [p.name for p in tmp_path.iterdir()] == ["adherence.json"]  # no temporary file left


@pytest.mark.parametrize(
    ("roster_text", "args", "message"),
    [
        (
            "agent,date,shift_start\na1,2026-03-02,08:00\n",
            (),
            "roster.csv: missing column(s) 'shift_end'; expected columns agent, date, "
            "shift_start, shift_end (and optional break_start, break_end)",
        ),
        (
            "agent,date,shift_start,shift_end\na1,2026-03-02,16:00,08:00\n",
            (),
            "roster.csv:2: shift_end 2026-03-02T08:00:00Z is not after shift_start "
            "2026-03-02T16:00:00Z; expected a shift that ends after it starts",
        ),
        (
            "agent,date,shift_start,shift_end\na1,March 2,08:00,16:00\n",
            (),
            "roster.csv:2: date 'March 2' is not a date; expected YYYY-MM-DD",
        ),
        (
            "agent,date,shift_start,shift_end\n",
            (),
            "roster.csv: the roster has no shifts; expected at least one row with agent, "
            "date, shift_start, shift_end",
        ),
        (None, ("--grace", "-3"), "--grace must not be negative, got '-3'"),
        (None, ("--out", "x.json"), "--out: the table is for the terminal; expected --format"),
        (None, ("--break-reasons", " , "), "--break-reasons: ' , ' names no reason"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    day: tuple[Path, Path],
    tmp_path: Path,
    roster_text: str | None,
    args: tuple[str, ...],
    message: str,
) -> None:
    log, roster = day
    if roster_text is not None:
        roster = tmp_path / "roster.csv"
        roster.write_text(roster_text, encoding="utf-8")
    r = run(str(log), "--roster", str(roster), *args)
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].replace(str(tmp_path) + "/", "").startswith("error: " + message), lines[0]


def test_missing_event_log(day: tuple[Path, Path], tmp_path: Path) -> None:
    _, roster = day
    r = run(str(tmp_path / "none.jsonl"), "--roster", str(roster))
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip() == f"error: {tmp_path / 'none.jsonl'}: no such file"
