"""Request and response bodies of the agent desktop's API (:mod:`callcenter.api.desk`).

Times are UNIX seconds (floats).
"""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel, Field, model_validator

from callcenter.api.chat import ChatMessage
from callcenter.live.desk.actions import DirAgent, DirDisposition, Directory, DirQueue

MAX_NOTES: Final = 10_000


class DeskContact(BaseModel):
    id: str
    status: str = Field(description="this agent's part: ringing | active | wrapup")
    contact_status: str = Field(description="the contact's status (contacts.status)")
    channel: str
    queue: str
    subject: str
    customer_id: int | None
    customer_name: str | None
    customer_email: str | None
    customer_phone: str | None
    arrived_at: float
    offered_at: float | None
    answered_at: float | None
    ended_at: float | None
    acw_since: float | None = Field(description="wrap-up: when the after-contact work began")
    ring_deadline: float | None = Field(description="ringing: offered_at + ring timeout")
    notes: str
    disposition: str | None
    messages: list[ChatMessage]


class Desk(BaseModel):
    agent: str
    display_name: str
    status: str = Field(description="logged_out | available | paused")
    reason: str | None
    since: float | None
    capacity: int
    activity: str = Field(description="available | ringing | on_contact | wrap_up | paused ...")
    pending_pause: str | None = Field(description="a pause asked for while busy: its reason")
    pending_logout: bool
    contacts: list[DeskContact]


class PauseIn(BaseModel):
    reason: str = Field(min_length=1, max_length=64)


class WrapupIn(BaseModel):
    disposition: str = Field(min_length=1, max_length=64)
    notes: str | None = Field(default=None, max_length=MAX_NOTES)


class TransferIn(BaseModel):
    queue: str | None = Field(default=None, max_length=64)
    agent: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _one(self) -> TransferIn:
        if (self.queue is None) == (self.agent is None):
            raise ValueError("give either queue or agent (exactly one)")
        return self


class NotesIn(BaseModel):
    notes: str = Field(max_length=MAX_NOTES)


class NotesOut(BaseModel):
    id: str
    notes: str


# The directory's types are the service's own (one declaration of their fields).
__all__ = [
    "MAX_NOTES",
    "Desk",
    "DeskContact",
    "DirAgent",
    "DirDisposition",
    "DirQueue",
    "Directory",
    "NotesIn",
    "NotesOut",
    "PauseIn",
    "TransferIn",
    "WrapupIn",
]
