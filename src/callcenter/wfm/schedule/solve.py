"""Rosters from staffing requirements, solved with OR-tools CP-SAT.

``build_schedule(requirements, shifts, agents)`` gives every agent at most one shift a
day (a template, a start and a length), places the breaks of each shift by its template's
rules and minimises, over every time slot of the horizon,

    shortfall_weight * missing agents + over_weight * surplus agents
        + hour_weight * paid agent-slots

so every interval's requirement is met where the agents allow it, with the least
overstaffing, and any shortfall is reported.  Inputs that cannot work (a template whose
shifts do not fit its window, breaks that cannot fit a shift, an agent whose weekly
minimums cannot be met) are explained in one line before solving.

How it is solved (:mod:`callcenter.wfm.schedule.model`, docs/wfm-schedule.md): a plan
counts how many agents of each class work each shift option and where their breaks go
(coverage exact, agents' rules per class), then each class's agents are assigned the
planned shifts under their own rules.  The time grid is the gcd of the interval length and
every duration in the templates (at least 5 minutes).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from callcenter.wfm.schedule import model as sm
from callcenter.wfm.schedule.greedy import greedy_assign, greedy_roster
from callcenter.wfm.schedule.requirements import Requirement
from callcenter.wfm.schedule.result import (
    BreakAssignment,
    CoverageRow,
    DaySummary,
    ScheduleOptions,
    ScheduleResult,
    ShiftAssignment,
)
from callcenter.wfm.shifts import Agent, ScheduleError, ShiftsConfig

__all__ = [
    "BreakAssignment",
    "CoverageRow",
    "DaySummary",
    "ScheduleOptions",
    "ScheduleResult",
    "ShiftAssignment",
    "build_schedule",
    "greedy_schedule",
]


# ---------------------------------------------------------------------------- solve, read back


def _assign(
    mdl: sm.PlanModel,
    plan: cp_model.CpSolver,
    agents: list[Agent],
    time_left: float,
    workers: int,
    warnings: list[str],
) -> tuple[dict[tuple[int, int], list[str]], int]:
    """(group, option) -> the agents working it; and how many planned shifts were dropped."""
    on: dict[tuple[int, int], list[str]] = defaultdict(list)
    dropped = 0
    big = sum(1 for c in mdl.classes if len(c.members) > 1) or 1
    for c in mdl.classes:
        counts = {b: plan.value(k) for b, k in c.k.items()}
        wanted = {b: k for b, k in counts.items() if k}
        hint = greedy_assign(c.members, wanted, mdl.buckets, agents)
        per_agent, minimums = sm.assign(
            c, counts, mdl.buckets, agents, mdl.hz.days, max(1.0, time_left / big), workers, hint
        )
        if not minimums:
            warnings.append(f"agents like {c.agent.name!r}: weekly minimums could not all be met")
        names: dict[int, list[str]] = defaultdict(list)
        for a, bs in per_agent.items():
            for b in bs:
                names[b].append(agents[a].name)
        for b, k in counts.items():
            starts = [i for i in c.options if mdl.options[i].bucket == b]
            starts = [i for i in starts for _ in range(plan.value(c.n[i]))]
            dropped += k - len(names[b])
            for name, i in zip(sorted(names[b]), starts, strict=False):
                on[c.group, i].append(name)
    return on, dropped


def _roster(
    mdl: sm.PlanModel, plan: cp_model.CpSolver, on: dict[tuple[int, int], list[str]]
) -> dict[int, list[ShiftAssignment]]:
    """Per group, the shifts with their breaks: the i-th earliest of every break of an
    option goes to its i-th agent (which keeps the gaps; see schedule.model)."""
    out: dict[int, list[ShiftAssignment]] = defaultdict(list)
    hz = mdl.hz
    for (grp, i), names in on.items():
        o = mdl.options[i]
        offsets = [
            sorted(p for p, b in per for _ in range(plan.value(b))) for per in mdl.breaks[grp, i]
        ]
        for j, name in enumerate(sorted(names)):
            out[grp].append(_shift(hz, o, name, tuple(offs[j] for offs in offsets)))
    return out


def _shift(hz: sm.Horizon, o: sm.Option, agent: str, offsets: tuple[int, ...]) -> ShiftAssignment:
    breaks = tuple(
        BreakAssignment(r.name, hz.at(o.start + p), hz.at(o.start + p + n), r.paid)
        for r, (n, _, _), p in zip(o.template.breaks, o.breaks, offsets, strict=True)
    )
    date = hz.start + dt.timedelta(days=o.day)
    return ShiftAssignment(
        agent, date, o.template.name, hz.at(o.start), hz.at(o.end), o.paid_s, breaks
    )


def _on_phone(roster: list[ShiftAssignment], hz: sm.Horizon) -> np.ndarray:
    """Agents on shift and not on break per slot, from the roster."""
    diff = np.zeros(hz.slots + 1, dtype=np.int64)
    for s in roster:
        for a, b, sign in [(s.start, s.end, 1), *((x.start, x.end, -1) for x in s.breaks)]:
            i, j = hz.slot(a), min(hz.slot(b), hz.slots)
            if i < j:
                diff[i] += sign
                diff[j] -= sign
    return np.cumsum(diff)[:-1]


def _per_queue(
    mdl: sm.PlanModel,
    plan: cp_model.CpSolver,
    on: list[np.ndarray],
    skill_sets: list[frozenset[int]],
    need: np.ndarray,
) -> np.ndarray:
    """Agents on each queue per slot: single-skill groups on their queue, the others as
    the plan split them (less any dropped shift, taken from the most overstaffed queue)."""
    cov = np.zeros_like(need)
    for grp, skills in enumerate(skill_sets):
        if len(skills) == 1:
            cov[next(iter(skills))] += on[grp]
    for grp, skills in enumerate(skill_sets):
        if len(skills) == 1:
            continue
        for t in range(need.shape[1]):
            y = {
                q: plan.value(mdl.alloc[grp, q, t]) if (grp, q, t) in mdl.alloc else 0
                for q in skills
            }
            for _ in range(sum(y.values()) - int(on[grp][t])):
                q = max((q for q in skills if y[q]), key=lambda q: cov[q, t] + y[q] - need[q, t])
                y[q] -= 1
            for q, v in y.items():
                cov[q, t] += v
    return cov


def _coverage_rows(
    queues: list[str], need: np.ndarray, cov: np.ndarray, hz: sm.Horizon, interval_s: int
) -> list[CoverageRow]:
    per = interval_s // hz.grid
    out = []
    for q, name in enumerate(queues):
        short = np.maximum(need[q] - cov[q], 0).reshape(-1, per).mean(axis=1)
        over = np.maximum(cov[q] - need[q], 0).reshape(-1, per).mean(axis=1)
        sched = cov[q].reshape(-1, per).mean(axis=1)
        req = need[q].reshape(-1, per)[:, 0]
        out += [
            CoverageRow(
                name,
                hz.at(k * interval_s),
                interval_s,
                int(req[k]),
                float(sched[k]),
                float(short[k]),
                float(over[k]),
            )
            for k in range(len(req))
        ]
    out.sort(key=lambda r: (r.interval_start, r.queue))
    return out


@dataclass
class _Inputs:
    """Everything both solvers need, checked: inputs that cannot work raise here."""

    hz: sm.Horizon
    queues: list[str]
    need: np.ndarray  # agents required per queue and slot
    options: list[sm.Option]
    buckets: list[sm.Bucket]
    classes: list[sm.AgentClass]
    skill_sets: list[frozenset[int]]
    interval_s: int
    weights: tuple[int, int, int]
    warnings: list[str]
    clock: float  # perf_counter at the start

    def result(
        self,
        status: str,
        bound: float,
        workers: int,
        roster: list[ShiftAssignment],
        cov: np.ndarray,
    ) -> ScheduleResult:
        objective = _objective(self.need, cov, roster, self.hz, self.weights)
        return ScheduleResult(
            status=status,
            objective=objective,
            best_bound=bound,
            gap=max(0.0, objective - bound) / max(abs(objective), 1.0),
            wall_s=time.perf_counter() - self.clock,
            workers=workers,
            start=self.hz.start,
            days=self.hz.days,
            grid_s=self.hz.grid,
            roster=roster,
            coverage=_coverage_rows(self.queues, self.need, cov, self.hz, self.interval_s),
            warnings=self.warnings,
        )

    def greedy(self, agents: list[Agent]) -> list[ShiftAssignment]:
        """The greedy roster for the requirements summed over queues."""
        shifts = greedy_roster(
            self.need.sum(axis=0), self.options, self.buckets, self.classes, agents,
            self.hz.grid, self.weights[:2],
        )  # fmt: skip
        roster = [
            _shift(self.hz, self.options[g.option], agents[g.agent].name, g.breaks) for g in shifts
        ]
        return sorted(roster, key=lambda s: (s.date, s.start, s.agent))


def _inputs(
    requirements: list[Requirement],
    shifts: ShiftsConfig,
    agents: list[Agent],
    start: dt.date | None,
    days: int | None,
    opts: ScheduleOptions,
    by_queue: bool,
) -> _Inputs:
    clock = time.perf_counter()
    if not requirements:
        raise ScheduleError("requirements: no rows; expected at least one interval")
    if not agents:
        raise ScheduleError("agents: none given; expected at least one agent")
    warnings: list[str] = []
    hz = sm.horizon(requirements, shifts, start, days)
    queues, need, outside = sm.demand(requirements, hz, by_queue)
    if outside:
        warnings.append(f"{outside} requirement rows outside {hz.start} + {hz.days} days ignored")
    options, buckets = sm.options(shifts, hz, opts.start_band_s)
    allowed: dict[str, list[int]] = {}
    for agent in agents:
        key = sm.rules_key(agent)
        if key not in allowed:
            allowed[key] = sm.allowed(agent, options, hz)
            spans = [buckets[b] for b in sorted({options[i].bucket for i in allowed[key]})]
            if why := sm.explain_minimums(agent, spans, hz):
                raise ScheduleError(why)
    classes, skill_sets = sm.agent_classes(agents, queues, by_queue, allowed, warnings)
    for q, name in enumerate(queues):
        if by_queue and need[q].any() and not any(q in s for s in skill_sets):
            warnings.append(f"queue {name!r} needs agents but no agent has that skill")
    weights = (opts.shortfall_weight, opts.over_weight, opts.hour_weight)
    interval_s = requirements[0].interval_s
    return _Inputs(
        hz, queues, need, options, buckets, classes, skill_sets, interval_s, weights, warnings,
        clock,
    )  # fmt: skip


def _planned(
    inp: _Inputs,
    mdl: sm.PlanModel,
    plan: cp_model.CpSolver,
    agents: list[Agent],
    time_left: float,
    workers: int,
) -> tuple[list[ShiftAssignment], np.ndarray, int]:
    """The plan's roster (agents assigned), its coverage per queue, shifts dropped."""
    on, dropped = _assign(mdl, plan, agents, time_left, workers, inp.warnings)
    per_group = _roster(mdl, plan, on)
    roster = sorted(
        (s for g in per_group.values() for s in g), key=lambda s: (s.date, s.start, s.agent)
    )
    if len(inp.skill_sets) > 1 or len(inp.queues) > 1:
        phones = [_on_phone(per_group.get(g, []), inp.hz) for g in range(len(inp.skill_sets))]
        return roster, _per_queue(mdl, plan, phones, inp.skill_sets, inp.need), dropped
    return roster, _on_phone(roster, inp.hz)[None, :], dropped


