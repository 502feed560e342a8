"""The supervisor wallboard: live queue and agent figures, computed from the database.

:func:`compute_snapshot` is pure given a :class:`Session` and ``now``: it reads the
configuration tables, the read models (``contacts``, ``agents``) and the live event log
and returns a :class:`Snapshot`.  Definitions (``docs/wallboard.md``):

* **waiting** / **longest wait** — contacts whose row is ``queued`` in the queue, and
  ``now`` minus the earliest ``enqueued_at`` among them (the start of their queue visit,
  ring-no-answers included).
* **today** — queue visits that entered the queue at or after ``day_start`` (UTC
  midnight by default), paired exactly as the KPI engine pairs them (docs/kpis.md): a
  visit is an ``enqueue`` event; the first ``connect`` / ``abandon`` / ``timeout`` /
  ``callback_request`` of the contact after it ends it.  *offered* counts every visit
  (open ones too), *answered*, *abandoned* and *timed out* count outcomes, and the
  **service level** is the KPI engine's default (``offered``, ICMI) definition:
  answered with wait ≤ the queue's ``sl_threshold_s`` / (answered + abandoned + timed
  out); ``None`` while that denominator is 0.
* **channel** — each queue's configured channel (voice, chat, ...); the **channels**
  rows add up the queues of one channel (calls next to chats): waiting, the longest wait,
  today's visits, and the service level of their sums (each queue's own threshold
  deciding "within"); *in progress* counts that channel's contacts in conversation.
* **agents** — the state shown comes from ``agents.status`` and the agent's open
  contacts: logged out, paused, else ringing (an offer pending), on contact (a
  conversation in progress), wrap-up (only after-contact work left), else available.

Today's figures and a few per-agent times come from the ``events`` table through a
:class:`DayTally`, which reads each live event once: a pusher keeps one tally and asks
it only for the events appended since its last call, so a snapshot costs a handful of
indexed queries however long the day has been.
"""

from __future__ import annotations

import math
from bisect import bisect_right, insort
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callcenter.events import AgentState, Channel, EventType
from callcenter.live.config import agent_config, queue_config
from callcenter.live.engine import LIVE_SOURCE
from callcenter.routing.model import AgentConfig, first_eligible_step
from callcenter.storage import eventlog
from callcenter.storage.tables import (
    AgentRow,
    AgentStatus,
    ContactRow,
    ContactStatus,
    QueueRow,
    Team,
    User,
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
        E.AGENT_LOGIN, E.AGENT_LOGOUT, E.AGENT_STATE,
    )
)  # fmt: skip
_OPEN_WITH_AGENT: Final = (
    ContactStatus.RINGING.value,
    ContactStatus.ACTIVE.value,
    ContactStatus.WRAPUP.value,
)


def utc_day_start(now: float) -> float:
    """UTC midnight at or before ``now`` (the start of "today" on the wallboard)."""
    return float(math.floor(now / DAY_SECONDS) * DAY_SECONDS)


# --------------------------------------------------------------------------- the tally


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

    def update(self, s: Session) -> int:
        """Fold in the live events appended since the last call; return how many."""
        cols = ("t", "type", "contact", "queue", "agent", "wait")
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
            select(func.min(ContactRow.arrived_at)).where(ContactRow.status.in_(_OPEN_WITH_AGENT))
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
    ) -> None:
        et = E(typ)
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
        elif et is E.TRANSFER:
            self.agent_last_end[agent] = t
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


# --------------------------------------------------------------------------- the snapshot


@dataclass(frozen=True, slots=True)
class QueueFigures:
    name: str
    channel: str  # the queue's configured channel
    waiting: int
    longest_wait_s: float | None  # None: nobody waiting
    offered_today: int
    answered_today: int
    abandoned_today: int
    timed_out_today: int
    answered_within_today: int
    service_level_today: float | None  # answered within / (answered + abandoned + timed out)
    sl_threshold_s: float
    sl_target: float
    agents_available: int  # could be offered one of its contacts now


@dataclass(frozen=True, slots=True)
class ChannelFigures:
    """The queues of one channel added up (see the module's definitions)."""

    channel: str
    queues: int
    waiting: int
    longest_wait_s: float | None
    offered_today: int
    answered_today: int
    abandoned_today: int
    timed_out_today: int
    answered_within_today: int
    service_level_today: float | None
    in_progress: int  # contacts of the channel in conversation with an agent now


