"""Request and response bodies of the agent desktop's API (:mod:`callcenter.api.desk`).

Times are UNIX seconds (floats).
"""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel, Field, model_validator

from callcenter.crm.notes import NoteView
from callcenter.inputs import Input
from callcenter.live.desk.actions import DirAgent, DirDisposition, Directory, DirQueue
from callcenter.live.desk.views import Desk, DeskContact

MAX_NOTES: Final = 10_000


class PauseIn(Input):
    reason: str = Field(min_length=1, max_length=64)


class RecordingIn(Input):
    paused: bool = Field(description="true: pause the call's recording; false: resume it")


class HoldIn(Input):
    held: bool = Field(description="true: put the call on hold; false: take it off hold")


class SoftphoneConfig(BaseModel):
    """What the desk's softphone registers with (``static/softphone.js`` ``start()``);
    the JSON names are the softphone's (camelCase)."""

    ws_url: str = Field(
        alias="wsUrl", description="Asterisk's SIP over WebSocket, e.g. ws://127.0.0.1:8088/ws"
    )
    uri: str = Field(description="the agent's SIP address, sip:agent-<username>@<host>")
    authorization_user: str = Field(
        alias="authorizationUser", description="the digest user name, agent-<username>"
    )
    password: str = Field(description="a fresh random password; the previous one stops working")
    display_name: str = Field(alias="displayName")
    expires_at: float = Field(
        alias="expiresAt", description="when the password stops working (desk_phone_ttl_s)"
    )


class WrapupIn(Input):
    disposition: str = Field(min_length=1, max_length=64)
    notes: str | None = Field(default=None, max_length=MAX_NOTES)


class TransferIn(Input):
    queue: str | None = Field(default=None, max_length=64)
    agent: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _one(self) -> TransferIn:
        if (self.queue is None) == (self.agent is None):
            raise ValueError("give either queue or agent (exactly one)")
        return self


class LinkIn(Input):
    """Link a chat to a customer: an existing one, or a new one made of the claim."""

    customer_id: int | None = Field(default=None, ge=1, description="an existing customer")
    new_customer: bool = Field(default=False, description="a new customer from the claim")

    @model_validator(mode="after")
    def _one(self) -> LinkIn:
        if (self.customer_id is None) != self.new_customer:
            raise ValueError("give either customer_id or new_customer: true (exactly one)")
        return self


class NotesIn(Input):
    notes: str = Field(max_length=MAX_NOTES)


class NoteOut(NoteView):
    """One author's note on a contact."""


class NotesOut(BaseModel):
    id: str
    notes: str
    note: NoteView | None  # this agent's note after the change (None: an empty text, no note)


class NoteIn(Input):
    body: str = Field(min_length=1, max_length=MAX_NOTES)


# The desk's and the directory's types are the service's own (one declaration of their fields).
__all__ = [
    "MAX_NOTES",
    "Desk",
    "DeskContact",
    "DirAgent",
    "DirDisposition",
    "DirQueue",
    "Directory",
    "HoldIn",
    "LinkIn",
    "NoteIn",
    "NoteOut",
    "NotesIn",
    "NotesOut",
    "PauseIn",
    "RecordingIn",
    "SoftphoneConfig",
    "TransferIn",
    "WrapupIn",
]
