"""A contact's recording and its analysis, as the CRM shows them.

Both go through the CRM's row scope (:func:`callcenter.crm.contacts.visible_contact`): a
contact the reader may not see — an agent who did not hold it, a supervisor of another
team — answers "no contact" exactly like one that does not exist, and so does a contact
without a recording or whose file is gone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.auth.service import Principal
from callcenter.crm.common import View
from callcenter.crm.contacts import visible_contact
from callcenter.errors import NotFoundError, UserError
from callcenter.events import Event, EventType
from callcenter.live.voice.analysis import read_failure
from callcenter.storage.eventlog import contact_events
from callcenter.storage.tables.analysis import analyses_table
from callcenter.voice.archive import resolve_recording

__all__ = [
    "AnalysisView",
    "RecordingMark",
    "contact_analysis",
    "contact_recording",
    "recording_marks",
    "recording_marks_of",
]

Status = Literal["none", "pending", "failed", "done"]


class AnalysisView(View):
    """Where a contact's automatic analysis stands, and its result when done.

    ``status``: ``none`` (the contact has no recording), ``pending`` (recorded, not
    analysed yet), ``failed`` (``reason`` says why), ``done`` (``result`` is the
    per-call document of ``docs/speech.md``)."""

    contact_id: str
    status: Status
    reason: str | None = None
    result: dict[str, Any] | None = None


def contact_recording(s: Session, p: Principal, contact_id: str, recordings_dir: Path) -> Path:
    """The merged recording of a contact ``p`` may see; "no recording" otherwise."""
    row = visible_contact(s, p, contact_id)
    if not row.recording_url:
        raise NotFoundError("recording of contact", contact_id)
    try:
        path = resolve_recording(recordings_dir, row.recording_url)
    except UserError:  # a link to elsewhere (an imported PBX's URL): not ours to serve
        raise NotFoundError("recording of contact", contact_id) from None
    if not path.is_file():
        raise NotFoundError("recording of contact", contact_id)
    return path


def contact_analysis(s: Session, p: Principal, contact_id: str, out_dir: Path) -> AnalysisView:
    """The analysis of a contact ``p`` may see (404 otherwise)."""
    row = visible_contact(s, p, contact_id)
    text = s.scalar(select(analyses_table.c.result).where(analyses_table.c.call_id == row.id))
    if text is not None:
        return AnalysisView(contact_id=row.id, status="done", result=json.loads(text))
    if not row.recording_url:
        return AnalysisView(contact_id=row.id, status="none")
    reason = read_failure(out_dir, row.id)
    if reason is not None:
        return AnalysisView(contact_id=row.id, status="failed", reason=reason)
    return AnalysisView(contact_id=row.id, status="pending")


MarkKind = Literal["hold", "paused", "transfer", "listen", "whisper", "barge"]
_SUPERVISING: Final[tuple[MarkKind, ...]] = ("listen", "whisper", "barge")


class RecordingMark(View):
    """A span of a call's recording that is not the conversation as such, so QA and
    speech analytics can skip or flag it: ``hold`` (the caller heard music on hold, the
    agent nothing), ``paused`` (the desk paused the recording: silence in the file) or
    ``transfer`` (an agent handed the call on; the caller waited, with music, until the
    next agent answered — ``agent`` is the one who transferred), or a supervisor on the
    call: ``listen`` (nobody heard the supervisor), ``whisper`` (only the agent did: not
    in the file, which is what the caller heard) or ``barge`` (everyone: in the file).
    ``start_s`` / ``end_s``: seconds from the start of the file (the call's answer)."""

    kind: MarkKind
    start_s: float
    end_s: float
    agent: str | None
    supervisor: str | None = None


_ENDS_CALL: Final = frozenset({EventType.COMPLETE, EventType.ABANDON, EventType.TIMEOUT})


def recording_marks(events: Sequence[Event]) -> list[RecordingMark]:
    """The marks of one contact's recording, from its events in log order: the file
    starts at the first ``connect`` (the recording starts at answer); a hold runs from
    ``hold`` to ``unhold`` (or to the end of that agent's talk), a pause from
    ``recording`` ``paused`` to ``resumed``, a transfer from ``transfer`` to the next
    ``connect``; whatever is open at the end of the call ends with it. Ordered by start."""
    start = next((e.t for e in events if e.type is EventType.CONNECT), None)
    if start is None:
        return []
    marks: list[RecordingMark] = []
    open_: dict[MarkKind, tuple[float, str | None, str | None]] = {}

    def close(kind: MarkKind, t: float) -> None:
        began = open_.pop(kind, None)
        if began is not None:
            marks.append(RecordingMark(kind=kind, start_s=round(began[0] - start, 3),
                                       end_s=round(t - start, 3), agent=began[1],
                                       supervisor=began[2]))  # fmt: skip

    def close_supervising(t: float) -> None:
        for kind in _SUPERVISING:
            close(kind, t)

    for e in events:
        if e.t < start:
            continue
        if e.type is EventType.HOLD:
            open_.setdefault("hold", (e.t, e.agent, None))
        elif e.type is EventType.UNHOLD:
            close("hold", e.t)
        elif e.type is EventType.RECORDING and e.reason == "paused":
            open_.setdefault("paused", (e.t, e.agent, None))
        elif e.type is EventType.RECORDING and e.reason == "resumed":
            close("paused", e.t)
        elif e.type is EventType.SUPERVISE:
            close_supervising(e.t)  # a switch ends one span and starts the next
            mode = next((k for k in _SUPERVISING if k == e.reason), None)
            if mode is not None:
                open_[mode] = (e.t, e.agent, e.target)
        elif e.type is EventType.TRANSFER:
            close("hold", e.t)
            close_supervising(e.t)
            if e.target is not None:
                open_.setdefault("transfer", (e.t, e.agent, None))
        elif e.type is EventType.CONNECT:
            close("transfer", e.t)
        elif e.type in _ENDS_CALL:
            for kind in list(open_):
                close(kind, e.t)
    return sorted(marks, key=lambda m: (m.start_s, m.kind))


def recording_marks_of(s: Session, p: Principal, contact_id: str) -> list[RecordingMark]:
    """The marks of the recording of a contact ``p`` may see (404 otherwise, and for a
    contact without a recording)."""
    row = visible_contact(s, p, contact_id)
    if not row.recording_url:
        raise NotFoundError("recording of contact", contact_id)
    return recording_marks(contact_events(s, row.id))
