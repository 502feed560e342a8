"""The live engine's typed requests: the stored form, decoding, dispatch, replay of old rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session
from tests.support.seed import seed

from callcenter.events import HangupBy, TargetType, TransferKind
from callcenter.live.commands import (
    COMMAND_TYPES,
    Abandon,
    Advance,
    Answer,
    Arrive,
    Callback,
    Command,
    Decline,
    EndWrapup,
    Enqueue,
    Hangup,
    Hold,
    Login,
    Logout,
    Pause,
    Release,
    RequestError,
    Transfer,
    Unhold,
    Unpause,
    apply,
    decode,
)
from callcenter.live.engine import LiveEngine
from callcenter.routing import AgentConfig, QueueConfig, Router
from callcenter.storage.db import make_engine
from callcenter.storage.tables import EngineCommand

# (name, args) as the API and the engine have stored them, and the command each stands for
STORED: list[tuple[str, dict[str, Any], Command]] = [
    ("login", {"agent": "ann"}, Login("ann")),
    ("logout", {"agent": "ann"}, Logout("ann")),
    ("logout", {"agent": "ann", "reason": "shift"}, Logout("ann", "shift")),
    ("pause", {"agent": "ann", "reason": "lunch"}, Pause("ann", "lunch")),
    ("unpause", {"agent": "ann"}, Unpause("ann")),
    (
        "arrive",
        {"contact": "c1", "queue": "support", "caller": "x@y.z", "channel": "chat"},
        Arrive("c1", "support", "x@y.z", "chat"),
    ),
    ("enqueue", {"contact": "c1", "queue": "sales", "priority": 2}, Enqueue("c1", "sales", 2)),
    ("answer", {"contact": "c1"}, Answer("c1")),
    ("decline", {"contact": "c1"}, Decline("c1")),
    ("hold", {"contact": "c1"}, Hold("c1")),
    ("unhold", {"contact": "c1"}, Unhold("c1")),
    ("hangup", {"contact": "c1", "by": "agent"}, Hangup("c1", HangupBy.AGENT)),
    ("hangup", {"contact": "c1", "wrapup": 30}, Hangup("c1", wrapup=30)),
    ("end_wrapup", {"agent": "ann", "contact": "c1"}, EndWrapup("ann", "c1")),
    (
        "transfer",
        {"contact": "c1", "target": "bob", "target_type": "agent", "kind": "attended"},
        Transfer("c1", "bob", TargetType.AGENT, TransferKind.ATTENDED),
    ),
    ("abandon", {"contact": "c1"}, Abandon("c1")),
    ("release", {"contact": "c1"}, Release("c1")),
    ("callback", {"contact": "c1"}, Callback("c1")),
    ("advance", {}, Advance()),
]


@pytest.mark.parametrize(("name", "args", "command"), STORED, ids=[s[0] for s in STORED])
def test_stored_form_decodes_to_the_typed_command_and_back(
    name: str, args: dict[str, Any], command: Command
) -> None:
    assert decode(name, args) == command
    assert (command.NAME, command.args()) == (name, args)


def test_every_request_name_has_a_command_class() -> None:
    assert frozenset(COMMAND_TYPES) == {s[0] for s in STORED}
    assert all(name == cls.NAME for name, cls in COMMAND_TYPES.items())


def test_decoding_refuses_what_a_call_would_refuse() -> None:
    with pytest.raises(RequestError, match="unknown engine request 'launch'"):
        decode("launch", {})
    with pytest.raises(ValueError, match="'nobody' is not a valid HangupBy"):
        decode("hangup", {"contact": "c1", "by": "nobody"})
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        decode("answer", {"contact": "c1", "colour": "red"})
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'agent'"):
        decode("login", {})


def test_apply_calls_the_router_as_a_direct_call_would() -> None:
    def center() -> Router:
        queues = [QueueConfig("support"), QueueConfig("sales"), QueueConfig("night")]
        day = ("support", "sales")  # nobody serves "night": c3 waits there
        agents = [AgentConfig("ann", queues=day), AgentConfig("bob", queues=day)]
        return Router(queues, agents)

    typed, direct = center(), center()
    script: list[tuple[float, Command]] = [
        (0, Login("ann")),
        (1, Login("bob")),
        (2, Pause("bob", "lunch")),
        (3, Arrive("c1", "support", "+1", "voice", 0)),
        (4, Answer("c1")),
        (5, Hold("c1")),
        (6, Unhold("c1")),
        (7, Unpause("bob")),
        (8, Transfer("c1", "bob", TargetType.AGENT, TransferKind.ATTENDED, wrapup=0)),
        (9, Decline("c1")),
        (10, Arrive("c2")),
        (10.5, Arrive("c4")),
        (10.7, Release("c4")),
        (11, Enqueue("c2", "sales", 1)),
        (12, Abandon("c2")),
        (13, Arrive("c3", "night")),
        (14, Callback("c3")),
        (40, Advance()),
        (41, Answer("c1")),
        (42, Hangup("c1", HangupBy.AGENT)),
        (43, EndWrapup("ann", "c1")),
        (44, Logout("bob", "shift")),
    ]
    for now, command in script:
        apply(typed, command, now)
    d = direct
    d.login("ann", 0)
    d.login("bob", 1)
    d.pause("bob", 2, "lunch")
    d.arrive("c1", 3, queue="support", caller="+1")
    d.answer("c1", 4)
    d.hold("c1", 5)
    d.unhold("c1", 6)
    d.unpause("bob", 7)
    d.transfer("c1", 8, "bob", target_type=TargetType.AGENT, kind=TransferKind.ATTENDED, wrapup=0)
    d.decline("c1", 9)
    d.arrive("c2", 10)
    d.arrive("c4", 10.5)
    d.release("c4", 10.7)
    d.enqueue("c2", "sales", 11, priority=1)
    d.abandon("c2", 12)
    d.arrive("c3", 13, queue="night")
    d.request_callback("c3", 14)
    d.advance(40)
    d.answer("c1", 41)
    d.hangup("c1", 42, by=HangupBy.AGENT)
    d.end_wrapup("ann", "c1", 43)
    d.logout("bob", 44, "shift")
    got, want = typed.drain(), direct.drain()
    assert got == want
    assert typed.contacts.keys() == direct.contacts.keys() and "c4" not in typed.contacts
    assert {e.type.value for e in got} >= {
        "transfer", "ring_noanswer", "abandon", "wrapup_end", "callback_request",
    }  # fmt: skip


class Clock:
    def __init__(self, t: float = 1_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _stored_rows(s: Session) -> list[tuple[int, int, str, dict[str, Any]]]:
    rows = s.scalars(select(EngineCommand).order_by(EngineCommand.seq))
    return [(r.epoch, r.seq, r.name, r.args) for r in rows]


def test_rows_in_the_stored_form_replay_and_typed_requests_store_it(tmp_path: Path) -> None:
    """Rows as the API has always written them (name + JSON args) replay on start; a
    typed request writes the same row as the submit() it stands for."""
    url = f"sqlite:///{tmp_path / 'c.db'}"
    seed(url)
    db = make_engine(url)
    clock = Clock()
    eng = LiveEngine(db, clock=clock)
    eng.start()
    eng.submit("login", agent="ann")
    clock.t += 5
    eng.request(Arrive("c1", "support", "x@y.z", "chat"))
    clock.t += 3
    eng.submit("answer", contact="c1")
    clock.t += 60
    eng.request(Hangup("c1", HangupBy.AGENT))
    with Session(db) as s:
        rows = _stored_rows(s)
    assert rows == [
        (1, 1, "login", {"agent": "ann"}),
        (1, 2, "arrive", {"contact": "c1", "queue": "support", "caller": "x@y.z",
                          "channel": "chat"}),
        (1, 3, "answer", {"contact": "c1"}),
        (1, 4, "hangup", {"contact": "c1", "by": "agent"}),
    ]  # fmt: skip
    restarted = LiveEngine(db, clock=clock)
    restarted.start()
    assert restarted.replayed == 4
    ann = restarted.router.agents["ann"]
    assert ann.logged_in and list(ann.legs) == ["c1"]  # wrapping c1 up, as before the stop
    assert "c1" not in restarted.router.contacts
    db.dispose()


def test_an_unknown_stored_request_stops_the_start_with_the_row_named(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    seed(url)
    db = make_engine(url)
    clock = Clock()
    eng = LiveEngine(db, clock=clock)
    eng.start()
    eng.submit("login", agent="ann")  # keeps the epoch open across the restart
    with Session(db) as s, s.begin():
        s.execute(
            insert(EngineCommand).values(
                epoch=eng.epoch, seq=2, t=clock.t, name="launch_rocket", args={"agent": "ann"}
            )
        )
    with pytest.raises(RequestError, match=r"^engine_commands epoch 1 seq 2: cannot replay "
                       r"'launch_rocket' \{'agent': 'ann'\}: unknown engine request"):  # fmt: skip
        LiveEngine(db, clock=clock).start()
    with pytest.raises(RequestError, match="unknown engine request 'launch_rocket'"):
        eng.submit("launch_rocket", agent="ann")
    with pytest.raises(RequestError, match="unknown engine request 'advance'"):
        eng.submit("advance")
    db.dispose()
