"""Queue-visit KPIs on hand-built logs: outcomes, service level (three ways), waits."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from kpi_logs import Log, row

from callcenter.events import Event
from callcenter.kpi import Breakdown, KpiSettings, SlMode, compute_kpis, events_to_frame
from callcenter.storage.jsonl import write_events


def mixed_queue() -> Log:
    """Eight visits to one queue, one of each outcome (times in s after 00:00).

    c1 answered, wait 10        c5 abandoned, wait 40
    c2 answered, wait 30        c6 timed out (no target: exited), wait 60
    c3 abandoned at 0 s         c7 callback requested, wait 20
    c4 abandoned, wait 3        c8 answered, wait exactly 20 (counts as within 20 s)
    """
    log = Log().login(0, "a1").login(0, "a2")
    log.answered("c1", "sales", "a1", enq=0, wait=10, talk=100, acw=20)
    log.answered("c2", "sales", "a2", enq=60, wait=30, talk=200, acw=40, hold=30)
    log.enqueue(100, "c3", "sales").abandon(100, "c3", "sales", wait=0)
    log.enqueue(200, "c4", "sales").abandon(203, "c4", "sales", wait=3)
    log.enqueue(300, "c5", "sales").abandon(340, "c5", "sales", wait=40)
    log.enqueue(400, "c6", "sales").add(460, "timeout", contact="c6", queue="sales", wait=60)
    log.enqueue(500, "c7", "sales").add(
        520, "callback_request", contact="c7", queue="sales", wait=20
    )
    log.answered("c8", "sales", "a1", enq=600, wait=20, talk=60, acw=0)
    return log


def test_outcome_counts_and_waits(tmp_path: Path) -> None:
    report = mixed_queue().report(tmp_path)
    v = row(report, queue="sales").visits
    assert v is not None
    assert (v.offered, v.answered, v.abandoned, v.short_abandoned) == (8, 3, 3, 2)
    assert (v.timed_out, v.exited, v.overflowed) == (1, 1, 0)
    assert (v.callbacks_requested, v.open) == (1, 0)
    assert v.answered_within == 2  # c1 (10 s) and c8 (20 s <= 20 s); c2 waited 30 s
    # ASA = (10 + 30 + 20) / 3 answered = 20 s
    assert v.asa_s == pytest.approx(20.0)
    # average wait over answered + abandoned + timed out (callback excluded):
    # (10 + 30 + 20 + 0 + 3 + 40 + 60) / 7 = 163 / 7
    assert v.avg_wait_s == pytest.approx(163 / 7)
    assert v.max_wait_s == pytest.approx(60.0)
    # abandon rate = 3 / (3 answered + 3 abandoned + 1 timed out)
    assert v.abandon_rate == pytest.approx(3 / 7)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (SlMode.ANSWERED, 2 / 3),  # 2 within / 3 answered
        (SlMode.OFFERED, 2 / 7),  # 2 / (3 answered + 3 abandoned + 1 timed out)
        (SlMode.EXCL_SHORT, 2 / 5),  # 2 / (7 - 2 short abandons)
    ],
)
def test_service_level_modes(tmp_path: Path, mode: SlMode, expected: float) -> None:
    report = mixed_queue().report(tmp_path, sl_mode=mode)
    v = report.total.visits
    assert v is not None
    assert v.service_level == pytest.approx(expected)
    # all three are always there, whichever is shown
    assert v.service_level_answered == pytest.approx(2 / 3)
    assert v.service_level_offered == pytest.approx(2 / 7)
    assert v.service_level_excl_short == pytest.approx(2 / 5)
    if mode is SlMode.EXCL_SHORT:  # short abandons leave numerator and denominator
        assert v.abandon_rate == pytest.approx((3 - 2) / (7 - 2))
    else:
        assert v.abandon_rate == pytest.approx(3 / 7)
    assert report.to_dict()["settings"]["sl_mode"] == mode.value


def test_thresholds_are_settings(tmp_path: Path) -> None:
    # T = 30 s: c2 (30 s) now counts too -> 3 within; short abandon < 4 s: c3 (0 s), c4 (3 s)
    report = mixed_queue().report(tmp_path, sl_threshold_s=30, short_abandon_s=3)
    v = report.total.visits
    assert v is not None
    assert v.answered_within == 3
    assert v.short_abandoned == 1  # only c3: wait 3 is not < 3
    assert v.service_level == pytest.approx(3 / 7)


def test_handling_of_the_mixed_queue(tmp_path: Path) -> None:
    h = mixed_queue().report(tmp_path).total.handling
    assert h is not None
    assert (h.offers, h.connects, h.handled, h.in_progress) == (3, 3, 3, 0)
    # talk 100 + 200 + 60 = 360, hold 30, ACW 20 + 40 + 0 = 60 over 3 handled
    assert h.avg_talk_s == pytest.approx(120.0)
    assert h.avg_hold_s == pytest.approx(10.0)
    assert h.avg_acw_s == pytest.approx(20.0)
    assert h.aht_s == pytest.approx((360 + 30 + 60) / 3)
    assert (h.transfers, h.transfer_rate) == (0, 0.0)


def overflow_and_transfer() -> Log:
    """c1 overflows sales -> support and is answered there; c2 is answered in sales, then
    transferred blind to support, where it abandons.

    c1: enqueue sales 0, timeout 30 (wait 30, target support), enqueue support 30,
        connect a1 40 (wait 10), complete 100 (talk 60), wrap-up 110 (acw 10)
    c2: enqueue sales 50, connect a2 55 (wait 5), transfer 115 (talk 60) to support,
        wrap-up 125 (acw 10), enqueue support 116, abandon 136 (wait 20)
    """
    log = Log().login(0, "a1").login(0, "a2")
    log.enqueue(0, "c1", "sales")
    log.add(30, "timeout", contact="c1", queue="sales", wait=30, target="support",
            target_type="queue")  # fmt: skip
    log.enqueue(30, "c1", "support").connect(40, "c1", "support", "a1", wait=10)
    log.complete(100, "c1", "support", "a1", talk=60).wrapup(110, "c1", "support", "a1", acw=10)
    log.enqueue(50, "c2", "sales").connect(55, "c2", "sales", "a2", wait=5)
    log.add(115, "transfer", contact="c2", queue="sales", agent="a2", target="support",
            target_type="queue", kind="blind", talk=60)  # fmt: skip
    log.enqueue(116, "c2", "support").abandon(136, "c2", "support", wait=20)
    log.wrapup(125, "c2", "sales", "a2", acw=10)
    return log


def test_overflow_counts_per_queue_but_once_in_total(tmp_path: Path) -> None:
    report = overflow_and_transfer().report(tmp_path)
    sales = row(report, queue="sales").visits
    support = row(report, queue="support").visits
    total = report.total.visits
    assert sales is not None and support is not None and total is not None
    # sales: c1 overflowed (timed out), c2 answered after 5 s
    assert (sales.offered, sales.answered, sales.timed_out, sales.overflowed) == (2, 1, 1, 1)
    assert sales.service_level == pytest.approx(1 / 2)  # offered mode: 1 / (1 + 0 + 1)
    # support: c1 answered after 10 s (overflow), c2 abandoned after 20 s (transfer)
    assert (support.offered, support.answered, support.abandoned) == (2, 1, 1)
    assert support.service_level == pytest.approx(1 / 2)
    # total: the overflowed visit is not counted (c1 continues in support): 3 visits
    assert (total.offered, total.answered, total.abandoned, total.timed_out) == (3, 2, 1, 0)
    assert total.overflowed == 1
    assert total.service_level == pytest.approx(2 / 3)  # waits 10 and 5 <= 20
    assert total.abandon_rate == pytest.approx(1 / 3)
    assert total.avg_wait_s == pytest.approx((10 + 5 + 20) / 3)


def test_transfer_is_counted_and_ends_the_leg(tmp_path: Path) -> None:
    report = overflow_and_transfer().report(tmp_path)
    sales = row(report, queue="sales").handling
    support = row(report, queue="support").handling
    total = report.total.handling
    assert sales is not None and support is not None and total is not None
    # c2's leg (a2, connected in sales) ended by the transfer: talk 60 + ACW 10
    assert (sales.handled, sales.transfers, sales.transfer_rate) == (1, 1, 1.0)
    assert sales.aht_s == pytest.approx(70.0)
    assert (support.handled, support.transfers) == (1, 0)
    assert support.aht_s == pytest.approx(70.0)  # c1: talk 60 + ACW 10
    assert (total.handled, total.transfers, total.transfer_rate) == (2, 1, 0.5)


def test_callback_request_and_callback_made(tmp_path: Path) -> None:
    """c1 asks for a callback after 30 s; a1 calls back at 00:33:20 (next interval).

    The visit leaves every service-level denominator; the callback leg's handle time
    (talk 100 + ACW 30) counts in the visit's queue and enqueue interval (00:00).
    """
    log = Log().login(0, "a1")
    log.enqueue(0, "c1", "sales")
    log.add(30, "callback_request", contact="c1", queue="sales", wait=30)
    log.add(2000, "callback_made", contact="c1", queue="sales", agent="a1")
    log.connect(2005, "c1", "sales", "a1", wait=5)
    log.complete(2105, "c1", "sales", "a1", talk=100).wrapup(2135, "c1", "sales", "a1", acw=30)
    report = log.report(tmp_path, by=Breakdown.INTERVAL, interval_s=1800)
    v, h = report.total.visits, report.total.handling
    assert v is not None and h is not None
    assert (v.offered, v.callbacks_requested, v.answered, v.answered_within) == (1, 1, 0, 0)
    assert v.service_level is None  # zero denominator -> null, not NaN
    assert v.abandon_rate is None and v.asa_s is None and v.avg_wait_s is None
    assert v.max_wait_s is None
    assert (h.callbacks_made, h.handled) == (1, 1)
    assert h.aht_s == pytest.approx(130.0)
    first = row(report, interval_start=report.rows[0].interval_start, queue="sales")
    assert first.interval_start is not None and first.interval_start.minute == 0
    assert first.handling is not None and first.handling.callbacks_made == 1
    assert first.handling.aht_s == pytest.approx(130.0)
    later = [r for r in report.rows if r.queue == "sales" and r is not first]
    assert later == []  # nothing of sales is attributed to 00:30
    assert report.to_dict()["total"]["visits"]["service_level"] is None


def test_open_visits_and_legs_at_the_end_of_the_log(tmp_path: Path) -> None:
    """The log ends at t=100.

    c1 enqueued at 0, still waiting (open, wait 100 so far)
    c2 enqueued at 10, connected at 20 (wait 10), still talking (leg in progress)
    c3 enqueued at 30, connected at 35 (wait 5), completed at 60 (talk 25), wrap-up not
       ended yet (ACW counts 0)
    c4 enqueued at 100 (open, wait 0)
    """
    log = Log().login(0, "a1").login(0, "a2")
    log.enqueue(0, "c1", "sales")
    log.enqueue(10, "c2", "sales").offer(15, "c2", "sales", "a1", wait=5)
    log.connect(20, "c2", "sales", "a1", wait=10)
    log.enqueue(30, "c3", "sales").connect(35, "c3", "sales", "a2", wait=5)
    log.complete(60, "c3", "sales", "a2", talk=25)
    log.enqueue(100, "c4", "sales")
    report = log.report(tmp_path)
    v, h = report.total.visits, report.total.handling
    assert v is not None and h is not None
    assert (v.offered, v.answered, v.open) == (4, 2, 2)
    assert v.service_level == pytest.approx(1.0)  # 2 within / 2 finished; open excluded
    assert v.avg_wait_s == pytest.approx(7.5)  # (10 + 5) / 2; open visits excluded
    assert v.max_wait_s == pytest.approx(100.0)  # c1, measured to the log's end
    assert (h.connects, h.handled, h.in_progress) == (2, 1, 1)
    assert h.aht_s == pytest.approx(25.0)  # only c3: talk 25 + ACW 0
    assert report.period.events == len(log.events)


def test_log_order_does_not_matter(tmp_path: Path) -> None:
    """Lines out of time order give the same report (events are ordered by (t, line)).

    Events with the same t keep their order (c3 is enqueued and abandons at t=100).
    """
    log = mixed_queue()
    expected = log.report(tmp_path, name="sorted.jsonl").to_dict()
    by_time: dict[float, list[Event]] = {}
    for ev in log.sorted_events():
        by_time.setdefault(ev.t, []).append(ev)
    groups = list(by_time.values())
    random.Random(7).shuffle(groups)
    shuffled = [ev for group in groups for ev in group]
    assert [e.t for e in shuffled] != sorted(e.t for e in shuffled)
    write_events(tmp_path / "shuffled.jsonl", shuffled, source="test")
    got = compute_kpis(tmp_path / "shuffled.jsonl", KpiSettings()).to_dict()
    assert got == expected


def test_frame_source_gives_the_same_report(tmp_path: Path) -> None:
    log = overflow_and_transfer()
    for by in Breakdown:
        settings = KpiSettings(by=by)
        from_file = compute_kpis(log.write(tmp_path / "f.jsonl"), settings).to_dict()
        from_frame = compute_kpis(events_to_frame(log.sorted_events()), settings).to_dict()
        assert from_frame == from_file
