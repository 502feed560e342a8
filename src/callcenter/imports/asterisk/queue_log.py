"""Asterisk ``queue_log`` → the project's events (mapping: docs/events.md, rules:
docs/import-asterisk.md).

A queue_log line is ``epoch|callid|queue|agent|EVENT|data1|data2|…``.  Lines are read,
checked, de-duplicated (an identical line seen before is skipped and counted), put in
time order (stable: equal times keep their file order) and then mapped by
:class:`QueueLogMapper`, which keeps the little per-call state the mapping needs (has the
call arrived yet, which queue visit is open, did the last visit time out).

Agents are normalised by :func:`normalise_agent`: a channel or interface loses its
technology and unique suffix (``SIP/1001`` and ``SIP/1001-0000002a`` → ``1001``,
``PJSIP/alice-0000`` → ``alice``, ``Local/1001@agents/n`` → ``1001``, ``Agent/1001`` →
``1001``); a member name (``Alice Smith``) is kept as it is.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from callcenter.errors import InputFileError
from callcenter.events import Event, EventType
from callcenter.imports.common import SHOWN_BAD_LINES, ImportStats, sort_events

SOURCE: Final = "import:asterisk"
NO_CALL: Final = frozenset({"", "NONE", "REALTIME", "MANAGER"})  # agent/queue-level lines
# Events Asterisk writes that carry no contact meaning: counted and kept raw.
KEPT_RAW: Final = frozenset({"CONFIGRELOAD", "QUEUESTART", "INFO", "DID"})
_EVENT_NAME: Final = re.compile(r"[A-Z][A-Z0-9_]*\Z")
_CHANNEL_SUFFIX: Final = re.compile(r"-[0-9a-fA-F]{4,}(;\d+)?\Z")
_ANGLE_NUMBER: Final = re.compile(r"<([^<>]*)>")

# A parsed line: (t, lineno, callid, queue, agent, event, data, raw text)
Line = tuple[float, int, str, str, str, str, list[str], str]

ARRIVE, ENQUEUE, OFFER = EventType.ARRIVE, EventType.ENQUEUE, EventType.OFFER
CONNECT, COMPLETE, WRAPUP_END = EventType.CONNECT, EventType.COMPLETE, EventType.WRAPUP_END
ABANDON, TIMEOUT, TRANSFER = EventType.ABANDON, EventType.TIMEOUT, EventType.TRANSFER
RING_NOANSWER = EventType.RING_NOANSWER
LOGIN, LOGOUT, STATE = EventType.AGENT_LOGIN, EventType.AGENT_LOGOUT, EventType.AGENT_STATE


_AGENT_CACHE: dict[str, str | None] = {}


def normalise_agent(raw: str) -> str | None:
    """The agent's id from a queue_log agent field (see the module docstring)."""
    cached = _AGENT_CACHE.get(raw)
    if cached is not None or raw in _AGENT_CACHE:
        return cached
    s = raw.strip()
    out: str | None
    if not s or s.upper() == "NONE":
        out = None
    elif "/" in s and s.split("/", 1)[0].isalnum():
        tech, rest = s.split("/", 1)
        if tech.lower() == "local":  # Local/1001@agents/n
            rest = rest.split("/", 1)[0].split("@", 1)[0]
        else:  # SIP/1001-0000002a, PJSIP/alice-0000, IAX2/peer/1001
            rest = _CHANNEL_SUFFIX.sub("", rest.split("/", 1)[0].split("@", 1)[0])
        out = rest or s
    else:
        out = s
    if len(_AGENT_CACHE) < 100_000:
        _AGENT_CACHE[raw] = out
    return out


def caller_number(field_text: str) -> str | None:
    """The caller from ENTERQUEUE's callerid field: ``"Name" <123>`` → ``123``."""
    s = field_text.strip()
    if s.isdigit():
        return s
    m = _ANGLE_NUMBER.search(s)
    if m is not None:
        s = m.group(1).strip()
    if not s or s.lower() in ("unknown", "anonymous", "none", "<unknown>"):
        return None
    return s


