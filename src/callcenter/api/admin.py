"""Administration API: skills, queues, agent profiles, teams, business hours, pause
reasons and dispositions under ``/api/admin/...``.

Reading needs ``config.read`` (the pause-reason and disposition lists also ``desk``, for
the agent desktop: :func:`require_any`), changing ``config.write``.  Each route parses,
calls a service of :mod:`callcenter.live.admin` and returns its result; the rules live
there, ``docs/server-admin.md`` lists them.

**Changes the router must know.**  A change to queues or agent profiles (and to users'
role or active flag, ``api/users.py``) runs with ``routing=True`` in the center's
:class:`~callcenter.live.admin.uow.UnitOfWork`: committed, then the routing engine
reloaded, still inside the request, and taken back if the engine refuses it (409) — so
the database and the router never disagree for longer than one request.  All writes
commit inside the handler, so the answer is sent only once the change is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends

from callcenter.api.admin_schemas import (
    AgentIn,
    AgentOut,
    AgentPatch,
    DispositionIn,
    DispositionOut,
    DispositionPatch,
    HoursIn,
    HoursOut,
    HoursPatch,
    PauseReasonIn,
    PauseReasonOut,
    PauseReasonPatch,
    QueueIn,
    QueueOut,
    QueuePatch,
    SkillIn,
    SkillOut,
    SkillPatch,
    TeamIn,
    TeamOut,
    TeamPatch,
)
from callcenter.api.audit import Acting
from callcenter.api.center import Center, center
from callcenter.api.deps import CurrentUser, Db, require
from callcenter.api.errors import ApiError
from callcenter.auth.permissions import Permission, allowed
from callcenter.auth.service import Principal
from callcenter.live.admin import agents, config, hours, people
from callcenter.live.admin import schemas as results  # AgentOut, QueueOut: see admin_schemas
from callcenter.live.admin.uow import UnitOfWork
from callcenter.live.voice.flows import prompt_catalogue

router = APIRouter(tags=["admin"])


def require_any(*permissions: Permission) -> Callable[[Principal], Principal]:
    """A dependency that lets through principals holding at least one of ``permissions``.

    The returned function carries ``permissions`` (a frozenset) so that the route walker
    of the security tests knows what the route needs.
    """
    needed = frozenset(permissions)

    def check(p: CurrentUser) -> Principal:
        if not any(allowed(p.role, x) for x in needed):
            names = " or ".join(sorted(x.value for x in needed))
            raise ApiError(403, f"role {p.role.value!r} may not do this ({names})")
        return p

    check.permissions = needed  # type: ignore[attr-defined]
    return check


CenterDep = Annotated[Center, Depends(center)]


def unit_of_work(c: CenterDep, a: Acting) -> UnitOfWork:
    """The center's :class:`UnitOfWork`: its sessions, routing engine and clock, and who
    acts (every row the change writes is recorded in the audit log for them)."""
    return UnitOfWork(
        sessions=c.sessions, engine=c.engine, dialect=c.db.dialect.name, clock=c.clock, actor=a
    )


Reader = Annotated[Principal, Depends(require(Permission.CONFIG_READ))]
Writer = Annotated[Principal, Depends(require(Permission.CONFIG_WRITE))]
DeskOrReader = Annotated[Principal, Depends(require_any(Permission.DESK, Permission.CONFIG_READ))]
Work = Annotated[UnitOfWork, Depends(unit_of_work)]

# --------------------------------------------------------------------------- skills


@router.get("/api/admin/skills", response_model=list[SkillOut])
def list_skills(s: Db, _p: Reader) -> list[SkillOut]:
    return config.list_skills(s)


@router.get("/api/admin/skills/{skill_id}", response_model=SkillOut)
def get_skill(skill_id: int, s: Db, _p: Reader) -> SkillOut:
    return config.get_skill(s, skill_id)


@router.post("/api/admin/skills", response_model=SkillOut, status_code=201)
def create_skill(body: SkillIn, s: Db, w: Work, _p: Writer) -> SkillOut:
    return w.commit(s, lambda t: config.create_skill(t, body))


@router.patch("/api/admin/skills/{skill_id}", response_model=SkillOut)
def update_skill(skill_id: int, body: SkillPatch, s: Db, w: Work, _p: Writer) -> SkillOut:
    return w.commit(s, lambda t: config.update_skill(t, skill_id, body))


@router.delete("/api/admin/skills/{skill_id}", status_code=204)
def delete_skill(skill_id: int, s: Db, w: Work, _p: Writer) -> None:
    """Remove a skill no queue requires and no agent holds (409 names who uses it)."""
    w.commit(s, lambda t: config.delete_skill(t, skill_id))


# --------------------------------------------------------------------------- queues


@router.get("/api/admin/queues", response_model=list[QueueOut])
def list_queues(s: Db, _p: Reader, active: bool | None = None) -> list[results.QueueOut]:
    return config.list_queues(s, active)


@router.get("/api/admin/queues/{queue_id}", response_model=QueueOut)
def get_queue(queue_id: int, s: Db, _p: Reader) -> results.QueueOut:
    return config.get_queue(s, queue_id)


@router.post("/api/admin/queues", response_model=QueueOut, status_code=201)
def create_queue(body: QueueIn, s: Db, w: Work, c: CenterDep, _p: Writer) -> results.QueueOut:
    prompts = prompt_catalogue(c.settings).in_any_language
    return w.commit(s, lambda t: config.create_queue(t, body, prompts=prompts), routing=True)


@router.patch("/api/admin/queues/{queue_id}", response_model=QueueOut)
def update_queue(
    queue_id: int, body: QueuePatch, s: Db, w: Work, c: CenterDep, _p: Writer
) -> results.QueueOut:
    prompts = prompt_catalogue(c.settings).in_any_language
    return w.commit(
        s, lambda t: config.update_queue(t, queue_id, body, prompts=prompts), routing=True
    )


@router.delete("/api/admin/queues/{queue_id}", status_code=204)
def delete_queue(queue_id: int, s: Db, w: Work, _p: Writer) -> None:
    """Deactivate the queue (its name stays in history); 409 while it has open contacts."""
    w.commit(s, lambda t: config.deactivate_queue(t, queue_id), routing=True)


# --------------------------------------------------------------------------- agents


@router.get("/api/admin/agents", response_model=list[AgentOut])
def list_agents(s: Db, _p: Reader, active: bool | None = None) -> list[results.AgentOut]:
    return agents.list_agents(s, active)


@router.get("/api/admin/agents/{agent_id}", response_model=AgentOut)
def get_agent(agent_id: int, s: Db, _p: Reader) -> results.AgentOut:
    return agents.get_agent(s, agent_id)


@router.post("/api/admin/agents", response_model=AgentOut, status_code=201)
def create_agent(body: AgentIn, s: Db, w: Work, _p: Writer) -> results.AgentOut:
    """An agent profile for a user with role agent that has none (users of role agent
    get one when created: ``POST /api/users``)."""
    return w.commit(s, lambda t: agents.create_agent(t, body), routing=True)


@router.patch("/api/admin/agents/{agent_id}", response_model=AgentOut)
def update_agent(agent_id: int, body: AgentPatch, s: Db, w: Work, _p: Writer) -> results.AgentOut:
    return w.commit(s, lambda t: agents.update_agent(t, agent_id, body), routing=True)


@router.delete("/api/admin/agents/{agent_id}", status_code=204)
def delete_agent(agent_id: int, s: Db, w: Work, _p: Writer) -> None:
    """Remove the profile of a user who is no longer an active agent (else 409)."""
    w.commit(s, lambda t: agents.delete_agent(t, agent_id), routing=True)


# --------------------------------------------------------------------------- teams


@router.get("/api/admin/teams", response_model=list[TeamOut])
def list_teams(s: Db, _p: Reader) -> list[TeamOut]:
    return people.list_teams(s)


@router.get("/api/admin/teams/{team_id}", response_model=TeamOut)
def get_team(team_id: int, s: Db, _p: Reader) -> TeamOut:
    return people.get_team(s, team_id)


@router.post("/api/admin/teams", response_model=TeamOut, status_code=201)
def create_team(body: TeamIn, s: Db, w: Work, _p: Writer) -> TeamOut:
    return w.commit(s, lambda t: people.create_team(t, body))


@router.patch("/api/admin/teams/{team_id}", response_model=TeamOut)
def update_team(team_id: int, body: TeamPatch, s: Db, w: Work, _p: Writer) -> TeamOut:
    return w.commit(s, lambda t: people.update_team(t, team_id, body))


@router.delete("/api/admin/teams/{team_id}", status_code=204)
def delete_team(team_id: int, s: Db, w: Work, _p: Writer) -> None:
    """Remove a team that has no members (409 names them)."""
    w.commit(s, lambda t: people.delete_team(t, team_id))


# --------------------------------------------------------------------------- business hours


@router.get("/api/admin/business-hours", response_model=list[HoursOut])
def list_hours(s: Db, c: CenterDep, _p: Reader) -> list[HoursOut]:
    return hours.list_hours(s, now=c.clock())


@router.get("/api/admin/business-hours/{hours_id}", response_model=HoursOut)
def get_hours(hours_id: int, s: Db, c: CenterDep, _p: Reader) -> HoursOut:
    return hours.get_hours(s, hours_id, now=c.clock())


@router.post("/api/admin/business-hours", response_model=HoursOut, status_code=201)
def create_hours(body: HoursIn, s: Db, w: Work, _p: Writer) -> HoursOut:
    return w.commit(s, lambda t: hours.create_hours(t, body, now=w.clock()))


@router.patch("/api/admin/business-hours/{hours_id}", response_model=HoursOut)
def update_hours(hours_id: int, body: HoursPatch, s: Db, w: Work, _p: Writer) -> HoursOut:
    return w.commit(s, lambda t: hours.update_hours(t, hours_id, body, now=w.clock()))


@router.delete("/api/admin/business-hours/{hours_id}", status_code=204)
def delete_hours(hours_id: int, s: Db, w: Work, _p: Writer) -> None:
    """Remove opening hours no queue uses (409 names the queues)."""
    w.commit(s, lambda t: hours.delete_hours(t, hours_id))


# --------------------------------------------------------------------------- pause reasons


@router.get("/api/admin/pause-reasons", response_model=list[PauseReasonOut])
def list_pause_reasons(s: Db, _p: DeskOrReader, active: bool | None = None) -> list[PauseReasonOut]:
    """Pause reasons (agents read them for the desktop: ``?active=true``)."""
    return config.list_pause_reasons(s, active)


@router.get("/api/admin/pause-reasons/{reason_id}", response_model=PauseReasonOut)
def get_pause_reason(reason_id: int, s: Db, _p: DeskOrReader) -> PauseReasonOut:
    return config.get_pause_reason(s, reason_id)


@router.post("/api/admin/pause-reasons", response_model=PauseReasonOut, status_code=201)
def create_pause_reason(body: PauseReasonIn, s: Db, w: Work, _p: Writer) -> PauseReasonOut:
    return w.commit(s, lambda t: config.create_pause_reason(t, body))


@router.patch("/api/admin/pause-reasons/{reason_id}", response_model=PauseReasonOut)
def update_pause_reason(
    reason_id: int, body: PauseReasonPatch, s: Db, w: Work, _p: Writer
) -> PauseReasonOut:
    return w.commit(s, lambda t: config.update_pause_reason(t, reason_id, body))


@router.delete("/api/admin/pause-reasons/{reason_id}", status_code=204)
def delete_pause_reason(reason_id: int, s: Db, w: Work, _p: Writer) -> None:
    """Deactivate the reason: agents can no longer pick it; history keeps its name."""
    w.commit(s, lambda t: config.deactivate_pause_reason(t, reason_id))


# --------------------------------------------------------------------------- dispositions


@router.get("/api/admin/dispositions", response_model=list[DispositionOut])
def list_dispositions(s: Db, _p: DeskOrReader, active: bool | None = None) -> list[DispositionOut]:
    """Dispositions (agents read them to wrap up a contact: ``?active=true``)."""
    return config.list_dispositions(s, active)


@router.get("/api/admin/dispositions/{disposition_id}", response_model=DispositionOut)
def get_disposition(disposition_id: int, s: Db, _p: DeskOrReader) -> DispositionOut:
    return config.get_disposition(s, disposition_id)


@router.post("/api/admin/dispositions", response_model=DispositionOut, status_code=201)
def create_disposition(body: DispositionIn, s: Db, w: Work, _p: Writer) -> DispositionOut:
    return w.commit(s, lambda t: config.create_disposition(t, body))


@router.patch("/api/admin/dispositions/{disposition_id}", response_model=DispositionOut)
def update_disposition(
    disposition_id: int, body: DispositionPatch, s: Db, w: Work, _p: Writer
) -> DispositionOut:
    return w.commit(s, lambda t: config.update_disposition(t, disposition_id, body))


@router.delete("/api/admin/dispositions/{disposition_id}", status_code=204)
def delete_disposition(disposition_id: int, s: Db, w: Work, _p: Writer) -> None:
    """Deactivate the disposition: no longer offered; contacts keep their code."""
    w.commit(s, lambda t: config.deactivate_disposition(t, disposition_id))


__all__ = ["CenterDep", "Work", "require_any", "router", "unit_of_work"]
