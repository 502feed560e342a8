"""One call in an IVR flow: the runner's actions as ARI requests, ARI's events back in.

:class:`~callcenter.voice.ivr.runner.IvrRun` is a pure state machine (``docs/ivr.md``):
given the caller's keys, the ends of prompts and timers, it answers with typed actions.
:class:`IvrCall` carries them out for one call on one Asterisk:

===============  ============================================================================
action           what is done
===============  ============================================================================
``Log``          the IVR's events (``ivr_enter``, ``ivr_choice``, ``ivr_leave``) written with
                 :meth:`LiveEngine.log`, in order, before anything else of the same step
``Play``         ARI ``play`` of the prompts (their media from the prompt catalogue) with the
                 playback id ``<contact>-<token>``; ``PlaybackFinished`` → ``on_played``
``StopPlay``     ARI ``DELETE /playbacks/<contact>-<token>``
``StartTimer``   an event-loop timer → ``on_timer``; ``CancelTimer`` cancels it
``Record``       ARI ``record`` of the caller (the voicemail), ``#`` ends it;
                 ``RecordingFinished`` → ``on_recorded``
``Finish``       the controller takes the call on (queue, callback, voicemail, hang up)
===============  ============================================================================

Each step (one input to the runner and its actions) holds the call's lock, so a timer
firing while a key is handled cannot interleave their prompts.  The runner runs in a
worker thread: its business-hours check may read the database.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import anyio

from callcenter.events import Event
from callcenter.live.engine import LiveEngine
from callcenter.voice.ari import Ari
from callcenter.voice.ivr.actions import (
    Action,
    CancelTimer,
    Finish,
    Log,
    Outcome,
    Play,
    Record,
    StartTimer,
    StopPlay,
)
from callcenter.voice.ivr.runner import IvrRun

log = logging.getLogger("callcenter.voice")

VOICEMAIL_SUFFIX = "-voicemail"
"""A call's voicemail is the ARI recording ``<contact id>-voicemail``."""


class IvrHost(Protocol):
    """What an IVR call needs from the controller."""

    ari: Ari
    engine: LiveEngine

    def spawn(self, job: Awaitable[None]) -> None: ...

    async def ivr_finished(self, contact: str, outcome: Outcome, voicemail: str | None) -> None:
        """The flow ended: queue the call, keep the voicemail, hang up… (``voicemail``:
        the ARI recording name of the message, when one was recorded)."""
        ...


@dataclass(slots=True)
class IvrCall:
    """The IVR part of one call (see the module's text)."""

    host: IvrHost
    contact: str
    channel: str
    run: IvrRun
    media: Callable[[str, str], str]
    """A prompt's ARI media URI: ``media(name, language)``."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    timers: dict[str, asyncio.TimerHandle] = field(default_factory=dict)
    playbacks: dict[str, str] = field(default_factory=dict)  # ARI playback id -> token
    recording: tuple[str, str] | None = None  # (ARI recording name, token)
    voicemail: str | None = None  # the recording name once a message was recorded
    finished: bool = False

    # ------------------------------------------------------------------ inputs

    async def start(self) -> None:
        await self._step(self.run.start)

    async def digit(self, digit: str) -> None:
        await self._step(lambda now: self.run.on_digit(digit, now))

    async def played(self, playback_id: str) -> None:
        token = self.playbacks.pop(playback_id, None)
        if token is not None:
            await self._step(lambda now: self.run.on_played(token, now))

    async def recorded(self, name: str) -> None:
        if self.recording is not None and self.recording[0] == name:
            token = self.recording[1]
            self.recording = None
            self.voicemail = name
            await self._step(lambda now: self.run.on_recorded(token, now))

    async def hangup(self) -> None:
        """The caller hung up: the flow ends (abandoned, or with the voicemail)."""
        if self.recording is not None:
            self.voicemail = self.recording[0]
        await self._step(self.run.on_hangup)

    def stop(self) -> None:
        """The call is over: nothing more fires."""
        self.finished = True
        for handle in self.timers.values():
            handle.cancel()
        self.timers.clear()

    def _timer(self, token: str) -> None:
        self.timers.pop(token, None)
        self.host.spawn(self._step(lambda now: self.run.on_timer(token, now)))

    # ------------------------------------------------------------------ one step

    async def _step(self, feed: Callable[[float], list[Action]]) -> None:
        async with self.lock:
            if self.finished:
                return
            now = self.host.engine.clock()
            actions = await anyio.to_thread.run_sync(feed, now)
            await self._do(actions)

    async def _do(self, actions: list[Action]) -> None:
        events: list[Event] = [a.event(self.contact) for a in actions if isinstance(a, Log)]
        if events:
            await anyio.to_thread.run_sync(self.host.engine.log, events)
        outcome: Outcome | None = None
        ari = self.host.ari
        for a in actions:
            match a:
                case Play(prompts, language, token, _):
                    pid = f"{self.contact}-{token}"
                    self.playbacks[pid] = token
                    media = [self.media(p, language) for p in prompts]
                    await ari.play(self.channel, media, playback_id=pid, lang=language)
                case StopPlay(token):
                    pid = f"{self.contact}-{token}"
                    self.playbacks.pop(pid, None)
                    await ari.stop_playback(pid)
                case StartTimer(seconds, token):
                    loop = asyncio.get_running_loop()
                    self.timers[token] = loop.call_later(seconds, self._timer, token)
                case CancelTimer(token):
                    handle = self.timers.pop(token, None)
                    if handle is not None:
                        handle.cancel()
                case Record(max_seconds, token, terminator, beep):
                    name = f"{self.contact}{VOICEMAIL_SUFFIX}"
                    self.recording = (name, token)
                    await ari.record(
                        self.channel,
                        name,
                        max_duration_s=math.ceil(max_seconds),
                        beep=beep,
                        terminate_on=terminator,
                        if_exists="overwrite",
                    )
                case Finish(done):
                    outcome = done
                case Log():
                    pass
        if outcome is not None:
            self.stop()
            await self.host.ivr_finished(self.contact, outcome, self.voicemail)


__all__ = ["VOICEMAIL_SUFFIX", "IvrCall", "IvrHost"]
