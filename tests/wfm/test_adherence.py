"""Adherence, conformance and absenteeism (callcenter.wfm.adherence).

The expected figures are computed by hand in the comments (hand-built logs and rosters),
or, for a simulated day, by an independent per-second sampling of the events and of the
scenario's own shift definition (not of the roster file the engine reads).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from callcenter.events import AgentState, Event, EventType, agent_state_after, event_from_raw
from callcenter.kpi.frame import events_to_frame
from callcenter.sim import load_scenario, simulate
from callcenter.sim.scenario import Scenario
from callcenter.storage.columnar import jsonl_to_parquet
from callcenter.storage.jsonl import write_events
from callcenter.wfm.adherence import (
    OUT_KINDS,
    AdherenceError,
    AdherenceOptions,
    Breakdown,
    compute_adherence,
)
from callcenter.wfm.adherence.report import AdherenceReport, AdherenceRow
from callcenter.wfm.adherence.roster import roster_from_records

T0 = 1_772_409_600.0  # 2026-03-02T00:00:00Z, a Monday
DAY = "2026-03-02"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def at(h: int, m: int = 0, s: float = 0, day: int = 0) -> float:
    return T0 + day * 86_400 + h * 3600 + m * 60 + s


def iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat().replace("+00:00", "Z")


def login(agent: str, t: float) -> Event:
    return Event(t=t, type=EventType.AGENT_LOGIN, agent=agent)


def logout(agent: str, t: float) -> Event:
    return Event(t=t, type=EventType.AGENT_LOGOUT, agent=agent)


def pause(agent: str, t: float, reason: str | None = "break") -> Event:
    return Event(t=t, type=EventType.AGENT_STATE, agent=agent, state="paused", reason=reason)


def unpause(agent: str, t: float) -> Event:
    return Event(t=t, type=EventType.AGENT_STATE, agent=agent, state="available")


def call(agent: str, contact: str, t: float) -> list[Event]:
    """A 5-minute call with 1 minute of wrap-up: the agent keeps working throughout."""
    c, q, a = contact, "support", agent
    return [
        Event(t=t - 5, type=EventType.ENQUEUE, contact=c, queue=q),
        Event(t=t, type=EventType.OFFER, contact=c, queue=q, agent=a, wait=5.0),
        Event(t=t + 3, type=EventType.CONNECT, contact=c, queue=q, agent=a, wait=8.0),
        Event(
            t=t + 303, type=EventType.COMPLETE, contact=c, queue=q, agent=a, by="caller", talk=300.0
        ),
        Event(t=t + 363, type=EventType.WRAPUP_END, contact=c, queue=q, agent=a, acw=60.0),
    ]


def shift(
    agent: str,
    start: float,
    end: float,
    breaks: Sequence[tuple[float, float]] = (),
    date: str = DAY,
) -> dict[str, Any]:
    return {
        "agent": agent,
        "date": date,
        "shift_start": iso(start),
        "shift_end": iso(end),
        "breaks": [{"start": iso(a), "end": iso(b)} for a, b in breaks],
    }


def run(
    events: Iterable[Event],
    shifts: Iterable[dict[str, Any]],
    *,
    grace: float = 0.0,
    reasons: set[str] | None = None,
    by: Breakdown = Breakdown.AGENT,
) -> AdherenceReport:
    frame = events_to_frame(sorted(events, key=lambda e: e.t))
    options = AdherenceOptions(grace_s=grace, break_reasons=frozenset(reasons) if reasons else None)
    return compute_adherence(frame, roster_from_records(list(shifts)), options, by)


def row(report: AdherenceReport, agent: str) -> AdherenceRow:
    return next(r for r in report.rows if r.agent == agent)


def kinds(r: AdherenceRow) -> dict[str, float]:
    """The out-of-adherence seconds that are not zero, by kind."""
    return {k: getattr(r, f"{k}_s") for k in OUT_KINDS if getattr(r, f"{k}_s")}


def check_partition(report: AdherenceReport) -> None:
    """In a shift, every second is in adherence or out of it by exactly one kind."""
    for r in (*report.rows, report.total):
        out = sum(getattr(r, f"{k}_s") for k in OUT_KINDS)
        assert r.in_adherence_s + out == pytest.approx(r.shift_s, abs=1e-6)
        assert r.scheduled_work_s + r.scheduled_break_s == pytest.approx(r.shift_s, abs=1e-6)


# --------------------------------------------------------------------------------------
# hand-built logs


def test_late_login_by_10_minutes_on_an_8_hour_shift() -> None:
    # Shift 08:00-16:00 (28,800 s, no breaks); login 08:10, two calls, logout 16:00.
    events = [login("a1", at(8, 10)), *call("a1", "c1", at(9)), *call("a1", "c2", at(14))]
    events.append(logout("a1", at(16)))
    r = row(run(events, [shift("a1", at(8), at(16))]), "a1")
    assert r.shift_s == 28_800
    assert kinds(r) == {"late_login": 600}  # 08:00-08:10; the calls are work, as scheduled
    assert r.in_adherence_s == 28_200
    assert r.adherence == pytest.approx(28_200 / 28_800)  # 97.92 %
    assert r.worked_s == 28_200  # 08:10-16:00 = 7 h 50 min
    assert r.conformance == pytest.approx(28_200 / 28_800)  # 97.92 %
    assert r.absent_shifts == 0 and r.absenteeism == 0
    assert r.partial_absence_s == 600
    assert r.partial_absence_rate == pytest.approx(600 / 28_800)


def test_break_overrun_and_early_break() -> None:
    # Shift 08:00-16:00 with a break 12:00-12:30 (work 27,000 s + break 1,800 s).
    # a1 pauses 12:00, back 12:45: overrun 15 min.  a2 pauses 11:50, back 12:30: early 10 min.
    brk = [(at(12), at(12, 30))]
    events = [
        login("a1", at(8)), pause("a1", at(12)), unpause("a1", at(12, 45)),
        logout("a1", at(16)),
        login("a2", at(8)), pause("a2", at(11, 50)), unpause("a2", at(12, 30)),
        logout("a2", at(16)),
    ]  # fmt: skip
    rep = run(events, [shift("a1", at(8), at(16), brk), shift("a2", at(8), at(16), brk)])
    a1, a2 = row(rep, "a1"), row(rep, "a2")
    assert (a1.scheduled_work_s, a1.scheduled_break_s) == (27_000, 1_800)
    assert kinds(a1) == {"break_overrun": 900}
    assert a1.adherence == pytest.approx((28_800 - 900) / 28_800)  # 96.88 %
    # worked 28,800 - 2,700 paused = 26,100 of 27,000 scheduled work: 96.67 %
    assert a1.conformance == pytest.approx(26_100 / 27_000)
    assert kinds(a2) == {"break_early": 600}
    assert a2.adherence == pytest.approx((28_800 - 600) / 28_800)
    assert rep.total.adherence == pytest.approx((57_600 - 1_500) / 57_600)
    check_partition(rep)


def test_agent_who_never_logs_in_is_absent() -> None:
    # Three 8-hour shifts; a1 and a3 work theirs exactly, a2 is not in the log at all.
    events = [login("a1", at(8)), logout("a1", at(16)), login("a3", at(8)), logout("a3", at(16))]
    shifts = [shift(a, at(8), at(16)) for a in ("a1", "a2", "a3")]
    rep = run(events, shifts)
    a2 = row(rep, "a2")
    assert (a2.shifts, a2.absent_shifts, a2.absent_s) == (1, 1, 28_800)
    assert a2.adherence == 0 and a2.adherence_excl_absent is None
    assert a2.absenteeism == 1 and a2.conformance == 0
    assert kinds(a2) == {"absent": 28_800}
    t = rep.total
    assert t.absenteeism == pytest.approx(1 / 3)  # 1 shift of 3 never logged into
    assert t.absenteeism_hours == pytest.approx(28_800 / 86_400)
    assert t.adherence == pytest.approx(57_600 / 86_400)  # the absent shift counts against
    assert t.adherence_excl_absent == 1.0
    assert t.partial_absence_s == 0  # a whole-shift absence is not a partial one
    assert any("a2" in n and "absent" in n for n in rep.notes)
    met = {b.key: b.met for b in rep.benchmarks}
    assert met == {"adherence": False, "absenteeism": False}  # 66.7 % < 95 %, 33.3 % > 5 %


def test_agent_working_outside_the_schedule() -> None:
    # Shift 08:00-12:00 (14,400 s); logged in 07:30-14:00 (23,400 s worked); and on
    # Tuesday, with no shift, logged in 09:00-10:00.
    events = [
        login("a1", at(7, 30)), logout("a1", at(14)),
        login("a1", at(9, day=1)), logout("a1", at(10, day=1)),
    ]  # fmt: skip
    rep = run(events, [shift("a1", at(8), at(12))], by=Breakdown.AGENT_DAY)
    mon, tue = rep.rows
    assert mon.date == dt.date(2026, 3, 2) and tue.date == dt.date(2026, 3, 3)
    assert mon.adherence == 1.0  # working while off shift does not penalise adherence
    assert mon.off_shift_work_s == 1_800 + 7_200
    assert mon.worked_s == 23_400
    assert mon.conformance == pytest.approx(23_400 / 14_400)  # 162.5 %: over 100 % is fine
    assert (tue.shifts, tue.shift_s, tue.off_shift_work_s) == (0, 0, 3_600)
    assert tue.adherence is None and tue.conformance is None
    assert rep.total.conformance == pytest.approx((23_400 + 3_600) / 14_400)


def test_grace_forgives_small_deviations_around_scheduled_changes() -> None:
    # Shift 08:00-16:00, break 10:00-10:15.  a1 logs in at 08:01:30 (90 s late), pauses
    # at 10:01 (60 s of work in the break), is back at 10:16 (60 s overrun).
    # a2 logs in at 08:03 (180 s late) and keeps the break exactly.
    brk = [(at(10), at(10, 15))]
    events = [
        login("a1", at(8, 1, 30)), pause("a1", at(10, 1)), unpause("a1", at(10, 16)),
        logout("a1", at(16)),
        login("a2", at(8, 3)), pause("a2", at(10)), unpause("a2", at(10, 15)), logout("a2", at(16)),
    ]  # fmt: skip
    shifts = [shift("a1", at(8), at(16), brk), shift("a2", at(8), at(16), brk)]
    strict = run(events, shifts)
    assert kinds(row(strict, "a1")) == {
        "late_login": 90,
        "break_overrun": 60,
        "worked_in_break": 60,
    }
    assert kinds(row(strict, "a2")) == {"late_login": 180}
    graced = run(events, shifts, grace=120)
    a1, a2 = row(graced, "a1"), row(graced, "a2")
    # Within 2 min of a scheduled change either neighbouring activity is adherent.
    assert kinds(a1) == {} and a1.adherence == 1.0 and a1.graced_s == 90 + 60 + 60
    # 08:00-08:02 forgiven, 08:02-08:03 still late: 60 s
    assert kinds(a2) == {"late_login": 60} and a2.graced_s == 120
    assert a2.adherence == pytest.approx((28_800 - 60) / 28_800)
    # conformance ignores the grace: a1 worked 28,800 - 90 - 900 = 27,810 of 27,900
    assert a1.conformance == pytest.approx(27_810 / 27_900)
    check_partition(graced)


def test_grace_does_not_make_an_absent_shift_adherent() -> None:
    rep = run([login("x", at(8)), logout("x", at(9))], [shift("a1", at(8), at(16))], grace=300)
    a1 = row(rep, "a1")
    assert a1.in_adherence_s == 0 and kinds(a1) == {"absent": 28_800}


def test_unscheduled_pauses_and_break_reasons() -> None:
    # Shift 08:00-16:00, break 12:00-12:30.  a1: the break as "lunch" at 12:00-12:30 and a
    # "coaching" pause 14:00-14:10.  a2: pauses "personal" for the scheduled break.
    brk = [(at(12), at(12, 30))]
    events = [
        login("a1", at(8)), pause("a1", at(12), "lunch"), unpause("a1", at(12, 30)),
        pause("a1", at(14), "coaching"), unpause("a1", at(14, 10)), logout("a1", at(16)),
        login("a2", at(8)), pause("a2", at(12), "personal"), unpause("a2", at(12, 30)),
        logout("a2", at(16)),
    ]  # fmt: skip
    shifts = [shift("a1", at(8), at(16), brk), shift("a2", at(8), at(16), brk)]
    any_pause = run(events, shifts)  # every pause counts as a break
    assert kinds(row(any_pause, "a1")) == {"unscheduled_pause": 600}  # touches no break
    assert kinds(row(any_pause, "a2")) == {}
    mapped = run(events, shifts, reasons={"lunch", "break"})
    assert kinds(row(mapped, "a1")) == {"unscheduled_pause": 600}
    assert kinds(row(mapped, "a2")) == {"unscheduled_pause": 1_800}  # not a break reason
    assert row(mapped, "a2").adherence == pytest.approx((28_800 - 1_800) / 28_800)


def test_early_logout_and_logging_out_in_the_middle() -> None:
    # Shift 08:00-16:00: logged in 08:00-11:00 and 11:20-15:00.
    events = [
        login("a1", at(8)), logout("a1", at(11)), login("a1", at(11, 20)), logout("a1", at(15)),
    ]  # fmt: skip
    r = row(run(events, [shift("a1", at(8), at(16))]), "a1")
    assert kinds(r) == {"logged_out": 1_200, "early_logout": 3_600}
    assert r.partial_absence_s == 4_800
    assert r.adherence == pytest.approx((28_800 - 4_800) / 28_800)


def test_an_overnight_shift_counts_on_its_own_date() -> None:
    # Shift dated Monday, 22:00 to Tuesday 06:00; logged in until 06:30 Tuesday.
    events = [login("n1", at(22)), logout("n1", at(6, 30, day=1))]
    rep = run(events, [shift("n1", at(22), at(6, day=1))], by=Breakdown.AGENT_DAY)
    mon, tue = rep.rows
    assert (mon.date, mon.shift_s, mon.adherence, mon.worked_s) == (
        dt.date(2026, 3, 2),
        28_800,
        1.0,
        28_800,
    )
    # the half hour after the shift is off-shift work on its own UTC day
    assert (tue.date, tue.shifts, tue.off_shift_work_s) == (dt.date(2026, 3, 3), 0, 1_800)


def test_rows_by_day_sum_to_the_total() -> None:
    # Two agents, two days: a1 is 10 min late on Monday; a2 is absent on Tuesday.
    events = [
        login("a1", at(8, 10)), logout("a1", at(16)), login("a2", at(8)), logout("a2", at(16)),
        login("a1", at(8, day=1)), logout("a1", at(16, day=1)),
    ]  # fmt: skip
    tue = "2026-03-03"
    shifts = [
        shift("a1", at(8), at(16)), shift("a2", at(8), at(16)),
        shift("a1", at(8, day=1), at(16, day=1), date=tue),
        shift("a2", at(8, day=1), at(16, day=1), date=tue),
    ]  # fmt: skip
    rep = run(events, shifts, by=Breakdown.DAY)
    mon_row, tue_row = rep.rows
    assert mon_row.adherence == pytest.approx((57_600 - 600) / 57_600)
    assert (tue_row.absent_shifts, tue_row.absenteeism) == (1, 0.5)
    assert rep.total.shifts == 4 and rep.total.absenteeism == 0.25
    assert rep.total.in_adherence_s == mon_row.in_adherence_s + tue_row.in_adherence_s
    # the total ratio comes from the summed seconds, not from averaging the two days
    assert rep.total.adherence == pytest.approx((57_600 - 600 + 28_800) / 115_200)
    by_agent = run(events, shifts, by=Breakdown.AGENT)
    assert [r.agent for r in by_agent.rows] == ["a1", "a2"]
    assert row(by_agent, "a2").absenteeism == 0.5


def test_pause_without_a_reason_is_unspecified() -> None:
    # With break reasons given, a pause without a reason is "unspecified" (not a break
    # unless listed).
    events = [login("a1", at(8)), pause("a1", at(12), None), unpause("a1", at(12, 30))]
    events.append(logout("a1", at(16)))
    shifts = [shift("a1", at(8), at(16), [(at(12), at(12, 30))])]
    assert kinds(row(run(events, shifts, reasons={"break"}), "a1")) == {"unscheduled_pause": 1_800}
    assert kinds(row(run(events, shifts, reasons={"unspecified"}), "a1")) == {}


def test_the_last_state_lasts_until_the_log_ends() -> None:
    # Shift 08:00-16:00 with a break 12:00-12:30.  a1 logs in at 08:00 and pauses at
    # 12:00; the log's last event is a contact arriving at 17:00.  The pause runs to
    # 17:00: overrun 12:30-16:00 (12,600 s), then 1 h paused off shift.
    events = [login("a1", at(8)), pause("a1", at(12), "lunch")]
    events.append(Event(t=at(17), type=EventType.ARRIVE, contact="c1"))
    rep = run(events, [shift("a1", at(8), at(16), [(at(12), at(12, 30))])])
    t = rep.total
    assert kinds(t) == {"break_overrun": 12_600}
    assert (t.off_shift_paused_s, t.worked_s) == (3_600, 4 * 3600)
    assert t.adherence == pytest.approx((28_800 - 12_600) / 28_800)
    assert not rep.notes  # the shift lies inside the log (08:00 to 17:00)
    # a log that ends at 15:00 leaves the last hour of the shift unobserved: logged out
    events[-1] = Event(t=at(15), type=EventType.ARRIVE, contact="c1")
    rep = run(events, [shift("a1", at(8), at(16), [(at(12), at(12, 30))])])
    assert kinds(rep.total) == {"break_overrun": 9_000, "early_logout": 3_600}
    assert rep.notes == (
        "1 shift(s) reach outside the log (2026-03-02T08:00:00Z to 2026-03-02T15:00:00Z): "
        "time outside it counts as logged out",
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"grace_s": -3}, "grace: -3 is not valid; expected a non-negative number of seconds"),
        ({"grace_s": float("nan")}, "grace: nan is not valid"),
        ({"break_reasons": frozenset()}, "break reasons: the list is empty"),
    ],
)
def test_bad_options(options: dict[str, Any], message: str) -> None:
    with pytest.raises(AdherenceError, match=message):
        AdherenceOptions(**options)


# --------------------------------------------------------------------------------------
# a simulated day against an independent per-second sampling


def scenario_roster(sc: Scenario) -> list[dict[str, Any]]:
    """The roster the scenario's shifts define (as the scheduler would write it)."""
    out = []
    for d in range(sc.days):
        base = sc.start_epoch + d * 86_400
        date = (sc.start_date + dt.timedelta(days=d)).isoformat()
        for g in sc.agents:
            brks = [(base + b.start, base + b.start + b.duration) for b in g.shift.breaks]
            for name in g.names():
                out.append(shift(name, base + g.shift.start, base + g.shift.end, brks, date=date))
    return out


