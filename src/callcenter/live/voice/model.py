"""The call controller's vocabulary: a call's state and channels, and the configuration
it reads (where a number leads, a queue's voice settings, an agent's phone)."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Protocol

if TYPE_CHECKING:
    from pathlib import Path

    from callcenter.live.voice.ivr_call import IvrCall
    from callcenter.storage.audit import Actor
    from callcenter.voice.ari import Ari
    from callcenter.voice.ivr.model import Flow


class CallState(enum.Enum):
    IVR = "ivr"  # in an IVR flow, not queued yet
    QUEUED = "queued"
    RINGING = "ringing"
    TALKING = "talking"
    CALLBACK = "callback"  # the caller hung up to be called back; the place is kept
    VOICEMAIL = "voicemail"  # waited the queue's maximum: leaving a message
    ENDED = "ended"


class Side(enum.StrEnum):
    """A channel's part in a call (and a recording's half: ``caller`` is what the caller
    said, ``agent`` what the caller heard — the agent, and the music while on hold)."""

    CALLER = "caller"
    AGENT = "agent"


class HeldBy(enum.StrEnum):
    """Who put a call on hold, and so who takes it off."""

    DESK = "desk"  # the desk's Hold button: our controller plays the music
    PHONE = "phone"  # the agent's SIP phone (a re-INVITE): Asterisk plays it


@dataclass(frozen=True, slots=True)
class Entry:
    """Where a dialled number leads: its queue and the language callers hear."""

    queue: str | None = None
    """The queue a number leads to straight away (None: its ``flow`` decides)."""
    flow: str | None = None
    """The IVR flow a number leads to."""
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


def _no_flow(_name: str) -> Flow | None:
    return None


def _always_open(_name: str, _t: float) -> bool:
    return True


NOT_KEPT: Final = object()
"""What :attr:`Routes.kept` answers for a lookup it has not kept."""


def _nothing_kept(_lookup: str, _key: str) -> object:
    return NOT_KEPT


def _debian_prompt(name: str, _language: str) -> str:
    return f"sound:{name}"  # Asterisk looks it up in its sounds folder, by the language


@dataclass(frozen=True, slots=True)
class Routes:
    """Where calls go: the lookups the controller needs from the configuration."""

    entry_of_number: Callable[[str], Entry | None]
    """Where a dialled number (DID) leads, or None for a number we do not serve."""
    endpoint_of_agent: Callable[[str], str | None]
    """The agent's phone as an ARI endpoint (``PJSIP/agent-sue``), or None."""
    options_of_queue: Callable[[str], QueueVoice] = _default_options
    flow_of_name: Callable[[str], Flow | None] = _no_flow
    """An IVR flow by name (checked when it was saved), or None."""
    hours_open: Callable[[str, float], bool] = _always_open
    """Whether the business hours ``name`` are open at a time (IVR ``hours`` nodes)."""
    prompt_media: Callable[[str, str], str] = _debian_prompt
    """A prompt's ARI media URI: ``prompt_media(name, language)``."""
    kept: Callable[[str, str], object] = _nothing_kept
    """``kept(lookup, key)``: what ``entry_of_number``, ``options_of_queue`` or
    ``endpoint_of_agent`` (the lookup's name) answered for ``key`` and still holds, or
    :data:`NOT_KEPT` — asked first on the event loop, so a call does not wait for a
    worker thread to learn what it already knows."""


