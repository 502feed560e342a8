"""The routing engine on the wall clock, with its state in the database.

:class:`LiveEngine` owns one :class:`~callcenter.routing.Router` (the same ACD the
simulator drives) and serialises every request to it behind a lock.  A request is one
database transaction that holds:

1. the request itself, appended to ``engine_commands`` (name, keyword arguments, time);
   it reaches the router as a typed command (:mod:`callcenter.live.commands`: decoded
   from that stored form, dispatched to the router's own method);
2. whatever the caller writes with it (``extra``: a new contact row, a disposition ...);
3. the events the router produced, appended to the ``events`` table — the same event
   log the simulator and the importers write, so ``callcenter kpi`` reads a live day
   like any other;
4. the read models people look at (``contacts.status``, ``agents.status`` ...), updated
   from those events (:mod:`callcenter.live.project`).

If the router refuses the request (:class:`~callcenter.routing.RoutingError`) nothing
is written.

**Group commit.**  The router decides under the engine's lock; the transaction is
written after the lock is released (:mod:`callcenter.live.group_commit`): requests
decided meanwhile are written together, in decision order, one commit for all, and each
caller returns once its own is committed (its listeners then run, as before). A failed
transaction fails its requests and every one decided after them; the router is rebuilt
from the database before their callers get the error.

**Restart.**  The router is pure and deterministic: given the same requests at the same
times it takes the same decisions.  On start the engine builds a router from the
configuration tables and replays the current *epoch* of ``engine_commands`` into it
(each request preceded by ``advance(t)``, exactly as when it was live), throwing the
replayed events away — they are already in the log.  The router then holds the same
queued contacts, offers, conversations, wrap-ups and agent states as before the stop;
``advance(now)`` fires the timers that fell due while the server was down (a ring
timeout during the outage becomes a ``ring_noanswer`` at its own time).  Timer ticks
that produced events are logged as ``advance`` requests, so replay never repeats them.

An epoch starts whenever the engine starts with nothing in flight (no open contact, no
agent logged in); older epochs' requests are deleted then.  Replay costs about one
router decision per logged request (hundreds of thousands per second compiled).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, cast

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from callcenter.events import Event
from callcenter.live import project
from callcenter.live.commands import Advance, Command, RequestError, apply, decode
from callcenter.live.config import load_router_config
from callcenter.live.group_commit import GroupCommit, Pending
from callcenter.routing import Router, RoutingError
from callcenter.storage import eventlog
from callcenter.storage.tables import (
    OPEN_STATUSES,
    AgentRow,
    AgentStatus,
    ContactRow,
    EngineCommand,
)

LIVE_SOURCE: Final = "live"
REQUEST_TIME: Final = "callcenter.request_time"
"""Key in the write session's ``info``: the time of the request whose ``extra`` runs."""
_COMMANDS_INSERT: Final = insert(cast(Table, EngineCommand.__table__))


@dataclass(slots=True)
class Applied:
    """What one request did: its events and the contacts / agents whose rows changed."""

    events: list[Event] = field(default_factory=list)
    contacts: set[str] = field(default_factory=set)
    agents: set[str] = field(default_factory=set)
    withdrawn: dict[str, str] = field(default_factory=dict)
    """Contact -> the agent it was ringing when it left (an abandon or a time-out names
    no agent, but that agent's desk must drop the offer)."""


Listener = Callable[[Applied], None]
Extra = Callable[[Session], None]


@dataclass(slots=True)
class _Write:
    """One decided request (or logged events) waiting for its transaction."""

    name: str | None  # the request's name; None: events logged by log(), no request row
    args: dict[str, Any]
    t: float
    seq: int
    events: list[Event]
    extra: Extra | None
    applied: Applied = field(default_factory=Applied)


