"""The live engine's requests to the router, typed: one frozen dataclass per request.

:class:`~callcenter.live.engine.LiveEngine` logs every request it runs in
``engine_commands`` as a *name* (the :class:`~callcenter.routing.Router` method) and the
request's keyword arguments as JSON (enum values as their strings, ``now`` left out:
it is the row's ``t``), and replays the rows on start.  That stored form is unchanged;
this module is the typed side of it:

- :func:`decode` turns a stored or submitted ``(name, args)`` into a :data:`Command`
  (an unknown name raises :class:`RequestError`; an unknown or missing argument a
  ``TypeError``, a bad enum value a ``ValueError``, as a call with them would; on
  replay the engine reports either as a :class:`RequestError` naming the row);
- :func:`apply` runs a command on a router through the router's own typed method
  (a ``match`` over the command classes, checked exhaustive by mypy);
- :meth:`Request.args` gives a command's stored arguments back (defaults left out).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from enum import Enum
from typing import Any, ClassVar, Final, assert_never

from callcenter.events import HangupBy, TargetType, TransferKind
from callcenter.routing import Router


class RequestError(ValueError):
    """A request the engine cannot run: an unknown name (submitted, or read from the
    log), or a logged request whose arguments no longer decode."""


class Request:
    """Base of the command classes: the stored name and arguments."""

    __slots__ = ()
    NAME: ClassVar[str]
    __dataclass_fields__: ClassVar[dict[str, Any]]  # every subclass is a dataclass

    def args(self) -> dict[str, Any]:
        """The keyword arguments as stored in ``engine_commands`` (JSON values: enums as
        their strings; arguments left at their default are left out)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.default is MISSING or value != f.default:
                out[f.name] = value.value if isinstance(value, Enum) else value
        return out


@dataclass(frozen=True, slots=True)
class Login(Request):
    NAME: ClassVar[str] = "login"
    agent: str


@dataclass(frozen=True, slots=True)
class Logout(Request):
    NAME: ClassVar[str] = "logout"
    agent: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Pause(Request):
    NAME: ClassVar[str] = "pause"
    agent: str
    reason: str = "break"


@dataclass(frozen=True, slots=True)
class Unpause(Request):
    NAME: ClassVar[str] = "unpause"
    agent: str


@dataclass(frozen=True, slots=True)
class Arrive(Request):
    NAME: ClassVar[str] = "arrive"
    contact: str
    queue: str | None = None
    caller: str | None = None
    channel: str = "voice"
    priority: int = 0


@dataclass(frozen=True, slots=True)
class Enqueue(Request):
    NAME: ClassVar[str] = "enqueue"
    contact: str
    queue: str
    priority: int = 0


@dataclass(frozen=True, slots=True)
class Answer(Request):
    NAME: ClassVar[str] = "answer"
    contact: str


@dataclass(frozen=True, slots=True)
class Decline(Request):
    NAME: ClassVar[str] = "decline"
    contact: str


@dataclass(frozen=True, slots=True)
class Hold(Request):
    NAME: ClassVar[str] = "hold"
    contact: str


@dataclass(frozen=True, slots=True)
class Unhold(Request):
    NAME: ClassVar[str] = "unhold"
    contact: str


@dataclass(frozen=True, slots=True)
class Hangup(Request):
    NAME: ClassVar[str] = "hangup"
    contact: str
    by: HangupBy = HangupBy.CALLER
    wrapup: float | None = None


@dataclass(frozen=True, slots=True)
class EndWrapup(Request):
    NAME: ClassVar[str] = "end_wrapup"
    agent: str
    contact: str


@dataclass(frozen=True, slots=True)
class Transfer(Request):
    NAME: ClassVar[str] = "transfer"
    contact: str
    target: str
    target_type: TargetType = TargetType.QUEUE
    kind: TransferKind = TransferKind.BLIND
    wrapup: float | None = None


@dataclass(frozen=True, slots=True)
class Abandon(Request):
    NAME: ClassVar[str] = "abandon"
    contact: str


