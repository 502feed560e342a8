"""Notes on a contact, one per author (``docs/crm.md``, "Notes").

Each note is (contact, author, body, created, updated).  While the contact is open
(queued, ringing, active, in wrap-up) an author edits its own note — nobody else's;
once the contact is closed (or abandoned, timed out) its notes are append-only: a new
note may be added, none edited or deleted.  So the agent who transferred a chat on can
no longer overwrite what the final agent wrote, and both notes stay readable.

Every write is recorded in the audit log (:func:`callcenter.storage.audit.record`) in
the caller's transaction.  The text of the old single ``contacts.notes`` column was moved
into this table by migration ``0004`` (a note of the contact's agent); :func:`notes_text`
renders a contact's notes as one text for readers of the old ``notes`` field (the
column itself is no longer read or written).

Functions take a :class:`Session` and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.crm.common import ConflictError, View, clean_text
from callcenter.storage.audit import Actor, AuditAction, record
from callcenter.storage.tables import OPEN_STATUSES, ContactNote, ContactRow, ContactStatus

MAX_NOTE: Final = 10_000


class NoteView(View):
    """One author's note on a contact."""

    id: int
    author: str
    body: str
    created_at: float
    updated_at: float


def is_open(row: ContactRow) -> bool:
    """The contact's notes may still be edited (it is not closed, abandoned or timed out)."""
    return ContactStatus(row.status) in OPEN_STATUSES


def notes_of(s: Session, contact_ids: Iterable[str]) -> dict[str, list[NoteView]]:
    """Each contact's notes, oldest first (every id asked for has a list)."""
    ids = list(dict.fromkeys(contact_ids))
    out: dict[str, list[NoteView]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = s.scalars(
        select(ContactNote).where(ContactNote.contact_id.in_(ids)).order_by(ContactNote.id)
    )
    for r in rows:
        out[r.contact_id].append(NoteView.model_validate(r))
    return out


def notes_text(notes: Iterable[NoteView]) -> str:
    """The notes' texts, oldest first, one per line: the old single ``notes`` field for
    readers that know no authors (``note_list`` has them)."""
    return "\n".join(n.body for n in notes if n.body)


def _own(s: Session, contact_id: str, author: str) -> ContactNote | None:
    return s.scalars(
        select(ContactNote)
        .where(ContactNote.contact_id == contact_id, ContactNote.author == author)
        .order_by(ContactNote.id.desc())
    ).first()


def add_note(
    s: Session, actor: Actor, contact: ContactRow, author: str, body: str, *, now: float
) -> NoteView:
    """A new note by ``author`` (open or closed contact alike); an empty one: 422."""
    text = clean_text(body, "notes", MAX_NOTE, required=True)
    row = ContactNote(contact_id=contact.id, author=author, body=text, created_at=now,
                      updated_at=now)  # fmt: skip
    s.add(row)
    s.flush()
    record(s, actor, AuditAction.CONTACT_NOTE_ADD, "contact", contact.id,
           {}, {"note_id": row.id, "note": text}, at=now)  # fmt: skip
    return NoteView.model_validate(row)


def edit_note(
    s: Session, actor: Actor, contact: ContactRow, author: str, body: str, *, now: float
) -> NoteView | None:
    """Replace ``author``'s own note while the contact is open (a first note is added;
    an empty text on no note: nothing, None).  A closed contact: 409 — add a note."""
    text = clean_text(body, "notes", MAX_NOTE)
    if not is_open(contact):
        raise ConflictError(
            f"contact {contact.id!r} is {contact.status}: its notes can no longer be edited; "
            "add a new note instead"
        )
    mine = _own(s, contact.id, author)
    if mine is None:
        return add_note(s, actor, contact, author, text, now=now) if text else None
    if mine.body != text:
        before = mine.body
        mine.body, mine.updated_at = text, now
        s.flush()
        record(s, actor, AuditAction.CONTACT_NOTE_EDIT, "contact", contact.id,
               {"note_id": mine.id, "note": before}, {"note_id": mine.id, "note": text},
               at=now)  # fmt: skip
    return NoteView.model_validate(mine)


def write_note(
    s: Session, actor: Actor, contact: ContactRow, author: str, body: str, *, now: float
) -> NoteView | None:
    """Wrap-up notes: the author's own note edited while the contact is open, a new note
    once it is closed (a wrap-up the queue's timer finished first)."""
    if is_open(contact):
        return edit_note(s, actor, contact, author, body, now=now)
    if not body.strip():
        return None
    return add_note(s, actor, contact, author, body, now=now)


__all__ = [
    "MAX_NOTE",
    "NoteView",
    "add_note",
    "edit_note",
    "is_open",
    "notes_of",
    "notes_text",
    "write_note",
]
