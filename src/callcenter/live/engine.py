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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from callcenter.events import Event
from callcenter.live import project
from callcenter.live.commands import Advance, Command, RequestError, apply, decode
from callcenter.live.config import load_router_config
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

    # ------------------------------------------------------------------ start / reload

    def start(self) -> Applied:
        """Build the router, replay the current epoch, fire timers due during downtime."""
        with self.lock, self.sessions.begin() as s:
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
        return self.tick()

    def reload(self) -> None:
        """Take a configuration change: a new router from the tables, the epoch replayed.

        Raises :class:`RoutingError` (and keeps the old router) if the epoch's requests
        no longer fit the new configuration (e.g. a queue with contacts was removed).
        """
        with self.lock, self.sessions.begin() as s:
            self._rebuild(s)

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
        with self.lock, self.sessions.begin() as s:
            applied = self._write(s, list(events), extra)
        for listener in self.listeners:
            listener(applied)
        return applied

    def tick(self) -> Applied:
        """Fire the timers due by now (ring timeouts, wrap-ups, maximum waits)."""
        return self._run(Advance(), None)

    def next_timer(self) -> float | None:
        with self.lock:
            return self.router.next_timer()

    def _run(self, command: Command, extra: Extra | None) -> Applied:
        with self.lock:
            now = self.clock()
            router = self.router
            router.advance(now)
            pending = router.drain()  # timer events due before this request
            try:
                if not isinstance(command, Advance):
                    apply(router, command, now)
            except Exception as e:
                if pending:  # the timers still fired: log them on their own
                    self._persist("advance", {}, now, pending, None)
                if not isinstance(e, RoutingError):
                    # not a refusal the router checks for before it moves (a bad
                    # argument): it may be half-applied, so rebuild from what was logged
                    router.drain()
                    with self.sessions.begin() as s:
                        self._rebuild(s)
                raise
            events = pending + router.drain()
            if isinstance(command, Advance) and not events:
                return Applied()
            applied = self._persist(command.NAME, command.args(), now, events, extra)
        for listener in self.listeners:
            listener(applied)
        return applied

    def _persist(
        self,
        name: str,
        args: dict[str, Any],
        now: float,
        events: list[Event],
        extra: Extra | None,
    ) -> Applied:
        self._seq += 1
        try:
            with self.sessions.begin() as s:
                s.execute(
                    insert(EngineCommand).values(
                        epoch=self.epoch, seq=self._seq, t=now, name=name, args=args
                    )
                )
                applied = self._write(s, events, extra)
        except BaseException:
            # The router already moved: rebuild it from what the database holds.
            self._seq -= 1
            with self.sessions.begin() as s:
                self._rebuild(s)
            raise
        return applied

    def _write(self, s: Session, events: list[Event], extra: Extra | None) -> Applied:
        """In ``s``'s transaction: the caller's rows, the events, their read models."""
        if extra is not None:
            extra(s)
        eventlog.append_in_transaction(s, events, log_id=self._log_id, source=LIVE_SOURCE)
        applied = Applied(events=events)
        project.apply(s, events, applied.contacts, applied.agents, applied.withdrawn)
        return applied

    # ------------------------------------------------------------------ reading

    def waiting(self, queue: str) -> int:
        with self.lock:
            return self.router.waiting(queue)


__all__ = ["LIVE_SOURCE", "Applied", "Listener", "LiveEngine"]
