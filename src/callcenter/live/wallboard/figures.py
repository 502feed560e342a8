"""What the wallboard shows: a queue's, a channel's and an agent's figures, and the
:class:`Snapshot` that holds them (definitions: the package's docstring)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from callcenter.events import Channel


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
    supervised_by: str | None = None  # a supervisor on the agent's call now
    supervision: str | None = None  # and how: listen | whisper | barge


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


__all__ = ["AgentFigures", "ChannelFigures", "QueueFigures", "Snapshot", "channel_figures"]
