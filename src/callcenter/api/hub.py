"""WebSocket fan-out: named channels, each a set of subscriber queues.

Channels: ``wallboard``, ``agent:<name>`` (an agent's desktop), ``chat:<contact id>``
(a customer's widget), ``supervisor`` (contact and agent changes for supervisors).
:meth:`Hub.publish` may be called from any thread (the engine runs requests in worker
threads); delivery happens on the event loop.  A subscriber that falls more than
:data:`MAX_BACKLOG` messages behind is dropped (its socket is closed by its reader),
so one slow client never holds memory for the others.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any, Final

import orjson

MAX_BACKLOG: Final = 256


class Subscriber:
    """One socket's mailbox: pre-encoded JSON texts."""

    __slots__ = ("channels", "dropped", "queue")

    def __init__(self, channels: tuple[str, ...]) -> None:
        self.channels = channels
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.dropped = False

    def offer(self, text: str) -> None:
        if self.dropped:
            return
        if self.queue.qsize() >= MAX_BACKLOG:
            self.dropped = True
            self.queue.put_nowait(None)  # tells the reader to close the socket
            return
        self.queue.put_nowait(text)


class Hub:
    def __init__(self) -> None:
        self._subs: dict[str, set[Subscriber]] = defaultdict(set)
        self.loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def subscribe(self, *channels: str) -> Subscriber:
        sub = Subscriber(channels)
        for ch in channels:
            self._subs[ch].add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        for ch in sub.channels:
            subs = self._subs.get(ch)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[ch]

    def count(self, channel: str) -> int:
        return len(self._subs.get(channel, ()))

    def publish(self, channel: str, message: dict[str, Any]) -> None:
        """Send ``message`` (JSON-encoded once) to every subscriber of ``channel``."""
        if channel not in self._subs:
            return
        text = orjson.dumps(message).decode()
        loop = self.loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._deliver(channel, text)
        else:
            loop.call_soon_threadsafe(self._deliver, channel, text)

    def _deliver(self, channel: str, text: str) -> None:
        for sub in tuple(self._subs.get(channel, ())):
            sub.offer(text)


__all__ = ["MAX_BACKLOG", "Hub", "Subscriber"]
