"""The event model: one record shape for everything that happens to a contact or an agent.

Every source (live engine, simulator, importers) writes :class:`Event` records and every
consumer (KPIs, dashboards, WFM, analytics) reads them.  The shape is deliberately *flat*
and close to Asterisk's ``queue_log`` (time, call id, queue, agent, event, data fields):
a single record type with optional fields is cheap to create in the simulator's hot
loop, maps one-to-one onto a SQL row and onto a columnar frame for the KPI engine, and
keeps the JSON Lines file readable.  Which optional fields each type carries is declared
in :data:`FIELDS_BY_TYPE` and enforced by :func:`validate_event`.

Times are seconds since the Unix epoch (UTC) as floats; durations are seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any, Final

SCHEMA_NAME: Final = "callcenter.events"
SCHEMA_VERSION: Final = 1


class EventType(StrEnum):
    """What happened.  Values are the ``type`` strings written to the log."""

    # --- log framing -------------------------------------------------------------------
    HEADER = "header"  # first line of every log: schema, version, source
    # --- contacts -----------------------------------------------------------------------
    ARRIVE = "arrive"  # a contact reaches the center (channel, caller)
    IVR_ENTER = "ivr_enter"
    IVR_LEAVE = "ivr_leave"  # result: the menu choice / self-service outcome
    IVR_CHOICE = "ivr_choice"  # one input in the IVR: `target` = node, `reason` = value
    RECORDING = "recording"  # a call's recording `reason` = started | paused | resumed
    ENQUEUE = "enqueue"  # the contact starts waiting in `queue` (priority, position)
    OFFER = "offer"  # the router rings `agent` with the contact
    RING_NOANSWER = "ring_noanswer"  # the agent did not answer within the ring timeout
    CONNECT = "connect"  # agent answered; `wait` = enqueue -> connect (queue + ring)
    HOLD = "hold"
    UNHOLD = "unhold"
    TRANSFER = "transfer"  # agent's leg ends; `target` gets the contact (kind, target_type)
    ABANDON = "abandon"  # the caller hung up while queued; `wait`, `position`
    TIMEOUT = "timeout"  # left the queue unanswered: max wait (`target` = overflow queue),
    # or `reason` empty / key / withdraw (Asterisk EXITEMPTY, EXITWITHKEY, WITHDRAW)
    COMPLETE = "complete"  # conversation ended; `by` = agent|caller; `talk`, `hold`
    WRAPUP_END = "wrapup_end"  # after-call work finished; `acw`
    CALLBACK_REQUEST = "callback_request"  # caller left the line, keeps the queue place
    CALLBACK_MADE = "callback_made"  # an agent started the call back (then connect ...)
    # --- agents --------------------------------------------------------------------------
    AGENT_LOGIN = "agent_login"
    AGENT_LOGOUT = "agent_logout"
    AGENT_STATE = "agent_state"  # state (available | paused) and reason
    # --- supervision (last: a column's enum of types only grows at its end) ---------------
    SUPERVISE = "supervise"  # `target` (a supervisor) on `agent`'s call: `reason` = listen |
    # whisper | barge (a start or a switch) or stop


class AgentState(StrEnum):
    """The state an agent is in; derived from events (see :func:`agent_state_after`)."""

    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CONTACT = "on_contact"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"


class Channel(StrEnum):
    VOICE = "voice"
    CHAT = "chat"
    EMAIL = "email"
    CALLBACK = "callback"


class HangupBy(StrEnum):
    AGENT = "agent"
    CALLER = "caller"


class TransferKind(StrEnum):
    BLIND = "blind"
    ATTENDED = "attended"


class TargetType(StrEnum):
    QUEUE = "queue"
    AGENT = "agent"
    EXTENSION = "extension"  # a number outside the center's queues (PBX transfers)


@dataclass(slots=True)
class Event:
    """One line of the event log.

    ``t``, ``type`` and, for contact events, ``contact`` are always present; the other
    fields are set only by the event types listed in :data:`FIELDS_BY_TYPE`.
    """

    t: float
    type: EventType
    contact: str | None = None
    queue: str | None = None
    agent: str | None = None
    # contact attributes
    channel: str | None = None  # Channel value, on arrive
    caller: str | None = None  # caller number / address, on arrive
    priority: int | None = None  # on enqueue: higher is served first
    position: int | None = None  # on enqueue/abandon: 1-based place in the queue
    # durations (seconds)
    wait: float | None = None  # time in this queue visit (enqueue -> this event)
    ring: float | None = None  # ring time of this offer (on connect / ring_noanswer)
    talk: float | None = None  # talk time of the agent's leg, hold excluded
    hold: float | None = None  # hold time of the agent's leg
    acw: float | None = None  # after-call work on wrapup_end
    # routing outcomes
    by: str | None = None  # HangupBy on complete
    target: str | None = None  # queue/agent a transfer or overflow goes to
    target_type: str | None = None  # TargetType of `target`
    kind: str | None = None  # TransferKind on transfer
    # agent state
    state: str | None = None  # AgentState on agent_state
    reason: str | None = None  # pause reason, ring_noanswer reason, ivr result
    # log framing (header only)
    schema: str | None = None
    version: int | None = None
    source: str | None = None  # live | sim | import:<format>

    def to_dict(self) -> dict[str, Any]:
        """The event as a dict without the unset fields (what the JSONL line holds)."""
        out: dict[str, Any] = {"t": self.t, "type": self.type}
        for name in _ORDERED_FIELDS[self.type]:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


FIELD_NAMES: Final[tuple[str, ...]] = tuple(f.name for f in fields(Event))

# Fields each type may carry besides t/type (contact, queue, agent included where listed).
_C = ("contact",)
FIELDS_BY_TYPE: Final[dict[EventType, frozenset[str]]] = {
    EventType.HEADER: frozenset({"schema", "version", "source"}),
    EventType.ARRIVE: frozenset({*_C, "channel", "caller", "queue"}),
    EventType.IVR_ENTER: frozenset({*_C, "queue"}),
    EventType.IVR_LEAVE: frozenset({*_C, "queue", "reason"}),
    EventType.IVR_CHOICE: frozenset({*_C, "target", "reason"}),
    EventType.RECORDING: frozenset({*_C, "queue", "agent", "reason"}),
    EventType.ENQUEUE: frozenset({*_C, "queue", "priority", "position", "channel"}),
    EventType.OFFER: frozenset({*_C, "queue", "agent", "wait"}),
    EventType.RING_NOANSWER: frozenset({*_C, "queue", "agent", "ring", "wait", "reason"}),
    EventType.CONNECT: frozenset({*_C, "queue", "agent", "wait", "ring"}),
    EventType.HOLD: frozenset({*_C, "queue", "agent"}),
    EventType.UNHOLD: frozenset({*_C, "queue", "agent", "hold"}),
    EventType.TRANSFER: frozenset(
        {*_C, "queue", "agent", "target", "target_type", "kind", "talk", "hold", "wait"}
    ),
    EventType.ABANDON: frozenset({*_C, "queue", "wait", "position"}),
    EventType.TIMEOUT: frozenset(
        {*_C, "queue", "wait", "target", "target_type", "position", "reason"}
    ),
    EventType.COMPLETE: frozenset({*_C, "queue", "agent", "by", "talk", "hold"}),
    EventType.WRAPUP_END: frozenset({*_C, "queue", "agent", "acw"}),
    EventType.CALLBACK_REQUEST: frozenset({*_C, "queue", "wait", "caller", "position"}),
    EventType.CALLBACK_MADE: frozenset({*_C, "queue", "agent", "wait"}),
    EventType.AGENT_LOGIN: frozenset({"agent"}),
    EventType.AGENT_LOGOUT: frozenset({"agent", "reason"}),
    EventType.AGENT_STATE: frozenset({"agent", "state", "reason"}),
    EventType.SUPERVISE: frozenset({*_C, "queue", "agent", "target", "reason"}),
}

# Fields that must be present for each type (besides t/type).
REQUIRED_BY_TYPE: Final[dict[EventType, frozenset[str]]] = {
    EventType.HEADER: frozenset({"schema", "version"}),
    EventType.ARRIVE: frozenset(_C),
    EventType.IVR_ENTER: frozenset(_C),
    EventType.IVR_LEAVE: frozenset(_C),
    EventType.IVR_CHOICE: frozenset({*_C, "target", "reason"}),
    EventType.RECORDING: frozenset({*_C, "reason"}),
    EventType.ENQUEUE: frozenset({*_C, "queue"}),
    EventType.OFFER: frozenset({*_C, "queue", "agent"}),
    EventType.RING_NOANSWER: frozenset({*_C, "agent"}),
    EventType.CONNECT: frozenset({*_C, "agent", "wait"}),
    EventType.HOLD: frozenset({*_C, "agent"}),
    EventType.UNHOLD: frozenset({*_C, "agent"}),
    EventType.TRANSFER: frozenset({*_C, "agent", "target", "target_type", "kind"}),
    EventType.ABANDON: frozenset({*_C, "queue", "wait"}),
    EventType.TIMEOUT: frozenset({*_C, "queue", "wait"}),
    EventType.COMPLETE: frozenset({*_C, "agent", "by", "talk"}),
    EventType.WRAPUP_END: frozenset({*_C, "agent", "acw"}),
    EventType.CALLBACK_REQUEST: frozenset({*_C, "queue", "wait"}),
    EventType.CALLBACK_MADE: frozenset({*_C, "agent"}),
    EventType.AGENT_LOGIN: frozenset({"agent"}),
    EventType.AGENT_LOGOUT: frozenset({"agent"}),
    EventType.AGENT_STATE: frozenset({"agent", "state"}),
    EventType.SUPERVISE: frozenset({*_C, "agent", "target", "reason"}),
}

_ORDERED_FIELDS: Final[dict[EventType, tuple[str, ...]]] = {
    etype: tuple(n for n in FIELD_NAMES if n in allowed)
    for etype, allowed in FIELDS_BY_TYPE.items()
}

_ENUM_FIELDS: Final[dict[str, type[StrEnum]]] = {
    "channel": Channel,
    "by": HangupBy,
    "kind": TransferKind,
    "target_type": TargetType,
    "state": AgentState,
}
_FLOAT_FIELDS: Final = frozenset({"t", "wait", "ring", "talk", "hold", "acw"})
_INT_FIELDS: Final = frozenset({"priority", "position", "version"})

# The agent state an event leaves its agent in (None: the event does not change it).
_STATE_AFTER: Final[dict[EventType, AgentState]] = {
    EventType.AGENT_LOGIN: AgentState.AVAILABLE,
    EventType.AGENT_LOGOUT: AgentState.LOGGED_OUT,
    EventType.OFFER: AgentState.RINGING,
    EventType.RING_NOANSWER: AgentState.AVAILABLE,
    EventType.CONNECT: AgentState.ON_CONTACT,
    EventType.CALLBACK_MADE: AgentState.ON_CONTACT,
    EventType.COMPLETE: AgentState.WRAP_UP,
    EventType.TRANSFER: AgentState.WRAP_UP,
    EventType.WRAPUP_END: AgentState.AVAILABLE,
}


def agent_state_after(event: Event) -> AgentState | None:
    """The state ``event.agent`` is in right after ``event``, or None if unchanged."""
    if event.type is EventType.AGENT_STATE:
        return AgentState(event.state) if event.state is not None else None
    return _STATE_AFTER.get(event.type)


STATE_AFTER_TYPE: Final[dict[str, str]] = {k.value: v.value for k, v in _STATE_AFTER.items()}
"""The same mapping by string, for columnar consumers (agent_state uses its `state`)."""


# ---------------------------------------------------------------------------------------
# The compact form: a plain tuple ``(t, type, contact, queue, agent, *extras)`` with the
# extras of each type in the order below.  The routing engine and the simulator produce
# millions of these a simulated day; a tuple costs a fifth of an :class:`Event` to build
# and pickles cheaply to the writer process.  :func:`event_from_raw` gives the Event.
RawEvent = tuple[Any, ...]

EXTRAS_BY_TYPE: Final[dict[str, tuple[str, ...]]] = {
    EventType.HEADER.value: ("schema", "version", "source"),
    EventType.ARRIVE.value: ("channel", "caller"),
    EventType.IVR_ENTER.value: (),
    EventType.IVR_LEAVE.value: ("reason",),
    EventType.IVR_CHOICE.value: ("target", "reason"),
    EventType.RECORDING.value: ("reason",),
    EventType.ENQUEUE.value: ("priority", "position"),
    EventType.OFFER.value: ("wait",),
    EventType.RING_NOANSWER.value: ("ring", "wait", "reason"),
    EventType.CONNECT.value: ("wait", "ring"),
    EventType.HOLD.value: (),
    EventType.UNHOLD.value: ("hold",),
    EventType.TRANSFER.value: ("talk", "hold", "target", "target_type", "kind"),
    EventType.ABANDON.value: ("wait",),
    EventType.TIMEOUT.value: ("wait", "target", "target_type", "reason"),
    EventType.COMPLETE.value: ("by", "talk", "hold"),
    EventType.WRAPUP_END.value: ("acw",),
    EventType.CALLBACK_REQUEST.value: ("wait", "caller"),
    EventType.CALLBACK_MADE.value: ("wait",),
    EventType.AGENT_LOGIN.value: (),
    EventType.AGENT_LOGOUT.value: ("reason",),
    EventType.AGENT_STATE.value: ("state", "reason"),
    EventType.SUPERVISE.value: ("target", "reason"),
}
RAW_KEYS: Final[dict[str, tuple[str, ...]]] = {
    k: ("t", "type", "contact", "queue", "agent", *v) for k, v in EXTRAS_BY_TYPE.items()
}


def raw_to_dict(raw: RawEvent) -> dict[str, Any]:
    """The JSON object of a compact event (unset fields left out)."""
    return {k: v for k, v in zip(RAW_KEYS[raw[1]], raw, strict=False) if v is not None}


def event_from_raw(raw: RawEvent) -> Event:
    extras = dict(zip(EXTRAS_BY_TYPE[raw[1]], raw[5:], strict=True))
    return Event(raw[0], EventType(raw[1]), raw[2], raw[3], raw[4], **extras)


def event_to_raw(event: Event) -> RawEvent:
    names = EXTRAS_BY_TYPE[event.type.value]
    head = (event.t, event.type.value, event.contact, event.queue, event.agent)
    return head + tuple(getattr(event, n) for n in names)


class EventValidationError(ValueError):
    """An event record that does not fit the schema; the message names field and value."""


def _coerce(name: str, value: Any) -> Any:
    if name in _FLOAT_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise EventValidationError(f"field {name!r} must be a number, got {value!r}")
        if value != value or value in (float("inf"), float("-inf")):
            raise EventValidationError(f"field {name!r} must be finite, got {value!r}")
        if name != "t" and value < 0:
            raise EventValidationError(f"field {name!r} must be >= 0 seconds, got {value!r}")
        return float(value)
    if name in _INT_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise EventValidationError(f"field {name!r} must be an integer, got {value!r}")
        return value
    if not isinstance(value, str):
        raise EventValidationError(f"field {name!r} must be a string, got {value!r}")
    enum = _ENUM_FIELDS.get(name)
    if enum is not None and value not in enum._value2member_map_:
        allowed = ", ".join(m.value for m in enum)
        raise EventValidationError(f"field {name!r} must be one of {allowed}; got {value!r}")
    return value


def event_from_dict(data: dict[str, Any]) -> Event:
    """Build and validate an :class:`Event` from a decoded JSON object.

    Raises :class:`EventValidationError` naming the offending field and value.
    """
    if not isinstance(data, dict):
        raise EventValidationError(f"an event must be a JSON object, got {type(data).__name__}")
    raw_type = data.get("type")
    if raw_type is None:
        raise EventValidationError("missing field 'type'")
    try:
        etype = EventType(raw_type)
    except ValueError:
        raise EventValidationError(f"unknown event type {raw_type!r}") from None
    if "t" not in data:
        raise EventValidationError("missing field 't' (event time, epoch seconds)")
    allowed = FIELDS_BY_TYPE[etype]
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        if name == "type" or value is None:  # columnar writers spell unset fields as null
            continue
        if name != "t" and name not in allowed:
            raise EventValidationError(f"field {name!r} is not allowed on a {etype.value!r} event")
        kwargs[name] = _coerce(name, value)
    missing = REQUIRED_BY_TYPE[etype] - kwargs.keys()
    if missing:
        names = ", ".join(sorted(missing))
        raise EventValidationError(f"{etype.value!r} event is missing {names}")
    return Event(type=etype, **kwargs)


def validate_event(event: Event) -> Event:
    """Check an in-memory event against the schema (round-trips through the dict form)."""
    return event_from_dict({"type": event.type.value, **event.to_dict()})


__all__ = [
    "EXTRAS_BY_TYPE",
    "FIELDS_BY_TYPE",
    "FIELD_NAMES",
    "RAW_KEYS",
    "REQUIRED_BY_TYPE",
    "SCHEMA_NAME",
    "SCHEMA_VERSION",
    "STATE_AFTER_TYPE",
    "AgentState",
    "Channel",
    "Event",
    "EventType",
    "EventValidationError",
    "HangupBy",
    "RawEvent",
    "TargetType",
    "TransferKind",
    "agent_state_after",
    "event_from_dict",
    "event_from_raw",
    "event_to_raw",
    "raw_to_dict",
    "validate_event",
]
