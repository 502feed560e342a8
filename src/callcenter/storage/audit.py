"""The audit log's one door: who changed what, when and from where (``docs/security.md``).

- :class:`AuditAction` — every action name the log may hold (one vocabulary);
- :class:`Actor` — who acts: user id, username, role and the client's address, built
  at the edge (the API from the principal and ``request.client.host``, the CLI from the
  OS user);
- :func:`record` — one entry, written with the caller's session, so it commits or rolls
  back *with* the change it describes: a failed change leaves no entry and a change
  never lacks one;
- :func:`diff` — the fields that changed, as ``{field: [before, after]}``, secrets
  (password hashes, tokens) shown only as ``"(changed)"``;
- :func:`track` — records every ORM row a session creates, changes or deletes in the
  tables of :data:`TRACKED` (the administration services write through it);
- :func:`entries` / :func:`iter_entries` — the read side: filters, newest first, paged by
  an id cursor.

The table (``storage/tables/audit.py``) is append-only: nothing here updates or deletes
a row, and the migration's triggers refuse it on the database itself.
"""

from __future__ import annotations

import getpass
import math
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum, StrEnum
from functools import cache
from typing import Any, Final

from sqlalchemy import ColumnElement, Insert, Table, event, insert, inspect, select
from sqlalchemy.orm import Session, UOWTransaction

from callcenter.errors import UserError
from callcenter.storage.base import Base
from callcenter.storage.tables.audit import AuditRow


class AuditAction(StrEnum):
    """What happened (``entity.verb``).  Sign-in, token and chat-link events are written
    by their own services with :func:`record`; the names are all here."""

    AUTH_LOGIN = "auth.login"
    AUTH_LOGIN_FAILED = "auth.login_failed"
    AUTH_LOGOUT = "auth.logout"
    TOKEN_CREATE = "token.create"
    TOKEN_REVOKE = "token.revoke"
    CUSTOMER_CREATE = "customer.create"
    CUSTOMER_UPDATE = "customer.update"
    CONTACT_LINK = "contact.link"
    CONTACT_WRAPUP = "contact.wrapup"
    CONTACT_TRANSFER = "contact.transfer"
    CONTACT_NOTE_ADD = "contact.note_add"
    CONTACT_NOTE_EDIT = "contact.note_edit"
    CONTACT_RECORDING_DELETE = "contact.recording_delete"  # retention deleted its file
    CALL_SUPERVISE = "call.supervise"  # a supervisor listens / whispers / barges / stops
    TICKET_CREATE = "ticket.create"
    TICKET_UPDATE = "ticket.update"
    FOLLOW_UP_CREATE = "follow_up.create"
    FOLLOW_UP_UPDATE = "follow_up.update"
    USER_CREATE = "user.create"
    USER_UPDATE = "user.update"
    USER_ROLE = "user.role"
    USER_PASSWORD_RESET = "user.password_reset"
    USER_DELETE = "user.delete"
    TEAM_CREATE = "team.create"
    TEAM_UPDATE = "team.update"
    TEAM_DELETE = "team.delete"
    TEAM_SUPERVISOR_CREATE = "team_supervisor.create"
    TEAM_SUPERVISOR_UPDATE = "team_supervisor.update"
    TEAM_SUPERVISOR_DELETE = "team_supervisor.delete"
    AGENT_CREATE = "agent.create"
    AGENT_UPDATE = "agent.update"
    AGENT_DELETE = "agent.delete"
    QUEUE_CREATE = "queue.create"
    QUEUE_UPDATE = "queue.update"
    QUEUE_DELETE = "queue.delete"
    SKILL_CREATE = "skill.create"
    SKILL_UPDATE = "skill.update"
    SKILL_DELETE = "skill.delete"
    BUSINESS_HOURS_CREATE = "business_hours.create"
    BUSINESS_HOURS_UPDATE = "business_hours.update"
    BUSINESS_HOURS_DELETE = "business_hours.delete"
    PAUSE_REASON_CREATE = "pause_reason.create"
    PAUSE_REASON_UPDATE = "pause_reason.update"
    PAUSE_REASON_DELETE = "pause_reason.delete"
    DISPOSITION_CREATE = "disposition.create"
    DISPOSITION_UPDATE = "disposition.update"
    DISPOSITION_DELETE = "disposition.delete"
    VOICE_TRUNK_CREATE = "voice_trunk.create"
    VOICE_TRUNK_UPDATE = "voice_trunk.update"
    VOICE_TRUNK_DELETE = "voice_trunk.delete"
    VOICE_NUMBER_CREATE = "voice_number.create"
    VOICE_NUMBER_UPDATE = "voice_number.update"
    VOICE_NUMBER_DELETE = "voice_number.delete"
    VOICE_DEVICE_CREATE = "voice_device.create"
    VOICE_DEVICE_UPDATE = "voice_device.update"
    VOICE_DEVICE_DELETE = "voice_device.delete"
    IVR_FLOW_CREATE = "ivr_flow.create"
    IVR_FLOW_UPDATE = "ivr_flow.update"
    IVR_FLOW_DELETE = "ivr_flow.delete"
    IVR_PROMPT_UPLOAD = "ivr_prompt.upload"  # a prompt file converted into the center's own
    CONFIG_UNDO = "config.undo"  # a committed change the routing engine refused, taken back


