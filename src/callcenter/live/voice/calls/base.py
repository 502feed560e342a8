"""The controller's ground floor: its state, the engine requests it makes, its tasks.

:class:`ControllerBase` holds what every part of the controller shares (the engine, the
ARI client, the lookups, the calls by contact and by channel) and the few steps they all
take (an engine request in a worker thread, the router's view of a contact, a guarded
background task); :mod:`.controller` joins it with the queue side (:mod:`.waiting`), the
IVR side (:mod:`.ivr`) and the recording side (:mod:`.recording`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Final, TypeVar, cast

import anyio

from callcenter.crm.service import DEFAULT_REGION, normalize_phone
from callcenter.errors import UserError
from callcenter.events import Event
from callcenter.live.commands import (
    Command,
)
from callcenter.live.desk.views import contact_state
from callcenter.live.engine import Applied, Extra, LiveEngine
from callcenter.live.voice.model import (
    NOT_KEPT,
    Call,
    CallState,
    MediaWatch,
    Recorder,
    Routes,
    Side,
)
from callcenter.live.voice.voicemail import VoicemailKeeper
from callcenter.live.voice.waiting import (
    HandleTimes,
)
from callcenter.routing import RoutingError
from callcenter.voice.ari import Ari, AriEvent

log = logging.getLogger("callcenter.voice")
T = TypeVar("T")

CALL_PREFIX: Final = "call-"
CONTACT_ID_LENGTH: Final = len(CALL_PREFIX) + 12  # "call-" and 12 hex digits
AGENT_LEG: Final = "agent"  # StasisStart args of a leg we originated to an agent
SNOOP_LEG: Final = "snoop"  # StasisStart args of a recording snoop channel
PHONE_PAUSE: Final = "phone"  # the pause reason of an agent whose phone refused a call
CAUSE_REJECTED: Final = 21  # Q.850 "call rejected": a phone's 603 Decline
CONTACT_HEADER: Final = "X-Callcenter-Contact"  # on the INVITE to an agent: which contact
ORIGINATE_TIMEOUT_S: Final = 120  # the router's ring timeout ends a ring long before


class ControllerBase:
    """What every part of the call controller shares."""

    def __init__(
        self,
        engine: LiveEngine,
        ari: Ari,
        routes: Routes,
        *,
        app: str = "callcenter",
        recorder: Recorder | None = None,
        voicemail: VoicemailKeeper | None = None,
        record: bool = True,
        phone_region: str = DEFAULT_REGION,
        recordings_dir: Path | None = None,
    ) -> None:
        self.engine = engine
        self.ari = ari
        self.routes = routes
        self.app = app
        self.recorder = recorder
        self.voicemail = voicemail
        self.record = record
        self.phone_region = phone_region
        self.recordings_dir = recordings_dir  # Asterisk's own, when on this machine
        self.calls: dict[str, Call] = {}  # by contact id
        self._by_channel: dict[str, tuple[Call, Side]] = {}
        self._supervisors: dict[str, Call] = {}  # a supervisor's phone leg -> its call
        self._holding: dict[str, str] = {}  # queue -> its holding bridge
        self._causes: dict[str, int] = {}  # channel -> the hang-up cause it announced
        self._lanes: dict[str, deque[AriEvent]] = {}  # a call's ARI events, in order
        self._lane_tasks: set[asyncio.Task[None]] = set()
        self._bridge_lock = asyncio.Lock()  # one holding bridge per queue, made once
        self._loop: asyncio.AbstractEventLoop | None = None
        self._engine_events: asyncio.Queue[list[Event]] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self.handle_times = HandleTimes(engine)
        self.media_done = MediaWatch()

    def listener(self, applied: Applied) -> None:
        """The engine listener (any thread): hand the router's events to the loop."""
        loop = self._loop
        if loop is None or not any(e.contact in self.calls for e in applied.events):
            return
        loop.call_soon_threadsafe(self._engine_events.put_nowait, applied.events)

    async def _request(self, command: Command, extra: Extra | None = None) -> bool:
        """Run an engine request in a worker thread; False if the router refused it."""
        try:
            await anyio.to_thread.run_sync(partial(self.engine.request, command, extra=extra))
        except RoutingError as e:
            log.info("router refused %s: %s", command.NAME, e)
            return False
        return True

    async def _look_up(self, lookup: Callable[[str], T], key: str) -> T:
        """``lookup(key)`` (one of the routes' table reads): what the routes still hold,
        else read in a worker thread."""
        value = self.routes.kept(lookup.__name__, key)
        if value is not NOT_KEPT:
            return cast(T, value)
        return await anyio.to_thread.run_sync(lookup, key)

    async def _state(self, contact: str) -> tuple[str | None, str | None]:
        """The contact's state in the router, read under the engine's lock: here when
        the lock is free (it is held for microseconds per decision), else in a thread
        (never wait for a lock on the event loop)."""
        lock = self.engine.lock
        if lock.acquire(blocking=False):
            try:
                return contact_state(self.engine, contact)
            finally:
                lock.release()
        return await anyio.to_thread.run_sync(contact_state, self.engine, contact)

    def spawn(self, job: Awaitable[None]) -> None:
        """Run ``job`` in the background, its failure logged (for :class:`IvrCall`)."""
        self._spawn(job)

    def _spawn(self, job: Awaitable[None]) -> None:
        async def guarded() -> None:
            try:
                await job
            except Exception:
                log.exception("after the call")

        task = asyncio.create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _forget(self, call: Call) -> None:
        self.calls.pop(call.contact, None)
        self._by_channel.pop(call.caller_channel, None)

    async def drain(self) -> None:
        """Wait for the after-call jobs (recordings) still running."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # the controller's own steps, used by the sides (defined in .controller / .waiting)

    async def _end(self, call: Call) -> None:
        raise NotImplementedError

    async def _hold(self, call: Call, queue: str) -> None:
        raise NotImplementedError

    def _queued(self, call: Call) -> None:
        raise NotImplementedError

    async def _stop_announcing(self, call: Call) -> None:
        raise NotImplementedError

    async def _voicemail_after_wait(self, call: Call) -> None:
        raise NotImplementedError


def still_ringing(call: Call, leg: str) -> bool:
    """Whether ``leg`` is still the call's ringing (or just answered) agent leg: read
    after an ``await``, when the call may have moved on."""
    return call.agent_channel == leg and call.state in (CallState.RINGING, CallState.TALKING)


def phone_of(number: str, region: str = DEFAULT_REGION) -> str | None:
    """The caller's number in E.164 when it is a telephone number, else None (a
    withheld or non-numeric caller id: ``anonymous``, a SIP user name). A national
    number (``89161234567``, or ``79161234567`` without its ``+``) is read in
    ``region``, the center's ``phone_region``."""
    number = number.strip()
    if not number:
        return None
    try:
        return normalize_phone(number, region)
    except UserError:
        return None


def caller_of(number: str, region: str = DEFAULT_REGION) -> str | None:
    """The caller as the event log keeps it: E.164, or the number's own digits."""
    phone = phone_of(number, region)
    if phone is not None:
        return phone
    digits = number.strip()
    return digits if digits.lstrip("+").isdigit() else None
