"""``callcenter user add|token|list``: people who sign in to the live center."""

from __future__ import annotations

import time

import typer

from callcenter.cli.app import app, console, write_stdout
from callcenter.cli.options import Database, load_settings
from callcenter.errors import UserError

user_app = typer.Typer(name="user", help="Users of the live center.", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("add")
def add(
    username: str = typer.Argument(..., help="Sign-in name (lower case)."),
    role: str = typer.Option(..., "--role", help="admin, manager, supervisor, qa or agent."),
    password: str | None = typer.Option(
        None,
        "--password",
        help="Password (at least 8 characters); default: the CALLCENTER_PASSWORD "
        "environment variable, else asked for.",
    ),
    name: str = typer.Option("", "--name", help="Display name."),
    email: str | None = typer.Option(None, "--email", help="E-mail address."),
    database: Database = None,
) -> None:
    """Add a user with a role (an agent also gets an agent profile to route to)."""
    from sqlalchemy.orm import Session

    from callcenter.auth.passwords import check_password_rules
    from callcenter.auth.service import create_user, parse_role
    from callcenter.storage.audit import Actor, track
    from callcenter.storage.database import open_database

    r = parse_role(role)
    settings = load_settings(database=database)
    if password is None:
        if settings.password is not None:
            password = settings.password.get_secret_value()
        else:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    check_password_rules(password)
    engine = open_database(settings)
    try:
        # recorded in the audit log for the operating-system user running the command
        with Session(engine) as s, s.begin(), track(s, Actor.cli()):
            user = create_user(
                s, username, password, r, now=time.time(), display_name=name, email=email
            )
            uid = user.id
    finally:
        engine.dispose()
    console.print(f"added {r.value} {username!r} (id {uid})", highlight=False)


@user_app.command("token")
def token(
    username: str = typer.Argument(..., help="Whose token."),
    name: str = typer.Option("cli", "--name", help="What the token is for."),
    database: Database = None,
) -> None:
    """Create an API token for a user and print it (shown once)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from callcenter.auth.service import create_token
    from callcenter.storage.audit import Actor, AuditAction, record
    from callcenter.storage.database import open_database
    from callcenter.storage.tables import User

    engine = open_database(load_settings(database=database))
    try:
        with Session(engine) as s, s.begin():
            user = s.scalar(select(User).where(User.username == username))
            if user is None:
                raise UserError(f"no user {username!r} (add one with: callcenter user add)")
            row, secret = create_token(s, user, name, now=time.time())
            record(s, Actor.cli(), AuditAction.TOKEN_CREATE, "token", row.id, {},
                   {"user": username, "name": row.name})  # fmt: skip
    finally:
        engine.dispose()
    write_stdout(secret)


@user_app.command("list")
def list_users(database: Database = None) -> None:
    """Users with their roles."""
    from rich.table import Table
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from callcenter.storage.database import open_database
    from callcenter.storage.tables import User

    engine = open_database(load_settings(database=database))
    try:
        with Session(engine) as s:
            rows = s.execute(
                select(User.username, User.role, User.display_name, User.active).order_by(User.id)
            ).all()
    finally:
        engine.dispose()
    table = Table("username", "role", "name", "active")
    for u, r, n, a in rows:
        table.add_row(u, r, n, "yes" if a else "no")
    console.print(table)
