"""Customer chat: the public API the widget talks to, its WebSocket and the ``/chat`` page.

No sign-in: ``POST /api/chat/start`` answers a random chat token, and every later call
about that chat sends it in ``X-Chat-Token`` (``?token=`` on the WebSocket).  The token
is shown once; the database keeps its SHA-256 (``contacts.customer_token_hash``).

A chat is routed by the same engine as every contact: start = one ``arrive`` request
that also writes the customer (found or created by e-mail / phone), the contact row and
the first message, in one transaction.  The customer may write while waiting and while
talking; ending the chat is ``abandon`` while it waits or rings and ``hangup`` (by the
caller) once an agent took it.  After the end the customer may rate it once (CSAT 1..5).

The widget may be embedded on another site (``<script src=".../static/widget.js">``), so
these routes answer CORS requests from any origin: they never use cookies, only the chat
token, so allowing every origin gives a foreign page nothing it did not already hold.
See ``docs/chat.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Final
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request, Response, WebSocket
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from callcenter.api.center import Center, center
from callcenter.api.errors import ApiError, not_found
from callcenter.api.hub import Hub
from callcenter.auth.service import digest, new_secret
from callcenter.crm.service import find_or_create_customer, normalize_email, normalize_phone
from callcenter.live.business_hours import describe, is_open, next_opening
from callcenter.live.chat_service import (
    ENDED,
    WRITABLE,
    add_message,
    chat_with_token,
    check_body,
    display_names,
    message_view,
    messages_of,
    new_contact_id,
    request_time,
)
from callcenter.live.desk.views import contact_state, customer_agent_name
from callcenter.storage.tables import BusinessHours, ContactRow, ContactStatus, QueueRow

TOKEN_HEADER: Final = "X-Chat-Token"
CORS_HEADERS: Final = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": f"Content-Type, {TOKEN_HEADER}",
    "Access-Control-Max-Age": "600",
}
MAX_COMMENT: Final = 2000

CenterDep = Annotated[Center, Depends(center)]
ChatToken = Annotated[
    str | None,
    Header(alias=TOKEN_HEADER, description="the token answered by POST /api/chat/start"),
]


class PublicRoute(APIRoute):
    """A route that answers CORS for any origin, its errors included.

    Errors are turned into responses here (with the application's own handlers), so
    that the widget on a foreign page can read ``{"error": ...}`` too.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_cors(request: Request) -> Response:
            try:
                response = await handler(request)
            except Exception as exc:
                on_error = _handler_for(request, exc)
                if on_error is None:
                    raise
                response = await on_error(request, exc)
            response.headers.update(CORS_HEADERS)
            return response

        return with_cors


def _handler_for(request: Request, exc: Exception) -> Any:
    handlers = request.app.exception_handlers
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    return None


router = APIRouter()
api = APIRouter(prefix="/api/chat", tags=["chat"], route_class=PublicRoute)


# --------------------------------------------------------------------------- models


class StartIn(BaseModel):
    queue: str = Field(min_length=1, max_length=64, description="a chat queue, e.g. support")
    name: str = Field(min_length=1, max_length=255, description="the customer's name")
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32, description="E.164 or US national")
    message: str | None = Field(default=None, description="the first message (optional)")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v.strip()

    @field_validator("message")
    @classmethod
    def _message(cls, v: str | None) -> str | None:
        return check_body(v) if v is not None and v.strip() else None


class Started(BaseModel):
    contact_id: str
    token: str = Field(description="send it as X-Chat-Token; shown only here")
    status: str


class ChatMessage(BaseModel):
    id: int
    t: float
    sender: str = Field(description="customer | agent | system")
    body: str
    agent_name: str | None = None


class ChatView(BaseModel):
    contact_id: str
    status: str
    agent_name: str | None
    queue: str | None
    messages: list[ChatMessage]
    csat: int | None
    ended: bool


class MessageIn(BaseModel):
    body: str = Field(description="1 to 4000 characters")

    def text(self) -> str:
        """The body without surrounding blanks, or a 422 naming ``body``.

        Checked here rather than by a pydantic validator: the field is called ``body``,
        which the validation-error formatter takes for the request-body location.
        """
        try:
            return check_body(self.body)
        except ValueError as e:
            raise ApiError(422, f"body: {e}") from None


class Ended(BaseModel):
    contact_id: str
    status: str


class CsatIn(BaseModel):
    score: int = Field(ge=1, le=5, description="1 (very unhappy) to 5 (very happy)")
    comment: str | None = Field(default=None, max_length=MAX_COMMENT)


class Availability(BaseModel):
    queue: str
    open: bool
    hours: str = Field(description="the opening hours in words")
    next_open: float | None = Field(description="when it opens next (now if open)")


# --------------------------------------------------------------------------- helpers


def _when(t: float, tz: str) -> str:
    return dt.datetime.fromtimestamp(t, ZoneInfo(tz)).strftime("%a %Y-%m-%d %H:%M")


