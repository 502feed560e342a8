"""Any CDR export through a YAML mapping (``callcenter import csv``).

``data/csv/generic-cdr.csv`` is read with ``examples/cdr-mapping.yaml`` (semicolons, CRLF,
day-first local times in Europe/Paris = UTC+1 in January). Its rows, by hand:

======  =======  ======================================  ======  =====
call    queue    story                                    wait    talk
======  =======  ======================================  ======  =====
C-1001  sales    answered by alice (agent hangs up)       12      300
C-1002  sales    answered by bob (caller hangs up)        45      120
C-1003  sales    abandoned                                30      —
C-1004  support  answered by carol (side empty)           5       240
C-1005  support  timed out                                120     —
C-1006  sales    OUTBOUND: ignored                        —       —
C-1007  sales    VOICEMAIL: not in the mapping, kept raw  —       —
C-1008  sales    answer time "garbage": bad line 9        —       —
(dup)            line 10 repeats line 2                   —       —
C-1009  sales    answered before it arrived: bad line 12  —       —
======  =======  ======================================  ======  =====

sales: offered 3, answered 2, abandoned 1; SL(20 s) = 1/3 (only C-1001 within 20 s);
ASA = (12 + 45) / 2 = 28.5 s; AHT = (300 + 120) / 2 = 210 s.
support: offered 2, answered 1, timed out 1; SL = 1/2; ASA = 5 s; AHT = 240 s.
Total: offered 5, SL = 2/5 = 40 %, ASA = (12 + 45 + 5) / 3 = 20.667 s,
AHT = (300 + 120 + 240) / 3 = 220 s, abandon rate 1/5.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from callcenter.errors import InputFileError
from callcenter.events import EventType, validate_event
from callcenter.imports.csv_map import (
    import_csv,
    load_mapping,
    parse_duration_cell,
    parse_time_cell,
)

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "cdr-mapping.yaml"
CDR = Path(__file__).parent / "data" / "csv" / "generic-cdr.csv"
T0 = 1_767_603_600.0  # 2026-01-05 09:00:00 UTC = 10:00 in Paris
CLI = "import callcenter.cli.imports.csv; from callcenter.cli.main import main; main()"


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-c", CLI, "import", "csv", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def kpi(tmp_path: Path, log: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", "kpi", str(log), "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


def test_generic_export_kpis_by_hand(tmp_path: Path) -> None:
    out = tmp_path / "day.jsonl"
    proc = run(tmp_path, str(CDR), "--mapping", str(EXAMPLE), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "imported 18 events" in proc.stdout
    assert "2 lines could not be read" in proc.stderr
    report = kpi(tmp_path, out)
    rows = {r["queue"]: r["visits"] for r in report["rows"]}
    sales, support, total = rows["sales"], rows["support"], report["total"]["visits"]
    assert (sales["offered"], sales["answered"], sales["abandoned"]) == (3, 2, 1)
    assert sales["service_level"] == pytest.approx(1 / 3, abs=1e-6)
    assert sales["asa_s"] == pytest.approx(28.5)
    assert (support["offered"], support["answered"], support["timed_out"]) == (2, 1, 1)
    assert support["service_level"] == pytest.approx(0.5)
    assert support["asa_s"] == pytest.approx(5.0)
    assert (total["offered"], total["answered"], total["abandoned"], total["timed_out"]) == (
        5, 3, 1, 1,
    )  # fmt: skip
    assert total["service_level"] == pytest.approx(0.4)
    assert total["asa_s"] == pytest.approx(62 / 3, abs=1e-3)
    assert total["abandon_rate"] == pytest.approx(0.2)
    handling = {r["queue"]: r["handling"] for r in report["rows"]}
    assert handling["sales"]["aht_s"] == pytest.approx(210.0)
    assert handling["support"]["aht_s"] == pytest.approx(240.0)
    assert report["total"]["handling"]["aht_s"] == pytest.approx(220.0)
    raw = (tmp_path / "day.jsonl.unmapped.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(r)["line"] for r in raw] == [8]


def test_rows_become_events() -> None:
    events, stats = import_csv(CDR, load_mapping(EXAMPLE))
    assert all(validate_event(e) == e for e in events)
    first = [e for e in events if e.contact == "C-1001"]
    assert [e.type.value for e in first] == ["arrive", "enqueue", "connect", "complete"]
    assert (first[0].t, first[0].caller, first[1].queue) == (T0, "+33611111111", "sales")
    assert (first[2].t, first[2].agent, first[2].wait) == (T0 + 12, "alice", 12.0)
    assert (first[3].t, first[3].talk, first[3].by) == (T0 + 312, 300.0, "agent")
    by = {e.contact: e.by for e in events if e.type is EventType.COMPLETE}
    assert by == {"C-1001": "agent", "C-1002": "caller", "C-1004": "caller"}
    timeout = next(e for e in events if e.type is EventType.TIMEOUT)
    assert (timeout.contact, timeout.wait, timeout.reason) == ("C-1005", 120.0, "max_wait")
    assert not [e for e in events if e.contact in ("C-1006", "C-1007", "C-1008", "C-1009")]
    assert stats.notes == [
        "1 answered calls without a known hangup side: counted as ended by the caller"
    ]


def test_dirty_rows_counted_with_line_numbers() -> None:
    _, stats = import_csv(CDR, load_mapping(EXAMPLE))
    assert stats.bad == 2
    assert [n for n, _ in stats.bad_lines] == [9, 12]
    assert "'garbage' is not a time" in stats.bad_lines[0][1]
    assert "before the arrival" in stats.bad_lines[1][1]
    assert stats.duplicates == 1
    assert stats.unmapped_events == {"disposition=VOICEMAIL": 1}
    assert stats.lines == 12


DURATIONS = """
csv: {header: false, delimiter: "|"}
columns: {call_id: 1, arrival: 2, wait: 3, talk: 4, agent: 5, disposition: 6}
time: {format: epoch_ms}
duration_unit: ms
default_queue: main
outcomes: {answered: ["1"], abandoned: ["2"], timeout: ["3"]}
"""


def test_arrival_plus_durations_without_header(tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(DURATIONS, encoding="utf-8")
    cdr = tmp_path / "cdr.txt"
    ms = int(T0 * 1000)
    cdr.write_text(
        f"x1|{ms}|4500|0:02:00|a7|1\n"  # answered: wait 4.5 s, talk 2 min (h:mm:ss)
        f"x2|{ms + 1000}|30000||||\n"  # empty disposition: kept raw
        f"x2|{ms + 60000}|25000|||2\n"  # the same call again: a second visit, no arrive
        f"x3|{ms}|-5|||3\n",  # a negative wait
        encoding="utf-8",
    )
    events, stats = import_csv(cdr, load_mapping(mapping))
    assert [(e.type.value, e.contact) for e in events] == [
        ("arrive", "x1"), ("enqueue", "x1"), ("connect", "x1"),
        ("arrive", "x2"), ("enqueue", "x2"), ("abandon", "x2"), ("complete", "x1"),
    ]  # fmt: skip
    assert events[1].queue == "main"
    assert (events[2].t, events[2].wait) == (T0 + 4.5, 4.5)
    assert (events[6].t, events[6].talk) == (T0 + 124.5, 120.0)
    assert events[5].wait == 25.0
    assert stats.unmapped_events == {"disposition=(empty)": 1}
    assert [n for n, _ in stats.bad_lines] == [4]


def test_cells() -> None:
    mapping = load_mapping(EXAMPLE)
    assert parse_time_cell("05/01/2026 10:00:00", mapping.time, "t") == T0
    iso = mapping.time.model_copy(update={"format": "iso"})
    assert parse_time_cell("2026-01-05T09:00:00Z", iso, "t") == T0
    assert parse_time_cell("2026-01-05 11:00:00+02:00", iso, "t") == T0
    assert parse_time_cell("2026-01-05 10:00:00", iso, "t") == T0  # naive: Europe/Paris
    assert parse_duration_cell("1:02:03", "s", "talk") == 3723
    assert parse_duration_cell("1500", "ms", "talk") == 1.5


MINIMAL = "columns: {call_id: id, arrival: a, answer: b, end: c}\ndefault_queue: q\n"


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        (MINIMAL + "colour: red\n", ["colour", "unknown key"]),
        (
            "columns: {arrival: a, answer: b, end: c}\ndefault_queue: q\n",
            ["columns.call_id", "missing"],
        ),
        ("columns: {call_id: i, arrival: a, end: c}\ndefault_queue: q\n", ["columns", "'wait'"]),
        ("columns: {call_id: i, arrival: a, answer: b, end: c}\n", ["default_queue"]),
        (MINIMAL + "time: {zone: Mars/Olympus}\n", ["time.zone", "Mars/Olympus"]),
        (MINIMAL + "time: {format: dd-mm-yyyy}\n", ["time.format", "strftime"]),
        (MINIMAL + "csv: {delimiter: ';;'}\n", ["csv.delimiter", "one character"]),
        (MINIMAL + "duration_unit: minutes\n", ["duration_unit", "minutes"]),
        (MINIMAL + "hangup_side: {default: nobody}\n", ["hangup_side.default"]),
        ("columns: [a, b\n", ["invalid YAML"]),
        ("- a\n- b\n", ["expected a mapping"]),
    ],
)
def test_bad_mapping_one_line_error(tmp_path: Path, text: str, needles: list[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputFileError) as info:
        load_mapping(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path))
    for needle in needles:
        assert needle in message, message


def test_column_not_in_header(tmp_path: Path) -> None:
    cdr = tmp_path / "x.csv"
    cdr.write_text("id,a,b\n1,2,3\n", encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(MINIMAL, encoding="utf-8")
    with pytest.raises(InputFileError, match=r"column 'c' \(columns.end in the mapping\)"):
        import_csv(cdr, load_mapping(mapping))


def test_wrong_encoding(tmp_path: Path) -> None:
    cdr = tmp_path / "x.csv"
    cdr.write_bytes("id,a,b,c\n1,\xe9,3,4\n".encode("latin-1"))
    mapping = tmp_path / "m.yaml"
    mapping.write_text(MINIMAL, encoding="utf-8")
    with pytest.raises(InputFileError, match=r"csv\.encoding"):
        import_csv(cdr, load_mapping(mapping))
