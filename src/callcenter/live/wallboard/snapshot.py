"""The snapshot computed from the database: :func:`compute_snapshot` (definitions: the
package's docstring)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callcenter.events import AgentState
from callcenter.live.config import agent_config, queue_config
from callcenter.live.wallboard.figures import (
    AgentFigures,
    QueueFigures,
    Snapshot,
    channel_figures,
)
from callcenter.live.wallboard.tally import OPEN_WITH_AGENT, DayTally, utc_day_start
from callcenter.routing.model import AgentConfig, first_eligible_step
from callcenter.storage.tables import (
    AgentRow,
    AgentStatus,
    ContactRow,
    ContactStatus,
    QueueRow,
    Team,
    User,
)


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
        ).where(ContactRow.status.in_(OPEN_WITH_AGENT), ContactRow.agent.is_not(None))
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
        coach, mode = tally.supervised.get(row.name, (None, None))
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
                supervised_by=coach,
                supervision=mode,
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


__all__ = ["compute_snapshot"]
