"""The agent desktop's API: states, offers, conversations, after-contact work, transfers.

Every route needs :attr:`Permission.DESK` and acts as the signed-in user's agent (the
router's agent name is the username).  State changes and contact moves are engine
requests (``login``, ``pause``, ``answer``, ``hangup`` ...); the rules that depend on who
holds a contact are checked against the router's state under the engine lock, in the
same step as the request, so an offer that times out a moment earlier cannot be
answered by the wrong agent.

The request's own database transaction (opened to identify the user) is committed
before an engine request: SQLite allows one writer, and the engine writes in its own
transaction.

Pushes (``/ws/desk``) come from :class:`~callcenter.live.desk_service.DeskPusher`,
installed as an engine listener.  See ``docs/agent-desktop.md``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, WebSocket
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from callcenter.api.center import Center, center
from callcenter.api.chat import ChatMessage, MessageIn, pump, push_message
from callcenter.api.deps import CLOSE_FORBIDDEN, Db, require, socket_principal
from callcenter.api.desk_schemas import (
    Desk,
    DirAgent,
    DirDisposition,
    Directory,
    DirQueue,
    NotesIn,
    NotesOut,
    PauseIn,
    TransferIn,
    WrapupIn,
)
from callcenter.api.errors import ApiError, not_found
from callcenter.auth.permissions import Permission
from callcenter.auth.service import Principal
from callcenter.live.chat_service import (
    add_message,
    display_names,
    message_view,
    request_time,
)
from callcenter.live.desk_service import (
    ACTIVE,
    RINGING,
    WRAPUP,
    DeskPusher,
    agent_view,
    contact_state,
    desk_snapshot,
)
from callcenter.live.engine import Extra
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

CenterDep = Annotated[Center, Depends(center)]
DeskUser = Annotated[Principal, Depends(require(Permission.DESK))]

router = APIRouter()
api = APIRouter(prefix="/api/desk", tags=["desk"])


# --------------------------------------------------------------------------- helpers


def _agent(p: Principal) -> str:
    if p.agent is None:
        raise ApiError(
            409, f"user {p.username!r} has no agent profile; an administrator must create one"
        )
    return p.agent


def _snapshot(c: Center, agent: str) -> Desk:
    with c.sessions() as s:
        return Desk.model_validate(desk_snapshot(c.engine, s, agent))


def _contact(s: Session, contact_id: str) -> ContactRow:
    row = s.get(ContactRow, contact_id) if len(contact_id) <= 64 else None
    if row is None:
        raise not_found("contact", contact_id)
    return row


def _display(s: Session, agent: str) -> str:
    return display_names(s, [agent]).get(agent, agent)


def _note_extra(contact_id: str, text: str, said: list[dict[str, Any]]) -> Extra:
    """An engine ``extra`` adding a system line to ``contact_id``'s transcript (the
    line's view is appended to ``said`` for the push after the commit)."""

    def write(s: Session) -> None:
        m = add_message(s, contact_id, "system", text, t=request_time(s))
        said.append(message_view(m, {}))

    return write


def _require_active(c: Center, contact_id: str, agent: str) -> None:
    """Under the engine lock: the contact is in a conversation with ``agent``, else 409."""
    state, holder = contact_state(c.engine, contact_id)
    if state != ACTIVE or holder != agent:
        raise ApiError(409, f"contact {contact_id!r} is not in a conversation with {agent!r}")


# --------------------------------------------------------------------------- state


@api.get("", response_model=Desk)
def desk(p: DeskUser, c: CenterDep) -> Desk:
    """The agent's state, since when, capacity and its contacts (ringing, active, wrap-up)."""
    return _snapshot(c, _agent(p))


@api.get("/directory", response_model=Directory)
def directory(p: DeskUser, s: Db, c: CenterDep) -> Directory:
    """What the desktop offers to choose from: queues and agents to transfer to, pause
    reasons, dispositions (active ones only)."""
    me = _agent(p)
    queues = [
        DirQueue(name=q.name, description=q.description, waiting=_waiting(c, q.name))
        for q in s.scalars(select(QueueRow).where(QueueRow.active).order_by(QueueRow.name))
    ]
    agents = []
    for a, display in s.execute(
        select(AgentRow, User.display_name)
        .join(User, User.id == AgentRow.user_id)
        .where(User.active, AgentRow.name != me)
        .order_by(AgentRow.name)
    ):
        logged_in = a.status != AgentStatus.LOGGED_OUT.value
        agents.append(
            DirAgent(
                name=a.name, display_name=display or a.name, status=a.status, logged_in=logged_in
            )
        )
    reasons = s.scalars(
        select(PauseReason.name).where(PauseReason.active).order_by(PauseReason.name)
    )
    dispositions = [
        DirDisposition(code=d.code, label=d.label or d.code, resolved=d.resolved)
        for d in s.scalars(select(Disposition).where(Disposition.active).order_by(Disposition.id))
    ]
    return Directory(
        queues=queues, agents=agents, pause_reasons=list(reasons), dispositions=dispositions
    )