def sampled(
    sc: Scenario, events: list[Event], grace: int
) -> dict[str, tuple[int, int, int, int, int]]:
    """Per agent, by sampling the middle of every second of the simulated days:
    (shift seconds, adherent seconds, worked seconds, worked-in-break seconds, changes).

    Actual activity: the state each agent event leaves (``agent_state_after``, the event
    model's own rule); scheduled: the scenario's shift and breaks.  A second is adherent
    if its actual activity is scheduled somewhere within ``grace`` seconds of it."""
    n = sc.days * 86_400
    mid = sc.start_epoch + np.arange(n) + 0.5
    out = {}
    for g in sc.agents:
        sched = np.zeros(n, dtype=np.int8)  # 0 off, 1 work, 2 break
        for d in range(sc.days):
            s0 = d * 86_400
            sched[s0 + int(g.shift.start) : s0 + int(g.shift.end)] = 1
            for b in g.shift.breaks:
                sched[s0 + int(b.start) : s0 + int(b.start + b.duration)] = 2
        window = np.ones(2 * grace + 1)
        allowed = [np.convolve(sched == code, window, mode="same") > 0 for code in (0, 1, 2)]
        for name in g.names():
            changes = [(e.t, agent_state_after(e)) for e in events if e.agent == name]
            times = np.array([t for t, s in changes if s is not None])
            codes = np.array([_code(s) for _, s in changes if s is not None])
            idx = np.searchsorted(times, mid, side="right") - 1
            act = np.where(idx >= 0, codes[np.maximum(idx, 0)], 0)
            act[mid >= events[-1].t] = 0  # the log ends: nobody is logged in after it
            in_shift = sched > 0
            ok = np.select([act == 0, act == 1, act == 2], allowed, default=False)
            out[name] = (
                int(in_shift.sum()),
                int((in_shift & ok).sum()),
                int((act == 1).sum()),
                int(((sched == 2) & (act == 1) & ~ok).sum()),
                len(times),
            )
    return out


