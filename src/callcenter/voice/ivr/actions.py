"""What the IVR runner asks of the call controller: typed actions, and the IVR events
the controller writes to the event log (with the contact id only it knows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from callcenter.events import Event, EventType


@dataclass(frozen=True, slots=True)
class Play:
    """Play ``prompts`` (catalogue names) one after the other in ``language``; report
    the end with ``on_played(token)``. An ``interruptible`` playback is stopped by the
    runner (:class:`StopPlay`) when the caller presses a key."""

    prompts: list[str]
    language: str
    token: str
    interruptible: bool


@dataclass(frozen=True, slots=True)
class StopPlay:
    """Stop the playback ``token`` (a key was pressed); no ``on_played`` is needed."""

    token: str


@dataclass(frozen=True, slots=True)
class StartTimer:
    """Call ``on_timer(token)`` after ``seconds``."""

    seconds: float
    token: str


@dataclass(frozen=True, slots=True)
class CancelTimer:
    token: str


@dataclass(frozen=True, slots=True)
class Record:
    """Record the caller (voicemail) for at most ``max_seconds`` after a beep (when
    ``beep``); ``terminator`` or hanging up ends it. Report the end with
    ``on_recorded(token)`` (or ``on_hangup``)."""

    max_seconds: float
    token: str
    terminator: str = "#"
    beep: bool = True


OutcomeKind = Literal["queue", "voicemail", "callback", "hangup", "abandon"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """How the call left the IVR. ``abandon``: the caller hung up in it.

    ``variables`` are the values collected (by variable name) and ``labels`` their
    labels for the agent's card; ``notice`` says the "this call is recorded" notice was
    played to its end."""

    kind: OutcomeKind
    node: str
    language: str
    queue: str | None = None
    priority: int = 0
    variables: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    notice: bool = False
    max_seconds: float | None = None  # voicemail: the longest message allowed


@dataclass(frozen=True, slots=True)
class Finish:
    """The IVR is over: do what ``outcome`` says (enqueue, keep the voicemail, request
    the callback, hang up)."""

    outcome: Outcome


@dataclass(frozen=True, slots=True)
class Log:
    """An IVR event to write: ``ivr_enter``, ``ivr_choice`` (``node``, ``value``: the
    key, the value entered, the language chosen, ``open``/``closed``, ``timeout`` or
    ``invalid``), ``ivr_leave`` (``value`` = the outcome kind, ``queue``)."""

    type: EventType
    t: float
    node: str | None = None
    value: str | None = None
    queue: str | None = None

    def event(self, contact: str) -> Event:
        """The event-log record of this for ``contact``."""
        if self.type is EventType.IVR_CHOICE:
            return Event(self.t, self.type, contact, target=self.node, reason=self.value)
        if self.type is EventType.IVR_LEAVE:
            return Event(self.t, self.type, contact, queue=self.queue, reason=self.value)
        return Event(self.t, self.type, contact)


Action = Play | StopPlay | StartTimer | CancelTimer | Record | Log | Finish