def greedy_schedule(
    requirements: list[Requirement],
    shifts: ShiftsConfig,
    agents: list[Agent],
    *,
    start: dt.date | None = None,
    days: int | None = None,
    options: ScheduleOptions | None = None,
) -> ScheduleResult:
    """The greedy roster alone (see :mod:`callcenter.wfm.schedule.greedy`): the baseline
    of the benchmark.  Requirements are summed over queues; weekly minimums are not sought."""
    inp = _inputs(requirements, shifts, agents, start, days, options or ScheduleOptions(), False)
    roster = inp.greedy(agents)
    return inp.result("FEASIBLE", 0.0, 1, roster, _on_phone(roster, inp.hz)[None, :])


def build_schedule(
    requirements: list[Requirement],
    shifts: ShiftsConfig,
    agents: list[Agent],
    *,
    start: dt.date | None = None,
    days: int | None = None,
    options: ScheduleOptions | None = None,
) -> ScheduleResult:
    """A roster covering ``requirements`` with ``agents`` on ``shifts`` (see the module doc).

    ``start`` and ``days`` choose the horizon (default: the requirements' dates).  With a
    ``queue`` column and agents' skills, each queue is covered by agents with its skill
    (an agent without skills serves every queue); otherwise requirements are summed over
    queues.  Raises :class:`ScheduleError` for inputs that cannot work, before solving.
    """
    opts = options or ScheduleOptions()
    by_queue = any(r.queue for r in requirements) and any(a.skills for a in agents)
    inp = _inputs(requirements, shifts, agents, start, days, opts, by_queue)
    hz, need, warnings = inp.hz, inp.need, inp.warnings
    mdl = sm.PlanModel(hz, inp.options, inp.buckets, inp.classes, len(agents))
    mdl.build(inp.skill_sets, need, inp.weights)
    # The greedy roster is the fallback if CP-SAT has nothing better in time (with one
    # queue and no weekly minimums: the greedy does not seek them).
    fallback = None
    if len(inp.queues) == 1 and not any(
        a.min_shifts_per_week or a.min_hours_per_week for a in agents
    ):
        fallback = inp.greedy(agents)
    plan, status, workers = _solve(
        mdl, opts, opts.time_limit_s * 0.75 - (time.perf_counter() - inp.clock)
    )
    roster, cov = fallback or [], _on_phone(fallback or [], hz)[None, :]
    if plan is not None:
        time_left = opts.time_limit_s - (time.perf_counter() - inp.clock)
        planned, planned_cov, dropped = _planned(inp, mdl, plan, agents, time_left, workers)
        if fallback is None or _objective(need, planned_cov, planned, hz, inp.weights) <= (
            _objective(need, cov, roster, hz, inp.weights)
        ):
            roster, cov = planned, planned_cov
            if dropped:
                warnings.append(
                    f"{dropped} planned shifts could not be given to an agent under their rules"
                )
        else:
            status = "FEASIBLE"
            warnings.append("CP-SAT found nothing better than the greedy roster in the time limit")
    elif fallback is None:
        raise ScheduleError(
            f"no roster found within the time limit ({opts.time_limit_s:g} s); allow more "
            "time (--time-limit) or give the templates a coarser start_step"
        )
    else:
        warnings.append("CP-SAT found no roster in the time limit; this is the greedy roster")
    bound = plan.best_objective_bound if plan is not None else 0.0
    return inp.result(status, bound, workers, roster, cov)


