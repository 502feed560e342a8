"""Supervising calls: a supervisor or manager listens to, whispers to or barges into an
agent's call in progress, from the wallboard's agent row or here
(``docs/call-control.md``). Supervisors: the agents of the teams they supervise;
managers: every agent. Each start, switch and stop is a ``supervise`` event and an audit
entry ``call.supervise``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from callcenter.api.audit import Acting
from callcenter.api.center import Center, center
from callcenter.api.deps import Db, require
from callcenter.api.desk_schemas import SoftphoneConfig
from callcenter.api.errors import ApiError
from callcenter.auth.permissions import Permission
from callcenter.auth.service import Principal
from callcenter.errors import ConflictError
from callcenter.inputs import Input
from callcenter.live.voice.model import Mode
from callcenter.live.voice.supervision import check_scope

CenterDep = Annotated[Center, Depends(center)]
Supervisor = Annotated[Principal, Depends(require(Permission.SUPERVISE))]

router = APIRouter(tags=["supervision"])


class SuperviseIn(Input):
    mode: Mode = Field(
        description="listen (nobody hears you), whisper (only the agent hears you) or barge "
        "(everyone hears you)"
    )


class SupervisionOut(BaseModel):
    agent: str
    contact_id: str = Field(description="the call supervised")
    mode: Mode | None = Field(description="what you do on it now (None: you left it)")


def _voice(c: Center) -> None:
    if c.voice is None:
        raise ConflictError("calls are off in this center (serve --voice)")


def _check(s: Session, p: Principal, agent: str) -> None:
    check_scope(s, p, agent)
    # end the read before the controller logs the step: a transaction left open here
    # would hold SQLite's lock against the engine's write while this request waits for it
    s.commit()


@router.post("/api/supervision/phone", response_model=SoftphoneConfig)
def phone(p: Supervisor, c: CenterDep) -> SoftphoneConfig:
    """The wallboard's softphone for a supervisor or manager whose phone is ``webrtc``:
    a fresh short-lived SIP credential, as the desk's (``POST /api/desk/phone``); the
    call to listen on then rings in the browser and is answered there at once. 409 with
    code ``voice_off``, ``sip_phone`` (listen on the desk phone), ``no_phone`` or
    ``voice_unavailable``."""
    from callcenter.live.voice.desk_phone import DeskPhoneError, issue_desk_phone

    try:
        got = issue_desk_phone(c.write_sessions, p.username, settings=c.settings,
                               voice=c.voice, now=c.clock(), supervising=True)  # fmt: skip
    except DeskPhoneError as e:
        raise ApiError(409, str(e), e.code) from e
    return SoftphoneConfig.model_validate(got.as_json())


@router.put("/api/supervision/agents/{agent}", response_model=SupervisionOut)
def supervise(
    agent: str, body: SuperviseIn, p: Supervisor, s: Db, c: CenterDep, a: Acting
) -> SupervisionOut:
    """Start supervising ``agent``'s call in progress, or switch mode: your phone rings
    (the agent's name as caller id); answer it to hear the call. 409 with the reason when
    it cannot be done now (the agent is not on a call, someone else supervises it, you
    have no phone); 404 for an agent outside your teams."""
    _voice(c)
    _check(s, p, agent)
    assert c.voice is not None
    contact = c.voice.supervise(agent, p.username, body.mode, a)
    return SupervisionOut(agent=agent, contact_id=contact, mode=body.mode)


@router.delete("/api/supervision/agents/{agent}", response_model=SupervisionOut)
def stop(agent: str, p: Supervisor, s: Db, c: CenterDep, a: Acting) -> SupervisionOut:
    """Leave ``agent``'s call (your phone is hung up)."""
    _voice(c)
    _check(s, p, agent)
    assert c.voice is not None
    contact = c.voice.supervise(agent, p.username, None, a)
    return SupervisionOut(agent=agent, contact_id=contact, mode=None)


__all__ = ["router"]
