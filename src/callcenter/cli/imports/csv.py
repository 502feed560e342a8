"""``callcenter import csv CDR.csv --mapping MAP.yaml``: any CDR export as events.

The mapping (YAML) names the CDR's columns and what its dispositions mean; see
docs/import-freeswitch-csv.md and examples/cdr-mapping.yaml.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from callcenter.cli.app import OutputFormat
from callcenter.cli.imports import check_outputs, finish, import_app
from callcenter.cli.options import ImportDatabase
from callcenter.errors import UserError


@import_app.command("csv")
def import_csv_command(
    cdr: Annotated[Path, typer.Argument(help="The CDR export (CSV).")],
    mapping: Annotated[
        Path, typer.Option("--mapping", "-m", help="YAML mapping of the CDR's columns.")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Event log to write (.jsonl or .parquet).")
    ] = None,
    database: ImportDatabase = None,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="Summary as a table or json.")
    ] = OutputFormat.TABLE,
) -> None:
    """Import any CDR export (CSV) through a YAML mapping of its columns."""
    from callcenter.imports.csv_map import import_csv, load_mapping

    check_outputs(out, database)
    if fmt is OutputFormat.CSV:
        raise UserError("--format: the import summary is a table or json")
    events, stats = import_csv(cdr, load_mapping(mapping))
    finish(events, stats, out, database, fmt)
