"""``callcenter import asterisk|freeswitch|csv``: a PBX's history as the project's events.

The subcommands live in ``cli/imports/<source>.py`` and register on :data:`import_app`;
they all end with :func:`finish`, which writes the events (sorted by time) to an event
log (``--out``, JSON Lines or Parquet by suffix) and/or the database (``--database``),
the unmapped raw lines beside the log, and prints the summary.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from callcenter.cli.app import OutputFormat, app, console, err_console, write_stdout
from callcenter.cli.options import load_settings
from callcenter.errors import UserError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    import polars as pl

    from callcenter.events import Event
    from callcenter.imports.common import ImportStats

import_app = typer.Typer(
    name="import",
    help="Import a PBX's history (Asterisk, FreeSWITCH, any CDR CSV) as events.",
    no_args_is_help=True,
)
app.add_typer(import_app, name="import")


def check_outputs(out: Path | None, database: str | None) -> None:
    if out is None and database is None:
        raise UserError("give --out LOG (.jsonl or .parquet) and/or --database URL")
    if out is not None:
        if out.suffix.lower() not in (".jsonl", ".parquet"):
            raise UserError(f"--out {out}: expected a .jsonl or .parquet file name")
        if not out.parent.exists():
            raise UserError(f"--out {out}: folder {out.parent} does not exist")


def frame_events(frame: pl.DataFrame) -> Iterator[Event]:
    """The rows of an ``EVENT_SCHEMA`` frame as events (for the database)."""
    from callcenter.events import event_from_dict

    for chunk in frame.iter_slices(100_000):
        for row in chunk.iter_rows(named=True):
            yield event_from_dict({k: v for k, v in row.items() if v is not None})


def finish(
    events: list[Event] | pl.DataFrame,
    stats: ImportStats,
    out: Path | None,
    database: str | None,
    fmt: OutputFormat = OutputFormat.TABLE,
) -> None:
    """Write ``events`` (already in time order; objects or an ``EVENT_SCHEMA`` frame) and
    report the import."""
    from callcenter.imports.common import write_unmapped
    from callcenter.storage.eventlog import FileLog

    frame = None if isinstance(events, list) else events
    objects: Iterable[Event] = events if isinstance(events, list) else frame_events(events)
    if out is not None and frame is not None:
        from callcenter.storage.eventlog import write_event_frame

        write_event_frame(frame, out, stats.source)
        write_unmapped(out, stats)
    elif out is not None:
        FileLog(out).write(objects, stats.source)  # Parquet by suffix, else JSON Lines
        write_unmapped(out, stats)
    if database is not None:
        from callcenter.storage.database import opened_database
        from callcenter.storage.db import database_errors
        from callcenter.storage.eventlog import append

        settings = load_settings(database=database)
        with (
            opened_database(settings, create=False) as engine,
            database_errors(database),
            engine.connect() as conn,
        ):
            append(conn, objects, stats.source, path=stats.path or None)
    stats.events = len(events)
    if fmt is OutputFormat.JSON:
        write_stdout(json.dumps(stats.to_dict(), indent=1))
        return
    console.print(
        f"imported {stats.events:,} events from {stats.lines:,} lines of {escape(stats.path)}"
        + (f" → {escape(str(out))}" if out is not None else "")
        + (" and the database" if database is not None else ""),
        highlight=False,
    )
    if stats.duplicates:
        console.print(f"skipped {stats.duplicates:,} duplicate lines", highlight=False)
    if stats.unmapped_events:
        kinds = ", ".join(f"{k} ×{v}" for k, v in sorted(stats.unmapped_events.items()))
        where = f" (kept raw in {out.name}.unmapped.jsonl)" if out is not None else ""
        console.print(f"kept raw, not mapped: {escape(kinds)}{where}", highlight=False)
    for note in stats.notes:
        console.print(escape(note), highlight=False)
    if stats.bad:
        shown = ", ".join(f"line {n}: {escape(r)}" for n, r in stats.bad_lines)
        err_console.print(
            f"[yellow]{stats.bad:,} line{'s' if stats.bad != 1 else ''} could not be read[/] "
            f"({shown}{', …' if stats.bad > len(stats.bad_lines) else ''})",
            highlight=False,
        )