def _waiting(c: Center, queue: str) -> int:
    try:
        return c.engine.waiting(queue)
    except KeyError:  # configured after the router was built
        return 0


def _engine(c: Center, s: Session, me: str, name: str, **args: Any) -> Desk:
    s.commit()  # the engine writes in its own transaction (see the module doc)
    c.engine.submit(name, **args)
    return _snapshot(c, me)


@api.post("/login", response_model=Desk)
def login(p: DeskUser, s: Db, c: CenterDep) -> Desk:
    """Log in to the router: available for contacts of the agent's queues."""
    agent = _agent(p)
    return _engine(c, s, agent, "login", agent=agent)


@api.post("/logout", response_model=Desk)
def logout(p: DeskUser, s: Db, c: CenterDep) -> Desk:
    """Log out (with contacts on the desk: once the last one is wrapped up)."""
    agent = _agent(p)
    return _engine(c, s, agent, "logout", agent=agent)


@api.post("/pause", response_model=Desk)
def pause(body: PauseIn, p: DeskUser, s: Db, c: CenterDep) -> Desk:
    """Pause with a reason (with contacts on the desk: once the last one is wrapped up)."""
    agent = _agent(p)
    reasons = list(
        s.scalars(select(PauseReason.name).where(PauseReason.active).order_by(PauseReason.name))
    )
    if body.reason not in reasons:
        raise ApiError(
            422,
            f"reason: {body.reason!r} is not a pause reason; choose one of: "
            + (", ".join(reasons) or "(none configured)"),
        )
    row = s.scalar(select(AgentRow).where(AgentRow.name == agent))
    if row is not None and row.status == AgentStatus.PAUSED.value:
        raise ApiError(
            409, f"agent {agent!r} is already paused ({row.status_reason}); unpause first"
        )
    return _engine(c, s, agent, "pause", agent=agent, reason=body.reason)


@api.post("/unpause", response_model=Desk)
def unpause(p: DeskUser, s: Db, c: CenterDep) -> Desk:
    """Available again (also cancels a pause asked for while busy)."""
    agent = _agent(p)
    return _engine(c, s, agent, "unpause", agent=agent)


# --------------------------------------------------------------------------- contacts


def _offer_action(c: Center, s: Session, p: Principal, contact_id: str, name: str) -> Desk:
    agent = _agent(p)
    _contact(s, contact_id)
    s.commit()
    with c.engine.lock:
        state, holder = contact_state(c.engine, contact_id)
        if state != RINGING or holder != agent:
            raise ApiError(409, f"contact {contact_id!r} is not ringing at {agent!r}")
        c.engine.submit(name, contact=contact_id)
    return _snapshot(c, agent)


@api.post("/contacts/{contact_id}/accept", response_model=Desk)
def accept(contact_id: str, p: DeskUser, s: Db, c: CenterDep) -> Desk:
    """Accept the contact ringing at this agent: the conversation starts."""
    return _offer_action(c, s, p, contact_id, "answer")


@api.post("/contacts/{contact_id}/decline", response_model=Desk)
def decline(contact_id: str, p: DeskUser, s: Db, c: CenterDep) -> Desk:
    """Decline the offer: it goes to the next agent (counts as a missed offer)."""
    return _offer_action(c, s, p, contact_id, "decline")


@api.post("/contacts/{contact_id}/messages", response_model=ChatMessage, status_code=201)
def agent_message(
    contact_id: str, body: MessageIn, p: DeskUser, s: Db, c: CenterDep
) -> ChatMessage:
    """Write to the customer (only in the agent's own active conversation)."""
    agent = _agent(p)
    text = body.text()
    row = _contact(s, contact_id)
    if row.status != ContactStatus.ACTIVE.value or row.agent != agent:
        raise ApiError(409, f"contact {contact_id!r} is not in a conversation with {agent!r}")
    names = {agent: _display(s, agent)}
    s.commit()
    with c.sessions.begin() as w:  # a fresh transaction that starts with its write
        m = add_message(w, contact_id, "agent", text, t=c.clock(), agent=agent)
        view = message_view(m, names)
    push_message(c.hub, contact_id, view, agent)
    return ChatMessage(**view)


@api.post("/contacts/{contact_id}/end", response_model=Desk)
def end(contact_id: str, p: DeskUser, s: Db, c: CenterDep) -> Desk:
    """End the conversation; the agent is then in after-contact work for it."""
    agent = _agent(p)
    _contact(s, contact_id)
    said: list[dict[str, Any]] = []
    note = _note_extra(contact_id, f"{_display(s, agent)} ended the chat.", said)
    s.commit()
    with c.engine.lock:
        _require_active(c, contact_id, agent)
        c.engine.submit("hangup", extra=note, contact=contact_id, by="agent")
    if said:
        push_message(c.hub, contact_id, said[0], None)
    return _snapshot(c, agent)


