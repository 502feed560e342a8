"""The scheduler's CP-SAT models (internal to :mod:`callcenter.wfm.schedule`).

Two phases, both CP-SAT:

1. **Plan** (:class:`PlanModel`): agents alike (same rules, availability and skill group)
   form a *class*; an integer per (class, shift option) counts how many of them work that
   option, and integers per (option, break, position) count where their breaks go.  The
   per-agent rules hold for the class as a whole (at most ``size`` shifts a day, ``size``
   times the weekly limits, rest cliques with ``size`` on the right-hand side), so the plan
   is a relaxation of the per-agent problem and its bound is a bound on any roster.
   Coverage per slot, shortfall and overstaffing are exact.
2. **Assign** (:func:`assign`): per class, a boolean per (agent, day, bucket) with the
   per-agent rules exactly, at most the planned count per (day, bucket), as many planned
   shifts as possible (normally all of them: then the roster reaches the plan's objective).

Options are grouped into *buckets* (one template, day, length and break lengths, starts
within ``band`` seconds): the agents' rules see a bucket's earliest start and latest end,
so a roster never breaks the minimum rest, whichever start in the bucket an agent gets.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from ortools.sat.python import cp_model

from callcenter.units import format_duration
from callcenter.wfm.schedule.requirements import Requirement
from callcenter.wfm.shifts import (
    DAY_S,
    Agent,
    ScheduleError,
    ShiftsConfig,
    ShiftTemplate,
    template_shapes,
)

Expr = cp_model.LinearExprT
Terms = list[tuple[int, Expr]]


@dataclass(frozen=True, slots=True)
class Horizon:
    start: dt.date
    days: int
    grid: int  # seconds per slot

    @property
    def slots(self) -> int:
        return self.days * DAY_S // self.grid

    def at(self, seconds: int) -> dt.datetime:
        midnight = dt.datetime.combine(self.start, dt.time(), tzinfo=dt.UTC)
        return midnight + dt.timedelta(seconds=seconds)

    def slot(self, t: dt.datetime) -> int:
        return int((t - self.at(0)).total_seconds()) // self.grid


def horizon(
    reqs: list[Requirement], shifts: ShiftsConfig, start: dt.date | None, days: int | None
) -> Horizon:
    """The dates to schedule and the time grid (gcd of every duration, >= 5 minutes)."""
    if days is not None and not 1 <= days <= 366:
        raise ScheduleError(f"--days: {days} is not valid; expected 1 to 366 days")
    last = max(r.interval_start for r in reqs).date()
    start = start or min(r.interval_start for r in reqs).date()
    if days is None:
        days = (last - start).days + 1
        if days < 1:
            raise ScheduleError(
                f"--start: {start} is after the last requirement ({last}); "
                "expected a date within the requirements, or --days"
            )
    times = [reqs[0].interval_s, DAY_S]
    for t in shifts.templates:
        times += [*t.length, t.start_step, t.min_gap, t.end_by or 0]
        times += [x for w in t.start for x in w]
        times += [abs(x) for r in t.breaks for x in (*r.length, *r.within)]
    return Horizon(start, days, math.gcd(*times))


def demand(
    reqs: list[Requirement], hz: Horizon, by_queue: bool
) -> tuple[list[str], np.ndarray, int]:
    """(queues, required agents per queue and slot, rows outside the horizon)."""
    queues = sorted({r.queue for r in reqs}) if by_queue else [""]
    out = np.zeros((len(queues), hz.slots), dtype=np.int64)
    per, outside = reqs[0].interval_s // hz.grid, 0
    for r in reqs:
        t = hz.slot(r.interval_start)
        if not 0 <= t < hz.slots:
            outside += 1
            continue
        out[queues.index(r.queue) if by_queue else 0, t : t + per] += r.required
    return queues, out, outside


class Span(Protocol):
    @property
    def day(self) -> int: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def paid_s(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Option:
    """A shift on one day: template, start (seconds from the horizon start), breaks."""

    day: int
    template: ShiftTemplate
    start: int
    length: int
    breaks: tuple[tuple[int, int, int], ...]  # (length, earliest, latest start offset)
    paid_s: int
    bucket: int

    @property
    def end(self) -> int:
        return self.start + self.length


@dataclass(frozen=True, slots=True)
class Bucket:
    """Options alike for the agents' rules: earliest start, latest end, paid time."""

    day: int
    start: int
    end: int
    paid_s: int


