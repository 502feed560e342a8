"""The agent desktop's API: states, offers, conversations, after-contact work, transfers.

Every route needs :attr:`Permission.DESK` and acts as the signed-in user's agent (the
router's agent name is the username).

The request's own database transaction (opened to identify the user) is committed
before an engine request: SQLite allows one writer, and the engine writes in its own
transaction.

Pushes (``/ws/desk``) come from :class:`~callcenter.live.desk.views.DeskPusher`,
installed as an engine listener.  See ``docs/agent-desktop.md``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, WebSocket
from fastapi.concurrency import run_in_threadpool

from callcenter.api.audit import Acting
from callcenter.api.center import Center, center
from callcenter.api.chat import ChatMessage, MessageIn, pump, push_message
from callcenter.api.deps import CLOSE_FORBIDDEN, Db, require, socket_principal
from callcenter.api.desk_schemas import (
    Desk,
    Directory,
    HoldIn,
    LinkIn,
    NoteIn,
    NoteOut,
    NotesIn,
    NotesOut,
    PauseIn,
    RecordingIn,
    SoftphoneConfig,
    TransferIn,
    WrapupIn,
)
from callcenter.api.errors import ApiError
from callcenter.auth.permissions import Permission
from callcenter.auth.service import Principal
from callcenter.errors import ConflictError
from callcenter.live.chat.records import MAX_PAGE, Transcript
from callcenter.live.commands import Answer, Decline, Login, Logout, Unpause
from callcenter.live.desk import actions, claims
from callcenter.live.desk.actions import Said, agent_of
from callcenter.live.desk.views import DeskPusher, earlier_lines

CenterDep = Annotated[Center, Depends(center)]
DeskUser = Annotated[Principal, Depends(require(Permission.DESK))]

router = APIRouter()
api = APIRouter(prefix="/api/desk", tags=["desk"])


def _pushed(c: Center, contact_id: str, result: tuple[Desk, Said]) -> Desk:
    """The desk after an action, once the lines it said are pushed to the chat."""
    view, said = result
    if said:
        push_message(c.hub, contact_id, said[0], None)
    return view


# --------------------------------------------------------------------------- state


@api.get("", response_model=Desk)
def desk(p: DeskUser, c: CenterDep) -> Desk:
    """The agent's state, since when, capacity and its contacts (ringing, active, wrap-up)."""
    return actions.snapshot(c.engine, agent_of(p))


@api.get("/directory", response_model=Directory)
def directory(p: DeskUser, s: Db, c: CenterDep) -> Directory:
    """What the desktop offers to choose from: queues and agents to transfer to, pause
    reasons, dispositions (active ones only)."""
    return actions.directory(c.engine, s, agent_of(p))


@api.post("/login", response_model=Desk)
def login(p: DeskUser, s: Db, c: CenterDep) -> Desk:
    """Log in to the router: available for contacts of the agent's queues."""
    agent = agent_of(p)
    return actions.change_state(c.engine, s, agent, Login(agent=agent))


@api.post("/logout", response_model=Desk)
def logout(p: DeskUser, s: Db, c: CenterDep) -> Desk:
    """Log out (with contacts on the desk: once the last one is wrapped up)."""
    agent = agent_of(p)
    return actions.change_state(c.engine, s, agent, Logout(agent=agent))


@api.post("/pause", response_model=Desk)
def pause(body: PauseIn, p: DeskUser, s: Db, c: CenterDep) -> Desk:
    """Pause with a reason (with contacts on the desk: once the last one is wrapped up)."""
    return actions.pause(c.engine, s, agent_of(p), body.reason)


@api.post("/unpause", response_model=Desk)
def unpause(p: DeskUser, s: Db, c: CenterDep) -> Desk:
    """Available again (also cancels a pause asked for while busy)."""
    agent = agent_of(p)
    return actions.change_state(c.engine, s, agent, Unpause(agent=agent))


# --------------------------------------------------------------------------- contacts


@api.post("/contacts/{contact_id}/accept", response_model=Desk)
def accept(contact_id: str, p: DeskUser, s: Db, c: CenterDep) -> Desk:
    """Accept the contact ringing at this agent: the conversation starts."""
    return actions.answer_offer(c.engine, s, agent_of(p), Answer(contact=contact_id))


@api.post("/contacts/{contact_id}/decline", response_model=Desk)
def decline(contact_id: str, p: DeskUser, s: Db, c: CenterDep) -> Desk:
    """Decline the offer: it goes to the next agent (counts as a missed offer)."""
    return actions.answer_offer(c.engine, s, agent_of(p), Decline(contact=contact_id))


@api.post("/contacts/{contact_id}/recording", status_code=204)
def recording(contact_id: str, body: RecordingIn, p: DeskUser, c: CenterDep) -> None:
    """Pause (``{"paused": true}``: a card number is being read out) or resume the
    recording of this agent's call; the pause is a gap of silence in the file and a
    ``recording`` event in the log."""
    if c.voice is None:
        raise ConflictError("calls are off in this center (serve --voice)")
    c.voice.set_recording_paused(contact_id, agent_of(p), body.paused)


@api.post("/contacts/{contact_id}/hold", status_code=204)
def hold(contact_id: str, body: HoldIn, p: DeskUser, c: CenterDep) -> None:
    """Put this agent's call on hold (``{"held": true}``: music to the caller, nothing to
    the agent) or take it off; ``hold`` / ``unhold`` events in the log, the span in the
    handle time and marked in the recording. 409 when it cannot be done now (not your
    call in progress, already so, or held on your SIP phone: take it off there)."""
    if c.voice is None:
        raise ConflictError("calls are off in this center (serve --voice)")
    c.voice.set_held(contact_id, agent_of(p), body.held)