@api.post("/contacts/{contact_id}/wrapup", response_model=Desk)
def wrapup(contact_id: str, body: WrapupIn, p: DeskUser, s: Db, c: CenterDep) -> Desk:
    """Finish the after-contact work: store the disposition (and notes), end the wrap-up."""
    agent = _agent(p)
    row = _contact(s, contact_id)
    codes = list(
        s.scalars(select(Disposition.code).where(Disposition.active).order_by(Disposition.id))
    )
    if body.disposition not in codes:
        raise ApiError(
            422,
            f"disposition: {body.disposition!r} is not a disposition; choose one of: "
            + (", ".join(codes) or "(none configured)"),
        )
    late = row.status == ContactStatus.CLOSED.value and row.agent == agent
    s.commit()

    def write(w: Session) -> None:
        _store_wrapup(w, contact_id, agent, body)

    with c.engine.lock:
        mine = any(
            wk.contact == contact_id and wk.state == WRAPUP
            for wk in agent_view(c.engine, agent).work
        )
        if mine:
            c.engine.submit("end_wrapup", extra=write, agent=agent, contact=contact_id)
        elif late and row.disposition is None:  # the queue's wrap-up timer ended it already
            with c.sessions.begin() as w:
                write(w)
        else:
            raise ApiError(409, f"agent {agent!r} is not wrapping up contact {contact_id!r}")
    return _snapshot(c, agent)


def _store_wrapup(s: Session, contact_id: str, agent: str, body: WrapupIn) -> None:
    """The holder's disposition and notes go on the contact; an agent who transferred the
    contact on adds its outcome as a line of the notes (the contact is not its to close)."""
    row = s.get(ContactRow, contact_id)
    if row is None:  # pragma: no cover - rows are never deleted while in wrap-up
        return
    if row.agent == agent:
        row.disposition = body.disposition
        if body.notes is not None:
            row.notes = body.notes
    else:
        line = f"[{agent}, before transfer: {body.disposition}]"
        if body.notes:
            line += f" {body.notes}"
        row.notes = f"{row.notes}\n{line}" if row.notes else line
    s.flush()


@api.post("/contacts/{contact_id}/transfer", response_model=Desk)
def transfer(contact_id: str, body: TransferIn, p: DeskUser, s: Db, c: CenterDep) -> Desk:
    """Hand the conversation to a queue (queued again) or to a logged-in agent (offered
    at once); this agent goes into after-contact work for its part."""
    agent = _agent(p)
    _contact(s, contact_id)
    if body.queue is not None:
        target, kind = body.queue, "queue"
        if s.scalar(select(QueueRow.id).where(QueueRow.name == target, QueueRow.active)) is None:
            raise ApiError(422, f"queue: no active queue {target!r}")
        to = f"the {target} queue"
    else:
        target, kind = str(body.agent), "agent"
        if s.scalar(select(AgentRow.id).where(AgentRow.name == target)) is None:
            raise ApiError(422, f"agent: no agent {target!r}")
        to = _display(s, target)
    said: list[dict[str, Any]] = []
    note = _note_extra(contact_id, f"{_display(s, agent)} transferred the chat to {to}.", said)
    s.commit()
    with c.engine.lock:
        _require_active(c, contact_id, agent)
        if kind == "agent" and not agent_view(c.engine, target).logged_in:
            raise ApiError(409, f"transfer target agent {target!r} is not logged in")
        c.engine.submit("transfer", extra=note, contact=contact_id, target=target, target_type=kind)
    if said:
        push_message(c.hub, contact_id, said[0], None)
    return _snapshot(c, agent)


@api.patch("/contacts/{contact_id}", response_model=NotesOut)
def set_notes(contact_id: str, body: NotesIn, p: DeskUser, s: Db, c: CenterDep) -> NotesOut:
    """Replace the contact's notes (a contact this agent holds or held)."""
    agent = _agent(p)
    held = s.get(ContactAgent, (contact_id, agent)) if len(contact_id) <= 64 else None
    if held is None:
        raise not_found("contact", contact_id)
    s.commit()
    with c.sessions.begin() as w:
        w.execute(update(ContactRow).where(ContactRow.id == contact_id).values(notes=body.notes))
    return NotesOut(id=contact_id, notes=body.notes)


router.include_router(api)


# --------------------------------------------------------------------------- WebSocket


@router.websocket("/ws/desk")
async def desk_socket(ws: WebSocket) -> None:
    """Pushes to the agent's desktop: ``offer``, ``contact``, ``message``, ``state``.

    Signed in by the session cookie (the ``Origin`` must be this server: no cross-site
    WebSocket hijacking) or a bearer token (``Authorization`` or ``?access_token=``).
    Closes with 4401 (not signed in) or 4403 (not allowed).
    """
    c = center(ws)
    p, code, reason = await run_in_threadpool(socket_principal, ws, c, Permission.DESK)
    await ws.accept()
    if p is None or p.agent is None:
        await ws.close(code or CLOSE_FORBIDDEN, reason or "no agent profile")
        return
    await pump(ws, c.hub, f"agent:{p.agent}", hello={"type": "hello", "agent": p.agent})


def install(c: Center) -> None:
    """Push router events to desktops and widgets (an engine listener)."""
    c.engine.listeners.append(DeskPusher(c.hub, c.sessions, c.engine))


__all__ = ["install", "router"]
