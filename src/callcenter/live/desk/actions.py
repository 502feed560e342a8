"""What an agent does at the desk: the use cases behind ``/api/desk`` (``docs/agent-desktop.md``).

Every function acts as one agent (the router's agent name is the username).  State
changes and contact moves are engine requests; the rules that depend on who holds a
contact are checked against the router's state under the engine lock, in the same step
as the request, so an offer that times out a moment earlier cannot be answered by the
wrong agent.

The caller's session ``s`` (the request's, opened to identify the user) is read first
and committed before an engine request: SQLite allows one writer, and the engine writes
in its own transaction.  Changes a person makes to a contact (disposition, notes, a
transfer) are recorded in the audit log in the engine's transaction, with the ``actor``
the edge passes in; notes follow :mod:`callcenter.crm.notes` (one per author, append-only
once the contact is closed).  Lines said in a chat (a message, "… ended the chat.") are
returned for the caller to push; nothing here knows about WebSockets or HTTP.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.auth.service import Principal
from callcenter.crm.notes import NoteView, add_note, edit_note, write_note
from callcenter.errors import ConflictError, NotFoundError, UserError
from callcenter.events import Channel, HangupBy, TargetType
from callcenter.live.chat.records import add_message, display_names, message_view, request_time
from callcenter.live.commands import (
    Answer,
    Decline,
    EndWrapup,
    Hangup,
    Login,
    Logout,
    Pause,
    Transfer,
    Unpause,
)
from callcenter.live.desk.views import (
    ACTIVE,
    RINGING,
    WRAPUP,
    Desk,
    agent_view,
    contact_state,
    desk_snapshot,
)
from callcenter.live.engine import Extra, LiveEngine
from callcenter.storage.audit import Actor, AuditAction, record
from callcenter.storage.tables import (
    AgentRow,
    AgentStatus,
    ContactAgent,
    ContactRow,
    ContactStatus,
    Disposition,
    PauseReason,
    QueueRow,
    User,
)

# --------------------------------------------------------------------------- typed results


class DirQueue(BaseModel):
    name: str
    description: str
    waiting: int


class DirAgent(BaseModel):
    name: str
    display_name: str
    status: str
    logged_in: bool


class DirDisposition(BaseModel):
    code: str
    label: str
    resolved: bool


class Directory(BaseModel):
    """What the desktop offers to choose from (active entries only)."""

    queues: list[DirQueue]
    agents: list[DirAgent]
    pause_reasons: list[str]
    dispositions: list[DirDisposition]


Said = list[dict[str, Any]]
"""Transcript lines (message views) written by an action, for the caller to push."""


# --------------------------------------------------------------------------- helpers


def agent_of(p: Principal) -> str:
    """The router's agent name of ``p``; a user without an agent profile cannot use the desk."""
    if p.agent is None:
        raise ConflictError(
            f"user {p.username!r} has no agent profile; an administrator must create one"
        )
    return p.agent


def snapshot(engine: LiveEngine, agent: str) -> Desk:
    """The agent's desk now, read in a session of its own (after an engine request)."""
    with engine.sessions() as s:
        return desk_snapshot(engine, s, agent)


def _contact(s: Session, contact_id: str) -> ContactRow:
    row = s.get(ContactRow, contact_id) if len(contact_id) <= 64 else None
    if row is None:
        raise NotFoundError("contact", contact_id)
    return row


def _display(s: Session, agent: str) -> str:
    return display_names(s, [agent]).get(agent, agent)


def _note_extra(contact_id: str, text: str, said: Said, audit: Extra | None = None) -> Extra:
    """An engine ``extra`` adding a system line to ``contact_id``'s transcript (the
    line's view is appended to ``said`` for the push after the commit), and running
    ``audit`` (the audit entry of the change) in the same transaction."""

    def write(s: Session) -> None:
        m = add_message(s, contact_id, "system", text, t=request_time(s))
        said.append(message_view(m, {}))
        if audit is not None:
            audit(s)

    return write


def _require_active(engine: LiveEngine, contact_id: str, agent: str) -> None:
    """Under the engine lock: the contact is in a conversation with ``agent``."""
    state, holder = contact_state(engine, contact_id)
    if state != ACTIVE or holder != agent:
        raise ConflictError(f"contact {contact_id!r} is not in a conversation with {agent!r}")


def _one_of(field: str, value: str, what: str, choices: list[str]) -> None:
    if value not in choices:
        raise UserError(
            f"{field}: {value!r} is not a {what}; choose one of: "
            + (", ".join(choices) or "(none configured)")
        )


def waiting(engine: LiveEngine, queue: str) -> int:
    """Contacts waiting in ``queue`` (0 for a queue configured after the router was built)."""
    try:
        return engine.waiting(queue)
    except KeyError:
        return 0


# --------------------------------------------------------------------------- reading