def _chat_queue(s: Session, name: str, now: float) -> str:
    """``name`` if it is an active, open chat queue; else the error saying why."""
    q = s.scalar(select(QueueRow).where(QueueRow.name == name))
    if q is None:
        raise not_found("queue", name)
    if not q.active:
        raise ApiError(409, f"queue {name!r} is not taking contacts (it is inactive)")
    if q.channel != "chat":
        raise ApiError(422, f"queue: {name!r} is a {q.channel} queue; expected a chat queue")
    hours = s.get(BusinessHours, q.business_hours_id) if q.business_hours_id else None
    if hours is not None and not is_open(hours, now):
        text = f"queue {name!r} is closed now; opening hours: {describe(hours)}"
        nxt = next_opening(hours, now)
        if nxt is not None:
            text += f"; it opens again {_when(nxt, hours.timezone)} ({hours.timezone})"
        raise ApiError(409, text)
    return q.name


def _chat(s: Session, contact_id: str, token: str | None) -> ContactRow:
    if not token:
        raise ApiError(401, f"send the chat token in the {TOKEN_HEADER} header")
    row = chat_with_token(s, contact_id, token)
    if row is None:
        raise not_found("chat", contact_id)
    return row


def push_message(hub: Hub, contact_id: str, view: dict[str, Any], agent: str | None) -> None:
    """A new transcript line to the customer's widget and to the agent's desktop."""
    hub.publish(f"chat:{contact_id}", {"type": "message", "message": view})
    if agent:
        hub.publish(
            f"agent:{agent}", {"type": "message", "contact_id": contact_id, "message": view}
        )


# --------------------------------------------------------------------------- routes


@api.get("/availability", response_model=Availability)
def availability(
    c: CenterDep, queue: Annotated[str, Query(min_length=1, max_length=64)]
) -> Availability:
    """Whether a chat queue takes chats now, its opening hours and next opening."""
    now = c.clock()
    with c.sessions() as s:
        q = s.scalar(select(QueueRow).where(QueueRow.name == queue, QueueRow.channel == "chat"))
        if q is None or not q.active:
            raise not_found("chat queue", queue)
        hours = s.get(BusinessHours, q.business_hours_id) if q.business_hours_id else None
        return Availability(
            queue=q.name,
            open=is_open(hours, now),
            hours=describe(hours),
            next_open=next_opening(hours, now),
        )


@api.post("/start", response_model=Started, status_code=201)
def start(body: StartIn, c: CenterDep) -> Started:
    """Start a chat: the customer is found or created, the chat queued, the token given."""
    with c.sessions() as s:
        queue = _chat_queue(s, body.queue, c.clock())
    email = normalize_email(body.email)  # bad input fails here, before the engine moves
    phone = normalize_phone(body.phone)
    contact_id, token = new_contact_id(), new_secret()
    first = body.message

    def write(s: Session) -> None:
        t = request_time(s)
        customer = find_or_create_customer(s, name=body.name, email=email, phone=phone, now=t)
        subject = (first or "")[:120]
        s.add(
            ContactRow(
                id=contact_id, customer_id=customer.id, channel="chat", direction="inbound",
                queue=queue, status=ContactStatus.QUEUED.value, subject=subject, arrived_at=t,
                enqueued_at=t, customer_token_hash=digest(token),
            )
        )  # fmt: skip
        s.flush()
        if first:
            add_message(s, contact_id, "customer", first, t=t)

    c.engine.submit(
        "arrive", extra=write, contact=contact_id, queue=queue, caller=email or phone,
        channel="chat",
    )  # fmt: skip
    with c.sessions() as s:
        row = s.get(ContactRow, contact_id)
        status = row.status if row is not None else ContactStatus.QUEUED.value
    return Started(contact_id=contact_id, token=token, status=status)


@api.get("/{contact_id}", response_model=ChatView)
def get_chat(contact_id: str, c: CenterDep, token: ChatToken = None) -> ChatView:
    """The chat's status, the agent's name once one took it, and the transcript."""
    with c.sessions() as s:
        row = _chat(s, contact_id, token)
        names = display_names(s, [row.agent])
        return ChatView(
            contact_id=row.id,
            status=row.status,
            agent_name=customer_agent_name(row, names),
            queue=row.queue,
            messages=[ChatMessage(**m) for m in messages_of(s, [row.id])[row.id]],
            csat=row.csat,
            ended=row.status in ENDED,
        )


@api.post("/{contact_id}/messages", response_model=ChatMessage, status_code=201)
def customer_message(
    contact_id: str, body: MessageIn, c: CenterDep, token: ChatToken = None
) -> ChatMessage:
    """The customer writes (while waiting or talking); the agent's desktop gets it pushed."""
    text = body.text()
    with c.sessions() as s:
        row = _chat(s, contact_id, token)
        if row.status not in WRITABLE:
            raise ApiError(
                409, f"chat {contact_id!r} has ended ({row.status}); it takes no messages"
            )
    with c.sessions.begin() as s:  # a fresh transaction that starts with its write
        m = add_message(s, contact_id, "customer", text, t=c.clock())
        view = message_view(m, {})
    push_message(c.hub, contact_id, view, row.agent)
    return ChatMessage(**view)


