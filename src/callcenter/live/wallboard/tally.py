"""Today's figures from the live event log, read once: :class:`DayTally` (definitions:
the package's docstring, ``docs/wallboard.md``)."""

from __future__ import annotations

import math
from bisect import bisect_right, insort
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callcenter.events import EventType
from callcenter.live.engine import LIVE_SOURCE
from callcenter.storage import eventlog
from callcenter.storage.tables import (
    AgentRow,
    AgentStatus,
    ContactRow,
    ContactStatus,
)

DAY_SECONDS: Final = 86_400

E = EventType
_TERMINAL: Final = frozenset({E.CONNECT, E.ABANDON, E.TIMEOUT, E.CALLBACK_REQUEST})
# The event types the tally reads (hold/unhold/arrive change nothing it keeps).
_READ_TYPES: Final = tuple(
    t.value
    for t in (
        E.ENQUEUE, E.OFFER, E.RING_NOANSWER, E.CONNECT, E.CALLBACK_MADE, E.COMPLETE,
        E.TRANSFER, E.WRAPUP_END, E.ABANDON, E.TIMEOUT, E.CALLBACK_REQUEST,
        E.AGENT_LOGIN, E.AGENT_LOGOUT, E.AGENT_STATE, E.SUPERVISE,
    )
)  # fmt: skip


OPEN_WITH_AGENT: Final = (
    ContactStatus.RINGING.value,
    ContactStatus.ACTIVE.value,
    ContactStatus.WRAPUP.value,
)
"""The statuses of a contact that has an agent (ringing, in conversation, wrap-up)."""


def utc_day_start(now: float) -> float:
    """UTC midnight at or before ``now`` (the start of "today" on the wallboard)."""
    return float(math.floor(now / DAY_SECONDS) * DAY_SECONDS)


@dataclass
class DayTally:
    """Today's queue-visit outcomes and per-agent event times, from the live event log.

    :meth:`update` reads the live events appended since the previous call (the first
    call reads everything from ``scan_from``) and folds them in, in log order.  Visits
    count only if their ``enqueue`` is at or after ``day_start``; the agent facts are
    kept from every event read.  A tally belongs to one day: make a new one when
    ``day_start`` moves.  Not thread-safe: one caller at a time.
    """

    day_start: float
    cursor: int = 0  # the last events.id folded in
    started: bool = False
    offered: Counter[str] = field(default_factory=Counter)
    answered_waits: defaultdict[str, list[float]] = field(
        default_factory=lambda: defaultdict(list)
    )  # sorted, per queue
    abandoned: Counter[str] = field(default_factory=Counter)
    timed_out: Counter[str] = field(default_factory=Counter)
    open_visits: dict[str, tuple[str, float]] = field(default_factory=dict)  # contact -> (q, t)
    agent_last: dict[str, float] = field(default_factory=dict)  # latest event about the agent
    agent_last_end: dict[str, float] = field(default_factory=dict)  # latest complete/transfer
    connected: dict[tuple[str, str], float] = field(default_factory=dict)  # (contact, agent)
    transfer_wraps: defaultdict[str, dict[str, float]] = field(
        default_factory=lambda: defaultdict(dict)
    )  # agent -> contacts it transferred and is still wrapping up -> transfer time
    ringing_at: dict[str, str] = field(default_factory=dict)  # contact -> agent it rings
    supervised: dict[str, tuple[str, str]] = field(default_factory=dict)  # agent -> (who, mode)

    def update(self, s: Session) -> int:
        """Fold in the live events appended since the last call; return how many."""
        cols = ("t", "type", "contact", "queue", "agent", "wait", "target", "reason")
        if not self.started:
            # The newest id first: rows committed after it are read by the next call.
            top = eventlog.last_id(s)
            rows = eventlog.read_rows(
                s,
                cols,
                source=LIVE_SOURCE,
                types=_READ_TYPES,
                through_id=top,
                start=self._scan_from(s),
            )
            self.started, self.cursor = True, top
        else:
            rows = eventlog.read_rows(
                s, cols, source=LIVE_SOURCE, types=_READ_TYPES, after_id=self.cursor
            )
        for row in rows:
            self._fold(*row)
            self.cursor = max(self.cursor, row[0])
        return len(rows)

    def _scan_from(self, s: Session) -> float:
        """Where the first read starts: today, or earlier if someone was busy before."""
        since = s.scalar(
            select(func.min(AgentRow.status_since)).where(AgentRow.status != AgentStatus.LOGGED_OUT)
        )
        arrived = s.scalar(
            select(func.min(ContactRow.arrived_at)).where(ContactRow.status.in_(OPEN_WITH_AGENT))
        )
        return min(x for x in (self.day_start, since, arrived) if x is not None)

    def _fold(
        self,
        _id: int,
        t: float,
        typ: str,
        contact: str | None,
        queue: str | None,
        agent: str | None,
        wait: float | None,
        target: str | None = None,
        reason: str | None = None,
    ) -> None:
        et = E(typ)
        if et is E.SUPERVISE:  # who coaches whom: not an agent's own activity
            if agent is not None and reason == "stop":
                self.supervised.pop(agent, None)
            elif agent is not None:
                self.supervised[agent] = (target or "", reason or "")
            return
        if agent is not None:
            self.agent_last[agent] = t
        if contact is None:
            if et is E.AGENT_LOGOUT and agent is not None:
                self.transfer_wraps.pop(agent, None)
            return
        if et is E.ENQUEUE:
            if queue is not None and t >= self.day_start:
                self.offered[queue] += 1
                self.open_visits[contact] = (queue, t)
            else:  # a visit of an earlier day: not counted
                self.open_visits.pop(contact, None)
        elif et in _TERMINAL:
            visit = self.open_visits.pop(contact, None)
            if visit is not None:
                self._outcome(et, visit, t, wait)
        if et is E.OFFER and agent is not None:
            self.ringing_at[contact] = agent
        elif et in (E.CONNECT, E.CALLBACK_MADE, E.RING_NOANSWER, E.ABANDON, E.TIMEOUT):
            rang = self.ringing_at.pop(contact, None)
            if rang is not None and agent is None:  # abandoned / timed out while ringing
                self.agent_last[rang] = t
        if agent is None:
            return
        if et in (E.CONNECT, E.CALLBACK_MADE):
            self.connected[(contact, agent)] = t
            self.transfer_wraps[agent].pop(contact, None)
        elif et is E.COMPLETE:
            self.agent_last_end[agent] = t
            self.supervised.pop(agent, None)
        elif et is E.TRANSFER:
            self.agent_last_end[agent] = t
            self.supervised.pop(agent, None)
            self.transfer_wraps[agent][contact] = t
        elif et is E.WRAPUP_END:
            self.connected.pop((contact, agent), None)
            self.transfer_wraps[agent].pop(contact, None)

    def _outcome(self, et: EventType, visit: tuple[str, float], t: float, w: float | None) -> None:
        queue, t_enq = visit
        if et is E.CONNECT:
            insort(self.answered_waits[queue], t - t_enq if w is None else w)
        elif et is E.ABANDON:
            self.abandoned[queue] += 1
        elif et is E.TIMEOUT:  # overflowed or left the center: both "timed out"
            self.timed_out[queue] += 1

    def answered_within(self, queue: str, threshold_s: float) -> int:
        """Visits of ``queue`` answered today with wait ≤ ``threshold_s``."""
        return bisect_right(self.answered_waits.get(queue, []), threshold_s)


__all__ = ["DAY_SECONDS", "OPEN_WITH_AGENT", "DayTally", "utc_day_start"]
