"""The routing engine (ACD): pure, clock-injected, every decision an event.

The router never reads a clock.  Each call passes ``now``; timers the router needs (ring
timeouts, maximum wait, skill-widening steps, automatic wrap-up) are kept in its own heap:
the driver asks :meth:`Router.next_timer` and calls :meth:`Router.advance` up to the time
of the next outside happening.  The simulator drives it with a virtual clock, the server
will drive it with the wall clock; both get the same decisions.

Everything the router does is appended to :attr:`Router.out` as a typed
:class:`~callcenter.routing.output.RouterEvent` (``type`` an
:class:`~callcenter.events.EventType`, the other fields by name); the driver drains that
list (``drain_records()`` for the records, ``drain()`` for :class:`Event` records,
``drain_raw()`` for the event model's compact tuples, the log writer's form) and reacts
(rings a phone, schedules a simulated answer, writes the log).

Data structures (why it is fast enough for 1,000 agents and 5,000 waiting contacts):
- per queue and contact priority, a heap of waiting contacts keyed by enqueue time;
- per queue and step, a heap of idle agents keyed by the queue's strategy;
- both with lazy deletion (tokens), so abandon/offer/pause are O(1) and a decision costs
  O(queues of the agent × log n).
"""

from __future__ import annotations

import heapq

from callcenter.events import (
    AgentState,
    Event,
    HangupBy,
    RawEvent,
    TargetType,
    TransferKind,
)
from callcenter.routing.core import MAXWAIT, RING, STEP, WRAPUP, RouterCore
from callcenter.routing.model import (
    RoutingError,
)
from callcenter.routing.output import (
    ABANDON,
    AGENT_LOGIN,
    AGENT_LOGOUT,
    ARRIVE,
    CALLBACK_MADE,
    CALLBACK_REQUEST,
    COMPLETE,
    CONNECT,
    HOLD,
    IVR_ENTER,
    IVR_LEAVE,
    TRANSFER,
    UNHOLD,
    RouterEvent,
)
from callcenter.routing.state import Contact, CState, Leg


