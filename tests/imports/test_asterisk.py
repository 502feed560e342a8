"""Asterisk queue_log import: the mapping, dirty logs, CDR, recordings, follow mode.

The fixture ``data/queue_log_day`` is a small morning in queue ``support`` written in the
real queue_log format; its KPIs were computed by hand (see test_day_kpis_by_hand).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from callcenter.events import Event, EventType, validate_event
from callcenter.imports.asterisk import import_queue_log, normalise_agent
from callcenter.imports.asterisk.extras import (
    fill_callers,
    find_recordings,
    load_cdr_callers,
    write_recordings_csv,
)
from callcenter.imports.asterisk.follow import follow_queue_log
from callcenter.speech.metadata import load_metadata_file

DATA = Path(__file__).parent / "data"
DAY = DATA / "queue_log_day"
CLI = "import callcenter.cli.imports.asterisk; from callcenter.cli.main import main; main()"


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-c", CLI, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def write_log(tmp_path: Path, text: str, name: str = "queue_log") -> Path:
    p = tmp_path / name
    p.write_text(text.strip() + "\n", encoding="utf-8")
    return p


def types(events: list[Event]) -> list[str]:
    return [e.type.value for e in events]


# ------------------------------------------------------------------ the day, end to end


def test_day_events_validate_and_are_in_time_order() -> None:
    result = import_queue_log(DAY)
    for ev in result.events:
        validate_event(ev)
    ts = [e.t for e in result.events]
    assert ts == sorted(ts)
    assert result.stats.bad == 0
    assert result.stats.unmapped_events == {"QUEUESTART": 1, "CONFIGRELOAD": 1}
    arrive = [e for e in result.events if e.type is EventType.ARRIVE]
    assert [e.caller for e in arrive] == [
        "5551001",
        "5551002",
        "5551003",
        "5551004",  # '"Smith | Sons" <5551004>': the '|' in the name is rejoined
        "5551005",
        "5551006",
    ]


def test_day_kpis_by_hand(tmp_path: Path) -> None:
    """6 calls in `support` between 08:00 and 08:15 UTC:

    call  wait  outcome                          talk
    .1    10    answered by 1001                 120
    .3    40    alice: ring-no-answer, answered  200
    .5    30    abandoned
    .6     5    answered by 1001, blind transfer  60
    .8    60    EXITWITHTIMEOUT (exited)
    .9    25    answered by alice                100

    offered 6, answered 4, abandoned 1, timed out 1; SL(20 s, offered) = 2/6 (.1, .6);
    abandon rate 1/6; ASA = (10+40+5+25)/4 = 20 s; AHT = (120+200+60+100)/4 = 120 s
    (Asterisk logs no hold or wrap-up); avg wait = (10+40+5+25+30+60)/6.
    """
    out = tmp_path / "day.jsonl"
    r = cli(tmp_path, "import", "asterisk", "--queue-log", str(DAY), "--out", str(out))
    assert r.returncode == 0, r.stderr
    k = subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", "kpi", str(out), "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    total = json.loads(k.stdout)["total"]
    v, h = total["visits"], total["handling"]
    assert (v["offered"], v["answered"], v["abandoned"], v["timed_out"]) == (6, 4, 1, 1)
    assert v["service_level"] == pytest.approx(2 / 6, abs=1e-6)
    assert v["abandon_rate"] == pytest.approx(1 / 6, abs=1e-6)
    assert v["asa_s"] == pytest.approx(20.0)
    assert v["avg_wait_s"] == pytest.approx(170 / 6, abs=1e-3)
    assert v["max_wait_s"] == pytest.approx(60.0)
    assert h["aht_s"] == pytest.approx(120.0)
    assert (h["handled"], h["transfers"], h["ring_noanswer"], h["offers"]) == (4, 1, 1, 5)
    assert total["agent_time"]["paused_by_reason_s"] == {"lunch": 600.0}
    raw = (tmp_path / "day.jsonl.unmapped.jsonl").read_text().splitlines()
    assert {json.loads(x)["event"] for x in raw} == {"QUEUESTART", "CONFIGRELOAD"}


# ------------------------------------------------------------------ the mapping table

T = 1714550400


@pytest.mark.parametrize(
    ("line", "expect"),
    [
        ("ABANDON|3|1|45", {"type": "abandon", "wait": 45.0, "position": 3}),
        ("EXITWITHTIMEOUT|1|1|90", {"type": "timeout", "wait": 90.0, "reason": "max_wait"}),
        ("EXITEMPTY|1|1|2", {"type": "timeout", "wait": 2.0, "reason": "empty"}),
        ("EXITWITHKEY|5|2|1|12", {"type": "timeout", "wait": 12.0, "reason": "key"}),
        ("WITHDRAW|info", {"type": "timeout", "wait": 10.0, "reason": "withdraw"}),
    ],
)
def test_queue_exits(tmp_path: Path, line: str, expect: dict[str, object]) -> None:
    log = write_log(tmp_path, f"{T}|c1|q|NONE|ENTERQUEUE||100|1\n{T + 10}|c1|q|NONE|{line}")
    last = import_queue_log(log).events[-1].to_dict()
    assert {k: last[k] for k in expect} == expect


@pytest.mark.parametrize(
    ("line", "expect"),
    [
        ("COMPLETECALLER|5|70|1", [("complete", {"by": "caller", "talk": 70.0})]),
        ("COMPLETEAGENT|5|71|1", [("complete", {"by": "agent", "talk": 71.0})]),
        ("AGENTDUMP", [("complete", {"by": "agent", "talk": 0.0})]),
        (
            "BLINDTRANSFER|2000|from-internal|5|30|1",
            [("transfer", {"kind": "blind", "target": "2000@from-internal", "talk": 30.0})],
        ),
        (
            "TRANSFER|2000|from-internal|5|31",
            [("transfer", {"kind": "blind", "target": "2000@from-internal", "talk": 31.0})],
        ),
        (
            "ATTENDEDTRANSFER|BRIDGE|1714550500.9|5|32|1",
            [("transfer", {"kind": "attended", "target": "1714550500.9", "talk": 32.0})],
        ),
        (
            "ATTENDEDTRANSFER|LINK|SIP/a-01|SIP/b-02|5|33|1",
            [("transfer", {"kind": "attended", "target": "SIP/a-01|SIP/b-02", "talk": 33.0})],
        ),
    ],
)
def test_call_endings(
    tmp_path: Path, line: str, expect: list[tuple[str, dict[str, object]]]
) -> None:
    log = write_log(
        tmp_path,
        f"{T}|c1|q|NONE|ENTERQUEUE||100|1\n"
        f"{T + 5}|c1|q|SIP/7|CONNECT|5|c2|1\n"
        f"{T + 60}|c1|q|SIP/7|{line}",
    )
    events = import_queue_log(log).events
    assert types(events)[-2:] == [expect[0][0], "wrapup_end"]
    got = events[-2].to_dict()
    assert {k: got[k] for k in expect[0][1]} == expect[0][1]
    assert got["agent"] == "7"


def test_ring_outcomes(tmp_path: Path) -> None:
    log = write_log(
        tmp_path,
        f"""
{T}|c1|q|NONE|ENTERQUEUE||100|1
{T + 15}|c1|q|SIP/7|RINGNOANSWER|15000
{T + 20}|c1|q|SIP/8|SYSCOMPAT
{T + 24}|c1|q|SIP/9|RINGCANCELED|4000
{T + 24}|c1|q|NONE|ABANDON|1|1|24
""",
    )
    evs = [e for e in import_queue_log(log).events if e.type is EventType.RING_NOANSWER]
    assert [(e.agent, e.reason, e.ring, e.wait) for e in evs] == [
        ("7", "timeout", 15.0, 15.0),
        ("8", "syscompat", 0.0, 20.0),
        ("9", "canceled", 4.0, 24.0),
    ]


def test_agent_lines(tmp_path: Path) -> None:
    log = write_log(
        tmp_path,
        f"""
{T}|MANAGER|q|Local/1001@agents/n|ADDMEMBER|
{T + 1}|NONE|NONE|Agent/2002|AGENTLOGIN|SIP/2002-0000001a
{T + 2}|NONE|NONE|Agent/3003|AGENTCALLBACKLOGIN|3003@agents
{T + 3}|REALTIME|q|Local/1001@agents/n|PAUSE|coffee
{T + 4}|NONE|NONE|Local/1001@agents/n|UNPAUSEALL|
{T + 5}|NONE|NONE|Agent/3003|AGENTCALLBACKLOGOFF|3003@agents|3|Autologoff
{T + 6}|NONE|NONE|Agent/2002|AGENTLOGOFF|SIP/2002-0000001a|5
{T + 7}|REALTIME|q|Local/1001@agents/n|REMOVEMEMBER|
""",
    )
    got = [(e.type.value, e.agent, e.state, e.reason) for e in import_queue_log(log).events]
    assert got == [
        ("agent_login", "1001", None, None),
        ("agent_login", "2002", None, None),
        ("agent_login", "3003", None, None),
        ("agent_state", "1001", "paused", "coffee"),
        ("agent_state", "1001", "available", None),
        ("agent_logout", "3003", None, "Autologoff"),
        ("agent_logout", "2002", None, None),
        ("agent_logout", "1001", None, None),
    ]


@pytest.mark.parametrize(
    ("raw", "agent"),
    [
        ("SIP/1001", "1001"),
        ("SIP/1001-0000002a", "1001"),
        ("PJSIP/alice", "alice"),
        ("PJSIP/alice-0000", "alice"),
        ("Local/1001@agents/n", "1001"),
        ("Local/1001@agents", "1001"),
        ("Agent/1001", "1001"),
        ("IAX2/peer-1234abcd", "peer"),
        ("Alice Smith", "Alice Smith"),
        ("NONE", None),
        ("", None),
    ],
)
def test_normalise_agent(raw: str, agent: str | None) -> None:
    assert normalise_agent(raw) == agent


# ------------------------------------------------------------------ dirty logs


def test_garbage_lines_counted_with_line_numbers(tmp_path: Path) -> None:
    log = write_log(
        tmp_path,
        f"""
{T}|c1|q|NONE|ENTERQUEUE||100|1
this is not a queue_log line
{T + 1}|c1|q
yesterday|c1|q|NONE|ABANDON|1|1|1
{T + 2}|NONE|q|NONE|ENTERQUEUE||100|1
{T + 3}|c1|q|NONE|connect lower case
{T + 4}|c1|q|NONE|CONNECT|4|x|1
{T + 9}|c1|q|NONE|ABANDON|1|1|9
""",
    )
    stats = import_queue_log(log).stats
    assert stats.bad == 6
    assert [n for n, _ in stats.bad_lines] == [2, 3, 4, 5, 6]  # the first five
    assert "NONE" in stats.bad_lines[3][1]
    out = tmp_path / "o.jsonl"
    r = cli(tmp_path, "import", "asterisk", "--queue-log", str(log), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "6 lines could not be read" in r.stderr
    assert "line 2:" in r.stderr and "line 6:" in r.stderr


def test_duplicates_and_out_of_order_and_unknown(tmp_path: Path) -> None:
    log = write_log(
        tmp_path,
        f"""
{T}|c1|q|NONE|ENTERQUEUE||100|1
{T + 30}|c1|q|SIP/7|COMPLETECALLER|10|20|1
{T + 10}|c1|q|SIP/7|CONNECT|10|c2|2
{T + 10}|c1|q|SIP/7|CONNECT|10|c2|2
{T + 31}|c1|q|SIP/7|MIXMONITORSTART|x
""",
    )
    result = import_queue_log(log)
    assert result.stats.duplicates == 1
    assert result.stats.unmapped_events == {"MIXMONITORSTART": 1}
    assert result.stats.raw[0]["line"] == 5
    assert types(result.events) == [
        "arrive",
        "enqueue",
        "offer",
        "connect",
        "complete",
        "wrapup_end",
    ]
    complete = result.events[4]
    assert (complete.talk, complete.by) == (20.0, "caller")


def test_call_that_never_leaves_the_queue(tmp_path: Path) -> None:
    log = write_log(
        tmp_path,
        f"{T}|c1|q|NONE|ENTERQUEUE||100|1\n{T + 5}|c2|q|NONE|ENTERQUEUE||101|2\n"
        f"{T + 9}|c2|q|NONE|ABANDON|1|2|4",
    )
    result = import_queue_log(log)
    assert any("1 call entered a queue and never left it" in n for n in result.stats.notes)
    assert [e.type.value for e in result.events if e.contact == "c1"] == ["arrive", "enqueue"]


def test_overflow_is_one_contact_two_visits(tmp_path: Path) -> None:
    log = write_log(
        tmp_path,
        f"""
{T}|c1|support|NONE|ENTERQUEUE||100|1
{T + 30}|c1|support|NONE|EXITWITHTIMEOUT|1|1|30
{T + 30}|c1|sales|NONE|ENTERQUEUE||100|1
{T + 40}|c1|sales|SIP/7|CONNECT|10|c2|2
{T + 100}|c1|sales|SIP/7|COMPLETEAGENT|10|60|1
""",
    )
    result = import_queue_log(log)
    assert types(result.events).count("arrive") == 1
    timeout = next(e for e in result.events if e.type is EventType.TIMEOUT)
    assert (timeout.target, timeout.target_type) == ("sales", "queue")
    out = tmp_path / "o.jsonl"
    assert (
        cli(tmp_path, "import", "asterisk", "--queue-log", str(log), "--out", str(out)).returncode
        == 0
    )
    k = subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", "kpi", str(out), "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(k.stdout)
    total = report["total"]["visits"]
    assert (total["offered"], total["answered"], total["overflowed"]) == (1, 1, 1)
    by_queue = {r["queue"]: r["visits"] for r in report["rows"] if r["queue"]}
    assert by_queue["support"]["offered"] == 1 and by_queue["support"]["overflowed"] == 1
    assert by_queue["sales"]["answered"] == 1


def test_iso_time_column_from_a_database_export(tmp_path: Path) -> None:
    log = write_log(tmp_path, "2024-05-01 08:00:00.5|c1|q|NONE|ENTERQUEUE||100|1")
    assert import_queue_log(log).events[0].t == 1714550400.5


# ------------------------------------------------------------------ CDR and recordings


def test_cdr_fills_missing_caller(tmp_path: Path) -> None:
    log = write_log(
        tmp_path,
        "1714551000|1714551000.20|support|NONE|ENTERQUEUE|||1\n"
        "1714551040|1714551000.20|support|NONE|ABANDON|1|1|40\n"
        "1714550400|1714550400.1|support|NONE|ENTERQUEUE||5551001|1",
    )
    result = import_queue_log(log)
    callers = load_cdr_callers(DATA / "Master.csv")
    assert callers == {"1714550400.1": "5551001", "1714551000.20": "5557777"}
    assert fill_callers(result.events, callers, result.calls) == 1
    arrive = {e.contact: e.caller for e in result.events if e.type is EventType.ARRIVE}
    assert arrive == {"1714550400.1": "5551001", "1714551000.20": "5557777"}


def test_recordings_metadata_csv(tmp_path: Path) -> None:
    rec = tmp_path / "rec"
    (rec / "2024").mkdir(parents=True)
    (rec / "q-support-5551001-20240501-080010-1714550400.1.wav").write_bytes(b"RIFF")
    (rec / "2024" / "1714550460.3-in.wav").write_bytes(b"RIFF")
    (rec / "9999999999.1-in.wav").write_bytes(b"RIFF")  # no such call
    (rec / "notes.txt").write_text("x")
    result = import_queue_log(DAY)
    matches, unmatched = find_recordings(rec, result.calls)
    assert unmatched == 1
    out = tmp_path / "meta.csv"
    write_recordings_csv(out, matches, result.calls)
    meta = load_metadata_file(out)
    assert set(meta) == {"q-support-5551001-20240501-080010-1714550400.1", "1714550460.3-in"}
    m = meta["1714550460.3-in"]
    assert (m.agent, m.caller, m.queue, m.start) == ("alice", "5551002", "support", 1714550500.0)


# ------------------------------------------------------------------ follow mode


def test_follow_survives_rotation_and_truncation(tmp_path: Path) -> None:
    live = tmp_path / "queue_log"
    live.write_text(f"{T}|c1|q|NONE|ENTERQUEUE||100|1\n")
    got: list[Event] = []
    lock = threading.Lock()
    stop = threading.Event()

    def sink(events: list[Event]) -> None:
        with lock:
            got.extend(events)

    def wait_for(n: int) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with lock:
                if len(got) >= n:
                    return
            time.sleep(0.02)
        raise AssertionError(f"expected {n} events, got {types(got)}")

    th = threading.Thread(
        target=follow_queue_log,
        args=(live, sink),
        kwargs={"stop": stop, "poll_s": 0.02, "lag_s": 0.1},
    )
    th.start()
    try:
        wait_for(2)  # arrive + enqueue
        with live.open("a") as f:  # a line written in two parts
            f.write(f"{T + 5}|c1|q|SIP/7|CONN")
            f.flush()
            time.sleep(0.1)
            f.write("ECT|5|c2|1\n")
        wait_for(4)  # + offer + connect
        live.rename(tmp_path / "queue_log.1")  # logrotate: rename, then a new file
        with (tmp_path / "queue_log.1").open("a") as f:  # late line in the old file
            f.write(f"{T + 60}|c1|q|SIP/7|COMPLETECALLER|5|55|1\n")
        live.write_text(f"{T + 70}|c3|q|NONE|ENTERQUEUE||300|1\n")
        wait_for(8)  # + complete + wrapup_end + arrive + enqueue
        live.write_text(f"{T + 80}|c3|q|NONE|ABANDON|1|1|10\n")  # copytruncate-like
        wait_for(9)
    finally:
        stop.set()
        th.join(5)
    assert not th.is_alive()
    assert types(got) == [
        "arrive",
        "enqueue",
        "offer",
        "connect",
        "complete",
        "wrapup_end",
        "arrive",
        "enqueue",
        "abandon",
    ]
    for ev in got:
        validate_event(ev)


def test_follow_stops_when_idle(tmp_path: Path) -> None:
    live = write_log(tmp_path, f"{T}|c1|q|NONE|ENTERQUEUE||100|1")
    got: list[Event] = []
    stats = follow_queue_log(live, got.extend, max_idle_s=0.2, poll_s=0.02)
    assert types(got) == ["arrive", "enqueue"]
    assert stats.lines == 1


def test_follow_maps_late_lines_and_split_overflows_like_a_whole_file(tmp_path: Path) -> None:
    """Lines written out of order, and an overflow whose ENTERQUEUE comes in a later
    batch than its EXITWITHTIMEOUT, give the whole-file import's events."""
    parts = [
        f"{T}|c1|sales|NONE|ENTERQUEUE||100|1",
        f"{T + 30}|c1|sales|NONE|EXITWITHTIMEOUT|1|1|30",
        f"{T + 30}|c1|support|NONE|ENTERQUEUE||100|1",  # the overflow, next batch
        f"{T + 45}|c1|support|SIP/7|CONNECT|15|c1b|3",
        f"{T + 41}|c2|support|NONE|ENTERQUEUE||200|2",  # written after a later line
        f"{T + 90}|c1|support|SIP/7|COMPLETEAGENT|15|45|1",
        f"{T + 95}|c2|support|NONE|ABANDON|1|1|54",
    ]
    live = tmp_path / "queue_log"
    live.write_text("")
    got: list[Event] = []
    lock = threading.Lock()

    def sink(events: list[Event]) -> None:
        with lock:
            got.extend(events)

    th = threading.Thread(
        target=follow_queue_log,
        args=(live, sink),
        kwargs={"max_idle_s": 1.5, "poll_s": 0.02, "lag_s": 0.5},
    )
    th.start()
    for line in parts:
        with live.open("a") as f:
            f.write(line + "\n")
        time.sleep(0.1)  # each line its own batch
    th.join(10)
    assert not th.is_alive()
    whole = import_queue_log(live).events
    assert [e.to_dict() for e in got] == [e.to_dict() for e in whole]
    timeout = next(e for e in got if e.type is EventType.TIMEOUT)
    assert (timeout.target, timeout.target_type) == ("support", "queue")
