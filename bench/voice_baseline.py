"""The bench's baseline: Asterisk bridging and recording the same calls with no
application of ours — no engine, no database, no router, no event log.

A minimal raw ARI controller, run as its own process (so its CPU is counted apart),
that does exactly the channel operations our call controller does for a call into a
queue: answer the caller, put it in one shared holding bridge with music on hold,
originate to a free agent's phone (``PJSIP/<user>``), and when the agent's leg enters
the application take the caller out of the holding bridge, make a mixing bridge of the
two, open a ``spy=in`` snoop on each and record each snoop (``<call>-caller``,
``<call>-agent`` in Asterisk's spool); when either side leaves, hang up the other and
destroy the bridge. Agents are taken first come, first served from a free list. The
recordings stay in Asterisk's spool folder for the bench to check (our server fetches,
merges and deletes them: that work is ours, not the engine's).

Why a raw ARI script rather than a dialplan (``Answer``/``MixMonitor``/``Dial``): the
pinned build has no ``app_dial``; adding it would change the build's cache key and
rebuild Asterisk (~3 min of the shared cores), and a dialplan ``Dial`` uses other
channel operations (a MixMonitor on the channel instead of snoops, no holding bridge),
so the Asterisk side would not be the same work. Here Asterisk does the same work for
both runs and the only difference is the controller.

Run by ``bench/bench_voice.py`` (not by hand): one JSON line on stdin
``{"url", "user", "password", "app", "agents": [...], "out": path}``; runs until
SIGTERM, then writes ``out``: per call its caller channel and the times (monotonic
seconds) it arrived, was bridged and ended; and the count of ARI errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callcenter.voice.ari import Ari, AriError, AriEvent
from callcenter.voice.ari_events import connect_events


@dataclass
class _Call:
    caller: str
    t_arrive: float
    agent: str | None = None
    leg: str | None = None
    bridge: str | None = None
    t_bridged: float | None = None
    ended: bool = False


@dataclass
class Baseline:
    ari: Ari
    app: str
    free: deque[str]
    hold: str = ""
    calls: dict[str, _Call] = field(default_factory=dict)  # by caller channel
    legs: dict[str, str] = field(default_factory=dict)  # agent leg -> caller channel
    done: list[dict[str, Any]] = field(default_factory=list)
    errors: int = 0

    async def on_event(self, ev: AriEvent) -> None:
        ch = ev.channel
        if ch is None:
            return
        if ev.type == "StasisStart":
            kind = ev.args[0] if ev.args else ""
            if not kind:
                await self._incoming(ch.id)
            elif kind == "agent":
                await self._answered(ev.args[1], ch.id)
            elif kind == "snoop":
                await self.ari.record(ch.id, f"{ev.args[1]}-{ev.args[2]}")
        elif ev.type in ("StasisEnd", "ChannelDestroyed"):
            await self._gone(ch.id)

    async def _incoming(self, channel: str) -> None:
        call = _Call(channel, time.monotonic())
        self.calls[channel] = call
        await self.ari.answer(channel)
        await self.ari.add_to_bridge(self.hold, [channel])
        if not self.free:
            await self.ari.hangup(channel, "congestion")
            return
        call.agent = self.free.popleft()
        call.leg = f"{channel}-a"
        self.legs[call.leg] = channel
        await self.ari.originate(
            f"PJSIP/{call.agent}", app=self.app, app_args=["agent", channel],
            channel_id=call.leg, caller_id="bench", timeout_s=30,
        )  # fmt: skip

    async def _answered(self, caller: str, leg: str) -> None:
        call = self.calls.get(caller)
        if call is None or call.ended:
            await self.ari.hangup(leg)
            return
        await self.ari.remove_from_bridge(self.hold, [caller])
        call.bridge = await self.ari.create_bridge("mixing")
        await self.ari.add_to_bridge(call.bridge, [caller, leg])
        call.t_bridged = time.monotonic()
        for side, target in (("caller", caller), ("agent", leg)):
            await self.ari.snoop(
                target, app=self.app, spy="in", app_args=["snoop", caller, side],
                snoop_id=f"{caller}-snoop-{side}",
            )  # fmt: skip

    async def _gone(self, channel: str) -> None:
        caller = self.legs.pop(channel, channel)
        call = self.calls.pop(caller, None)
        if call is None or call.ended:
            return
        call.ended = True
        for other in (call.caller, call.leg):
            if other is not None and other != channel:
                await self.ari.hangup(other)
        if call.leg is not None:
            self.legs.pop(call.leg, None)
        if call.bridge is not None:
            await self.ari.destroy_bridge(call.bridge)
        if call.agent is not None:
            self.free.append(call.agent)
        self.done.append({"caller": call.caller, "arrive": call.t_arrive,
                          "bridged": call.t_bridged, "end": time.monotonic()})  # fmt: skip

    async def guarded(self, ev: AriEvent) -> None:
        try:
            await self.on_event(ev)
        except AriError:
            self.errors += 1


async def _main(cfg: dict[str, Any]) -> None:
    auth = (cfg["user"], cfg["password"])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with Ari(cfg["url"], auth) as ari:
        b = Baseline(ari, cfg["app"], deque(cfg["agents"]))
        b.hold = await ari.create_bridge("holding", name="hold-bench")
        await ari.bridge_moh(b.hold)
        stream = await connect_events(cfg["url"], auth, cfg["app"])
        tasks: set[asyncio.Task[None]] = set()

        async def pump() -> None:
            # every event in a task of its own: the engine's cost, not a queue's
            async for ev in stream:
                task = asyncio.create_task(b.guarded(ev))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

        pumping = asyncio.create_task(pump())
        print("ready", flush=True)
        await stop.wait()
        pumping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pumping
        await stream.aclose()
    Path(cfg["out"]).write_text(json.dumps({"calls": b.done, "errors": b.errors}))


if __name__ == "__main__":
    asyncio.run(_main(json.loads(sys.stdin.readline())))
