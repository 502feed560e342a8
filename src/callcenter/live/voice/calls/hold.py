"""Hold: the desk's Hold button and a SIP desk phone's own hold.

**From the desk** (:meth:`HoldSide.set_held`): the agent's leg leaves the call's mixing
bridge and the bridge plays music on hold, so the caller hears music and the agent
nothing (neither the music nor the caller); off hold, the music stops and the agent's leg
joins again. The agent's leg is taken out *before* the music starts and put back *after*
it stops, so the agent never hears a bar of it.

**From a SIP phone** (its hold key: a re-INVITE, ``sendonly``): Asterisk itself starts
music on hold on the caller's channel (the hold indication crosses the bridge;
``chan_pjsip`` with ``moh_passthrough`` off) and tells us with ``ChannelHold`` on the
agent's channel; we only log the span. Each way takes the call off hold its own way:
the desk cannot take off a hold the phone put on (and says so).

Either way the router logs ``hold`` / ``unhold`` (the span counts in the agent's handle
time, ``docs/kpis.md``), and since the recording's agent half is what the caller heard
(a ``spy=out`` snoop on the caller's channel), the music is in the recording for exactly
the span — which the recording's marks (``GET /api/contacts/{id}/recording/marks``) name.
"""

from __future__ import annotations

import logging

from callcenter.errors import ConflictError
from callcenter.live.commands import Hold, Unhold
from callcenter.live.voice.calls.base import ControllerBase
from callcenter.live.voice.model import Call, CallState, HeldBy, Side

log = logging.getLogger("callcenter.voice")


class HoldSide(ControllerBase):
    """Putting calls on hold and taking them off."""

    def _held_call(self, contact: str, agent: str) -> Call:
        call = self.calls.get(contact)
        if call is None or call.agent != agent or call.state is not CallState.TALKING:
            raise ConflictError(f"contact {contact!r}: not your call in progress")
        if call.bridge is None or call.agent_channel is None:
            raise ConflictError(f"contact {contact!r}: the call is not connected yet")
        return call

    async def set_held(self, contact: str, agent: str, held: bool) -> None:
        """The desk puts ``agent``'s call on hold (music to the caller, nothing to the
        agent) or takes it off. Raises :class:`ConflictError` when that cannot be done
        now: not this agent's call in progress, already in that state, or held on the
        agent's phone (taken off there)."""
        call = self._held_call(contact, agent)
        if call.held_by is HeldBy.PHONE:
            raise ConflictError(
                f"contact {contact!r}: the call was put on hold on your phone; take it off "
                "hold there"
            )
        if (call.held_by is not None) == held:
            raise ConflictError(
                f"contact {contact!r}: the call is {'already' if held else 'not'} on hold"
            )
        bridge, leg = call.bridge, call.agent_channel
        assert bridge is not None and leg is not None  # _held_call checked
        if held:
            if not await self._request(Hold(contact=contact)):
                raise ConflictError(f"contact {contact!r}: the router has no talk to hold")
            call.held_by = HeldBy.DESK
            await self.ari.remove_from_bridge(bridge, [leg])
            await self.ari.bridge_moh(bridge)
        else:
            await self.ari.stop_bridge_moh(bridge)
            await self.ari.add_to_bridge(bridge, [leg])
            call.held_by = None
            await self._request(Unhold(contact=contact))
        log.info("%s: %s by %s's desk", contact, "held" if held else "taken off hold", agent)

    async def _phone_hold(self, channel: str, held: bool) -> None:
        """``ChannelHold`` / ``ChannelUnhold``: only an agent's phone holding its own call
        in progress counts (a caller's phone holding us is the caller's business)."""
        found = self._by_channel.get(channel)
        if found is None or found[1] is not Side.AGENT or channel != found[0].agent_channel:
            return
        call = found[0]
        if call.state is not CallState.TALKING:
            return
        if held and call.held_by is None:
            call.held_by = HeldBy.PHONE
            await self._request(Hold(contact=call.contact))
        elif not held and call.held_by is HeldBy.PHONE:
            call.held_by = None
            await self._request(Unhold(contact=call.contact))
