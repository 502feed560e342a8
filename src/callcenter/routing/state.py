"""Mutable run-time records of the routing engine (internal to :mod:`callcenter.routing`).

Plain ``__slots__`` classes rather than dataclasses: these sit on the hot path of the
simulator (hundreds of thousands of contacts a simulated day) and are never serialised.
"""

from __future__ import annotations

from enum import IntEnum

from callcenter.routing.model import AgentConfig, QueueConfig, RoutingStep, Strategy


class CState(IntEnum):
    NEW = 0  # arrived, not queued yet (IVR)
    QUEUED = 1
    RINGING = 2
    CONNECTED = 3
    DONE = 4  # left the queue or was handed to an agent's leg that is over


class Leg:
    """An agent's part of a contact: from connect to the end of its wrap-up."""

    __slots__ = (
        "agent",
        "connect_t",
        "contact",
        "hold_start",
        "hold_total",
        "queue",
        "token",
        "wrap_t",
    )

    def __init__(self, contact: Contact, agent: Agent, queue: str, connect_t: float) -> None:
        self.contact = contact
        self.agent = agent
        self.queue = queue
        self.connect_t = connect_t
        self.hold_start: float | None = None
        self.hold_total = 0.0
        self.wrap_t = 0.0  # when the talk ended and after-call work began
        self.token = 0  # bumped when the wrap-up ends (cancels its timer)


class Contact:
    __slots__ = (
        "agent",
        "callback_t",
        "caller",
        "channel",
        "enq_t",
        "id",
        "is_callback",
        "leg",
        "offer_t",
        "priority",
        "qtoken",
        "queue",
        "seq",
        "state",
        "token",
    )

    def __init__(self, cid: str, seq: int, caller: str | None, channel: str) -> None:
        self.id = cid
        self.seq = seq
        self.caller = caller
        self.channel = channel
        self.state = CState.NEW
        self.queue: QueueRt | None = None
        self.priority = 0
        self.enq_t = 0.0
        self.offer_t = 0.0
        self.agent: Agent | None = None  # the agent ringing
        self.leg: Leg | None = None  # the agent leg while connected
        self.is_callback = False
        self.callback_t = 0.0
        self.token = 0  # bumped on every state change: cancels pending timers
        self.qtoken = 0  # bumped whenever the contact leaves a queue's waiting heap


class Agent:
    __slots__ = (
        "busy_time",
        "cfg",
        "eligible",
        "handled",
        "idle_since",
        "idx",
        "legs",
        "logged_in",
        "logout_pending",
        "missed",
        "name",
        "pause_pending",
        "pause_reason",
        "paused",
        "ringing",
        "rr",
        "token",
    )

    def __init__(self, cfg: AgentConfig, idx: int) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.idx = idx
        self.logged_in = False
        self.paused = False
        self.pause_reason: str | None = None
        self.pause_pending: str | None = None  # a pause asked for while busy
        self.logout_pending = False
        self.ringing = 0
        self.legs: dict[str, Leg] = {}  # contact id -> leg (talking or wrapping up)
        self.idle_since = 0.0
        self.missed = 0  # ring-no-answers in a row
        self.handled = 0
        self.busy_time = 0.0
        self.token = 0  # bumped whenever the agent's routability or load changes
        self.eligible: list[tuple[QueueRt, int]] = []  # (queue, first eligible step)
        self.rr: dict[str, int] = {}  # queue -> sequence number of the last offer from it

    @property
    def load(self) -> int:
        return self.ringing + len(self.legs)

    @property
    def routable(self) -> bool:
        return (
            self.logged_in
            and not self.paused
            and self.pause_pending is None
            and not self.logout_pending
            and self.ringing + len(self.legs) < self.cfg.capacity
        )


PoolEntry = tuple[float, float, float, int, int]  # (load, key1, key2, agent token, agent idx)
WaitEntry = tuple[float, int, int, Contact]  # (enqueue time, seq, qtoken, contact)


class QueueRt:
    __slots__ = (
        "cfg",
        "multi_step",
        "name",
        "pools",
        "prio_heaps",
        "prios",
        "scores",
        "steps",
        "strategy",
        "waiting",
    )

    def __init__(self, cfg: QueueConfig) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.steps: tuple[RoutingStep, ...] = cfg.all_steps()
        self.multi_step = len(self.steps) > 1
        self.strategy = cfg.strategy
        self.waiting = 0
        # waiting contacts: one heap per contact priority, highest priority first
        self.prio_heaps: dict[int, list[WaitEntry]] = {}
        self.prios: list[int] = []  # sorted descending
        # idle agents: one heap per step index, holding agents whose first eligible step it is
        self.pools: list[list[PoolEntry]] = [[] for _ in self.steps]
        self.scores: dict[int, int] = {}  # agent idx -> proficiency score (best_proficiency)

    def heap_for(self, priority: int) -> list[WaitEntry]:
        heap = self.prio_heaps.get(priority)
        if heap is None:
            heap = self.prio_heaps[priority] = []
            self.prios = sorted(self.prio_heaps, reverse=True)
        return heap

    def pool_key(self, agent: Agent, now: float) -> tuple[float, float]:
        """The strategy's ordering key for an idle agent (smaller is preferred)."""
        s = self.strategy
        if s is Strategy.LONGEST_IDLE:
            return (agent.idle_since, 0.0)
        if s is Strategy.ROUND_ROBIN:
            return (float(agent.rr.get(self.name, -1)), agent.idx)
        if s is Strategy.FEWEST_CONTACTS:
            return (float(agent.handled), agent.idle_since)
        if s is Strategy.LEAST_OCCUPIED:
            return (agent.busy_time, agent.idle_since)
        return (float(-self.scores.get(agent.idx, 0)), agent.idle_since)
