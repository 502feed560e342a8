"""``POST /api/ws-ticket``: a one-use ticket to open a WebSocket (``/ws/desk``,
``/ws/wallboard``) with ``?ticket=`` instead of a credential in the URL
(:mod:`callcenter.auth.tickets`, ``docs/security.md``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from callcenter.api.center import Center, center
from callcenter.api.deps import CurrentUser, ticket_book

router = APIRouter(prefix="/api", tags=["auth"])


class WsTicket(BaseModel):
    ticket: str = Field(description="Put it in the socket's URL as `?ticket=`; valid once.")
    expires_at: float = Field(description="Unix time after which it is refused (~30 s).")


@router.post("/ws-ticket", response_model=WsTicket, status_code=201)
def ws_ticket(p: CurrentUser, c: Annotated[Center, Depends(center)]) -> WsTicket:
    """A ticket for one WebSocket handshake within about 30 s, for the signed-in user
    (cookie session with ``X-CSRF-Token``, or ``Authorization: Bearer``). The socket
    then checks the user's permission as usual."""
    ticket, expires = ticket_book(c).issue(p, now=c.clock())
    return WsTicket(ticket=ticket, expires_at=expires)


__all__ = ["WsTicket", "router"]
