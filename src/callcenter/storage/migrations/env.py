"""Alembic environment: runs the migrations against every table (``storage.tables``).

There is no ``alembic.ini``: :func:`callcenter.storage.db.alembic_config` builds the
configuration in code and, normally, hands over an open connection in
``config.attributes["connection"]`` (the migration then joins that connection's
transaction).  Without one, ``sqlalchemy.url`` is used; offline (``--sql``) mode prints
the SQL instead of running it.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from callcenter.storage.db import make_engine
from callcenter.storage.tables import metadata

config = context.config
target_metadata = metadata


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copes
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if isinstance(connection, Connection):
        _configure_and_run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection and no sqlalchemy.url in the Alembic config")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _configure_and_run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
