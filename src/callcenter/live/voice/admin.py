"""Administration of telephony: trunks, numbers (DIDs) and agents' devices.

Functions over a :class:`Session` (they flush, never commit), called inside a
:class:`~callcenter.live.admin.uow.UnitOfWork`, which records every row written in the
audit log (secrets — a trunk's ``password``, a device's ``ha1`` — only as "changed").
Every value is checked with :mod:`callcenter.voice.pjsip_config`'s checks, the ones the
renderer applies, so whatever is stored renders; a bad value raises one line naming the
field, the value and what was expected (422), a clash :class:`ConflictError` (409), an
unknown name or id :class:`NotFoundError` (404).

**Device secrets.**  A SIP desk phone's password is generated here
(:func:`secrets.token_urlsafe`: 32 characters, 192 random bits), returned once and
stored only as its digest HA1 (``md5(sip_username:realm:password)``).  The desk's WebRTC
softphone gets short-lived credentials instead (:func:`issue_webrtc_credential`): a
fresh password per issue whose HA1 and expiry replace the previous ones, so a credential
stops working when the next is issued or when it expires (after the configuration is
rendered again).
"""

from __future__ import annotations

import secrets
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.events import Channel
from callcenter.live.admin.checks import (
    NAME_RULE,
    ConflictError,
    InvalidError,
    NotFoundError,
    get_row,
    show,
)
from callcenter.live.voice.flows import check_flow_exists
from callcenter.live.voice.schemas import (
    DeviceIn,
    DeviceOut,
    DeviceSecretOut,
    NumberIn,
    NumberOut,
    NumberPatch,
    SipCredential,
    TrunkIn,
    TrunkOut,
    TrunkPatch,
)
from callcenter.storage.tables import QueueRow, VoiceDevice, VoiceNumber, VoiceTrunk
from callcenter.storage.tables.people import Role, User
from callcenter.voice import pjsip_config as pc

PASSWORD_BYTES: Final = 24
"""Random bytes of a generated SIP password (32 URL-safe characters)."""
WEBRTC_TTL_S: Final = (60.0, 86_400.0)


def _password() -> str:
    return secrets.token_urlsafe(PASSWORD_BYTES)


# --------------------------------------------------------------------------- trunks


