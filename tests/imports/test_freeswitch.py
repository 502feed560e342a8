"""FreeSWITCH mod_callcenter import: ESL JSON events, JSON CDRs, CSV CDRs.

The fixtures in ``data/freeswitch`` tell the same five calls to queue ``support@default``
in each format (T0 = 2026-01-05 09:00:00 UTC, times below are seconds after T0):

=====  ======  ==========================================  ======  =====
call   joined  story                                        wait    talk
=====  ======  ==========================================  ======  =====
A      10      offered to 1000 at 12, answered at 15        5       120 (agent hangs up)
B      20      1001 does not answer (22-42), answered at 50 30      180 (caller hangs up)
C      30      hangs up in the queue at 38 (BREAK_OUT)      8       —
D      140     answered by 1000 at 150, ends at 240         10      90 (side unknown)
E      200     max-wait-time reached at 260 (TIMEOUT)       60      —
=====  ======  ==========================================  ======  =====

By hand: offered 5, answered 3 (A, B, D), abandoned 1 (C), timed out 1 (E).
Service level (T = 20 s, abandons and timeouts count against): answered within 20 s are
A (5) and D (10): 2 / (3 + 1 + 1) = 40 %. ASA = (5 + 30 + 10) / 3 = 15 s.
AHT = talk only (mod_callcenter reports no hold and no wrap-up) = (120 + 180 + 90) / 3 = 130 s.
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
from callcenter.events import Event, EventType, validate_event
from callcenter.imports.freeswitch import (
    FsFormat,
    detect_format,
    import_cdrs,
    import_events,
    import_freeswitch,
)

DATA = Path(__file__).parent / "data" / "freeswitch"
EVENTS = DATA / "cc-events.json"
JSON_CDR = [DATA / "cc-cdr.jsonl", DATA / "0a1b2c3d-0000-4000-8000-00000000000d.cdr.json"]
CSV_CDR = DATA / "cc-cdr.csv"
CSV_CDR_NOHEADER = DATA / "cc-cdr-noheader.csv"
TEMPLATE = (
    '"${uuid}","${caller_id_number}","${cc_queue}","${cc_agent}","${cc_queue_joined_epoch}",'
    '"${cc_queue_answered_epoch}","${cc_queue_terminated_epoch}","${cc_queue_canceled_epoch}",'
    '"${cc_cause}","${cc_cancel_reason}","${sip_hangup_disposition}","${start_epoch}",'
    '"${end_epoch}","${billsec}","${hangup_cause}"'
)
T0 = 1_767_603_600.0
CLI = "import callcenter.cli.imports.freeswitch; from callcenter.cli.main import main; main()"


def uuid(call: str) -> str:
    return "0a1b2c3d-0000-4000-8000-00000000000" + call


def run(cwd: Path, *args: str, code: str = CLI) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
    env["COLUMNS"] = "200"
    cmd = [sys.executable, "-c", code, "import", "freeswitch", *args]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def kpi_total(tmp_path: Path, log: Path) -> dict[str, Any]:
    """The total row of the real ``callcenter kpi`` on the imported log."""
    proc = subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", "kpi", str(log), "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    total: dict[str, Any] = json.loads(proc.stdout)["total"]
    return total


def assert_day_kpis(total: dict[str, Any]) -> None:
    v, h = total["visits"], total["handling"]
    assert (v["offered"], v["answered"], v["abandoned"], v["timed_out"]) == (5, 3, 1, 1)
    assert v["answered_within"] == 2
    assert v["service_level"] == pytest.approx(0.4)
    assert v["service_level_answered"] == pytest.approx(2 / 3, abs=1e-6)
    assert v["abandon_rate"] == pytest.approx(0.2)
    assert v["asa_s"] == pytest.approx(15.0)
    assert v["max_wait_s"] == pytest.approx(60.0)
    assert h["handled"] == 3
    assert h["aht_s"] == pytest.approx(130.0)


def of(events: list[Event], contact: str) -> list[Event]:
    return [e for e in events if e.contact == contact]


# ------------------------------------------------------------------ ESL JSON events


@pytest.mark.parametrize("source", ["events", "json-cdr", "csv-cdr"])
def test_day_kpis_by_hand_through_the_real_commands(tmp_path: Path, source: str) -> None:
    files = {"events": [EVENTS], "json-cdr": JSON_CDR, "csv-cdr": [CSV_CDR]}[source]
    out = tmp_path / "day.jsonl"
    proc = run(tmp_path, *map(str, files), "--format", source, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert_day_kpis(kpi_total(tmp_path, out))


def test_events_map_each_call() -> None:
    events, stats = import_events([EVENTS])
    assert all(validate_event(e) == e for e in events)
    assert [e.t for e in events] == sorted(e.t for e in events)
    b = of(events, uuid("b"))
    assert [e.type.value for e in b] == [
        "arrive", "enqueue", "offer", "ring_noanswer", "offer", "connect", "complete",
    ]  # fmt: skip
    assert b[0].caller == "+14155550102" and b[1].queue == "support@default"
    noanswer = b[3]
    assert (noanswer.agent, noanswer.ring, noanswer.wait, noanswer.reason) == (
        "1001@default", 20.0, 22.0, "timeout",
    )  # fmt: skip
    assert (b[5].wait, b[5].ring) == (30.0, 5.0)
    assert (b[6].talk, b[6].by) == (180.0, "caller")  # from the caller leg's recv_bye
    a = of(events, uuid("a"))
    assert (a[-2].wait, a[-2].ring, a[-1].talk, a[-1].by) == (5.0, 3.0, 120.0, "agent")
    c = of(events, uuid("c"))
    assert (c[-1].type, c[-1].wait) == (EventType.ABANDON, 8.0)
    e = of(events, uuid("e"))
    assert (e[-1].type, e[-1].wait, e[-1].reason) == (EventType.TIMEOUT, 60.0, "max_wait")
    agents = [(x.type.value, x.agent, x.state) for x in events if x.contact is None]
    assert agents == [
        ("agent_login", "1000@default", None),
        ("agent_login", "1001@default", None),
        ("agent_state", "1001@default", "paused"),
        ("agent_logout", "1000@default", None),
        ("agent_logout", "1001@default", None),
    ]
    assert events[0].t == pytest.approx(T0, abs=0.001)  # Event-Date-Timestamp, microseconds
    assert "1 answered calls without sip_hangup_disposition" in stats.notes[0]


def test_events_dirty_lines_counted_with_line_numbers() -> None:
    _, stats = import_events([EVENTS])
    # line 14: a truncated write, 25: console noise, 26: bridge-agent-start without
    # CC-Agent, 34: a JSON array; line 17 repeats line 16.
    assert stats.bad == 4
    assert [n for n, _ in stats.bad_lines] == [14, 25, 26, 34]
    assert "not JSON" in stats.bad_lines[0][1]
    assert "without CC-Agent" in stats.bad_lines[2][1]
    assert stats.duplicates == 1
    assert stats.unmapped_events == {
        "callcenter::info agent-state-change": 3,
        "callcenter::info members-count": 1,
        "CHANNEL_HANGUP_COMPLETE": 1,
    }
    assert {r["line"] for r in stats.raw} == {4, 5, 8, 20, 29}
    assert stats.lines == 36


def cc(action: str, t: float, **headers: str) -> str:
    h = {
        "Event-Name": "CUSTOM",
        "Event-Subclass": "callcenter::info",
        "Event-Date-Timestamp": str(int((T0 + t) * 1_000_000)),
        "CC-Action": action,
        "CC-Queue": "q@default",
        "CC-Member-Session-UUID": "s1",
        "CC-Member-CID-Number": "555",
        **headers,
    }
    return json.dumps(h)


def write(tmp_path: Path, *lines: str) -> Path:
    p = tmp_path / "ev.json"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("reason", "extra", "kind", "why"),
    [
        ("NO_AGENT_TIMEOUT", {}, "timeout", "empty"),
        ("TIMEOUT", {}, "timeout", "max_wait"),
        ("BREAK_OUT", {}, "abandon", None),
        ("BREAK_OUT", {"variable_cc_exit_key": "9"}, "timeout", "key"),
    ],
)
def test_cancel_reasons(
    tmp_path: Path, reason: str, extra: dict[str, str], kind: str, why: str | None
) -> None:
    path = write(
        tmp_path,
        cc("member-queue-start", 0),
        cc(
            "member-queue-end", 12, **{"CC-Cause": "Cancel", "CC-Cancel-Reason": reason,
            "CC-Member-Joined-Time": str(int(T0)), "CC-Member-Leaving-Time": str(int(T0 + 12))},
            **extra,
        ),
    )  # fmt: skip
    events, stats = import_events([path])
    assert stats.bad == 0
    last = events[-1]
    assert (last.type.value, last.wait, last.reason) == (kind, 12.0, why)


def test_log_that_begins_mid_call_rebuilds_the_visit(tmp_path: Path) -> None:
    times = {
        "CC-Agent": "7@default",
        "CC-Member-Joined-Time": str(int(T0 - 40)),
        "CC-Agent-Called-Time": str(int(T0 - 30)),
        "CC-Agent-Answered-Time": str(int(T0 - 25)),
    }
    path = write(
        tmp_path,
        cc("bridge-agent-end", 35, **times, **{"CC-Bridge-Terminated-Time": str(int(T0 + 35))}),
        cc("member-queue-end", 35, **times, **{"CC-Cause": "Terminated",
           "variable_sip_hangup_disposition": "send_bye"}),
    )  # fmt: skip
    events, stats = import_events([path])
    assert [e.type.value for e in events] == ["arrive", "enqueue", "connect", "complete"]
    assert events[1].t == T0 - 40
    assert (events[2].wait, events[2].ring) == (15.0, 5.0)
    assert (events[3].talk, events[3].by) == (60.0, "agent")  # caller leg sent the BYE
    assert any("queued before the log began" in n for n in stats.notes)


def test_unknown_agent_status_and_missing_timestamp_are_bad_lines(tmp_path: Path) -> None:
    no_time = json.loads(cc("member-queue-start", 0))
    del no_time["Event-Date-Timestamp"]
    path = write(
        tmp_path,
        cc("agent-status-change", 0, **{"CC-Agent": "1", "CC-Agent-Status": "Dancing"}),
        json.dumps(no_time),
        cc("member-queue-start", 1),
    )
    events, stats = import_events([path])
    assert [n for n, _ in stats.bad_lines] == [1, 2]
    assert "Dancing" in stats.bad_lines[0][1]
    assert "Event-Date-Timestamp" in stats.bad_lines[1][1]
    assert [e.type.value for e in events] == ["arrive", "enqueue"]
    assert stats.notes == ["1 calls never left the queue"]


# ------------------------------------------------------------------ CDRs


def test_json_cdr_mapping() -> None:
    events, stats = import_cdrs(JSON_CDR, FsFormat.JSON_CDR)
    assert all(validate_event(e) == e for e in events)
    a = of(events, uuid("a"))
    assert [e.type.value for e in a] == ["arrive", "enqueue", "connect", "complete"]
    assert a[0].t == T0 + 8  # start_epoch: the call came in 2 s before joining the queue
    assert (a[2].agent, a[2].wait, a[3].talk, a[3].by) == ("1000@default", 5.0, 120.0, "agent")
    d = of(events, uuid("d"))  # URL-encoded values, caller only in the callflow
    assert (d[0].caller, d[1].queue, d[2].agent) == (
        "+14155550104",
        "support@default",
        "1000@default",
    )
    assert d[3].by == "caller"
    assert [n for n, _ in stats.bad_lines] == [4, 8]
    assert "yesterday" in stats.bad_lines[1][1] and "cc-cdr.jsonl" in stats.bad_lines[1][1]
    assert stats.duplicates == 1
    assert any("agent legs" in n for n in stats.notes)
    assert any("no cc_queue" in n for n in stats.notes)


def test_csv_cdr_with_header_and_with_template() -> None:
    with_header, s1 = import_cdrs([CSV_CDR], FsFormat.CSV_CDR)
    with_template, s2 = import_cdrs([CSV_CDR_NOHEADER], FsFormat.CSV_CDR, TEMPLATE)
    assert [e.to_dict() for e in with_header] == [e.to_dict() for e in with_template]
    assert len(with_header) == 18
    assert [n for n, _ in s1.bad_lines] == [7]
    assert [n for n, _ in s2.bad_lines] == [6]
    assert "2 fields, expected 15" in s1.bad_lines[0][1]


def test_csv_cdr_without_header_or_template_is_refused() -> None:
    with pytest.raises(InputFileError, match="--template"):
        import_cdrs([CSV_CDR_NOHEADER], FsFormat.CSV_CDR)


def test_detect_format(tmp_path: Path) -> None:
    assert detect_format(EVENTS) is FsFormat.EVENTS
    assert detect_format(JSON_CDR[0]) is FsFormat.JSON_CDR
    assert detect_format(JSON_CDR[1]) is FsFormat.JSON_CDR
    assert detect_format(CSV_CDR) is FsFormat.CSV_CDR
    odd = tmp_path / "odd.log"
    odd.write_text("hello\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="cannot tell the format"):
        detect_format(odd)
    events, _ = import_freeswitch([EVENTS])
    assert len(events) == 28


def test_missing_file() -> None:
    with pytest.raises(InputFileError, match="no such file"):
        import_freeswitch([DATA / "nope.json"], FsFormat.EVENTS)
