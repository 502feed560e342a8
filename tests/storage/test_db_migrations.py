"""The Alembic migrations: a fresh upgrade matches the ORM models exactly."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, inspect

from callcenter.storage.db import (
    MIGRATIONS_DIR,
    STORED_FIELDS,
    DatabaseError,
    alembic_config,
    current_revision,
    head_revision,
    make_engine,
    require_current,
    upgrade,
)
from callcenter.storage.event_store import EventStore
from callcenter.storage.tables import metadata


def _url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'fresh.db'}"


def test_upgrade_creates_tables_and_indexes(tmp_path: Path) -> None:
    url = _url(tmp_path)
    assert upgrade(url) == head_revision() == "0008"
    engine = make_engine(url)
    with engine.connect() as conn:
        insp = inspect(conn)
        assert set(insp.get_table_names()) == {
            "alembic_version",
            "events",
            "event_logs",
            "call_analyses",
            "call_keywords",
            # the live center (0003)
            "teams",
            "users",
            "team_supervisors",
            "web_sessions",
            "api_tokens",
            "skills",
            "business_hours",
            "queues",
            "agents",
            "pause_reasons",
            "dispositions",
            "customers",
            "contacts",
            "contact_agents",
            "messages",
            "tickets",
            "follow_ups",
            "engine_commands",
            # the audit log and per-author notes (0004)
            "audit_log",
            "contact_notes",
            # chat identity claims (0005)
            "claim_codes",
            # telephony configuration (0006)
            "voice_trunks",
            "voice_numbers",
            "voice_devices",
            # calls in queues and the IVR (0007)
            "ivr_flows",
        }
        columns = {c["name"] for c in insp.get_columns("events")}
        assert columns == {"id", "log_id", "source", *STORED_FIELDS}
        log_columns = {c["name"] for c in insp.get_columns("event_logs")}
        assert log_columns == {
            "id",
            "source",
            "schema_version",
            "loaded_at",
            "path",
            "event_count",
        }
        indexes = {ix["name"]: ix["column_names"] for ix in insp.get_indexes("events")}
        for col in ("t", "type", "contact", "queue", "agent", "log_id"):
            assert indexes[f"ix_events_{col}"] == [col]
        (fk,) = insp.get_foreign_keys("events")
        assert fk["referred_table"] == "event_logs"
        assert fk["constrained_columns"] == ["log_id"]
        assert insp.get_pk_constraint("events")["constrained_columns"] == ["id"]
        ana = {ix["name"]: ix["column_names"] for ix in insp.get_indexes("call_analyses")}
        for col in ("start_ts", "agent", "queue", "topic"):
            assert ana[f"ix_call_analyses_{col}"] == [col]
        (kfk,) = insp.get_foreign_keys("call_keywords")
        assert kfk["referred_table"] == "call_analyses"
        assert insp.get_pk_constraint("call_analyses")["constrained_columns"] == ["call_id"]
        assert current_revision(conn) == head_revision()
        require_current(conn)
    engine.dispose()


def test_models_and_migrations_agree(tmp_path: Path) -> None:
    """`alembic check`: autogenerate finds nothing to change after the migrations ran."""
    url = _url(tmp_path)
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, metadata) == []

        # ... and the comparison does notice a model the migrations do not match
        drifted = MetaData()
        for table in metadata.tables.values():
            table.to_metadata(drifted)
        drifted.tables["events"].append_column(Column("extra", Integer))
        diffs = compare_metadata(ctx, drifted)
        assert any(d[0] == "add_column" and d[3].name == "extra" for d in diffs)
    engine.dispose()


def test_upgrade_is_idempotent_and_keeps_data(tmp_path: Path) -> None:
    from callcenter.events import Event, EventType

    url = _url(tmp_path)
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        EventStore(conn).append([Event(t=1.0, type=EventType.AGENT_LOGIN, agent="a")], "x")
    assert upgrade(url) == "0008"
    with engine.connect() as conn:
        assert EventStore(conn).count() == 1
    engine.dispose()


def test_downgrade_to_base_and_back(tmp_path: Path) -> None:
    url = _url(tmp_path)
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        command.downgrade(alembic_config(connection=conn), "base")
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) == {"alembic_version"}
        assert current_revision(conn) is None
    upgrade(engine)
    with engine.connect() as conn:
        assert current_revision(conn) == "0008"
    engine.dispose()


def test_require_current_on_empty_database(tmp_path: Path) -> None:
    engine = make_engine(_url(tmp_path))
    with engine.connect() as conn, pytest.raises(DatabaseError, match="db upgrade"):
        require_current(conn)
    engine.dispose()


def test_require_current_on_unknown_revision(tmp_path: Path) -> None:
    url = _url(tmp_path)
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'ffff'")
    with engine.connect() as conn, pytest.raises(DatabaseError, match="newer"):
        require_current(conn)
    engine.dispose()


@pytest.mark.parametrize("url", ["postgresql://", "mysql://", "sqlite://"])
def test_offline_sql_renders_for_other_dialects(url: str) -> None:
    """The migration is dialect-neutral: it renders DDL (offline, no server) for each."""
    cfg = alembic_config(url=url)
    buf = io.StringIO()
    cfg.output_buffer = buf
    command.upgrade(cfg, "head", sql=True)
    sql = buf.getvalue()
    assert "CREATE TABLE event_logs" in sql
    assert "CREATE TABLE events" in sql
    assert "CREATE INDEX ix_events_t ON events (t)" in sql


def test_migrations_ship_as_package_files() -> None:
    """env.py, the template and the versions are inside the package (they go in the wheel)."""
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    assert (MIGRATIONS_DIR / "__init__.py").is_file()
    assert (MIGRATIONS_DIR / "versions" / "__init__.py").is_file()
    assert (MIGRATIONS_DIR / "versions" / "0001_events.py").is_file()


def test_env_py_can_connect_by_url(tmp_path: Path) -> None:
    """Without a handed-over connection, env.py opens ``sqlalchemy.url`` itself."""
    url = _url(tmp_path)
    command.upgrade(alembic_config(url=url), "head")
    engine = make_engine(url)
    with engine.connect() as conn:
        assert current_revision(conn) == head_revision()
    engine.dispose()
