"""Telephony configuration: SIP trunks, telephone numbers (DIDs) and agents' devices.

Rendered into Asterisk's ``pjsip.conf`` by ``live/voice/config.py``
(:mod:`callcenter.voice.pjsip_config`); changed through ``/api/admin/voice/...``.

Secrets: a register trunk's ``password`` is the carrier's (Asterisk must send it, so it
is stored as given; the API never returns it and the audit log shows only that it
changed).  A device keeps no password at all: only the digest ``ha1`` =
``md5(sip_username:realm:password)``, which is what Asterisk checks a REGISTER or INVITE
against; the password is shown once when it is generated.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Double, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.storage.base import Base


class VoiceTrunk(Base):
    """A carrier's SIP trunk: ``ip`` (identified by ``networks``) or ``register``
    (we register to ``server`` with ``username``/``password``)."""

    __tablename__ = "voice_trunks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(48), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    networks: Mapped[list[Any]] = mapped_column(JSON, default=list)
    server: Mapped[str | None] = mapped_column(String(255))
    username: Mapped[str | None] = mapped_column(String(64))
    password: Mapped[str | None] = mapped_column(String(128))
    transport: Mapped[str] = mapped_column(String(8), default="udp")
    codecs: Mapped[list[Any]] = mapped_column(JSON, default=list)
    dtmf_mode: Mapped[str] = mapped_column(String(16), default="rfc4733")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double)


class VoiceNumber(Base):
    """A telephone number (DID) and where its calls go: a voice queue or an IVR flow."""

    __tablename__ = "voice_numbers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    trunk_id: Mapped[int | None] = mapped_column(
        ForeignKey("voice_trunks.id", ondelete="SET NULL"), index=True
    )
    target_kind: Mapped[str] = mapped_column(String(8))  # queue | ivr
    target: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="en")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double)


class VoiceDevice(Base):
    """A user's telephone — an agent's for calls, a supervisor's or manager's for
    listening in —: ``webrtc`` (the desk's softphone) or ``sip`` (a desk phone).

    ``ha1`` is the digest of the current secret; for ``webrtc`` it is the one the desk
    issued last, valid until ``expires_at`` (None: no expiry — a desk phone's)."""

    __tablename__ = "voice_devices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    sip_username: Mapped[str] = mapped_column(String(80), unique=True)
    ha1: Mapped[str | None] = mapped_column(String(32))
    expires_at: Mapped[float | None] = mapped_column(Double)
    secret_set_at: Mapped[float | None] = mapped_column(Double)
    created_at: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double)


__all__ = ["VoiceDevice", "VoiceNumber", "VoiceTrunk"]


class IvrFlowRow(Base):
    """An IVR flow as its YAML text (``docs/ivr.md``), checked when saved; a number whose
    target kind is ``ivr`` names it."""

    __tablename__ = "ivr_flows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[float] = mapped_column(Double)
    updated_by: Mapped[str | None] = mapped_column(String(64))