def enterqueue_fields(data: Sequence[str]) -> tuple[str, int | None]:
    """(callerid, position) of ENTERQUEUE's ``url|callerid|position``; a '|' inside the
    caller's name splits callerid in several fields."""
    last = data[-1].strip() if len(data) >= 3 else ""
    if last.isascii() and last.isdigit() and last != "0":
        return "|".join(data[1:-1]), int(last)
    return "|".join(data[1:]), None


def parse_time(text: str) -> float:
    """Epoch seconds, or a database export's ``2012-07-03 15:27:23.896208`` (UTC)."""
    try:
        t = float(text)
    except ValueError:
        d = dt.datetime.fromisoformat(text.strip())
        if d.tzinfo is None:
            d = d.replace(tzinfo=dt.UTC)
        return d.timestamp()
    if not math.isfinite(t) or t < 0:
        raise ValueError(text)
    return t


def parse_line(text: str, lineno: int) -> Line | str:
    """A queue_log line as a :data:`Line`, or the reason it is not one."""
    parts = text.split("|")
    if len(parts) < 5:
        return f"expected epoch|callid|queue|agent|event|…, got {len(parts)} field(s)"
    try:
        t = parse_time(parts[0])
    except ValueError:
        return f"time {parts[0][:30]!r} is not epoch seconds"
    event = parts[4].strip()
    if not _EVENT_NAME.match(event):
        return f"event name {event[:30]!r} is not an Asterisk queue_log event"
    return (t, lineno, parts[1].strip(), parts[2].strip(), parts[3], event, parts[5:], text)


def num_field(data: list[str], i: int) -> float | None:
    """Field ``i`` as a non-negative number, None if absent or not a number."""
    if i >= len(data) or i < -len(data):
        return None
    try:
        v = float(data[i])
    except ValueError:
        return None
    return v if math.isfinite(v) and v >= 0 else None


def int_field(data: list[str], i: int) -> int | None:
    v = num_field(data, i)
    return int(v) if v is not None and v >= 1 and v == int(v) else None


def transfer_target(name: str, data: list[str]) -> tuple[str, str, int]:
    """(kind, target, index of holdtime) of a transfer line."""
    if name == "ATTENDEDTRANSFER":
        # method|data|holdtime|calltime|origposition; LINK has two channel fields
        n_data = max(1, len(data) - 4)
        target = "|".join(d.strip() for d in data[1 : 1 + n_data] if d.strip())
        return "attended", target or (data[0].strip() if data else "") or "unknown", 1 + n_data
    ext = data[0].strip() if data else ""
    ctx = data[1].strip() if len(data) > 1 else ""
    return "blind", (f"{ext}@{ctx}" if ctx else ext) or "unknown", 2


@dataclass
class CallInfo:
    """What the log tells about a call, for recordings' metadata and CDR matching."""

    caller: str | None = None
    queue: str | None = None
    agent: str | None = None  # the first agent who answered
    start: float | None = None  # its connect time (else the first enqueue)
    arrive: Event | None = None


class BadLineError(Exception):
    """A line that parses but cannot be mapped (raised inside the mapper)."""


def map_error(code: str, name: str, callid: str = "", data: Sequence[str] = ()) -> str:
    """Why a parsed line cannot be mapped (shared with the columnar import)."""
    if code == "no_agent":
        return f"{name} without an agent"
    if code == "no_call":
        return f"{name} needs a call id, got {callid or 'nothing'!r}"
    if code == "no_queue":
        return f"{name} without a queue"
    return f"{name}: calltime {list(data[1:2])} is not a number of seconds"


