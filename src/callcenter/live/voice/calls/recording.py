"""The recording side of a call: each side on its own snoop channel from answer, the
``recording`` events, and the desk's pause and resume."""

from __future__ import annotations

import logging

import anyio

from callcenter.events import Event, EventType
from callcenter.live.voice.calls.base import (
    ControllerBase,
)
from callcenter.live.voice.model import Call, CallState, Side

log = logging.getLogger("callcenter.voice")


class RecordingSide(ControllerBase):
    """Recording a call."""

    async def _snoop_ready(self, contact: str, side: Side, channel: str) -> None:
        call = self.calls.get(contact)
        if call is None or call.state is not CallState.TALKING:
            await self.ari.hangup(channel)
            return
        name = f"{contact}-{side.value}"
        await self.ari.record(channel, name)
        call.recordings[side] = name
        if len(call.recordings) == len(Side):  # both sides: the recording has started
            await self._log_recording(call, "started")

    async def _log_recording(self, call: Call, what: str) -> None:
        event = Event(self.engine.clock(), EventType.RECORDING, call.contact, queue=call.queue,
                      agent=call.agent, reason=what)  # fmt: skip
        await anyio.to_thread.run_sync(self.engine.log, [event])

    async def set_recording_paused(self, contact: str, agent: str, paused: bool) -> bool:
        """The desk pauses (card numbers) or resumes the recording of ``agent``'s call:
        both sides are paused in Asterisk, the pause is logged and later becomes silence
        in the merged file. False when there is no such recording (not this agent's
        call, not recorded, already in that state)."""
        call = self.calls.get(contact)
        if (
            call is None
            or call.agent != agent
            or call.state is not CallState.TALKING
            or len(call.recordings) != len(Side)
            or call.answered_at is None
            or (call.paused_at is not None) == paused
        ):
            return False
        for name in call.recordings.values():
            if paused:
                await self.ari.pause_recording(name)
            else:
                await self.ari.unpause_recording(name)
        offset = self.engine.clock() - call.answered_at
        if paused:
            call.paused_at = offset
        else:
            assert call.paused_at is not None
            call.pauses.append((call.paused_at, offset))
            call.paused_at = None
        await self._log_recording(call, "paused" if paused else "resumed")
        return True
