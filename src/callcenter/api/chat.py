"""Customer chat: the public API the widget talks to, its WebSocket and the ``/chat`` page.

No sign-in: ``POST /api/chat/start`` answers a random chat token, and every later call
about that chat sends it in ``X-Chat-Token``.  The token is shown once; the database keeps
its SHA-256 (``contacts.customer_token_hash``).  It never goes in a URL: the WebSocket
opens with a short-lived one-use ticket (``POST /api/chat/{id}/socket``).

Starts, messages, socket tickets and open sockets are limited per chat and per client
address (:mod:`callcenter.live.chat.limits`, the "chat limits" settings): over a limit
the answer is 429 ``rate_limited`` with ``Retry-After``, CORS headers included.

What a customer may do, and the rules, are :mod:`callcenter.live.chat.actions`; this
module parses, calls, renders and pushes the lines written to the agent's desktop.

The widget may be embedded on another site (``<script src=".../static/widget.js">``), so
these routes answer CORS requests from any origin: they never use cookies, only the chat
token, so allowing every origin gives a foreign page nothing it did not already hold.
See ``docs/chat.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Final

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request, Response, WebSocket
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field, field_validator

from callcenter.api.center import Center, center
from callcenter.api.errors import ApiError, error_body
from callcenter.api.hub import Hub
from callcenter.errors import NotFoundError, UserError
from callcenter.live.chat import actions, verify
from callcenter.live.chat.actions import Availability, ChatMessage, ChatView, Ended, Started
from callcenter.live.chat.limits import ChatLimits, ChatLimitSettings, Rate, retry_after
from callcenter.live.chat.records import check_body
from callcenter.live.mailer import MailUnavailableError, SmtpConfig
from callcenter.settings import Settings

TOKEN_HEADER: Final = "X-Chat-Token"
CORS_HEADERS: Final = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": f"Content-Type, {TOKEN_HEADER}",
    "Access-Control-Max-Age": "600",
    "Access-Control-Expose-Headers": "Retry-After",
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
                if isinstance(exc, RateLimitedError):
                    response.headers["Retry-After"] = str(exc.retry_after)
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
            raise UserError(f"body: {e}") from None


class CsatIn(BaseModel):
    score: int = Field(ge=1, le=5, description="1 (very unhappy) to 5 (very happy)")
    comment: str | None = Field(default=None, max_length=MAX_COMMENT)


# --------------------------------------------------------------------------- helpers


def _token(token: str | None) -> str:
    if not token:
        raise ApiError(401, f"send the chat token in the {TOKEN_HEADER} header")
    return token


def push_message(hub: Hub, contact_id: str, view: dict[str, Any], agent: str | None) -> None:
    """A new transcript line to the customer's widget and to the agent's desktop."""
    hub.publish(f"chat:{contact_id}", {"type": "message", "message": view})
    if agent:
        hub.publish(
            f"agent:{agent}", {"type": "message", "contact_id": contact_id, "message": view}
        )


# --------------------------------------------------------------------------- rate limits
# (issue 14: starts, messages, socket tickets and open sockets, per chat and per address)

LIMITS_KEY: Final = "chat_limits"
TICKET_BURST: Final = 10
NO_TICKET: Final = (
    "open the chat socket with ?ticket= from POST /api/chat/{id}/socket (unused, fresh)"
)
CLOSE_TOO_MANY: Final = 4429
CLOSE_NO_TICKET: Final = 4401


class RateLimitedError(ApiError):
    """429 ``rate_limited``; :class:`PublicRoute` adds ``Retry-After`` (whole seconds)."""

    def __init__(self, what: str, wait: float) -> None:
        self.retry_after = retry_after(wait)
        super().__init__(429, f"{what}; try again in {self.retry_after} s", "rate_limited")


def limit_settings(settings: Settings) -> ChatLimitSettings:
    """The "chat limits" settings as :class:`ChatLimitSettings`."""
    return ChatLimitSettings(
        starts_per_address=Rate(settings.chat_starts_burst, settings.chat_starts_per_minute),
        messages_per_chat=Rate(settings.chat_messages_burst, settings.chat_messages_per_minute),
        messages_per_address=Rate(
            settings.chat_address_messages_burst, settings.chat_address_messages_per_minute
        ),
        tickets_per_chat=Rate(TICKET_BURST, settings.chat_socket_tickets_per_minute),
        reads_per_chat=Rate(settings.chat_reads_burst, settings.chat_reads_per_minute),
        sockets_per_chat=settings.chat_sockets_per_chat,
        sockets_per_address=settings.chat_sockets_per_address,
        ticket_ttl_s=settings.chat_socket_ticket_seconds,
    )


def install(c: Center) -> None:
    """The server's chat limits, made once at start-up (``server/app.py``)."""
    c.extras[LIMITS_KEY] = ChatLimits(limit_settings(c.settings))