def channel_figures(
    queues: Iterable[QueueFigures], in_progress: dict[str, int]
) -> tuple[ChannelFigures, ...]:
    """One row per channel that has a queue, in the order of :class:`Channel`."""
    by: dict[str, list[QueueFigures]] = defaultdict(list)
    for q in queues:
        by[q.channel].append(q)
    order = {c.value: i for i, c in enumerate(Channel)}
    out = []
    for channel in sorted(by, key=lambda c: (order.get(c, len(order)), c)):
        qs = by[channel]
        answered = sum(q.answered_today for q in qs)
        abandoned = sum(q.abandoned_today for q in qs)
        timed_out = sum(q.timed_out_today for q in qs)
        within = sum(q.answered_within_today for q in qs)
        finished = answered + abandoned + timed_out
        waits = [q.longest_wait_s for q in qs if q.longest_wait_s is not None]
        out.append(
            ChannelFigures(
                channel=channel,
                queues=len(qs),
                waiting=sum(q.waiting for q in qs),
                longest_wait_s=max(waits) if waits else None,
                offered_today=sum(q.offered_today for q in qs),
                answered_today=answered,
                abandoned_today=abandoned,
                timed_out_today=timed_out,
                answered_within_today=within,
                service_level_today=within / finished if finished else None,
                in_progress=in_progress.get(channel, 0),
            )
        )
    return tuple(out)


@dataclass(frozen=True, slots=True)
class AgentFigures:
    name: str
    display_name: str
    team: str | None
    team_id: int | None  # for scoping; not in the JSON
    status: str
    reason: str | None
    since: float | None
    time_in_state_s: float | None
    contacts: int  # open contacts: ringing, in conversation, in wrap-up


@dataclass(frozen=True, slots=True)
class Snapshot:
    t: float
    day_start: float
    queues: tuple[QueueFigures, ...]
    agents: tuple[AgentFigures, ...]
    channels: tuple[ChannelFigures, ...] = ()

    def to_dict(self, teams: frozenset[int] | None = None) -> dict[str, Any]:
        """The documented JSON object; ``teams``: only agents of these teams (None: all)."""
        return {
            "t": self.t,
            "day_start": self.day_start,
            "queues": [_plain(q) for q in self.queues],
            "channels": [_plain(c) for c in self.channels],
            "agents": [
                {k: v for k, v in _plain(a).items() if k != "team_id"}
                for a in self.agents
                if teams is None or a.team_id in teams
            ],
        }


def _plain(obj: QueueFigures | AgentFigures | ChannelFigures) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}


@dataclass(slots=True)
class _Open:
    """An agent's open contacts by state: contact id -> the row's times."""

    ringing: dict[str, float | None] = field(default_factory=dict)  # offered_at
    active: dict[str, float | None] = field(default_factory=dict)  # answered_at
    wrapup: dict[str, float | None] = field(default_factory=dict)  # ended_at


def _open_contacts(s: Session) -> dict[str, _Open]:
    rows = s.execute(
        select(
            ContactRow.id, ContactRow.agent, ContactRow.status, ContactRow.offered_at,
            ContactRow.answered_at, ContactRow.ended_at,
        ).where(ContactRow.status.in_(_OPEN_WITH_AGENT), ContactRow.agent.is_not(None))
    )  # fmt: skip
    out: defaultdict[str, _Open] = defaultdict(_Open)
    for cid, agent, status, offered_at, answered_at, ended_at in rows:
        o = out[str(agent)]
        if status == ContactStatus.RINGING.value:
            o.ringing[cid] = offered_at
        elif status == ContactStatus.ACTIVE.value:
            o.active[cid] = answered_at
        else:
            o.wrapup[cid] = ended_at
    return out


def _earliest(times: Iterable[float | None]) -> float | None:
    known = [t for t in times if t is not None]
    return min(known) if known else None


