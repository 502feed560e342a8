"""The call controller's vocabulary: a call's state and channels, and the configuration
it reads (where a number leads, a queue's voice settings, an agent's phone)."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from callcenter.voice.ari import Ari


class CallState(enum.Enum):
    QUEUED = "queued"
    RINGING = "ringing"
    TALKING = "talking"
    CALLBACK = "callback"  # the caller hung up to be called back; the place is kept
    ENDED = "ended"


class Side(enum.StrEnum):
    CALLER = "caller"
    AGENT = "agent"


@dataclass(frozen=True, slots=True)
class Entry:
    """Where a dialled number leads: its queue and the language callers hear."""

    queue: str
    language: str = "en"


@dataclass(frozen=True, slots=True)
class QueueVoice:
    """A queue's settings for calls."""

    announce_every_s: float = 30.0
    """Position and estimated wait told every this many seconds (0: never)."""
    callback_digit: str | None = None
    """The DTMF digit a waiting caller presses to be called back (None: not offered)."""
    callback_prompt: str | None = None
    """The prompt that offers it, played after each announcement (a center's own
    recording: Debian's prompts have none)."""
    record: bool = True
    """Calls of the queue are recorded."""


def _default_options(_queue: str) -> QueueVoice:
    return QueueVoice()


@dataclass(frozen=True, slots=True)
class Routes:
    """Where calls go: the lookups the controller needs from the configuration."""

    entry_of_number: Callable[[str], Entry | None]
    """Where a dialled number (DID) leads, or None for a number we do not serve."""
    endpoint_of_agent: Callable[[str], str | None]
    """The agent's phone as an ARI endpoint (``PJSIP/agent-sue``), or None."""
    options_of_queue: Callable[[str], QueueVoice] = _default_options


class Recorder(Protocol):
    """What happens to a call's two recordings once it has ended."""

    async def finish(self, ari: Ari, call: Call) -> None: ...


@dataclass(slots=True)
class Call:
    """One call's channels and where it is."""

    contact: str
    caller_channel: str
    caller: str | None
    number: str
    queue: str
    language: str = "en"
    options: QueueVoice = field(default_factory=QueueVoice)
    state: CallState = CallState.QUEUED
    agent: str | None = None
    agent_channel: str | None = None
    agent_answered: bool = False
    bridge: str | None = None
    legs: int = 0  # agent legs originated so far (each gets its own channel id)
    answered_at: float | None = None
    recordings: dict[Side, str] = field(default_factory=dict)
    pauses: list[tuple[float, float]] = field(default_factory=list)
    announcer: asyncio.Task[None] | None = None
    playback: str | None = None  # the announcement being played to the caller


__all__ = ["Call", "CallState", "Entry", "QueueVoice", "Recorder", "Routes", "Side"]
