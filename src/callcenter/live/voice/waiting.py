"""What a caller waiting in a queue is told: its place and the estimated wait.

**Position** — 1 + the contacts of the same queue the router serves first: those
waiting with a higher priority, and those of the same priority that were queued
earlier (the router's own order: priority, then time queued, then arrival).

**Estimated wait** (EWT) — ``ceil(position / n) × AHT``, where

- ``n`` is the number of agents logged in to the queue's channel who serve it and
  are not paused (available, ringing, talking or in wrap-up: all of them will take
  a call of this queue when they are free), and
- ``AHT`` is the queue's average handle time over its last :data:`AHT_SAMPLE`
  conversations in the event log (``talk + hold`` of each ``complete`` plus the mean
  ``acw`` of its last ``wrapup_end`` events, within the last 12 hours), looked up at
  most every :data:`AHT_CACHE_S` seconds.

It answers "how many rounds of handling are ahead of me": the callers ahead are
served ``n`` at a time, each round lasting one handle time.  Without agents, or
without a completed conversation in the log yet, there is no estimate and none is
announced (an invented number is worse than silence).  Asterisk's ``app_queue``
announces an exponentially smoothed average of past waits instead; that follows a
change of staffing only after the waits have changed, where this follows it at once.

**Announcement** — Debian's recorded prompts in the caller's language, as Asterisk's
queues say them: first in line → ``queue-youarenext``; else ``queue-thereare`` ·
*position* · ``queue-callswaiting``; then, with an estimate, ``queue-holdtime`` ·
(*less than one minute* under 60 s | *m* ``queue-minutes``, m rounded) and ``queue-thankyou``.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy.orm import Session

from callcenter.events import EventType
from callcenter.live.engine import LiveEngine
from callcenter.routing.state import CState
from callcenter.storage import eventlog

AHT_SAMPLE: Final = 20
AHT_CACHE_S: Final = 15.0
AHT_LOOKBACK_S: Final = 12 * 3600  # how far back the log is read for the sample: a day's
# work at most (handle times drift over the day; an older sample says little of now)


def position(engine: LiveEngine, contact: str) -> int | None:
    """The contact's place in its queue (1 = next), or None when it is not waiting."""
    with engine.lock:
        c = engine.router.contacts.get(contact)
        if c is None or c.state is not CState.QUEUED or c.queue is None:
            return None
        key = (-c.priority, c.enq_t, c.seq)
        ahead = sum(
            1
            for o in engine.router.contacts.values()
            if o.queue is c.queue
            and o.state is CState.QUEUED
            and not o.is_callback
            and (-o.priority, o.enq_t, o.seq) < key
        )
    return ahead + 1


def serving(engine: LiveEngine, queue: str) -> int:
    """Agents logged in who serve ``queue`` and are not paused."""
    with engine.lock:
        router = engine.router
        q = router.queues.get(queue)
        if q is None:
            return 0
        return sum(
            1
            for a in router.agents.values()
            if a.logged_in and not a.paused and any(eq is q for eq, _ in a.eligible)
        )


@dataclass(slots=True)
class HandleTimes:
    """Average handle time per queue from the event log, cached briefly."""

    engine: LiveEngine
    clock: Callable[[], float] = time.monotonic
    _cache: dict[str, tuple[float, float | None]] = field(default_factory=dict)

    def aht(self, queue: str) -> float | None:
        now = self.clock()
        hit = self._cache.get(queue)
        if hit is not None and now - hit[0] < AHT_CACHE_S:
            return hit[1]
        with self.engine.sessions() as s:
            value = _aht_from_log(s, queue, self.engine.clock() - AHT_LOOKBACK_S)
        self._cache[queue] = (now, value)
        return value


def _aht_from_log(s: Session, queue: str, since: float) -> float | None:
    # only the two event types that carry handle times, filtered in SQL (a busy queue's
    # other events are most of its log)
    types = (EventType.COMPLETE.value, EventType.WRAPUP_END.value)
    rows = eventlog.read_rows(s, ["type", "queue", "talk", "hold", "acw"], types=types,
                              start=since)  # fmt: skip
    talks: deque[float] = deque(maxlen=AHT_SAMPLE)
    acws: deque[float] = deque(maxlen=AHT_SAMPLE)
    for _id, kind, q, talk, hold, acw in rows:
        if q != queue:
            continue
        if kind == EventType.COMPLETE.value and talk is not None:
            talks.append(talk + (hold or 0.0))
        elif kind == EventType.WRAPUP_END.value and acw is not None:
            acws.append(acw)
    if not talks:
        return None
    return sum(talks) / len(talks) + (sum(acws) / len(acws) if acws else 0.0)


def estimated_wait(place: int, agents: int, aht: float | None) -> float | None:
    """``ceil(place / agents) × aht`` seconds, or None without agents or AHT."""
    if agents <= 0 or aht is None or place < 1:
        return None
    return math.ceil(place / agents) * aht


def announcement(place: int, ewt_s: float | None) -> list[str]:
    """The media URIs that say ``place`` and the estimate (see the module's text)."""
    if place <= 1:
        media = ["sound:queue-youarenext"]
    else:
        media = ["sound:queue-thereare", f"number:{place}", "sound:queue-callswaiting"]
    if ewt_s is not None:
        media.append("sound:queue-holdtime")
        if ewt_s < 60.0:
            media += ["sound:queue-less-than", "number:1", "sound:queue-minute"]
        else:
            minutes = round(ewt_s / 60.0)
            unit = "sound:queue-minute" if minutes == 1 else "sound:queue-minutes"
            media += [f"number:{minutes}", unit]
    media.append("sound:queue-thankyou")
    return media


__all__ = [
    "AHT_SAMPLE",
    "HandleTimes",
    "announcement",
    "estimated_wait",
    "position",
    "serving",
]
