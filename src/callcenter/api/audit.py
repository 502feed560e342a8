"""The audit log's API (``audit.read``: administrators and managers) and the actor of a
request.

- ``GET /api/audit`` — entries newest first, filtered by ``actor`` (username), ``entity``,
  ``entity_id``, ``action`` and time ``[since, until)``; paged by ``before_id`` (the
  answer's ``next_before_id``);
- ``GET /api/audit.csv`` — the same filters, every matching entry as CSV (one line per
  changed field), streamed; cells are guarded against spreadsheet formula injection.

:func:`request_actor` (the dependency :data:`Acting`) is who a change is recorded for:
the signed-in principal and ``request.client.host``.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict

from callcenter.api.center import Center, center
from callcenter.api.deps import CurrentUser, Db, require
from callcenter.auth.permissions import Permission
from callcenter.auth.service import Principal
from callcenter.storage.audit import MAX_PAGE, Actor, AuditFilter, entries, iter_entries
from callcenter.storage.tables import AuditRow

router = APIRouter(tags=["audit"])


def actor_of(p: Principal, request: Request) -> Actor:
    """The actor of a request: the principal, from the client's address."""
    host = request.client.host if request.client is not None else None
    return Actor(user_id=p.user_id, username=p.username, role=p.role.value, address=host)


def request_actor(request: Request, p: CurrentUser) -> Actor:
    """Dependency: who this request's changes are recorded for."""
    return actor_of(p, request)


Acting = Annotated[Actor, Depends(request_actor)]
Auditor = Annotated[Principal, Depends(require(Permission.AUDIT_READ))]
TheCenter = Annotated[Center, Depends(center)]


class AuditEntry(BaseModel):
    """One entry: who (user id, username, role), when (UNIX seconds), from where (the
    client address), what (action, entity, entity id) and ``changes``:
    ``{field: [before, after]}``."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: float
    user_id: int | None
    username: str | None
    role: str | None
    address: str | None
    action: str
    entity: str
    entity_id: str
    changes: dict[str, list[Any]]


class AuditPage(BaseModel):
    entries: list[AuditEntry]
    next_before_id: int | None  # pass as before_id for the next (older) page; None: no more


def _filter(
    actor: Annotated[str | None, Query(max_length=64, description="username")] = None,
    entity: Annotated[str | None, Query(max_length=32)] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=32, description="e.g. customer.update")] = None,
    since: Annotated[
        float | None, Query(allow_inf_nan=False, description="at or after (UNIX seconds)")
    ] = None,
    until: Annotated[
        float | None, Query(allow_inf_nan=False, description="before (UNIX seconds)")
    ] = None,
    before_id: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="older than")] = None,
) -> AuditFilter:
    return AuditFilter(actor=actor, entity=entity, entity_id=entity_id, action=action,
                       since=since, until=until, before_id=before_id)  # fmt: skip


Filter = Annotated[AuditFilter, Depends(_filter)]


@router.get("/api/audit", response_model=AuditPage)
def list_audit(
    s: Db,
    _p: Auditor,
    f: Filter,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> AuditPage:
    """Audit entries matching the filters, newest first (one page)."""
    rows = entries(s, f, limit=limit)
    found = [AuditEntry.model_validate(r) for r in rows]
    more = len(rows) == limit
    return AuditPage(entries=found, next_before_id=rows[-1].id if more and rows else None)


# --------------------------------------------------------------------------- CSV

CSV_HEADER: Final = (
    "id", "time_utc", "username", "user_id", "role", "address",
    "action", "entity", "entity_id", "field", "before", "after",
)  # fmt: skip
# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV
# injection"); such a cell gets a leading apostrophe, which shows it as text.  The csv
# module quotes but does not do this, and no maintained library does only this.
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """``value`` as a CSV cell a spreadsheet shows as text (None: empty)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _lines(row: AuditRow) -> Iterator[list[str]]:
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(row.at))
    head = [str(row.id), when, safe_cell(row.username),
            "" if row.user_id is None else str(row.user_id), safe_cell(row.role),
            safe_cell(row.address), safe_cell(row.action), safe_cell(row.entity),
            safe_cell(row.entity_id)]  # fmt: skip
    if not row.changes:
        yield [*head, "", "", ""]
    for field, pair in row.changes.items():
        before, after = [*pair, None, None][:2] if isinstance(pair, list) else (None, pair)
        yield [*head, safe_cell(field), safe_cell(before), safe_cell(after)]


def csv_chunks(c: Center, f: AuditFilter) -> Iterator[str]:
    """The CSV text (UTF-8 with a byte-order mark, so spreadsheets read non-Latin text),
    a header row, then the entries newest first; read in a session of its own (the
    response is sent after the request's session is closed)."""
    buf = io.StringIO()
    out = csv.writer(buf)
    buf.write("\ufeff")
    out.writerow(CSV_HEADER)
    with c.sessions() as s:
        for n, row in enumerate(iter_entries(s, f), 1):
            for line in _lines(row):
                out.writerow(line)
            if n % 200 == 0:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
    yield buf.getvalue()


@router.get("/api/audit.csv")
def audit_csv(s: Db, _p: Auditor, c: TheCenter, f: Filter) -> StreamingResponse:
    """Every entry matching the filters as CSV (one line per changed field), newest first."""
    entries(s, f, limit=1)  # a bad filter answers 422 here, before the stream starts
    return StreamingResponse(
        csv_chunks(c, f),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )


__all__ = [
    "CSV_HEADER",
    "Acting",
    "AuditEntry",
    "AuditPage",
    "actor_of",
    "audit_csv",
    "csv_chunks",
    "list_audit",
    "request_actor",
    "router",
    "safe_cell",
]
