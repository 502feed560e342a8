"""The audit log's door and table: the field diff, one transaction with the change, the
read side's filters and paging, and the append-only triggers on the real database
engines (a SQLite file and the real PostgreSQL of ``tests/support/postgres.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import delete, func, inspect, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from callcenter.errors import UserError
from callcenter.storage.audit import (
    Actor,
    AuditAction,
    AuditFilter,
    action_for,
    diff,
    entries,
    iter_entries,
    record,
    track,
)
from callcenter.storage.db import alembic_config, make_engine, upgrade
from callcenter.storage.tables import AuditRow, Customer, QueueRow, Skill

ANN = Actor(user_id=5, username="ann", role="agent", address="10.0.0.7")
ADMIN = Actor(user_id=1, username="admin", role="admin", address="127.0.0.1")
T0 = 1_700_000_000.0


@pytest.fixture
def s(tmp_path: Path) -> Iterator[Session]:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def test_diff_keeps_changed_fields_only_and_hides_secrets() -> None:
    before = {"email": "a@x.org", "name": "Dana", "password_hash": "$argon2id$old", "n": 1}
    after = {"email": "b@x.org", "name": "Dana", "password_hash": "$argon2id$new", "n": 1.0}
    assert diff(before, after) == {
        "email": ["a@x.org", "b@x.org"],
        "password_hash": ["(hidden)", "(changed)"],
    }
    # a field on one side only counts as None on the other; sets become sorted lists
    assert diff({}, {"skills": {"b", "a"}, "x": None}) == {"skills": [None, ["a", "b"]]}
    assert diff({"t": float("nan")}, {"t": 1.0}) == {"t": ["nan", 1.0]}


def test_record_commits_and_rolls_back_with_the_change(s: Session) -> None:
    row = Customer(name="Dana", email="dana@example.com", phone=None, company=None, notes="",
                   created_at=T0, updated_at=T0)  # fmt: skip
    s.add(row)
    s.flush()
    record(s, ANN, AuditAction.CUSTOMER_CREATE, "customer", row.id, {}, {"name": "Dana"}, at=T0)
    s.rollback()  # the change failed: neither it nor its entry is there
    assert s.scalar(select(func.count(AuditRow.id))) == 0
    assert s.scalar(select(func.count(Customer.id))) == 0
    s.add(Customer(name="Eve", email=None, phone=None, company=None, notes="",
                   created_at=T0, updated_at=T0))  # fmt: skip
    s.flush()
    evil = {"email": "attacker@evil.example"}
    changes = record(s, ANN, AuditAction.CUSTOMER_UPDATE, "customer", 1, {"email": "e@x.org"},
                     evil, at=T0 + 1)  # fmt: skip
    s.commit()
    assert changes == {"email": ["e@x.org", "attacker@evil.example"]}
    (got,) = s.scalars(select(AuditRow)).all()
    assert (got.at, got.user_id, got.username, got.role, got.address) == (
        T0 + 1, 5, "ann", "agent", "10.0.0.7"
    )  # fmt: skip
    assert (got.action, got.entity, got.entity_id) == ("customer.update", "customer", "1")
    assert got.changes == {"email": ["e@x.org", "attacker@evil.example"]}


def test_an_update_that_changes_nothing_is_not_recorded(s: Session) -> None:
    out = record(s, ANN, AuditAction.CUSTOMER_UPDATE, "customer", 1, {"a": 1}, {"a": 1})
    assert out is None
    # events without fields (a sign-in) are recorded with no changes
    assert record(s, ANN, AuditAction.AUTH_LOGIN, "user", 5, {}, {}) == {}
    s.commit()
    assert [r.action for r in s.scalars(select(AuditRow))] == ["auth.login"]


def test_track_records_every_row_a_change_writes(s: Session) -> None:
    with track(s, ADMIN, at=T0):
        q = QueueRow(name="vip", channel="chat")
        s.add_all([q, Skill(name="farsi")])
    s.commit()
    with track(s, ADMIN, at=T0 + 5):
        q.max_wait_s = 120.0
        q.priority = 2
    s.commit()
    with track(s, ADMIN, at=T0 + 9):
        s.delete(s.scalars(select(Skill)).one())
    s.commit()
    rows = entries(s, AuditFilter())
    assert [(r.action, r.at) for r in rows] == [
        ("skill.delete", T0 + 9),
        ("queue.update", T0 + 5),
        ("skill.create", T0),
        ("queue.create", T0),
    ]
    assert rows[1].changes == {"max_wait_s": [None, 120.0], "priority": [0, 2]}
    assert rows[1].entity_id == str(q.id)
    assert rows[0].changes["name"] == ["farsi", None]
    assert rows[3].changes["name"] == [None, "vip"]


def test_user_role_and_password_changes_are_named() -> None:
    assert action_for("user", "update", {"role": ["agent", "admin"]}) is AuditAction.USER_ROLE
    assert action_for("user", "update", {"password_hash": []}) is AuditAction.USER_PASSWORD_RESET
    assert action_for("user", "update", {"email": []}) is AuditAction.USER_UPDATE
    assert action_for("queue", "delete", {}) is AuditAction.QUEUE_DELETE


def test_filters_newest_first_and_the_id_cursor(s: Session) -> None:
    for i in range(7):
        who = ANN if i % 2 else ADMIN
        action = AuditAction.TICKET_UPDATE if i < 5 else AuditAction.TICKET_CREATE
        record(s, who, action, "ticket", i % 3, {}, {"n": i}, at=T0 + i)
    s.commit()
    ids = [r.id for r in entries(s, AuditFilter())]
    assert ids == [7, 6, 5, 4, 3, 2, 1]
    assert [r.at for r in entries(s, AuditFilter(actor="ann"))] == [T0 + 5, T0 + 3, T0 + 1]
    assert [r.id for r in entries(s, AuditFilter(entity="ticket", entity_id="0"))] == [7, 4, 1]
    assert [r.id for r in entries(s, AuditFilter(action="ticket.create"))] == [7, 6]
    assert [r.id for r in entries(s, AuditFilter(since=T0 + 2, until=T0 + 4))] == [4, 3]
    first = entries(s, AuditFilter(), limit=3)
    second = entries(s, AuditFilter(before_id=first[-1].id), limit=3)
    assert [r.id for r in first + second] == [7, 6, 5, 4, 3, 2]
    assert [r.id for r in iter_entries(s, AuditFilter(actor="admin"), page=2)] == [7, 5, 3, 1]


def test_bad_filters_are_named(s: Session) -> None:
    with pytest.raises(UserError, match=r"action: 'customer\.delete' is not an audit action"):
        entries(s, AuditFilter(action="customer.delete"))
    with pytest.raises(UserError, match=r"until: 5 is not after since \(10\)"):
        entries(s, AuditFilter(since=10, until=5))
    with pytest.raises(UserError, match="since: nan is not a time"):
        entries(s, AuditFilter(since=float("nan")))
    with pytest.raises(UserError, match=r"limit: 0 is out of range \(expected 1 to 1000\)"):
        entries(s, AuditFilter(), limit=0)


def _refuses_changes(url: str) -> None:
    """An entry is written; UPDATE and DELETE of it are refused by the database itself."""
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            record(s, ANN, AuditAction.CUSTOMER_UPDATE, "customer", 1,
                   {"email": "a@x.org"}, {"email": "b@x.org"}, at=T0)  # fmt: skip
            s.commit()
        refused = [
            update(AuditRow).values(changes={}),
            delete(AuditRow),
            text("UPDATE audit_log SET username = 'nobody'"),
        ]
        for statement in refused:
            with Session(engine) as s, pytest.raises(DBAPIError, match="audit_log is append-only"):
                s.execute(statement)
                s.commit()
        with Session(engine) as s:
            (row,) = s.scalars(select(AuditRow)).all()
            assert (row.username, row.changes) == ("ann", {"email": ["a@x.org", "b@x.org"]})
    finally:
        engine.dispose()


def test_sqlite_refuses_update_and_delete(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'append-only.db'}"
    upgrade(url)
    _refuses_changes(url)


def test_postgresql_refuses_update_delete_and_truncate(postgres_url: str) -> None:
    upgrade(postgres_url)
    _refuses_changes(postgres_url)
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text("TRUNCATE audit_log"))
        # the migration goes down (the trigger function with it) and up again
        with engine.begin() as conn:
            command.downgrade(alembic_config(connection=conn), "0003")
        with engine.connect() as conn:
            assert "audit_log" not in inspect(conn).get_table_names()
        upgrade(engine)
        _refuses_changes(postgres_url)
    finally:
        engine.dispose()
