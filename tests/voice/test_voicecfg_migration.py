"""Migration 0006 (telephony tables) up and down, on SQLite and the real PostgreSQL:
down to 0005 removes exactly the three tables, up again brings them back, and a
device's agent going away takes the device with it (the foreign key's cascade)."""

from __future__ import annotations

import time
from pathlib import Path

from alembic import command
from sqlalchemy import Engine, inspect, select
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
        s.add(VoiceDevice(agent_id=agent.id, kind="sip", sip_username="agent-ann",
                          ha1="0" * 32, created_at=now, updated_at=now))  # fmt: skip
        s.add(VoiceNumber(number="+1555", trunk_id=trunk.id, target_kind="ivr", target="m",
                          created_at=now, updated_at=now))  # fmt: skip
        s.commit()
        s.delete(agent)
        s.delete(trunk)
        s.commit()
        assert s.scalars(select(VoiceDevice)).all() == []
        (number,) = s.scalars(select(VoiceNumber)).all()
        assert number.trunk_id is None  # SET NULL (the service refuses it while used)


def test_sqlite(tmp_path: Path) -> None:
    _down_and_up(f"sqlite:///{tmp_path / 'v.db'}")


def test_postgresql(postgres_url: str) -> None:
    _down_and_up(postgres_url)