@dataclass(frozen=True, slots=True)
class Release(Request):
    """A contact that never queued leaves (its IVR ended it; the IVR logged how)."""

    NAME: ClassVar[str] = "release"
    contact: str


@dataclass(frozen=True, slots=True)
class Callback(Request):
    """The queued caller asks to be called back and keeps its place."""

    NAME: ClassVar[str] = "callback"
    contact: str


@dataclass(frozen=True, slots=True)
class Advance(Request):
    """Fire the timers due by the row's time (logged when they produced events)."""

    NAME: ClassVar[str] = "advance"


Command = (
    Login
    | Logout
    | Pause
    | Unpause
    | Arrive
    | Enqueue
    | Answer
    | Decline
    | Hold
    | Unhold
    | Hangup
    | EndWrapup
    | Transfer
    | Abandon
    | Release
    | Callback
    | Advance
)

COMMAND_TYPES: Final[dict[str, type[Command]]] = {
    c.NAME: c
    for c in (
        Login, Logout, Pause, Unpause, Arrive, Enqueue, Answer, Decline, Hold, Unhold,
        Hangup, EndWrapup, Transfer, Abandon, Release, Callback, Advance,
    )
}  # fmt: skip

# arguments stored as an enum's string value
_ENUM_ARGS: Final[dict[str, type[Enum]]] = {
    "by": HangupBy,
    "target_type": TargetType,
    "kind": TransferKind,
}


def decode(name: str, args: Mapping[str, Any]) -> Command:
    """The command a stored or submitted ``(name, args)`` stands for."""
    cls = COMMAND_TYPES.get(name)
    if cls is None:
        raise RequestError(f"unknown engine request {name!r}")
    kwargs: dict[str, Any] = {  # JSON values: the dataclass fields say what they must be
        k: (_ENUM_ARGS[k](v) if k in _ENUM_ARGS and v is not None else v) for k, v in args.items()
    }
    return cls(**kwargs)


def apply(router: Router, command: Command, now: float) -> None:
    """Run ``command`` on ``router`` at ``now`` (raises what the router raises)."""
    match command:
        case Login(agent):
            router.login(agent, now)
        case Logout(agent, reason):
            router.logout(agent, now, reason)
        case Pause(agent, reason):
            router.pause(agent, now, reason)
        case Unpause(agent):
            router.unpause(agent, now)
        case Arrive(contact, queue, caller, channel, priority):
            router.arrive(
                contact, now, queue=queue, caller=caller, channel=channel, priority=priority
            )
        case Enqueue(contact, queue, priority):
            router.enqueue(contact, queue, now, priority=priority)
        case Answer(contact):
            router.answer(contact, now)
        case Decline(contact):
            router.decline(contact, now)
        case Hold(contact):
            router.hold(contact, now)
        case Unhold(contact):
            router.unhold(contact, now)
        case Hangup(contact, by, wrapup):
            router.hangup(contact, now, by, wrapup)
        case EndWrapup(agent, contact):
            router.end_wrapup(agent, contact, now)
        case Transfer(contact, target, target_type, kind, wrapup):
            router.transfer(contact, now, target, target_type=target_type, kind=kind, wrapup=wrapup)
        case Abandon(contact):
            router.abandon(contact, now)
        case Release(contact):
            router.release(contact, now)
        case Callback(contact):
            router.request_callback(contact, now)
        case Advance():
            router.advance(now)
        case _:
            assert_never(command)


__all__ = [
    "COMMAND_TYPES",
    "Abandon",
    "Advance",
    "Answer",
    "Arrive",
    "Callback",
    "Command",
    "Decline",
    "EndWrapup",
    "Enqueue",
    "Hangup",
    "Hold",
    "Login",
    "Logout",
    "Pause",
    "Release",
    "Request",
    "RequestError",
    "Transfer",
    "Unhold",
    "Unpause",
    "apply",
    "decode",
]