class LiveEngine:
    """One router on the wall clock; every request persisted with its effects."""

    def __init__(
        self,
        db: Engine,
        *,
        clock: Callable[[], float] = time.time,
        listeners: Iterable[Listener] = (),
    ) -> None:
        self.db = db
        self.clock = clock
        self.sessions = sessionmaker(db, expire_on_commit=False)
        self.listeners: list[Listener] = list(listeners)
        self.lock = threading.RLock()
        self.router = Router([], [])
        self.epoch = 0
        self._seq = 0
        self._log_id: int | None = None
        self.replayed = 0  # requests replayed at the last start / reload
        self.generation = 0  # routers built: a new one may mean a new configuration
        self.commits = GroupCommit(self._write_batch)

    # ------------------------------------------------------------------ start / reload

    def start(self) -> Applied:
        """Build the router, replay the current epoch, fire timers due during downtime."""
        with self.lock:
            self.commits.idle()
            self._start()
        return self.tick()

    def _start(self) -> None:
        with self.sessions.begin() as s:
            self._log_id = self._live_log(s)
            open_contacts = s.scalar(
                select(func.count())
                .select_from(ContactRow)
                .where(ContactRow.status.in_([st.value for st in OPEN_STATUSES]))
            )
            logged_in = s.scalar(
                select(func.count())
                .select_from(AgentRow)
                .where(AgentRow.status != AgentStatus.LOGGED_OUT.value)
            )
            last_epoch = s.scalar(select(func.max(EngineCommand.epoch))) or 0
            if open_contacts or logged_in:
                self.epoch = last_epoch
            else:  # nothing in flight: a fresh epoch, older requests are history
                self.epoch = last_epoch + 1
                s.execute(delete(EngineCommand).where(EngineCommand.epoch < self.epoch))
            self._rebuild(s)
        self.commits.reset()

    def reload(self) -> None:
        """Take a configuration change: a new router from the tables, the epoch replayed.

        Raises :class:`RoutingError` (and keeps the old router) if the epoch's requests
        no longer fit the new configuration (e.g. a queue with contacts was removed).
        """
        with self.lock:
            self._rebuild_from_db()

    def _rebuild_from_db(self) -> None:
        """Under the lock: the router again from what the database holds (everything
        decided is written, or failed, first)."""
        self.commits.idle()
        with self.sessions.begin() as s:
            self._rebuild(s)
        self.commits.reset()

    def _heal(self) -> None:
        """Under the lock: after a failed transaction, the router from the database."""
        if self.commits.broken:
            self._rebuild_from_db()

    def _rebuild(self, s: Session) -> None:
        queues, agents = load_router_config(s)
        router = Router(queues, agents)
        rows = s.execute(
            select(EngineCommand.seq, EngineCommand.t, EngineCommand.name, EngineCommand.args)
            .where(EngineCommand.epoch == self.epoch)
            .order_by(EngineCommand.seq)
        ).all()
        for seq, t, name, args in rows:
            try:
                command = decode(name, args)
            except (TypeError, ValueError) as e:  # a RequestError is a ValueError
                raise RequestError(
                    f"engine_commands epoch {self.epoch} seq {seq}: cannot replay {name!r} "
                    f"{args!r}: {e}"
                ) from e
            router.advance(t)
            apply(router, command, t)
            router.out.clear()
        self.router = router
        self.generation += 1
        self._seq = rows[-1][0] if rows else 0
        self.replayed = len(rows)

    def _live_log(self, s: Session) -> int:
        return eventlog.load_id(s, LIVE_SOURCE)

    # ------------------------------------------------------------------ requests

    def submit(self, name: str, *, extra: Extra | None = None, **args: Any) -> Applied:
        """Run one router request now; persist it, its events and their effects.

        ``args`` are the request's keyword arguments (JSON values: enums as strings).
        ``extra`` writes the caller's own rows in the same transaction, before the
        events are projected.  Raises :class:`RoutingError` if the router refuses.
        """
        return self.request(decode(name, args), extra=extra)

    def request(self, command: Command, *, extra: Extra | None = None) -> Applied:
        """:meth:`submit` for a typed command (logged in the same stored form); timers
        are fired by :meth:`tick`, not by an :class:`Advance` request."""
        if isinstance(command, Advance):
            raise RequestError("unknown engine request 'advance' (timers fire by tick())")
        return self._run(command, extra)

    def log(self, events: list[Event], *, extra: Extra | None = None) -> Applied:
        """Events that are not the router's decisions — the IVR's enter / choice / leave,
        a call's recording started or paused — appended to the live log in one
        transaction with ``extra`` and the read models, then told to the listeners.
        No request is logged for them: a restart has nothing of theirs to replay."""
        with self.lock:
            self._heal()
            pending = self._put(None, {}, self.clock(), list(events), extra)
        return self._committed(pending)

    def tick(self) -> Applied:
        """Fire the timers due by now (ring timeouts, wrap-ups, maximum waits)."""
        return self._run(Advance(), None)

    def next_timer(self) -> float | None:
        with self.lock:
            return self.router.next_timer()

    def _run(self, command: Command, extra: Extra | None) -> Applied:
        with self.lock:
            self._heal()
            now = self.clock()
            router = self.router
            router.advance(now)
            timers = router.drain()  # timer events due before this request
            try:
                if not isinstance(command, Advance):
                    apply(router, command, now)
            except Exception as e:
                if timers:  # the timers still fired: log them on their own
                    self._committed(self._put("advance", {}, now, timers, None))
                if not isinstance(e, RoutingError):
                    # not a refusal the router checks for before it moves (a bad
                    # argument): it may be half-applied, so rebuild from what was logged
                    router.drain()
                    self._rebuild_from_db()
                raise
            events = timers + router.drain()
            if isinstance(command, Advance) and not events:
                return Applied()
            pending = self._put(command.NAME, command.args(), now, events, extra)
        return self._committed(pending)

    def _put(
        self, name: str | None, args: dict[str, Any], now: float, events: list[Event],
        extra: Extra | None,
    ) -> Pending[_Write]:  # fmt: skip
        """Under the lock: queue a decision's write, in decision order."""
        if name is not None:
            self._seq += 1
        write = _Write(name, args, now, self._seq, events, extra)
        write.applied.events = events
        return self.commits.put(write)

    def _committed(self, pending: Pending[_Write]) -> Applied:
        """Wait for the write's transaction, then tell the listeners. If it failed: the
        router again from the database (the failed decisions undone), and the failure
        raised."""
        try:
            self.commits.wait(pending)
        except BaseException:
            with self.lock:
                self._heal()
            raise
        applied = pending.item.applied
        for listener in self.listeners:
            listener(applied)
        return applied

    def _write_batch(self, writes: Sequence[_Write]) -> None:
        """One transaction for ``writes``: in decision order, each caller's rows and the
        read models of its events (:data:`REQUEST_TIME` in ``s.info`` says its time);
        then every request row and every event, one multi-row insert each."""
        with self.sessions.begin() as s:
            for w in writes:
                s.info[REQUEST_TIME] = w.t
                if w.extra is not None:
                    w.extra(s)
                a = w.applied
                project.apply(s, w.events, a.contacts, a.agents, a.withdrawn)
            s.info.pop(REQUEST_TIME, None)
            commands = [
                {"epoch": self.epoch, "seq": w.seq, "t": w.t, "name": w.name, "args": w.args}
                for w in writes
                if w.name is not None
            ]
            if commands:
                s.execute(_COMMANDS_INSERT, commands)
            events = [e for w in writes for e in w.events]
            eventlog.append_in_transaction(s, events, log_id=self._log_id, source=LIVE_SOURCE)

    # ------------------------------------------------------------------ reading

    def waiting(self, queue: str) -> int:
        with self.lock:
            return self.router.waiting(queue)


__all__ = ["LIVE_SOURCE", "REQUEST_TIME", "Applied", "Listener", "LiveEngine"]
