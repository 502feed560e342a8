"""Entry point of the ``callcenter`` console script."""

from __future__ import annotations

import sys

from rich.markup import escape

from callcenter.cli.app import app, err_console
from callcenter.errors import UserError


def _register() -> None:
    # Importing a command module registers its commands on `app`.
    import importlib

    for name in (
        "simulate",
        "kpi",
        "erlang",
        "analyze",
        "report",
        "imports",
        "imports.asterisk",
        "imports.freeswitch",
        "imports.csv",
        "callers",
        "forecast",
        "staff",
        "schedule",
        "adherence",
        "convert",
        "db",
        "serve",
        "demo",
        "user",
        "voice",
        "ivr",
    ):  # order of `--help`
        try:
            importlib.import_module(f"callcenter.cli.{name}")
        except ModuleNotFoundError as e:  # a command module not written yet
            if e.name != f"callcenter.cli.{name}":
                raise


def main() -> None:
    _register()
    try:
        app()
    except UserError as e:
        err_console.print(f"[bold red]error:[/] {escape(str(e))}", highlight=False, soft_wrap=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]")
        sys.exit(130)


if __name__ == "__main__":
    main()
