"""The event log in a SQL database (SQLAlchemy 2, any dialect; SQLite by default).

Two tables (see ``docs/storage.md``):

``events``
    one row per :class:`~callcenter.events.Event`, one column per event field (the
    header-only framing fields ``schema``/``version``/``source`` excepted), plus ``id``
    (autoincrement: the insertion order, which is the log order), ``source`` (the log or
    import the row came from) and ``log_id`` (the ``event_logs`` row of that load).
``event_logs``
    one row per load (:meth:`EventStore.append`): source, schema version, time, path and
    how many events it added.

The schema is created and upgraded by the Alembic migrations shipped in
``callcenter/storage/migrations`` (:func:`upgrade`); no ``alembic.ini`` is needed.

Services here take a :class:`~sqlalchemy.engine.Connection` and never commit on their
own, except :meth:`EventStore.append`, which is the explicit unit of work of a load.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, Engine, make_url

from callcenter.errors import UserError
from callcenter.events import FIELD_NAMES
from callcenter.storage.base import Base
from callcenter.storage.tables.events import EventLog, EventRow, event_logs_table, events_table

if TYPE_CHECKING:  # polars and alembic are imported where used: quicker CLI start-up
    import polars as pl
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"
BATCH_SIZE: Final = 50_000

# Event fields that only the log's header line carries; they have no column in `events`.
HEADER_ONLY_FIELDS: Final = frozenset({"schema", "version", "source"})
STORED_FIELDS: Final[tuple[str, ...]] = tuple(n for n in FIELD_NAMES if n not in HEADER_ONLY_FIELDS)


def frame_schema() -> dict[str, pl.DataType]:
    """Column names and dtypes of :meth:`EventStore.to_frame`: every Event field, in order.

    The event schema of the columnar logs, with ``type`` as a plain string column.
    """
    import polars as pl

    from callcenter.storage.columnar import EVENT_SCHEMA

    return {n: pl.String() if n == "type" else dt for n, dt in EVENT_SCHEMA.items()}


class DatabaseError(UserError):
    """The database cannot be opened, is not migrated, or refused an operation."""


_EVENT_COLUMNS: Final = tuple(events_table.c[n] for n in STORED_FIELDS)


# --------------------------------------------------------------------------- engines


def _safe_url(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def shown_url(url: str | URL) -> str:
    """``url`` as it may be printed or logged: the password replaced by ``***``."""
    return _safe_url(parse_url(url))


def parse_url(url: str | URL) -> URL:
    """Parse a database URL; raise :class:`DatabaseError` if it is not one."""
    if isinstance(url, URL):
        return url
    try:
        return make_url(url)
    except (sa_exc.ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise DatabaseError(
            f"not a database URL: {url!r} (expected e.g. sqlite:///callcenter.db)"
        ) from None


def _sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite URL, or None for in-memory / URI-style databases."""
    if url.get_backend_name() != "sqlite":
        return None
    db = url.database
    if not db or db == ":memory:" or url.query.get("uri") or db.startswith("file:"):
        return None
    return Path(db)


SQLITE_BUSY_TIMEOUT_S: Final = 30.0
WRITE_OPTION = "callcenter_writes"
"""Execution option: this transaction will write; on SQLite it takes the write lock when
it begins (``session.connection(execution_options={WRITE_OPTION: True})`` as its first
use). Other databases ignore it."""