@api.post("/{contact_id}/end", response_model=Ended)
def end_chat(contact_id: str, c: CenterDep, token: ChatToken = None) -> Ended:
    """The customer leaves: ``abandon`` while waiting or ringing, ``hangup`` once talking."""
    with c.sessions() as s:
        row = _chat(s, contact_id, token)
    said: list[dict[str, Any]] = []

    def note(s: Session) -> None:
        m = add_message(s, contact_id, "system", "The customer left the chat.", t=request_time(s))
        said.append(message_view(m, {}))

    with c.engine.lock:  # the state read and the request are one step
        state, agent = contact_state(c.engine, contact_id)
        if state in (ContactStatus.QUEUED.value, "ringing"):
            c.engine.submit("abandon", extra=note, contact=contact_id)
        elif state == "active":
            c.engine.submit("hangup", extra=note, contact=contact_id, by="caller")
        else:
            raise ApiError(409, f"chat {contact_id!r} has already ended ({row.status})")
    if said:
        push_message(c.hub, contact_id, said[0], agent)
    if state == "ringing" and agent:  # the abandon event names no agent: tell the one rung
        c.hub.publish(
            f"agent:{agent}",
            {
                "type": "contact",
                "event": "abandon",
                "contact": {"id": contact_id, "status": "gone"},
            },
        )
    with c.sessions() as s:
        ended = s.get(ContactRow, contact_id)
        return Ended(contact_id=contact_id, status=ended.status if ended else row.status)


@api.post("/{contact_id}/csat", response_model=ChatView)
def rate_chat(contact_id: str, body: CsatIn, c: CenterDep, token: ChatToken = None) -> ChatView:
    """The customer's satisfaction score (1..5, optional comment): once, after the end."""
    with c.sessions() as s:
        row = _chat(s, contact_id, token)
        if row.status not in ENDED:
            raise ApiError(409, f"chat {contact_id!r} has not ended yet; rate it after it ends")
        if row.csat is not None:
            raise ApiError(409, f"chat {contact_id!r} was already rated ({row.csat})")
    comment = (body.comment or "").strip() or None
    with c.sessions.begin() as s:
        done = s.execute(
            update(ContactRow)
            .where(ContactRow.id == contact_id, ContactRow.csat.is_(None))
            .values(csat=body.score, csat_comment=comment)
        )
    if done.rowcount != 1:  # type: ignore[attr-defined]  # a second rating raced this one
        raise ApiError(409, f"chat {contact_id!r} was already rated")
    return get_chat(contact_id, c, token)


@api.options("/{rest:path}", include_in_schema=False)
def preflight(rest: str) -> Response:
    """CORS preflight for the widget on another site."""
    del rest
    return Response(status_code=204)


router.include_router(api)


# --------------------------------------------------------------------------- WebSocket


async def pump(ws: WebSocket, hub: Hub, *channels: str, hello: dict[str, Any]) -> None:
    """Forward the hub's messages on ``channels`` to an accepted socket until it closes.

    A reader task watches the client side: when the client goes away it wakes the sender
    with ``None``; the hub sends ``None`` too when the client fell too far behind (then
    the socket closes with 1013 "try again later" and the page reconnects).
    """
    sub = hub.subscribe(*channels)

    async def watch() -> None:
        try:
            while (await ws.receive())["type"] != "websocket.disconnect":
                pass
        finally:
            sub.queue.put_nowait(None)

    watcher = asyncio.create_task(watch())
    try:
        await ws.send_text(orjson.dumps(hello).decode())
        while (text := await sub.queue.get()) is not None:
            await ws.send_text(text)
        if sub.dropped:
            await ws.close(1013)
    except Exception:  # the client went away mid-send
        pass
    finally:
        hub.unsubscribe(sub)
        watcher.cancel()
        with contextlib.suppress(BaseException):
            await watcher


def _token_ok(c: Center, contact_id: str, token: str | None) -> bool:
    with c.sessions() as s:
        return chat_with_token(s, contact_id, token) is not None


@router.websocket("/ws/chat/{contact_id}")
async def chat_socket(ws: WebSocket, contact_id: str) -> None:
    """Pushes to the customer's widget: ``message`` and ``status`` (closes 4404 if the
    chat or its ``?token=`` is wrong)."""
    c = center(ws)
    ok = await run_in_threadpool(_token_ok, c, contact_id, ws.query_params.get("token"))
    await ws.accept()
    if not ok:
        await ws.close(4404, "no such chat, or wrong token")
        return
    await pump(ws, c.hub, f"chat:{contact_id}", hello={"type": "hello", "contact_id": contact_id})


__all__ = [
    "CORS_HEADERS",
    "TOKEN_HEADER",
    "ChatMessage",
    "MessageIn",
    "PublicRoute",
    "pump",
    "push_message",
    "router",
]