def _objective(
    need: np.ndarray,
    cov: np.ndarray,
    roster: list[ShiftAssignment],
    hz: sm.Horizon,
    weights: tuple[int, int, int],
) -> float:
    """The solver's objective, recomputed from a roster and its coverage."""
    short, over = np.maximum(need - cov, 0).sum(), np.maximum(cov - need, 0).sum()
    paid = sum(s.paid_s // hz.grid for s in roster)
    return float(weights[0] * short + weights[1] * over + weights[2] * paid)


def _solve(
    mdl: sm.PlanModel, opts: ScheduleOptions, limit_s: float
) -> tuple[cp_model.CpSolver | None, str, int]:
    """The plan's solution (None if none was found in time), status and worker count."""
    plan = cp_model.CpSolver()
    workers = opts.workers or os.cpu_count() or 1
    plan.parameters.max_time_in_seconds = max(0.5, limit_s)
    plan.parameters.num_workers = workers
    plan.parameters.random_seed = opts.seed
    if workers <= 2:  # the LP-guided workers find the good rosters; keep them on few cores
        plan.parameters.linearization_level = 2
        plan.parameters.subsolvers.extend(["max_lp", "default_lp"][:workers])
    status = plan.solve(mdl.m)
    if status == cp_model.UNKNOWN:
        return None, "FEASIBLE", workers
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):  # every rule was checked before
        raise ScheduleError(
            f"the solver answered {plan.status_name(status)} (a bug; please report it)"
        )
    return plan, plan.status_name(status), workers
