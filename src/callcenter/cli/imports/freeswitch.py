"""``callcenter import freeswitch``: FreeSWITCH mod_callcenter history as events.

    callcenter import freeswitch cc-events.json --out day.jsonl
    callcenter import freeswitch cdr/*.cdr.json --format json-cdr --out day.jsonl
    callcenter import freeswitch Master.csv --format csv-cdr --template \\
        '"${uuid}","${caller_id_number}","${cc_queue}",...' --database sqlite:///cc.db

Formats and mapping: docs/import-freeswitch-csv.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from callcenter.cli.app import OutputFormat
from callcenter.cli.imports import check_outputs, finish, import_app
from callcenter.cli.options import ImportDatabase
from callcenter.errors import UserError
from callcenter.imports.freeswitch import FsFormat


@import_app.command("freeswitch")
def import_freeswitch_command(
    files: Annotated[
        list[Path], typer.Argument(help="ESL JSON event logs, JSON CDRs or CSV CDRs.")
    ],
    fmt: Annotated[
        FsFormat | None,
        typer.Option(
            "--format", help="events, json-cdr or csv-cdr (default: guessed from the first file)."
        ),
    ] = None,
    template: Annotated[
        str | None,
        typer.Option(
            "--template",
            help="csv-cdr without a header row: the mod_cdr_csv template that wrote it.",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Event log to write (.jsonl or .parquet).")
    ] = None,
    database: ImportDatabase = None,
    summary: Annotated[
        OutputFormat, typer.Option("--summary", help="Summary as a table or json.")
    ] = OutputFormat.TABLE,
) -> None:
    """Import FreeSWITCH mod_callcenter events or call-center CDRs as the project's events."""
    from callcenter.imports.freeswitch import import_freeswitch

    check_outputs(out, database)
    if summary is OutputFormat.CSV:
        raise UserError("--summary: the import summary is a table or json")
    if template is not None and fmt not in (None, FsFormat.CSV_CDR):
        raise UserError("--template goes with --format csv-cdr")
    events, stats = import_freeswitch(files, fmt, template)
    finish(events, stats, out, database, summary)
