"""The supervisor wallboard: ``GET /api/wallboard``, ``/ws/wallboard`` and the page ``/wallboard``.

One :class:`Wallboard` per server (``center.extras["wallboard"]``) keeps the running
:class:`~callcenter.live.wallboard.DayTally` and the latest snapshot.  Push timing
(``docs/wallboard.md``): an engine listener marks the board dirty after every routing
request; a background task recomputes at most every :data:`MIN_PUSH_S` while dirty,
and every :data:`MAX_PUSH_S` anyway so that times in state move — in a worker thread,
only while someone is watching.  Each computation is published once per *scope*: hub
channel ``wallboard`` (administrators and managers: every agent) or
``wallboard:team:<ids>`` (a supervisor: the agents of the teams it supervises; every
queue).  The hub encodes each message once and fans the text out to its sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import Counter
from typing import Annotated, Any, Final

import orjson
from fastapi import APIRouter, Depends, WebSocket
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from callcenter.api.center import Center, center
from callcenter.api.deps import require, socket_principal
from callcenter.auth.permissions import Permission
from callcenter.auth.service import Principal
from callcenter.live.engine import Applied
from callcenter.live.wallboard import (
    ChannelFigures,
    DayTally,
    QueueFigures,
    Snapshot,
    compute_snapshot,
    utc_day_start,
)
from callcenter.storage.tables import Role

log = logging.getLogger("callcenter.wallboard")

MIN_PUSH_S: Final = 0.25  # at most one push per this many seconds while changes come in
MAX_PUSH_S: Final = 1.0  # and one at least this often (times in state move)
CHANNEL: Final = "wallboard"
EXTRA_KEY: Final = "wallboard"
CLOSE_TOO_SLOW: Final = 1013

router = APIRouter(tags=["wallboard"])


# --------------------------------------------------------------------------- scope


def scope_of(p: Principal) -> tuple[str, frozenset[int] | None]:
    """(hub channel, teams whose agents ``p`` sees; None = all) — ``auth.scope.agent_filter``.

    Administrators and managers see every agent; a supervisor the agents of the teams
    it supervises (none if it supervises none).  Every other role sees no agent (and
    holds no wallboard permission anyway).
    """
    if p.role in (Role.ADMIN, Role.MANAGER):
        return CHANNEL, None
    teams = p.supervised_teams if p.role is Role.SUPERVISOR else frozenset[int]()
    return f"{CHANNEL}:team:{','.join(str(t) for t in sorted(teams))}", teams


# --------------------------------------------------------------------------- the service


class Wallboard:
    """The running wallboard of one server: tally, latest snapshot, scopes watched."""

    def __init__(self, c: Center) -> None:
        self.center = c
        self.lock = threading.Lock()  # one computation at a time (the tally is not shared)
        self.tally: DayTally | None = None
        self.latest: Snapshot | None = None
        self.latest_changes = -1  # self.changes when ``latest`` was computed
        self.changes = 0  # routing requests applied so far
        self.pushes = 0
        self.watched: Counter[str] = Counter()  # channel -> sockets
        self.teams: dict[str, frozenset[int] | None] = {}  # channel -> its agents' teams
        self._wake = asyncio.Event()
        self._first = asyncio.Lock()  # sockets connecting together share one computation
        self._texts: dict[str, tuple[Snapshot, str]] = {}

    # -- engine side (worker threads)

    def on_applied(self, applied: Applied) -> None:
        """Engine listener: something changed; wake the pusher."""
        del applied
        self.changes += 1
        loop = self.center.hub.loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closing: nobody to tell
                loop.call_soon_threadsafe(self._wake.set)

    def compute(self) -> Snapshot:
        """A fresh snapshot (blocking: run it in a worker thread)."""
        with self.lock:
            changes = self.changes  # read before the database: a later change re-wakes us
            now = self.center.clock()
            day = utc_day_start(now)
            if self.tally is None or self.tally.day_start != day:
                self.tally = DayTally(day)
            try:
                with self.center.sessions() as s:
                    snap = compute_snapshot(s, now, day_start=day, tally=self.tally)
            except BaseException:
                self.tally = None  # half-folded: start over next time
                raise
            self.latest, self.latest_changes = snap, changes
            return snap

    # -- event-loop side

    def fresh(self) -> Snapshot | None:
        snap = self.latest
        if snap is None or self.latest_changes != self.changes:
            return None
        return snap if self.center.clock() - snap.t < MAX_PUSH_S else None

    async def current(self) -> Snapshot:
        """The latest snapshot if nothing changed since (and it is under a second old)."""
        snap = self.fresh()
        if snap is not None:
            return snap
        async with self._first:
            snap = self.fresh()
            return snap if snap is not None else await run_in_threadpool(self.compute)

    def text(self, snap: Snapshot, channel: str) -> str:
        """The JSON message of ``snap`` for ``channel``'s scope (encoded once per snapshot)."""
        cached = self._texts.get(channel)
        if cached is not None and cached[0] is snap:
            return cached[1]
        text = orjson.dumps(message(snap, self.teams.get(channel))).decode()
        self._texts[channel] = (snap, text)
        return text

    def watch(self, channel: str, teams: frozenset[int] | None) -> None:
        self.watched[channel] += 1
        self.teams[channel] = teams

    def unwatch(self, channel: str) -> None:
        self.watched[channel] -= 1
        if self.watched[channel] <= 0:
            del self.watched[channel]
            self.teams.pop(channel, None)
            self._texts.pop(channel, None)

    def publish(self, snap: Snapshot) -> None:
        """Send ``snap`` to every watched scope: one derived view and one encoding each."""
        hub = self.center.hub
        for channel in list(self.watched):
            hub.publish(channel, message(snap, self.teams.get(channel)))
        self.pushes += 1

    async def run(self) -> None:
        """The pusher (a ``center.background`` task)."""
        last = 0.0
        while True:
            timeout = max(0.0, last + MAX_PUSH_S - time.monotonic())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            gap = last + MIN_PUSH_S - time.monotonic()
            if gap > 0:
                await asyncio.sleep(gap)
            self._wake.clear()
            last = time.monotonic()
            if not self.watched:
                continue
            try:
                snap = await run_in_threadpool(self.compute)
            except Exception:  # keep pushing; the next round starts a fresh tally
                log.exception("wallboard snapshot failed")
                continue
            self.publish(snap)


