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
    "LinkIn",
    "NoteIn",
    "NoteOut",
    "NotesIn",
    "NotesOut",
    "PauseIn",
    "RecordingIn",
    "TransferIn",
    "WrapupIn",
]
