"""A greedy roster: the CP-SAT plan's starting point and the benchmark's baseline.

While some slot is short of agents, take the slot with the largest shortfall, and among
the shifts covering it that some agent may still work (their templates, availability, one
shift a day, weekly limits, minimum rest), add the one that removes the most shortfall
for the least overstaffing; place each of its breaks where the most agents are spare.
Stop when no shift reduces the weighted objective.  Weekly minimums are not sought.

It is the textbook construction heuristic for shift scheduling ("fill the biggest gap
first"), here only to give CP-SAT a good first solution and the benchmark a baseline.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from callcenter.wfm.schedule.model import AgentClass, Bucket, Option
from callcenter.wfm.shifts import Agent


@dataclass
class _State:
    """What one agent already works: (bucket, option) per day, shifts and minutes per week."""

    agent: Agent
    days: dict[int, int] = field(default_factory=dict)  # day -> bucket
    week_shifts: dict[int, int] = field(default_factory=dict)
    week_minutes: dict[int, int] = field(default_factory=dict)

    def can(self, b: Bucket, buckets: list[Bucket]) -> bool:
        a, w = self.agent, b.day // 7
        if b.day in self.days:
            return False
        if (
            a.max_shifts_per_week is not None
            and self.week_shifts.get(w, 0) >= a.max_shifts_per_week
        ):
            return False
        minutes = self.week_minutes.get(w, 0) + b.paid_s // 60
        if a.max_hours_per_week is not None and minutes > a.max_hours_per_week // 60:
            return False
        near = (self.days.get(d) for d in range(b.day - 2, b.day + 3) if d != b.day)
        for other in (buckets[x] for x in near if x is not None):
            first, second = (other, b) if other.day < b.day else (b, other)
            if second.start - first.end < a.min_rest:
                return False
        return True

    def add(self, bucket: int, b: Bucket) -> None:
        w = b.day // 7
        self.days[b.day] = bucket
        self.week_shifts[w] = self.week_shifts.get(w, 0) + 1
        self.week_minutes[w] = self.week_minutes.get(w, 0) + b.paid_s // 60


@dataclass(frozen=True, slots=True)
class GreedyShift:
    agent: int  # index into the agents list
    option: int
    breaks: tuple[int, ...]  # start offset of each break, seconds from the shift start


def _place_breaks(o: Option, total: list[float], grid: int) -> tuple[int, ...]:
    """Break offsets where most agents are spare (``total``: prefix sums of need - cover).
    The template's bounds guarantee a place for every break."""
    out: list[int] = []
    earliest = 0
    for length, lo, hi in o.breaks:
        n, last = length // grid, len(total) - 1
        best = min(
            range(max(lo, earliest), hi + 1, grid),
            key=lambda p: (
                total[min((o.start + p) // grid + n, last)]
                - total[min((o.start + p) // grid, last)]
            ),
        )
        out.append(best)
        earliest = best + length + o.template.min_gap
    return tuple(out)


def greedy_roster(
    need: np.ndarray,
    options: list[Option],
    buckets: list[Bucket],
    classes: list[AgentClass],
    agents: list[Agent],
    grid: int,
    weights: tuple[int, int] = (1000, 10),
) -> list[GreedyShift]:
    """Shifts (agent, option, break offsets) covering ``need`` (agents per slot) greedily."""
    spare = need.astype(np.float64).copy()  # > 0: agents missing
    slots = len(spare)
    state = [_State(a) for a in agents]
    by_slot: list[dict[int, list[AgentClass]]] = [{} for _ in range(slots)]
    for c in classes:
        for i in c.options:
            o = options[i]
            for t in range(o.start // grid, min(o.end // grid, slots)):
                by_slot[t].setdefault(i, []).append(c)
    w_short, w_over = weights
    out: list[GreedyShift] = []
    dead = np.zeros(slots, dtype=bool)
    while True:
        masked = np.where(dead, 0.0, spare)
        t = int(np.argmax(masked))
        if masked[t] <= 0:
            return out
        total = [0.0, *np.cumsum(spare).tolist()]
        short = [0, *np.cumsum(spare > 0).tolist()]
        scored: list[tuple[float, int, list[AgentClass], tuple[int, ...]]] = []
        for i, cs in by_slot[t].items():
            o = options[i]
            brk = _place_breaks(o, total, grid)
            a, z = o.start // grid, min(o.end // grid, slots)
            gaining, on = short[z] - short[a], z - a
            for (length, _, _), p in zip(o.breaks, brk, strict=True):
                x, y = (o.start + p) // grid, min((o.start + p + length) // grid, slots)
                gaining, on = gaining - (short[y] - short[x]), on - (y - x)
            gain = w_short * gaining - w_over * (on - gaining)
            if gain > 0:
                scored.append((gain, i, cs, brk))
        scored.sort(key=lambda x: -x[0])
        best: tuple[int, int, tuple[int, ...]] | None = None
        for _, i, cs, brk in scored:
            b = buckets[options[i].bucket]
            free = [a for c in cs for a in c.members if state[a].can(b, buckets)]
            if free:
                agent = min(free, key=lambda a: (sum(state[a].week_minutes.values()), a))
                best = (i, agent, brk)
                break
        if best is None:
            dead[t] = True
            continue
        i, agent, brk = best
        o = options[i]
        state[agent].add(o.bucket, buckets[o.bucket])
        spare[o.start // grid : min(o.end // grid, slots)] -= 1
        for (length, _, _), p in zip(o.breaks, brk, strict=True):
            spare[(o.start + p) // grid : (o.start + p + length) // grid] += 1
        out.append(GreedyShift(agent, i, brk))


def greedy_assign(
    members: list[int], wanted: dict[int, int], buckets: list[Bucket], agents: list[Agent]
) -> dict[int, list[int]]:
    """Planned shifts (bucket -> how many) dealt to ``members`` day by day, earliest start
    first, each to the agent who can take it and has worked least this week."""
    state = {a: _State(agents[a]) for a in members}
    out: dict[int, list[int]] = {a: [] for a in members}
    for b in sorted(wanted, key=lambda b: (buckets[b].day, buckets[b].start)):
        for _ in range(wanted[b]):
            free = [a for a in members if state[a].can(buckets[b], buckets)]
            if not free:
                break
            a = min(free, key=lambda a: (state[a].week_shifts.get(buckets[b].day // 7, 0), a))
            state[a].add(b, buckets[b])
            out[a].append(b)
    return out
