"""FreeSWITCH mod_callcenter history as events: ESL JSON events, JSON CDRs, CSV CDRs.

* ``events``: one JSON object per line, each an event as ``mod_event_socket`` sends it in
  ``json`` format; the ``CUSTOM`` events of subclass ``callcenter::info`` carry the queue's
  story in their ``CC-Action`` (member-queue-start, agent-offering, bridge-agent-start,
  bridge-agent-fail, bridge-agent-end, member-queue-end, agent-status-change ...).
* ``json-cdr``: ``mod_json_cdr`` documents (one per file, or one per line) of the
  callers' legs, whose ``variables`` hold what mod_callcenter wrote for the CDR
  (``cc_queue``, ``cc_queue_joined_epoch``, ``cc_queue_answered_epoch``,
  ``cc_queue_terminated_epoch``, ``cc_queue_canceled_epoch``, ``cc_cause``,
  ``cc_cancel_reason``, ``cc_agent`` ...).
* ``csv-cdr``: ``mod_cdr_csv`` rows of a template that writes those variables; the header
  row (or the template) names the columns.

The mapping is in docs/import-freeswitch-csv.md. Nothing is dropped silently: garbage
lines are counted with their line numbers, other actions and events are kept raw.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from callcenter.errors import InputFileError
from callcenter.events import Event, EventType
from callcenter.imports.common import ImportStats, sort_events
from callcenter.imports.freeswitch.cdr import (
    CANCEL_REASONS,
    CdrMapper,
    LineError,
    by_from_disposition,
    csv_cdr_rows,
    epoch,
    json_cdr_docs,
    json_lines,
)

SOURCE: Final = "import:freeswitch"
SUBCLASS: Final = "callcenter::info"


class FsFormat(StrEnum):
    EVENTS = "events"
    JSON_CDR = "json-cdr"
    CSV_CDR = "csv-cdr"


# bridge-agent-fail's CC-Hangup-Cause -> ring_noanswer reason
RING_REASONS: Final = {
    "NO_ANSWER": "timeout",
    "ALLOTTED_TIMEOUT": "timeout",
    "NO_USER_RESPONSE": "timeout",
    "CALL_REJECTED": "declined",
    "USER_BUSY": "declined",
    "ORIGINATOR_CANCEL": "canceled",
    "LOSE_RACE": "canceled",
}


def _event_time(h: dict[str, Any]) -> float | None:
    """The event's own time: Event-Date-Timestamp (microseconds since the epoch)."""
    us = epoch(h.get("Event-Date-Timestamp"), "Event-Date-Timestamp")
    return None if us is None else us / 1_000_000


