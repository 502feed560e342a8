"""Voice assembled from the tables: where numbers lead, agents' phones, Asterisk's files.

:func:`voice_service` builds the :class:`~callcenter.live.voice.service.VoiceService` the
server runs: its routes read ``voice_numbers`` and ``voice_devices``
(:mod:`callcenter.live.voice.config`), its embedded Asterisk starts with the
configuration rendered from the trunks and phones, and :meth:`Voice.reload` (called
after each committed telephony change) renders it again and has a running embedded
Asterisk reload PJSIP, without a restart and without dropping calls.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from callcenter.live.engine import LiveEngine
from callcenter.live.voice import config as tables
from callcenter.live.voice.model import Entry, Recorder, Routes
from callcenter.live.voice.service import VoiceService
from callcenter.settings import Settings
from callcenter.voice.pjsip_config import PjsipOptions

log = logging.getLogger("callcenter.voice")


def pjsip_options(settings: Settings) -> PjsipOptions:
    """Where SIP and media live, from the settings (RTP on the same address as SIP)."""
    return PjsipOptions(
        bind_host=settings.voice_bind,
        sip_port=settings.voice_sip_port or 5060,
        media_address=settings.voice_bind,
        app=settings.voice_app,
    )


@dataclass(frozen=True, slots=True)
class TableRoutes:
    """The controller's lookups, each in its own short read of the tables."""

    engine: LiveEngine

    def entry_of_number(self, number: str) -> Entry | None:
        with self.engine.sessions() as s:
            target = tables.number_target(s, number)
        if target is None:
            return None
        if target.kind != "queue":
            log.warning("number %s leads to IVR flow %r: IVR flows are not served yet",
                        number, target.target)  # fmt: skip
            return None
        return Entry(queue=target.target, language=target.language)

    def endpoint_of_agent(self, agent: str) -> str | None:
        with self.engine.sessions() as s:
            return tables.agent_endpoint(s, agent)

    def routes(self) -> Routes:
        return Routes(self.entry_of_number, self.endpoint_of_agent)


class Voice(VoiceService):
    """The server's voice: a :class:`VoiceService` whose configuration is the tables'."""

    def __init__(
        self, settings: Settings, engine: LiveEngine, *, recorder: Recorder | None = None
    ) -> None:
        super().__init__(
            settings,
            engine,
            TableRoutes(engine).routes(),
            config_text=self.files,
            recorder=recorder,
        )
        self.options = pjsip_options(settings)

    def files(self) -> dict[str, str]:
        """The embedded Asterisk's generated files (endpoints, RTP, dialplan)."""
        with self.engine.sessions() as s:
            return tables.extra_files(s, self.options, now=self.engine.clock())

    def reload(self) -> None:
        """Take a telephony change: render PJSIP's part again and reload it (embedded
        Asterisk only: a center's own Asterisk keeps its own configuration)."""
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
    """The server's voice, recording calls into ``recordings`` when given (and telling
    ``on_recorded`` — the analysis worker — about each filed recording)."""
    recorder: Recorder | None = None
    if recordings is not None:
        from callcenter.live.voice.recorder import CallRecorder

        recorder = CallRecorder(engine, recordings, on_recorded=on_recorded)
    return Voice(settings, engine, recorder=recorder)


__all__ = ["TableRoutes", "Voice", "pjsip_options", "voice_service"]