def _trunk_out(row: VoiceTrunk) -> TrunkOut:
    return TrunkOut(
        id=row.id,
        name=row.name,
        kind=row.kind,
        networks=list(row.networks),
        server=row.server,
        username=row.username,
        has_password=bool(row.password),
        transport=row.transport,
        codecs=list(row.codecs),
        dtmf_mode=row.dtmf_mode,
        active=row.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _trunk_by_name(s: Session, name: str) -> VoiceTrunk:
    row = s.scalar(select(VoiceTrunk).where(VoiceTrunk.name == name))
    if row is None:
        raise NotFoundError("trunk", name)
    return row


def _checked_trunk(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` as they will be stored, every field checked; a register trunk keeps no
    networks, an ip trunk no server, username or password."""
    kind = values["kind"]
    if kind not in ("ip", "register"):
        raise InvalidError(f"kind: {show(kind)} is not a trunk kind; expected ip or register")
    if values["transport"] != "udp":
        raise InvalidError(f"transport: {show(values['transport'])} is not offered; expected udp")
    out = dict(values)
    out["codecs"] = list(pc.check_codecs(values["codecs"]))
    pc.check_dtmf_mode(values["dtmf_mode"])
    if kind == "ip":
        out["networks"] = list(pc.check_networks(values["networks"]))
        out |= {"server": None, "username": None, "password": None}
    else:
        for field in ("server", "username", "password"):
            if values[field] is None:
                raise InvalidError(
                    f"{field}: missing; a register trunk needs server, username and password"
                )
        pc.check_host_port(values["server"])
        pc.check_sip_user(values["username"])
        pc.check_secret(values["password"])
        out["networks"] = []
    return out


def list_trunks(s: Session) -> list[TrunkOut]:
    return [_trunk_out(r) for r in s.scalars(select(VoiceTrunk).order_by(VoiceTrunk.name))]


def with_states(trunks: list[TrunkOut], states: dict[str, str]) -> list[TrunkOut]:
    """The trunks with what Asterisk says of their carriers (``states``: ARI's endpoint
    states by trunk name). Only a trunk with one address (an ip trunk of one host, or a
    register trunk's server) is asked whether its carrier is there; the others are
    ``unknown`` (ARI calls an endpoint without contacts "offline", which says nothing)."""
    out = []
    for t in trunks:
        asked = t.kind == "register" or pc.single_host(t.networks) is not None
        state = states.get(t.name, "unknown") if asked else "unknown"
        out.append(t.model_copy(update={"state": state}))
    return out


def create_trunk(s: Session, body: TrunkIn, now: float) -> TrunkOut:
    pc.check_name(body.name, "name")
    if s.scalar(select(VoiceTrunk.id).where(VoiceTrunk.name == body.name)) is not None:
        raise ConflictError(f"trunk {body.name!r} already exists")
    values = _checked_trunk(body.model_dump())
    row = VoiceTrunk(**values, created_at=now, updated_at=now)
    s.add(row)
    s.flush()
    return _trunk_out(row)


def update_trunk(s: Session, name: str, body: TrunkPatch, now: float) -> TrunkOut:
    row = _trunk_by_name(s, name)
    stored = {k: getattr(row, k) for k in TrunkIn.model_fields if k != "name"}
    changes = body.model_dump(exclude_unset=True)
    values = _checked_trunk({**stored, **changes})
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_at = now
    s.flush()
    return _trunk_out(row)


def delete_trunk(s: Session, name: str) -> None:
    """Remove a trunk no number arrives on (409 names the numbers)."""
    row = _trunk_by_name(s, name)
    used = list(s.scalars(select(VoiceNumber.number).where(VoiceNumber.trunk_id == row.id)))
    if used:
        raise ConflictError(
            f"trunk {name!r} is used by numbers {', '.join(used)}; move or delete them first"
        )
    s.delete(row)
    s.flush()


# --------------------------------------------------------------------------- numbers


def _number_out(s: Session, row: VoiceNumber) -> NumberOut:
    trunk = s.get(VoiceTrunk, row.trunk_id) if row.trunk_id is not None else None
    return NumberOut(
        id=row.id,
        number=row.number,
        trunk=trunk.name if trunk else None,
        target_kind=row.target_kind,
        target=row.target,
        language=row.language,
        active=row.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _check_target(s: Session, kind: str, target: str) -> None:
    if kind == "ivr":
        check_flow_exists(s, target)  # a stored flow (live/voice/flows.py)
        return
    if kind != "queue":
        raise InvalidError(f"target_kind: {show(kind)} is not a target; expected queue or ivr")
    queue = s.scalar(select(QueueRow).where(QueueRow.name == target))
    if queue is None or not queue.active:
        raise InvalidError(f"target: no active queue {target!r}; expected a voice queue's name")
    if queue.channel != Channel.VOICE.value:
        raise InvalidError(
            f"target: queue {target!r} is a {queue.channel} queue; expected a voice queue"
        )


def _checked_number(s: Session, values: dict[str, Any]) -> dict[str, Any]:
    _check_target(s, values["target_kind"], values["target"])
    pc.check_language(values["language"])
    trunk = values.pop("trunk")
    values["trunk_id"] = None if trunk is None else _trunk_by_name_invalid(s, trunk).id
    return values


def _trunk_by_name_invalid(s: Session, name: str) -> VoiceTrunk:
    row = s.scalar(select(VoiceTrunk).where(VoiceTrunk.name == name))
    if row is None:
        raise InvalidError(f"trunk: no trunk {name!r}; expected a trunk's name or null")
    return row


def list_numbers(s: Session) -> list[NumberOut]:
    return [_number_out(s, r) for r in s.scalars(select(VoiceNumber).order_by(VoiceNumber.number))]


def create_number(s: Session, body: NumberIn, now: float) -> NumberOut:
    number = pc.check_number(body.number)
    if s.scalar(select(VoiceNumber.id).where(VoiceNumber.number == number)) is not None:
        raise ConflictError(f"number {number!r} already exists")
    values = _checked_number(s, body.model_dump())
    row = VoiceNumber(**values, created_at=now, updated_at=now)
    s.add(row)
    s.flush()
    return _number_out(s, row)


def update_number(s: Session, number_id: int, body: NumberPatch, now: float) -> NumberOut:
    row = get_row(s, VoiceNumber, number_id, "number")
    trunk = s.get(VoiceTrunk, row.trunk_id) if row.trunk_id is not None else None
    stored = {
        "trunk": trunk.name if trunk else None,
        "target_kind": row.target_kind,
        "target": row.target,
        "language": row.language,
        "active": row.active,
    }
    values = _checked_number(s, {**stored, **body.model_dump(exclude_unset=True)})
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_at = now
    s.flush()
    return _number_out(s, row)


def delete_number(s: Session, number_id: int) -> None:
    s.delete(get_row(s, VoiceNumber, number_id, "number"))
    s.flush()


# --------------------------------------------------------------------------- devices


PHONE_ROLES: Final = frozenset({Role.AGENT.value, Role.SUPERVISOR.value, Role.MANAGER.value})
"""Who may have a phone: agents take calls on it, supervisors and managers listen in."""


def _owner(s: Session, name: str) -> User:
    """The user ``name`` (an agent's name is its username) who may have a phone."""
    row = s.scalar(select(User).where(User.username == name))
    if row is None:
        raise NotFoundError("agent", name)
    if row.role not in PHONE_ROLES:
        raise ConflictError(
            f"user {name!r} has role {row.role!r}; phones are for agents, supervisors and managers"
        )
    return row


def _device_out(agent: str, row: VoiceDevice, password: str | None = None) -> DeviceSecretOut:
    return DeviceSecretOut(
        agent=agent,
        kind=row.kind,
        sip_username=row.sip_username,
        realm=pc.REALM,
        endpoint=f"PJSIP/{row.sip_username}",
        has_secret=row.ha1 is not None,
        secret_set_at=row.secret_set_at,
        expires_at=row.expires_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        password=password,
    )


def _public(out: DeviceSecretOut) -> DeviceOut:
    return DeviceOut(**out.model_dump(exclude={"password"}))


def list_devices(s: Session) -> list[DeviceOut]:
    rows = s.execute(
        select(User.username, VoiceDevice)
        .join(VoiceDevice, VoiceDevice.user_id == User.id)
        .order_by(User.username)
    )
    return [_public(_device_out(name, row)) for name, row in rows.tuples()]


def get_device(s: Session, agent: str) -> DeviceOut:
    a = _owner(s, agent)
    row = s.scalar(select(VoiceDevice).where(VoiceDevice.user_id == a.id))
    if row is None:
        raise NotFoundError("device of agent", agent)
    return _public(_device_out(agent, row))


def _new_secret(row: VoiceDevice, now: float) -> str:
    password = _password()
    row.ha1 = pc.ha1(row.sip_username, password)
    row.secret_set_at, row.expires_at = now, None
    return password


def set_device(s: Session, agent: str, body: DeviceIn, now: float) -> DeviceSecretOut:
    """Give ``agent`` a device of ``body.kind``, or change its kind.  A ``sip`` device
    gets a new password, returned this once; a ``webrtc`` one has no secret until the
    desk issues one (:func:`issue_webrtc_credential`).  Setting the kind it has already
    changes nothing (no new password: use :func:`reset_device_password`)."""
    if body.kind not in ("sip", "webrtc"):
        raise InvalidError(f"kind: {show(body.kind)} is not a device; expected webrtc or sip")
    a = _owner(s, agent)
    row = s.scalar(select(VoiceDevice).where(VoiceDevice.user_id == a.id))
    if row is not None and row.kind == body.kind:
        return _device_out(agent, row)
    if row is None:
        row = VoiceDevice(user_id=a.id, sip_username=pc.phone_username(a.username), created_at=now)
        s.add(row)
    row.kind, row.updated_at = body.kind, now
    password = None
    if body.kind == "sip":
        password = _new_secret(row, now)
    else:
        row.ha1 = row.secret_set_at = row.expires_at = None
    s.flush()
    return _device_out(agent, row, password)


def reset_device_password(s: Session, agent: str, now: float) -> DeviceSecretOut:
    """A new password for a SIP desk phone (the old one stops working), returned once."""
    a = _owner(s, agent)
    row = s.scalar(select(VoiceDevice).where(VoiceDevice.user_id == a.id))
    if row is None:
        raise NotFoundError("device of agent", agent)
    if row.kind != "sip":
        raise ConflictError(
            f"device of agent {agent!r} is webrtc: the desk issues its short-lived "
            "credentials; a password can be reset only for a sip desk phone"
        )
    password = _new_secret(row, now)
    row.updated_at = now
    s.flush()
    return _device_out(agent, row, password)


def delete_device(s: Session, agent: str) -> None:
    a = _owner(s, agent)
    row = s.scalar(select(VoiceDevice).where(VoiceDevice.user_id == a.id))
    if row is None:
        raise NotFoundError("device of agent", agent)
    s.delete(row)
    s.flush()


def issue_webrtc_credential(s: Session, agent: str, now: float, ttl_s: float) -> SipCredential:
    """Short-lived SIP credentials for ``agent``'s WebRTC softphone (the desk calls this
    at sign-in; then the configuration is rendered and reloaded).  Replaces the
    previous credential; valid ``ttl_s`` seconds (60 s to a day)."""
    low, high = WEBRTC_TTL_S
    if not low <= ttl_s <= high:
        raise InvalidError(f"ttl_s: {show(ttl_s)} is out of range; expected {low:g} to {high:g}")
    a = _owner(s, agent)
    row = s.scalar(select(VoiceDevice).where(VoiceDevice.user_id == a.id))
    if row is None or row.kind != "webrtc":
        raise ConflictError(f"agent {agent!r} has no webrtc device")
    password = _new_secret(row, now)
    row.expires_at = now + ttl_s
    s.flush()
    return SipCredential(
        username=row.sip_username, realm=pc.REALM, password=password, expires_at=row.expires_at
    )


__all__ = [
    "NAME_RULE",
    "PASSWORD_BYTES",
    "create_number",
    "create_trunk",
    "delete_device",
    "delete_number",
    "delete_trunk",
    "get_device",
    "issue_webrtc_credential",
    "list_devices",
    "list_numbers",
    "list_trunks",
    "reset_device_password",
    "set_device",
    "update_number",
    "update_trunk",
    "with_states",
]
