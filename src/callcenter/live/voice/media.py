"""A contact's recording and its analysis, as the CRM shows them.

Both go through the CRM's row scope (:func:`callcenter.crm.contacts.visible_contact`): a
contact the reader may not see — an agent who did not hold it, a supervisor of another
team — answers "no contact" exactly like one that does not exist, and so does a contact
without a recording or whose file is gone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.auth.service import Principal
from callcenter.crm.common import View
from callcenter.crm.contacts import visible_contact
from callcenter.errors import NotFoundError, UserError
from callcenter.live.voice.analysis import read_failure
from callcenter.storage.tables.analysis import analyses_table
from callcenter.voice.archive import resolve_recording

__all__ = ["AnalysisView", "contact_analysis", "contact_recording"]

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
