"""FreeSWITCH CDRs (mod_json_cdr, mod_cdr_csv) of call-center calls, and what the
FreeSWITCH importers share; :mod:`callcenter.imports.freeswitch.events` is the entry point.

A caller's CDR holds what mod_callcenter wrote for it (``cc_queue``,
``cc_queue_joined_epoch``, ``cc_queue_answered_epoch``, ``cc_queue_terminated_epoch``,
``cc_queue_canceled_epoch``, ``cc_cause``, ``cc_cancel_reason``, ``cc_agent``,
``cc_exit_key``): one queue visit, its outcome and, if answered, the conversation.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote

from callcenter.errors import InputFileError
from callcenter.events import Event, EventType
from callcenter.imports.common import ImportStats, sort_events


class LineError(ValueError):
    """A line that cannot be used; the message says why."""


# member-queue-end CC-Cancel-Reason -> our outcome (the event type, the timeout reason)
CANCEL_REASONS: Final = {
    "TIMEOUT": (EventType.TIMEOUT, "max_wait"),
    "NO_AGENT_TIMEOUT": (EventType.TIMEOUT, "empty"),
    "BREAK_OUT": (EventType.ABANDON, None),
    "NONE": (EventType.ABANDON, None),
}


def epoch(value: Any, name: str) -> float | None:
    """A time header (epoch seconds) as a float; None if absent or 0 (FreeSWITCH: unset)."""
    if value is None or value == "":
        return None
    try:
        t = float(value)
    except (TypeError, ValueError):
        raise LineError(f"{name} {value!r} is not an epoch time") from None
    if t != t or t in (float("inf"), float("-inf")) or t < 0:
        raise LineError(f"{name} {value!r} is not an epoch time")
    return t if t > 0 else None


def by_from_disposition(value: Any, leg: str) -> str | None:
    """Who hung up, from ``sip_hangup_disposition`` of the caller's or the agent's leg."""
    if value not in ("recv_bye", "send_bye"):
        return None
    other = "agent" if leg == "caller" else "caller"
    return leg if value == "recv_bye" else other


def json_lines(text: str) -> Iterator[tuple[int, str, dict[str, Any] | str]]:
    """(line number, raw line, the object or why it is not one) of each non-blank line."""
    for lineno, line in enumerate(text.splitlines(), 1):
        raw = line.strip()
        if not raw:
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as e:
            yield lineno, raw, f"not JSON ({e.msg} at column {e.colno})"
            continue
        yield lineno, raw, obj if isinstance(obj, dict) else "not a JSON object"


# --- CDRs ------------------------------------------------------------------------------
class CdrMapper:
    """Turns the ``variables`` of a caller's CDR into one queue visit's events."""

    def __init__(self, stats: ImportStats) -> None:
        self.stats = stats
        self.events: list[Event] = []
        self.seen: set[str] = set()
        self.skipped = {"no cc_queue": 0, "agent legs": 0}
        self.unknown_by = 0

    def handle(self, v: dict[str, str], raw: str) -> None:
        contact = v.get("uuid") or v.get("call_uuid")
        if not v.get("cc_queue"):
            self.skipped["no cc_queue"] += 1
            return
        member = v.get("cc_member_session_uuid")
        if (member and member != contact) or v.get("cc_agent_type"):
            self.skipped["agent legs"] += 1  # the caller's CDR tells the same call
            return
        if not contact:
            raise LineError("a CDR without uuid")
        if raw in self.seen:
            self.stats.duplicates += 1
            return
        self.seen.add(raw)
        queue = v["cc_queue"]
        joined = epoch(v.get("cc_queue_joined_epoch"), "cc_queue_joined_epoch")
        if joined is None:
            raise LineError("cc_queue without cc_queue_joined_epoch")
        start = epoch(v.get("start_epoch"), "start_epoch")
        out = [
            Event(
                min(start or joined, joined),
                EventType.ARRIVE,
                contact,
                channel="voice",
                caller=v.get("caller_id_number") or None,
            ),
            Event(joined, EventType.ENQUEUE, contact, queue),
        ]
        answered = epoch(v.get("cc_queue_answered_epoch"), "cc_queue_answered_epoch")
        end = epoch(v.get("end_epoch"), "end_epoch")
        if answered is not None and v.get("cc_cause", "answered").lower() != "cancel":
            agent = v.get("cc_agent")
            if not agent:
                raise LineError("answered (cc_queue_answered_epoch) but no cc_agent")
            stop = epoch(v.get("cc_queue_terminated_epoch"), "cc_queue_terminated_epoch") or end
            if stop is None or stop < answered:
                raise LineError("answered, but no cc_queue_terminated_epoch / end_epoch after it")
            by = by_from_disposition(v.get("sip_hangup_disposition"), "caller")
            if by is None:
                self.unknown_by += 1
            wait = max(0.0, answered - joined)
            out.append(Event(answered, EventType.CONNECT, contact, queue, agent, wait=wait))
            out.append(
                Event(stop, EventType.COMPLETE, contact, queue, agent, by=by or "caller",
                      talk=stop - answered)
            )  # fmt: skip
        else:
            left = epoch(v.get("cc_queue_canceled_epoch"), "cc_queue_canceled_epoch") or end
            if left is None or left < joined:
                raise LineError("left the queue unanswered, but no cc_queue_canceled_epoch")
            kind, reason = CANCEL_REASONS.get(
                v.get("cc_cancel_reason", "NONE").upper(), CANCEL_REASONS["NONE"]
            )
            if v.get("cc_exit_key"):
                kind, reason = EventType.TIMEOUT, "key"
            out.append(Event(left, kind, contact, queue, wait=left - joined, reason=reason))
        self.events.extend(out)

    def finish(self) -> list[Event]:
        for what, n in self.skipped.items():
            if n:
                self.stats.notes.append(f"skipped {n} CDRs ({what}: not a caller's queue visit)")
        if self.unknown_by:
            self.stats.notes.append(
                f"{self.unknown_by} answered calls without sip_hangup_disposition: "
                "counted as ended by the caller"
            )
        return sort_events(self.events)


def _variables(doc: dict[str, Any]) -> dict[str, str]:
    """A JSON CDR's variables, URL-decoded (mod_json_cdr encodes them by default)."""
    raw = doc.get("variables")
    if not isinstance(raw, dict):
        raise LineError("a JSON CDR without a 'variables' object")
    out = {str(k): unquote(str(v)) for k, v in raw.items() if v is not None}
    if "caller_id_number" not in out:
        flow = doc.get("callflow")
        first = flow[0] if isinstance(flow, list) and flow else flow
        profile = first.get("caller_profile") if isinstance(first, dict) else None
        if isinstance(profile, dict) and profile.get("caller_id_number"):
            out["caller_id_number"] = unquote(str(profile["caller_id_number"]))
    return out


