"""Administration of the center's configuration: skills, queues, pause reasons and
dispositions (agent profiles: :mod:`.agents`, business hours: :mod:`.hours`, users and
teams: :mod:`.people`).

Functions over a SQLAlchemy :class:`Session` (they flush, never commit) that take the
typed changes of :mod:`.schemas` and return its results.  The API (``api/admin.py``)
and any other edge (a future CLI or YAML import) call them, so every rule lives in one
place; :class:`~callcenter.live.admin.uow.UnitOfWork` commits what they write.

Every value is checked before anything is written; a bad one raises
:class:`InvalidError` with one line naming the field, the value and what was expected, a
clash with the stored configuration raises :class:`ConflictError`, an unknown id
:class:`NotFoundError`.

Names that history refers to — queue names, pause-reason names, disposition codes — are
keys in the event log and in contacts, so they cannot change once created, and
"deleting" one deactivates it (``active = false``) instead of removing the row.  Skills,
business hours, teams and agent profiles are removed for real, but only when nothing
uses them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.events import Channel
from callcenter.live.admin.checks import (
    LEVELS,
    PAUSE_MINUTES,
    PRIORITY,
    ConflictError,
    InvalidError,
    assign,
    check_bool,
    check_choice,
    check_int,
    check_name,
    check_seconds,
    check_text,
    check_unique,
    get_row,
    immutable,
    known_skills,
    merge,
    name_list,
    open_contacts,
    show,
)
from callcenter.live.admin.schemas import (
    DispositionIn,
    DispositionOut,
    DispositionPatch,
    PauseReasonIn,
    PauseReasonOut,
    PauseReasonPatch,
    QueueIn,
    QueueOut,
    QueuePatch,
    SkillIn,
    SkillOut,
    SkillPatch,
)
from callcenter.routing import Strategy
from callcenter.storage.tables import (
    AgentRow,
    BusinessHours,
    Disposition,
    PauseReason,
    QueueRow,
    Skill,
)
from callcenter.voice.ivr import PromptCatalogue
from callcenter.voice.ivr.model import DTMF_KEYS

# --------------------------------------------------------------------------- skills


def list_skills(s: Session) -> list[SkillOut]:
    return [SkillOut.model_validate(r) for r in s.scalars(select(Skill).order_by(Skill.name))]


def get_skill(s: Session, skill_id: int) -> SkillOut:
    return SkillOut.model_validate(get_row(s, Skill, skill_id, "skill"))


def create_skill(s: Session, new: SkillIn) -> SkillOut:
    return SkillOut.model_validate(_save_skill(s, None, new))


def update_skill(s: Session, skill_id: int, patch: SkillPatch) -> SkillOut:
    """Change a skill; one in use keeps its name."""
    row = get_row(s, Skill, skill_id, "skill")
    return SkillOut.model_validate(_save_skill(s, row, patch))


def _save_skill(s: Session, row: Skill | None, changes: SkillIn | SkillPatch) -> Skill:
    v = merge(row, changes)
    name = check_name("name", v["name"])
    if row is not None and name != row.name:
        users = skill_users(s, row.name)
        if users:
            raise ConflictError(f"skill {row.name!r} is used by {users}; it cannot be renamed")
    check_unique(s, Skill.name, name, row, "skill")
    values = {"name": name, "description": check_text("description", v["description"], 255)}
    row = row or Skill()
    assign(row, values)
    s.add(row)
    s.flush()
    return row


def skill_users(s: Session, skill: str) -> str:
    """Who needs ``skill``: "queue 'a', agents 'x', 'y'" (empty if nobody)."""
    queues = [
        q.name for q in s.scalars(select(QueueRow).order_by(QueueRow.name))
        if any(r.get("skill") == skill for r in q.requirements)
    ]  # fmt: skip
    agents = [
        a.name for a in s.scalars(select(AgentRow).order_by(AgentRow.name)) if skill in a.skills
    ]
    parts = []
    if queues:
        parts.append(("queue " if len(queues) == 1 else "queues ") + name_list(queues))
    if agents:
        parts.append(("agent " if len(agents) == 1 else "agents ") + name_list(agents))
    return " and ".join(parts)


def delete_skill(s: Session, skill_id: int) -> None:
    """Remove a skill no queue requires and no agent holds."""
    row = get_row(s, Skill, skill_id, "skill")
    users = skill_users(s, row.name)
    if users:
        raise ConflictError(f"skill {row.name!r} is used by {users}; remove it there first")
    s.delete(row)
    s.flush()


# --------------------------------------------------------------------------- queues


def queue_names(s: Session) -> list[str]:
    """Every queue's name (active or not), in name order."""
    return list(s.scalars(select(QueueRow.name).order_by(QueueRow.name)))