def _later(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def _agent_state(
    row: AgentRow, o: _Open, tally: DayTally
) -> tuple[AgentState, str | None, float | None, int]:
    """(state, reason, since, open contacts) of one agent; see docs/wallboard.md.

    The order is the router's (:meth:`Router.agent_state`): an agent paused after missed
    offers while chats are still open shows its contact state (and the pause reason).
    """
    name, base = row.name, row.status_since
    reason = row.status_reason if row.status == AgentStatus.PAUSED else None
    # contacts it transferred on and is still wrapping up (their rows name the new holder;
    # one offered back to it counts twice, as in the router: a wrap-up and an offer)
    wraps = {
        c: t
        for c, t in tally.transfer_wraps.get(name, {}).items()
        if c not in o.active and c not in o.wrapup
    }
    count = len(o.ringing) + len(o.active) + len(o.wrapup) + len(wraps)
    if row.status == AgentStatus.LOGGED_OUT:
        return AgentState.LOGGED_OUT, row.status_reason, base, count
    if o.ringing:  # since the oldest offer still ringing
        return AgentState.RINGING, reason, _earliest(o.ringing.values()) or base, count
    if o.active:  # since its oldest conversation in progress began
        starts = [tally.connected.get((c, name), answered) for c, answered in o.active.items()]
        return AgentState.ON_CONTACT, reason, _earliest(starts) or base, count
    if o.wrapup or wraps:  # since its last conversation ended
        ended = tally.agent_last_end.get(name)
        if ended is None:
            ends = [t for t in (*o.wrapup.values(), *wraps.values()) if t is not None]
            ended = max(ends) if ends else None
        return AgentState.WRAP_UP, reason, ended or base, count
    if row.status == AgentStatus.PAUSED:
        return AgentState.PAUSED, reason, base, count
    # since its last contact, offer or wrap-up ended (or it logged in / came back)
    return AgentState.AVAILABLE, None, _later(base, tally.agent_last.get(name)), count


def compute_snapshot(
    s: Session, now: float, *, day_start: float | None = None, tally: DayTally | None = None
) -> Snapshot:
    """The wallboard at ``now``: every active queue and every agent of an active user.

    ``day_start`` (default: UTC midnight before ``now``) starts "today".  Pass the same
    ``tally`` again to read only the events appended since; a tally of another day is
    refused (ValueError).  Without one, a fresh tally reads today's events.
    """
    if day_start is None:
        day_start = utc_day_start(now)
    if tally is None:
        tally = DayTally(day_start)
    elif tally.day_start != day_start:
        raise ValueError(f"the tally counts from {tally.day_start}, not {day_start}")
    tally.update(s)
    queue_rows = list(s.scalars(select(QueueRow).where(QueueRow.active).order_by(QueueRow.name)))
    agent_rows = s.execute(
        select(AgentRow, User.display_name, User.team_id, Team.name)
        .join(User, User.id == AgentRow.user_id)
        .outerjoin(Team, Team.id == User.team_id)
        .where(User.active)
        .order_by(AgentRow.name)
    ).all()
    open_by_agent = _open_contacts(s)
    agents: list[AgentFigures] = []
    ready: list[AgentConfig] = []  # could take one more contact now
    for row, display_name, team_id, team in agent_rows:
        state, reason, since, count = _agent_state(row, open_by_agent.get(row.name, _Open()), tally)
        agents.append(
            AgentFigures(
                name=row.name,
                display_name=display_name or row.name,
                team=team,
                team_id=team_id,
                status=state.value,
                reason=reason,
                since=since,
                time_in_state_s=None if since is None else max(0.0, now - since),
                contacts=count,
            )
        )
        if state not in (AgentState.LOGGED_OUT, AgentState.PAUSED) and count < row.capacity:
            ready.append(agent_config(row))
    waiting = {
        q: (n, oldest)
        for q, n, oldest in s.execute(
            select(ContactRow.queue, func.count(), func.min(ContactRow.enqueued_at))
            .where(ContactRow.status == ContactStatus.QUEUED.value)
            .group_by(ContactRow.queue)
        )
    }
    queues = [_queue(q, waiting.get(q.name), tally, ready, now) for q in queue_rows]
    in_progress = {
        str(channel): int(n)
        for channel, n in s.execute(
            select(ContactRow.channel, func.count())
            .where(ContactRow.status == ContactStatus.ACTIVE.value)
            .group_by(ContactRow.channel)
        )
    }
    return Snapshot(
        t=now,
        day_start=day_start,
        queues=tuple(queues),
        agents=tuple(agents),
        channels=channel_figures(queues, in_progress),
    )


def _queue(
    q: QueueRow,
    waiting: tuple[int, float | None] | None,
    tally: DayTally,
    ready: Iterable[AgentConfig],
    now: float,
) -> QueueFigures:
    n, oldest = waiting or (0, None)
    answered = len(tally.answered_waits.get(q.name, ()))
    abandoned, timed_out = tally.abandoned[q.name], tally.timed_out[q.name]
    within = tally.answered_within(q.name, q.sl_threshold_s)
    finished = answered + abandoned + timed_out
    qc = queue_config(q)
    available = sum(1 for a in ready if math.isfinite(first_eligible_step(a, qc)))
    return QueueFigures(
        name=q.name,
        channel=q.channel,
        waiting=n,
        longest_wait_s=None if oldest is None else max(0.0, now - oldest),
        offered_today=tally.offered[q.name],
        answered_today=answered,
        abandoned_today=abandoned,
        timed_out_today=timed_out,
        answered_within_today=within,
        service_level_today=within / finished if finished else None,
        sl_threshold_s=q.sl_threshold_s,
        sl_target=q.sl_target,
        agents_available=available,
    )


__all__ = [
    "DAY_SECONDS",
    "AgentFigures",
    "ChannelFigures",
    "DayTally",
    "QueueFigures",
    "Snapshot",
    "compute_snapshot",
    "utc_day_start",
]
