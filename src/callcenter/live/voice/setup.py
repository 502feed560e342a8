"""Voice assembled from the tables: where numbers lead, agents' phones, Asterisk's files.

:func:`voice_service` builds the :class:`~callcenter.live.voice.service.VoiceService` the
server runs: its routes read ``voice_numbers`` and ``voice_devices``
(:mod:`callcenter.live.voice.config`), its embedded Asterisk starts with the
configuration rendered from the trunks and phones, and :meth:`Voice.reload` (called
after each committed telephony change) renders it again and has a running embedded
Asterisk reload PJSIP, without a restart and without dropping calls.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.live.business_hours import is_open
from callcenter.live.engine import LiveEngine
from callcenter.live.voice import config as tables
from callcenter.live.voice import flows
from callcenter.live.voice.model import NOT_KEPT, Entry, QueueVoice, Recorder, Routes
from callcenter.live.voice.recorder import CallRecorder
from callcenter.live.voice.service import VoiceService
from callcenter.live.voice.voicemail import VoicemailKeeper
from callcenter.settings import Settings
from callcenter.storage.tables import BusinessHours
from callcenter.voice.ivr import Flow
from callcenter.voice.pjsip_config import PjsipOptions

log = logging.getLogger("callcenter.voice")
T = TypeVar("T")


def pjsip_options(settings: Settings) -> PjsipOptions:
    """Where SIP and media live, from the settings (RTP on the same address as SIP)."""
    return PjsipOptions(
        bind_host=settings.voice_bind,
        sip_port=settings.voice_sip_port or 5060,
        media_address=settings.voice_bind,
        app=settings.voice_app,
    )


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _entry(s: Session, number: str) -> Entry | None:
    target = tables.number_target(s, number)
    if target is None:
        return None
    if target.kind == "ivr":
        return Entry(flow=target.target, language=target.language)
    return Entry(queue=target.target, language=target.language)


class TableRoutes:
    """The controller's lookups, each in its own short read of the tables (the caller
    runs them in a worker thread).

    Where a number leads, a queue's call settings and an agent's phone are read once and
    kept (every call asks them; each read is a transaction and a thread hop) until the
    configuration changes: a telephony change (:meth:`Voice.reload` calls
    :meth:`forget`) or a routing one (queues, agents: the engine builds a new router,
    ``LiveEngine.generation``). Both kinds reach the database through the admin API.
    """

    def __init__(self, engine: LiveEngine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self._kept: dict[tuple[str, str], object] = {}
        self._generation = engine.generation

    def forget(self) -> None:
        """The telephony configuration changed: read everything again."""
        self._kept = {}

    def kept(self, lookup: str, key: str) -> object:
        """What ``lookup`` (a method's name) answered for ``key`` and still holds, or
        :data:`NOT_KEPT` (any thread; reads no table)."""
        if self._generation != self.engine.generation:  # a new router: new queues, agents
            self._kept, self._generation = {}, self.engine.generation
        return self._kept.get((lookup, key), NOT_KEPT)

    def _kept_or(self, lookup: str, key: str, read: Callable[[Session], T]) -> T:
        value = self.kept(lookup, key)
        if value is not NOT_KEPT:
            return cast(T, value)
        kept = self._kept  # (a forget() meanwhile replaces it: this read is not kept)
        with self.engine.sessions() as s:
            read_now = read(s)
        kept[lookup, key] = read_now
        return read_now

    def entry_of_number(self, number: str) -> Entry | None:
        return self._kept_or("entry_of_number", number, lambda s: _entry(s, number))

    def endpoint_of_agent(self, agent: str) -> str | None:
        read = partial(tables.agent_endpoint, agent=agent)
        return self._kept_or("endpoint_of_agent", agent, read)

    def options_of_queue(self, queue: str) -> QueueVoice:
        read = partial(flows.queue_voice, queue=queue)
        return self._kept_or("options_of_queue", queue, read)

    def flow_of_name(self, name: str) -> Flow | None:
        """The flow as saved (checked then); parsed once per saved version."""
        with self.engine.sessions() as s:
            return flows.flow_by_name(s, name)

    def hours_open(self, name: str, t: float) -> bool:
        with self.engine.sessions() as s:
            hours = s.scalar(select(BusinessHours).where(BusinessHours.name == name))
            if hours is None:
                log.warning("IVR hours %r do not exist: taken as open", name)
                return True
            return is_open(hours, t)

    def prompt_media(self, name: str, language: str) -> str:
        prompts = flows.prompt_catalogue(self.settings)  # cached; sees later uploads
        if prompts.has(name, language):
            return prompts.media(name, language)
        return f"sound:{name}"  # Asterisk's own lookup (its sounds folder, the language)

    def routes(self) -> Routes:
        return Routes(
            self.entry_of_number,
            self.endpoint_of_agent,
            options_of_queue=self.options_of_queue,
            flow_of_name=self.flow_of_name,
            hours_open=self.hours_open,
            prompt_media=self.prompt_media,
            kept=self.kept,
        )


class Voice(VoiceService):
    """The server's voice: a :class:`VoiceService` whose configuration is the tables'."""

    def __init__(
        self,
        settings: Settings,
        engine: LiveEngine,
        *,
        recorder: Recorder | None = None,
        voicemail: VoicemailKeeper | None = None,
    ) -> None:
        self.tables = TableRoutes(engine, settings)
        super().__init__(
            settings,
            engine,
            self.tables.routes(),
            config_text=self.files,
            recorder=recorder,
            voicemail=voicemail,
        )
        self.options = pjsip_options(settings)

    def files(self) -> dict[str, str]:
        """The embedded Asterisk's generated files (endpoints, RTP, dialplan); with a
        loopback media address, ``rtp.conf`` maps the machine's other addresses to it
        so a browser here can reach the desk's softphone calls."""
        hosts = tables.host_ipv4_addresses() if _loopback(self.options.media_address) else []
        with self.engine.sessions() as s:
            return tables.extra_files(
                s, self.options, now=self.engine.clock(), host_addresses=hosts
            )

    def reload(self) -> None:
        """Take a telephony change: render PJSIP's part again and reload it (embedded
        Asterisk only: a center's own Asterisk keeps its own configuration); the
        controller's lookups read the tables again (any Asterisk)."""
        self.tables.forget()
        running = self.asterisk
        if self.settings.voice != "embedded" or running is None or not running.is_running():
            return
        with self.engine.sessions() as s:
            text = tables.pjsip_text(s, self.options, now=self.engine.clock())
        tables.apply_pjsip(running.config.etc_dir, text, running.ari_url, running.ari_auth)
        log.info("voice: telephony configuration reloaded")


def voice_service(
    settings: Settings,
    engine: LiveEngine,
    *,
    recordings: Path | None = None,
    on_recorded: Callable[[str], None] | None = None,
) -> Voice:
    """The server's voice, recording calls (and voicemail) into ``recordings`` when
    given, telling ``on_recorded`` — the analysis worker — about each filed recording."""
    recorder: Recorder | None = None
    voicemail: VoicemailKeeper | None = None
    if recordings is not None:
        recorder = CallRecorder(engine, recordings, on_recorded=on_recorded)
        voicemail = VoicemailKeeper(engine, recordings)
    return Voice(settings, engine, recorder=recorder, voicemail=voicemail)


__all__ = ["TableRoutes", "Voice", "pjsip_options", "voice_service"]