def directory(engine: LiveEngine, s: Session, me: str) -> Directory:
    """Queues and agents to transfer to (not ``me``), pause reasons, dispositions."""
    queues = [
        DirQueue(name=q.name, description=q.description, waiting=waiting(engine, q.name))
        for q in s.scalars(select(QueueRow).where(QueueRow.active).order_by(QueueRow.name))
    ]
    agents = [
        DirAgent(
            name=a.name,
            display_name=display or a.name,
            status=a.status,
            logged_in=a.status != AgentStatus.LOGGED_OUT.value,
        )
        for a, display in s.execute(
            select(AgentRow, User.display_name)
            .join(User, User.id == AgentRow.user_id)
            .where(User.active, AgentRow.name != me)
            .order_by(AgentRow.name)
        )
    ]
    dispositions = [
        DirDisposition(code=d.code, label=d.label or d.code, resolved=d.resolved)
        for d in s.scalars(select(Disposition).where(Disposition.active).order_by(Disposition.id))
    ]
    return Directory(
        queues=queues, agents=agents, pause_reasons=_pause_reasons(s), dispositions=dispositions
    )


def _pause_reasons(s: Session) -> list[str]:
    return list(
        s.scalars(select(PauseReason.name).where(PauseReason.active).order_by(PauseReason.name))
    )


# --------------------------------------------------------------------------- state


def change_state(
    engine: LiveEngine, s: Session, agent: str, request: Login | Logout | Pause | Unpause
) -> Desk:
    """An agent-state request for ``agent``; the desk after it."""
    s.commit()
    engine.request(request)
    return snapshot(engine, agent)


def pause(engine: LiveEngine, s: Session, agent: str, reason: str) -> Desk:
    """Pause with a configured reason (while busy: once the last contact is wrapped up)."""
    _one_of("reason", reason, "pause reason", _pause_reasons(s))
    row = s.scalar(select(AgentRow).where(AgentRow.name == agent))
    if row is not None and row.status == AgentStatus.PAUSED.value:
        raise ConflictError(
            f"agent {agent!r} is already paused ({row.status_reason}); unpause first"
        )
    return change_state(engine, s, agent, Pause(agent=agent, reason=reason))


# --------------------------------------------------------------------------- contacts


def answer_offer(engine: LiveEngine, s: Session, agent: str, request: Answer | Decline) -> Desk:
    """Answer or decline the contact ringing at ``agent``."""
    contact_id = request.contact
    _contact(s, contact_id)
    s.commit()
    with engine.lock:
        state, holder = contact_state(engine, contact_id)
        if state != RINGING or holder != agent:
            raise ConflictError(f"contact {contact_id!r} is not ringing at {agent!r}")
        engine.request(request)
    return snapshot(engine, agent)


def write_message(
    engine: LiveEngine, s: Session, agent: str, contact_id: str, text: str
) -> dict[str, Any]:
    """A line from the agent to the customer (its own active conversation only); its view."""
    row = _contact(s, contact_id)
    if row.status != ContactStatus.ACTIVE.value or row.agent != agent:
        raise ConflictError(f"contact {contact_id!r} is not in a conversation with {agent!r}")
    names = {agent: _display(s, agent)}
    s.commit()
    with engine.sessions.begin() as w:  # a fresh transaction that starts with its write
        m = add_message(w, contact_id, "agent", text, t=engine.clock(), agent=agent)
        return message_view(m, names)


def end(engine: LiveEngine, s: Session, agent: str, contact_id: str) -> tuple[Desk, Said]:
    """End the conversation: the agent goes into after-contact work for it."""
    _contact(s, contact_id)
    said: Said = []
    note = _note_extra(contact_id, f"{_display(s, agent)} ended the chat.", said)
    s.commit()
    with engine.lock:
        _require_active(engine, contact_id, agent)
        engine.request(Hangup(contact=contact_id, by=HangupBy.AGENT), extra=note)
    return snapshot(engine, agent), said


def wrap_up(
    engine: LiveEngine,
    s: Session,
    agent: str,
    contact_id: str,
    disposition: str,
    notes: str | None,
    *,
    actor: Actor,
) -> Desk:
    """Finish the after-contact work: store the disposition (and notes), end the wrap-up."""
    row = _contact(s, contact_id)
    codes = list(
        s.scalars(select(Disposition.code).where(Disposition.active).order_by(Disposition.id))
    )
    _one_of("disposition", disposition, "disposition", codes)
    late = row.status == ContactStatus.CLOSED.value and row.agent == agent
    s.commit()

    def write(w: Session) -> None:
        _store_wrapup(w, actor, contact_id, agent, disposition, notes, now=engine.clock())

    with engine.lock:
        work = agent_view(engine, agent).work
        if any(wk.contact == contact_id and wk.state == WRAPUP for wk in work):
            engine.request(EndWrapup(agent=agent, contact=contact_id), extra=write)
        elif late and row.disposition is None:  # the queue's wrap-up timer ended it already
            with engine.sessions.begin() as w:
                write(w)
        else:
            raise ConflictError(f"agent {agent!r} is not wrapping up contact {contact_id!r}")
    return snapshot(engine, agent)