def limits_of(c: Center) -> ChatLimits:
    """The server's :class:`ChatLimits` (made by :func:`install`)."""
    limits: ChatLimits = c.extras[LIMITS_KEY]
    return limits


def client_address(conn: Request | WebSocket) -> str:
    """The client's address (uvicorn puts a trusted proxy's X-Forwarded-For there)."""
    return conn.client.host if conn.client is not None else "unknown"


def _per_minute(rate: Rate) -> str:
    return f"at most {rate.burst} at once, then {rate.per_minute:g} a minute"


def _over(wait: float, what: str, rate: Rate) -> None:
    """The 429 of a limit ``rate`` that says ``what`` happened, when ``wait`` > 0."""
    if wait:
        raise RateLimitedError(f"{what} ({_per_minute(rate)})", wait)


async def start_allowed(request: Request) -> None:
    """Dependency of ``POST /start``: the client address may start a chat now.

    Async and without sync sub-dependencies, so a refused request never waits for a
    worker thread (a flood of refusals must cost next to nothing)."""
    limits = limits_of(center(request))
    wait = limits.starts.take(client_address(request))
    _over(wait, "too many chats started from your address", limits.cfg.starts_per_address)


async def message_allowed(request: Request, token: ChatToken = None) -> None:
    """Dependency of ``POST /{id}/messages``: this chat token and the client address may
    send a message now (counted before the token is checked: a flood of wrong tokens is
    limited by its address).  Async, as :func:`start_allowed`."""
    limits = limits_of(center(request))
    wait, who = limits.message(token, client_address(request))
    cfg = limits.cfg
    rate = cfg.messages_per_chat if who == "chat" else cfg.messages_per_address
    whose = "in this chat" if who == "chat" else "from your address"
    _over(wait, f"you are sending messages too fast {whose}", rate)


async def read_allowed(request: Request, token: ChatToken = None) -> None:
    """Dependency of the routes about one chat that are not messages — ``GET /{id}``,
    ``POST /{id}/end``, ``POST /{id}/csat`` —: this chat may be asked now (one bucket
    per chat token; no token: the route's own 401).  Async, as :func:`start_allowed`."""
    if not token:
        return
    limits = limits_of(center(request))
    _over(limits.read(token), "this chat is asked too often", limits.cfg.reads_per_chat)


async def lookup_allowed(request: Request) -> None:
    """Dependency of ``GET /availability``: the client address may ask now (the chat
    read numbers, per address).  Async, as :func:`start_allowed`."""
    limits = limits_of(center(request))
    wait = limits.lookups.take(client_address(request))
    _over(wait, "opening hours asked too often from your address", limits.cfg.reads_per_chat)


class SocketTicket(BaseModel):
    ticket: str = Field(description="open /ws/chat/{id}?ticket=... with it, once")
    expires_in: float = Field(description="seconds it stays valid")


# --------------------------------------------------------------------------- routes


@api.get("/availability", response_model=Availability, dependencies=[Depends(lookup_allowed)])
def availability(
    c: CenterDep, queue: Annotated[str, Query(min_length=1, max_length=64)]
) -> Availability:
    """Whether a chat queue takes chats now, its opening hours and next opening."""
    return actions.availability(c.engine, queue)


@api.post(
    "/start",
    response_model=Started,
    status_code=201,
    dependencies=[Depends(start_allowed)],
)
def start(body: StartIn, c: CenterDep) -> Started:
    """Start a chat: the customer is found or created, the chat queued, the token given."""
    return actions.start(
        c.engine,
        queue=body.queue,
        name=body.name,
        email=body.email,
        phone=body.phone,
        message=body.message,
        region=c.settings.phone_region,
    )


@api.get("/{contact_id}", response_model=ChatView, dependencies=[Depends(read_allowed)])
def get_chat(contact_id: str, c: CenterDep, token: ChatToken = None) -> ChatView:
    """The chat's status, the agent's name once one took it, and the transcript."""
    return actions.view(c.engine, contact_id, _token(token))


@api.post(
    "/{contact_id}/messages",
    response_model=ChatMessage,
    status_code=201,
    dependencies=[Depends(message_allowed)],
)
def customer_message(
    contact_id: str, body: MessageIn, c: CenterDep, token: ChatToken = None
) -> ChatMessage:
    """The customer writes (while waiting or talking); the agent's desktop gets it pushed."""
    text = body.text()
    line, agent = actions.write(c.engine, contact_id, _token(token), text)
    push_message(c.hub, contact_id, line.model_dump(), agent)
    return line


@api.post("/{contact_id}/end", response_model=Ended, dependencies=[Depends(read_allowed)])
def end_chat(contact_id: str, c: CenterDep, token: ChatToken = None) -> Ended:
    """The customer leaves: ``abandon`` while waiting or ringing, ``hangup`` once talking."""
    left = actions.leave(c.engine, contact_id, _token(token))
    if left.said is not None:
        push_message(c.hub, contact_id, left.said, left.agent)
    if left.rung and left.agent:  # the abandon event names no agent: tell the one rung
        gone = {"id": contact_id, "status": "gone"}
        c.hub.publish(
            f"agent:{left.agent}", {"type": "contact", "event": "abandon", "contact": gone}
        )
    return left.ended


