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
from typing import Final

import numpy as np

from callcenter.events import HangupBy, RawEvent
from callcenter.routing import AgentConfig, Router
from callcenter.routing.output import CALLBACK_MADE, CONNECT, ENQUEUE, OFFER, RouterEvent
from callcenter.routing.state import CState
from callcenter.sim.scenario import DAY, Queue, Scenario

# kinds of world happenings, in the order they are handled when simultaneous
_LOGIN: Final = 0
_UNPAUSE: Final = 1
_ARRIVE: Final = 2  # arrivals are not on the heap (a cursor over sorted times): ties only
_ANSWER: Final = 3
_HANGUP: Final = 4
_ABANDON: Final = 5
_CALLBACK: Final = 6
_PAUSE: Final = 7
_LOGOUT: Final = 8

_BY_CALLER: Final = HangupBy.CALLER

Happening = tuple[float, int, int, str, float, str | None]
"""A world happening on the simulator's heap: ``(time, kind, seq, who, stamp, reason)``.

``kind`` one of the ``_LOGIN`` ... ``_LOGOUT`` constants (simultaneous happenings in that
order), ``seq`` a tie-break number (the heap never compares further), ``who`` the
contact id or agent name, ``stamp`` the offer or enqueue time the happening belongs to
(an answer, abandon or callback is dropped when the contact has moved on since; 0.0 when
unused), ``reason`` the pause reason of a ``_PAUSE`` (else None)."""

EventSink = Callable[[list[RawEvent]], None]  # batches of events in compact tuple form
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
    run = _Run(scenario, sink, progress, flush_every)
    run.schedule_shifts()
    run.draw_arrivals()
    run.loop()
    return run.finish()


