"""The named baseline of bench_routing.py: ``naive-scan``, a router built the obvious way
(plain lists, linear scans), following the same rules as :class:`callcenter.routing.Router`.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from itertools import count
from typing import Any

QUEUED, RINGING, CONNECTED = 1, 2, 3  # contact states
_STEP_TIMER, _RING_TIMER = 0, 1


class _NQueue:
    __slots__ = ("after", "cfg", "name", "neg_priority", "ring_timeout", "waiting")

    def __init__(self, cfg: Any) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.neg_priority = -cfg.priority
        self.after = [st.after_s for st in cfg.all_steps()]  # step i from after[i] s on
        self.ring_timeout = cfg.ring_timeout_s
        self.waiting: list[_NContact] = []  # in arrival order


class _NContact:
    __slots__ = ("agent", "enq_t", "id", "offer_t", "priority", "queue", "seq", "state", "token")

    def __init__(self, cid: str, seq: int) -> None:
        self.id, self.seq = cid, seq
        self.queue: _NQueue | None = None
        self.agent: _NAgent | None = None
        self.enq_t = self.offer_t = 0.0
        self.priority = self.state = self.token = 0


class _NAgent:
    __slots__ = ("contact", "first_step", "idle_since", "name", "paused", "serves")

    def __init__(self, name: str) -> None:
        self.name = name
        self.serves: list[tuple[_NQueue, int, float]] = []  # (queue, first step, from wait)
        self.first_step: dict[str, int] = {}
        self.idle_since = 0.0
        self.paused = True
        self.contact: _NContact | None = None


class NaiveRouter:
    """``naive-scan``: the obvious list-based router, for the subset of the ``Router`` API
    this benchmark drives (login, pause, unpause, arrive, answer, hangup, advance, drain).

    Same rules as ``Router`` (longest-idle agent; queue priority, contact priority, then
    the oldest contact; widening steps re-checked by timers; a ring timer per offer), same
    decision count and the same compact event tuples -- only the data structures differ:
    an agent that becomes free scans *all* waiting contacts of all its eligible queues.
    Voice only (capacity 1); ring time-outs are not modelled (the driver answers at once).
    """

    def __init__(self, queues: Iterable[Any], agents: Iterable[Any], first_eligible_step: Any):
        self.queues = {q.name: _NQueue(q) for q in queues}
        self.agents: dict[str, _NAgent] = {}
        for cfg in agents:
            a = self.agents[cfg.name] = _NAgent(cfg.name)
            for q in self.queues.values():
                s = first_eligible_step(cfg, q.cfg)
                if s != float("inf"):
                    a.serves.append((q, int(s), q.after[int(s)]))
                    a.first_step[q.name] = int(s)
        self.idle: list[_NAgent] = []
        self.contacts: dict[str, _NContact] = {}
        self.out: list[tuple[Any, ...]] = []
        self.decisions = 0
        self._timers: list[tuple[float, int, int, _NContact, int]] = []
        self._seq = count()

    def drain_raw(self) -> list[tuple[Any, ...]]:
        out, self.out = self.out, []
        return out

    drain = drain_raw

    def waiting(self, queue: str) -> int:
        return len(self.queues[queue].waiting)

    # agents
    def login(self, agent: str, now: float) -> None:
        a = self.agents[agent]
        a.paused, a.idle_since = False, now
        self.out.append((now, "agent_login", None, None, agent))
        self._agent_free(a, now)

    def pause(self, agent: str, now: float, reason: str = "break") -> None:
        a = self.agents[agent]
        if a.contact is not None:
            raise NotImplementedError("naive-scan pauses idle agents only")
        a.paused = True
        if a in self.idle:
            self.idle.remove(a)
        self.out.append((now, "agent_state", None, None, agent, "paused", reason))

    def unpause(self, agent: str, now: float) -> None:
        a = self.agents[agent]
        a.paused, a.idle_since = False, now
        self.out.append((now, "agent_state", None, None, agent, "available", None))
        self._agent_free(a, now)

    def _agent_free(self, a: _NAgent, now: float) -> None:
        """The decision of an agent that becomes free: scan every eligible waiting contact."""
        self.decisions += 1
        best: tuple[int, int, float, int] | None = None
        best_c: _NContact | None = None
        for q, s_min, min_wait in a.serves:
            for c in q.waiting:
                if s_min and now - c.enq_t < min_wait:
                    continue  # the step that admits this agent is not in force yet
                key = (q.neg_priority, -c.priority, c.enq_t, c.seq)
                if best is None or key < best:
                    best, best_c = key, c
        if best_c is None:
            self.idle.append(a)
            return
        assert best_c.queue is not None
        best_c.queue.waiting.remove(best_c)
        self._offer(best_c, a, now)

    # contacts
    def arrive(self, contact: str, now: float, *, queue: str | None = None) -> None:
        c = self.contacts[contact] = _NContact(contact, next(self._seq))
        self.out.append((now, "arrive", contact, None, None, "voice", None))
        if queue is None:
            return
        q = c.queue = self.queues[queue]
        c.enq_t, c.state = now, QUEUED
        c.token += 1
        self.out.append((now, "enqueue", contact, queue, None, None, len(q.waiting) + 1))
        for after in q.after[1:]:
            heapq.heappush(self._timers, (now + after, next(self._seq), _STEP_TIMER, c, c.token))
        if not self._route(c, q, now, 0):
            q.waiting.append(c)

    def _route(self, c: _NContact, q: _NQueue, now: float, step: int) -> bool:
        """The decision of a contact: scan the idle agents for the longest idle eligible one."""
        self.decisions += 1
        best: _NAgent | None = None
        for a in self.idle:
            s = a.first_step.get(q.name)
            if s is not None and s <= step and (best is None or a.idle_since < best.idle_since):
                best = a
        if best is None:
            return False
        self.idle.remove(best)
        self._offer(c, best, now)
        return True

    def _offer(self, c: _NContact, a: _NAgent, now: float) -> None:
        q = c.queue
        assert q is not None
        c.state, c.agent, c.offer_t = RINGING, a, now
        c.token += 1
        a.contact = c
        self.out.append((now, "offer", c.id, q.name, a.name, now - c.enq_t))
        t = now + q.ring_timeout
        heapq.heappush(self._timers, (t, next(self._seq), _RING_TIMER, c, c.token))

    def answer(self, contact: str, now: float) -> None:
        c = self.contacts[contact]
        assert c.state == RINGING and c.agent is not None and c.queue is not None
        c.state = CONNECTED
        c.token += 1
        self.out.append(
            (now, "connect", contact, c.queue.name, c.agent.name, now - c.enq_t, now - c.offer_t)
        )

    def hangup(self, contact: str, now: float, wrapup: float = 0.0) -> None:
        if wrapup:
            raise NotImplementedError("naive-scan models wrapup=0 only")
        c = self.contacts.pop(contact)
        a, q = c.agent, c.queue
        assert c.state == CONNECTED and a is not None and q is not None
        c.state = 0
        c.token += 1
        self.out.append((now, "complete", contact, q.name, a.name, "caller", now - c.offer_t, 0.0))
        self.out.append((now, "wrapup_end", contact, q.name, a.name, 0.0))
        a.contact, a.idle_since = None, now
        self._agent_free(a, now)

    def advance(self, now: float) -> None:
        timers = self._timers
        while timers and timers[0][0] <= now:
            t, _, kind, c, tok = heapq.heappop(timers)
            if c.token != tok:
                continue
            if kind == _RING_TIMER:
                raise NotImplementedError("naive-scan does not model ring time-outs")
            q = c.queue
            if c.state == QUEUED and q is not None:
                step = sum(1 for after in q.after if t - c.enq_t >= after) - 1
                if self._route(c, q, t, step):
                    q.waiting.remove(c)