@dataclass
class QueueLogMapper:
    """Maps queue_log lines (in time order) to events; keeps state across batches."""

    stats: ImportStats
    calls: dict[str, CallInfo] = field(default_factory=dict)
    open_visits: dict[str, tuple[str, float]] = field(default_factory=dict)  # call: queue, t
    last_timeout: dict[str, Event] = field(default_factory=dict)
    seen_lines: set[str] = field(default_factory=set)
    overflows: int = 0

    # ----------------------------------------------------------------- lines

    def parse(self, lines: Iterable[str], first_lineno: int = 1) -> list[Line]:
        """Parse, count and de-duplicate raw lines; bad ones are counted in ``stats``."""
        stats, seen, out = self.stats, self.seen_lines, []
        lineno = first_lineno - 1
        for text in lines:
            lineno += 1
            stats.lines += 1
            text = text.rstrip("\r\n")
            if not text.strip():
                continue
            if text in seen:
                stats.duplicates += 1
                continue
            seen.add(text)
            parsed = parse_line(text, lineno)
            if isinstance(parsed, str):
                stats.bad_line(lineno, parsed)
            else:
                out.append(parsed)
        return out

    def map_lines(self, lines: list[Line]) -> list[Event]:
        """Events of ``lines`` (sorted here by time, stably), in time order."""
        lines.sort(key=lambda ln: ln[0])
        out: list[Event] = []
        bad: list[tuple[int, str]] = []
        for line in lines:
            try:
                self._map(line, out)
            except BadLineError as e:
                bad.append((line[1], str(e)))
        if bad:  # the summary shows the first bad lines of the file, whichever stage
            stats = self.stats
            stats.bad += len(bad)
            stats.bad_lines = sorted(stats.bad_lines + bad)[:SHOWN_BAD_LINES]
        return sort_events(out)

    def feed(self, lines: Iterable[str], first_lineno: int = 1) -> list[Event]:
        return self.map_lines(self.parse(lines, first_lineno))

    # ----------------------------------------------------------------- mapping

    def _map(self, line: Line, out: list[Event]) -> None:
        t, lineno, callid, queue_raw, agent_raw, name, data, raw = line
        queue = None if queue_raw in ("", "NONE") else queue_raw
        if name in KEPT_RAW:
            self.stats.unmapped(lineno, name, raw)
            return
        handler = AGENT_EVENTS.get(name)
        if handler is not None:
            agent = normalise_agent(agent_raw)
            if agent is None:
                raise BadLineError(map_error("no_agent", name))
            etype, state = handler
            reason = data[0].strip() or None if data and name.startswith("PAUSE") else None
            if name == "AGENTCALLBACKLOGOFF" and len(data) > 2 and data[2].strip():
                reason = data[2].strip()
            out.append(Event(t, etype, agent=agent, state=state, reason=reason))
            return
        if name not in CALL_EVENTS:
            self.stats.unmapped(lineno, name, raw)
            return
        if callid in NO_CALL:
            raise BadLineError(map_error("no_call", name, callid))
        contact = callid
        if name == "ENTERQUEUE":
            if queue is None:
                raise BadLineError(map_error("no_queue", name))
            self._enterqueue(t, contact, queue, data, out)
            return
        visit = self.open_visits.get(contact)
        if queue is None and visit is not None:
            queue = visit[0]
        since = t - visit[1] if visit is not None and t >= visit[1] else 0.0
        agent = normalise_agent(agent_raw)
        if name in NEEDS_AGENT and agent is None:
            raise BadLineError(map_error("no_agent", name))
        if name == "CONNECT":
            wait = num_field(data, 0)
            wait = since if wait is None else wait
            ring = num_field(data, 2)
            self._offer(t, contact, queue, agent, ring or 0.0, wait, visit, out)
            out.append(Event(t, CONNECT, contact, queue, agent, wait=wait, ring=ring))
            self._end_visit(contact)
            info = self.calls.setdefault(contact, CallInfo(queue=queue))
            if info.agent is None:
                info.agent, info.start = agent, t
        elif name in COMPLETE_EVENTS:
            by = "caller" if name == "COMPLETECALLER" else "agent"
            talk = 0.0 if name == "AGENTDUMP" else num_field(data, 1)
            if talk is None:
                raise BadLineError(map_error("talk", name, callid, data))
            out.append(Event(t, COMPLETE, contact, queue, agent, by=by, talk=talk))
            out.append(Event(t, WRAPUP_END, contact, queue, agent, acw=0.0))
        elif name in RING_REASON:
            ms = num_field(data, 0) if name != "SYSCOMPAT" else 0.0
            ring = (ms or 0.0) / 1000.0
            reason = RING_REASON[name]
            self._offer(t, contact, queue, agent, ring, since, visit, out)
            out.append(
                Event(
                    t,
                    RING_NOANSWER,
                    contact,
                    queue,
                    agent,
                    ring=ring,
                    wait=since,
                    reason=reason,
                )
            )
        elif name == "ABANDON" or name in TIMEOUT_REASON:
            if queue is None:
                raise BadLineError(map_error("no_queue", name))
            off = 1 if name == "EXITWITHKEY" else 0
            wait = num_field(data, 2 + off) if name != "WITHDRAW" else None
            wait = since if wait is None else wait
            position = int_field(data, off) if name != "WITHDRAW" else None
            if name == "ABANDON":
                out.append(Event(t, ABANDON, contact, queue, wait=wait, position=position))
                self._end_visit(contact)
            else:
                reason = TIMEOUT_REASON[name]
                ev = Event(t, TIMEOUT, contact, queue, wait=wait, position=position, reason=reason)
                out.append(ev)
                self._end_visit(contact)
                self.last_timeout[contact] = ev
        else:  # transfers
            kind, target, hold_i = transfer_target(name, data)
            talk = num_field(data, hold_i + 1)
            out.append(
                Event(
                    t,
                    TRANSFER,
                    contact,
                    queue,
                    agent,
                    talk=talk,
                    target=target,
                    target_type="extension",
                    kind=kind,
                )
            )
            out.append(Event(t, WRAPUP_END, contact, queue, agent, acw=0.0))

    def _enterqueue(
        self, t: float, contact: str, queue: str, data: list[str], out: list[Event]
    ) -> None:
        cid, position = enterqueue_fields(data)
        info = self.calls.get(contact)
        if info is None or info.arrive is None:
            caller = caller_number(cid)
            arrive = Event(t, ARRIVE, contact, queue, channel="voice", caller=caller)
            out.append(arrive)
            if info is None:
                info = self.calls[contact] = CallInfo()
            info.caller, info.queue, info.arrive = caller, queue, arrive
            info.start = t if info.start is None else info.start
        previous = self.last_timeout.pop(contact, None)
        if previous is not None and previous.target is None:  # overflow: one contact
            previous.target, previous.target_type = queue, "queue"
            self.overflows += 1
        out.append(Event(t, ENQUEUE, contact, queue, position=position))
        self.open_visits[contact] = (queue, t)

    def _offer(
        self,
        t: float,
        contact: str,
        queue: str | None,
        agent: str | None,
        ring: float,
        wait: float,
        visit: tuple[str, float] | None,
        out: list[Event],
    ) -> None:
        """The ring Asterisk does not log, put ``ring`` seconds before its outcome."""
        if queue is None or agent is None:
            return
        at = t - ring
        if visit is not None and at < visit[1]:
            at = visit[1]
        out.append(Event(at, OFFER, contact, queue, agent, wait=max(0.0, wait - (t - at))))

    def _end_visit(self, contact: str) -> None:
        self.open_visits.pop(contact, None)
        self.last_timeout.pop(contact, None)

    def finish(self) -> None:
        """Closing notes: calls still in a queue, overflows."""
        closing_notes(self.stats, len(self.open_visits), self.overflows)


