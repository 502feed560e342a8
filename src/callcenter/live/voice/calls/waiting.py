"""The queue side of a call: the holding bridge, and what a waiting caller hears (place,
estimated wait, the callback offer; ``live/voice/waiting.py`` computes them)."""

from __future__ import annotations

import asyncio
import logging
from typing import Final

import anyio

from callcenter.live.voice.calls.base import (
    ControllerBase,
)
from callcenter.live.voice.model import Call, CallState
from callcenter.live.voice.waiting import (
    announcement,
    estimated_wait,
    position,
    serving,
)
from callcenter.voice.ari import AriError, AriUnavailableError

ANNOUNCEMENT_MAX_S: Final = 60.0
"""How long an announcement may take before the next interval starts anyway (its
``PlaybackFinished`` lost with a reconnect, say)."""

log = logging.getLogger("callcenter.voice")


class WaitingSide(ControllerBase):
    """Waiting in a queue."""

    async def _hold(self, call: Call, queue: str) -> None:
        async with self._bridge_lock:  # calls arrive side by side: one bridge per queue
            bridge = self._holding.get(queue)
            if bridge is None:
                bridge = await self.ari.create_bridge("holding", name=f"hold-{queue}")
                await self.ari.bridge_moh(bridge)
                self._holding[queue] = bridge
        await self.ari.add_to_bridge(bridge, [call.caller_channel])

    def _queued(self, call: Call) -> None:
        """The call waits in its queue now: announcements start. (Its state was set
        before the request: the router may offer it while the request still runs.)"""
        if call.options.announce_every_s > 0:
            call.announcer = asyncio.create_task(self._announce(call))

    async def _announce(self, call: Call) -> None:
        """After every ``announce_every_s`` of music: the caller's place and the estimated
        wait (and the callback offer), while the call waits (not while an agent's phone
        rings). The interval counts from the end of the last announcement, as
        ``app_queue``'s does: an interval shorter than the announcement would otherwise
        stack announcements up in Asterisk, back to back, with no music between."""
        every = call.options.announce_every_s
        while call.state in (CallState.QUEUED, CallState.RINGING):
            await asyncio.sleep(every)
            if call.state is not CallState.QUEUED:
                continue
            # the engine's lock and the database: never on the event loop
            media = await anyio.to_thread.run_sync(self._announcement, call)
            if media is None:
                continue
            if call.options.callback_digit and call.options.callback_prompt:
                media.append(self.routes.prompt_media(call.options.callback_prompt, call.language))
            try:
                call.playback = await self.ari.play(call.caller_channel, media, lang=call.language)
            except (AriError, AriUnavailableError) as e:
                log.info("%s: announcement not played: %s", call.contact, e)
                continue
            await self.media_done.wait([call.playback], ANNOUNCEMENT_MAX_S)

    def _announcement(self, call: Call) -> list[str] | None:
        place = position(self.engine, call.contact)
        if place is None or call.queue is None:
            return None
        agents = serving(self.engine, call.queue)
        return announcement(place, estimated_wait(place, agents, self.handle_times.aht(call.queue)))

    async def _stop_announcing(self, call: Call) -> None:
        if call.announcer is not None:
            call.announcer.cancel()
        if call.ivr is not None:
            call.ivr.stop()
            call.announcer = None
        if call.playback is not None:
            playback, call.playback = call.playback, None
            await self.ari.stop_playback(playback)
