"""Administration API: skills, queues, agent profiles, teams, business hours, pause
reasons and dispositions under ``/api/admin/...``, and the ``/admin`` page.

Reading needs ``config.read`` (the pause-reason and disposition lists also ``desk``, for
the agent desktop: :func:`require_any`), changing ``config.write``.  The rules live in
:mod:`callcenter.live.admin.config`; ``docs/server-admin.md`` lists them.

**Changes the router must know.**  The routing engine builds its router from committed
tables, so a change to queues or agent profiles (and to users' role or active flag,
``api/users.py``) is committed first and then :meth:`LiveEngine.reload` is called, still
inside the request.  If the engine cannot replay the work in flight under the new
configuration it raises :class:`RoutingError`; the change is then taken back with a
:class:`~callcenter.live.admin.undo.ChangeLog` of exactly the rows it wrote, and the
answer is 409 — so the database and the router never disagree for longer than one
request.  All writes commit inside the handler, so the answer is sent only once the
change is stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

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
from callcenter.api.center import Center, center
from callcenter.api.deps import CurrentUser, Db, require
from callcenter.api.errors import ApiError
from callcenter.auth.permissions import Permission, allowed
from callcenter.auth.service import Principal
from callcenter.live.admin import checks as chk
from callcenter.live.admin import config as svc
from callcenter.live.admin import people
from callcenter.live.admin.hours import describe, is_open
from callcenter.live.admin.undo import ChangeLog
from callcenter.routing import RoutingError
from callcenter.storage.tables import (
    AgentRow,
    BusinessHours,
    Disposition,
    PauseReason,
    QueueRow,
    Skill,
    Team,
    User,
)

router = APIRouter(tags=["admin"])
T = TypeVar("T")
_ATTEMPTS = 5


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


Reader = Annotated[Principal, Depends(require(Permission.CONFIG_READ))]
Writer = Annotated[Principal, Depends(require(Permission.CONFIG_WRITE))]
DeskOrReader = Annotated[Principal, Depends(require_any(Permission.DESK, Permission.CONFIG_READ))]
CenterDep = Annotated[Center, Depends(center)]


def _stale_snapshot(c: Center, e: OperationalError) -> bool:
    """SQLite refusing a write because another connection wrote since this transaction
    began reading ("database is locked", SQLITE_BUSY): safe to run the change again."""
    return c.db.dialect.name == "sqlite" and "database is locked" in str(e.orig)


def commit(c: Center, s: Session, change: Callable[[Session], T], *, routing: bool = False) -> T:
    """Run ``change`` in a transaction of its own and commit it; with ``routing`` reload
    the routing engine afterwards and take the change back if the engine refuses it.

    The request's own transaction (who is asking; a token's last use) is committed
    first, so it holds no lock while the change waits for one.  ``change`` returns the
    response body, built before its commit.  On SQLite, a change that lost the race for
    the write lock is run again from the start (a few times).
    """
    s.commit()
    log: ChangeLog | None = None
    for attempt in range(_ATTEMPTS):
        try:
            with c.sessions.begin() as w:
                log = ChangeLog(w) if routing else None
                try:
                    out = change(w)
                    w.flush()
                finally:
                    if log is not None:
                        log.close()
            break
        except OperationalError as e:
            if attempt == _ATTEMPTS - 1 or not _stale_snapshot(c, e):
                raise
            time.sleep(0.01 * (attempt + 1))
    if log is not None:
        try:
            c.engine.reload()
        except RoutingError as e:
            with c.sessions.begin() as undo:
                log.undo(undo)
            raise ApiError(
                409,
                f"the routing engine cannot take this change while work is in progress: {e}; "
                "nothing was changed",
            ) from None
    return out


def _get(s: Session, model: type[chk.R], row_id: int, what: str) -> chk.R:
    return chk.get_row(s, model, row_id, what)


# --------------------------------------------------------------------------- skills


@router.get("/api/admin/skills", response_model=list[SkillOut])
def list_skills(s: Db, _p: Reader) -> list[SkillOut]:
    return [SkillOut.model_validate(r) for r in s.scalars(select(Skill).order_by(Skill.name))]


@router.get("/api/admin/skills/{skill_id}", response_model=SkillOut)
def get_skill(skill_id: int, s: Db, _p: Reader) -> SkillOut:
    return SkillOut.model_validate(_get(s, Skill, skill_id, "skill"))


@router.post("/api/admin/skills", response_model=SkillOut, status_code=201)
def create_skill(body: SkillIn, s: Db, c: CenterDep, _p: Writer) -> SkillOut:
    data = body.model_dump(exclude_unset=True)
    return commit(c, s, lambda s: SkillOut.model_validate(svc.save_skill(s, data)))


@router.patch("/api/admin/skills/{skill_id}", response_model=SkillOut)
def update_skill(skill_id: int, body: SkillPatch, s: Db, c: CenterDep, _p: Writer) -> SkillOut:
    data = body.model_dump(exclude_unset=True)
    return commit(c, s, lambda s: SkillOut.model_validate(svc.save_skill(s, data, skill_id)))


@router.delete("/api/admin/skills/{skill_id}", status_code=204)
def delete_skill(skill_id: int, s: Db, c: CenterDep, _p: Writer) -> None:
    """Remove a skill no queue requires and no agent holds (409 names who uses it)."""
    commit(c, s, lambda s: svc.delete_skill(s, skill_id))


# --------------------------------------------------------------------------- queues


@router.get("/api/admin/queues", response_model=list[QueueOut])
def list_queues(s: Db, _p: Reader, active: bool | None = None) -> list[QueueOut]:
    q = select(QueueRow).order_by(QueueRow.name)
    if active is not None:
        q = q.where(QueueRow.active == active)
    return [QueueOut.model_validate(r) for r in s.scalars(q)]


@router.get("/api/admin/queues/{queue_id}", response_model=QueueOut)
def get_queue(queue_id: int, s: Db, _p: Reader) -> QueueOut:
    return QueueOut.model_validate(_get(s, QueueRow, queue_id, "queue"))


@router.post("/api/admin/queues", response_model=QueueOut, status_code=201)
def create_queue(body: QueueIn, s: Db, c: CenterDep, _p: Writer) -> QueueOut:
    data = body.model_dump(exclude_unset=True)
    return commit(c, s, lambda s: QueueOut.model_validate(svc.save_queue(s, data)), routing=True)


@router.patch("/api/admin/queues/{queue_id}", response_model=QueueOut)
def update_queue(queue_id: int, body: QueuePatch, s: Db, c: CenterDep, _p: Writer) -> QueueOut:
    data = body.model_dump(exclude_unset=True)
    return commit(
        c, s, lambda s: QueueOut.model_validate(svc.save_queue(s, data, queue_id)), routing=True
    )


@router.delete("/api/admin/queues/{queue_id}", status_code=204)
def delete_queue(queue_id: int, s: Db, c: CenterDep, _p: Writer) -> None:
    """Deactivate the queue (its name stays in history); 409 while it has open contacts."""
    commit(c, s, lambda s: svc.deactivate_queue(s, queue_id), routing=True)


# --------------------------------------------------------------------------- agents


def agent_out(s: Session, row: AgentRow) -> AgentOut:
    user = s.get(User, row.user_id)
    assert user is not None  # agents.user_id is a foreign key
    return AgentOut(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        display_name=user.display_name,
        team_id=user.team_id,
        skills={str(k): int(v) for k, v in row.skills.items()},
        capacity=row.capacity,
        queues=list(row.queues) if row.queues is not None else None,
        max_no_answer=row.max_no_answer,
        status=row.status,
        status_reason=row.status_reason,
        status_since=row.status_since,
        active=svc.agent_active(s, row),
    )


@router.get("/api/admin/agents", response_model=list[AgentOut])
def list_agents(s: Db, _p: Reader, active: bool | None = None) -> list[AgentOut]:
    out = [agent_out(s, r) for r in s.scalars(select(AgentRow).order_by(AgentRow.name))]
    return [a for a in out if active is None or a.active == active]


@router.get("/api/admin/agents/{agent_id}", response_model=AgentOut)
def get_agent(agent_id: int, s: Db, _p: Reader) -> AgentOut:
    return agent_out(s, _get(s, AgentRow, agent_id, "agent"))


@router.post("/api/admin/agents", response_model=AgentOut, status_code=201)
def create_agent(body: AgentIn, s: Db, c: CenterDep, _p: Writer) -> AgentOut:
    """An agent profile for a user with role agent that has none (users of role agent
    get one when created: ``POST /api/users``)."""
    data = body.model_dump(exclude_unset=True)
    username = data.pop("username")
    return commit(c, s, lambda s: agent_out(s, svc.create_agent(s, username, data)), routing=True)


@router.patch("/api/admin/agents/{agent_id}", response_model=AgentOut)
def update_agent(agent_id: int, body: AgentPatch, s: Db, c: CenterDep, _p: Writer) -> AgentOut:
    data = body.model_dump(exclude_unset=True)
    return commit(c, s, lambda s: agent_out(s, svc.save_agent(s, data, agent_id)), routing=True)


@router.delete("/api/admin/agents/{agent_id}", status_code=204)
def delete_agent(agent_id: int, s: Db, c: CenterDep, _p: Writer) -> None:
    """Remove the profile of a user who is no longer an active agent (else 409)."""
    commit(c, s, lambda s: svc.delete_agent(s, agent_id), routing=True)


# --------------------------------------------------------------------------- teams


def team_out(s: Session, team: Team) -> TeamOut:
    return TeamOut(
        id=team.id,
        name=team.name,
        members=people.team_members(s, team.id),
        supervisors=people.team_supervisors(s, team.id),
    )


@router.get("/api/admin/teams", response_model=list[TeamOut])
def list_teams(s: Db, _p: Reader) -> list[TeamOut]:
    return [team_out(s, t) for t in s.scalars(select(Team).order_by(Team.name))]


@router.get("/api/admin/teams/{team_id}", response_model=TeamOut)
def get_team(team_id: int, s: Db, _p: Reader) -> TeamOut:
    return team_out(s, _get(s, Team, team_id, "team"))


@router.post("/api/admin/teams", response_model=TeamOut, status_code=201)
def create_team(body: TeamIn, s: Db, c: CenterDep, _p: Writer) -> TeamOut:
    data = body.model_dump(exclude_unset=True)
    return commit(c, s, lambda s: team_out(s, people.save_team(s, data)))


@router.patch("/api/admin/teams/{team_id}", response_model=TeamOut)
def update_team(team_id: int, body: TeamPatch, s: Db, c: CenterDep, _p: Writer) -> TeamOut:
    data = body.model_dump(exclude_unset=True)
    return commit(c, s, lambda s: team_out(s, people.save_team(s, data, team_id)))


@router.delete("/api/admin/teams/{team_id}", status_code=204)
def delete_team(team_id: int, s: Db, c: CenterDep, _p: Writer) -> None:
    """Remove a team that has no members (409 names them)."""
    commit(c, s, lambda s: people.delete_team(s, team_id))


# --------------------------------------------------------------------------- business hours


def hours_out(row: BusinessHours, now: float) -> HoursOut:
    return HoursOut(
        id=row.id,
        name=row.name,
        timezone=row.timezone,
        weekly=row.weekly,
        holidays=row.holidays,
        open_now=is_open(row.timezone, row.weekly, row.holidays, now),
        summary=describe(row.timezone, row.weekly),
    )


@router.get("/api/admin/business-hours", response_model=list[HoursOut])
def list_hours(s: Db, c: CenterDep, _p: Reader) -> list[HoursOut]:
    now = c.clock()
    rows = s.scalars(select(BusinessHours).order_by(BusinessHours.name))
    return [hours_out(r, now) for r in rows]


@router.get("/api/admin/business-hours/{hours_id}", response_model=HoursOut)
def get_hours(hours_id: int, s: Db, c: CenterDep, _p: Reader) -> HoursOut:
    return hours_out(_get(s, BusinessHours, hours_id, "business hours"), c.clock())


@router.post("/api/admin/business-hours", response_model=HoursOut, status_code=201)
def create_hours(body: HoursIn, s: Db, c: CenterDep, _p: Writer) -> HoursOut:
    data = body.model_dump(exclude_unset=True)
    return commit(c, s, lambda s: hours_out(svc.save_hours(s, data), c.clock()))


@router.patch("/api/admin/business-hours/{hours_id}", response_model=HoursOut)
def update_hours(hours_id: int, body: HoursPatch, s: Db, c: CenterDep, _p: Writer) -> HoursOut:
    data = body.model_dump(exclude_unset=True)
    return commit(c, s, lambda s: hours_out(svc.save_hours(s, data, hours_id), c.clock()))


@router.delete("/api/admin/business-hours/{hours_id}", status_code=204)
def delete_hours(hours_id: int, s: Db, c: CenterDep, _p: Writer) -> None:
    """Remove opening hours no queue uses (409 names the queues)."""
    commit(c, s, lambda s: svc.delete_hours(s, hours_id))


# --------------------------------------------------------------------------- pause reasons


@router.get("/api/admin/pause-reasons", response_model=list[PauseReasonOut])
def list_pause_reasons(s: Db, _p: DeskOrReader, active: bool | None = None) -> list[PauseReasonOut]:
    """Pause reasons (agents read them for the desktop: ``?active=true``)."""
    q = select(PauseReason).order_by(PauseReason.name)
    if active is not None:
        q = q.where(PauseReason.active == active)
    return [PauseReasonOut.model_validate(r) for r in s.scalars(q)]


@router.get("/api/admin/pause-reasons/{reason_id}", response_model=PauseReasonOut)
def get_pause_reason(reason_id: int, s: Db, _p: DeskOrReader) -> PauseReasonOut:
    return PauseReasonOut.model_validate(_get(s, PauseReason, reason_id, "pause reason"))


@router.post("/api/admin/pause-reasons", response_model=PauseReasonOut, status_code=201)
def create_pause_reason(body: PauseReasonIn, s: Db, c: CenterDep, _p: Writer) -> PauseReasonOut:
    data = body.model_dump(exclude_unset=True)
    return commit(c, s, lambda s: PauseReasonOut.model_validate(svc.save_pause_reason(s, data)))


@router.patch("/api/admin/pause-reasons/{reason_id}", response_model=PauseReasonOut)
def update_pause_reason(
    reason_id: int, body: PauseReasonPatch, s: Db, c: CenterDep, _p: Writer
) -> PauseReasonOut:
    data = body.model_dump(exclude_unset=True)
    return commit(
        c, s, lambda s: PauseReasonOut.model_validate(svc.save_pause_reason(s, data, reason_id))
    )


@router.delete("/api/admin/pause-reasons/{reason_id}", status_code=204)
def delete_pause_reason(reason_id: int, s: Db, c: CenterDep, _p: Writer) -> None:
    """Deactivate the reason: agents can no longer pick it; history keeps its name."""
    commit(c, s, lambda s: svc.save_pause_reason(s, {"active": False}, reason_id))


# --------------------------------------------------------------------------- dispositions


@router.get("/api/admin/dispositions", response_model=list[DispositionOut])
def list_dispositions(s: Db, _p: DeskOrReader, active: bool | None = None) -> list[DispositionOut]:
    """Dispositions (agents read them to wrap up a contact: ``?active=true``)."""
    q = select(Disposition).order_by(Disposition.code)
    if active is not None:
        q = q.where(Disposition.active == active)
    return [DispositionOut.model_validate(r) for r in s.scalars(q)]


@router.get("/api/admin/dispositions/{disposition_id}", response_model=DispositionOut)
def get_disposition(disposition_id: int, s: Db, _p: DeskOrReader) -> DispositionOut:
    return DispositionOut.model_validate(_get(s, Disposition, disposition_id, "disposition"))


@router.post("/api/admin/dispositions", response_model=DispositionOut, status_code=201)
def create_disposition(body: DispositionIn, s: Db, c: CenterDep, _p: Writer) -> DispositionOut:
    data = body.model_dump(exclude_unset=True)
    return commit(c, s, lambda s: DispositionOut.model_validate(svc.save_disposition(s, data)))


@router.patch("/api/admin/dispositions/{disposition_id}", response_model=DispositionOut)
def update_disposition(
    disposition_id: int, body: DispositionPatch, s: Db, c: CenterDep, _p: Writer
) -> DispositionOut:
    data = body.model_dump(exclude_unset=True)
    return commit(
        c,
        s,
        lambda s: DispositionOut.model_validate(svc.save_disposition(s, data, disposition_id)),
    )


@router.delete("/api/admin/dispositions/{disposition_id}", status_code=204)
def delete_disposition(disposition_id: int, s: Db, c: CenterDep, _p: Writer) -> None:
    """Deactivate the disposition: no longer offered; contacts keep their code."""
    commit(c, s, lambda s: svc.save_disposition(s, {"active": False}, disposition_id))


__all__ = ["commit", "require_any", "router"]
