"""The desk's softphone on real calls: a fresh credential for the signed-in agent's
WebRTC device, applied to the running Asterisk, and the config the page's softphone
registers with (``POST /api/desk/phone``; ``docs/voice.md``, "The desk on a call").

- :func:`issue_desk_phone` — for an agent whose device is ``webrtc``: a new random
  password (the previous one stops working), valid ``desk_phone_ttl_s``, written and
  committed, then the embedded Asterisk reloads PJSIP (:meth:`Voice.reload`), so the
  answer's password registers at once. Refusals are :class:`DeskPhoneError` (409) with
  a machine word the desk acts on: ``voice_off``, ``sip_phone`` (the agent answers on a
  desk phone: the desk shows the offer and says so), ``no_phone``, ``voice_unavailable``.
- :func:`ws_url` — where browsers reach Asterisk's SIP over WebSocket: the
  ``voice_ws_url`` setting, else ``ws://<voice_bind>:<voice_http_port>/ws`` of the
  embedded Asterisk (its actual port when the setting asks for any free one).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.errors import ConflictError, NotFoundError
from callcenter.live.voice.admin import issue_webrtc_credential
from callcenter.live.voice.config import ReloadError
from callcenter.live.voice.service import VoiceService
from callcenter.live.voice.setup import Voice
from callcenter.settings import Settings
from callcenter.storage.tables import VoiceDevice
from callcenter.storage.tables.people import User
from callcenter.voice.asterisk import RunningAsterisk

WS_PATH: Final = "/ws"  # Asterisk's HTTP server serves SIP over WebSocket here


class DeskPhoneError(ConflictError):
    """The desk cannot have a softphone now; ``code`` says why (``voice_off``,
    ``sip_phone``, ``no_phone``, ``voice_unavailable``)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class PhoneConfig:
    """What ``static/softphone.js`` ``start()`` takes, and when the password expires."""

    ws_url: str
    uri: str
    authorization_user: str
    password: str
    display_name: str
    expires_at: float

    def as_json(self) -> dict[str, str | float]:
        return {
            "wsUrl": self.ws_url,
            "uri": self.uri,
            "authorizationUser": self.authorization_user,
            "password": self.password,
            "displayName": self.display_name,
            "expiresAt": self.expires_at,
        }


def _host(address: str) -> str:
    """``address`` as a URL's host (an IPv6 address in brackets)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    return f"[{ip}]" if ip.version == 6 else str(ip)


def ws_url(settings: Settings, running: RunningAsterisk | None = None) -> str | None:
    """The SIP-over-WebSocket URL for browsers: ``voice_ws_url`` when set; with voice
    ``embedded``, ``ws://<voice_bind>:<port>/ws`` where the port is
    ``voice_http_port``, or, when that is 0 (any free port), the running Asterisk's
    (None before it has started); None with voice ``external`` and no setting."""
    if settings.voice_ws_url:
        return settings.voice_ws_url
    if settings.voice != "embedded":
        return None
    port = settings.voice_http_port
    if port == 0:
        if running is None:
            return None
        port = running.config.http_port
    return f"ws://{_host(settings.voice_bind)}:{port}{WS_PATH}"


def issue_desk_phone(
    sessions: Callable[[], Session],
    agent: str,
    *,
    settings: Settings,
    voice: VoiceService | None,
    now: float,
    supervising: bool = False,
) -> PhoneConfig:
    """A fresh softphone credential for ``agent`` (a username: an agent's on the desk, a
    supervisor's or manager's on the wallboard with ``supervising``; its device must be
    ``webrtc``), committed through ``sessions`` (the server's write sessions) and applied
    to the running embedded Asterisk before this returns. Raises
    :class:`DeskPhoneError`."""
    if voice is None or settings.voice == "off":
        raise DeskPhoneError("calls are off in this center (serve --voice)", "voice_off")
    url = ws_url(settings, voice.asterisk)
    if url is None:
        why = (
            "voice = external needs CALLCENTER_VOICE_WS_URL (where browsers reach "
            "Asterisk's SIP over WebSocket, e.g. wss://pbx.example/ws)"
            if settings.voice == "external"
            else "the embedded Asterisk has not started yet; try again shortly"
        )
        raise DeskPhoneError(why, "voice_unavailable")
    with sessions() as s, s.begin():
        row = s.execute(select(User.id, User.display_name).where(User.username == agent)).first()
        if row is None:
            raise NotFoundError("agent", agent)
        kind = s.scalar(select(VoiceDevice.kind).where(VoiceDevice.user_id == row.id))
        if kind == "sip" and supervising:
            raise DeskPhoneError(
                f"{agent!r} listens on a SIP desk phone (device sip), not in the browser: "
                "it rings when you listen, whisper or barge",
                "sip_phone",
            )
        if kind == "sip":
            raise DeskPhoneError(
                f"agent {agent!r} answers calls on a SIP desk phone (device sip), not in "
                "the browser: the desk shows the offer, answer it on the phone",
                "sip_phone",
            )
        if kind != "webrtc":
            raise DeskPhoneError(
                f"agent {agent!r} has no phone; an administrator gives one in "
                "Telephony: phones (kind webrtc for the desk's softphone)",
                "no_phone",
            )
        cred = issue_webrtc_credential(s, agent, now, settings.desk_phone_ttl_s)
        display = row.display_name or agent
    if isinstance(voice, Voice):
        try:
            voice.reload()
        except (ReloadError, OSError) as e:
            raise DeskPhoneError(
                f"Asterisk did not take the new phone credential: {e}", "voice_unavailable"
            ) from e
    host = url.split("://", 1)[1].split("/", 1)[0]
    host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return PhoneConfig(
        ws_url=url,
        uri=f"sip:{cred.username}@{host}",
        authorization_user=cred.username,
        password=cred.password,
        display_name=display,
        expires_at=cred.expires_at,
    )


__all__ = ["WS_PATH", "DeskPhoneError", "PhoneConfig", "issue_desk_phone", "ws_url"]