def _code(state: AgentState | None) -> int:
    if state is AgentState.LOGGED_OUT:
        return 0
    return 2 if state is AgentState.PAUSED else 1


@pytest.fixture(scope="module")
def helpdesk() -> tuple[Scenario, list[Event]]:
    sc = load_scenario(EXAMPLES / "helpdesk.yaml", days=2)
    raw: list[Any] = []
    simulate(sc, raw.extend)
    return sc, [event_from_raw(r) for r in raw]


@pytest.mark.parametrize("grace", [0, 120])
def test_simulated_days_match_per_second_sampling(
    helpdesk: tuple[Scenario, list[Event]], grace: int
) -> None:
    sc, events = helpdesk
    roster = roster_from_records(scenario_roster(sc))
    rep = compute_adherence(
        events_to_frame(events), roster, AdherenceOptions(grace_s=grace), Breakdown.AGENT
    )
    truth = sampled(sc, events, grace)
    assert {r.agent for r in rep.rows} == set(truth)
    for r in rep.rows:
        shift_s, adherent, worked, in_break, changes = truth[r.agent]
        # sampling the middle of each second is off by at most half a second at each
        # change of activity (event times are fractional), never more
        tol = changes / 2 + 1
        assert r.shift_s == shift_s
        assert r.in_adherence_s == pytest.approx(adherent, abs=tol)
        assert r.worked_s == pytest.approx(worked, abs=tol)
        assert r.worked_in_break_s == pytest.approx(in_break, abs=tol)
    check_partition(rep)


