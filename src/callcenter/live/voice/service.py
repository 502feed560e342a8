"""Voice in the server: the Asterisk it talks to, kept connected, and its calls' controller.

:class:`VoiceService` is what ``server/app.py`` starts when the ``voice`` setting is not
``off``:

- ``embedded``: it starts a private Asterisk (``voice/asterisk.py``) with the
  configuration generated from the tables, and supervises it — if Asterisk exits or
  crashes, the calls it carried are ended in the engine (their agents freed, a line in
  the log saying why) and a new Asterisk is started;
- ``external``: it connects to a center's own Asterisk at ``voice_ari_url``.

Either way it holds one ARI event socket for the application; when the socket drops,
the controller ends the calls of that connection and the service connects again (0.5 s,
doubling to 10 s between tries), so a restarted Asterisk is taken back without a
restart of ours.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import anyio

from callcenter.errors import ConflictError, UserError
from callcenter.live.engine import Applied, LiveEngine
from callcenter.live.voice.calls import HANDLED_EVENTS, CallController
from callcenter.live.voice.model import Mode, Recorder, Routes
from callcenter.live.voice.voicemail import VoicemailKeeper
from callcenter.settings import Settings
from callcenter.storage.audit import Actor
from callcenter.voice.ari import Ari, AriError, AriUnavailableError
from callcenter.voice.ari_events import connect_events
from callcenter.voice.asterisk import (
    AsteriskError,
    RunningAsterisk,
    find_install,
    start_asterisk,
)

log = logging.getLogger("callcenter.voice")

RETRY_FIRST_S: Final = 0.5
RETRY_MAX_S: Final = 10.0
CONTROL_TIMEOUT_S: Final = 5.0  # a desk request waits this long for the call's controller
TRUNK_PREFIX: Final = "trunk-"  # a trunk's endpoint: voice/pjsip_config.py trunk_endpoint


@dataclass(frozen=True, slots=True)
class Target:
    """Where ARI is: its base URL and credentials; for an Asterisk on this machine (the
    embedded one), the folder it records into."""

    url: str
    auth: tuple[str, str]
    recordings: Path | None = None


class VoiceError(UserError):
    """Voice is configured in a way that cannot work (one line: the setting and why)."""


def external_target(settings: Settings) -> Target:
    """The ARI of a center's own Asterisk, from the settings (or the error naming what
    is missing)."""
    missing = [
        name
        for name, value in (
            ("voice_ari_url", settings.voice_ari_url),
            ("voice_ari_user", settings.voice_ari_user),
            ("voice_ari_password", settings.voice_ari_password),
        )
        if not value
    ]
    if missing:
        raise VoiceError(
            "voice = external needs " + ", ".join(f"CALLCENTER_{m.upper()}" for m in missing)
        )
    assert settings.voice_ari_url and settings.voice_ari_user and settings.voice_ari_password
    return Target(
        settings.voice_ari_url,
        (settings.voice_ari_user, settings.voice_ari_password.get_secret_value()),
    )


def check_voice(settings: Settings) -> None:
    """Before the server starts: what voice needs is there (the Asterisk build for
    ``embedded``, the ARI settings for ``external``), else one line saying what to do."""
    if settings.voice == "embedded":
        find_install(settings.cache_dir)  # AsteriskMissingError names the build script
    elif settings.voice == "external":
        external_target(settings)


class VoiceService:
    """Keeps the server connected to Asterisk and its calls under control."""

    def __init__(
        self,
        settings: Settings,
        engine: LiveEngine,
        routes: Routes,
        *,
        config_text: Callable[[], dict[str, str]] = dict,
        recorder: Recorder | None = None,
        voicemail: VoicemailKeeper | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.routes = routes
        self.config_text = config_text
        self.recorder = recorder
        self.voicemail = voicemail
        self.asterisk: RunningAsterisk | None = None
        self.controller: CallController | None = None
        self.connected = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.restarts = 0  # embedded Asterisks started after the first

    def set_recording_paused(self, contact: str, agent: str, paused: bool) -> None:
        """From a request thread: pause or resume the recording of ``agent``'s call
        ``contact`` (the desk's button for card numbers). Raises
        :class:`~callcenter.errors.ConflictError` when there is no such recording to
        change."""
        controller, loop = self.controller, self._loop
        if controller is None or loop is None:
            raise ConflictError("calls are not connected to Asterisk now; try again shortly")
        job = controller.set_recording_paused(contact, agent, paused)
        done = asyncio.run_coroutine_threadsafe(job, loop).result(timeout=CONTROL_TIMEOUT_S)
        if not done:
            state = "paused" if paused else "recording"
            raise ConflictError(
                f"contact {contact!r}: no recording of your call to change (it is not your "
                f"call in progress, is not recorded, or is already {state})"
            )

    def set_held(self, contact: str, agent: str, held: bool) -> None:
        """From a request thread: put ``agent``'s call ``contact`` on hold (music to the
        caller, nothing to the agent) or take it off. Raises
        :class:`~callcenter.errors.ConflictError` when that cannot be done now."""
        controller, loop = self.controller, self._loop
        if controller is None or loop is None:
            raise ConflictError("calls are not connected to Asterisk now; try again shortly")
        job = controller.set_held(contact, agent, held)
        asyncio.run_coroutine_threadsafe(job, loop).result(timeout=CONTROL_TIMEOUT_S)

    def supervise(self, agent: str, supervisor: str, mode: Mode | None, actor: Actor) -> str:
        """From a request thread: ``supervisor`` starts or switches to ``mode`` on
        ``agent``'s call in progress, or leaves it (``mode`` None); the contact id.
        Raises :class:`~callcenter.errors.ConflictError` with the reason when it cannot
        be done now."""
        controller, loop = self.controller, self._loop
        if controller is None or loop is None:
            raise ConflictError("calls are not connected to Asterisk now; try again shortly")
        job = (
            controller.supervise(agent, supervisor, mode, actor)
            if mode is not None
            else controller.stop_supervising(agent, supervisor, actor)
        )
        return asyncio.run_coroutine_threadsafe(job, loop).result(timeout=CONTROL_TIMEOUT_S)

    def trunk_states(self) -> dict[str, str]:
        """From a request thread: ARI's state of each trunk's endpoint (``online`` /
        ``offline`` / ``unknown``) by trunk name; empty while Asterisk is not connected."""
        controller, loop = self.controller, self._loop
        if controller is None or loop is None:
            return {}
        job = controller.ari.request("GET", "/endpoints/PJSIP")
        try:
            endpoints = asyncio.run_coroutine_threadsafe(job, loop).result(CONTROL_TIMEOUT_S)
        except (AriError, AriUnavailableError, TimeoutError) as e:
            log.warning("voice: trunk states not read: %s", e)
            return {}
        return {
            str(e["resource"]).removeprefix(TRUNK_PREFIX): str(e.get("state", "unknown"))
            for e in endpoints or ()
            if str(e.get("resource", "")).startswith(TRUNK_PREFIX)
        }

    def listener(self, applied: Applied) -> None:
        """The engine listener: the router's decisions go to the current controller."""
        controller = self.controller
        if controller is not None:
            controller.listener(applied)

    async def run(self) -> None:
        """Until cancelled: (re)start Asterisk when embedded, connect, serve, repeat."""
        self._loop = asyncio.get_running_loop()
        delay = RETRY_FIRST_S
        try:
            while True:
                try:
                    target = await self._target()
                    await self._serve(target)
                    delay = RETRY_FIRST_S  # it was up: the next try comes quickly
                except AriUnavailableError as e:
                    log.warning("voice: Asterisk is not reachable: %s", e)
                except AriError as e:
                    log.error("voice: ARI refused us: %s", e)
                except (AsteriskError, UserError) as e:  # e.g. its ports taken: try again
                    log.error("voice: Asterisk did not start: %s", e)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_S)
        finally:
            self.connected.clear()
            if self.asterisk is not None:
                await anyio.to_thread.run_sync(self.asterisk.stop)

    async def _target(self) -> Target:
        if self.settings.voice == "external":
            return external_target(self.settings)
        running = self.asterisk
        if running is not None and running.is_running():
            return Target(running.ari_url, running.ari_auth, running.config.recordings_dir)
        if running is not None:
            log.error(
                "voice: Asterisk exited (status %s); starting it again\n%s",
                running.process.returncode,
                running.log_tail(10),
            )
            await anyio.to_thread.run_sync(running.stop)
            self.restarts += 1
        # (voice/asterisk.py forks it from one long-lived thread: the parent-death signal
        # follows the thread that started a child)
        self.asterisk = running = await anyio.to_thread.run_sync(self._start_embedded)
        log.info("voice: Asterisk started (SIP %s:%d, pid %d)", running.config.host,
                 running.config.sip_port, running.pid)  # fmt: skip
        return Target(running.ari_url, running.ari_auth, running.config.recordings_dir)

    def _start_embedded(self) -> RunningAsterisk:
        s = self.settings
        return start_asterisk(
            find_install(s.cache_dir),
            app=s.voice_app,
            extra=self.config_text(),
            host=s.voice_bind,
            sip_port=s.voice_sip_port,
            http_port=s.voice_http_port,
            # phones' registrations survive an Asterisk restart: they need not register
            # again before they can ring
            db_dir=s.data_dir / "asterisk",
        )

    async def _serve(self, target: Target) -> None:
        async with Ari(target.url, target.auth) as ari:
            await ari.info()  # fails fast (and clearly) on a wrong URL or credentials
            controller = CallController(
                self.engine,
                ari,
                self.routes,
                app=self.settings.voice_app,
                recorder=self.recorder,
                voicemail=self.voicemail,
                phone_region=self.settings.phone_region,
                recordings_dir=target.recordings,
            )
            self.controller = controller
            stream = await connect_events(target.url, target.auth, self.settings.voice_app)
            try:  # the application exists once its socket is open
                await ari.filter_events(self.settings.voice_app, HANDLED_EVENTS)
            except AriError as e:  # an older Asterisk: every event comes, and is skipped
                log.info("voice: ARI event filter not set (%s); reading every event", e)
            self.connected.set()
            log.info("voice: connected to ARI at %s", target.url)
            try:
                await controller.run(stream)
            finally:
                await stream.aclose()
                self.connected.clear()
                self.controller = None
                await controller.drain()
            log.warning("voice: the ARI event socket closed; connecting again")


__all__ = ["Target", "VoiceError", "VoiceService", "check_voice", "external_target"]
