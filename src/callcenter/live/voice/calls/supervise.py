"""Supervision of a call: a supervisor listens, whispers to the agent, or barges in.

The supervisor's phone (a device of their own: ``voice_devices`` belong to users) is rung
with the agent's name as caller id; once it answers:

- **listen**: a snoop on the agent's channel (``spy=both``: what the agent says and what
  the agent hears) and the supervisor's leg share a private mixing bridge — the
  supervisor hears both sides; the snoop takes no audio back (``whisper=none``), so
  nobody hears the supervisor;
- **whisper**: the same with ``whisper=out`` — the supervisor's audio is written *to* the
  agent's channel (``res_stasis_snoop``: an audiohook on the channel's write direction),
  which only the agent's phone plays. Nothing of it enters the call's bridge, so the caller
  cannot hear it — the known Asterisk pitfall is ``whisper=in`` or ``both``, which inject
  it into what the agent *says*;
- **barge**: the supervisor's leg joins the call's own bridge: everyone hears everyone.

A switch between listen and whisper makes a new snoop (ARI cannot change one) and hangs
the old one up once the new is in the bridge, so the supervisor hears no gap; barge moves
the leg into the call's bridge and back. Every start, switch and stop is a ``supervise``
event (``reason`` = the mode or ``stop``, ``target`` = the supervisor) and an audit entry
``call.supervise``, logged together; the recording's marks name each span. The recording
is what the caller heard, so a whisper is never in it and a barge is.
"""

from __future__ import annotations

import logging
from typing import Final

import anyio
from sqlalchemy.orm import Session

from callcenter.errors import ConflictError
from callcenter.events import Event, EventType
from callcenter.live.voice.calls.base import ORIGINATE_TIMEOUT_S, ControllerBase
from callcenter.live.voice.model import Call, CallState, Mode, Supervision
from callcenter.storage.audit import Actor, AuditAction, record
from callcenter.voice.ari import AriError, Spy

log = logging.getLogger("callcenter.voice")

SUPERVISOR_LEG: Final = "supervisor"  # StasisStart args of a supervisor's phone leg
SUPERVISOR_SNOOP: Final = "supervisor-snoop"  # ... of the snoop a supervisor listens on
STOP: Final = "stop"
SUPERVISE_HEADER: Final = "X-Callcenter-Supervise"  # on the INVITE to a supervisor: whose call


