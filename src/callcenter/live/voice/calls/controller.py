"""The call controller: Asterisk's channels (over ARI) in, the router's decisions out.

Every call Asterisk takes enters our Stasis application; from then on this module and
the router decide everything, through the same engine requests, events and pushes the
chat channel uses (``docs/voice.md``):

=========================================  ==============================================
Asterisk tells us (ARI event)               we ask the engine / Asterisk
=========================================  ==============================================
a caller's channel enters (``StasisStart``)  answer it; ``arrive`` in the number's queue
                                             (contact row with the caller's number as a
                                             claim); the caller waits in the queue's
                                             holding bridge with music on hold
the router offers it (``offer`` event)       originate to the agent's phone, the caller's
                                             number shown; entering our app = answered
the agent's leg answers (``StasisStart``)    ``answer``; a mixing bridge joins the two;
                                             the caller's channel recorded on two snoops:
                                             what it says and what it hears
the desk holds / the agent's phone holds     ``hold`` / ``unhold`` (:mod:`.hold`)
the desk transfers (``transfer`` event)      the agent's leg hung up, the caller to the
                                             target's holding bridge (:mod:`.transfer`)
a supervisor listens / whispers / barges     the supervisor's phone rung, a snoop on the
                                             agent's channel (:mod:`.supervise`)
the agent's phone refuses / drops the ring   ``decline`` (the router offers it again)
the ring times out (``ring_noanswer``)       hang up the agent's leg
the caller hangs up                          ``abandon`` (queued or ringing) or
                                             ``hangup`` by the caller (talking)
the agent hangs up                           ``hangup`` by the agent
the desk ends the call (``complete``)        hang up both legs
=========================================  ==============================================

State lives in the router (what is queued, ringing, talking) and, for the channels, in
:class:`Call` objects on the event loop; both are touched from the loop only (engine
requests run in worker threads and their events come back through :meth:`listener`).
When Asterisk goes away every call it carried is ended in the engine, so no agent stays
on a phantom call; on start, calls the router still holds from before a server restart
are ended the same way.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import deque
from collections.abc import AsyncIterable
from typing import Final

import anyio
from sqlalchemy.orm import Session

from callcenter.events import Channel, Event, EventType, HangupBy
from callcenter.live.chat.records import request_time
from callcenter.live.commands import (
    Abandon,
    Answer,
    Arrive,
    Callback,
    Decline,
    Hangup,
    Pause,
)
from callcenter.live.desk.views import ACTIVE, RINGING
from callcenter.live.voice.calls.base import (
    AGENT_LEG,
    CALL_PREFIX,
    CAUSE_REJECTED,
    CONTACT_HEADER,
    CONTACT_ID_LENGTH,
    ORIGINATE_TIMEOUT_S,
    PHONE_PAUSE,
    SNOOP_LEG,
    caller_of,
    phone_of,
    still_ringing,
)
from callcenter.live.voice.calls.hold import HoldSide
from callcenter.live.voice.calls.ivr import IvrSide
from callcenter.live.voice.calls.recording import RecordingSide
from callcenter.live.voice.calls.supervise import (
    SUPERVISOR_LEG,
    SUPERVISOR_SNOOP,
    SupervisionSide,
)
from callcenter.live.voice.calls.transfer import TransferSide
from callcenter.live.voice.model import Call, CallState, Side
from callcenter.storage.tables import ContactRow, ContactStatus
from callcenter.voice.ari import AriError, AriEvent, AriUnavailableError, Spy

log = logging.getLogger("callcenter.voice")


HANDLED_EVENTS: Final = frozenset({
    "StasisStart", "StasisEnd", "ChannelDestroyed", "ChannelHangupRequest",
    "ChannelDtmfReceived", "PlaybackFinished", "RecordingFinished", "RecordingFailed",
    "ChannelHold", "ChannelUnhold",
})  # fmt: skip
"""The ARI event types :meth:`CallController._on_ari` acts on: the only ones asked for."""


class CallController(TransferSide, IvrSide, RecordingSide, HoldSide, SupervisionSide):
    """Calls of one Asterisk, routed by one :class:`LiveEngine`."""

    async def run(self, stream: AsyncIterable[AriEvent]) -> None:
        """Serve one connection to Asterisk until its event stream ends; then end every
        call it carried (Asterisk stopped or crashed: its channels are gone)."""
        self._loop = asyncio.get_running_loop()
        decisions = asyncio.create_task(self._follow_engine())
        try:
            await self.end_phantoms("the server started")
            async for event in stream:
                self._dispatch(event)
        finally:
            decisions.cancel()
            for task in list(self._lane_tasks):
                task.cancel()
            await self._lost_asterisk()

    # Events of one call are handled in order, calls side by side: each call has a lane
    # (keyed by its caller's channel) drained by its own task while it has events. One
    # loop for all calls would make each call wait for every other call's ARI requests
    # and database writes (bench/bench_voice.py's profile).

    def _lane_of(self, event: AriEvent) -> str:
        ids = [event.channel.id] if event.channel is not None else []
        ids += [i for i in (event.object_id("playback"), event.object_id("recording")) if i]
        peer = event.raw.get("peer")
        if isinstance(peer, dict) and peer.get("id"):
            ids.append(str(peer["id"]))
        for i in ids:
            found = self._by_channel.get(i)
            if found is not None:
                return found[0].caller_channel
            if i.startswith(CALL_PREFIX):  # a leg, snoop, playback or recording of a call
                call = self.calls.get(i[:CONTACT_ID_LENGTH])
                return call.caller_channel if call is not None else i[:CONTACT_ID_LENGTH]
        return ids[0] if ids else ""

    def _dispatch(self, event: AriEvent) -> None:
        if event.type in ("RecordingFinished", "RecordingFailed", "PlaybackFinished"):
            kind = "playback" if event.type == "PlaybackFinished" else "recording"
            name = event.object_id(kind)
            if name:  # at once, not behind the call's other events: someone may wait
                self.media_done.closed(name)
        key = self._lane_of(event)
        lane = self._lanes.get(key)
        if lane is not None:
            lane.append(event)
            return
        self._lanes[key] = deque([event])
        task = asyncio.create_task(self._drain_lane(key))
        self._lane_tasks.add(task)
        task.add_done_callback(self._lane_tasks.discard)

    async def _drain_lane(self, key: str) -> None:
        lane = self._lanes[key]
        try:
            while lane:
                event = lane[0]
                try:
                    await self._on_ari(event)
                except (AriError, AriUnavailableError) as e:
                    log.warning("ARI %s: %s", event.type, e)
                except Exception:  # one event's failure must not end every call's control
                    log.exception("voice: handling ARI %s failed", event.type)
                lane.popleft()
        finally:
            del self._lanes[key]

    async def _follow_engine(self) -> None:
        while True:
            events = await self._engine_events.get()
            for e in events:
                try:
                    await self._on_engine(e)
                except (AriError, AriUnavailableError) as err:
                    log.warning("ARI after %s of %s: %s", e.type, e.contact, err)
                except Exception:
                    log.exception("voice: acting on %s of %s failed", e.type, e.contact)

    async def _on_ari(self, event: AriEvent) -> None:
        ch = event.channel
        if event.type == "PlaybackFinished":
            await self._ivr_playback(event.object_id("playback"))
            return
        if event.type in ("RecordingFinished", "RecordingFailed"):
            await self._ivr_recording(event.object_id("recording"))
            return
        if ch is None:
            return
        if event.type == "StasisStart":
            kind = event.args[0] if event.args else ""
            if kind == AGENT_LEG and len(event.args) > 1:
                await self._agent_answered(event.args[1], ch.id)
            elif kind == SNOOP_LEG and len(event.args) > 2:
                await self._snoop_ready(event.args[1], Side(event.args[2]), ch.id)
            elif kind == SUPERVISOR_LEG and len(event.args) > 1:
                await self._supervisor_answered(event.args[1], ch.id)
            elif kind == SUPERVISOR_SNOOP and len(event.args) > 2:
                await self._supervisor_snoop_ready(event.args[1], event.args[2], ch.id)
            elif not kind:
                await self._incoming(ch.id, ch.exten, ch.caller_number)
            else:  # e.g. a desk phone calling out: not served in this part
                log.info("call from %s (%s): calls out are not served; hung up", ch.name, kind)
                await self.ari.hangup(ch.id)
        elif event.type == "ChannelHangupRequest" and event.cause is not None:
            self._causes[ch.id] = event.cause
        elif event.type in ("StasisEnd", "ChannelDestroyed"):
            # a channel that leaves our application gets no ChannelDestroyed from ARI
            # (it is no longer ours): the first of the two ends it for us
            await self._gone(ch.id, self._causes.pop(ch.id, event.cause))
        elif event.type == "ChannelDtmfReceived" and event.digit:
            await self._dtmf(ch.id, event.digit)
        elif event.type in ("ChannelHold", "ChannelUnhold"):
            await self._phone_hold(ch.id, event.type == "ChannelHold")

    async def _incoming(self, channel: str, number: str, caller_number: str) -> None:
        # the lookups read the database: in a worker thread, never on the event loop
        entry = await self._look_up(self.routes.entry_of_number, number)
        flow = None
        if entry is not None and entry.queue is None and entry.flow is not None:
            flow = await anyio.to_thread.run_sync(self.routes.flow_of_name, entry.flow)
            if flow is None:
                log.error("number %s leads to IVR flow %r, which does not exist", number,
                          entry.flow)  # fmt: skip
        if entry is None or (entry.queue is None and flow is None):
            log.info("call to %r: not one of our numbers (or its flow is missing); refused",
                     number)  # fmt: skip
            await self.ari.hangup(channel, "no_answer")
            return
        contact = CALL_PREFIX + secrets.token_hex(6)
        region = self.phone_region
        phone = phone_of(caller_number, region)
        caller = phone or caller_of(caller_number, region)
        await self.ari.answer(channel)
        call = Call(contact, channel, caller, number, entry.queue, entry.language)
        self.calls[contact] = call
        self._by_channel[channel] = (call, Side.CALLER)
        queue = entry.queue

        def write(s: Session) -> None:
            t = request_time(s)
            s.add(
                ContactRow(
                    id=contact, customer_id=None, channel=Channel.VOICE.value,
                    direction="inbound", queue=queue,
                    status=(ContactStatus.QUEUED if queue else ContactStatus.IVR).value,
                    subject=f"call to {number}", arrived_at=t,
                    enqueued_at=t if queue else None, claimed_phone=phone,
                )
            )  # fmt: skip

        if queue is not None:
            call.options = await self._look_up(self.routes.options_of_queue, queue)
            await self._hold(call, queue)
        arrive = Arrive(contact=contact, queue=queue, caller=caller, channel=Channel.VOICE.value)
        if not await self._request(arrive, extra=write):
            self._forget(call)
            await self.ari.hangup(channel, "congestion")
            return
        if flow is not None:
            await self._start_ivr(call, flow)
        else:
            self._queued(call)

    async def _dtmf(self, channel: str, digit: str) -> None:
        found = self._by_channel.get(channel)
        if found is None or found[1] is not Side.CALLER:
            return
        call = found[0]
        if call.state is CallState.IVR and call.ivr is not None:
            await call.ivr.digit(digit)
            return
        if call.state is CallState.QUEUED and digit == call.options.callback_digit:
            if not await self._request(Callback(contact=call.contact)):
                return
            # the caller keeps its place; an agent calls back (dialling: part 2)
            call.state = CallState.CALLBACK
            await self._stop_announcing(call)
            self._forget(call)
            log.info("%s: the caller asked to be called back", call.contact)
            await self.ari.hangup(call.caller_channel)

    async def _agent_answered(self, contact: str, channel: str) -> None:
        call = self.calls.get(contact)
        if call is None or call.agent_channel != channel or call.state is not CallState.RINGING:
            await self.ari.hangup(channel)  # the caller left, or the ring ended meanwhile
            return
        call.agent_answered = True
        if not await self._request(Answer(contact=contact)):
            await self.ari.hangup(channel)
            return
        call.state = CallState.TALKING
        call.answered_at = self.engine.clock()
        await self._stop_announcing(call)
        # (adding the caller to the call's bridge takes it out of the holding bridge:
        # Asterisk departs a channel's current Stasis bridge first)
        if call.bridge is None:
            call.bridge = await self.ari.create_bridge("mixing", name=contact)
        await self.ari.add_to_bridge(call.bridge, [call.caller_channel, channel])
        if self.record and call.options.record and not call.snooped:
            # both halves from the caller's channel: what the caller said (``in``) and
            # what the caller heard (``out``: the agent, later a transferred-to agent,
            # the music while on hold), so one recording spans the whole call
            call.snooped = True
            halves: tuple[tuple[Side, Spy], ...] = ((Side.CALLER, "in"), (Side.AGENT, "out"))
            for side, spy in halves:
                await self.ari.snoop(
                    call.caller_channel,
                    app=self.app,
                    spy=spy,
                    app_args=[SNOOP_LEG, contact, side.value],
                    snoop_id=f"{contact}-snoop-{side.value}",
                )

    async def _gone(self, channel: str, cause: int | None) -> None:
        if channel in self._supervisors:  # a supervisor hung up (or never answered)
            await self._supervisor_left(channel)
            return
        found = self._by_channel.pop(channel, None)
        if found is None:
            return
        call, side = found
        if side is Side.CALLER:
            await self._caller_left(call)
        elif channel == call.agent_channel:
            await self._agent_left(call, cause)

    async def _caller_left(self, call: Call) -> None:
        if call.state is CallState.IVR and call.ivr is not None:
            await call.ivr.hangup()  # the flow ends: abandoned, or with its voicemail
            return
        if call.state is CallState.VOICEMAIL:
            if call.message is None:  # gone before the beep: no message
                await self._end(call)
            return  # the recording's end files the message and ends the call
        if call.state is CallState.TALKING:
            await self._hang_up_other(call, call.agent_channel)  # the talk ends now
        state, _ = await self._state(call.contact)
        if state in (ContactStatus.QUEUED.value, RINGING):
            await self._request(Abandon(contact=call.contact))
        elif state == ACTIVE:
            await self._request(Hangup(contact=call.contact, by=HangupBy.CALLER))
        await self._end(call)

    async def _agent_left(self, call: Call, cause: int | None) -> None:
        call.agent_channel = None
        if call.state is CallState.TALKING:
            await self._hang_up_other(call, call.caller_channel)
            await self._request(Hangup(contact=call.contact, by=HangupBy.AGENT))
            await self._end(call)
        elif call.state is CallState.RINGING and not call.agent_answered:
            # the phone refused (busy, declined) or stopped ringing before the router's
            # ring timeout: the router offers the call again
            state, agent = await self._state(call.contact)
            if state != RINGING or agent != call.agent or agent is None:
                return
            if cause == CAUSE_REJECTED:  # the agent declined it (603 Decline): a choice
                await self._request(Decline(contact=call.contact))
            else:
                await self._phone_refused(call, agent, f"Q.850 cause {cause}")

    async def _hang_up_other(self, call: Call, channel: str | None) -> None:
        """One side of a conversation left: the other is hung up at once, before the
        engine hears of it, so neither side's recording (a snoop on each channel, which
        ends with it) runs on past the talk."""
        if channel is not None and self._by_channel.pop(channel, None) is not None:
            await self.ari.hangup(channel)

    async def _on_engine(self, e: Event) -> None:
        call = self.calls.get(e.contact or "")
        if call is None:
            return
        if e.type is EventType.OFFER and e.agent is not None:
            await self._ring(call, e.agent)
        elif e.type is EventType.RING_NOANSWER:
            await self._stop_ringing(call)
        elif e.type is EventType.COMPLETE:
            await self._end(call)  # ended at the desk: both legs go
        elif e.type is EventType.TIMEOUT and e.target is None:
            await self._voicemail_after_wait(call)  # waited its maximum, nowhere to go
        elif e.type is EventType.TRANSFER and e.target is None:
            await self._end(call)  # left the queue with nowhere to go
        elif e.type is EventType.TRANSFER:
            await self._end_supervision(call)  # the agent supervised has left the call
            await self._transferred(call, e)  # the desk handed it on (.transfer)

    async def _ring(self, call: Call, agent: str) -> None:
        call.state, call.agent, call.agent_answered = CallState.RINGING, agent, False
        endpoint = await self._look_up(self.routes.endpoint_of_agent, agent)
        if call.state is not CallState.RINGING or call.agent != agent:
            return  # the caller left, or the ring ended, while we looked
        if endpoint is None:
            await self._phone_refused(call, agent, "the agent has no phone")
            return
        call.legs += 1
        leg_id = f"{call.contact}-leg{call.legs}"
        call.agent_channel = leg_id
        self._by_channel[leg_id] = (call, Side.AGENT)
        try:
            await self.ari.originate(
                endpoint,
                app=self.app,
                app_args=[AGENT_LEG, call.contact],
                channel_id=leg_id,
                caller_id=call.caller or "",
                timeout_s=ORIGINATE_TIMEOUT_S,
                # the desk's softphone matches the ringing call to the offer it shows
                variables={f"PJSIP_HEADER(add,{CONTACT_HEADER})": call.contact},
            )
        except AriError as err:  # e.g. the phone is not registered
            self._by_channel.pop(leg_id, None)
            call.agent_channel = None
            if call.state is CallState.RINGING and call.agent == agent:
                await self._phone_refused(call, agent, f"{endpoint}: {err.message}")
            return
        if not still_ringing(call, leg_id):  # the ring or the call ended while Asterisk set it up
            self._by_channel.pop(leg_id, None)
            await self.ari.hangup(leg_id)

    async def _phone_refused(self, call: Call, agent: str, why: str) -> None:
        """The agent's phone could not take the offer (busy, declined, unreachable): the
        agent is paused (reason ``phone``, as Asterisk's queues auto-pause) and the
        router offers the call to someone else. Without the pause a phone that always
        refuses would be offered the same call again at once, without end."""
        log.warning("%s: %s's phone did not take the call (%s); %s is paused",
                    call.contact, agent, why, agent)  # fmt: skip
        await self._request(Pause(agent=agent, reason=PHONE_PAUSE))
        await self._request(Decline(contact=call.contact))

    async def _stop_ringing(self, call: Call) -> None:
        leg = call.agent_channel
        call.state, call.agent, call.agent_channel = CallState.QUEUED, None, None
        if leg is not None:
            self._by_channel.pop(leg, None)
            await self.ari.hangup(leg, "no_answer")

    async def _end(self, call: Call) -> None:
        if call.state in (CallState.ENDED, CallState.CALLBACK):
            return
        call.state = CallState.ENDED
        if call.announcer is not None:
            call.announcer.cancel()
        await self._end_supervision(call)
        for channel in (call.caller_channel, call.agent_channel):
            # a channel no longer ours has gone already (or was hung up): not again
            if channel is not None and self._by_channel.pop(channel, None) is not None:
                await self.ari.hangup(channel)
        if call.bridge is not None:
            await self.ari.destroy_bridge(call.bridge)
        if call.paused_at is not None and call.answered_at is not None:  # paused to the end
            call.pauses.append((call.paused_at, self.engine.clock() - call.answered_at))
            call.paused_at = None
        self._forget(call)
        if call.recordings and self.recorder is not None:
            self._spawn(self.recorder.finish(self.ari, call, self.media_done, self.recordings_dir))

    async def _lost_asterisk(self) -> None:
        """Asterisk is gone: its calls are over; end them in the engine."""
        for call in list(self.calls.values()):
            log.warning("%s: Asterisk went away; the call ended", call.contact)
            call.state = CallState.ENDED
            if call.announcer is not None:
                call.announcer.cancel()
            self._forget(call)
            await self._end_in_engine(call.contact)
        self._by_channel.clear()
        self._supervisors.clear()
        self._holding.clear()

    async def end_phantoms(self, why: str) -> None:
        """End the voice contacts the router holds that no channel of ours carries
        (left from before a server restart, or from an Asterisk that went away)."""
        for cid in await anyio.to_thread.run_sync(self._voice_contacts):
            log.warning("%s: no call carries it any more (%s); it is ended", cid, why)
            await self._end_in_engine(cid)

    def _voice_contacts(self) -> list[str]:
        with self.engine.lock:
            return [
                cid
                for cid, c in self.engine.router.contacts.items()
                if c.channel == Channel.VOICE.value and cid not in self.calls and not c.is_callback
            ]

    async def _end_in_engine(self, contact: str) -> None:
        state, _ = await self._state(contact)
        if state in (ContactStatus.QUEUED.value, RINGING):
            await self._request(Abandon(contact=contact))
        elif state == ACTIVE:
            await self._request(Hangup(contact=contact, by=HangupBy.CALLER))
