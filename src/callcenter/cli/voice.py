"""``callcenter voice ...``: the telephony side (``docs/voice.md``)."""

from __future__ import annotations

import typer

from callcenter.cli.app import app, console
from callcenter.cli.options import Database, load_settings

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

    from callcenter.live.voice.doctor import Verdict, diagnose

    settings = load_settings(database=database)
    checks = diagnose(settings, connect=connect)
    table = Table(show_header=True, header_style="bold")
    table.add_column("check")
    table.add_column("", no_wrap=True)
    table.add_column("detail", overflow="fold")
    for c in checks:
        table.add_row(c.name, f"[{_STYLE[c.verdict.value]}]{c.verdict.value}[/]", c.detail)
    console.print(table)
    if any(c.verdict is Verdict.FAIL for c in checks):
        raise typer.Exit(1)
