"""Discrete-event simulation of a center: the real :class:`Router` on a virtual clock.

The simulator plays the world around the router: callers arrive (a non-homogeneous
Poisson process, piecewise constant per interval of the scenario's curve), wait with a
patience, accept a callback offer or not; agents log in and out with their shifts, take
breaks, answer after a ring delay (or miss the offer), talk for a sampled handle time,
transfer some calls, and do sampled after-call work.  Every decision is taken by the
router and comes back as events, which are written to the log unchanged.

Written by hand rather than with SimPy: the router already keeps its own timers and the
world's happenings are a handful of kinds, so one heap and one dispatch loop do the job
at a fraction of the cost of generator processes (see bench/bench_sim.py for the figure).
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count

import numpy as np

from callcenter.events import HangupBy, RawEvent
from callcenter.routing import AgentConfig, Router
from callcenter.routing.state import CState
from callcenter.sim.scenario import DAY, Queue, Scenario

# kinds of world happenings, in the order they are handled when simultaneous
_LOGIN, _UNPAUSE, _ARRIVE, _ANSWER, _HANGUP, _ABANDON, _CALLBACK, _PAUSE, _LOGOUT = range(9)

EventSink = Callable[[list[RawEvent]], None]  # batches of events in compact form
Progress = Callable[[float], None]  # called with the fraction of simulated time done


@dataclass
class SimSummary:
    """What a run did (the KPIs come from the log, with ``callcenter kpi``)."""

    days: int
    contacts: int = 0
    events: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    decisions: int = 0


@dataclass(frozen=True, slots=True)
class _QueueWorld:
    name: str
    talk: Callable[[], float]
    acw: Callable[[], float]
    patience: Callable[[], float] | None
    transfer_p: float
    transfer_to: str | None
    callback_after: float | None
    callback_p: float


def arrival_times(
    expected: list[float], interval: float, day_start: float, rng: np.random.Generator
) -> np.ndarray:
    """Poisson arrivals with a rate constant within each interval (sorted times)."""
    counts = rng.poisson(np.asarray(expected, dtype=float))
    starts = day_start + interval * np.repeat(np.arange(len(expected)), counts)
    times: np.ndarray = starts + rng.uniform(0.0, interval, counts.sum())
    times.sort()
    return times


def agent_configs(scenario: Scenario) -> list[AgentConfig]:
    out = []
    for g in scenario.agents:
        for name in g.names():
            out.append(
                AgentConfig(
                    name,
                    skills=dict(g.skills),
                    capacity=g.capacity,
                    queues=tuple(g.queues) if g.queues is not None else None,
                    max_no_answer=g.max_no_answer,
                )
            )
    return out


def simulate(
    scenario: Scenario,
    sink: EventSink,
    *,
    progress: Progress | None = None,
    flush_every: int = 65536,
) -> SimSummary:
    """Run ``scenario`` and pass the events, in time order, to ``sink`` in batches."""
    rng = np.random.default_rng(scenario.seed)
    router = Router([q.routing_config() for q in scenario.queues], agent_configs(scenario))
    worlds = {q.name: _world(q, rng) for q in scenario.queues}
    ring_delay = scenario.ringing.answer_delay.sampler(rng)
    no_answer_p = scenario.ringing.no_answer_probability
    uniform = _uniforms(rng)
    t0 = scenario.start_epoch
    horizon = t0 + scenario.days * DAY
    summary = SimSummary(days=scenario.days)

    heap: list[tuple[float, int, int, object, object]] = []
    seq = count()
    push = heapq.heappush

    # shifts and breaks, every day
    last = scenario.days - 1
    for day in range(scenario.days):
        base = t0 + day * DAY
        for g in scenario.agents:
            # a shift ending at 24:00 runs on into the next day's shift starting at 00:00
            around_clock = g.shift.start == 0.0 and g.shift.end == DAY
            for name in g.names():
                if day == 0 or not around_clock:
                    push(heap, (base + g.shift.start, _LOGIN, next(seq), name, None))
                if day == last or not around_clock:
                    push(heap, (base + g.shift.end, _LOGOUT, next(seq), name, None))
                for brk in g.shift.breaks:
                    push(heap, (base + brk.start, _PAUSE, next(seq), name, brk.reason))
                    push(heap, (base + brk.start + brk.duration, _UNPAUSE, next(seq), name, None))

    # arrivals: merged over queues, all days, read with a cursor instead of heap entries
    n_int = int(DAY // scenario.interval)
    chunks_t, chunks_q = [], []
    for day in range(scenario.days):
        weekday = (scenario.start_date.weekday() + day) % 7
        for qi, q in enumerate(scenario.queues):
            factor = q.arrivals.day_factors[weekday] if q.arrivals.day_factors else 1.0
            expected = [x * factor for x in q.arrivals.expected(n_int)]
            ts = arrival_times(expected, scenario.interval, t0 + day * DAY, rng)
            chunks_t.append(ts)
            chunks_q.append(np.full(len(ts), qi, dtype=np.int32))
    arr_t_np = np.concatenate(chunks_t)
    order = np.argsort(arr_t_np, kind="stable")
    arr_t: list[float] = arr_t_np[order].tolist()
    arr_q: list[int] = np.concatenate(chunks_q)[order].tolist()
    qnames = [q.name for q in scenario.queues]
    n_arr, ai = len(arr_t), 0
    # caller numbers come from their own random stream: the rest of the day is the same
    # whether the scenario names its callers or not
    arr_c: list[str | None] = (
        list(scenario.callers.numbers(n_arr, np.random.default_rng([scenario.seed, 1])))
        if scenario.callers is not None
        else [None] * n_arr
    )
    summary.contacts = n_arr

    out = router.out
    written = 0
    contacts = router.contacts
    inf = float("inf")
    next_progress = t0
    span = horizon - t0

    while True:
        t_world = heap[0][0] if heap else inf
        t_arr = arr_t[ai] if ai < n_arr else inf
        t_timer = router.next_timer()
        t = min(t_world, t_arr)
        if t_timer is not None and t_timer <= t:
            router.advance(t_timer)
        elif t == inf:
            break
        elif t_arr < t_world or (t_arr == t_world and heap[0][1] > _ARRIVE):
            qn = qnames[arr_q[ai]]
            ai += 1
            cid = f"c{ai}"
            router.arrive(cid, t_arr, queue=qn, caller=arr_c[ai - 1])
        else:
            t, kind, _, a, b = heapq.heappop(heap)
            if kind == _HANGUP:
                c = contacts.get(a)  # type: ignore[call-overload]
                if c is not None and c.state is CState.CONNECTED:
                    w = worlds[c.leg.queue]
                    if w.transfer_to is not None and uniform() < w.transfer_p:
                        router.transfer(a, t, w.transfer_to, wrapup=w.acw())  # type: ignore[arg-type]
                    else:
                        router.hangup(a, t, HangupBy.CALLER, wrapup=w.acw())  # type: ignore[arg-type]
            elif kind == _ANSWER:
                c = contacts.get(a)  # type: ignore[call-overload]
                if c is not None and c.state is CState.RINGING and c.offer_t == b:
                    router.answer(a, t)  # type: ignore[arg-type]
            elif kind == _ABANDON:
                c = contacts.get(a)  # type: ignore[call-overload]
                if (
                    c is not None
                    and c.enq_t == b
                    and not c.is_callback
                    and (c.state is CState.QUEUED or c.state is CState.RINGING)
                ):
                    router.abandon(a, t)  # type: ignore[arg-type]
            elif kind == _CALLBACK:
                c = contacts.get(a)  # type: ignore[call-overload]
                if (
                    c is not None
                    and c.state is CState.QUEUED
                    and c.enq_t == b
                    and not c.is_callback
                ):
                    router.request_callback(a, t)  # type: ignore[arg-type]
            elif kind == _LOGIN:
                router.login(a, t)  # type: ignore[arg-type]
            elif kind == _LOGOUT:
                router.logout(a, t)  # type: ignore[arg-type]
            elif kind == _PAUSE:
                router.pause(a, t, reason=b)  # type: ignore[arg-type]
            elif kind == _UNPAUSE:
                router.unpause(a, t)  # type: ignore[arg-type]

        # react to what the router decided (events in compact form: t, type, contact, queue, ...)
        while written < len(out):
            ev = out[written]
            written += 1
            et = ev[1]
            if et == "offer":
                if no_answer_p and uniform() < no_answer_p:
                    continue  # the agent will not pick up: the router's ring timer fires
                delay = ring_delay()
                if delay <= 0.0:
                    router.answer(ev[2], ev[0])  # answered at once: no need for the heap
                else:
                    push(heap, (ev[0] + delay, _ANSWER, next(seq), ev[2], ev[0]))
            elif et == "connect" or et == "callback_made":
                push(heap, (ev[0] + worlds[ev[3]].talk(), _HANGUP, next(seq), ev[2], None))
            elif et == "enqueue":
                w = worlds[ev[3]]
                if w.patience is not None:
                    push(heap, (ev[0] + w.patience(), _ABANDON, next(seq), ev[2], ev[0]))
                if w.callback_after is not None and uniform() < w.callback_p:
                    push(heap, (ev[0] + w.callback_after, _CALLBACK, next(seq), ev[2], ev[0]))
        if written >= flush_every:
            _flush(router, sink, summary)
            out = router.out
            written = 0
            if progress is not None and t >= next_progress:
                progress(min(1.0, (t - t0) / span))
                next_progress = t + span / 200
    _flush(router, sink, summary)
    summary.decisions = router.decisions
    if progress is not None:
        progress(1.0)
    return summary


def _flush(router: Router, sink: EventSink, summary: SimSummary) -> None:
    batch = router.drain_raw()
    if not batch:
        return
    by_type = summary.by_type
    for k, n in Counter([ev[1] for ev in batch]).items():
        by_type[k] = by_type.get(k, 0) + n
    summary.events += len(batch)
    sink(batch)


def _world(q: Queue, rng: np.random.Generator) -> _QueueWorld:
    return _QueueWorld(
        name=q.name,
        talk=q.talk.sampler(rng),
        acw=q.acw.sampler(rng),
        patience=q.patience.sampler(rng) if q.patience is not None else None,
        transfer_p=q.transfer.probability if q.transfer else 0.0,
        transfer_to=q.transfer.to if q.transfer else None,
        callback_after=q.callback.offer_after if q.callback else None,
        callback_p=q.callback.accept_probability if q.callback else 0.0,
    )


def _uniforms(rng: np.random.Generator) -> Callable[[], float]:
    buf: list[float] = []

    def draw() -> float:
        nonlocal buf
        if not buf:
            buf = rng.random(4096).tolist()
        return buf.pop()

    return draw


__all__ = ["SimSummary", "agent_configs", "arrival_times", "simulate"]
