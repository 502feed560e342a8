"""Blind transfers of a call: the desk hands the caller to a queue or to an agent.

The desk's transfer (``POST /api/desk/contacts/{id}/transfer``, the same route as a
chat's) is a router request: the router ends the first agent's leg (``transfer``, with
its talk and hold: that agent's handle time) and queues the contact again in the target
queue, or offers it at once to the target agent. Here, on the ``transfer`` event:

- the first agent's leg is hung up (it is no longer ours: no ``hangup`` follows);
- the caller waits in the target's holding bridge with music (announcements as in any
  queue wait), its call bridge kept for the next agent;
- the router's ``offer`` that follows rings the next agent as for a new call, and its
  answer joins the same bridge. The recording goes on: it is the caller's channel, so
  one file spans both agents and the wait between them (a ``transfer`` mark).
"""

from __future__ import annotations

import logging

from callcenter.events import Event, TargetType
from callcenter.live.voice.calls.waiting import WaitingSide
from callcenter.live.voice.model import Call, CallState, HeldBy

log = logging.getLogger("callcenter.voice")


class TransferSide(WaitingSide):
    """Handing a call to another queue or agent."""

    async def _transferred(self, call: Call, e: Event) -> None:
        if call.state is not CallState.TALKING or e.target is None:
            return
        leg, call.agent_channel = call.agent_channel, None
        if call.held_by is HeldBy.DESK and call.bridge is not None:
            await self.ari.stop_bridge_moh(call.bridge)
        call.state, call.agent, call.agent_answered, call.held_by = (
            CallState.QUEUED, None, False, None,
        )  # fmt: skip
        if e.target_type == TargetType.QUEUE.value:
            call.queue = e.target
            call.options = await self._look_up(self.routes.options_of_queue, e.target)
        if call.queue is not None:
            await self._hold(call, call.queue)  # music while the next agent is found
        if leg is not None and self._by_channel.pop(leg, None) is not None:
            await self.ari.hangup(leg)
        log.info("%s: transferred to %s %s", call.contact, e.target_type, e.target)
        if call.state is CallState.QUEUED:  # (the caller may have hung up meanwhile)
            self._queued(call)