def make_engine(
    url: str | URL, *, pool_size: int | None = None, max_overflow: int | None = None
) -> Engine:
    """An :class:`Engine` for ``url``.

    For SQLite the connections run in WAL mode with foreign keys enforced, and the
    driver's own transaction handling is switched off so that SQLAlchemy's BEGIN /
    SAVEPOINT / COMMIT are what the database sees (needed for atomic loads and DDL).
    ``pool_size`` / ``max_overflow`` size the connection pool (SQLAlchemy's defaults
    otherwise; ignored for an in-memory SQLite database, which has one connection).
    Raises :class:`DatabaseError` for a bad URL or a missing database driver.
    """
    u = parse_url(url)
    args: dict[str, Any] = {}
    if u.get_backend_name() != "sqlite" or _sqlite_file(u) is not None:
        if pool_size is not None:
            args["pool_size"] = pool_size
        if max_overflow is not None:
            args["max_overflow"] = max_overflow
    if u.get_backend_name() == "sqlite":
        # how long a connection waits for another's write lock before "database is
        # locked" (the driver's default is 5 s; a busy live center queues longer)
        args["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S}
    try:
        engine = create_engine(u, **args)
    except sa_exc.NoSuchModuleError:
        raise DatabaseError(
            f"unknown database kind {u.drivername!r} in {_safe_url(u)} "
            "(expected e.g. sqlite:///callcenter.db or postgresql+psycopg://...)"
        ) from None
    except ImportError as e:
        raise DatabaseError(
            f"the driver for {u.drivername!r} is not installed ({e.name or e}); "
            f"cannot open {_safe_url(u)}"
        ) from None
    except sa_exc.ArgumentError as e:
        raise DatabaseError(f"cannot use database URL {_safe_url(u)}: {e}") from None
    if engine.dialect.name == "sqlite":
        _setup_sqlite(engine, wal=_sqlite_file(u) is not None)
    return engine


def _setup_sqlite(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cur = dbapi_conn.cursor()
        try:
            cur.execute("PRAGMA foreign_keys=ON")
            if wal:
                cur.execute("PRAGMA journal_mode=WAL")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A transaction that reads and then writes fails at once ("database is locked")
        # when another connection wrote in between (WAL snapshot); one that will write
        # asks for the write lock up front (BEGIN IMMEDIATE), waiting its turn instead.
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def open_engine(
    url: str | URL,
    *,
    create: bool = False,
    pool_size: int | None = None,
    max_overflow: int | None = None,
) -> Engine:
    """:func:`make_engine` plus a test connection, so a bad database fails here.

    With ``create=False`` a SQLite file that does not exist is an error (instead of
    silently creating an empty database).
    """
    u = parse_url(url)
    path = _sqlite_file(u)
    if path is not None and not create and not path.exists():
        raise DatabaseError(
            f"no database at {path} (create it with: callcenter db upgrade --database {u})"
        )
    if path is not None and not path.parent.exists():
        raise DatabaseError(f"cannot create database {path}: folder {path.parent} does not exist")
    engine = make_engine(u, pool_size=pool_size, max_overflow=max_overflow)
    with database_errors(u), engine.connect():
        pass
    return engine


@contextmanager
def database_errors(url: str | URL) -> Iterator[None]:
    """Turn driver / SQL errors into a one-line :class:`DatabaseError` naming the URL."""
    try:
        yield
    except sa_exc.DBAPIError as e:
        orig = str(e.orig).strip().splitlines()[0] if e.orig is not None else str(e)
        raise DatabaseError(f"database {_safe_url(parse_url(url))}: {orig}") from None
    except sa_exc.SQLAlchemyError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DatabaseError(f"database {_safe_url(parse_url(url))}: {first}") from None


# --------------------------------------------------------------------------- migrations


def alembic_config(connection: Connection | None = None, url: str | URL | None = None) -> Config:
    """An Alembic :class:`Config` built in code (no ``alembic.ini``).

    env.py uses ``connection`` when given, otherwise it connects to ``url``.
    """
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if url is not None:
        rendered = parse_url(url).render_as_string(hide_password=False)
        cfg.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest migration this build ships."""
    head = _scripts().get_current_head()
    assert head is not None, "no migrations shipped"
    return head


def current_revision(conn: Connection) -> str | None:
    """The migration the database is at (None: not created by callcenter yet)."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def upgrade(url: str | URL | Engine, revision: str = "head") -> str:
    """Create / upgrade the schema to ``revision`` in one transaction; return the revision."""
    from alembic import command

    engine = url if isinstance(url, Engine) else make_engine(url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(connection=conn), revision)
            rev = current_revision(conn)
    finally:
        if not isinstance(url, Engine):
            engine.dispose()
    assert rev is not None
    return rev


def require_current(conn: Connection) -> None:
    """Raise :class:`DatabaseError` unless the schema is at the head migration."""
    rev = current_revision(conn)
    head = head_revision()
    if rev == head:
        return
    where = _safe_url(conn.engine.url)
    hint = f"run: callcenter db upgrade --database {where}"
    if rev is None:
        raise DatabaseError(f"database {where} has no callcenter tables yet; {hint}")
    known = {s.revision for s in _scripts().walk_revisions()}
    if rev not in known:
        raise DatabaseError(
            f"database {where} is at schema revision {rev!r}, unknown to this version of "
            "callcenter (made by a newer one?)"
        )
    raise DatabaseError(f"database {where} is at schema revision {rev!r}, not {head!r}; {hint}")


__all__ = [
    "BATCH_SIZE",
    "HEADER_ONLY_FIELDS",
    "MIGRATIONS_DIR",
    "SQLITE_BUSY_TIMEOUT_S",
    "STORED_FIELDS",
    "WRITE_OPTION",
    "Base",
    "DatabaseError",
    "EventLog",
    "EventRow",
    "alembic_config",
    "current_revision",
    "database_errors",
    "event_logs_table",
    "events_table",
    "frame_schema",
    "head_revision",
    "make_engine",
    "open_engine",
    "require_current",
    "shown_url",
    "upgrade",
]