class Router(RouterCore):
    """The ACD: public requests; state and decisions in :class:`RouterCore`."""

    def drain(self) -> list[Event]:
        """Return and forget the events produced since the last drain."""
        out, self.out = self.out, []
        return [e.to_event() for e in out]

    def drain_records(self) -> list[RouterEvent]:
        """Like :meth:`drain`, as the router's own typed records (no conversion)."""
        out, self.out = self.out, []
        return out

    def drain_raw(self) -> list[RawEvent]:
        """Like :meth:`drain`, in the event model's compact tuple form (what the log
        writer process takes: cheap to pickle)."""
        out, self.out = self.out, []
        return [e.to_raw() for e in out]

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
        self.out.append(RouterEvent(now, AGENT_LOGIN, agent=a.name))
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
        self.out.append(RouterEvent(now, AGENT_LOGOUT, agent=a.name, reason=reason))

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
        if queue is not None and queue not in self.queues:  # refused before anything moves
            raise RoutingError(f"unknown queue {queue!r}")
        c = Contact(contact, next(self._seq), caller, channel)
        self.contacts[contact] = c
        self.out.append(RouterEvent(now, ARRIVE, contact, channel=channel, caller=caller))
        if queue is not None:
            self.enqueue(contact, queue, now, priority=priority)

    def ivr(self, contact: str, now: float, *, enter: bool, result: str | None = None) -> None:
        """Record the contact entering or leaving the IVR (the IVR itself lives elsewhere)."""
        c = self._contact(contact)
        if enter:
            self.out.append(RouterEvent(now, IVR_ENTER, c.id))
        else:
            self.out.append(RouterEvent(now, IVR_LEAVE, c.id, reason=result))

    def enqueue(self, contact: str, queue: str, now: float, *, priority: int = 0) -> None:
        c = self._contact(contact)
        if c.state not in (CState.NEW, CState.DONE):
            raise RoutingError(f"contact {contact!r} is already queued or connected")
        try:
            q = self.queues[queue]
        except KeyError:
            raise RoutingError(f"unknown queue {queue!r}") from None
        self._enqueue(c, q, now, priority)

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
            self.out.append(
                RouterEvent(now, CALLBACK_MADE, c.id, q.name, a.name, wait=now - c.callback_t)
            )
        else:
            self.out.append(
                RouterEvent(now, CONNECT, c.id, q.name, a.name, wait=now - c.enq_t,
                            ring=now - c.offer_t)
            )  # fmt: skip

    def decline(self, contact: str, now: float) -> None:
        """The ringing agent rejects the offer (counts as a ring-no-answer)."""
        c = self._contact(contact)
        if c.state is not CState.RINGING:
            raise RoutingError(f"contact {contact!r} is not ringing")
        self._ring_noanswer(c, now, "declined")

    def hold(self, contact: str, now: float) -> None:
        leg = self._leg(contact)
        if leg.hold_start is None:
            leg.hold_start = now
            self.out.append(RouterEvent(now, HOLD, contact, leg.queue, leg.agent.name))

    def unhold(self, contact: str, now: float) -> None:
        leg = self._leg(contact)
        if leg.hold_start is not None:
            held = now - leg.hold_start
            leg.hold_total += held
            leg.hold_start = None
            self.out.append(RouterEvent(now, UNHOLD, contact, leg.queue, leg.agent.name, hold=held))

    def hangup(
        self, contact: str, now: float, by: HangupBy = HangupBy.CALLER, wrapup: float | None = None
    ) -> None:
        """The conversation ends.  ``wrapup``: seconds of after-call work (None: the queue's
        automatic wrap-up if it has one, else the agent ends it with :meth:`end_wrapup`)."""
        leg = self._leg(contact)
        c = leg.contact
        talk, hold = self._end_talk(leg, now)
        self.out.append(
            RouterEvent(now, COMPLETE, c.id, leg.queue, leg.agent.name, by=by.value, talk=talk,
                        hold=hold)
        )  # fmt: skip
        c.state = CState.DONE
        c.leg = None
        c.token += 1
        del self.contacts[c.id]
        leg.agent.handled += 1
        self._start_wrapup(leg, now, wrapup)

    def end_wrapup(self, agent: str, contact: str, now: float) -> None:
        a = self._agent(agent)
        leg = a.legs.get(contact)
        if leg is None or leg.contact.leg is leg:
            raise RoutingError(f"agent {agent!r} is not wrapping up contact {contact!r}")
        self._end_wrapup(leg, now)

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
            RouterEvent(now, TRANSFER, c.id, leg.queue, leg.agent.name, talk=talk, hold=hold,
                        target=target, target_type=target_type.value, kind=kind.value)
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
        self.out.append(RouterEvent(now, ABANDON, c.id, q.name, wait=now - c.enq_t))
        c.state = CState.DONE
        c.token += 1
        del self.contacts[c.id]

    def release(self, contact: str, now: float) -> None:
        """A contact that never waited in a queue leaves the center (its IVR ended it:
        the caller hung up, left a message, was told the center is closed). Nothing is
        emitted here: the IVR's own events say how it ended."""
        c = self._contact(contact)
        if c.state is not CState.NEW:
            raise RoutingError(f"contact {contact!r} has been queued; it cannot be released")
        c.state = CState.DONE
        c.token += 1
        del self.contacts[c.id]

    def request_callback(self, contact: str, now: float) -> None:
        """Virtual hold: the caller hangs up but keeps its place; an agent calls back."""
        c = self._contact(contact)
        q = c.queue
        if c.state is not CState.QUEUED or q is None:
            raise RoutingError(f"contact {contact!r} is not queued")
        self.out.append(
            RouterEvent(now, CALLBACK_REQUEST, c.id, q.name, wait=now - c.enq_t, caller=c.caller)
        )
        c.is_callback = True
        c.callback_t = now
        c.token += 1  # cancels the max-wait timer: the place is kept until called back

    def next_timer(self) -> float | None:
        """The time of the earliest pending timer, or None."""
        timers = self._timers
        while timers:
            t, _, _kind, obj, tok = timers[0]
            if obj.token == tok:
                return t
            heapq.heappop(timers)
        return None

    def advance(self, now: float) -> None:
        """Fire every timer due at or before ``now``, each at its own time."""
        timers = self._timers
        while timers and timers[0][0] <= now:
            t, _, kind, obj, tok = heapq.heappop(timers)
            if obj.token != tok:
                continue
            if kind == WRAPUP:
                assert isinstance(obj, Leg)
                self._end_wrapup(obj, t)
            elif kind == RING:
                assert isinstance(obj, Contact)
                self._ring_noanswer(obj, t, "timeout")
            elif kind == STEP:
                assert isinstance(obj, Contact)
                q = obj.queue
                if obj.state is CState.QUEUED and q is not None:
                    self._route_contact(obj, q, t, exclude=None)
            elif kind == MAXWAIT:
                assert isinstance(obj, Contact)
                self._max_wait(obj, t)

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
