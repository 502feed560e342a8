"""``callcenter voice ...``: the telephony side (``docs/voice.md``)."""

from __future__ import annotations

import typer

from callcenter.cli.app import app, console
from callcenter.cli.options import Database, load_settings
from callcenter.errors import UserError

voice_app = typer.Typer(
    name="voice",
    help="Calls: Asterisk, trunks, numbers and phones — check what is set up.",
    no_args_is_help=True,
)
app.add_typer(voice_app, name="voice")

_STYLE = {"ok": "green", "info": "cyan", "warn": "yellow", "fail": "bold red"}


@voice_app.command()
def doctor(
    database: Database = None,
    connect: bool = typer.Option(
        True,
        "--connect/--no-connect",
        help="Talk to Asterisk (external: ARI; embedded: start one briefly on free ports).",
    ),
) -> None:
    """Say what voice is configured to do, what answers and what is missing.

    Exit status 1 when a check fails.
    """
    from rich.table import Table
    from sqlalchemy.orm import Session

    from callcenter.live.voice.config import extra_files
    from callcenter.live.voice.doctor import Check, Verdict, diagnose, table_checks
    from callcenter.live.voice.setup import pjsip_options
    from callcenter.storage.database import open_database

    settings = load_settings(database=database)
    try:
        db = open_database(settings, create=False)
    except UserError as e:  # no database yet: the rest still says what it can
        checks = diagnose(settings, connect=connect)
        checks.append(Check("database", Verdict.WARN, str(e)))
    else:
        try:

            def tables() -> list[Check]:
                with Session(db) as s:
                    return table_checks(s, settings)

            def files() -> dict[str, str]:
                with Session(db) as s:
                    return extra_files(s, pjsip_options(settings))

            checks = diagnose(settings, config_checks=tables, config_text=files, connect=connect)
        finally:
            db.dispose()
    table = Table(show_header=True, header_style="bold")
    table.add_column("check")
    table.add_column("", no_wrap=True)
    table.add_column("detail", overflow="fold")
    for c in checks:
        table.add_row(c.name, f"[{_STYLE[c.verdict.value]}]{c.verdict.value}[/]", c.detail)
    console.print(table)
    if any(c.verdict is Verdict.FAIL for c in checks):
        raise typer.Exit(1)