def _store_wrapup(
    s: Session,
    actor: Actor,
    contact_id: str,
    agent: str,
    disposition: str,
    notes: str | None,
    *,
    now: float,
) -> None:
    """The holder's disposition goes on the contact and its notes into its own note; an
    agent who transferred the contact on writes its outcome into its own note (the
    contact is not its to close).  Both are recorded in the audit log."""
    row = s.get(ContactRow, contact_id)
    if row is None:  # pragma: no cover - rows are never deleted while in wrap-up
        return
    if row.agent == agent:
        before = row.disposition
        row.disposition = disposition
        s.flush()
        record(s, actor, AuditAction.CONTACT_WRAPUP, "contact", contact_id,
               {"disposition": before}, {"disposition": disposition}, at=now)  # fmt: skip
        if notes is not None:
            write_note(s, actor, row, agent, notes, now=now)
    else:
        line = f"[before transfer: {disposition}]"
        if notes:
            line += f" {notes}"
        write_note(s, actor, row, agent, line, now=now)
    s.flush()


def transfer(
    engine: LiveEngine,
    s: Session,
    agent: str,
    contact_id: str,
    *,
    queue: str | None = None,
    to_agent: str | None = None,
    actor: Actor,
) -> tuple[Desk, Said]:
    """Hand the conversation to a queue (queued again) or to a logged-in agent (offered at
    once); ``agent`` goes into after-contact work for its part."""
    what = "call" if _contact(s, contact_id).channel == Channel.VOICE.value else "chat"
    if queue is not None:
        target, kind, to = queue, TargetType.QUEUE, f"the {queue} queue"
        if s.scalar(select(QueueRow.id).where(QueueRow.name == queue, QueueRow.active)) is None:
            raise UserError(f"queue: no active queue {queue!r}")
    else:
        target, kind = str(to_agent), TargetType.AGENT
        if s.scalar(select(AgentRow.id).where(AgentRow.name == target)) is None:
            raise UserError(f"agent: no agent {target!r}")
        to = _display(s, target)
    said: Said = []
    field = "queue" if kind is TargetType.QUEUE else "agent"

    def audit(w: Session) -> None:
        record(w, actor, AuditAction.CONTACT_TRANSFER, "contact", contact_id,
               {"agent": agent}, {field: target, "agent": None if field == "queue" else target},
               at=engine.clock())  # fmt: skip

    text = f"{_display(s, agent)} transferred the {what} to {to}."
    note = _note_extra(contact_id, text, said, audit)
    s.commit()
    with engine.lock:
        _require_active(engine, contact_id, agent)
        if kind is TargetType.AGENT and not agent_view(engine, target).logged_in:
            raise ConflictError(f"transfer target agent {target!r} is not logged in")
        engine.request(Transfer(contact=contact_id, target=target, target_type=kind), extra=note)
    return snapshot(engine, agent), said


def _held(s: Session, agent: str, contact_id: str) -> None:
    """404 unless ``agent`` holds or held the contact (the same answer as no contact)."""
    held = s.get(ContactAgent, (contact_id, agent)) if len(contact_id) <= 64 else None
    if held is None:
        raise NotFoundError("contact", contact_id)


def set_notes(
    engine: LiveEngine, s: Session, agent: str, contact_id: str, notes: str, *, actor: Actor
) -> NoteView | None:
    """Replace ``agent``'s own note on a contact it holds or held, while the contact is
    open (409 once closed: :func:`add_contact_note`); None for an empty text on no note."""
    _held(s, agent, contact_id)
    s.commit()
    with engine.sessions.begin() as w:
        row = _contact(w, contact_id)
        return edit_note(w, actor, row, agent, notes, now=engine.clock())


def add_contact_note(
    engine: LiveEngine, s: Session, agent: str, contact_id: str, body: str, *, actor: Actor
) -> NoteView:
    """A new note by ``agent`` on a contact it holds or held (open or closed)."""
    _held(s, agent, contact_id)
    s.commit()
    with engine.sessions.begin() as w:
        return add_note(w, actor, _contact(w, contact_id), agent, body, now=engine.clock())


__all__ = [
    "DirAgent",
    "DirDisposition",
    "DirQueue",
    "Directory",
    "Said",
    "add_contact_note",
    "agent_of",
    "answer_offer",
    "change_state",
    "directory",
    "end",
    "pause",
    "set_notes",
    "snapshot",
    "transfer",
    "waiting",
    "wrap_up",
]