class SupervisionSide(ControllerBase):
    """Supervisors on calls."""

    def _call_of_agent(self, agent: str) -> Call:
        for call in self.calls.values():
            if call.agent == agent and call.state is CallState.TALKING:
                return call
        raise ConflictError(f"agent {agent!r} is not on a call now")

    async def supervise(self, agent: str, supervisor: str, mode: Mode, actor: Actor) -> str:
        """Start or switch ``supervisor`` on ``agent``'s call in progress; the contact id.
        Raises :class:`ConflictError` with the reason when it cannot be done now."""
        call = self._call_of_agent(agent)
        if call.agent_channel is None or call.bridge is None:
            raise ConflictError(f"agent {agent!r}: the call is not connected yet")
        sup = call.supervision
        if sup is not None and sup.supervisor != supervisor:
            raise ConflictError(
                f"agent {agent!r}: {sup.supervisor} is already on this call ({sup.mode.value})"
            )
        if sup is None:
            await self._ring_supervisor(call, supervisor, mode, actor)
        elif sup.mode is not mode:
            if sup.answered:
                await self._apply(call, sup, mode)
            before, sup.mode = sup.mode.value, mode
            sup.actor = actor
            await self._log_supervise(call, sup, mode.value, before)
        return call.contact

    async def stop_supervising(self, agent: str, supervisor: str, actor: Actor) -> str:
        """``supervisor`` leaves ``agent``'s call; the contact id."""
        call = self._call_of_agent(agent)
        sup = call.supervision
        if sup is None or sup.supervisor != supervisor:
            raise ConflictError(f"agent {agent!r}: you are not on this call")
        sup.actor = actor
        await self._end_supervision(call)
        return call.contact

    async def _ring_supervisor(self, call: Call, supervisor: str, mode: Mode, actor: Actor) -> None:
        endpoint = await self._look_up(self.routes.endpoint_of_agent, supervisor)
        if endpoint is None:
            raise ConflictError(
                f"{supervisor} has no phone to listen on; an administrator gives one in "
                "Telephony → phones"
            )
        call.legs += 1
        leg = f"{call.contact}-sup{call.legs}"
        sup = Supervision(supervisor, mode, leg, actor=actor)
        call.supervision = sup
        self._supervisors[leg] = call
        try:
            await self.ari.originate(
                endpoint, app=self.app, app_args=[SUPERVISOR_LEG, call.contact],
                channel_id=leg, caller_id=f"{call.agent} <{call.agent}>",
                timeout_s=ORIGINATE_TIMEOUT_S,
                # the wallboard's browser phone answers a call carrying it at once
                variables={f"PJSIP_HEADER(add,{SUPERVISE_HEADER})": call.agent or ""},
            )  # fmt: skip
        except AriError as err:
            self._supervisors.pop(leg, None)
            call.supervision = None
            raise ConflictError(f"{supervisor}'s phone {endpoint}: {err.message}") from None
        await self._log_supervise(call, sup, mode.value, None)

    async def _supervisor_answered(self, contact: str, channel: str) -> None:
        call = self.calls.get(contact)
        sup = call.supervision if call is not None else None
        if call is None or sup is None or sup.leg != channel or call.state is not CallState.TALKING:
            self._supervisors.pop(channel, None)
            await self.ari.hangup(channel)
            return
        sup.answered = True
        await self._apply(call, sup, sup.mode)

    async def _apply(self, call: Call, sup: Supervision, mode: Mode) -> None:
        """Put the supervisor's leg where ``mode`` wants it (answered legs only)."""
        if mode is Mode.BARGE:
            assert call.bridge is not None
            await self.ari.add_to_bridge(call.bridge, [sup.leg])  # leaves its own bridge
            sup.in_own_bridge = False
            await self._drop_snoop(sup)
            return
        assert call.agent_channel is not None
        if sup.bridge is None:
            sup.bridge = await self.ari.create_bridge("mixing", name=f"sup-{call.contact}")
        sup.snoops += 1
        whisper: Spy = "out" if mode is Mode.WHISPER else "none"
        # the snoop joins the supervisor's bridge once it is in our application
        # (_supervisor_snoop_ready); the old one goes then, so there is no gap
        await self.ari.snoop(
            call.agent_channel, app=self.app, spy="both", whisper=whisper,
            app_args=[SUPERVISOR_SNOOP, call.contact, str(sup.snoops)],
            snoop_id=f"{call.contact}-spy{sup.snoops}",
        )  # fmt: skip

    async def _supervisor_snoop_ready(self, contact: str, number: str, channel: str) -> None:
        call = self.calls.get(contact)
        sup = call.supervision if call is not None else None
        if call is None or sup is None or sup.bridge is None or str(sup.snoops) != number:
            await self.ari.hangup(channel)  # ended, or switched again meanwhile
            return
        # (the leg may be in the call's bridge, barging: adding it moves it here)
        joining = [channel] if sup.in_own_bridge else [channel, sup.leg]
        await self.ari.add_to_bridge(sup.bridge, joining)
        sup.in_own_bridge = True
        await self._drop_snoop(sup)
        sup.snoop = channel

    async def _drop_snoop(self, sup: Supervision) -> None:
        old, sup.snoop = sup.snoop, None
        if old is not None:
            await self.ari.hangup(old)

    async def _end_supervision(self, call: Call) -> None:
        """The supervisor leaves (stop, hung up, or the call ended): legs and bridge go."""
        sup, call.supervision = call.supervision, None
        if sup is None:
            return
        self._supervisors.pop(sup.leg, None)
        await self._drop_snoop(sup)
        await self.ari.hangup(sup.leg)
        if sup.bridge is not None:
            await self.ari.destroy_bridge(sup.bridge)
        await self._log_supervise(call, sup, STOP, sup.mode.value)

    async def _supervisor_left(self, channel: str) -> None:
        call = self._supervisors.pop(channel, None)
        if call is not None and call.supervision is not None and call.supervision.leg == channel:
            await self._end_supervision(call)

    async def _log_supervise(
        self, call: Call, sup: Supervision, what: str, before: str | None
    ) -> None:
        """The step as a ``supervise`` event and its audit entry (``mode``: before →
        after, None when not on the call), in one transaction."""
        event = Event(self.engine.clock(), EventType.SUPERVISE, call.contact, queue=call.queue,
                      agent=call.agent, target=sup.supervisor, reason=what)  # fmt: skip
        actor = sup.actor or Actor.system("voice")

        def audit(s: Session) -> None:
            on = what != STOP
            record(s, actor, AuditAction.CALL_SUPERVISE, "contact", call.contact,
                   {"supervisor": sup.supervisor if before else None, "mode": before},
                   {"supervisor": sup.supervisor if on else None, "mode": what if on else None},
                   at=event.t)  # fmt: skip

        await anyio.to_thread.run_sync(lambda: self.engine.log([event], extra=audit))
        log.info("%s: %s %s on %s's call", call.contact, sup.supervisor, what, call.agent)