def list_queues(s: Session, active: bool | None = None) -> list[QueueOut]:
    """Every queue by name; ``active`` picks the active (True) or inactive (False) ones."""
    q = select(QueueRow).order_by(QueueRow.name)
    if active is not None:
        q = q.where(QueueRow.active == active)
    return [QueueOut.model_validate(r) for r in s.scalars(q)]


def get_queue(s: Session, queue_id: int) -> QueueOut:
    return QueueOut.model_validate(get_row(s, QueueRow, queue_id, "queue"))


def create_queue(s: Session, new: QueueIn, *, prompts: PromptExists | None = None) -> QueueOut:
    """A new queue; ``prompts`` says whether a prompt name is recorded in some language
    (the center's catalogue; default: Debian's prompts only)."""
    return QueueOut.model_validate(_save_queue(s, None, new, prompts))


def update_queue(
    s: Session, queue_id: int, patch: QueuePatch, *, prompts: PromptExists | None = None
) -> QueueOut:
    """Change a queue (not its name); deactivating one needs it idle."""
    row = get_row(s, QueueRow, queue_id, "queue")
    return QueueOut.model_validate(_save_queue(s, row, patch, prompts))


def deactivate_queue(s: Session, queue_id: int) -> None:
    """``DELETE``: the queue stops taking contacts; its row (and name) stay for history."""
    update_queue(s, queue_id, QueuePatch(active=False))


def _save_queue(
    s: Session,
    row: QueueRow | None,
    changes: QueueIn | QueuePatch,
    prompts: PromptExists | None = None,
) -> QueueRow:
    merged = merge(row, changes)
    values = _check_queue(s, merged, row) | _check_voice(merged, prompts or _debian_prompt)
    if row is not None and row.active and not values["active"]:
        _check_deactivate(s, row)
    row = row or QueueRow()
    assign(row, values)
    s.add(row)
    s.flush()
    return row


def _requirements(s: Session, value: object) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise InvalidError(f"requirements: {show(value)} is not valid; expected a list")
    skills = known_skills(s)
    out: list[dict[str, Any]] = []
    for i, r in enumerate(value):
        where = f"requirements[{i}]"
        if not isinstance(r, Mapping) or set(r) - {"skill", "min_level"} or "skill" not in r:
            raise InvalidError(f"{where}: {show(r)} is not valid; expected {{skill, min_level}}")
        skill = r["skill"]
        if skill not in skills:
            raise InvalidError(f"{where}.skill: unknown skill {show(skill)}")
        if any(o["skill"] == skill for o in out):
            raise InvalidError(f"{where}.skill: {skill!r} is required twice")
        level = check_int(f"{where}.min_level", r.get("min_level", 1), LEVELS)
        out.append({"skill": skill, "min_level": level})
    return out


def _overflow(s: Session, value: object, name: str) -> str | None:
    if value is None:
        return None
    if value == name:
        raise InvalidError(f"overflow_queue: a queue cannot overflow into itself ({name!r})")
    target = s.scalar(select(QueueRow).where(QueueRow.name == value))
    if target is None:
        raise InvalidError(f"overflow_queue: unknown queue {show(value)}")
    if not target.active:
        raise InvalidError(f"overflow_queue: queue {target.name!r} is inactive")
    return target.name