# Table name -> the entity name of its rows in the log (what :func:`track` records).
TRACKED: Final[dict[str, str]] = {
    "users": "user",
    "api_tokens": "token",
    "teams": "team",
    "team_supervisors": "team_supervisor",
    "agents": "agent",
    "queues": "queue",
    "skills": "skill",
    "business_hours": "business_hours",
    "pause_reasons": "pause_reason",
    "dispositions": "disposition",
    "voice_trunks": "voice_trunk",
    "voice_numbers": "voice_number",
    "voice_devices": "voice_device",
    "ivr_flows": "ivr_flow",
}
# Fields whose values never enter the log: only that they changed.
SECRET_FIELDS: Final = frozenset(
    {
        "password",
        "password_hash",
        "token",
        "token_hash",
        "csrf_token",
        "customer_token_hash",
        "ha1",  # a device's SIP digest (voice_devices)
    }
)
HIDDEN: Final = "(hidden)"
CHANGED: Final = "(changed)"
MAX_PAGE: Final = 1000
_VERBS: Final = {"created": "create", "changed": "update", "deleted": "delete"}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change and from where (copied into each entry)."""

    user_id: int | None
    username: str
    role: str
    address: str | None = None

    @classmethod
    def cli(cls) -> Actor:
        """The operating-system user running a command (role ``cli``)."""
        try:
            name = getpass.getuser()
        except (KeyError, OSError):  # no user name for this uid (a container)
            name = "cli"
        return cls(user_id=None, username=name[:64], role="cli", address=None)

    @classmethod
    def system(cls, what: str = "system") -> Actor:
        """The server itself (a timer, a start-up task)."""
        return cls(user_id=None, username=what, role="system", address=None)


def _plain(value: Any) -> Any:
    """``value`` as JSON can hold it (enums by value, sets and tuples as lists, a
    non-finite float as its text)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for each field whose value differs (a field missing
    on one side counts as None); a secret field shows ``["(hidden)", "(changed)"]``."""
    out: dict[str, list[Any]] = {}
    for key in sorted(set(before) | set(after)):
        old, new = _plain(before.get(key)), _plain(after.get(key))
        if old == new:
            continue
        out[key] = [HIDDEN, CHANGED] if key in SECRET_FIELDS else [old, new]
    return out


def row_values(obj: Base) -> dict[str, Any]:
    """An ORM row's column values now (attribute name -> value)."""
    mapper = inspect(obj).mapper
    return {a.key: getattr(obj, a.key) for a in mapper.column_attrs}