class EventMapper:
    """Turns callcenter::info events into our events, keeping each call's state."""

    def __init__(self, stats: ImportStats) -> None:
        self.stats = stats
        self.events: list[Event] = []
        self.seen: set[str] = set()  # contacts that arrived
        self.visit: dict[str, tuple[str, float]] = {}  # open queue visit: (queue, joined)
        self.leg: dict[str, Event] = {}  # contact -> connect of the leg still talking
        self.done: dict[str, Event] = {}  # contact -> last complete (its `by` may come later)
        self.agent_status: dict[str, str] = {}
        self.rebuilt = 0

    def _emit(self, event: Event) -> Event:
        self.events.append(event)
        return event

    def _ensure_visit(self, contact: str, queue: str, joined: float | None, caller: Any) -> float:
        """The open visit's enqueue time; rebuilds a visit that began before the log."""
        open_visit = self.visit.get(contact)
        if open_visit is not None:
            return open_visit[1]
        if joined is None:
            raise LineError("the call was never queued and CC-Member-Joined-Time is missing")
        self.rebuilt += 1
        self._enqueue(joined, contact, queue, caller)
        return joined

    def _enqueue(self, t: float, contact: str, queue: str, caller: Any) -> None:
        if contact not in self.seen:
            self.seen.add(contact)
            cid = str(caller) if caller else None
            self._emit(Event(t, EventType.ARRIVE, contact, channel="voice", caller=cid))
        self._emit(Event(t, EventType.ENQUEUE, contact, queue))
        self.visit[contact] = (queue, t)

    def handle(self, lineno: int, h: dict[str, Any], raw: str) -> None:
        name = str(h.get("Event-Name", ""))
        subclass = h.get("Event-Subclass")
        if name != "CUSTOM" or subclass != SUBCLASS:
            kind = f"{name} {subclass}" if subclass else name or "(no Event-Name)"
            self.stats.unmapped(lineno, kind, raw)
            return
        action = str(h.get("CC-Action", ""))
        method = getattr(self, "_" + action.replace("-", "_"), None)
        if method is None:
            self.stats.unmapped(lineno, f"{SUBCLASS} {action or '(no CC-Action)'}", raw)
            return
        t = _event_time(h)
        if t is None:
            raise LineError("no Event-Date-Timestamp")
        method(t, h)

    def _need(self, h: dict[str, Any], *names: str) -> list[str]:
        values = []
        for n in names:
            v = h.get(n)
            if v is None or v == "":
                raise LineError(f"{h.get('CC-Action')} without {n}")
            values.append(str(v))
        return values

    def _contact(self, h: dict[str, Any]) -> str:
        c = h.get("CC-Member-Session-UUID") or h.get("CC-Member-UUID")
        if not c:
            raise LineError(f"{h.get('CC-Action')} without CC-Member-Session-UUID")
        return str(c)

    # --- the actions ---------------------------------------------------------------------
    def _member_queue_start(self, t: float, h: dict[str, Any]) -> None:
        (queue,) = self._need(h, "CC-Queue")
        self._enqueue(t, self._contact(h), queue, h.get("CC-Member-CID-Number"))

    _member_queue_resume = _member_queue_start

    def _agent_offering(self, t: float, h: dict[str, Any]) -> None:
        queue, agent = self._need(h, "CC-Queue", "CC-Agent")
        contact = self._contact(h)
        joined = epoch(h.get("CC-Member-Joined-Time"), "CC-Member-Joined-Time")
        start = self._ensure_visit(contact, queue, joined, h.get("CC-Member-CID-Number"))
        self._emit(Event(t, EventType.OFFER, contact, queue, agent, wait=max(0.0, t - start)))

    def _bridge_agent_start(self, t: float, h: dict[str, Any]) -> None:
        queue, agent = self._need(h, "CC-Queue", "CC-Agent")
        contact = self._contact(h)
        joined = epoch(h.get("CC-Member-Joined-Time"), "CC-Member-Joined-Time")
        answered = epoch(h.get("CC-Agent-Answered-Time"), "CC-Agent-Answered-Time")
        called = epoch(h.get("CC-Agent-Called-Time"), "CC-Agent-Called-Time")
        start = self._ensure_visit(contact, queue, joined, h.get("CC-Member-CID-Number"))
        self._connect(t, contact, queue, agent, joined or start, answered, called)

    def _connect(
        self,
        t: float,
        contact: str,
        queue: str,
        agent: str,
        joined: float,
        answered: float | None,
        called: float | None,
    ) -> None:
        at = answered if answered is not None else t
        ring = at - called if called is not None and at >= called else None
        wait = max(0.0, at - joined)
        self.visit.pop(contact, None)
        self.leg[contact] = self._emit(
            Event(t, EventType.CONNECT, contact, queue, agent, wait=wait, ring=ring)
        )

    def _bridge_agent_end(self, t: float, h: dict[str, Any]) -> None:
        queue, agent = self._need(h, "CC-Queue", "CC-Agent")
        contact = self._contact(h)
        by = by_from_disposition(h.get("variable_sip_hangup_disposition"), "agent")
        self._complete(t, h, contact, queue, agent, by)

    def _complete(
        self, t: float, h: dict[str, Any], contact: str, queue: str, agent: str, by: str | None
    ) -> None:
        leg = self.leg.pop(contact, None)
        answered = epoch(h.get("CC-Agent-Answered-Time"), "CC-Agent-Answered-Time")
        if leg is None:  # the log began while the call was talking
            joined = epoch(h.get("CC-Member-Joined-Time"), "CC-Member-Joined-Time")
            if answered is None:
                raise LineError("the call ends here but never connected (no answered time)")
            self._ensure_visit(contact, queue, joined, h.get("CC-Member-CID-Number"))
            called = epoch(h.get("CC-Agent-Called-Time"), "CC-Agent-Called-Time")
            self._connect(answered, contact, queue, agent, joined or answered, answered, called)
            self.leg.pop(contact)
        start = answered if answered is not None else (leg.t if leg is not None else t)
        end = epoch(h.get("CC-Bridge-Terminated-Time"), "CC-Bridge-Terminated-Time")
        talk = max(0.0, (end if end is not None else t) - start)
        self.done[contact] = self._emit(
            Event(t, EventType.COMPLETE, contact, queue, agent, by=by, talk=talk)
        )

    def _bridge_agent_fail(self, t: float, h: dict[str, Any]) -> None:
        queue, agent = self._need(h, "CC-Queue", "CC-Agent")
        contact = self._contact(h)
        called = epoch(h.get("CC-Agent-Called-Time"), "CC-Agent-Called-Time")
        aborted = epoch(h.get("CC-Agent-Aborted-Time"), "CC-Agent-Aborted-Time") or t
        visit = self.visit.get(contact)
        joined = epoch(h.get("CC-Member-Joined-Time"), "CC-Member-Joined-Time")
        start = joined if joined is not None else (visit[1] if visit else None)
        cause = str(h.get("CC-Hangup-Cause") or "")
        reason = RING_REASONS.get(cause, cause.lower() or "timeout")
        self._emit(
            Event(
                t,
                EventType.RING_NOANSWER,
                contact,
                queue,
                agent,
                ring=max(0.0, aborted - called) if called is not None else None,
                wait=max(0.0, aborted - start) if start is not None else None,
                reason=reason,
            )
        )

    def _member_queue_end(self, t: float, h: dict[str, Any]) -> None:
        (queue,) = self._need(h, "CC-Queue")
        contact = self._contact(h)
        cause = str(h.get("CC-Cause", ""))
        if cause == "Terminated":  # the call was answered; bridge-agent-end said the rest
            by = by_from_disposition(h.get("variable_sip_hangup_disposition"), "caller")
            if contact in self.leg or contact not in self.done:
                (agent,) = self._need(h, "CC-Agent")
                self._complete(t, h, contact, queue, agent, by)
            elif self.done[contact].by is None:
                self.done[contact].by = by
            return
        if cause != "Cancel":
            raise LineError(f"member-queue-end with an unknown CC-Cause {cause!r}")
        joined = epoch(h.get("CC-Member-Joined-Time"), "CC-Member-Joined-Time")
        start = self._ensure_visit(contact, queue, joined, h.get("CC-Member-CID-Number"))
        left = epoch(h.get("CC-Member-Leaving-Time"), "CC-Member-Leaving-Time") or t
        wait = max(0.0, left - (joined if joined is not None else start))
        kind, reason = CANCEL_REASONS.get(
            str(h.get("CC-Cancel-Reason", "NONE")), CANCEL_REASONS["NONE"]
        )
        if h.get("variable_cc_exit_key"):  # the caller pressed an exit key
            kind, reason = EventType.TIMEOUT, "key"
        self.visit.pop(contact, None)
        self._emit(Event(t, kind, contact, queue, wait=wait, reason=reason))

    def _agent_status_change(self, t: float, h: dict[str, Any]) -> None:
        agent, status = self._need(h, "CC-Agent", "CC-Agent-Status")
        before = self.agent_status.get(agent)
        self.agent_status[agent] = status
        if status == "Logged Out":
            if before != "Logged Out":
                self._emit(Event(t, EventType.AGENT_LOGOUT, agent=agent))
        elif status in ("Available", "Available (On Demand)"):
            if before in (None, "Logged Out"):
                self._emit(Event(t, EventType.AGENT_LOGIN, agent=agent))
            else:
                self._emit(Event(t, EventType.AGENT_STATE, agent=agent, state="available"))
        elif status == "On Break":
            self._emit(Event(t, EventType.AGENT_STATE, agent=agent, state="paused", reason="break"))
        else:
            raise LineError(f"unknown CC-Agent-Status {status!r}")

    def finish(self) -> list[Event]:
        unknown = [e for e in self.events if e.type is EventType.COMPLETE and e.by is None]
        for e in unknown:
            e.by = "caller"
        if unknown:
            self.stats.notes.append(
                f"{len(unknown)} answered calls without sip_hangup_disposition: "
                "counted as ended by the caller"
            )
        if self.rebuilt:
            self.stats.notes.append(
                f"{self.rebuilt} calls were queued before the log began: "
                "their enqueue was rebuilt from CC-Member-Joined-Time"
            )
        if self.visit:
            self.stats.notes.append(f"{len(self.visit)} calls never left the queue")
        return sort_events(self.events)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").removeprefix("\ufeff")
    except FileNotFoundError:
        raise InputFileError(path, "no such file") from None
    except IsADirectoryError:
        raise InputFileError(path, "is a folder; give the files (e.g. cdr/*.json)") from None