def message(snap: Snapshot, teams: frozenset[int] | None) -> dict[str, Any]:
    return {"type": "wallboard", **snap.to_dict(teams)}


def wallboard(c: Center) -> Wallboard:
    wb: Wallboard = c.extras[EXTRA_KEY]
    return wb


def install(c: Center) -> None:
    wb = Wallboard(c)
    c.extras[EXTRA_KEY] = wb
    c.engine.listeners.append(wb.on_applied)
    c.background.append(wb.run)


# --------------------------------------------------------------------------- HTTP


class AgentOut(BaseModel):
    name: str
    display_name: str
    team: str | None
    status: str
    reason: str | None
    since: float | None
    time_in_state_s: float | None
    contacts: int


class WallboardOut(BaseModel):
    t: float
    day_start: float
    queues: list[QueueFigures]  # the snapshot's own dataclasses: one definition
    channels: list[ChannelFigures]
    agents: list[AgentOut]


Watcher = Annotated[Principal, Depends(require(Permission.WALLBOARD))]
CenterDep = Annotated[Center, Depends(center)]


@router.get("/api/wallboard", response_model=WallboardOut)
def get_wallboard(p: Watcher, c: CenterDep) -> dict[str, Any]:
    """Queues and agents now (agents limited to a supervisor's teams); see docs/wallboard.md."""
    return wallboard(c).compute().to_dict(scope_of(p)[1])


# --------------------------------------------------------------------------- WebSocket


async def _read_until_closed(ws: WebSocket, queue: asyncio.Queue[str | None]) -> None:
    """Consume what the client sends (nothing is expected) until it goes away."""
    try:
        while (await ws.receive())["type"] != "websocket.disconnect":
            pass
    except Exception:  # a broken connection ends the same way
        pass
    finally:
        queue.put_nowait(None)


@router.websocket("/ws/wallboard")
async def wallboard_socket(ws: WebSocket) -> None:
    """The current snapshot at once, then every push (``{"type": "wallboard", ...}``).

    Authenticated like the API (bearer token, a one-use ``?ticket=`` from ``POST
    /api/ws-ticket``, or the session cookie — then ``Origin`` must match the host).
    Closes with 4401 (not signed in), 4403 (no wallboard permission, or a cross-site
    cookie) or 1013 (too slow to keep up).
    """
    c = center(ws)
    p, code, reason = await run_in_threadpool(socket_principal, ws, c, Permission.WALLBOARD)
    await ws.accept()
    if p is None:
        await ws.close(code, reason)
        return
    wb = wallboard(c)
    channel, teams = scope_of(p)
    wb.watch(channel, teams)
    sub = c.hub.subscribe(channel)
    reader = asyncio.create_task(_read_until_closed(ws, sub.queue))
    try:
        await ws.send_text(wb.text(await wb.current(), channel))
        while (text := await sub.queue.get()) is not None:
            await ws.send_text(text)
        if sub.dropped:
            await ws.close(CLOSE_TOO_SLOW, "too slow to keep up")
    except Exception:  # the client went away mid-send
        pass
    finally:
        reader.cancel()
        c.hub.unsubscribe(sub)
        wb.unwatch(channel)


__all__ = ["Wallboard", "install", "router", "scope_of", "wallboard"]