class MediaWatch:
    """Which recordings and playbacks Asterisk has finished (its ``RecordingFinished`` /
    ``RecordingFailed`` / ``PlaybackFinished`` events), so an after-call job waits for
    an event instead of asking ARI every 50 ms, and a waiting caller's next announcement
    comes a full interval of music after the last one ended.

    A recording may close before anyone waits for it (the agent hangs up first: that
    side's snoop ends with it), so finished names are kept until waited for; the oldest
    are forgotten beyond ``keep`` (media nobody waits for: voicemail, IVR prompts).
    """

    def __init__(self, keep: int = 4096) -> None:
        self._closed: dict[str, None] = {}  # insertion-ordered: the oldest first
        self._waiting: dict[str, asyncio.Future[None]] = {}
        self._keep = keep

    def closed(self, name: str) -> None:
        waiter = self._waiting.pop(name, None)
        if waiter is not None:
            if not waiter.done():
                waiter.set_result(None)
            return
        self._closed[name] = None
        while len(self._closed) > self._keep:
            del self._closed[next(iter(self._closed))]

    async def wait(self, names: list[str], timeout_s: float) -> list[str]:
        """Wait until every one of ``names`` has closed; the names still open after
        ``timeout_s``."""
        loop = asyncio.get_running_loop()
        pending: dict[str, asyncio.Future[None]] = {}
        for name in names:
            if self._closed.pop(name, 0) is None:
                continue  # closed already
            pending[name] = self._waiting[name] = loop.create_future()
        try:
            if pending:
                await asyncio.wait(pending.values(), timeout=timeout_s)
        finally:  # also when the waiter is cancelled (a caller connected mid-announcement)
            for name in pending:
                self._waiting.pop(name, None)
        return [name for name, f in pending.items() if not f.done()]


class Recorder(Protocol):
    """What happens to a call's two recordings once it has ended (``watch`` says when
    Asterisk has closed them; ``local``: the folder Asterisk records into when it runs
    on this machine, else None)."""

    async def finish(
        self, ari: Ari, call: Call, watch: MediaWatch, local: Path | None = None
    ) -> None: ...


class Mode(enum.StrEnum):
    """How a supervisor is on a call."""

    LISTEN = "listen"  # hears the caller and the agent; neither hears the supervisor
    WHISPER = "whisper"  # hears both; only the agent hears the supervisor
    BARGE = "barge"  # in the conversation: everyone hears everyone


@dataclass(slots=True)
class Supervision:
    """A supervisor on a call: the supervisor's phone leg, the private bridge it shares
    with a snoop on the agent's channel (listen, whisper), and what it is doing."""

    supervisor: str
    mode: Mode
    leg: str  # the supervisor's phone channel (ours)
    answered: bool = False
    bridge: str | None = None  # the supervisor's own mixing bridge (listen, whisper)
    snoop: str | None = None  # the snoop on the agent's channel in that bridge
    in_own_bridge: bool = False  # the leg is in ``bridge`` (not in the call's: barge)
    snoops: int = 0  # snoops made so far (each gets its own channel id)
    actor: Actor | None = None  # who started it (a stop by hang-up is logged as theirs)


@dataclass(slots=True)
class Call:
    """One call's channels and where it is."""

    contact: str
    caller_channel: str
    caller: str | None
    number: str
    queue: str | None
    language: str = "en"
    options: QueueVoice = field(default_factory=QueueVoice)
    state: CallState = CallState.QUEUED
    agent: str | None = None
    agent_channel: str | None = None
    agent_answered: bool = False
    bridge: str | None = None
    held_by: HeldBy | None = None  # on hold, and by whom
    supervision: Supervision | None = None  # a supervisor on the call
    snooped: bool = False  # the recording's snoops were asked for (once per call)
    legs: int = 0  # agent legs originated so far (each gets its own channel id)
    answered_at: float | None = None
    recordings: dict[Side, str] = field(default_factory=dict)
    pauses: list[tuple[float, float]] = field(default_factory=list)
    """The desk's pauses of the recording: (start, end) seconds from answer."""
    paused_at: float | None = None  # the recording is paused since (seconds from answer)
    announcer: asyncio.Task[None] | None = None
    playback: str | None = None  # the announcement being played to the caller
    ivr: IvrCall | None = None  # while the call is in an IVR flow
    message: str | None = None  # the voicemail's ARI recording name, once it records


__all__ = [
    "Call",
    "CallState",
    "Entry",
    "HeldBy",
    "Mode",
    "QueueVoice",
    "Recorder",
    "Routes",
    "Side",
    "Supervision",
]