def test_simulated_days_adhere_almost_but_not_exactly(
    helpdesk: tuple[Scenario, list[Event]],
) -> None:
    """The simulated agents log in on time and end every break on time, but a break (and
    the logout) asked for during a call starts only after its wrap-up: so the only
    out-of-adherence time is work in scheduled breaks, and logouts run late (off-shift
    work, which does not count against adherence)."""
    sc, events = helpdesk
    roster = roster_from_records(scenario_roster(sc))
    rep = compute_adherence(events_to_frame(events), roster)
    t = rep.total
    assert 0.98 < t.adherence < 1.0
    assert kinds(t).keys() == {"worked_in_break"}
    assert t.absent_shifts == 0 and t.absenteeism == 0
    assert t.off_shift_work_s > 0 and t.early_logout_s == 0
    # Independently: each break's work is the delay from its scheduled start to the
    # agent's pause (the whole break when the pause never came before the break ended).
    delay = 0.0
    for s in roster.shifts:
        pauses = [
            e.t for e in events
            if e.agent == s.agent and e.type is EventType.AGENT_STATE and e.state == "paused"
        ]  # fmt: skip
        for b0, b1 in s.breaks:
            delay += min([p for p in pauses if p >= b0] + [b1], default=b1) - b0
    assert t.worked_in_break_s == pytest.approx(delay, abs=1e-6)