def _check_queue(s: Session, v: Mapping[str, Any], row: QueueRow | None) -> dict[str, Any]:
    name = check_name("name", v["name"])
    if row is not None:
        immutable(row, "name", row.name, name, "history refers to queues by name")
    check_unique(s, QueueRow.name, name, row, "queue")
    sl_target = v["sl_target"]
    if (
        isinstance(sl_target, bool)
        or not isinstance(sl_target, int | float)
        or not (0 < sl_target <= 1)
    ):
        raise InvalidError(
            f"sl_target: {show(sl_target)} is not valid; expected a fraction > 0 and <= 1 "
            "(0.8 = 80 %)"
        )
    hours = v["business_hours_id"]
    if hours is not None and (
        isinstance(hours, bool) or not isinstance(hours, int) or s.get(BusinessHours, hours) is None
    ):
        raise InvalidError(f"business_hours_id: no business hours with id {show(hours)}")
    wrapup, max_wait = v["wrapup_s"], v["max_wait_s"]
    return {
        "name": name,
        "description": check_text("description", v["description"], 255),
        "channel": check_choice("channel", v["channel"], Channel, "a channel").value,
        "priority": check_int("priority", v["priority"], PRIORITY),
        "strategy": check_choice("strategy", v["strategy"], Strategy, "a routing strategy").value,
        "requirements": _requirements(s, v["requirements"]),
        "ring_timeout_s": check_seconds("ring_timeout_s", v["ring_timeout_s"]),
        "wrapup_s": None if wrapup is None else check_seconds("wrapup_s", wrapup, zero_ok=True),
        "max_wait_s": None if max_wait is None else check_seconds("max_wait_s", max_wait),
        "overflow_queue": _overflow(s, v["overflow_queue"], name),
        "sl_target": float(sl_target),
        "sl_threshold_s": check_seconds("sl_threshold_s", v["sl_threshold_s"]),
        "business_hours_id": hours,
        "active": check_bool("active", v["active"]),
    }


ANNOUNCE_EVERY_S: Final = (10.0, 600.0)
"""A voice queue's announcements: every 10 to 600 s, or 0 (never)."""
PromptExists = Callable[[str], bool]


def _debian_prompt(name: str) -> bool:
    catalogue = PromptCatalogue.default()
    return any(catalogue.has(name, lang) for lang in catalogue.languages())


def _check_voice(v: Mapping[str, Any], prompts: PromptExists) -> dict[str, Any]:
    """A queue's voice options (``docs/voice.md``, "Queue options")."""
    every = v["announce_every_s"]
    low, high = ANNOUNCE_EVERY_S
    if (
        isinstance(every, bool)
        or not isinstance(every, int | float)
        or not (every == 0 or low <= every <= high)
    ):
        raise InvalidError(
            f"announce_every_s: {show(every)} is out of range; expected 0 (never) or "
            f"{low:g} to {high:g} seconds"
        )
    digit, prompt = v["callback_digit"], v["callback_prompt"]
    if digit is not None and (not isinstance(digit, str) or len(digit) != 1
                              or digit not in DTMF_KEYS):  # fmt: skip
        raise InvalidError(
            f"callback_digit: {show(digit)} is not a telephone key; expected one of 0-9, * or #, "
            "or null (no call back offered)"
        )
    if prompt is not None and (not isinstance(prompt, str) or not prompts(prompt)):
        raise InvalidError(
            f"callback_prompt: {show(prompt)} is not in the prompt catalogue in any language; "
            "expected a prompt's name (upload one on the IVR tab)"
        )
    if digit is not None and prompt is None:
        raise InvalidError(
            f"callback_prompt: missing; callback_digit {digit!r} needs the prompt that offers "
            "the call back"
        )
    return {
        "announce_every_s": float(every),
        "callback_digit": digit,
        "callback_prompt": prompt,
        "record_calls": check_bool("record_calls", v["record_calls"]),
    }


def _check_deactivate(s: Session, row: QueueRow) -> None:
    n = open_contacts(s, row.name)
    if n:
        raise ConflictError(
            f"queue {row.name!r} has {n} open contact{'s' if n != 1 else ''} (queued, ringing, "
            "active or in wrap-up); deactivate it when they are done"
        )
    sources = list(
        s.scalars(
            select(QueueRow.name)
            .where(QueueRow.overflow_queue == row.name, QueueRow.active)
            .order_by(QueueRow.name)
        )
    )
    if sources:
        raise ConflictError(
            f"queue {row.name!r} is the overflow queue of {name_list(sources)}; change that first"
        )


# --------------------------------------------------------------------------- pause reasons


