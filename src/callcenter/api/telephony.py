"""Telephony administration: ``/api/admin/voice/trunks``, ``/numbers``,
``/agents/{name}/device`` (and ``/devices``, every agent's device).

Administrators only (``users.manage``, the one permission no other role holds: trunks
carry a carrier's password and devices are how a phone reaches the center).  Each
route parses, calls :mod:`callcenter.live.voice.admin` in the center's unit of work
(every row written is on the audit log, secrets redacted) and renders its result; after
a committed change it calls the center's ``voice_listeners`` (the server reloads the
running Asterisk there).  Secrets never come back: a trunk shows ``has_password``; a
device's generated password is in the answer of the request that set or reset it, once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends

from callcenter.api.admin import CenterDep, Work
from callcenter.api.center import Center
from callcenter.api.deps import Db, require
from callcenter.auth.permissions import Permission
from callcenter.auth.service import Principal
from callcenter.live.voice import admin as voice
from callcenter.live.voice.schemas import (
    DeviceIn,
    DeviceOut,
    DeviceSecretOut,
    NumberIn,
    NumberOut,
    NumberPatch,
    TrunkIn,
    TrunkOut,
    TrunkPatch,
)

router = APIRouter(tags=["telephony"])
log = logging.getLogger(__name__)
Admin = Annotated[Principal, Depends(require(Permission.USERS_MANAGE))]
T = TypeVar("T")


def changed(c: Center, result: T) -> T:
    """Tell the center's voice listeners that a telephony change was committed; a
    listener that fails is logged (the change is stored either way)."""
    for listener in c.voice_listeners:
        try:
            listener()
        except Exception:
            log.exception("a voice listener failed after a telephony change")
    return result


def _commit(c: Center, w: Work, s: Db, change: Callable[..., T]) -> T:
    return changed(c, w.commit(s, change))


# --------------------------------------------------------------------------- trunks


@router.get("/api/admin/voice/trunks", response_model=list[TrunkOut])
def list_trunks(s: Db, c: CenterDep, _p: Admin) -> list[TrunkOut]:
    """The trunks, each with what Asterisk says of its carrier now (``state``)."""
    trunks = voice.list_trunks(s)
    if c.voice is None:
        return trunks
    return voice.with_states(trunks, c.voice.trunk_states())


@router.post("/api/admin/voice/trunks", response_model=TrunkOut, status_code=201)
def create_trunk(body: TrunkIn, s: Db, w: Work, c: CenterDep, _p: Admin) -> TrunkOut:
    return _commit(c, w, s, lambda t: voice.create_trunk(t, body, w.clock()))


@router.patch("/api/admin/voice/trunks/{name}", response_model=TrunkOut)
def update_trunk(name: str, body: TrunkPatch, s: Db, w: Work, c: CenterDep, _p: Admin) -> TrunkOut:
    return _commit(c, w, s, lambda t: voice.update_trunk(t, name, body, w.clock()))


@router.delete("/api/admin/voice/trunks/{name}", status_code=204)
def delete_trunk(name: str, s: Db, w: Work, c: CenterDep, _p: Admin) -> None:
    """Remove a trunk no number arrives on (409 names the numbers)."""
    _commit(c, w, s, lambda t: voice.delete_trunk(t, name))


# --------------------------------------------------------------------------- numbers


@router.get("/api/admin/voice/numbers", response_model=list[NumberOut])
def list_numbers(s: Db, _p: Admin) -> list[NumberOut]:
    return voice.list_numbers(s)


@router.post("/api/admin/voice/numbers", response_model=NumberOut, status_code=201)
def create_number(body: NumberIn, s: Db, w: Work, c: CenterDep, _p: Admin) -> NumberOut:
    return _commit(c, w, s, lambda t: voice.create_number(t, body, w.clock()))


@router.patch("/api/admin/voice/numbers/{number_id}", response_model=NumberOut)
def update_number(
    number_id: int, body: NumberPatch, s: Db, w: Work, c: CenterDep, _p: Admin
) -> NumberOut:
    return _commit(c, w, s, lambda t: voice.update_number(t, number_id, body, w.clock()))


@router.delete("/api/admin/voice/numbers/{number_id}", status_code=204)
def delete_number(number_id: int, s: Db, w: Work, c: CenterDep, _p: Admin) -> None:
    _commit(c, w, s, lambda t: voice.delete_number(t, number_id))


# --------------------------------------------------------------------------- devices


@router.get("/api/admin/voice/devices", response_model=list[DeviceOut])
def list_devices(s: Db, _p: Admin) -> list[DeviceOut]:
    """Every agent's device (never a secret)."""
    return voice.list_devices(s)


@router.get("/api/admin/voice/agents/{name}/device", response_model=DeviceOut)
def get_device(name: str, s: Db, _p: Admin) -> DeviceOut:
    return voice.get_device(s, name)


@router.put("/api/admin/voice/agents/{name}/device", response_model=DeviceSecretOut)
def set_device(
    name: str, body: DeviceIn, s: Db, w: Work, c: CenterDep, _p: Admin
) -> DeviceSecretOut:
    """Give the agent a device or change its kind; a new ``sip`` device's password is in
    this answer only."""
    return _commit(c, w, s, lambda t: voice.set_device(t, name, body, w.clock()))


@router.post("/api/admin/voice/agents/{name}/device/password", response_model=DeviceSecretOut)
def reset_device_password(name: str, s: Db, w: Work, c: CenterDep, _p: Admin) -> DeviceSecretOut:
    """A new password for the agent's SIP desk phone, in this answer only."""
    return _commit(c, w, s, lambda t: voice.reset_device_password(t, name, w.clock()))


@router.delete("/api/admin/voice/agents/{name}/device", status_code=204)
def delete_device(name: str, s: Db, w: Work, c: CenterDep, _p: Admin) -> None:
    _commit(c, w, s, lambda t: voice.delete_device(t, name))


__all__ = ["changed", "router"]