class _Run:
    """One simulation: the router, the world's heap, the arrivals, the log batches."""

    def __init__(
        self, scenario: Scenario, sink: EventSink, progress: Progress | None, flush_every: int
    ) -> None:
        # the random stream is used in this order (same seed, same day): the samplers,
        # then the arrival times (draw_arrivals), then whatever the samplers draw
        rng = np.random.default_rng(scenario.seed)
        self.scenario = scenario
        self.rng = rng
        self.router = Router([q.routing_config() for q in scenario.queues], agent_configs(scenario))
        self.worlds = {q.name: _world(q, rng) for q in scenario.queues}
        self.ring_delay = scenario.ringing.answer_delay.sampler(rng)
        self.no_answer_p = scenario.ringing.no_answer_probability
        self.uniform = _uniforms(rng)
        self.t0 = scenario.start_epoch
        self.span = scenario.days * DAY
        self.summary = SimSummary(days=scenario.days)
        self.sink = sink
        self.progress = progress
        self.next_progress = self.t0
        self.flush_every = flush_every
        self.heap: list[Happening] = []
        self.seq = 0  # tie-break numbers of the heap's entries
        self.reacted = 0  # router events already reacted to (router.out[:reacted])
        # arrivals, merged over queues and days, read with a cursor instead of the heap
        self.arr_t: list[float] = []
        self.arr_q: list[str] = []
        self.arr_c: list[str | None] = []

    def push(self, t: float, kind: int, who: str, stamp: float, reason: str | None) -> None:
        heapq.heappush(self.heap, (t, kind, self.seq, who, stamp, reason))
        self.seq += 1

    def schedule_shifts(self) -> None:
        """Every agent's logins, logouts and breaks, every day, on the heap."""
        sc = self.scenario
        last = sc.days - 1
        for day in range(sc.days):
            base = self.t0 + day * DAY
            for g in sc.agents:
                # a shift ending at 24:00 runs on into the next day's shift starting at 00:00
                around_clock = g.shift.start == 0.0 and g.shift.end == DAY
                for name in g.names():
                    if day == 0 or not around_clock:
                        self.push(base + g.shift.start, _LOGIN, name, 0.0, None)
                    if day == last or not around_clock:
                        self.push(base + g.shift.end, _LOGOUT, name, 0.0, None)
                    for brk in g.shift.breaks:
                        self.push(base + brk.start, _PAUSE, name, 0.0, brk.reason)
                        self.push(base + brk.start + brk.duration, _UNPAUSE, name, 0.0, None)

    def draw_arrivals(self) -> None:
        """Every day's arrivals of every queue, merged in time order."""
        sc, rng = self.scenario, self.rng
        n_int = int(DAY // sc.interval)
        chunks_t, chunks_q = [], []
        for day in range(sc.days):
            weekday = (sc.start_date.weekday() + day) % 7
            for qi, q in enumerate(sc.queues):
                factor = q.arrivals.day_factors[weekday] if q.arrivals.day_factors else 1.0
                expected = [x * factor for x in q.arrivals.expected(n_int)]
                ts = arrival_times(expected, sc.interval, self.t0 + day * DAY, rng)
                chunks_t.append(ts)
                chunks_q.append(np.full(len(ts), qi, dtype=np.int32))
        arr_t = np.concatenate(chunks_t)
        order = np.argsort(arr_t, kind="stable")
        self.arr_t = arr_t[order].tolist()
        qnames = [q.name for q in sc.queues]
        self.arr_q = [qnames[i] for i in np.concatenate(chunks_q)[order].tolist()]
        n = len(self.arr_t)
        # caller numbers come from their own random stream: the rest of the day is the
        # same whether the scenario names its callers or not
        self.arr_c = (
            list(sc.callers.numbers(n, np.random.default_rng([sc.seed, 1])))
            if sc.callers is not None
            else [None] * n
        )
        self.summary.contacts = n

    def loop(self) -> None:
        """Until nothing is left: the next router timer, arrival or world happening (in
        that order when simultaneous, arrivals before the kinds after ``_ARRIVE``)."""
        router, heap, arr_t = self.router, self.heap, self.arr_t
        n_arr, ai = len(arr_t), 0
        inf = float("inf")
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
                router.arrive(f"c{ai + 1}", t_arr, queue=self.arr_q[ai], caller=self.arr_c[ai])
                ai += 1
            else:
                t, kind, _, who, stamp, reason = heapq.heappop(heap)
                self.happen(t, kind, who, stamp, reason)
            self.react()
            if self.reacted >= self.flush_every:
                self.flush()
                if self.progress is not None and t >= self.next_progress:
                    self.progress(min(1.0, (t - self.t0) / self.span))
                    self.next_progress = t + self.span / 200

    def happen(self, t: float, kind: int, who: str, stamp: float, reason: str | None) -> None:
        """A world happening reaches the router (unless the contact has moved on)."""
        router = self.router
        if kind == _HANGUP:
            c = router.contacts.get(who)
            if c is not None and c.state is CState.CONNECTED and c.leg is not None:
                w = self.worlds[c.leg.queue]
                if w.transfer_to is not None and self.uniform() < w.transfer_p:
                    router.transfer(who, t, w.transfer_to, wrapup=w.acw())
                else:
                    router.hangup(who, t, _BY_CALLER, wrapup=w.acw())
        elif kind == _ANSWER:
            c = router.contacts.get(who)
            if c is not None and c.state is CState.RINGING and c.offer_t == stamp:
                router.answer(who, t)
        elif kind == _ABANDON:
            c = router.contacts.get(who)
            if (
                c is not None
                and c.enq_t == stamp
                and not c.is_callback
                and (c.state is CState.QUEUED or c.state is CState.RINGING)
            ):
                router.abandon(who, t)
        elif kind == _CALLBACK:
            c = router.contacts.get(who)
            if (
                c is not None
                and c.state is CState.QUEUED
                and c.enq_t == stamp
                and not c.is_callback
            ):
                router.request_callback(who, t)
        elif kind == _LOGIN:
            router.login(who, t)
        elif kind == _LOGOUT:
            router.logout(who, t)
        elif kind == _PAUSE:
            assert reason is not None  # every _PAUSE carries its break's reason
            router.pause(who, t, reason=reason)
        elif kind == _UNPAUSE:
            router.unpause(who, t)

    def react(self) -> None:
        """Play the world's answer to what the router did since the last call: ring
        delays, talk times, patience and callback offers."""
        out = self.router.out
        i = self.reacted
        while i < len(out):  # (an offer answered at once appends its connect)
            ev = out[i]
            i += 1
            ty = ev.type
            if ty is OFFER:
                self.offered(ev)
            elif ty is CONNECT or ty is CALLBACK_MADE:
                cid, queue = ev.contact, ev.queue
                assert cid is not None and queue is not None
                self.push(ev.t + self.worlds[queue].talk(), _HANGUP, cid, 0.0, None)
            elif ty is ENQUEUE:
                cid, queue = ev.contact, ev.queue
                assert cid is not None and queue is not None
                w = self.worlds[queue]
                if w.patience is not None:
                    self.push(ev.t + w.patience(), _ABANDON, cid, ev.t, None)
                if w.callback_after is not None and self.uniform() < w.callback_p:
                    self.push(ev.t + w.callback_after, _CALLBACK, cid, ev.t, None)
        self.reacted = i

    def offered(self, ev: RouterEvent) -> None:
        """The agent rings: it answers after a ring delay, at once, or never."""
        if self.no_answer_p and self.uniform() < self.no_answer_p:
            return  # the agent will not pick up: the router's ring timer fires
        cid = ev.contact
        assert cid is not None
        delay = self.ring_delay()
        if delay <= 0.0:
            self.router.answer(cid, ev.t)  # answered at once: no need for the heap
        else:
            self.push(ev.t + delay, _ANSWER, cid, ev.t, None)

    def flush(self) -> None:
        """Hand the router's events so far to the sink, as compact tuples."""
        self.reacted = 0
        batch = self.router.drain_raw()
        if not batch:
            return
        by_type = self.summary.by_type
        for k, n in Counter([ev[1] for ev in batch]).items():
            by_type[k] = by_type.get(k, 0) + n
        self.summary.events += len(batch)
        self.sink(batch)

    def finish(self) -> SimSummary:
        self.flush()
        self.summary.decisions = self.router.decisions
        if self.progress is not None:
            self.progress(1.0)
        return self.summary


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