def closing_notes(stats: ImportStats, still_queued: int, overflows: int) -> None:
    if still_queued:
        stats.notes.append(
            f"{still_queued:,} call{'s' if still_queued != 1 else ''} entered a queue and "
            "never left it (no CONNECT, ABANDON or EXIT… line): left open, no outcome invented"
        )
    if overflows:
        stats.notes.append(
            f"{overflows:,} queue visit(s) timed out into another queue (overflow): "
            "one contact, several visits"
        )


AGENT_EVENTS: Final[dict[str, tuple[EventType, str | None]]] = {
    "ADDMEMBER": (LOGIN, None),
    "REMOVEMEMBER": (LOGOUT, None),
    "AGENTLOGIN": (LOGIN, None),
    "AGENTLOGOFF": (LOGOUT, None),
    "AGENTCALLBACKLOGIN": (LOGIN, None),
    "AGENTCALLBACKLOGOFF": (LOGOUT, None),
    "PAUSE": (STATE, "paused"),
    "PAUSEALL": (STATE, "paused"),
    "UNPAUSE": (STATE, "available"),
    "UNPAUSEALL": (STATE, "available"),
}
TIMEOUT_REASON: Final = {
    "EXITWITHTIMEOUT": "max_wait",
    "EXITEMPTY": "empty",
    "EXITWITHKEY": "key",
    "WITHDRAW": "withdraw",
}
COMPLETE_EVENTS: Final = ("COMPLETECALLER", "COMPLETEAGENT", "AGENTDUMP")
RING_REASON: Final = {
    "RINGNOANSWER": "timeout",
    "RINGCANCELED": "canceled",
    "SYSCOMPAT": "syscompat",
}
TRANSFER_EVENTS: Final = ("BLINDTRANSFER", "ATTENDEDTRANSFER", "TRANSFER")
NEEDS_AGENT: Final = frozenset({"CONNECT", *COMPLETE_EVENTS, *RING_REASON, *TRANSFER_EVENTS})
CALL_EVENTS: Final = NEEDS_AGENT | {"ENTERQUEUE", "ABANDON", *TIMEOUT_REASON}


