"""The Typer application object and shared CLI helpers.

Each command lives in its own module (``cli/<command>.py``) and registers itself on
:data:`app`; :mod:`callcenter.cli.main` imports them all. So that ``callcenter --help``
and small commands start quickly, a command module imports only Typer, Rich and small
modules at its top; what the command needs to run (data frames, SQL, the solver, the
simulator, the server…) is imported inside the command function
(``tests/cli/test_cli_startup.py`` checks it). Shared options: :mod:`callcenter.cli.options`.
"""

from __future__ import annotations

import sys
from enum import StrEnum

import typer
from rich.console import Console
from rich.markup import escape

app = typer.Typer(
    name="callcenter",
    help="An open-source call center: simulate, route, measure.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """An open-source call center: simulate, route, measure."""


# Piped output gets a wide page (Rich would assume 80 columns): reports stay readable in
# files and e-mails; a terminal keeps its own width.
console = Console(width=None if sys.stdout.isatty() else 120)
err_console = Console(stderr=True)


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one error line to stderr and return the Exit to raise."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def fit_columns(
    headers: list[str], rows: list[list[str]], width: int, drop_order: tuple[str, ...]
) -> list[int]:
    """Indexes of the columns to show so that a table fits ``width`` characters,
    dropping the columns named in ``drop_order`` (least important first) as needed."""
    # each column: its widest text, one space of padding and one of separator
    widths = [max(len(h), *(len(r[i]) for r in rows)) + 2 for i, h in enumerate(headers)]
    keep = list(range(len(headers)))
    for name in drop_order:
        if sum(widths[i] for i in keep) <= width:
            break
        if name in headers:
            keep.remove(headers.index(name))
    return keep


def write_stdout(text: str) -> None:
    sys.stdout.write(text)
    if not text.endswith("\n"):
        sys.stdout.write("\n")
