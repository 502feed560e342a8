"""Options shared by several commands, defined once, and the run's :class:`Settings`.

``--database URL`` means one thing everywhere it appears: the database of
:func:`callcenter.storage.database.open_database`, resolved one way: the option, else
the ``CALLCENTER_DATABASE_URL`` setting, else ``sqlite:///callcenter.db``
(:func:`load_settings`). Two commands give the same option another default, said in
their help: the importers load into a database only when given one
(:data:`ImportDatabase`), and ``demo`` keeps its own file (:data:`DemoDatabase`), never
the center's.

This module imports only Typer: the CLI builds every command's options without loading
what the commands need to run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Final

import typer

if TYPE_CHECKING:
    from callcenter.settings import Settings

DATABASE_HELP: Final = (
    "SQLAlchemy database URL (default: the CALLCENTER_DATABASE_URL setting, "
    "else sqlite:///callcenter.db)."
)

Database = Annotated[str | None, typer.Option("--database", metavar="URL", help=DATABASE_HELP)]
"""``--database URL``, for every command that opens the center's database."""

ImportDatabase = Annotated[
    str | None,
    typer.Option(
        "--database",
        metavar="URL",
        help="Also load the events into this database (SQLAlchemy URL; it must be at the "
        "current schema: callcenter db upgrade).",
    ),
]
"""``--database URL`` of the importers: no default, the events go to ``--out`` only."""

DemoDatabase = Annotated[
    str,
    typer.Option(
        "--database",
        metavar="URL",
        help="SQLAlchemy database URL of the demo center (a SQLite file is created).",
    ),
]
"""``--database URL`` of ``callcenter demo``: its own file, not the center's setting."""


def load_settings(*, database: str | None = None, **options: object) -> Settings:
    """The run's settings: ``CALLCENTER_*`` from the environment, with the command-line
    options that were given (not None) on top.

    A bad value is one line naming the option and the value (a bad environment
    variable: the variable).
    """
    from callcenter.settings import Settings

    overrides = {name: value for name, value in options.items() if value is not None}
    if database is not None:
        overrides["database_url"] = database
    names = {name: "--" + name.replace("_", "-") for name in overrides}
    names["database_url"] = "--database"
    return Settings.load(names=names, **overrides)


__all__ = [
    "DATABASE_HELP",
    "Database",
    "DemoDatabase",
    "ImportDatabase",
    "load_settings",
]
