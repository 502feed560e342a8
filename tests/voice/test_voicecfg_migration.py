"""Migration 0006 (telephony tables) up and down, on SQLite and the real PostgreSQL:
down to 0005 removes exactly the three tables, up again brings them back, and a
device's user going away takes the device with it (the foreign key's cascade).
Migration 0008 (phones belong to users): an agent's phone made at 0007 is its user's at
0008, with its SIP username and secret; down again, an agent's phone goes back to the
agent and a supervisor's (no agent profile) is dropped."""

from __future__ import annotations

import time
from pathlib import Path

from alembic import command
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session

from callcenter.storage.db import (
    alembic_config,
    current_revision,
    head_revision,
    make_engine,
    upgrade,
)
from callcenter.storage.tables import AgentRow, User, VoiceDevice, VoiceNumber, VoiceTrunk

VOICE = {"voice_trunks", "voice_numbers", "voice_devices"}


def _down_and_up(url: str) -> None:
    engine = make_engine(url)
    try:
        assert upgrade(engine) == head_revision()
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
        assert tables >= VOICE
        with engine.begin() as conn:
            command.downgrade(alembic_config(connection=conn), "0005")
        with engine.connect() as conn:
            assert current_revision(conn) == "0005"
            # and the IVR flows of 0007, which came after
            assert set(inspect(conn).get_table_names()) == tables - VOICE - {"ivr_flows"}
        assert upgrade(engine) == head_revision()
        _rows_and_cascade(engine)
    finally:
        engine.dispose()


def _rows_and_cascade(engine: Engine) -> None:
    now = time.time()
    with Session(engine) as s:
        user = User(username="ann", password_hash="x", role="agent", display_name="Ann",
                    created_at=now)  # fmt: skip
        s.add(user)
        s.flush()
        agent = AgentRow(user_id=user.id, name="ann")
        trunk = VoiceTrunk(name="t", kind="ip", networks=["192.0.2.0/24"], codecs=["ulaw"],
                           created_at=now, updated_at=now)  # fmt: skip
        s.add_all([agent, trunk])
        s.flush()
        s.add(VoiceDevice(user_id=user.id, kind="sip", sip_username="agent-ann",
                          ha1="0" * 32, created_at=now, updated_at=now))  # fmt: skip
        s.add(VoiceNumber(number="+1555", trunk_id=trunk.id, target_kind="ivr", target="m",
                          created_at=now, updated_at=now))  # fmt: skip
        s.commit()
        s.delete(agent)
        s.delete(user)
        s.delete(trunk)
        s.commit()
        assert s.scalars(select(VoiceDevice)).all() == []
        (number,) = s.scalars(select(VoiceNumber)).all()
        assert number.trunk_id is None  # SET NULL (the service refuses it while used)


def test_sqlite(tmp_path: Path) -> None:
    _down_and_up(f"sqlite:///{tmp_path / 'v.db'}")


def test_postgresql(postgres_url: str) -> None:
    _down_and_up(postgres_url)


def _devices_move_to_users(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(connection=conn), "0007")
        with engine.begin() as conn:
            for uid, name, role in ((1, "ann", "agent"), (2, "sue", "supervisor")):
                conn.execute(text(
                    "INSERT INTO users (id, username, password_hash, role, display_name, "
                    "active, created_at) VALUES (:i, :n, 'x', :r, :n, true, 0)"
                ), {"i": uid, "n": name, "r": role})  # fmt: skip
            conn.execute(text("INSERT INTO agents (id, user_id, name, skills, capacity, "
                              "max_no_answer, status, status_since) VALUES (7, 1, 'ann', "
                              "'{}', 1, 3, 'logged_out', 0)"))  # fmt: skip
            conn.execute(text("INSERT INTO voice_devices (agent_id, kind, sip_username, ha1, "
                              "created_at, updated_at) VALUES (7, 'sip', 'agent-ann', "
                              "'abc', 1, 2)"))  # fmt: skip
        assert upgrade(engine) == "0008"
        with engine.begin() as conn:
            rows = conn.execute(text("SELECT user_id, sip_username, ha1 FROM voice_devices"))
            assert [tuple(r) for r in rows] == [(1, "agent-ann", "abc")]
            conn.execute(text("INSERT INTO voice_devices (user_id, kind, sip_username, created_at, "
                              "updated_at) VALUES (2, 'webrtc', 'agent-sue', 1, 1)"))  # fmt: skip
        with engine.begin() as conn:
            command.downgrade(alembic_config(connection=conn), "0007")
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT agent_id, sip_username FROM voice_devices"))
            assert [tuple(r) for r in rows] == [(7, "agent-ann")]
    finally:
        engine.dispose()


def test_devices_move_to_users_sqlite(tmp_path: Path) -> None:
    _devices_move_to_users(f"sqlite:///{tmp_path / 'd.db'}")


def test_devices_move_to_users_postgresql(postgres_url: str) -> None:
    _devices_move_to_users(postgres_url)
