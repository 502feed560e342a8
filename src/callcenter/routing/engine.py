"""The routing engine (ACD): pure, clock-injected, every decision an event.

The router never reads a clock.  Each call passes ``now``; timers the router needs (ring
timeouts, maximum wait, skill-widening steps, automatic wrap-up) are kept in its own heap:
the driver asks :meth:`Router.next_timer` and calls :meth:`Router.advance` up to the time
of the next outside happening.  The simulator drives it with a virtual clock, the server
will drive it with the wall clock; both get the same decisions.

Everything the router does is appended to :attr:`Router.out` in the compact tuple form
of the event model (``(t, type, contact, queue, agent, *extras)``, see
:data:`callcenter.events.EXTRAS_BY_TYPE`); the driver drains that list
(``router.drain()`` for :class:`Event` records, ``drain_raw()`` for the tuples) and
reacts (rings a phone, schedules a simulated answer, writes the log).

Data structures (why it is fast enough for 1,000 agents and 5,000 waiting contacts):
- per queue and contact priority, a heap of waiting contacts keyed by enqueue time;
- per queue and step, a heap of idle agents keyed by the queue's strategy;
- both with lazy deletion (tokens), so abandon/offer/pause are O(1) and a decision costs
  O(queues of the agent × log n).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from itertools import count

from callcenter.events import (
    AgentState,
    Event,
    HangupBy,
    RawEvent,
    TargetType,
    TransferKind,
    event_from_raw,
)
from callcenter.routing.model import (
    AgentConfig,
    QueueConfig,
    RoutingError,
    first_eligible_step,
    proficiency_score,
    step_of,
)
from callcenter.routing.state import Agent, Contact, CState, Leg, PoolEntry, QueueRt

# timer kinds
_RING, _MAXWAIT, _STEP, _WRAPUP = 0, 1, 2, 3


class Router:
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
        self.out: list[RawEvent] = []
        self.decisions = 0  # routing decisions taken (contact->agent matches tried)
        self._timers: list[tuple[float, int, int, object, int]] = []
        self._seq = count()

    # ------------------------------------------------------------------ configuration
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

    # ------------------------------------------------------------------ helpers
    def drain(self) -> list[Event]:
        """Return and forget the events produced since the last drain."""
        out, self.out = self.out, []
        return [event_from_raw(r) for r in out]

    def drain_raw(self) -> list[RawEvent]:
        """Like :meth:`drain`, in the compact tuple form (the simulator's fast path)."""
        out, self.out = self.out, []
        return out

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

    def _timer(self, t: float, kind: int, obj: object, token: int) -> None:
        heapq.heappush(self._timers, (t, next(self._seq), kind, obj, token))

    def _state(self, a: Agent, now: float, state: AgentState, reason: str | None = None) -> None:
        self.out.append((now, "agent_state", None, None, a.name, state.value, reason))

    # ------------------------------------------------------------------ agents
    def login(self, agent: str, now: float) -> None:
        a = self._agent(agent)
        if a.logged_in and a.logout_pending:
            a.logout_pending = False  # logged back in before the pending logout took effect
            self._agent_ready(a, now)
            return
        if a.logged_in:
            raise RoutingError(f"agent {agent!r} is already logged in")
        a.logged_in, a.paused, a.missed = True, False, 0
        a.idle_since = now
        self.out.append((now, "agent_login", None, None, a.name))
        self._agent_ready(a, now)

    def logout(self, agent: str, now: float, reason: str | None = None) -> None:
        a = self._agent(agent)
        if not a.logged_in:
            raise RoutingError(f"agent {agent!r} is not logged in")
        a.token += 1
        if a.legs or a.ringing:
            a.logout_pending = True  # takes effect when the last contact is wrapped up
            return
        a.logged_in, a.paused = False, False
        self.out.append((now, "agent_logout", None, None, a.name, reason))

    def pause(self, agent: str, now: float, reason: str = "break") -> None:
        a = self._agent(agent)
        if not a.logged_in:
            raise RoutingError(f"agent {agent!r} is not logged in")
        if a.paused:
            return
        a.token += 1
        if a.legs or a.ringing:
            a.pause_pending = reason  # effective after the current contacts
            return
        a.paused, a.pause_reason = True, reason
        self._state(a, now, AgentState.PAUSED, reason)

    def unpause(self, agent: str, now: float) -> None:
        a = self._agent(agent)
        if a.pause_pending is not None:
            a.pause_pending = None
            self._agent_ready(a, now)
            return
        if not a.paused:
            return
        a.paused, a.pause_reason, a.missed = False, None, 0
        a.idle_since = now
        self._state(a, now, AgentState.AVAILABLE)
        self._agent_ready(a, now)

    def _agent_ready(self, a: Agent, now: float) -> None:
        """``a`` may take work: give it the best waiting contact, else list it as idle."""
        while a.routable:
            c = self._best_contact_for(a, now)
            if c is None:
                break
            q = c.queue
            assert q is not None
            q.waiting -= 1
            heapq.heappop(q.prio_heaps[c.priority])  # c is at the top of that heap
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
                if s_min and step_of(q.steps, now - enq_t) < s_min:
                    continue  # younger contacts of this priority are no wider
                key = (-q.cfg.priority, -prio, enq_t, seq)
                if best is None or key < best:
                    best, best_c = key, c
                break
        self.decisions += 1
        return best_c

    # ------------------------------------------------------------------ contacts
    def arrive(
        self,
        contact: str,
        now: float,
        *,
        queue: str | None = None,
        caller: str | None = None,
        channel: str = "voice",
        priority: int = 0,
    ) -> None:
        """A contact reaches the center; with ``queue`` it is queued at once."""
        if contact in self.contacts:
            raise RoutingError(f"contact {contact!r} already exists")
        c = Contact(contact, next(self._seq), caller, channel)
        self.contacts[contact] = c
        self.out.append((now, "arrive", contact, None, None, channel, caller))
        if queue is not None:
            self.enqueue(contact, queue, now, priority=priority)

    def ivr(self, contact: str, now: float, *, enter: bool, result: str | None = None) -> None:
        """Record the contact entering or leaving the IVR (the IVR itself lives elsewhere)."""
        c = self._contact(contact)
        if enter:
            self.out.append((now, "ivr_enter", c.id, None, None))
        else:
            self.out.append((now, "ivr_leave", c.id, None, None, result))

    def enqueue(self, contact: str, queue: str, now: float, *, priority: int = 0) -> None:
        c = self._contact(contact)
        if c.state not in (CState.NEW, CState.DONE):
            raise RoutingError(f"contact {contact!r} is already queued or connected")
        try:
            q = self.queues[queue]
        except KeyError:
            raise RoutingError(f"unknown queue {queue!r}") from None
        self._enqueue(c, q, now, priority)

    def _enqueue(self, c: Contact, q: QueueRt, now: float, priority: int) -> None:
        c.queue, c.priority, c.enq_t, c.is_callback = q, priority, now, False
        c.state = CState.QUEUED
        c.token += 1
        q.waiting += 1
        self.out.append((now, "enqueue", c.id, q.name, None, priority or None, q.waiting))
        if q.cfg.max_wait_s is not None:
            self._timer(now + q.cfg.max_wait_s, _MAXWAIT, c, c.token)
        if q.multi_step:
            for st in q.steps[1:]:
                self._timer(now + st.after_s, _STEP, c, c.token)
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
                elif a is exclude:
                    held.append(heapq.heappop(pool))
                else:
                    break
            for e in held:
                heapq.heappush(pool, e)
            held.clear()
            if pool and (best is None or pool[0][:3] < best[:3]):
                best, best_pool = pool[0], pool
        if best is None or best_pool is None:
            return False
        heapq.heappop(best_pool)
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
        self.out.append((now, "offer", c.id, q.name, a.name, now - c.enq_t))
        self._timer(now + q.cfg.ring_timeout_s, _RING, c, c.token)
        if a.cfg.capacity > 1 and a.routable:
            self._push_idle(a, now)  # a chat agent with free slots stays routable

    def answer(self, contact: str, now: float) -> None:
        """The ringing agent accepts: the conversation starts (or the callback is dialled)."""
        c = self._contact(contact)
        if c.state is not CState.RINGING or c.agent is None or c.queue is None:
            raise RoutingError(f"contact {contact!r} is not ringing")
        a, q = c.agent, c.queue
        a.ringing -= 1
        a.missed = 0
        c.state = CState.CONNECTED
        c.token += 1
        c.agent = None
        leg = Leg(c, a, q.name, now)
        a.legs[c.id] = leg
        c.leg = leg
        if c.is_callback:
            self.out.append((now, "callback_made", c.id, q.name, a.name, now - c.callback_t))
        else:
            self.out.append((now, "connect", c.id, q.name, a.name, now - c.enq_t, now - c.offer_t))

    def decline(self, contact: str, now: float) -> None:
        """The ringing agent rejects the offer (counts as a ring-no-answer)."""
        c = self._contact(contact)
        if c.state is not CState.RINGING:
            raise RoutingError(f"contact {contact!r} is not ringing")
        self._ring_noanswer(c, now, "declined")

    def _ring_noanswer(self, c: Contact, now: float, reason: str) -> None:
        a, q = c.agent, c.queue
        assert a is not None and q is not None
        a.ringing -= 1
        a.missed += 1
        self.out.append(
            (now, "ring_noanswer", c.id, q.name, a.name, now - c.offer_t, now - c.enq_t, reason)
        )
        c.agent = None
        c.state = CState.QUEUED
        c.token += 1
        q.waiting += 1
        if q.cfg.max_wait_s is not None and not c.is_callback:
            self._timer(max(now, c.enq_t + q.cfg.max_wait_s), _MAXWAIT, c, c.token)
        # re-offer to the next agent first, then let this one have work again
        if not self._route_contact(c, q, now, exclude=a):
            self._wait(c, q)
        if a.cfg.max_no_answer and a.missed >= a.cfg.max_no_answer:
            self.out.append((now, "agent_state", None, None, a.name, "paused", "no_answer"))
            a.paused, a.pause_reason = True, "no_answer"
            a.token += 1
        else:
            self._settle(a, now)

    def hold(self, contact: str, now: float) -> None:
        leg = self._leg(contact)
        if leg.hold_start is None:
            leg.hold_start = now
            self.out.append((now, "hold", contact, leg.queue, leg.agent.name))

    def unhold(self, contact: str, now: float) -> None:
        leg = self._leg(contact)
        if leg.hold_start is not None:
            held = now - leg.hold_start
            leg.hold_total += held
            leg.hold_start = None
            self.out.append((now, "unhold", contact, leg.queue, leg.agent.name, held))

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

    def hangup(
        self, contact: str, now: float, by: HangupBy = HangupBy.CALLER, wrapup: float | None = None
    ) -> None:
        """The conversation ends.  ``wrapup``: seconds of after-call work (None: the queue's
        automatic wrap-up if it has one, else the agent ends it with :meth:`end_wrapup`)."""
        leg = self._leg(contact)
        c = leg.contact
        talk, hold = self._end_talk(leg, now)
        self.out.append((now, "complete", c.id, leg.queue, leg.agent.name, by.value, talk, hold))
        c.state = CState.DONE
        c.leg = None
        c.token += 1
        del self.contacts[c.id]
        leg.agent.handled += 1
        self._start_wrapup(leg, now, wrapup)

    def _start_wrapup(self, leg: Leg, now: float, wrapup: float | None) -> None:
        leg.wrap_t = now
        if wrapup is None:
            wrapup = self.queues[leg.queue].cfg.wrapup_s
        if wrapup is None:
            return
        if wrapup <= 0:
            self._end_wrapup(leg, now)
        else:
            self._timer(now + wrapup, _WRAPUP, leg, leg.token)

    def end_wrapup(self, agent: str, contact: str, now: float) -> None:
        a = self._agent(agent)
        leg = a.legs.get(contact)
        if leg is None or leg.contact.leg is leg:
            raise RoutingError(f"agent {agent!r} is not wrapping up contact {contact!r}")
        self._end_wrapup(leg, now)

    def _end_wrapup(self, leg: Leg, now: float) -> None:
        a = leg.agent
        leg.token += 1
        del a.legs[leg.contact.id]
        self.out.append((now, "wrapup_end", leg.contact.id, leg.queue, a.name, now - leg.wrap_t))
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
            self.out.append((now, "agent_logout", None, None, a.name, None))
        elif a.pause_pending is not None:
            a.paused, a.pause_reason, a.pause_pending = True, a.pause_pending, None
            self._state(a, now, AgentState.PAUSED, a.pause_reason)
        else:
            self._agent_ready(a, now)

    def transfer(
        self,
        contact: str,
        now: float,
        target: str,
        *,
        target_type: TargetType = TargetType.QUEUE,
        kind: TransferKind = TransferKind.BLIND,
        wrapup: float | None = None,
    ) -> None:
        """The agent hands the contact to a queue (new queue visit) or straight to an agent."""
        leg = self._leg(contact)
        c = leg.contact
        if target_type is TargetType.QUEUE and target not in self.queues:
            raise RoutingError(f"transfer target queue {target!r} does not exist")
        if target_type is TargetType.AGENT:
            ta = self._agent(target)
            if not ta.routable or ta is leg.agent:
                raise RoutingError(f"transfer target agent {target!r} cannot take a contact now")
        talk, hold = self._end_talk(leg, now)
        self.out.append(
            (now, "transfer", c.id, leg.queue, leg.agent.name, talk, hold, target,
             target_type.value, kind.value)
        )  # fmt: skip
        c.leg = None
        c.state = CState.DONE
        leg.agent.handled += 1
        self._start_wrapup(leg, now, wrapup)
        if target_type is TargetType.QUEUE:
            self._enqueue(c, self.queues[target], now, c.priority)
        else:
            c.enq_t = now
            self._offer(c, ta, now)

    def abandon(self, contact: str, now: float) -> None:
        """The caller hangs up before being answered (while queued or ringing)."""
        c = self._contact(contact)
        q = c.queue
        if c.state is CState.QUEUED and q is not None:
            q.waiting -= 1
        elif c.state is CState.RINGING and c.agent is not None and q is not None:
            a = c.agent
            a.ringing -= 1
            c.agent = None
            self._settle(a, now)
        else:
            raise RoutingError(f"contact {contact!r} is not waiting")
        self.out.append((now, "abandon", c.id, q.name, None, now - c.enq_t))
        c.state = CState.DONE
        c.token += 1
        del self.contacts[c.id]

    def request_callback(self, contact: str, now: float) -> None:
        """Virtual hold: the caller hangs up but keeps its place; an agent calls back."""
        c = self._contact(contact)
        q = c.queue
        if c.state is not CState.QUEUED or q is None:
            raise RoutingError(f"contact {contact!r} is not queued")
        self.out.append((now, "callback_request", c.id, q.name, None, now - c.enq_t, c.caller))
        c.is_callback = True
        c.callback_t = now
        c.token += 1  # cancels the max-wait timer: the place is kept until called back

    # ------------------------------------------------------------------ timers
    def next_timer(self) -> float | None:
        """The time of the earliest pending timer, or None."""
        timers = self._timers
        while timers:
            t, _, _kind, obj, tok = timers[0]
            if obj.token == tok:  # type: ignore[attr-defined]
                return t
            heapq.heappop(timers)
        return None

    def advance(self, now: float) -> None:
        """Fire every timer due at or before ``now``, each at its own time."""
        timers = self._timers
        while timers and timers[0][0] <= now:
            t, _, kind, obj, tok = heapq.heappop(timers)
            if obj.token != tok:  # type: ignore[attr-defined]
                continue
            if kind == _WRAPUP:
                assert isinstance(obj, Leg)
                self._end_wrapup(obj, t)
            elif kind == _RING:
                assert isinstance(obj, Contact)
                self._ring_noanswer(obj, t, "timeout")
            elif kind == _STEP:
                assert isinstance(obj, Contact)
                q = obj.queue
                if obj.state is CState.QUEUED and q is not None:
                    self._route_contact(obj, q, t, exclude=None)
            elif kind == _MAXWAIT:
                assert isinstance(obj, Contact)
                self._max_wait(obj, t)

    def _max_wait(self, c: Contact, now: float) -> None:
        q = c.queue
        if c.state is not CState.QUEUED or q is None or c.is_callback:
            return
        q.waiting -= 1
        ov = q.cfg.overflow_queue
        self.out.append(
            (
                now,
                "timeout",
                c.id,
                q.name,
                None,
                now - c.enq_t,
                ov,
                "queue" if ov else None,
                "max_wait",
            )
        )
        c.state = CState.DONE
        c.token += 1
        c.qtoken += 1
        if ov is not None:
            self._enqueue(c, self.queues[ov], now, c.priority)
        else:
            del self.contacts[c.id]

    # ------------------------------------------------------------------ views
    def waiting(self, queue: str) -> int:
        return self.queues[queue].waiting

    def agent_state(self, agent: str) -> AgentState:
        a = self._agent(agent)
        if not a.logged_in:
            return AgentState.LOGGED_OUT
        if a.ringing:
            return AgentState.RINGING
        if any(leg.contact.leg is leg for leg in a.legs.values()):
            return AgentState.ON_CONTACT
        if a.legs:
            return AgentState.WRAP_UP
        return AgentState.PAUSED if a.paused else AgentState.AVAILABLE
