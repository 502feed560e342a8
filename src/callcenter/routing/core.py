"""The routing engine's state and internal decisions (see :mod:`callcenter.routing.engine`).

:class:`RouterCore` holds the queues, agents, contacts and timers and makes the
decisions: which idle agent gets an arriving contact, which waiting contact a freed
agent gets, what a missed offer or an expired wait leads to.  :class:`Router` adds the
public requests (login, arrive, answer, hangup, transfer ...) on top.  Two classes so
that neither file holds 600 lines; both are compiled together with mypyc.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from itertools import count

from callcenter.events import AgentState
from callcenter.routing.model import (
    AgentConfig,
    QueueConfig,
    RoutingError,
    first_eligible_step,
    proficiency_score,
    step_of,
)
from callcenter.routing.output import (
    AGENT_LOGOUT,
    AGENT_STATE,
    ENQUEUE,
    OFFER,
    RING_NOANSWER,
    TIMEOUT,
    WRAPUP_END,
    RouterEvent,
)
from callcenter.routing.state import Agent, Contact, CState, Leg, PoolEntry, QueueRt, WaitEntry

# timer kinds
RING, MAXWAIT, STEP, WRAPUP = 0, 1, 2, 3

# A pending timer: (due time, tie-break seq, kind, the contact or leg it is for, that
# object's token when set).  The timer is stale once the object's token has moved on.
Timer = tuple[float, int, int, Contact | Leg, int]


class RouterCore:
    def __init__(self, queues: Iterable[QueueConfig], agents: Iterable[AgentConfig]) -> None:
        self.queues: dict[str, QueueRt] = {}
        for qc in queues:
            if qc.name in self.queues:
                raise RoutingError(f"queue {qc.name!r} is defined twice")
            self.queues[qc.name] = QueueRt(qc)
        for q in self.queues.values():
            ov = q.cfg.overflow_queue
            if ov is not None and ov not in self.queues:
                raise RoutingError(f"queue {q.name!r}: overflow queue {ov!r} does not exist")
            if any(b.after_s <= a.after_s for a, b in zip(q.steps, q.steps[1:], strict=False)):
                raise RoutingError(f"queue {q.name!r}: steps must have increasing after_s")
        self.agents: dict[str, Agent] = {}
        self._agent_list: list[Agent] = []
        for ac in agents:
            self.add_agent(ac)
        self.contacts: dict[str, Contact] = {}
        self.out: list[RouterEvent] = []  # what it did, in order (see routing.output)
        self.decisions = 0  # routing decisions taken (contact->agent matches tried)
        self._timers: list[Timer] = []
        self._seq = count()

    def add_agent(self, cfg: AgentConfig) -> None:
        if cfg.name in self.agents:
            raise RoutingError(f"agent {cfg.name!r} is defined twice")
        if cfg.capacity < 1:
            raise RoutingError(f"agent {cfg.name!r}: capacity must be >= 1, got {cfg.capacity}")
        for qn in cfg.queues or ():
            if qn not in self.queues:
                raise RoutingError(f"agent {cfg.name!r} names queue {qn!r}, which does not exist")
        a = Agent(cfg, len(self._agent_list))
        for q in self.queues.values():
            s = first_eligible_step(cfg, q.cfg)
            if s != math.inf:
                a.eligible.append((q, int(s)))
                q.scores[a.idx] = proficiency_score(cfg, q.cfg)
        self.agents[cfg.name] = a
        self._agent_list.append(a)

    def _agent(self, name: str) -> Agent:
        try:
            return self.agents[name]
        except KeyError:
            raise RoutingError(f"unknown agent {name!r}") from None

    def _contact(self, cid: str) -> Contact:
        try:
            return self.contacts[cid]
        except KeyError:
            raise RoutingError(f"unknown or finished contact {cid!r}") from None

    def _timer(self, t: float, kind: int, obj: Contact | Leg, token: int) -> None:
        heapq.heappush(self._timers, (t, next(self._seq), kind, obj, token))

    def _state(self, a: Agent, now: float, state: AgentState, reason: str | None = None) -> None:
        self.out.append(
            RouterEvent(now, AGENT_STATE, agent=a.name, state=state.value, reason=reason)
        )

    def _agent_ready(self, a: Agent, now: float) -> None:
        """``a`` may take work: give it the best waiting contact, else list it as idle."""
        while a.routable:
            c = self._best_contact_for(a, now)
            if c is None:
                break
            q = c.queue
            assert q is not None
            q.waiting -= 1
            heap = q.prio_heaps[c.priority]
            if heap[0][3] is c:  # else _offer's new qtoken makes its entry stale
                heapq.heappop(heap)
            self._offer(c, a, now)
        if a.routable:
            self._push_idle(a, now)

    def _push_idle(self, a: Agent, now: float) -> None:
        """List ``a`` in the idle pools of every queue it serves (invalidating old entries)."""
        a.token += 1
        tok, load, idx = a.token, float(a.ringing + len(a.legs)), a.idx
        for q, s in a.eligible:
            k1, k2 = q.pool_key(a, now)
            pool = q.pools[s]
            heapq.heappush(pool, (load, k1, k2, tok, idx))
            if len(pool) > 4 * len(self._agent_list) + 64:
                self._compact(pool)

    def _compact(self, pool: list[PoolEntry]) -> None:
        agents = self._agent_list
        pool[:] = [e for e in pool if agents[e[4]].token == e[3] and agents[e[4]].routable]
        heapq.heapify(pool)

    def _best_contact_for(self, a: Agent, now: float) -> Contact | None:
        best: tuple[int, int, float, int] | None = None
        best_c: Contact | None = None
        for q, s_min in a.eligible:
            if not q.waiting:
                continue
            for prio in q.prios:
                heap = q.prio_heaps[prio]
                while heap:
                    enq_t, seq, qtok, c = heap[0]
                    if c.state is CState.QUEUED and c.qtoken == qtok:
                        break
                    heapq.heappop(heap)
                if not heap:
                    continue
                enq_t, seq, _, c = heap[0]
                if c.id in a.legs:  # rare: a is wrapping up this contact; take the next
                    found = self._next_not_held(heap, a)
                    if found is None:
                        continue
                    enq_t, seq, _, c = found
                if s_min and step_of(q.steps, now - enq_t) < s_min:
                    continue  # younger contacts of this priority are no wider
                key = (-q.cfg.priority, -prio, enq_t, seq)
                if best is None or key < best:
                    best, best_c = key, c
                break
        self.decisions += 1
        return best_c

    @staticmethod
    def _next_not_held(heap: list[WaitEntry], a: Agent) -> WaitEntry | None:
        """The earliest live entry of ``heap`` whose contact ``a`` holds no leg of."""
        for e in sorted(heap):
            c = e[3]
            if c.state is CState.QUEUED and c.qtoken == e[2] and c.id not in a.legs:
                return e
        return None

    def _enqueue(self, c: Contact, q: QueueRt, now: float, priority: int) -> None:
        c.queue, c.priority, c.enq_t, c.is_callback = q, priority, now, False
        c.state = CState.QUEUED
        c.token += 1
        q.waiting += 1
        self.out.append(
            RouterEvent(now, ENQUEUE, c.id, q.name, priority=priority or None, position=q.waiting)
        )
        if q.cfg.max_wait_s is not None:
            self._timer(now + q.cfg.max_wait_s, MAXWAIT, c, c.token)
        if q.multi_step:
            for st in q.steps[1:]:
                self._timer(now + st.after_s, STEP, c, c.token)
        if not self._route_contact(c, q, now, exclude=None):
            self._wait(c, q)

    def _wait(self, c: Contact, q: QueueRt) -> None:
        c.qtoken += 1
        heapq.heappush(q.heap_for(c.priority), (c.enq_t, c.seq, c.qtoken, c))

    def _route_contact(self, c: Contact, q: QueueRt, now: float, exclude: Agent | None) -> bool:
        """Offer ``c`` to the best idle agent of ``q``; False if none can take it."""
        self.decisions += 1
        k = step_of(q.steps, now - c.enq_t) if q.multi_step else 0
        agents = self._agent_list
        best: PoolEntry | None = None
        best_pool: list[PoolEntry] | None = None
        held: list[PoolEntry] = []
        for s in range(k + 1):
            pool = q.pools[s]
            while pool:
                e = pool[0]
                a = agents[e[4]]
                if a.token != e[3] or not a.routable:
                    heapq.heappop(pool)
                elif a is exclude or c.id in a.legs:
                    # not back to an agent still wrapping up this contact (a transfer to
                    # a queue it serves): one agent never holds two legs of one contact
                    held.append(heapq.heappop(pool))
                else:
                    break
            top = pool[0] if pool else None  # the best agent not set aside
            for e in held:
                heapq.heappush(pool, e)
            held.clear()
            if top is not None and (best is None or top[:3] < best[:3]):
                best, best_pool = top, pool
        if best is None or best_pool is None:
            return False
        if best_pool[0] is best:
            heapq.heappop(best_pool)
        else:  # entries set aside sit above it: take it out and restore the heap
            best_pool.remove(best)
            heapq.heapify(best_pool)
        if c.state is CState.QUEUED:
            q.waiting -= 1
        self._offer(c, agents[best[4]], now)
        return True

    def _offer(self, c: Contact, a: Agent, now: float) -> None:
        q = c.queue
        assert q is not None
        c.state = CState.RINGING
        c.token += 1
        c.qtoken += 1
        c.agent = a
        c.offer_t = now
        a.ringing += 1
        a.token += 1
        a.rr[q.name] = next(self._seq)
        self.out.append(RouterEvent(now, OFFER, c.id, q.name, a.name, wait=now - c.enq_t))
        self._timer(now + q.cfg.ring_timeout_s, RING, c, c.token)
        if a.cfg.capacity > 1 and a.routable:
            self._push_idle(a, now)  # a chat agent with free slots stays routable

    def _ring_noanswer(self, c: Contact, now: float, reason: str) -> None:
        a, q = c.agent, c.queue
        assert a is not None and q is not None
        a.ringing -= 1
        a.missed += 1
        self.out.append(
            RouterEvent(now, RING_NOANSWER, c.id, q.name, a.name, ring=now - c.offer_t,
                        wait=now - c.enq_t, reason=reason)
        )  # fmt: skip
        c.agent = None
        c.state = CState.QUEUED
        c.token += 1
        q.waiting += 1
        if q.cfg.max_wait_s is not None and not c.is_callback:
            self._timer(max(now, c.enq_t + q.cfg.max_wait_s), MAXWAIT, c, c.token)
        # re-offer to the next agent first, then let this one have work again
        if not self._route_contact(c, q, now, exclude=a):
            self._wait(c, q)
        if a.cfg.max_no_answer and a.missed >= a.cfg.max_no_answer:
            self.out.append(
                RouterEvent(now, AGENT_STATE, agent=a.name, state="paused", reason="no_answer")
            )
            a.paused, a.pause_reason = True, "no_answer"
            a.token += 1
        else:
            self._settle(a, now)

    def _leg(self, contact: str) -> Leg:
        c = self._contact(contact)
        if c.state is not CState.CONNECTED or c.leg is None:
            raise RoutingError(f"contact {contact!r} is not connected to an agent")
        return c.leg

    def _end_talk(self, leg: Leg, now: float) -> tuple[float, float]:
        if leg.hold_start is not None:
            leg.hold_total += now - leg.hold_start
            leg.hold_start = None
        return now - leg.connect_t - leg.hold_total, leg.hold_total

    def _start_wrapup(self, leg: Leg, now: float, wrapup: float | None) -> None:
        leg.wrap_t = now
        if wrapup is None:
            wrapup = self.queues[leg.queue].cfg.wrapup_s
        if wrapup is None:
            return
        if wrapup <= 0:
            self._end_wrapup(leg, now)
        else:
            self._timer(now + wrapup, WRAPUP, leg, leg.token)

    def _end_wrapup(self, leg: Leg, now: float) -> None:
        a = leg.agent
        leg.token += 1
        del a.legs[leg.contact.id]
        self.out.append(
            RouterEvent(now, WRAPUP_END, leg.contact.id, leg.queue, a.name, acw=now - leg.wrap_t)
        )
        a.busy_time += now - leg.connect_t
        a.idle_since = now
        self._settle(a, now)

    def _settle(self, a: Agent, now: float) -> None:
        """``a``'s load dropped: apply a pending logout/pause once it is free, else route."""
        if a.legs or a.ringing:
            self._agent_ready(a, now)
            return
        if a.logout_pending:
            a.logout_pending, a.logged_in = False, False
            a.pause_pending = None
            self.out.append(RouterEvent(now, AGENT_LOGOUT, agent=a.name))
        elif a.pause_pending is not None:
            a.paused, a.pause_reason, a.pause_pending = True, a.pause_pending, None
            self._state(a, now, AgentState.PAUSED, a.pause_reason)
        else:
            self._agent_ready(a, now)

    def _max_wait(self, c: Contact, now: float) -> None:
        q = c.queue
        if c.state is not CState.QUEUED or q is None or c.is_callback:
            return
        q.waiting -= 1
        ov = q.cfg.overflow_queue
        self.out.append(
            RouterEvent(now, TIMEOUT, c.id, q.name, wait=now - c.enq_t, target=ov,
                        target_type="queue" if ov else None, reason="max_wait")
        )  # fmt: skip
        c.state = CState.DONE
        c.token += 1
        c.qtoken += 1
        if ov is not None:
            self._enqueue(c, self.queues[ov], now, c.priority)
        else:
            del self.contacts[c.id]
