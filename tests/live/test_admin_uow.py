"""The administration services on a real SQLite file: the unit of work (its own
transaction, the undo when the routing engine refuses, the retry when SQLite's write
lock was lost) and the typed PATCH (a field left out vs a field set to null)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from callcenter.api.errors import status_of
from callcenter.live.admin import config
from callcenter.live.admin.checks import ConflictError, InvalidError
from callcenter.live.admin.schemas import QueueIn, QueuePatch, SkillIn, SkillOut
from callcenter.live.admin.uow import ATTEMPTS, UnitOfWork
from callcenter.routing import RoutingError
from callcenter.storage.audit import Actor, AuditFilter, entries
from callcenter.storage.db import make_engine, upgrade
from callcenter.storage.tables import QueueRow, Skill

REFUSED = (
    "the routing engine cannot take this change while work is in progress: "
    "agent 'ann' holds a chat of queue 'sales'; nothing was changed"
)


class FakeRouter:
    """A routing engine that counts its reloads and refuses them while ``refuse``."""

    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.reloads = 0

    def reload(self) -> None:
        self.reloads += 1
        if self.refuse:
            raise RoutingError("agent 'ann' holds a chat of queue 'sales'")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'admin.db'}"
    upgrade(url)
    eng = make_engine(url)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(db: Engine) -> sessionmaker[Session]:
    return sessionmaker(db, expire_on_commit=False)


def _uow(
    sessions: sessionmaker[Session], engine: FakeRouter, dialect: str = "sqlite"
) -> UnitOfWork:
    return UnitOfWork(sessions=sessions, engine=engine, dialect=dialect)


def _queue(sessions: sessionmaker[Session], name: str) -> QueueRow | None:
    with sessions() as s:
        return s.scalar(select(QueueRow).where(QueueRow.name == name))


def test_a_change_is_committed_and_the_engine_reloaded(sessions: sessionmaker[Session]) -> None:
    engine = FakeRouter()
    uow = _uow(sessions, engine)
    with sessions() as s:
        made = uow.commit(s, lambda t: config.create_queue(t, QueueIn(name="sales")), routing=True)
    assert made.name == "sales" and made.wrapup_s is None
    assert engine.reloads == 1
    stored = _queue(sessions, "sales")
    assert stored is not None and stored.id == made.id


def test_a_change_the_router_refuses_is_undone(sessions: sessionmaker[Session]) -> None:
    engine = FakeRouter()
    uow = _uow(sessions, engine)
    with sessions() as s:
        made = uow.commit(s, lambda t: config.create_queue(t, QueueIn(name="sales")), routing=True)
    engine.refuse = True
    patch = QueuePatch(description="Sales", priority=5)
    with sessions() as s, pytest.raises(ConflictError) as refused:
        uow.commit(s, lambda t: config.update_queue(t, made.id, patch), routing=True)
    assert str(refused.value) == REFUSED
    assert status_of(refused.value) == 409
    stored = _queue(sessions, "sales")
    assert stored is not None and (stored.description, stored.priority) == ("", 0)
    # a new row is taken back too
    with sessions() as s, pytest.raises(ConflictError, match="nothing was changed"):
        uow.commit(s, lambda t: config.create_queue(t, QueueIn(name="billing")), routing=True)
    assert _queue(sessions, "billing") is None
    assert engine.reloads == 3


def test_a_change_without_routing_does_not_reload(sessions: sessionmaker[Session]) -> None:
    engine = FakeRouter(refuse=True)
    with sessions() as s:
        _uow(sessions, engine).commit(s, lambda t: config.create_skill(t, SkillIn(name="german")))
    assert engine.reloads == 0
    with sessions() as s:
        assert s.scalar(select(Skill.name)) == "german"


def _racing_change(db: Engine, calls: list[int]) -> Callable[[Session], SkillOut]:
    """A change that reads, then — on its first run only — lets another connection write
    before it writes itself: SQLite refuses the stale snapshot ("database is locked")."""

    def change(t: Session) -> SkillOut:
        calls.append(1)
        t.scalar(select(func.count()).select_from(Skill))  # the snapshot begins
        if len(calls) == 1:
            with db.begin() as other:
                other.execute(insert(Skill).values(name=f"other{len(calls)}", description=""))
        return config.create_skill(t, SkillIn(name="german"))

    return change


def test_a_change_that_lost_the_write_lock_runs_again(
    db: Engine, sessions: sessionmaker[Session]
) -> None:
    calls: list[int] = []
    change = _racing_change(db, calls)
    with sessions() as s:
        made = _uow(sessions, FakeRouter()).commit(s, change)
    assert made.name == "german"
    assert len(calls) == 2
    with sessions() as s:
        assert sorted(s.scalars(select(Skill.name))) == ["german", "other1"]


def test_only_sqlite_snapshots_are_retried(db: Engine, sessions: sessionmaker[Session]) -> None:
    calls: list[int] = []
    change = _racing_change(db, calls)
    with sessions() as s, pytest.raises(OperationalError, match="database is locked"):
        _uow(sessions, FakeRouter(), dialect="postgresql").commit(s, change)
    assert len(calls) == 1 < ATTEMPTS


# --------------------------------------------------------------------------- typed PATCH


def test_patch_changes_only_the_fields_set(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        made = config.create_queue(s, QueueIn(name="sales", wrapup_s=30.0, max_wait_s=600.0))
    with sessions.begin() as s:
        left_out = config.update_queue(s, made.id, QueuePatch(description="Sales"))
    assert (left_out.description, left_out.wrapup_s, left_out.max_wait_s) == ("Sales", 30, 600)
    # null where null is allowed: set to null; the other fields keep their values
    patch = QueuePatch.model_validate_json('{"wrapup_s": null}')
    assert patch.model_fields_set == {"wrapup_s"}
    with sessions.begin() as s:
        nulled = config.update_queue(s, made.id, patch)
    assert (nulled.description, nulled.wrapup_s, nulled.max_wait_s) == ("Sales", None, 600)
    # null where a value is required: refused, naming the field, nothing changed
    with sessions.begin() as s, pytest.raises(InvalidError) as bad:
        config.update_queue(s, made.id, QueuePatch.model_validate_json('{"ring_timeout_s": null}'))
    assert str(bad.value) == (
        "ring_timeout_s: null is not valid; expected a number of seconds from 1 to 3600"
    )
    with sessions() as s:
        assert config.get_queue(s, made.id) == nulled


def test_patch_refuses_unknown_fields_and_loose_types() -> None:
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        QueuePatch.model_validate_json('{"colour": "red"}')
    with pytest.raises(ValueError, match="valid integer"):
        QueuePatch.model_validate_json('{"priority": "3"}')


def test_changes_and_their_undo_are_in_the_audit_log(sessions: sessionmaker[Session]) -> None:
    engine = FakeRouter()
    admin = Actor(user_id=1, username="admin", role="admin", address="10.1.2.3")
    uow = UnitOfWork(sessions=sessions, engine=engine, dialect="sqlite", actor=admin,
                     clock=lambda: 1_700_000_000.0)  # fmt: skip
    with sessions() as s:
        made = uow.commit(s, lambda t: config.create_queue(t, QueueIn(name="sales")), routing=True)
    with sessions() as s, pytest.raises(InvalidError):  # a bad change: nothing, no entry
        uow.commit(s, lambda t: config.update_queue(t, made.id, QueuePatch(ring_timeout_s=-1)))
    engine.refuse = True
    patch = QueuePatch(description="Sales", priority=5)
    with sessions() as s, pytest.raises(ConflictError):
        uow.commit(s, lambda t: config.update_queue(t, made.id, patch), routing=True)
    with sessions() as s:
        rows = entries(s, AuditFilter(entity="queue", entity_id=str(made.id)))
    assert [r.action for r in rows] == ["config.undo", "queue.update", "queue.create"]
    assert rows[1].changes == {"description": ["", "Sales"], "priority": [0, 5]}
    undo = rows[0].changes
    assert undo["undone"] == [None, "changed"]
    assert (undo["description"], undo["priority"]) == ([None, ""], [None, 0])
    assert undo["reason"] == [None, "agent 'ann' holds a chat of queue 'sales'"]
    assert {(r.username, r.role, r.address, r.at) for r in rows} == {
        ("admin", "admin", "10.1.2.3", 1_700_000_000.0)
    }