@cache
def _insert_statement() -> Insert:
    """The one INSERT of an entry, built (and compiled) once: values go as parameters."""
    table = AuditRow.__table__
    assert isinstance(table, Table)
    return insert(table)


def record(
    s: Session,
    actor: Actor,
    action: AuditAction,
    entity: str,
    entity_id: object,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    at: float | None = None,
) -> dict[str, list[Any]] | None:
    """Write one entry in ``s``'s transaction (it commits or rolls back with the change).

    An update that changed nothing (``before`` or ``after`` given, no field differs) is
    not recorded: None.  Returns the recorded changes otherwise.  Written with a plain
    ``INSERT`` on the session's connection, so it may run inside a flush (:func:`track`).
    """
    changes = diff(before, after)
    if (before or after) and not changes:
        return None
    s.connection().execute(
        _insert_statement(),
        {
            "at": time.time() if at is None else at,
            "user_id": actor.user_id,
            "username": actor.username[:64],
            "role": actor.role[:16],
            "address": actor.address[:64] if actor.address else None,
            "action": AuditAction(action).value,
            "entity": entity[:32],
            "entity_id": str(entity_id)[:64],
            "changes": changes,
        },
    )
    return changes


# --------------------------------------------------------------------------- ORM tracking


def _stored(s: Session, obj: Base) -> dict[str, Any]:
    """The row as the database holds it now (before this flush writes it), read with a
    plain SELECT on the session's connection: an expired attribute's old value is not in
    the ORM's history, the database still has it."""
    mapper = inspect(obj).mapper
    table = mapper.local_table
    assert isinstance(table, Table)
    where = [table.c[c.name] == getattr(obj, mapper.get_property_by_column(c).key)
             for c in mapper.primary_key]  # fmt: skip
    found = s.connection().execute(select(table).where(*where)).mappings().first()
    if found is None:
        return {}
    return {a.key: found[a.columns[0].name] for a in mapper.column_attrs}


def _entity_id(obj: Base) -> str:
    mapper = inspect(obj).mapper
    return "/".join(str(getattr(obj, c.key)) for c in mapper.primary_key if c.key is not None)


def action_for(entity: str, verb: str, changes: Mapping[str, Any]) -> AuditAction:
    """The action of a tracked row change; a user's role or password change is named."""
    if entity == "user" and verb == "update":
        if "role" in changes:
            return AuditAction.USER_ROLE
        if set(changes) == {"password_hash"}:
            return AuditAction.USER_PASSWORD_RESET
    if entity == "token" and verb == "update" and "revoked" in changes:
        return AuditAction.TOKEN_REVOKE
    return AuditAction(f"{entity}.{verb}")


def _record_row(
    s: Session, actor: Actor, kind: str, obj: Base, before: dict[str, Any], at: float | None
) -> None:
    entity = TRACKED.get(getattr(type(obj), "__tablename__", ""))
    if entity is None:
        return
    after = {} if kind == "deleted" else row_values(obj)
    changes = diff(before, after)
    if not changes:
        return
    action = action_for(entity, _VERBS[kind], changes)
    record(s, actor, action, entity, _entity_id(obj), before, after, at=at)


def _tracked(obj: object) -> bool:
    return isinstance(obj, Base) and getattr(type(obj), "__tablename__", "") in TRACKED