def options(shifts: ShiftsConfig, hz: Horizon, band: int) -> tuple[list[Option], list[Bucket]]:
    """Every shift option of the horizon, and the buckets they fall in."""
    shapes = {t.name: template_shapes(t) for t in shifts.templates}
    out: list[Option] = []
    keys: dict[tuple[object, ...], int] = {}
    spans: list[tuple[int, int, int, int]] = []  # day, earliest start, latest end, paid
    for d in range(hz.days):
        weekday = (hz.start + dt.timedelta(days=d)).weekday()
        for t in (t for t in shifts.templates if weekday in t.days):
            first = shapes[t.name][0].start
            for s in shapes[t.name]:
                band_no = (s.start - first) // band if band else s.start
                key = (d, t.name, s.length, tuple(b[0] for b in s.breaks), band_no)
                start, end = d * DAY_S + s.start, d * DAY_S + s.start + s.length
                b = keys.setdefault(key, len(spans))
                if b == len(spans):
                    spans.append((d, start, end, s.paid_s))
                spans[b] = (d, min(spans[b][1], start), max(spans[b][2], end), s.paid_s)
                out.append(Option(d, t, start, s.length, s.breaks, s.paid_s, b))
    return out, [Bucket(*sp) for sp in spans]


def allowed(agent: Agent, opts: list[Option], hz: Horizon) -> list[int]:
    """Indexes of the options ``agent`` may work (templates, availability, days off)."""
    windows = [agent.windows(hz.start + dt.timedelta(days=d)) for d in range(hz.days)]
    names = None if agent.templates is None else set(agent.templates)
    out = []
    for i, o in enumerate(opts):
        s = o.start - o.day * DAY_S
        if (names is None or o.template.name in names) and any(
            a <= s and s + o.length <= b for a, b in windows[o.day]
        ):
            out.append(i)
    return out


# ---------------------------------------------------------------------------- agents' rules

Chosen = Sequence[tuple[Span, cp_model.IntVar]]


def _at_most(m: cp_model.CpModel, xs: list[cp_model.IntVar], size: int) -> None:
    if size == 1:
        m.add_at_most_one(xs)
    else:
        m.add(sum(xs) <= size)


def _rest(
    m: cp_model.CpModel,
    by_day: dict[int, list[tuple[Span, cp_model.IntVar]]],
    rest: int,
    days: int,
    size: int,
) -> None:
    """No two shifts closer than ``rest``: for each start s on a later day, at most one of
    "a shift then starting at or before s" and "a shift on day d ending after s - rest"
    (for ``size`` agents alike: at most ``size`` of them)."""
    for d, xs in by_day.items():
        xs = sorted(xs, key=lambda ov: -ov[0].end)
        for d2 in range(d + 1, days):
            if d2 * DAY_S - xs[0][0].end >= rest:
                break
            ys = sorted(by_day.get(d2, []), key=lambda ov: ov[0].start)
            counts = [sum(1 for o, _ in xs if o.end > y.start - rest) for y, _ in ys]
            for i, c in enumerate(counts):
                if c and (i + 1 == len(ys) or counts[i + 1] < c):  # the largest clique
                    _at_most(m, [v for _, v in ys[: i + 1]] + [v for _, v in xs[:c]], size)


