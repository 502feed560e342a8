"""What the router emits: one typed :class:`RouterEvent` per decision.

The router appends a :class:`RouterEvent` to ``Router.out`` for everything it does; the
driver reads the records by field name (``ev.type``, ``ev.contact``, ``ev.wait`` ...)
and drains them in one of three forms:

- ``Router.drain_records()``: the records themselves (the simulator's and the routing
  bench's view: no conversion);
- ``Router.drain()``: :class:`~callcenter.events.Event` records (:meth:`RouterEvent.to_event`);
- ``Router.drain_raw()``: the event model's compact tuples ``(t, type, contact, queue,
  agent, *extras)`` with the extras in :data:`~callcenter.events.EXTRAS_BY_TYPE` order
  (:meth:`RouterEvent.to_raw`): what the simulator hands to the log writer process,
  because a tuple of strings and floats pickles cheaply.

``type`` is a :class:`~callcenter.events.EventType`; the other fields are the fields of
:class:`~callcenter.events.Event` that routing events carry, ``None`` where the type does
not set them (:data:`~callcenter.events.FIELDS_BY_TYPE`).  Enum-valued fields (``by``,
``state``, ``target_type``, ``kind``, ``channel``) hold their string values, as in an
:class:`Event`.

Compiled with mypyc (``setup.py``): a native class, so building one from the compiled
router is a direct C call and reading a field from the compiled simulator is a struct
read.  The module-level aliases of the :class:`EventType` members below (``OFFER`` ...)
exist for the same reason: compiled, they are C statics and ``ev.type is OFFER`` is a
pointer comparison, whereas ``EventType.OFFER`` is an attribute lookup on every read
(Python 3.11).  Records are read-only by convention: nothing changes one once emitted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar, final

from callcenter.events.model import Event, EventType

_C = TypeVar("_C")

try:  # read by mypyc when it compiles this module; not a runtime dependency
    from mypy_extensions import mypyc_attr
except ImportError:  # pragma: no cover - plain Python without mypy installed

    def mypyc_attr(*_a: str, **_k: object) -> Callable[[_C], _C]:
        return lambda cls: cls


ARRIVE: Final = EventType.ARRIVE
IVR_ENTER: Final = EventType.IVR_ENTER
IVR_LEAVE: Final = EventType.IVR_LEAVE
ENQUEUE: Final = EventType.ENQUEUE
OFFER: Final = EventType.OFFER
RING_NOANSWER: Final = EventType.RING_NOANSWER
CONNECT: Final = EventType.CONNECT
HOLD: Final = EventType.HOLD
UNHOLD: Final = EventType.UNHOLD
TRANSFER: Final = EventType.TRANSFER
ABANDON: Final = EventType.ABANDON
TIMEOUT: Final = EventType.TIMEOUT
COMPLETE: Final = EventType.COMPLETE
WRAPUP_END: Final = EventType.WRAPUP_END
CALLBACK_REQUEST: Final = EventType.CALLBACK_REQUEST
CALLBACK_MADE: Final = EventType.CALLBACK_MADE
AGENT_LOGIN: Final = EventType.AGENT_LOGIN
AGENT_LOGOUT: Final = EventType.AGENT_LOGOUT
AGENT_STATE: Final = EventType.AGENT_STATE


@final
@mypyc_attr(acyclic=True)
class RouterEvent:
    """One routing event, fields by name (see the module doc).

    ``acyclic``: a record refers to strings, numbers and an enum member only, never to
    a container, so the compiled class leaves the cyclic garbage collector out (no GC
    header, no tracking; allocating one does not bring the next collection closer).
    """

    __slots__ = (
        "acw",
        "agent",
        "by",
        "caller",
        "channel",
        "contact",
        "hold",
        "kind",
        "position",
        "priority",
        "queue",
        "reason",
        "ring",
        "state",
        "t",
        "talk",
        "target",
        "target_type",
        "type",
        "wait",
    )

    def __init__(
        self,
        t: float,
        type: EventType,
        contact: str | None = None,
        queue: str | None = None,
        agent: str | None = None,
        *,
        channel: str | None = None,
        caller: str | None = None,
        priority: int | None = None,
        position: int | None = None,
        wait: float | None = None,
        ring: float | None = None,
        talk: float | None = None,
        hold: float | None = None,
        acw: float | None = None,
        by: str | None = None,
        target: str | None = None,
        target_type: str | None = None,
        kind: str | None = None,
        state: str | None = None,
        reason: str | None = None,
    ) -> None:
        self.t = t
        self.type = type
        self.contact = contact
        self.queue = queue
        self.agent = agent
        self.channel = channel  # arrive
        self.caller = caller  # arrive, callback_request
        self.priority = priority  # enqueue (None for 0)
        self.position = position  # enqueue: contacts waiting in the queue, this one included
        self.wait = wait  # seconds since the enqueue (callback_made: since the request)
        self.ring = ring  # seconds the offer rang
        self.talk = talk
        self.hold = hold
        self.acw = acw  # wrapup_end
        self.by = by  # complete: HangupBy value
        self.target = target  # transfer, timeout (overflow queue)
        self.target_type = target_type  # TargetType value
        self.kind = kind  # transfer: TransferKind value
        self.state = state  # agent_state: AgentState value
        self.reason = reason  # agent_state, agent_logout, ring_noanswer, timeout, ivr_leave

    def to_raw(self) -> tuple[Any, ...]:
        """The compact tuple of the event model: ``(t, type value, contact, queue, agent,
        *extras)``, the extras in :data:`~callcenter.events.EXTRAS_BY_TYPE` order."""
        ty = self.type
        t, c, q, a = self.t, self.contact, self.queue, self.agent
        # the most frequent types first: each test is a pointer comparison
        if ty is OFFER:
            return (t, "offer", c, q, a, self.wait)
        if ty is CONNECT:
            return (t, "connect", c, q, a, self.wait, self.ring)
        if ty is ENQUEUE:
            return (t, "enqueue", c, q, a, self.priority, self.position)
        if ty is ARRIVE:
            return (t, "arrive", c, q, a, self.channel, self.caller)
        if ty is COMPLETE:
            return (t, "complete", c, q, a, self.by, self.talk, self.hold)
        if ty is WRAPUP_END:
            return (t, "wrapup_end", c, q, a, self.acw)
        if ty is RING_NOANSWER:
            return (t, "ring_noanswer", c, q, a, self.ring, self.wait, self.reason)
        if ty is ABANDON:
            return (t, "abandon", c, q, a, self.wait)
        if ty is TRANSFER:
            return (t, "transfer", c, q, a, self.talk, self.hold, self.target,
                    self.target_type, self.kind)  # fmt: skip
        if ty is TIMEOUT:
            return (t, "timeout", c, q, a, self.wait, self.target, self.target_type, self.reason)
        if ty is CALLBACK_REQUEST:
            return (t, "callback_request", c, q, a, self.wait, self.caller)
        if ty is CALLBACK_MADE:
            return (t, "callback_made", c, q, a, self.wait)
        if ty is AGENT_STATE:
            return (t, "agent_state", c, q, a, self.state, self.reason)
        if ty is AGENT_LOGIN:
            return (t, "agent_login", c, q, a)
        if ty is AGENT_LOGOUT:
            return (t, "agent_logout", c, q, a, self.reason)
        if ty is HOLD:
            return (t, "hold", c, q, a)
        if ty is UNHOLD:
            return (t, "unhold", c, q, a, self.hold)
        if ty is IVR_ENTER:
            return (t, "ivr_enter", c, q, a)
        if ty is IVR_LEAVE:
            return (t, "ivr_leave", c, q, a, self.reason)
        raise ValueError(f"the router does not emit {ty.value!r} events")

    def to_event(self) -> Event:
        """The same event as an :class:`~callcenter.events.Event` record."""
        return Event(
            self.t,
            self.type,
            self.contact,
            self.queue,
            self.agent,
            channel=self.channel,
            caller=self.caller,
            priority=self.priority,
            position=self.position,
            wait=self.wait,
            ring=self.ring,
            talk=self.talk,
            hold=self.hold,
            acw=self.acw,
            by=self.by,
            target=self.target,
            target_type=self.target_type,
            kind=self.kind,
            state=self.state,
            reason=self.reason,
        )

    def __repr__(self) -> str:
        return f"RouterEvent{self.to_raw()!r}"


__all__ = [
    "ABANDON",
    "AGENT_LOGIN",
    "AGENT_LOGOUT",
    "AGENT_STATE",
    "ARRIVE",
    "CALLBACK_MADE",
    "CALLBACK_REQUEST",
    "COMPLETE",
    "CONNECT",
    "ENQUEUE",
    "HOLD",
    "IVR_ENTER",
    "IVR_LEAVE",
    "OFFER",
    "RING_NOANSWER",
    "TIMEOUT",
    "TRANSFER",
    "UNHOLD",
    "WRAPUP_END",
    "RouterEvent",
]