# --------------------------------------------------------------------------- files


def read_text_lines(path: Path) -> list[str]:
    """The file's lines; one-line errors for a missing, empty or binary file."""
    if not path.exists():
        raise InputFileError(path, "no such file")
    if not path.is_file():
        raise InputFileError(path, "not a file")
    data = path.read_bytes()
    if not data.strip():
        raise InputFileError(path, "empty file, not an Asterisk queue_log")
    if b"\0" in data[:65536]:
        raise InputFileError(path, "binary file, not an Asterisk queue_log")
    # a stray NUL further on reads as U+FFFD, as in the columnar import
    return data.replace(b"\0", "\ufffd".encode()).decode("utf-8", "replace").split("\n")


@dataclass
class QueueLogImport:
    """The result of :func:`import_queue_log`."""

    events: list[Event]
    stats: ImportStats
    calls: dict[str, CallInfo]


def check_is_queue_log(path: Path, stats: ImportStats, parsed: int) -> None:
    if parsed == 0:
        first = (
            f" (line {stats.bad_lines[0][0]}: {stats.bad_lines[0][1]})" if stats.bad_lines else ""
        )
        raise InputFileError(
            path, f"not an Asterisk queue_log: no line reads epoch|callid|queue|agent|event{first}"
        )


def import_queue_log(path: str | Path) -> QueueLogImport:
    """Read and map a whole queue_log file; events in time order."""
    p = Path(path)
    lines = read_text_lines(p)
    if lines and lines[-1] == "":
        lines.pop()
    stats = ImportStats(source=SOURCE, path=str(p))
    mapper = QueueLogMapper(stats)
    parsed = mapper.parse(lines)
    check_is_queue_log(p, stats, len(parsed))
    events = mapper.map_lines(parsed)
    mapper.finish()
    return QueueLogImport(events, stats, mapper.calls)


__all__ = [
    "NO_CALL",
    "SOURCE",
    "CallInfo",
    "QueueLogImport",
    "QueueLogMapper",
    "caller_number",
    "import_queue_log",
    "normalise_agent",
    "parse_line",
    "read_text_lines",
]
