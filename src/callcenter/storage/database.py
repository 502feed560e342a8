"""The one way in to the SQL database: :func:`open_database`, from the :class:`Settings`.

Every command that uses the database and the server open it here, so the URL, the
schema rule and the error messages are the same everywhere:

- the URL is ``settings.database_url`` (the CLI puts ``--database`` there, over the
  ``CALLCENTER_DATABASE_URL`` setting, over the default ``sqlite:///callcenter.db``);
- **SQLite is created and migrated** to the newest schema on the spot; **any other
  database must already be at the head revision** (``callcenter db upgrade``), else one
  line says which command to run;
- ``create=False`` (commands that read a database or add to one: ``db load``,
  ``db export``, ``report``, ``import --database``): nothing is created or migrated,
  whatever the kind; a missing SQLite file is an error, not a new empty database;
- ``server=True``: a connection pool sized for the live server (:data:`POOL_SIZE` +
  :data:`POOL_OVERFLOW`);
- ``callcenter db upgrade`` alone creates or migrates any database:
  :func:`upgrade_database`.

Errors are :class:`~callcenter.storage.db.DatabaseError` (one line, exit status 2).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Final

from callcenter.storage.db import (
    database_errors,
    open_engine,
    parse_url,
    require_current,
    upgrade,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from callcenter.settings import Settings

# Connections of the live server: enough for every request thread (anyio's 40), the
# commit threads and the background tasks at once, so the thread that holds the engine
# lock always gets one and nothing waits for the pool while another waits for the engine.
POOL_SIZE: Final = 10
POOL_OVERFLOW: Final = 60


def open_database(settings: Settings, *, create: bool = True, server: bool = False) -> Engine:
    """An :class:`Engine` on ``settings.database_url``, checked and at the newest schema.

    ``create``: a SQLite database is created if missing and migrated; any other database
    must be at the head revision. ``create=False``: every database must exist and be at
    the head revision (nothing is written). ``server``: the live server's pool sizes.
    The caller disposes of the engine (or uses :func:`opened_database`).
    """
    url = parse_url(settings.database_url)
    migrate = create and url.get_backend_name() == "sqlite"
    pool = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW} if server else {}
    engine = open_engine(url, create=migrate, **pool)
    try:
        with database_errors(url):
            if migrate:
                upgrade(engine)
            else:
                with engine.connect() as conn:
                    require_current(conn)
    except BaseException:
        engine.dispose()
        raise
    return engine


@contextmanager
def opened_database(settings: Settings, *, create: bool = True) -> Iterator[Engine]:
    """:func:`open_database` for a ``with`` block; the engine is disposed of at its end."""
    engine = open_database(settings, create=create)
    try:
        yield engine
    finally:
        engine.dispose()


def upgrade_database(settings: Settings) -> str:
    """Create the database if missing (a SQLite file too) and migrate it to the newest
    schema, whatever its kind (``callcenter db upgrade``); return the revision."""
    url = parse_url(settings.database_url)
    engine = open_engine(url, create=True)
    try:
        with database_errors(url):
            return upgrade(engine)
    finally:
        engine.dispose()


__all__ = ["POOL_OVERFLOW", "POOL_SIZE", "open_database", "opened_database", "upgrade_database"]