CdrRows = Iterator[tuple[int, str, "dict[str, str] | str"]]


def json_cdr_docs(text: str) -> CdrRows:
    """Each JSON CDR's variables: a whole file holding one document, or one per line."""
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    docs: Iterator[tuple[int, str, Any]]
    if isinstance(whole, dict):
        docs = iter([(1, text, whole)])
    elif isinstance(whole, list):  # an array of CDRs
        docs = (
            (1, json.dumps(d), d if isinstance(d, dict) else "not a JSON object") for d in whole
        )
    else:
        docs = json_lines(text)
    for lineno, raw, doc in docs:
        if isinstance(doc, str):
            yield lineno, raw, doc
            continue
        try:
            yield lineno, raw, _variables(doc)
        except LineError as e:
            yield lineno, raw, str(e)


def csv_cdr_rows(text: str, template: str | None, path: Path) -> CdrRows:
    """Each CSV CDR row as variables, named by the template or by the header row."""
    reader = csv.reader(io.StringIO(text))
    names = re.findall(r"\$\{([^}]+)\}", template) if template else None
    if template and not names:
        raise InputFileError(path, "--template names no ${variables}")
    last = 0
    for cells in reader:
        lineno, last = last + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if names is None:
            names = [c.strip() for c in cells]
            if "cc_queue" not in names or not {"uuid", "call_uuid"} & set(names):
                raise InputFileError(
                    path,
                    "the first row must name the columns (uuid, cc_queue, ...) or give "
                    "--template; see docs/import-freeswitch-csv.md",
                )
            continue
        if len(cells) != len(names):
            yield lineno, ",".join(cells), f"{len(cells)} fields, expected {len(names)}"
            continue
        yield lineno, ",".join(cells), {n: c for n, c in zip(names, cells, strict=True) if c}