def list_pause_reasons(s: Session, active: bool | None = None) -> list[PauseReasonOut]:
    q = select(PauseReason).order_by(PauseReason.name)
    if active is not None:
        q = q.where(PauseReason.active == active)
    return [PauseReasonOut.model_validate(r) for r in s.scalars(q)]


def get_pause_reason(s: Session, reason_id: int) -> PauseReasonOut:
    return PauseReasonOut.model_validate(get_row(s, PauseReason, reason_id, "pause reason"))


def create_pause_reason(s: Session, new: PauseReasonIn) -> PauseReasonOut:
    return PauseReasonOut.model_validate(_save_pause_reason(s, None, new))


def update_pause_reason(s: Session, reason_id: int, patch: PauseReasonPatch) -> PauseReasonOut:
    """Change a pause reason; its name is fixed once created (history)."""
    row = get_row(s, PauseReason, reason_id, "pause reason")
    return PauseReasonOut.model_validate(_save_pause_reason(s, row, patch))


def deactivate_pause_reason(s: Session, reason_id: int) -> None:
    """``DELETE``: agents can no longer pick it; history keeps its name."""
    update_pause_reason(s, reason_id, PauseReasonPatch(active=False))


def _save_pause_reason(
    s: Session, row: PauseReason | None, changes: PauseReasonIn | PauseReasonPatch
) -> PauseReason:
    v = merge(row, changes)
    name = check_name("name", v["name"])
    if row is not None:
        immutable(row, "name", row.name, name, "history refers to pause reasons by name")
    check_unique(s, PauseReason.name, name, row, "pause reason")
    limit = v["max_minutes"]
    values = {
        "name": name,
        "paid": check_bool("paid", v["paid"]),
        "max_minutes": None if limit is None else check_int("max_minutes", limit, PAUSE_MINUTES),
        "active": check_bool("active", v["active"]),
    }
    row = row or PauseReason()
    assign(row, values)
    s.add(row)
    s.flush()
    return row


# --------------------------------------------------------------------------- dispositions


def list_dispositions(s: Session, active: bool | None = None) -> list[DispositionOut]:
    q = select(Disposition).order_by(Disposition.code)
    if active is not None:
        q = q.where(Disposition.active == active)
    return [DispositionOut.model_validate(r) for r in s.scalars(q)]


def get_disposition(s: Session, disposition_id: int) -> DispositionOut:
    return DispositionOut.model_validate(get_row(s, Disposition, disposition_id, "disposition"))


def create_disposition(s: Session, new: DispositionIn) -> DispositionOut:
    return DispositionOut.model_validate(_save_disposition(s, None, new))


def update_disposition(s: Session, disposition_id: int, patch: DispositionPatch) -> DispositionOut:
    """Change a disposition; its code is fixed once created (contacts keep it)."""
    row = get_row(s, Disposition, disposition_id, "disposition")
    return DispositionOut.model_validate(_save_disposition(s, row, patch))


def deactivate_disposition(s: Session, disposition_id: int) -> None:
    """``DELETE``: no longer offered; contacts keep their code."""
    update_disposition(s, disposition_id, DispositionPatch(active=False))


def _save_disposition(
    s: Session, row: Disposition | None, changes: DispositionIn | DispositionPatch
) -> Disposition:
    v = merge(row, changes)
    code = check_name("code", v["code"])
    if row is not None:
        immutable(row, "code", row.code, code, "contacts refer to dispositions by code")
    check_unique(s, Disposition.code, code, row, "disposition")
    values = {
        "code": code,
        "label": check_text("label", v["label"], 128),
        "resolved": check_bool("resolved", v["resolved"]),
        "active": check_bool("active", v["active"]),
    }
    row = row or Disposition()
    assign(row, values)
    s.add(row)
    s.flush()
    return row


__all__ = [
    "ANNOUNCE_EVERY_S",
    "PromptExists",
    "create_disposition",
    "create_pause_reason",
    "create_queue",
    "create_skill",
    "deactivate_disposition",
    "deactivate_pause_reason",
    "deactivate_queue",
    "delete_skill",
    "get_disposition",
    "get_pause_reason",
    "get_queue",
    "get_skill",
    "list_dispositions",
    "list_pause_reasons",
    "list_queues",
    "list_skills",
    "queue_names",
    "skill_users",
    "update_disposition",
    "update_pause_reason",
    "update_queue",
    "update_skill",
]
