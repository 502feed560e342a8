"""The scheduler (callcenter.wfm.schedule) on small cases whose answers are known by hand.

Every check of coverage recomputes it from the roster rows (minute by minute), never from
the solver's own numbers; every rule (breaks, availability, rest, weekly limits) is
checked on the roster rows too.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from callcenter.wfm.schedule import (
    ScheduleOptions,
    ScheduleResult,
    ShiftAssignment,
    build_schedule,
    greedy_schedule,
)
from callcenter.wfm.schedule.requirements import Requirement, read_requirements
from callcenter.wfm.shifts import (
    Agent,
    ScheduleError,
    ScheduleInputError,
    ShiftsConfig,
    load_agents,
    load_shifts,
    make_agents,
)

UTC = dt.UTC
MON = dt.date(2026, 3, 2)  # a Monday
FAST = ScheduleOptions(time_limit_s=20, workers=2)


def at(day: dt.date, hhmm: str) -> dt.datetime:
    h, m = map(int, hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(), tzinfo=UTC) + dt.timedelta(hours=h, minutes=m)


def reqs(
    blocks: list[tuple[str, str, int]], days: int = 1, interval: int = 1800, day0: dt.date = MON
) -> list[Requirement]:
    """Requirement rows for every interval of ``days`` days: ``blocks`` of (from, to, agents)."""
    out = []
    for d in range(days):
        day = day0 + dt.timedelta(days=d)
        for k in range(86400 // interval):
            t = at(day, "00:00") + dt.timedelta(seconds=k * interval)
            need = sum(n for a, b, n in blocks if at(day, a) <= t < at(day, b))
            out.append(Requirement("", t, interval, need))
    return out


def shifts(*templates: dict[str, Any]) -> ShiftsConfig:
    return ShiftsConfig.model_validate({"templates": list(templates)})


def on_phone_minutes(roster: list[ShiftAssignment], t0: dt.datetime, minutes: int) -> list[int]:
    """Agents on shift and not on break, minute by minute from ``t0`` (from the roster)."""
    out = [0] * minutes
    for s in roster:
        for i in range(minutes):
            t = t0 + dt.timedelta(minutes=i)
            if s.start <= t < s.end and not any(b.start <= t < b.end for b in s.breaks):
                out[i] += 1
    return out


def check_coverage(result: ScheduleResult, requirements: list[Requirement]) -> list[float]:
    """Each interval's scheduled agents recomputed from the roster (time-weighted); checks
    that the reported rows agree and shortfall - over == required - scheduled."""
    t0 = min(r.interval_start for r in requirements)
    span = int((max(r.interval_start for r in requirements) - t0).total_seconds()) // 60
    minutes = on_phone_minutes(result.roster, t0, span + requirements[0].interval_s // 60)
    rows = {c.interval_start: c for c in result.coverage}
    out = []
    for r in requirements:
        i = int((r.interval_start - t0).total_seconds()) // 60
        per = minutes[i : i + r.interval_s // 60]
        scheduled = sum(per) / len(per)
        row = rows[r.interval_start]
        assert row.required == r.required
        assert row.scheduled == pytest.approx(scheduled)
        assert row.shortfall - row.over == pytest.approx(r.required - scheduled)
        out.append(r.required - scheduled)
    return out


def check_rules(result: ScheduleResult, config: ShiftsConfig, agents: list[Agent]) -> None:
    """Breaks, one shift a day, availability, days off, rest and weekly limits, from rows."""
    by_agent: dict[str, list[ShiftAssignment]] = defaultdict(list)
    rules = {a.name: a for a in agents}
    for s in result.roster:
        by_agent[s.agent].append(s)
        t = config.template(s.template)
        length = s.end - s.start
        assert int(length.total_seconds()) in t.length
        unpaid = sum(((b.end - b.start) for b in s.breaks if not b.paid), dt.timedelta())
        assert s.paid_s == (length - unpaid).total_seconds()
        assert len(s.breaks) == len(t.breaks)
        edge = s.start
        for b, rule in zip(s.breaks, t.breaks, strict=True):
            assert b.name == rule.name and b.paid == rule.paid
            assert int((b.end - b.start).total_seconds()) in rule.length
            lo, hi = (dt.timedelta(seconds=x) for x in rule.within)
            lo, hi = (x if x >= dt.timedelta() else length + x for x in (lo, hi))
            assert s.start + lo <= b.start and b.end <= s.start + hi, (s, rule)
            assert b.start - edge >= dt.timedelta(seconds=t.min_gap), (s, "gap before break")
            edge = b.end
        assert s.end - edge >= dt.timedelta(seconds=t.min_gap), (s, "gap before end")
    for name, rows in by_agent.items():
        a = rules[name]
        rows.sort(key=lambda s: s.start)
        assert len({s.date for s in rows}) == len(rows), f"{name}: two shifts on one day"
        for s in rows:
            assert not a.is_off(s.date), f"{name} works on a day off {s.date}"
            if a.templates is not None:
                assert s.template in a.templates
            day0 = at(s.date, "00:00")
            assert any(
                day0 + dt.timedelta(seconds=x) <= s.start
                and s.end <= day0 + dt.timedelta(seconds=y)
                for x, y in a.windows(s.date)
            ), f"{name}: {s.start}-{s.end} outside availability"
        for prev, nxt in itertools.pairwise(rows):
            assert (nxt.start - prev.end).total_seconds() >= a.min_rest, f"{name}: rest"
        weeks: dict[int, list[ShiftAssignment]] = defaultdict(list)
        for s in rows:
            weeks[(s.date - result.start).days // 7].append(s)
        for week in weeks.values():
            if a.max_shifts_per_week is not None:
                assert len(week) <= a.max_shifts_per_week
            if a.max_hours_per_week is not None:
                assert sum(s.paid_s for s in week) <= a.max_hours_per_week


# ---------------------------------------------------------------------------- coverage


def test_requirement_met_when_enough_agents() -> None:
    # 2 agents needed 08:00-17:00; 9-hour shifts at 08:00 or 08:30 each take a 30-minute
    # lunch 3-6 h in, so 2 agents alone leave a hole at lunch: the solver must add a
    # third and stagger the lunches.  6 agents are plenty.
    config = shifts(
        {
            "name": "day",
            "start": "08:00-08:30",
            "length": "9h",
            "breaks": [{"name": "lunch", "length": "30m", "paid": False, "within": ["3h", "6h"]}],
        }
    )
    rows = reqs([("08:00", "17:00", 2)])
    agents = make_agents(6)
    result = build_schedule(rows, config, agents, options=FAST)
    missing = check_coverage(result, rows)
    assert max(missing) <= 0, "some interval is short although agents were free"
    assert result.totals().shortfall_h == 0
    assert len(result.roster) == 3  # 2 are never enough (lunch), 3 are
    check_rules(result, config, agents)


def test_shortfall_is_minimal_and_reported() -> None:
    # Need 1 agent 06:00-10:00 and 3 agents 12:00-14:00.  Two agents, 4-hour shifts
    # starting on the hour 06:00-12:00, one shift a day.  A 4-hour shift cannot reach both
    # blocks (10:00-12:00 lies between).  One agent in the morning and one at noon: noon
    # is 2 short for 2 h = 4 agent-hours.  Both at noon: 4 h short in the morning and 1
    # short for 2 h at noon = 6.  Nobody in the morning is always worse, so 4 is the least.
    config = shifts({"name": "four", "start": "06:00-12:00", "start_step": "1h", "length": "4h"})
    rows = reqs([("06:00", "10:00", 1), ("12:00", "14:00", 3)])
    result = build_schedule(rows, config, make_agents(2), options=FAST)
    missing = check_coverage(result, rows)
    assert sum(max(0.0, m) for m in missing) * 0.5 == pytest.approx(4.0)
    assert result.totals().shortfall_h == pytest.approx(4.0)
    for row, m in zip(
        sorted(result.coverage, key=lambda r: r.interval_start), missing, strict=True
    ):
        assert row.shortfall == pytest.approx(max(0.0, m))
    assert result.status == "OPTIMAL"


def test_break_inside_an_interval_is_time_weighted() -> None:
    # One agent, one 2 h shift 08:00-10:00 with a paid 15-minute break; 30-minute
    # intervals, so the grid is 15 minutes and the interval holding the break has the
    # agent on the phone half of the time: scheduled 0.5, shortfall 0.5.
    config = shifts(
        {
            "name": "short",
            "start": "08:00",
            "length": "2h",
            "breaks": [{"length": "15m", "within": ["30m", "1h30m"]}],
        }
    )
    rows = reqs([("08:00", "10:00", 1)])
    result = build_schedule(rows, config, make_agents(1), options=FAST)
    assert result.grid_s == 900
    check_coverage(result, rows)
    partial = [c for c in result.coverage if 0 < c.scheduled < 1]
    assert len(partial) == 1
    assert partial[0].scheduled == 0.5 and partial[0].shortfall == 0.5
    assert result.totals().shortfall_h == pytest.approx(0.25)


def test_least_overstaffing_known_optimum() -> None:
    # Need 1 agent 08:00-13:00 (5 h); 4-hour shifts starting on the hour 08:00-12:00.
    # One shift leaves an hour uncovered, so two are needed: 8 h on for 5 h needed, 3 h
    # over at best (e.g. 08-12 and 09-13).  Hourly grid, weights 1000 / 10 / 1 per agent
    # and hour: objective = 10 x 3 + 1 x 8 paid hours = 38.
    config = shifts({"name": "four", "start": "08:00-12:00", "start_step": "1h", "length": "4h"})
    rows = reqs([("08:00", "13:00", 1)], interval=3600)
    result = build_schedule(rows, config, make_agents(3), options=FAST)
    assert result.grid_s == 3600
    assert result.objective == 38
    assert result.status == "OPTIMAL" and result.gap == 0
    check_coverage(result, rows)
    assert result.totals().over_h == 3 and result.totals().shortfall_h == 0


def test_requirements_are_summed_over_queues_without_skills() -> None:
    config = shifts({"name": "four", "start": "08:00", "length": "4h"})
    rows = [
        Requirement(q, at(MON, "08:00") + dt.timedelta(hours=h), 3600, 1)
        for q in ("billing", "sales")
        for h in range(4)
    ]
    result = build_schedule(rows, config, make_agents(3), options=FAST)
    assert len(result.roster) == 2  # 1 + 1 agents all morning
    assert {c.queue for c in result.coverage} == {""}


def test_skills_cover_each_queue() -> None:
    # billing needs 1 agent 08-12, sales needs 1; ann has only billing, bob only sales,
    # cat both.  Two agents suffice; each queue's coverage comes from its skilled agents.
    config = shifts({"name": "four", "start": "08:00", "length": "4h"})
    rows = [
        Requirement(q, at(MON, "08:00") + dt.timedelta(hours=h), 3600, 1)
        for q in ("billing", "sales")
        for h in range(4)
    ]
    agents = [
        Agent(name="ann", skills=["billing"]),
        Agent(name="bob", skills=["sales"]),
        Agent(name="cat", skills=["billing", "sales"]),
    ]
    result = build_schedule(rows, config, agents, options=FAST)
    assert result.totals().shortfall_h == 0 and result.totals().over_h == 0
    assert len(result.roster) == 2
    by_queue = defaultdict(float)
    for c in result.coverage:
        by_queue[c.queue] += c.scheduled
    assert by_queue == {"billing": 4.0, "sales": 4.0}


# ---------------------------------------------------------------------------- rules


EXAMPLES = Path(__file__).parents[2] / "src" / "callcenter" / "examples"


def test_break_rules_respected_on_every_shift() -> None:
    config = load_shifts(EXAMPLES / "wfm-shifts.yaml")
    rows = reqs([("06:00", "22:00", 4), ("10:00", "16:00", 6)], days=2, interval=900)
    agents = make_agents(24)
    result = build_schedule(rows, config, agents, options=FAST)
    assert result.roster
    assert {len(s.breaks) for s in result.roster} >= {3}
    check_rules(result, config, agents)
    check_coverage(result, rows)


def test_greedy_baseline_keeps_the_rules_and_is_never_better() -> None:
    # The greedy roster is the benchmark's baseline and CP-SAT's fallback: it must keep
    # every rule, and the CP-SAT roster must never be worse.
    config = load_shifts(EXAMPLES / "wfm-shifts.yaml")
    rows = reqs([("06:00", "22:00", 3), ("10:00", "16:00", 5)], days=3, interval=900)
    agents = [*make_agents(14), *Agent(name="early", count=4, templates=["early"]).expand()]
    greedy = greedy_schedule(rows, config, agents)
    check_rules(greedy, config, agents)
    check_coverage(greedy, rows)
    best = build_schedule(rows, config, agents, options=ScheduleOptions(time_limit_s=5, workers=2))
    check_rules(best, config, agents)
    assert best.objective <= greedy.objective
    assert best.totals().over_h <= greedy.totals().over_h + 1e-9


def test_availability_rest_weekly_limits_and_days_off() -> None:
    # Heavy demand, so every rule binds: early (06:00) and late (until 22:00) shifts with a
    # 14 h rest (late then early is 8 h: forbidden), a day off, an availability window,
    # and weekly limits.
    config = shifts(
        {"name": "early", "start": "06:00-07:00", "length": "8h"},
        {"name": "late", "start": "13:00-14:00", "length": "8h", "end_by": "22:00"},
    )
    rows = reqs([("06:00", "22:00", 6)], days=9)
    agents = [
        Agent(name="avail", availability=[{"days": "mon-fri", "from": "12:00", "to": "23:00"}]),
        Agent(name="off", days_off=[MON + dt.timedelta(days=1), "sat"]),
        Agent(name="hours", max_hours_per_week=16),
        Agent(name="shifts", max_shifts_per_week=3),
        Agent(name="early-only", templates=["early"], min_rest=14 * 3600),
        *Agent(name="rest", count=3, min_rest=14 * 3600).expand(),
    ]
    result = build_schedule(rows, config, agents, options=FAST)
    check_rules(result, config, agents)
    check_coverage(result, rows)
    worked = defaultdict(list)
    for s in result.roster:
        worked[s.agent].append(s)
    assert all(s.template == "late" for s in worked["avail"])
    assert all(s.date.weekday() < 5 for s in worked["avail"])
    assert len([s for s in worked["hours"] if (s.date - MON).days < 7]) == 2  # 16 h / 8 h
    assert len([s for s in worked["shifts"] if (s.date - MON).days < 7]) == 3
    # the demand is far above supply: everyone works as much as the rules allow
    assert len([s for s in worked["off"] if (s.date - MON).days < 7]) == 5


def test_minimum_shifts_are_met() -> None:
    # Demand on Monday and Tuesday only, but pat must work at least 4 shifts that week:
    # the least overstaffing is 4 shifts, 2 of them on days without demand.
    config = shifts({"name": "day", "start": "08:00", "length": "8h"})
    rows = reqs([("08:00", "16:00", 1)], days=2)
    agents = [Agent(name="pat", min_shifts_per_week=4)]
    result = build_schedule(rows, config, agents, days=7, options=FAST)
    assert len(result.roster) == 4
    assert {MON, MON + dt.timedelta(days=1)} <= {s.date for s in result.roster}


# ---------------------------------------------------------------------------- one-line errors


def one_line(e: pytest.ExceptionInfo[Exception]) -> str:
    text = str(e.value)
    assert "\n" not in text
    return text


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (
            {"name": "early", "start": "06:00-08:00", "length": "9h", "end_by": "14:00"},
            "shift template 'early': no shift fits its window: the earliest start 06:00 plus "
            "the shortest length 9h ends after end_by 14:00",
        ),
        (
            {
                "name": "short",
                "start": "08:00",
                "length": "4h",
                "min_gap": "1h",
                "breaks": [{"name": "lunch", "length": "30m", "within": ["3h", "5h"]}],
            },
            "shift template 'short': its breaks do not fit a 4h shift: break 'lunch' (30m "
            "within 3h-5h of the start, 1h of work around each break) cannot start before 3h "
            "and must start by 2h30m",
        ),
    ],
)
def test_infeasible_template_explained(template: dict[str, Any], expected: str) -> None:
    with pytest.raises(ScheduleError) as e:
        build_schedule(reqs([("08:00", "12:00", 1)]), shifts(template), make_agents(1))
    assert one_line(e) == expected


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (
            Agent(name="ann", min_shifts_per_week=5, availability=[{"days": "mon-tue"}]),
            "agent 'ann': min_shifts_per_week is 5 but in the week of 2026-03-02 only 2 days "
            "have a shift that fits their availability, days off and templates",
        ),
        (
            Agent(name="bob", min_hours_per_week=40, max_shifts_per_week=4),
            "agent 'bob': min_hours_per_week is 40 but in the week of 2026-03-02 at most 32 "
            "paid hours fit their availability, days off, templates and max_shifts_per_week",
        ),
        (
            # 08:00-16:00 every day leaves 16 h between shifts: with a 20 h rest no two
            # days in a row, so at most 4 shifts in 7 days; 5 are required.
            Agent(name="cy", min_shifts_per_week=5, min_rest=20 * 3600),
            "agent 'cy': min_shifts_per_week 5 and min_hours_per_week 0 cannot both be met "
            "with min_rest 20h, the weekly maximums and their availability",
        ),
    ],
)
def test_contradictory_agent_rules_explained(agent: Agent, expected: str) -> None:
    config = shifts({"name": "day", "start": "08:00", "length": "8h"})
    with pytest.raises(ScheduleError) as e:
        build_schedule(reqs([("08:00", "16:00", 1)], days=7), config, [agent])
    assert one_line(e) == expected


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


HEADER = "queue,interval_start,interval_s,contacts,aht_s,agents,required\n"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "sales,2026-03-02T08:00:00Z,1800,10,300,2,-3\n",
            "req.csv:2: required: '-3' is not valid; expected a whole number of agents >= 0",
        ),
        (
            "sales,2026-03-02T08:00:00Z,2100,10,300,2,3\n",
            "req.csv:2: interval_s: '2100' is not valid; expected seconds that divide the day "
            "in 5-minute steps (900, 1800, 3600)",
        ),
        ("", "req.csv: no requirement rows; expected the interval table with at least one row"),
        (
            "sales,2026-03-02T08:10:00Z,1800,10,300,2,3\n",
            "req.csv:2: interval_start: '2026-03-02T08:10:00Z' is not valid; expected a start "
            "on the 30m grid from midnight UTC",
        ),
        (
            "sales,yesterday,1800,10,300,2,3\n",
            "req.csv:2: interval_start: 'yesterday' is not valid; expected an ISO 8601 time "
            "like 2026-03-02T08:00:00Z",
        ),
        (
            "sales,2026-03-02T08:00:00Z,1800,10,300,2,3\nsales,2026-03-02T08:30:00Z,900,1,1,1,1\n",
            "req.csv:3: interval_s: 900 differs from the first row's 1800; expected one "
            "interval length for the whole table",
        ),
    ],
)
def test_bad_requirements(tmp_path: Path, body: str, expected: str) -> None:
    with pytest.raises(ScheduleInputError) as e:
        read_requirements(write(tmp_path, "req.csv", HEADER + body))
    assert one_line(e).removeprefix(str(tmp_path) + "/") == expected


def test_requirements_missing_columns(tmp_path: Path) -> None:
    with pytest.raises(ScheduleInputError) as e:
        read_requirements(write(tmp_path, "req.csv", "queue,contacts\nsales,3\n"))
    assert one_line(e).endswith(
        "req.csv: missing column(s) interval_start, interval_s, required; expected the "
        "interval table (interval_start, interval_s, required[, queue])"
    )


def test_requirements_json(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "req.json",
        '[{"queue": "a", "interval_start": "2026-03-02T08:00:00+01:00", "interval_s": 900, '
        '"required": 2}]',
    )
    (row,) = read_requirements(path)
    assert row.interval_start == dt.datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    assert (row.queue, row.interval_s, row.required) == ("a", 900, 2)


SHIFTS = "templates:\n  - {name: early, start: '06:00-09:00', length: 8h}\n"


@pytest.mark.parametrize(
    ("shifts_text", "agents_text", "expected"),
    [
        (
            SHIFTS,
            "agents:\n  - {name: ann, templates: [early, nigth]}\n",
            "agents.yaml: agents[0].templates: unknown template 'nigth' (the shift templates "
            "are: early)",
        ),
        (
            SHIFTS,
            "agents:\n  - {name: ann, max_shifts_per_week: 2, min_shifts_per_week: 3}\n",
            "agents.yaml: agents[0]: min_shifts_per_week 3 is more than max_shifts_per_week 2",
        ),
        (
            SHIFTS,
            "agents:\n  - {name: ann, availability: [{days: mon, from: '18:00', to: '08:00'}]}\n",
            "agents.yaml: agents[0].availability[0]: 'to' must be after 'from' (write 26:00 "
            "for 02:00 next day)",
        ),
        (
            SHIFTS,
            "agents:\n  - {name: ann, days_off: [someday]}\n",
            "agents.yaml: agents[0].days_off[0]: expected weekday names like mon, tue, ..., "
            "sun or mon-fri; got 'someday'",
        ),
        (
            SHIFTS,
            "agents:\n  - {name: ann, count: 2}\n  - {name: ann-1}\n",
            "agents.yaml: agent name 'ann-1' is used twice",
        ),
        (
            SHIFTS,
            "defaults: {max_shift_per_week: 4}\nagents:\n  - {name: ann}\n",
            "agents.yaml: agents[0].max_shift_per_week: unknown key (check the spelling; see "
            "docs/wfm-schedule.md)",
        ),
    ],
)
def test_bad_agents(tmp_path: Path, shifts_text: str, agents_text: str, expected: str) -> None:
    config = load_shifts(write(tmp_path, "shifts.yaml", shifts_text))
    with pytest.raises(ScheduleInputError) as e:
        load_agents(write(tmp_path, "agents.yaml", agents_text), config)
    assert one_line(e).removeprefix(str(tmp_path) + "/") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            # YAML 1.1 reads an unquoted 10:00 as the number 600 (base 60)
            "templates:\n  - {name: a, start: 10:00, length: 8h}\n",
            "shifts.yaml: templates[0].start[0]: expected a time range like '06:00-09:00' or a "
            "time '08:00', got 600",
        ),
        (
            "templates:\n  - {name: a, start: '09:00-06:00', length: 8h}\n",
            "shifts.yaml: templates[0].start[0]: time range '09:00-06:00' ends before it starts "
            "(write 26:00 for 02:00 next day)",
        ),
        (
            "templates:\n  - {name: a, start: '06:00-09:00', length: 8h7m}\n",
            "shifts.yaml: templates[0].length[0]: '8h7m' is not a whole number of 5-minute "
            "steps (like 15m, 1h30m)",
        ),
        (
            "templates:\n  - {name: a, start: '06:00', length: 4h, breaks: [{length: 15m, "
            "within: [2h, 1h]}]}\n",
            "shifts.yaml: templates[0].breaks[0]: 'within' must be [earliest start, latest "
            "end], in that order",
        ),
        (
            "templates:\n  - {name: a, start: '06:00', length: 4h}\n  - {name: a, start: "
            "'07:00', length: 4h}\n",
            "shifts.yaml: template names must be unique; repeated: a",
        ),
        (
            "templates: []\n",
            "shifts.yaml: templates: List should have at least 1 item after "
            "validation, not 0 (got [])",
        ),
        ("- a\n", "shifts.yaml: expected a mapping with 'templates' (see docs/wfm-schedule.md)"),
    ],
)
def test_bad_shifts(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ScheduleInputError) as e:
        load_shifts(write(tmp_path, "shifts.yaml", text))
    assert one_line(e).removeprefix(str(tmp_path) + "/") == expected


ONE_HOUR = ShiftsConfig.model_validate(
    {"templates": [{"name": "h", "start": "08:00", "length": "1h"}]}
)


def test_bad_options() -> None:
    with pytest.raises(ScheduleError) as e:
        ScheduleOptions(time_limit_s=0)
    assert one_line(e) == "--time-limit: 0 is not valid; expected a positive duration"
    with pytest.raises(ScheduleError) as e:
        ScheduleOptions(workers=-1)
    assert one_line(e) == "--workers: -1 is not valid; expected 0 (one per CPU core) or more"
    with pytest.raises(ScheduleError) as e:
        make_agents(0)
    assert one_line(e) == "--agent-count: 0 is not valid; expected a whole number >= 1"
    with pytest.raises(ScheduleError) as e:
        build_schedule(reqs([("08:00", "09:00", 1)]), ONE_HOUR, make_agents(1), days=0)
    assert one_line(e) == "--days: 0 is not valid; expected 1 to 366 days"


def test_examples_load() -> None:
    config = load_shifts(EXAMPLES / "wfm-shifts.yaml")
    agents = load_agents(EXAMPLES / "wfm-agents.yaml", config)
    assert [t.name for t in config.templates] == ["early", "late", "part-time"]
    assert len(agents) == 50
    assert agents[0].name == "full-time-01" and agents[0].max_hours_per_week == 40 * 3600