def _label(paths: list[Path]) -> str:
    names = [str(p) for p in paths]
    return ", ".join(names) if len(names) <= 3 else f"{names[0]} (+{len(names) - 1} more)"


def import_events(paths: list[Path]) -> tuple[list[Event], ImportStats]:
    """ESL JSON event logs (one event per line) as events in time order."""
    stats = ImportStats(source=SOURCE, path=_label(paths))
    mapper = EventMapper(stats)
    seen: set[str] = set()
    for path in paths:
        text = _read(path)
        stats.lines += len(text.splitlines())
        prefix = f"{path.name}: " if len(paths) > 1 else ""
        for lineno, raw, obj in json_lines(text):
            if isinstance(obj, str):
                stats.bad_line(lineno, prefix + obj)
                continue
            if raw in seen:
                stats.duplicates += 1
                continue
            seen.add(raw)
            try:
                mapper.handle(lineno, obj, raw)
            except LineError as e:
                stats.bad_line(lineno, prefix + str(e))
            except (ValueError, TypeError, AttributeError) as e:  # never stop on one odd line
                stats.bad_line(lineno, f"{prefix}unexpected content ({e.__class__.__name__}: {e})")
    return mapper.finish(), stats


def import_cdrs(
    paths: list[Path], fmt: FsFormat, template: str | None = None
) -> tuple[list[Event], ImportStats]:
    """JSON or CSV CDRs of the callers' legs as events in time order."""
    stats = ImportStats(source=SOURCE, path=_label(paths))
    mapper = CdrMapper(stats)
    for path in paths:
        text = _read(path)
        stats.lines += len(text.splitlines())
        prefix = f"{path.name}: " if len(paths) > 1 else ""
        docs = (
            json_cdr_docs(text) if fmt is FsFormat.JSON_CDR else csv_cdr_rows(text, template, path)
        )
        for lineno, raw, doc in docs:
            if isinstance(doc, str):
                stats.bad_line(lineno, prefix + doc)
                continue
            try:
                mapper.handle(doc, raw)
            except LineError as e:
                stats.bad_line(lineno, prefix + str(e))
            except (ValueError, TypeError, AttributeError) as e:  # never stop on one odd row
                stats.bad_line(lineno, f"{prefix}unexpected content ({e.__class__.__name__}: {e})")
    return mapper.finish(), stats


def detect_format(path: Path) -> FsFormat:
    """Guess the format from the name and the first line."""
    if path.suffix.lower() == ".csv":
        return FsFormat.CSV_CDR
    head = ""
    for line in _read(path).splitlines():
        if line.strip():
            head = line.strip()
            break
    if '"Event-Name"' in head:
        return FsFormat.EVENTS
    if head.startswith("{"):
        return FsFormat.JSON_CDR
    raise InputFileError(path, "cannot tell the format; give --format events, json-cdr or csv-cdr")


def import_freeswitch(
    paths: list[Path], fmt: FsFormat | None = None, template: str | None = None
) -> tuple[list[Event], ImportStats]:
    """Import FreeSWITCH files of one format (guessed from the first file if not given)."""
    fmt = fmt or detect_format(paths[0])
    if fmt is FsFormat.EVENTS:
        return import_events(paths)
    return import_cdrs(paths, fmt, template)


__all__ = [
    "SOURCE",
    "EventMapper",
    "FsFormat",
    "detect_format",
    "import_cdrs",
    "import_events",
    "import_freeswitch",
]
