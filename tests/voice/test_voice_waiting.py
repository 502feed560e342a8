"""What a waiting caller is told (``live/voice/waiting.py``): place, estimated wait, words.

The engine runs on a hand-set clock; every expected number is worked out by hand from
the requests made: the router's order (priority first, then time queued), the agents who
serve the queue and are not paused, the average handle time of the queue's finished
conversations in the event log.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from tests.support.seed import seed

from callcenter.live.commands import Answer, Arrive, EndWrapup, Hangup, Login, Pause
from callcenter.live.engine import LiveEngine
from callcenter.live.voice.waiting import (
    HandleTimes,
    announcement,
    estimated_wait,
    position,
    serving,
)
from callcenter.storage.db import make_engine
from callcenter.storage.tables import ContactRow, QueueRow


class Clock:
    def __init__(self, t: float = 10_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _row(cid: str) -> Callable[[Session], None]:
    def add(s: Session) -> None:
        s.add(ContactRow(id=cid, channel="voice", status="queued", arrived_at=0.0))

    return add


@pytest.fixture
def engine(tmp_path: Path) -> tuple[LiveEngine, Clock]:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    seed(url)
    db = make_engine(url)
    with Session(db) as s, s.begin():
        # served by ann, bob and cid (skill support), wrap-up ended by hand
        s.add(QueueRow(name="phones", channel="voice", ring_timeout_s=600.0,
                       requirements=[{"skill": "support", "min_level": 1}]))  # fmt: skip
    clock = Clock()
    eng = LiveEngine(db, clock=clock)
    eng.start()
    return eng, clock


def test_place_follows_the_routers_order_priority_then_time(
    engine: tuple[LiveEngine, Clock],
) -> None:
    eng, clock = engine
    for cid, prio in [("c1", 0), ("c2", 0), ("c3", 5), ("c4", 0)]:
        clock.t += 1
        eng.request(Arrive(cid, "phones", channel="voice", priority=prio), extra=_row(cid))
    # c3 (priority 5) first, then c1, c2, c4 in the order they came
    assert [position(eng, c) for c in ("c3", "c1", "c2", "c4")] == [1, 2, 3, 4]
    assert position(eng, "nobody") is None


def test_serving_counts_logged_in_unpaused_agents_of_the_queue(
    engine: tuple[LiveEngine, Clock],
) -> None:
    eng, _ = engine
    assert serving(eng, "phones") == 0
    for a in ("ann", "bob", "cid"):
        eng.request(Login(a))
    eng.request(Pause("cid", "lunch"))
    assert serving(eng, "phones") == 2  # ann and bob; cid paused
    assert serving(eng, "no-such-queue") == 0


def test_aht_from_the_log_and_the_estimate_worked_by_hand(
    engine: tuple[LiveEngine, Clock],
) -> None:
    eng, clock = engine
    times = HandleTimes(eng, clock=lambda: 0.0)
    assert times.aht("phones") is None  # no conversation yet: no estimate
    eng.request(Login("ann"))
    # two conversations: talk 100 s then 140 s, wrap-ups 20 s and 40 s
    for cid, talk, acw in (("h1", 100, 20), ("h2", 140, 40)):
        eng.request(Arrive(cid, "phones", channel="voice"), extra=_row(cid))
        eng.request(Answer(cid))
        clock.t += talk
        eng.request(Hangup(cid))
        clock.t += acw
        eng.request(EndWrapup("ann", cid))
    # AHT = mean(talk + hold) + mean(acw) = 120 + 30 = 150 s
    assert HandleTimes(eng).aht("phones") == pytest.approx(150.0)
    # place 5 with 2 agents: ceil(5/2) = 3 rounds of 150 s
    assert estimated_wait(5, 2, 150.0) == pytest.approx(450.0)
    assert estimated_wait(1, 3, 150.0) == pytest.approx(150.0)
    assert estimated_wait(4, 0, 150.0) is None  # nobody serves it
    assert estimated_wait(4, 2, None) is None


def test_announcement_words_in_order() -> None:
    assert announcement(1, None) == ["sound:queue-youarenext", "sound:queue-thankyou"]
    assert announcement(3, 45.0) == [
        "sound:queue-thereare", "number:3", "sound:queue-callswaiting",
        "sound:queue-holdtime", "sound:queue-less-than", "number:1", "sound:queue-minute",
        "sound:queue-thankyou",
    ]  # fmt: skip
    # 450 s = 7.5 minutes -> 8 (rounded half to even would say 8 as well); 90 s -> 2
    assert announcement(2, 450.0)[3:6] == [
        "sound:queue-holdtime",
        "number:8",
        "sound:queue-minutes",
    ]
    assert announcement(2, 60.0)[4:6] == ["number:1", "sound:queue-minute"]