@api.post("/{contact_id}/csat", response_model=ChatView, dependencies=[Depends(read_allowed)])
def rate_chat(contact_id: str, body: CsatIn, c: CenterDep, token: ChatToken = None) -> ChatView:
    """The customer's satisfaction score (1..5, optional comment): once, after the end."""
    return actions.rate(c.engine, contact_id, _token(token), body.score, body.comment)


@api.post("/{contact_id}/socket", response_model=SocketTicket, status_code=201)
def socket_ticket(contact_id: str, c: CenterDep, token: ChatToken = None) -> SocketTicket:
    """A one-use ticket (valid seconds) that opens this chat's WebSocket:
    ``/ws/chat/{id}?ticket=...`` (the token itself never goes in a URL).  Limited per
    token before the database is asked."""
    limits = limits_of(c)
    wait = limits.ticket(_token(token))
    _over(wait, "too many socket tickets for this chat", limits.cfg.tickets_per_chat)
    if not actions.token_ok(c.engine, contact_id, token):
        raise NotFoundError("chat", contact_id)
    return SocketTicket(ticket=limits.tickets.issue(contact_id), expires_in=limits.tickets.ttl_s)


# --------------------------------------------------------------------------- e-mail proof
# The customer proves the e-mail its chat claimed with a one-time code (live/chat/verify.py).


class CodeIn(BaseModel):
    code: str = Field(min_length=1, max_length=20, description="the 6 digits from the e-mail")


def _refused(e: MailUnavailableError | verify.TooManyCodesError) -> JSONResponse:
    if isinstance(e, MailUnavailableError):
        return JSONResponse(error_body(503, str(e), "unavailable"), status_code=503)
    headers = {} if e.retry_after is None else {"Retry-After": str(math.ceil(e.retry_after))}
    return JSONResponse(error_body(429, str(e)), status_code=429, headers=headers)


@api.post("/{contact_id}/verify", response_model=verify.CodeSent, status_code=201)
def send_code(contact_id: str, c: CenterDep, token: ChatToken = None) -> Any:
    """Mail a one-time code to the e-mail the chat claimed (503 without an SMTP server;
    429 with ``Retry-After`` when sent too often)."""
    mail, policy = SmtpConfig.from_settings(c.settings), verify.OtpPolicy.from_settings(c.settings)
    try:
        return verify.send_code(c.engine, contact_id, _token(token), mail, policy)
    except (MailUnavailableError, verify.TooManyCodesError) as e:
        return _refused(e)


@api.post("/{contact_id}/verify/confirm", response_model=verify.Verified)
def confirm_code(
    contact_id: str, body: CodeIn, request: Request, c: CenterDep, token: ChatToken = None
) -> Any:
    """The code from the e-mail: the right one links the chat to the customer with that
    e-mail (422 wrong, 409 expired, 429 too many tries)."""
    policy = verify.OtpPolicy.from_settings(c.settings)
    host = request.client.host if request.client is not None else None
    try:
        done, agent = verify.confirm(
            c.engine, contact_id, _token(token), body.code, policy, address=host
        )
    except verify.TooManyCodesError as e:
        return _refused(e)
    if agent:  # the agent's desk reloads the contact: now linked, its card shown
        gone = {"id": contact_id, "status": "linked"}
        c.hub.publish(f"agent:{agent}", {"type": "contact", "event": "linked", "contact": gone})
    return done


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


@router.websocket("/ws/chat/{contact_id}")
async def chat_socket(ws: WebSocket, contact_id: str) -> None:
    """Pushes to the customer's widget: ``message`` and ``status``.

    Opened with ``?ticket=`` from ``POST /api/chat/{id}/socket`` (one use, short-lived);
    closes with 4401 when the ticket is missing, used, expired or of another chat, and
    with 4429 when the chat or the client address already has its most open sockets.
    """
    c = center(ws)
    limits = limits_of(c)
    ok = limits.tickets.redeem(contact_id, ws.query_params.get("ticket"))
    await ws.accept()
    if not ok:
        await ws.close(CLOSE_NO_TICKET, NO_TICKET)
        return
    address = client_address(ws)
    refused = limits.open_socket(contact_id, address)
    if refused is not None:
        await ws.close(CLOSE_TOO_MANY, refused)
        return
    try:
        hello = {"type": "hello", "contact_id": contact_id}
        await pump(ws, c.hub, f"chat:{contact_id}", hello=hello)
    finally:
        limits.close_socket(contact_id, address)


__all__ = [
    "CORS_HEADERS",
    "TOKEN_HEADER",
    "ChatMessage",
    "MessageIn",
    "PublicRoute",
    "install",
    "pump",
    "push_message",
    "router",
]