@api.post("/phone", response_model=SoftphoneConfig)
def phone(p: DeskUser, c: CenterDep) -> SoftphoneConfig:
    """The desk's softphone (agents whose device is ``webrtc``): a fresh short-lived SIP
    credential, applied to the running Asterisk before the answer (the previous one no
    longer registers), and what ``static/softphone.js`` registers with. 409 with code
    ``voice_off``, ``sip_phone`` (answer on the desk phone), ``no_phone`` or
    ``voice_unavailable``."""
    from callcenter.live.voice.desk_phone import DeskPhoneError, issue_desk_phone

    try:
        got = issue_desk_phone(
            c.write_sessions, agent_of(p), settings=c.settings, voice=c.voice, now=c.clock()
        )
    except DeskPhoneError as e:
        raise ApiError(409, str(e), e.code) from e
    return SoftphoneConfig.model_validate(got.as_json())


@api.post("/contacts/{contact_id}/messages", response_model=ChatMessage, status_code=201)
def agent_message(
    contact_id: str, body: MessageIn, p: DeskUser, s: Db, c: CenterDep
) -> ChatMessage:
    """Write to the customer (only in the agent's own active conversation)."""
    agent = agent_of(p)
    view = actions.write_message(c.engine, s, agent, contact_id, body.text())
    push_message(c.hub, contact_id, view, agent)
    return ChatMessage(**view)


@api.post("/contacts/{contact_id}/end", response_model=Desk)
def end(contact_id: str, p: DeskUser, s: Db, c: CenterDep) -> Desk:
    """End the conversation; the agent is then in after-contact work for it."""
    return _pushed(c, contact_id, actions.end(c.engine, s, agent_of(p), contact_id))


@api.post("/contacts/{contact_id}/wrapup", response_model=Desk)
def wrapup(contact_id: str, body: WrapupIn, p: DeskUser, s: Db, c: CenterDep, a: Acting) -> Desk:
    """Finish the after-contact work: store the disposition (and the agent's own note),
    end the wrap-up."""
    agent = agent_of(p)
    return actions.wrap_up(c.engine, s, agent, contact_id, body.disposition, body.notes, actor=a)


@api.post("/contacts/{contact_id}/transfer", response_model=Desk)
def transfer(
    contact_id: str, body: TransferIn, p: DeskUser, s: Db, c: CenterDep, a: Acting
) -> Desk:
    """Hand the conversation to a queue (queued again) or to a logged-in agent (offered
    at once); this agent goes into after-contact work for its part."""
    agent = agent_of(p)
    done = actions.transfer(
        c.engine, s, agent, contact_id, queue=body.queue, to_agent=body.agent, actor=a
    )
    return _pushed(c, contact_id, done)


@api.get("/contacts/{contact_id}/messages", response_model=Transcript)
def earlier_messages(
    contact_id: str,
    p: DeskUser,
    s: Db,
    before: Annotated[int, Query(ge=1, le=2**63 - 1, description="a message id")],
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = MAX_PAGE,
) -> Transcript:
    """Transcript lines before message ``before`` (the desk shows the newest only): the
    newest ``limit`` of them, and whether there are earlier ones still."""
    return earlier_lines(s, agent_of(p), contact_id, before=before, limit=limit)


@api.patch("/contacts/{contact_id}", response_model=NotesOut)
def set_notes(
    contact_id: str, body: NotesIn, p: DeskUser, s: Db, c: CenterDep, a: Acting
) -> NotesOut:
    """Replace this agent's own note on a contact it holds or held, while the contact is
    open; once closed: 409 (add a note: ``POST .../notes``).  Others' notes never change."""
    note = actions.set_notes(c.engine, s, agent_of(p), contact_id, body.notes, actor=a)
    return NotesOut(id=contact_id, notes=body.notes, note=note)


@api.post("/contacts/{contact_id}/notes", response_model=NoteOut, status_code=201)
def add_note(contact_id: str, body: NoteIn, p: DeskUser, s: Db, c: CenterDep, a: Acting) -> NoteOut:
    """Add a note to a contact this agent holds or held (also once it is closed: closed
    contacts' notes are append-only)."""
    note = actions.add_contact_note(c.engine, s, agent_of(p), contact_id, body.body, actor=a)
    return NoteOut.model_validate(note, from_attributes=True)


@api.post("/contacts/{contact_id}/link", response_model=Desk)
def link(contact_id: str, body: LinkIn, p: DeskUser, s: Db, c: CenterDep, a: Acting) -> Desk:
    """Link the chat to a customer deliberately — ``{"customer_id": 12}`` (e.g. one of its
    possible matches) or ``{"new_customer": true}`` (a new customer from its claim);
    recorded in the audit log (``contact.link``)."""
    return claims.link(c.engine, s, p, contact_id, customer_id=body.customer_id, actor=a)


router.include_router(api)


# --------------------------------------------------------------------------- WebSocket


@router.websocket("/ws/desk")
async def desk_socket(ws: WebSocket) -> None:
    """Pushes to the agent's desktop: ``offer``, ``contact``, ``message``, ``state``.

    Signed in by the session cookie (the ``Origin`` must be this server: no cross-site
    WebSocket hijacking), a bearer token (``Authorization``) or a one-use ``?ticket=``
    (``POST /api/ws-ticket``); never a credential in the URL.
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