def agent_rules(
    m: cp_model.CpModel,
    agent: Agent,
    chosen: Chosen,
    days: int,
    size: int = 1,
    minimums: bool = True,
) -> None:
    """One shift a day, minimum rest, weekly limits for one agent, or for ``size`` agents
    alike counted together.  Weeks are 7 days from the start; minimums apply to whole
    weeks only."""
    by_day: dict[int, list[tuple[Span, cp_model.IntVar]]] = defaultdict(list)
    by_week: dict[int, list[tuple[Span, cp_model.IntVar]]] = defaultdict(list)
    for o, v in chosen:
        by_day[o.day].append((o, v))
        by_week[o.day // 7].append((o, v))
    for xs in by_day.values():
        if len(xs) > 1:
            _at_most(m, [v for _, v in xs], size)
    if agent.min_rest:
        _rest(m, by_day, agent.min_rest, days, size)
    for w in range((days + 6) // 7):
        xs, whole = by_week.get(w, []), (w + 1) * 7 <= days and minimums
        shifts = sum(v for _, v in xs)
        minutes = sum(o.paid_s // 60 * v for o, v in xs)
        if (
            agent.max_shifts_per_week is not None
            and len({o.day for o, _ in xs}) > agent.max_shifts_per_week
        ):
            m.add(shifts <= size * agent.max_shifts_per_week)
        if agent.max_hours_per_week is not None:
            m.add(minutes <= size * int(agent.max_hours_per_week // 60))
        if whole and agent.min_shifts_per_week:
            m.add(shifts >= size * agent.min_shifts_per_week)
        if whole and agent.min_hours_per_week:
            m.add(minutes >= size * math.ceil(agent.min_hours_per_week / 60))


def explain_minimums(agent: Agent, spans: list[Bucket], hz: Horizon) -> str | None:
    """Why ``agent``'s weekly minimums cannot be met, or None if they can."""
    if not agent.min_shifts_per_week and not agent.min_hours_per_week:
        return None
    for w in range(hz.days // 7):
        week, best = hz.start + dt.timedelta(days=7 * w), dict[int, int]()
        for o in (o for o in spans if o.day // 7 == w):
            best[o.day] = max(best.get(o.day, 0), o.paid_s)
        if len(best) < agent.min_shifts_per_week:
            return (
                f"agent {agent.name!r}: min_shifts_per_week is {agent.min_shifts_per_week} but "
                f"in the week of {week} only {len(best)} days have a shift that fits their "
                "availability, days off and templates"
            )
        most = sum(sorted(best.values(), reverse=True)[: agent.max_shifts_per_week or 7])
        if most < agent.min_hours_per_week:
            return (
                f"agent {agent.name!r}: min_hours_per_week is {agent.min_hours_per_week / 3600:g}"
                f" but in the week of {week} at most {most / 3600:g} paid hours fit their "
                "availability, days off, templates and max_shifts_per_week"
            )
    m = cp_model.CpModel()
    agent_rules(m, agent, [(o, m.new_bool_var("")) for o in spans], hz.days)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 10.0
    solver.parameters.num_workers = 1
    if solver.solve(m) == cp_model.INFEASIBLE:
        return (
            f"agent {agent.name!r}: min_shifts_per_week {agent.min_shifts_per_week} and "
            f"min_hours_per_week {agent.min_hours_per_week / 3600:g} cannot both be met with "
            f"min_rest {format_duration(agent.min_rest)}, the weekly maximums and their "
            "availability"
        )
    return None


# ---------------------------------------------------------------------------- phase 1: plan


def lin(terms: Terms) -> cp_model.LinearExpr:
    return cp_model.LinearExpr.weighted_sum([v for _, v in terms], [c for c, _ in terms])


@dataclass
class AgentClass:
    """Agents with the same rules, availability and skill group."""

    agent: Agent  # the first of them: their rules
    group: int
    options: list[int]
    members: list[int] = field(default_factory=list)
    n: dict[int, cp_model.IntVar] = field(default_factory=dict)  # option -> how many
    k: dict[int, cp_model.IntVar] = field(default_factory=dict)  # bucket -> how many


@dataclass
class PlanModel:
    hz: Horizon
    options: list[Option]
    buckets: list[Bucket]
    classes: list[AgentClass]
    n_agents: int
    m: cp_model.CpModel = field(default_factory=cp_model.CpModel)
    totals: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)
    breaks: dict[tuple[int, int], list[list[tuple[int, Expr]]]] = field(default_factory=dict)
    alloc: dict[tuple[int, int, int], cp_model.IntVar] = field(default_factory=dict)
    terms: list[list[Terms]] = field(default_factory=list)  # per group and slot: on phone

    def build(
        self, skill_sets: list[frozenset[int]], need: np.ndarray, weights: tuple[int, int, int]
    ) -> None:
        """Counts, rules, breaks and coverage; minimise the weighted objective."""
        self._counts()
        cost = self._on_phone(len(skill_sets), weights[2])
        obj, fixed = self._coverage(skill_sets, need, weights[0], weights[1])
        self.m.minimize(lin(obj + cost) + weights[0] * fixed)

    def _counts(self) -> None:
        per_total: dict[tuple[int, int], list[cp_model.IntVar]] = defaultdict(list)
        for c in self.classes:
            size = len(c.members)
            by_bucket: dict[int, list[int]] = defaultdict(list)
            for i in c.options:
                c.n[i] = self.m.new_int_var(0, size, "")
                by_bucket[self.options[i].bucket].append(i)
                per_total[c.group, i].append(c.n[i])
            for b, opts in by_bucket.items():
                if len(opts) == 1:
                    c.k[b] = c.n[opts[0]]
                else:
                    c.k[b] = self.m.new_int_var(0, size, "")
                    self.m.add(sum(c.n[i] for i in opts) == c.k[b])
            chosen = [(self.buckets[b], v) for b, v in c.k.items()]
            agent_rules(self.m, c.agent, chosen, self.hz.days, size)
        for key, ns in per_total.items():
            if len(ns) == 1:
                self.totals[key] = ns[0]
            else:
                self.totals[key] = self.m.new_int_var(0, self.n_agents, "")
                self.m.add(self.totals[key] == sum(ns))

    def _on_phone(self, n_groups: int, hour_weight: int) -> Terms:
        """Per group and slot, the terms of agents on shift and not on break; paid cost."""
        g, slots = self.hz.grid, self.hz.slots
        self.terms = [[[] for _ in range(slots)] for _ in range(n_groups)]
        cost: Terms = []
        for (grp, i), n in self.totals.items():
            o = self.options[i]
            cost.append((hour_weight * o.paid_s // g, n))
            for t in range(o.start // g, min(o.end // g, slots)):
                self.terms[grp][t].append((1, n))
            self.breaks[grp, i] = counts = self._breaks(o, n)
            for (length, _, _), per in zip(o.breaks, counts, strict=True):
                for p, b in per:
                    for t in range((o.start + p) // g, min((o.start + p + length) // g, slots)):
                        self.terms[grp][t].append((-1, b))
        return cost

    def _breaks(self, o: Option, n: cp_model.IntVar) -> list[list[tuple[int, Expr]]]:
        """Per break, (offset, how many agents of this option take it there)."""
        out: list[list[tuple[int, Expr]]] = []
        for _, lo, hi in o.breaks:
            offsets = range(lo, hi + 1, self.hz.grid)
            if len(offsets) == 1:
                out.append([(lo, n)])
                continue
            bs = [self.m.new_int_var(0, self.n_agents, "") for _ in offsets]
            self.m.add(sum(bs) == n)
            out.append(list(zip(offsets, bs, strict=True)))
        # Break k+1 may start at q only after as many agents ended break k by q - min_gap:
        # then giving the i-th earliest of every break to the same agent keeps every gap.
        gap = o.template.min_gap
        for k in range(len(out) - 1):
            length = o.breaks[k][0]
            for j, (q, _) in enumerate(out[k + 1][:-1]):
                done = [b for p, b in out[k] if p + length + gap <= q]
                if len(done) < len(out[k]):
                    self.m.add(sum(b for _, b in out[k + 1][: j + 1]) <= sum(done))
        return out

    def _coverage(
        self, skill_sets: list[frozenset[int]], need: np.ndarray, w_short: int, w_over: int
    ) -> tuple[Terms, int]:
        """Shortfall and overstaffing terms of the objective, and the fixed shortfall."""
        obj: Terms = []
        fixed = 0
        n_queues, slots = need.shape
        for t in range(slots):
            cover: list[Terms] = [[] for _ in range(n_queues)]
            for grp, skills in enumerate(skill_sets):
                if not (on := self.terms[grp][t]):
                    continue
                if len(skills) == 1:
                    cover[next(iter(skills))].extend(on)
                    continue
                ys = {q: self.m.new_int_var(0, self.n_agents, "") for q in sorted(skills)}
                self.m.add(sum(ys.values()) == lin(on))
                for q, y in ys.items():
                    self.alloc[grp, q, t] = y
                    cover[q].append((1, y))
            for q in range(n_queues):
                r = int(need[q, t])
                if not cover[q]:
                    fixed += r
                    continue
                short = self.m.new_int_var(0, r, "")
                over = self.m.new_int_var(0, self.n_agents, "")
                self.m.add(lin(cover[q]) - over + short == r)
                obj += [(w_short, short), (w_over, over)]
        return obj, fixed


def agent_classes(
    agents: list[Agent],
    queues: list[str],
    by_queue: bool,
    allowed: dict[str, list[int]],
    warnings: list[str],
) -> tuple[list[AgentClass], list[frozenset[int]]]:
    """Agents grouped by rules and skills; the skill groups' queue indexes."""
    sets: list[frozenset[int]] = []
    classes: dict[tuple[str, frozenset[int]], AgentClass] = {}
    for a, agent in enumerate(agents):
        s = frozenset({0})
        if by_queue:
            s = frozenset(range(len(queues)))
            if agent.skills:
                s = frozenset(queues.index(q) for q in agent.skills if q in queues)
        rules = rules_key(agent)
        if not s:
            warnings.append(f"agent {agent.name!r} has none of the queues as a skill")
        elif not allowed[rules]:
            warnings.append(
                f"agent {agent.name!r} cannot work any shift (availability, days off, templates)"
            )
        else:
            if s not in sets:
                sets.append(s)
            c = classes.setdefault((rules, s), AgentClass(agent, sets.index(s), allowed[rules]))
            c.members.append(a)
    return list(classes.values()), sets


def rules_key(agent: Agent) -> str:
    return agent.model_dump_json(exclude={"name", "count", "skills"})


# ---------------------------------------------------------------------------- phase 2: assign


def assign(
    c: AgentClass,
    counts: dict[int, int],
    buckets: list[Bucket],
    agents: list[Agent],
    days: int,
    time_limit_s: float,
    workers: int,
    hint: dict[int, list[int]] | None = None,
) -> tuple[dict[int, list[int]], bool]:
    """Each member's buckets: as many of the planned ``counts`` (bucket -> agents) as the
    per-agent rules allow, starting from ``hint``.  The second value is False when the
    weekly minimums had to be dropped to find any assignment."""
    wanted = {b: n for b, n in counts.items() if n}
    if len(c.members) == 1:  # the plan's rules were this agent's own
        return {c.members[0]: sorted(wanted)}, True
    for minimums in (True, False):
        m = cp_model.CpModel()
        w = {a: {b: m.new_bool_var("") for b in wanted} for a in c.members}
        for a in c.members:
            chosen = [(buckets[b], v) for b, v in w[a].items()]
            agent_rules(m, agents[a], chosen, days, 1, minimums)
        for b, n in wanted.items():
            m.add(sum(w[a][b] for a in c.members) <= n)
        m.maximize(sum(buckets[b].paid_s // 300 * v for a in c.members for b, v in w[a].items()))
        for a, bs in (hint or {}).items():
            for b, v in w[a].items():
                m.add_hint(v, b in bs)
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = time_limit_s
        solver.parameters.num_workers = workers
        if solver.solve(m) in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            out = {a: [b for b, v in w[a].items() if solver.boolean_value(v)] for a in c.members}
            return out, minimums
    raise ScheduleError(
        f"agents like {c.agent.name!r}: no assignment of shifts meets their rules within the "
        "time limit; allow more time (--time-limit)"
    )
