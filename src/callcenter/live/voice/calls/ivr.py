"""The IVR side of a call: a flow started for a number, its prompts' and recordings'
ends routed back to it, and what its outcome does to the call (``ivr_call.py`` runs the
flow itself)."""

from __future__ import annotations

import contextlib
import logging

from sqlalchemy import update
from sqlalchemy.orm import Session

from callcenter.live.chat.records import request_time
from callcenter.live.commands import (
    Callback,
    Enqueue,
    Release,
)
from callcenter.live.voice.calls.base import (
    CALL_PREFIX,
    ControllerBase,
)
from callcenter.live.voice.ivr_call import VOICEMAIL_SUFFIX, IvrCall
from callcenter.live.voice.model import Call, CallState
from callcenter.storage.tables import ContactRow, ContactStatus
from callcenter.voice.ari import AriNotFoundError
from callcenter.voice.ivr.actions import Outcome
from callcenter.voice.ivr.model import Flow
from callcenter.voice.ivr.runner import IvrRun

log = logging.getLogger("callcenter.voice")

VOICEMAIL_INTRO = "-vm-intro"  # the playback of vm-intro before a message
MESSAGE_MAX_S = 120  # the longest message taken after the queue's maximum wait


class IvrSide(ControllerBase):
    """Calls in an IVR flow."""

    async def _start_ivr(self, call: Call, flow: Flow) -> None:
        language = call.language if call.language in flow.offered else None
        run = IvrRun(flow, language, hours_open=self.routes.hours_open)
        call.state = CallState.IVR
        call.ivr = IvrCall(self, call.contact, call.caller_channel, run, self.routes.prompt_media)
        await call.ivr.start()

    async def ivr_finished(self, contact: str, outcome: Outcome, voicemail: str | None) -> None:
        """The IVR flow ended (:class:`IvrCall`'s host): queue the call with what the caller
        gave for the agent's card, request the callback, or let the contact go."""
        call = self.calls.get(contact)
        if call is None:
            return
        call.ivr, call.language = None, outcome.language
        if outcome.kind in ("queue", "callback") and outcome.queue is not None:
            queue = outcome.queue
            call.queue = queue
            call.options = await self._look_up(self.routes.options_of_queue, queue)
            card = {outcome.labels.get(k, k): v for k, v in outcome.variables.items()}

            def card_data(s: Session) -> None:
                s.execute(
                    update(ContactRow)
                    .where(ContactRow.id == contact)
                    .values(ivr_data=card or None, queue=queue)
                )

            in_ivr = call.state is CallState.IVR
            if in_ivr and outcome.kind == "queue":
                await self._hold(call, queue)
            call.state = CallState.QUEUED  # before the request: it may be offered at once
            enqueue = Enqueue(contact=contact, queue=queue, priority=outcome.priority)
            if not await self._request(enqueue, extra=card_data):
                await self._end(call)
                return
            if outcome.kind == "callback":
                await self._request(Callback(contact=contact))
                call.state = CallState.CALLBACK
                self._forget(call)
                await self.ari.hangup(call.caller_channel)
            elif in_ivr:
                self._queued(call)
            return
        # hangup, voicemail, abandon: the contact never queued; its IVR logged how it ended
        gone = ContactStatus.ABANDONED if outcome.kind == "abandon" else ContactStatus.CLOSED

        def ended(s: Session) -> None:
            t = request_time(s)
            s.execute(
                update(ContactRow)
                .where(ContactRow.id == contact)
                .values(status=gone.value, ended_at=t, closed_at=t)
            )

        await self._request(Release(contact=contact), extra=ended)
        if voicemail is not None and self.voicemail is not None:
            self._spawn(self.voicemail.keep(self.ari, contact, voicemail))
        await self._end(call)

    async def _ivr_playback(self, playback: str | None) -> None:
        if playback is None or not playback.startswith(CALL_PREFIX):
            return  # an announcement in the queue
        if playback.endswith(VOICEMAIL_INTRO):
            call = self.calls.get(playback.removesuffix(VOICEMAIL_INTRO))
            if call is not None and call.state is CallState.VOICEMAIL:
                await self._record_message(call)
            return
        call = self.calls.get(playback.rsplit("-play-", 1)[0])
        if call is not None and call.ivr is not None:
            await call.ivr.played(playback)

    async def _ivr_recording(self, name: str | None) -> None:
        if name is None or not name.endswith(VOICEMAIL_SUFFIX):
            return
        call = self.calls.get(name.removesuffix(VOICEMAIL_SUFFIX))
        if call is not None and call.ivr is not None:
            await call.ivr.recorded(name)
        elif call is not None and call.state is CallState.VOICEMAIL:
            await self._message_left(call)

    # ------------------------------------------------------------------ after the maximum wait

    async def _voicemail_after_wait(self, call: Call) -> None:
        """The caller waited the queue's maximum and the queue has no overflow: rather
        than hang up on them, the center takes a message (``vm-intro``, a beep, up to
        :data:`MESSAGE_MAX_S`, ``#`` ends it) that becomes a ticket with its recording."""
        if self.voicemail is None:
            await self._end(call)
            return
        call.state = CallState.VOICEMAIL
        await self._stop_announcing(call)
        hold = self._holding.get(call.queue or "")
        if hold is not None:
            with contextlib.suppress(AriNotFoundError):
                await self.ari.remove_from_bridge(hold, [call.caller_channel])
        await self.ari.play(
            call.caller_channel,
            ["sound:vm-intro"],
            playback_id=f"{call.contact}{VOICEMAIL_INTRO}",
            lang=call.language,
        )

    async def _record_message(self, call: Call) -> None:
        name = f"{call.contact}{VOICEMAIL_SUFFIX}"
        call.message = name
        await self.ari.record(call.caller_channel, name, max_duration_s=MESSAGE_MAX_S,
                              beep=True, terminate_on="#", if_exists="overwrite")  # fmt: skip

    async def _message_left(self, call: Call) -> None:
        if self.voicemail is not None and call.message is not None:
            self._spawn(self.voicemail.keep(self.ari, call.contact, call.message))
        call.message = None
        await self._end(call)