def test_parquet_and_jsonl_logs_give_the_same_report(
    helpdesk: tuple[Scenario, list[Event]], tmp_path: Path
) -> None:
    sc, events = helpdesk
    roster = roster_from_records(scenario_roster(sc))
    jsonl = tmp_path / "days.jsonl"
    write_events(jsonl, events, source="test")
    jsonl_to_parquet(jsonl, tmp_path / "days.parquet")
    a = compute_adherence(jsonl, roster, by=Breakdown.AGENT_DAY).to_dict()
    b = compute_adherence(tmp_path / "days.parquet", roster, by=Breakdown.AGENT_DAY).to_dict()
    c = compute_adherence(events_to_frame(events), roster, by=Breakdown.AGENT_DAY).to_dict()
    assert a["rows"] == b["rows"] == c["rows"] and len(a["rows"]) == 20  # 10 agents x 2 days


def test_an_agent_absent_from_the_log_is_absence_not_an_error(
    helpdesk: tuple[Scenario, list[Event]],
) -> None:
    sc, events = helpdesk
    day0 = sc.start_epoch
    ghost_shift = shift("ghost", day0 + 8 * 3600, day0 + 16 * 3600, date=sc.start_date.isoformat())
    roster = [*scenario_roster(sc), ghost_shift]
    rep = compute_adherence(events_to_frame(events), roster_from_records(roster))
    ghost = row(rep, "ghost")
    assert ghost.absent_shifts == 1 and ghost.absent_s == 28_800
    assert any("ghost" in n for n in rep.notes)
