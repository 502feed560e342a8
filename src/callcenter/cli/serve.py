"""``callcenter serve``: the live center in one process (API, WebSocket, pages, routing).

``callcenter demo`` (``cli/demo.py``) starts the same server with demo users and drives
simulated customers and agents through its API.
"""

from __future__ import annotations

import gc
import socket
from typing import TYPE_CHECKING, Any, Final

import typer

from callcenter.cli.access_log import LOG_CONFIG
from callcenter.cli.app import app, console
from callcenter.cli.options import Database, load_settings
from callcenter.errors import UserError

if TYPE_CHECKING:
    from callcenter.settings import Settings

# uvicorn's options for the live center (``serve`` and ``demo``). Keep-alive: idle
# connections stay open 75 s (as nginx's default) rather than uvicorn's 5 s, so a
# client re-using one seldom races the server closing it. The log never shows a query's
# values (cli/access_log.py: personal searches, tokens).
UVICORN_OPTIONS: Final[dict[str, Any]] = {
    "log_config": LOG_CONFIG,
    "ws_ping_interval": 20,
    "ws_ping_timeout": 20,
    "timeout_graceful_shutdown": 5,
    "timeout_keep_alive": 75,
}


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's reading of ``X-Forwarded-For``: only from ``settings.trusted_proxies``
    (uvicorn's own default trusts it from 127.0.0.1, which would let anyone on the
    machine pick the address sign-in throttling counts by)."""
    trusted = settings.trusted_proxies.strip()
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted or None}


class PortError(UserError):
    """The address to listen on cannot be used."""


def check_port(host: str, port: int) -> None:
    """Fail with one line, before anything starts, if ``host:port`` cannot be listened on."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            sock.bind((host, port))
        except OSError as e:
            raise PortError(
                f"--port: cannot listen on {host}:{port} ({e.strerror}); pick another port"
            ) from None


def run_server(settings: Settings, *, log_level: str = "info") -> None:
    """Serve ``settings``' center with uvicorn until Ctrl-C / SIGTERM (the caller has
    checked the database with :func:`~callcenter.storage.database.open_database`)."""
    import uvicorn

    from callcenter.server.app import create_app

    served = create_app(settings)
    # What exists now (modules, tables, routes: tens of thousands of objects) lives as
    # long as the server: out of the cycle collector's sight (gc.freeze), so its full
    # passes stop walking it. Measured under 300 calls at 20/s: a 150 ms full pass in
    # the middle of the burst before, none after.
    gc.collect()
    gc.freeze()
    uvicorn.run(
        served,
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        **UVICORN_OPTIONS,
        **proxy_options(settings),
    )


@app.command()
def serve(
    database: Database = None,
    host: str | None = typer.Option(None, "--host", help="Address to listen on (127.0.0.1)."),
    port: int | None = typer.Option(None, "--port", help="Port to listen on (8000)."),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level."),
    voice: str | None = typer.Option(
        None,
        "--voice",
        help="Calls: off, embedded (our own Asterisk) or external (yours, over ARI).",
    ),
) -> None:
    """Start the live center: API, WebSocket push, pages and the routing engine."""
    from callcenter.storage.database import open_database
    from callcenter.storage.db import shown_url

    settings = load_settings(database=database, host=host, port=port, voice=voice)
    check_port(settings.host, settings.port)
    if settings.voice != "off":
        from callcenter.live.voice.service import check_voice

        check_voice(settings)  # a missing build or ARI setting: one line, before serving
    open_database(settings).dispose()  # a bad database fails here, as one line
    docs = "API docs at /docs" if settings.api_docs else "API docs off"
    if settings.voice != "off":
        docs += f"; voice {settings.voice}"
    console.print(
        f"callcenter serving on http://{settings.host}:{settings.port}  "
        f"({docs}; database {shown_url(settings.database_url)})",
        highlight=False,
        soft_wrap=True,
    )
    run_server(settings, log_level=log_level)
