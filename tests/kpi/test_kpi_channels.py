"""Calls next to chats: the channel column of ``callcenter kpi`` (issue 15).

A contact's channel is the one its ``arrive`` event names; the definitions of every
figure are unchanged, only the rows are split. The log below mixes one queue's calls
and chats and is counted by hand in each test.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from kpi_logs import Log, row

from callcenter.kpi import Breakdown, KpiSettings, compute_kpis
from callcenter.kpi.export import report_to_csv


def mixed_channels() -> Log:
    """Queue ``support`` takes calls and chats; ``sales`` only calls (seconds after 00:00).

    support  v1 voice answered, wait 10, talk 100, acw 20
             v2 voice abandoned, wait 45
             h1 chat answered, wait 30, talk 300, acw 0
             h2 chat answered, wait 5, talk 200, acw 10
             h3 chat abandoned, wait 2 (short)
    sales    v3 voice answered, wait 25, talk 60, acw 0 (arrived through an IVR: the
             arrive is 40 s before the enqueue, and IVR time is not queue wait)
             x1 no arrive event (an imported fragment): answered, wait 8, talk 50
    """
    log = Log().login(0, "a1").login(0, "a2")
    for contact, channel, t in (("v1", "voice", 0), ("v2", "voice", 100), ("h1", "chat", 0)):
        log.add(t, "arrive", contact=contact, channel=channel, caller="+98912000000")
    log.add(500, "arrive", contact="h2", channel="chat")
    log.add(700, "arrive", contact="h3", channel="chat")
    log.add(260, "arrive", contact="v3", channel="voice", caller="+37060000000")
    log.answered("v1", "support", "a1", enq=0, wait=10, talk=100, acw=20)
    log.enqueue(100, "v2", "support").abandon(145, "v2", "support", wait=45)
    log.answered("h1", "support", "a2", enq=0, wait=30, talk=300, acw=0)
    log.answered("h2", "support", "a1", enq=500, wait=5, talk=200, acw=10)
    log.enqueue(700, "h3", "support").abandon(702, "h3", "support", wait=2)
    log.answered("v3", "sales", "a2", enq=300, wait=25, talk=60, acw=0)
    log.answered("x1", "sales", "a1", enq=900, wait=8, talk=50, acw=0)
    return log


def test_rows_by_channel_count_calls_next_to_chats(tmp_path: Path) -> None:
    report = mixed_channels().report(tmp_path, by=Breakdown.CHANNEL)
    assert [r.channel for r in report.rows] == ["chat", "voice", None]
    voice, chat = row(report, channel="voice"), row(report, channel="chat")
    unknown = row(report, channel=None)
    assert voice.visits is not None and chat.visits is not None and unknown.visits is not None
    # voice: v1 (10 s), v2 abandoned (45 s), v3 (25 s)
    assert (voice.visits.offered, voice.visits.answered, voice.visits.abandoned) == (3, 2, 1)
    assert voice.visits.asa_s == pytest.approx((10 + 25) / 2)
    assert voice.visits.service_level == pytest.approx(1 / 3)  # v1 within 20 s, of 3
    # chat: h1 (30 s), h2 (5 s), h3 abandoned after 2 s (short)
    assert (chat.visits.offered, chat.visits.answered, chat.visits.abandoned) == (3, 2, 1)
    assert chat.visits.short_abandoned == 1
    assert chat.visits.asa_s == pytest.approx((30 + 5) / 2)
    assert chat.visits.service_level == pytest.approx(1 / 3)  # h2 only
    assert (unknown.visits.offered, unknown.visits.answered) == (1, 1)
    # handling: AHT = (talk + hold + acw) / handled, per channel
    assert voice.handling is not None and chat.handling is not None
    assert voice.handling.handled == 2
    assert voice.handling.aht_s == pytest.approx((100 + 20 + 60 + 0) / 2)
    assert chat.handling.aht_s == pytest.approx((300 + 0 + 200 + 10) / 2)
    assert voice.agent_time is None  # agents' time is not split by channel
    # the total is unchanged by the split: 7 offered, 5 answered
    assert report.total.visits is not None
    assert (report.total.visits.offered, report.total.visits.answered) == (7, 5)


def test_queue_rows_carry_their_channel(tmp_path: Path) -> None:
    report = mixed_channels().report(tmp_path, by=Breakdown.QUEUE)
    keys = [(r.queue, r.channel) for r in report.rows]
    assert keys == [("sales", "voice"), ("sales", None), ("support", "chat"), ("support", "voice")]
    sv = row(report, queue="support", channel="voice").visits
    assert sv is not None and (sv.offered, sv.answered, sv.abandoned) == (2, 1, 1)
    js = report.to_dict()["rows"]
    assert {(r["queue"], r["channel"]) for r in js} == set(keys)


def test_an_event_naming_its_own_channel_keeps_it(tmp_path: Path) -> None:
    """``enqueue`` may name a channel; it wins over the contact's arrive (a callback
    request that comes back as a voice visit of a chat contact, say)."""
    log = Log().login(0, "a1")
    log.add(0, "arrive", contact="c1", channel="chat")
    log.enqueue(0, "c1", "support").add(
        5, "callback_request", contact="c1", queue="support", wait=5
    )
    log.add(100, "enqueue", contact="c1", queue="support", channel="callback")
    log.connect(110, "c1", "support", "a1", wait=10).complete(150, "c1", "support", "a1", 40)
    report = log.report(tmp_path, by=Breakdown.CHANNEL)
    cb = row(report, channel="callback")
    assert cb.visits is not None and (cb.visits.offered, cb.visits.answered) == (1, 1)
    chat = row(report, channel="chat")
    assert chat.visits is not None and chat.visits.callbacks_requested == 1


def test_csv_has_the_channel_column(tmp_path: Path) -> None:
    path = mixed_channels().write(tmp_path / "log.jsonl")
    text = report_to_csv(compute_kpis(path, KpiSettings(by=Breakdown.CHANNEL)))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["level"], r["channel"], r["offered"]) for r in rows] == [
        ("channel", "chat", "3"),
        ("channel", "voice", "3"),
        ("channel", "", "1"),
        ("total", "", "7"),
    ]


def kpi_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "160", "PYTHONIOENCODING": "utf-8"}
    cmd = [sys.executable, "-m", "callcenter.cli.main", "kpi", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)


def test_cli_table_by_channel(tmp_path: Path) -> None:
    path = mixed_channels().write(tmp_path / "log.jsonl")
    r = kpi_cli(str(path), "--by", "channel")
    assert r.returncode == 0, r.stderr
    assert "KPIs by channel" in r.stdout
    lines = r.stdout.splitlines()
    voice = next(line for line in lines if line.lstrip().startswith("voice"))
    assert voice.split()[1:4] == ["3", "2", "1"]  # offered, answered, abandoned
    queue_table = kpi_cli(str(path))
    assert "Channel" in queue_table.stdout
    support = [ln.split()[:3] for ln in queue_table.stdout.splitlines() if "support" in ln]
    assert support == [["support", "chat", "3"], ["support", "voice", "2"]]


def test_one_queue_report_totals_all_its_channels(tmp_path: Path) -> None:
    """The live report's per-queue view (``/api/reports/kpi?queue=``): the queue's
    interval rows and, as its total, the queue over calls and chats together."""
    from callcenter.kpi import compute_queue_report

    path = mixed_channels().write(tmp_path / "log.jsonl")
    report = compute_queue_report(path, KpiSettings(interval_s=3600), "support")
    assert report is not None and report.total.visits is not None
    assert (report.total.queue, report.total.channel) == ("support", None)
    v = report.total.visits
    assert (v.offered, v.answered, v.abandoned) == (5, 3, 2)  # v1 v2 h1 h2 h3
    assert v.asa_s == pytest.approx((10 + 30 + 5) / 3)
    assert {r.queue for r in report.rows} == {"support"} and report.benchmarks == ()
    assert compute_queue_report(path, KpiSettings(), "nobody") is None