@contextmanager
def track(s: Session, actor: Actor, *, at: float | None = None) -> Iterator[Session]:
    """Record, in ``s``'s own transaction, every row of a :data:`TRACKED` table that ``s``
    creates, changes or deletes through the ORM while the block runs (bulk statements
    are not seen: the services that use it write through the ORM).  Each changed or
    deleted row is read from the database before the flush writes it."""
    stored: dict[int, dict[str, Any]] = {}

    def before_flush(session: Session, ctx: UOWTransaction, instances: object) -> None:
        del ctx, instances
        for obj in [*session.dirty, *session.deleted]:
            if _tracked(obj) and id(obj) not in stored:
                assert isinstance(obj, Base)
                stored[id(obj)] = _stored(session, obj)

    def after_flush(session: Session, ctx: UOWTransaction) -> None:
        del ctx
        for kind, objs in (("created", session.new), ("changed", session.dirty),
                           ("deleted", session.deleted)):  # fmt: skip
            for obj in list(objs):
                if not _tracked(obj):
                    continue
                assert isinstance(obj, Base)
                before = {} if kind == "created" else stored.pop(id(obj), None)
                if before is not None:
                    _record_row(session, actor, kind, obj, before, at)

    event.listen(s, "before_flush", before_flush)
    event.listen(s, "after_flush", after_flush)
    try:
        yield s
        s.flush()
    finally:
        event.remove(s, "before_flush", before_flush)
        event.remove(s, "after_flush", after_flush)


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What to read; None: any.  Time in ``[since, until)``; ``before_id``: entries older
    than that id (the cursor of the next page)."""

    actor: str | None = None
    entity: str | None = None
    entity_id: str | None = None
    action: str | None = None
    since: float | None = None
    until: float | None = None
    before_id: int | None = None


def parse_action(value: str) -> AuditAction:
    """``value`` as an action, else a :class:`UserError` naming it and the choices."""
    try:
        return AuditAction(value)
    except ValueError:
        choices = ", ".join(a.value for a in AuditAction)
        raise UserError(
            f"action: {value!r} is not an audit action (expected one of {choices})"
        ) from None


def _conditions(f: AuditFilter) -> list[ColumnElement[bool]]:
    for name in ("since", "until"):
        value = getattr(f, name)
        if value is not None and not math.isfinite(value):
            raise UserError(f"{name}: {value!r} is not a time (expected UNIX seconds)")
    if f.since is not None and f.until is not None and f.until <= f.since:
        raise UserError(f"until: {f.until:.15g} is not after since ({f.since:.15g})")
    where: list[ColumnElement[bool]] = []
    if f.actor:
        where.append(AuditRow.username == f.actor)
    if f.entity:
        where.append(AuditRow.entity == f.entity)
    if f.entity_id:
        where.append(AuditRow.entity_id == f.entity_id)
    if f.action:
        where.append(AuditRow.action == parse_action(f.action).value)
    if f.since is not None:
        where.append(AuditRow.at >= f.since)
    if f.until is not None:
        where.append(AuditRow.at < f.until)
    if f.before_id is not None:
        where.append(AuditRow.id < f.before_id)
    return where


def entries(s: Session, f: AuditFilter, *, limit: int = 100) -> list[AuditRow]:
    """One page of entries matching ``f``, newest first (by id: the order written).  The
    next page: the same filter with ``before_id`` = the last entry's id."""
    if not 1 <= limit <= MAX_PAGE:
        raise UserError(f"limit: {limit} is out of range (expected 1 to {MAX_PAGE})")
    query = select(AuditRow).where(*_conditions(f)).order_by(AuditRow.id.desc()).limit(limit)
    return list(s.scalars(query))


def iter_entries(s: Session, f: AuditFilter, *, page: int = 500) -> Iterator[AuditRow]:
    """Every entry matching ``f``, newest first, read ``page`` at a time (for exports)."""
    cursor = f.before_id
    while True:
        rows = entries(s, AuditFilter(**{**_fields(f), "before_id": cursor}), limit=page)
        yield from rows
        if len(rows) < page:
            return
        cursor = rows[-1].id


def _fields(f: AuditFilter) -> dict[str, Any]:
    return {k: getattr(f, k) for k in AuditFilter.__slots__}


__all__ = [
    "CHANGED",
    "HIDDEN",
    "MAX_PAGE",
    "SECRET_FIELDS",
    "TRACKED",
    "Actor",
    "AuditAction",
    "AuditFilter",
    "action_for",
    "diff",
    "entries",
    "iter_entries",
    "parse_action",
    "record",
    "row_values",
    "track",
]
