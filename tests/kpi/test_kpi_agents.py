"""Agent time (states, occupancy, utilisation), interval/day/agent breakdowns, by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from kpi_logs import T0, Log, row

from callcenter.kpi import Breakdown

H0 = datetime.fromtimestamp(T0, UTC)  # 00:00
H1 = datetime.fromtimestamp(T0 + 1800, UTC)  # 00:30


def call_across_the_boundary() -> Log:
    """a1 logs in at 00:28:20 (t=1700) and takes c1 across 00:30 (t=1800).

    c1 enqueued 1750, offered 1760, connected 1765 (wait 15), complete 1900 (talk 135),
    wrap-up ends 1930 (acw 30); a1 logs out at 2000, the last event of the log.

    a1's segments: available 1700-1760 (60), ringing 1760-1765 (5),
    on_contact 1765-1900 (135 = 35 before 00:30 + 100 after), wrap_up 1900-1930 (30),
    available 1930-2000 (70).
    """
    log = Log().login(1700, "a1")
    log.enqueue(1750, "c1", "sales").offer(1760, "c1", "sales", "a1", wait=10)
    log.connect(1765, "c1", "sales", "a1", wait=15)
    log.complete(1900, "c1", "sales", "a1", talk=135).wrapup(1930, "c1", "sales", "a1", acw=30)
    return log.logout(2000, "a1")


def test_call_counts_in_its_enqueue_interval_and_time_is_split(tmp_path: Path) -> None:
    report = call_across_the_boundary().report(tmp_path, by=Breakdown.INTERVAL, interval_s=1800)
    keys = [(r.interval_start, r.queue) for r in report.rows]
    assert keys == [(H0, "sales"), (H0, None), (H1, None)]  # nothing of sales after 00:30

    sales0 = row(report, interval_start=H0, queue="sales")
    assert sales0.visits is not None and sales0.handling is not None
    assert (sales0.visits.offered, sales0.visits.answered) == (1, 1)
    assert sales0.handling.aht_s == pytest.approx(165.0)  # 135 talk + 30 ACW, all in 00:00
    assert sales0.agent_time is None  # agents are not split by queue

    all0 = row(report, interval_start=H0, queue=None).agent_time
    all1 = row(report, interval_start=H1, queue=None).agent_time
    assert all0 is not None and all1 is not None
    # 00:00-00:30: available 60, ringing 5, on contact 35 -> busy 40 of staffed 100
    assert (all0.available_s, all0.ringing_s, all0.on_contact_s) == (60.0, 5.0, 35.0)
    assert (all0.wrap_up_s, all0.staffed_s) == (0.0, 100.0)
    assert all0.occupancy == pytest.approx(40 / 100)
    assert all0.utilisation == pytest.approx(40 / 100)
    # 00:30-01:00: on contact 100, wrap-up 30, available 70 -> busy 130 of 200
    assert (all1.on_contact_s, all1.wrap_up_s, all1.available_s) == (100.0, 30.0, 70.0)
    assert all1.staffed_s == 200.0
    assert all1.occupancy == pytest.approx(130 / 200)
    h1 = row(report, interval_start=H1, queue=None).handling
    assert h1 is not None and h1.handled == 0  # handle time stays with the enqueue interval

    total = report.total.agent_time
    assert total is not None
    assert total.on_contact_s == 135.0 and total.staffed_s == 300.0
    assert total.occupancy == pytest.approx(170 / 300)


def test_fifteen_minute_intervals(tmp_path: Path) -> None:
    """With 15-minute intervals: on contact 1765-1800 lies in 00:15-00:30 (35 s) and
    1800-1900 in 00:30-00:45 (100 s); the call is counted in 00:15 (enqueued 1750)."""
    report = call_across_the_boundary().report(tmp_path, by=Breakdown.INTERVAL, interval_s=900)
    q15 = datetime.fromtimestamp(T0 + 900, UTC)
    a = row(report, interval_start=q15, queue=None).agent_time
    b = row(report, interval_start=H1, queue=None).agent_time
    assert a is not None and b is not None
    assert (a.on_contact_s, b.on_contact_s) == (35.0, 100.0)
    assert row(report, interval_start=q15, queue="sales").visits is not None


def paused_agents() -> Log:
    """One 30-minute interval, the log ends at 00:30 (t=1800).

    a1: login 0, paused "lunch" 600, available 1500; c1 enqueued 1600, offered 1600,
        connected 1610 (ringing 10), complete 1700 (talk 90), wrap-up ends 1720 (acw 20);
        logout 1800.
        available 600 + 100 + 80 = 780, paused 900, ringing 10, on contact 90, wrap-up 20:
        staffed 1800, busy 120.
    a2: login 900, paused without a reason 1200, logout 1500 (logged out 1500-1800):
        available 300, paused ("unspecified") 300, staffed 600.
    """
    log = Log().login(0, "a1").pause(600, "a1", "lunch").available(1500, "a1")
    log.enqueue(1600, "c1", "sales").offer(1600, "c1", "sales", "a1", wait=0)
    log.connect(1610, "c1", "sales", "a1", wait=10)
    log.complete(1700, "c1", "sales", "a1", talk=90).wrapup(1720, "c1", "sales", "a1", acw=20)
    log.login(900, "a2").pause(1200, "a2").logout(1500, "a2")
    return log.logout(1800, "a1")


def test_pause_mid_interval(tmp_path: Path) -> None:
    report = paused_agents().report(tmp_path, by=Breakdown.AGENT)
    a1 = row(report, agent="a1").agent_time
    a2 = row(report, agent="a2").agent_time
    assert a1 is not None and a2 is not None
    assert (a1.staffed_s, a1.available_s, a1.paused_s) == (1800.0, 780.0, 900.0)
    assert a1.paused_by_reason_s == {"lunch": 900.0}
    assert (a1.ringing_s, a1.on_contact_s, a1.wrap_up_s) == (10.0, 90.0, 20.0)
    assert a1.occupancy == pytest.approx(120 / 900)  # busy / (busy + available)
    assert a1.utilisation == pytest.approx(120 / 1800)  # busy / staffed (pauses count)
    assert (a2.staffed_s, a2.available_s, a2.paused_s) == (600.0, 300.0, 300.0)
    assert a2.paused_by_reason_s == {"unspecified": 300.0}
    assert (a2.occupancy, a2.utilisation) == (0.0, 0.0)
    # all agents: sums first, then the ratio (not an average of the agents' ratios)
    t = report.total.agent_time
    assert t is not None
    assert (t.staffed_s, t.available_s, t.paused_s) == (2400.0, 1080.0, 1200.0)
    assert t.paused_by_reason_s == {"lunch": 900.0, "unspecified": 300.0}
    assert t.occupancy == pytest.approx(120 / 1200)
    assert t.utilisation == pytest.approx(120 / 2400)


def test_agent_rows_count_offers_and_unanswered_rings(tmp_path: Path) -> None:
    """c1 rings a1 for 15 s without answer, then a2 answers; a2 also takes c2.

    c1: enqueue 0, offer a1 0, ring_noanswer a1 15, offer a2 20, connect a2 25 (wait 25),
        complete 125 (talk 100), wrap-up 135 (acw 10)
    c2: enqueue 200, answered by a2 after 10 s, talk 50, hold 20, acw 30
    """
    log = Log().login(0, "a1").login(0, "a2")
    log.enqueue(0, "c1", "sales").offer(0, "c1", "sales", "a1", wait=0)
    log.add(15, "ring_noanswer", contact="c1", queue="sales", agent="a1", ring=15, wait=15)
    log.offer(20, "c1", "sales", "a2", wait=20).connect(25, "c1", "sales", "a2", wait=25)
    log.complete(125, "c1", "sales", "a2", talk=100).wrapup(135, "c1", "sales", "a2", acw=10)
    log.answered("c2", "sales", "a2", enq=200, wait=10, talk=50, hold=20, acw=30)
    report = log.report(tmp_path, by=Breakdown.AGENT)
    assert [r.agent for r in report.rows] == ["a1", "a2"]
    assert all(r.visits is None for r in report.rows)  # queue visits are not per agent
    h1, h2 = row(report, agent="a1").handling, row(report, agent="a2").handling
    assert h1 is not None and h2 is not None
    assert (h1.offers, h1.connects, h1.ring_noanswer, h1.handled) == (1, 0, 1, 0)
    assert h1.aht_s is None
    assert (h2.offers, h2.connects, h2.ring_noanswer, h2.handled) == (2, 2, 0, 2)
    # a2: (100 + 10) and (50 + 20 + 30) -> AHT 210 / 2
    assert h2.aht_s == pytest.approx(105.0)
    assert h2.avg_talk_s == pytest.approx(75.0) and h2.avg_hold_s == pytest.approx(10.0)
    q = log.report(tmp_path, name="q.jsonl").rows[0].handling
    assert q is not None and q.ring_noanswer == 1  # also counted for the queue


def test_day_rows_follow_the_enqueue_day(tmp_path: Path) -> None:
    """c1 enqueued at 23:59:50 on Jan 1, answered at 00:00:05 on Jan 2 (wait 15);
    c2 enqueued and abandoned on Jan 2."""
    day = 86400
    log = Log().login(day - 100, "a1")
    log.answered("c1", "sales", "a1", enq=day - 10, wait=15, talk=60, acw=5)
    log.enqueue(day + 50, "c2", "sales").abandon(day + 80, "c2", "sales", wait=30)
    report = log.report(tmp_path, by=Breakdown.DAY)
    assert [r.day for r in report.rows] == [date(2024, 1, 1), date(2024, 1, 2)]
    d1, d2 = (r.visits for r in report.rows)
    assert d1 is not None and d2 is not None
    assert (d1.offered, d1.answered, d2.offered, d2.abandoned) == (1, 1, 1, 1)
    a1, a2 = (r.agent_time for r in report.rows)
    assert a1 is not None and a2 is not None
    # a1: available 100 s before midnight (login at -100, offer at +4 = day + 4)
    assert a1.available_s == 100.0
    assert a2.staffed_s == pytest.approx(report.period.end.timestamp() - (T0 + day))


def test_transfer_to_an_agent_pairs_wrap_up_with_the_right_leg(tmp_path: Path) -> None:
    """a1 answers c1 and transfers it to a2; a1's wrap-up ends after a2 has connected.

    c1: enqueue 0, connect a1 10 (wait 10), transfer a1 70 (talk 60, to agent a2),
        connect a2 72, wrap-up a1 80 (acw 10), complete a2 172 (talk 100),
        wrap-up a2 192 (acw 20)
    Legs: a1 = 60 + 10 = 70 s, a2 = 100 + 20 = 120 s; one visit, answered by a1.
    """
    log = Log().login(0, "a1").login(0, "a2")
    log.enqueue(0, "c1", "sales").connect(10, "c1", "sales", "a1", wait=10)
    log.add(70, "transfer", contact="c1", queue="sales", agent="a1", target="a2",
            target_type="agent", kind="attended", talk=60)  # fmt: skip
    log.connect(72, "c1", "sales", "a2", wait=72)
    log.wrapup(80, "c1", "sales", "a1", acw=10)
    log.complete(172, "c1", "sales", "a2", talk=100).wrapup(192, "c1", "sales", "a2", acw=20)
    report = log.report(tmp_path, by=Breakdown.AGENT)
    h1, h2 = row(report, agent="a1").handling, row(report, agent="a2").handling
    assert h1 is not None and h2 is not None
    assert (h1.handled, h1.transfers, h1.aht_s, h1.avg_acw_s) == (1, 1, 70.0, 10.0)
    assert (h2.handled, h2.transfers, h2.aht_s, h2.avg_acw_s) == (1, 0, 120.0, 20.0)
    total = report.total
    assert total.visits is not None and total.handling is not None
    assert (total.visits.offered, total.visits.answered) == (1, 1)
    assert total.visits.asa_s == 10.0  # the visit ended at a1's connect
    assert (total.handling.handled, total.handling.aht_s) == (2, 95.0)
    assert total.handling.transfer_rate == 0.5
