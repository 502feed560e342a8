"""``callcenter db ...``: create/upgrade the event database, load logs into it, export them.

The database URL comes from ``--database`` or else the ``CALLCENTER_DATABASE_URL``
setting (default: ``sqlite:///callcenter.db`` in the current folder); the database is
opened by :mod:`callcenter.storage.database`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Final

import typer

from callcenter.cli.app import app, console, err_console
from callcenter.cli.options import Database, load_settings
from callcenter.errors import InputFileError, UserError
from callcenter.units import parse_time

if TYPE_CHECKING:
    from rich.progress import Progress

db_app = typer.Typer(
    name="db",
    help="The SQL event database: create/upgrade it, load event logs, export them.",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")

# Files smaller than this load without a progress bar.
PROGRESS_MIN_BYTES: Final = 8 << 20
_PROGRESS_STEP: Final = 10_000


class BadOptionError(UserError):
    """A command-line option with a value that cannot be used."""


def _progress(enabled: bool) -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not enabled,
    )


def _count_lines(path: Path) -> int:
    n = 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            n += chunk.count(b"\n")
    return n


@db_app.command("upgrade")
def upgrade_cmd(database: Database = None) -> None:
    """Create the database tables, or upgrade them to this version's schema."""
    from callcenter.storage.database import upgrade_database
    from callcenter.storage.db import shown_url

    settings = load_settings(database=database)
    rev = upgrade_database(settings)
    console.print(
        f"database {shown_url(settings.database_url)} is at schema revision {rev}",
        highlight=False,
        soft_wrap=True,
    )


@db_app.command("load")
def load_cmd(
    events: Path = typer.Argument(
        ..., metavar="EVENTS", help="Event log to load (JSON Lines, or Parquet by suffix)."
    ),
    database: Database = None,
    source: str | None = typer.Option(
        None,
        "--source",
        metavar="LABEL",
        help="Label stored with the events (default: the log header's source).",
    ),
) -> None:
    """Load an event log into the database: all of it in one transaction, or nothing."""
    from callcenter.storage.database import opened_database
    from callcenter.storage.db import database_errors, shown_url
    from callcenter.storage.eventlog import FileLog, append

    settings = load_settings(database=database)
    url = settings.database_url
    with (
        opened_database(settings, create=False) as engine,
        database_errors(url),
        engine.connect() as conn,
    ):
        log = FileLog(events)
        header = log.header()
        label = source or header.source or "unknown"
        try:
            size = events.stat().st_size
        except OSError as e:
            raise InputFileError(events, e.strerror or str(e)) from None
        show = size >= PROGRESS_MIN_BYTES and err_console.is_terminal
        with _progress(show) as bar:
            # 1. validate the whole file first (the line number of a bad line is reported)
            lines = _count_lines(events) if show and not log.parquet else None
            task = bar.add_task("checking", total=max((lines or 1) - 1, 0) if show else None)
            n_valid = 0
            for chunk in _batched(log.events()):
                n_valid += chunk
                bar.update(task, completed=n_valid)
            bar.remove_task(task)
            # 2. insert, in one transaction
            task = bar.add_task("loading", total=n_valid)
            n = append(
                conn,
                log.events(),
                source=label,
                path=str(events.resolve()),
                progress=lambda done: bar.update(task, completed=done),
            )
    console.print(
        f"loaded {n} events from {events} into {shown_url(url)}", highlight=False, soft_wrap=True
    )


def _batched(it: Iterator[object]) -> Iterator[int]:
    """Consume ``it``, yielding how many items went by every ``_PROGRESS_STEP``."""
    while True:
        n = sum(1 for _ in itertools.islice(it, _PROGRESS_STEP))
        if n == 0:
            return
        yield n


@db_app.command("export")
def export_cmd(
    out: Path = typer.Argument(
        ...,
        metavar="OUT",
        help="Event log to write (Parquet if OUT ends in .parquet, else JSON Lines).",
    ),
    database: Database = None,
    start: str | None = typer.Option(
        None,
        "--from",
        metavar="ISO",
        help="Start of the time range, inclusive (ISO 8601, UTC unless an offset is given; "
        "or epoch seconds).",
    ),
    end: str | None = typer.Option(
        None,
        "--to",
        metavar="ISO",
        help="End of the time range, exclusive (ISO 8601, UTC unless an offset is given; "
        "or epoch seconds).",
    ),
    queue: str | None = typer.Option(
        None, "--queue", metavar="QUEUE", help="Only events of this queue."
    ),
    agent: str | None = typer.Option(
        None, "--agent", metavar="AGENT", help="Only events of this agent."
    ),
) -> None:
    """Write the stored events (optionally a time range / queue / agent) as an event log."""
    from callcenter.storage.database import opened_database
    from callcenter.storage.db import database_errors, shown_url
    from callcenter.storage.eventlog import FileLog, iter_events

    t0 = parse_time(start, what="--from") if start is not None else None
    t1 = parse_time(end, what="--to") if end is not None else None
    if t0 is not None and t1 is not None and t1 < t0:
        raise BadOptionError(f"--to {end!r} is before --from {start!r}")
    if out.is_dir():
        raise InputFileError(out, "is a folder, expected an event log file name")
    settings = load_settings(database=database)
    url = settings.database_url
    with (
        opened_database(settings, create=False) as engine,
        database_errors(url),
        engine.connect() as conn,
    ):
        it = iter_events(conn, start=t0, end=t1, queue=queue, agent=agent)
        first = next(it, None)
        header_t = first.t if first is not None else (t0 if t0 is not None else 0.0)
        try:
            with FileLog(out).writer("db", start=header_t) as log:
                if first is not None:
                    log.write(first)
                    log.write_many(it)
                n = log.count
        except OSError as e:
            raise InputFileError(out, f"cannot write: {e.strerror or e}") from None
    console.print(
        f"exported {n} events from {shown_url(url)} to {out}", highlight=False, soft_wrap=True
    )


__all__ = ["BadOptionError", "db_app"]
