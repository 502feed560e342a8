"""What the telephony administration (:mod:`.admin`) takes and returns.

As in ``live/admin/schemas.py``: ``*In`` creates, ``*Patch`` changes only the fields
set, JSON types strictly and no unknown fields; formats and references are checked by
the services (one line naming the field, the value and what was expected).  Secrets go
in and never come out: a trunk's ``password`` is shown as ``has_password``; a device's
generated password is in :class:`DeviceSecretOut`, returned once.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from callcenter.inputs import Input


class Body(Input):
    model_config = ConfigDict(strict=True, extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class TrunkIn(Body):
    name: str = Field(description="1-48 of a-z, 0-9, '-'. Cannot change later.")
    kind: str = Field(description="ip (carrier identified by source address) or register.")
    networks: list[str] = Field(
        default_factory=list, description="ip: the carrier's IP addresses or networks."
    )
    server: str | None = Field(None, description="register: the carrier's host[:port].")
    username: str | None = Field(None, description="register: the account's user name.")
    password: str | None = Field(None, description="register: write-only, never returned.")
    transport: str = Field("udp", description="udp.")
    codecs: list[str] = Field(default_factory=lambda: ["ulaw", "alaw"], description="G.711.")
    dtmf_mode: str = Field("rfc4733", description="rfc4733, info, inband or auto.")
    active: bool = True


class TrunkPatch(Body):
    kind: str | None = None
    networks: list[str] | None = None
    server: str | None = None
    username: str | None = None
    password: str | None = None
    transport: str | None = None
    codecs: list[str] | None = None
    dtmf_mode: str | None = None
    active: bool | None = None


class TrunkOut(Out):
    id: int
    name: str
    kind: str
    networks: list[str]
    server: str | None
    username: str | None
    has_password: bool
    transport: str
    codecs: list[str]
    dtmf_mode: str
    active: bool
    created_at: float
    updated_at: float
    state: str | None = Field(
        default=None,
        description=(
            "what Asterisk says of the carrier now: online / offline (asked every minute "
            "when the trunk has one address or a server), unknown; null with voice off"
        ),
    )


class NumberIn(Body):
    number: str = Field(description="Digits with an optional leading +. Cannot change later.")
    trunk: str | None = Field(None, description="The trunk it arrives on (a name), or null.")
    target_kind: str = Field(description="queue or ivr.")
    target: str = Field(description="A voice queue's name, or an IVR flow's name.")
    language: str = Field("en", description="Prompts' language: en, ru, ...")
    active: bool = True


class NumberPatch(Body):
    trunk: str | None = None
    target_kind: str | None = None
    target: str | None = None
    language: str | None = None
    active: bool | None = None


class NumberOut(Out):
    id: int
    number: str
    trunk: str | None
    target_kind: str
    target: str
    language: str
    active: bool
    created_at: float
    updated_at: float


class DeviceIn(Body):
    kind: str = Field(description="webrtc (the desk's softphone) or sip (a desk phone).")


class DeviceOut(Out):
    agent: str
    kind: str
    sip_username: str
    realm: str
    endpoint: str
    has_secret: bool
    secret_set_at: float | None
    expires_at: float | None
    created_at: float
    updated_at: float


class DeviceSecretOut(DeviceOut):
    password: str | None = Field(
        None, description="The SIP password, shown this once (a sip device set or reset)."
    )


class SipCredential(Out):
    username: str
    realm: str
    password: str
    expires_at: float


__all__ = [
    "DeviceIn",
    "DeviceOut",
    "DeviceSecretOut",
    "NumberIn",
    "NumberOut",
    "NumberPatch",
    "SipCredential",
    "TrunkIn",
    "TrunkOut",
    "TrunkPatch",
]
