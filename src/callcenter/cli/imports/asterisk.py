"""``callcenter import asterisk``: an Asterisk queue_log (+ CDR, recordings) as events.

    callcenter import asterisk --queue-log /var/log/asterisk/queue_log --out day.jsonl
    callcenter import asterisk --queue-log queue_log --cdr Master.csv --recordings /rec \\
        --out day.jsonl --database sqlite:///cc.db
    callcenter import asterisk --queue-log /var/log/asterisk/queue_log --follow --out live.jsonl

Rules and mapping: docs/import-asterisk.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from callcenter.cli.app import OutputFormat, console
from callcenter.cli.imports import check_outputs, finish, import_app
from callcenter.cli.options import ImportDatabase
from callcenter.errors import InputFileError, UserError

if TYPE_CHECKING:
    from callcenter.events import Event
    from callcenter.imports.asterisk import QueueLogMapper
    from callcenter.storage.eventlog import DatabaseLog, FileLog


@import_app.command("asterisk")
def import_asterisk(
    queue_log: Annotated[
        Path, typer.Option("--queue-log", help="Asterisk queue_log file (epoch|callid|…).")
    ],
    cdr: Annotated[
        Path | None,
        typer.Option("--cdr", help="CDR CSV (Master.csv): fills missing caller numbers."),
    ] = None,
    recordings: Annotated[
        Path | None,
        typer.Option("--recordings", help="Folder of recordings named with the call's uniqueid."),
    ] = None,
    recordings_csv: Annotated[
        Path | None,
        typer.Option(
            "--recordings-csv",
            help="Where the recordings' metadata CSV goes (default <out>.recordings.csv).",
        ),
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", help="Keep reading the live file (Ctrl-C stops).")
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Event log to write (.jsonl or .parquet).")
    ] = None,
    database: ImportDatabase = None,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="Summary as a table or json.")
    ] = OutputFormat.TABLE,
) -> None:
    """Import an Asterisk queue_log as the project's events."""
    from callcenter.imports.asterisk import extras
    from callcenter.imports.asterisk.columnar import import_queue_log_columnar

    check_outputs(out, database)
    if fmt is OutputFormat.CSV:
        raise UserError("--format: the import summary is a table or json")
    if recordings is not None:
        if not recordings.is_dir():
            raise InputFileError(recordings, "no such recordings folder")
        if recordings_csv is None:
            if out is None:
                raise UserError("--recordings needs --out or --recordings-csv FILE")
            recordings_csv = out.with_name(out.name + ".recordings.csv")
    if follow:
        if cdr is not None or recordings is not None:
            raise UserError("--follow works on the queue_log alone (no --cdr, --recordings)")
        _follow(queue_log, out, database, fmt)
        return
    callers = extras.load_cdr_callers(cdr) if cdr is not None else None
    result = import_queue_log_columnar(queue_log)
    if callers is not None:
        filled = result.fill_callers(callers)
        result.stats.notes.append(f"caller number from the CDR on {filled:,} call(s)")
    matches: list[extras.RecordingMatch] = []
    if recordings is not None:
        matches, unmatched = extras.find_recordings(recordings, result.contacts())
        result.stats.notes.append(
            f"{len(matches):,} recording(s) matched to calls, {unmatched:,} not matched"
        )
    finish(result.events, result.stats, out, database, fmt)
    if recordings_csv is not None:
        calls = result.call_info({m.uniqueid for m in matches})
        extras.write_recordings_csv(recordings_csv, matches, calls)
        if fmt is OutputFormat.TABLE:
            console.print(f"recordings metadata → {recordings_csv}", highlight=False)


def _follow(path: Path, out: Path | None, database: str | None, fmt: OutputFormat) -> None:
    from callcenter.imports.asterisk import SOURCE, QueueLogMapper
    from callcenter.imports.asterisk.follow import follow_queue_log
    from callcenter.imports.common import ImportStats

    if out is not None and out.suffix.lower() != ".jsonl":
        raise UserError(f"--out {out}: --follow appends to a .jsonl event log")
    if not path.is_file():
        raise InputFileError(path, "no such file")
    sink = FollowSink(out, database)
    mapper = QueueLogMapper(ImportStats(source=SOURCE, path=str(path)))
    if fmt is OutputFormat.TABLE:
        console.print(f"following {path} (Ctrl-C stops)", highlight=False)
    try:
        follow_queue_log(path, sink.write, mapper=mapper)
    except KeyboardInterrupt:
        pass
    finally:
        sink.close()
    _report_follow(mapper, sink, fmt)


def _report_follow(mapper: QueueLogMapper, sink: FollowSink, fmt: OutputFormat) -> None:
    import json

    from callcenter.cli.app import write_stdout

    mapper.finish()
    stats = mapper.stats
    stats.events = sink.count
    if fmt is OutputFormat.JSON:
        write_stdout(json.dumps(stats.to_dict(), indent=1))
    else:
        console.print(f"stopped: {sink.count:,} events from {stats.lines:,} lines", highlight=False)
        for note in stats.notes:
            console.print(note, highlight=False)
        if stats.duplicates:
            console.print(f"skipped {stats.duplicates:,} duplicate lines", highlight=False)
        if stats.bad:
            shown = ", ".join(f"line {n}: {r}" for n, r in stats.bad_lines)
            console.print(f"{stats.bad:,} line(s) could not be read ({shown})", highlight=False)


class FollowSink:
    """Appends each batch to a JSONL event log and/or the database."""

    def __init__(self, out: Path | None, database: str | None) -> None:
        from callcenter.imports.asterisk import SOURCE
        from callcenter.storage.eventlog import DatabaseLog, FileLog

        self.count = 0
        self.out = out
        self.database = database
        self._log: FileLog | None = None
        self._db: DatabaseLog | None = None
        if out is not None:
            self._log = FileLog(out)
            self._log.append([], SOURCE)  # a new log gets its header; an old one is checked
        if database is not None:
            from callcenter.cli.options import load_settings
            from callcenter.storage.database import open_database

            settings = load_settings(database=database)
            self._db = DatabaseLog(database, open_database(settings, create=False))

    def write(self, events: list[Event]) -> None:
        from callcenter.imports.asterisk import SOURCE

        if self._log is not None:
            self._log.append(events, SOURCE)
        if self._db is not None:
            self._db.append(events, SOURCE)
        self.count += len(events)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
