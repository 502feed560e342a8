"""``callcenter demo``: the live center with demo users and simulated traffic, one command.

It creates (or reuses) ``callcenter-demo.db`` in the current folder, writes the demo
center into it (:func:`callcenter.live.demo.seed.seed_demo`), starts the server in this
process (uvicorn) and drives simulated customers and agents through the HTTP API
(:class:`callcenter.live.demo.driver.DemoDriver`).  Agent ``ann`` is left for a person.

Ctrl-C (or the end of ``--duration``) stops it cleanly: the simulated customers leave,
the simulated agents finish their after-contact work and log out, then the server
stops.  A second Ctrl-C stops at once (what is in flight is kept: the next start
replays it).
"""

from __future__ import annotations

import contextlib
import re
import signal
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final

import typer

from callcenter.cli.app import app, console
from callcenter.cli.options import DemoDatabase, load_settings
from callcenter.cli.serve import check_port
from callcenter.errors import UserError
from callcenter.units import parse_duration

if TYPE_CHECKING:
    import asyncio

    from callcenter.settings import Settings

DEFAULT_DATABASE: Final = "sqlite:///callcenter-demo.db"
STATUS_EVERY_S: Final = 15.0
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*(s|sec|min|m|h|hour))?\s*$", re.IGNORECASE)
_PER_MINUTE: Final = {"s": 60.0, "sec": 60.0, "min": 1.0, "m": 1.0, "h": 1 / 60, "hour": 1 / 60}


class DemoOptionError(UserError):
    """A ``callcenter demo`` option with a value that cannot be used."""


def parse_rate(text: str) -> float:
    """Chats per minute per simulated agent from ``2``, ``2/min``, ``0.05/s`` or ``90/h``."""
    m = _RATE.match(text)
    if m is None or float(m.group(1)) <= 0:
        raise DemoOptionError(
            f"--rate: {text!r} is not valid; expected a positive rate of chats per agent "
            "like 2, 2/min, 0.05/s or 90/h"
        )
    return float(m.group(1)) * _PER_MINUTE[(m.group(2) or "min").lower()]


def parse_demo_duration(text: str) -> float | None:
    """Seconds from ``--duration`` (``none``: until Ctrl-C)."""
    if text.strip().lower() in ("none", "0", ""):
        return None
    return parse_duration(text, what="--duration")


def _welcome(settings: Settings, agents: list[str], password: str) -> None:
    from rich.table import Table

    from callcenter.live.demo.seed import HUMAN_AGENT, STAFF
    from callcenter.storage.db import shown_url

    url = f"http://{settings.host}:{settings.port}"
    console.print(
        f"[bold]callcenter demo[/] on [link={url}]{url}[/link]  "
        f"(database {shown_url(settings.database_url)})",
        highlight=False,
        soft_wrap=True,
    )
    users = Table("user", "role", "", title=f"Users (password: {password})", title_justify="left")
    for name, (role, _display, team) in STAFF.items():
        note = "not simulated: sign in as her" if name == HUMAN_AGENT else ""
        users.add_row(name, role.value + (f", team {team}" if team else ""), note)
    users.add_row(", ".join(agents), "agent", "simulated by the demo")
    pages = Table("open", "for", title="What to open", title_justify="left")
    pages.add_row(
        f"{url}/agent", f"the agent desktop: sign in as {HUMAN_AGENT}, log in, take chats"
    )
    pages.add_row(f"{url}/chat?queue=support", "be a customer (also ?queue=sales)")
    pages.add_row(f"{url}/wallboard", "live queues and agents: sign in as sue or manager")
    pages.add_row(f"{url}/crm", "customers, contacts and transcripts")
    pages.add_row(f"{url}/reports", "KPIs of the day (manager)")
    pages.add_row(f"{url}/admin", "queues, skills, agents, hours (admin)")
    if settings.api_docs:
        pages.add_row(f"{url}/docs", "the API (OpenAPI; sign in first)")
    console.print(users)
    console.print(pages)
    console.print("Ctrl-C stops the demo.", style="dim")


@contextlib.contextmanager
def _signals(loop: asyncio.AbstractEventLoop, on_signal: object) -> Iterator[None]:
    sigs = (signal.SIGINT, signal.SIGTERM)
    for sig in sigs:
        loop.add_signal_handler(sig, on_signal)  # type: ignore[arg-type]
    try:
        yield
    finally:
        for sig in sigs:
            loop.remove_signal_handler(sig)


def _one_address(settings: Settings) -> Settings:
    """Every simulated customer comes from 127.0.0.1: the per-address chat limits (made
    for one customer's network) would refuse the demo's crowd, so they are lifted for it;
    the per-chat limits stay."""
    lifted = {"chat_starts_burst": 10_000, "chat_starts_per_minute": 1e5,
              "chat_address_messages_burst": 10_000, "chat_address_messages_per_minute": 1e5,
              "chat_sockets_per_address": 10_000}  # fmt: skip
    return settings.model_copy(update=lifted)


async def _run(
    settings: Settings, tokens: dict[str, str], rate: float, duration: float | None,
    seed: int | None, log_level: str,
) -> None:  # fmt: skip
    import asyncio

    import uvicorn

    from callcenter.cli.serve import UVICORN_OPTIONS, proxy_options
    from callcenter.live.demo.driver import DemoDriver, DemoOptions
    from callcenter.server.app import create_app

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:  # the demo stops it in its own order
            yield

    server = Server(
        uvicorn.Config(
            create_app(settings), host=settings.host, port=settings.port, log_level=log_level,
            **UVICORN_OPTIONS, **proxy_options(settings),
        )
    )  # fmt: skip
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            await serving  # raises what stopped it
            raise UserError("the server stopped while starting (see the log above)")
        await asyncio.sleep(0.05)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    driver = DemoDriver(
        f"http://127.0.0.1:{settings.port}", tokens, DemoOptions(rate_per_min=rate, seed=seed)
    )
    driving = asyncio.create_task(driver.run(stop))

    def on_signal() -> None:
        if stop.is_set():
            driving.cancel()  # a second Ctrl-C: stop at once
        else:
            console.print("stopping: customers leave, agents finish (Ctrl-C again: at once)")
            stop.set()

    async def report() -> None:
        while True:
            await asyncio.sleep(STATUS_EVERY_S)
            st = driver.stats
            console.print(
                f"{st.chats_started} chats started, {st.chats_abandoned} abandoned, "
                f"{st.messages} messages, {st.wrapups} wrapped up",
                style="dim", highlight=False,
            )  # fmt: skip

    reporter = asyncio.create_task(report())
    with _signals(loop, on_signal):
        if duration is not None:
            loop.call_later(duration, stop.set)
        with contextlib.suppress(asyncio.CancelledError):
            await driving
        reporter.cancel()
        server.should_exit = True
        await serving
    st = driver.stats
    console.print(
        f"demo stopped: {st.chats_started} chats, {st.chats_abandoned} abandoned, "
        f"{st.chats_rated} rated, {st.messages} messages, {st.wrapups} wrap-ups, "
        f"{st.refused} refused (races with ring timeouts), {st.errors} errors",
        highlight=False,
    )


@app.command()
def demo(
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    database: DemoDatabase = DEFAULT_DATABASE,
    agents: int = typer.Option(6, "--agents", help="Simulated agents (1-20); ann is extra."),
    rate: str = typer.Option(
        "2/min", "--rate", help="Chat arrivals per simulated agent: 2, 2/min, 0.05/s, 90/h."
    ),
    duration: str = typer.Option(
        "none", "--duration", help="Stop after this long (60, 10m, 1h); none: until Ctrl-C."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Random seed of the simulation."),
    log_level: str = typer.Option("warning", "--log-level", help="uvicorn log level."),
) -> None:
    """Run a demo center: demo users, queues and simulated customers and agents."""
    import asyncio

    from callcenter.live.demo.seed import (
        DEMO_PASSWORD,
        MAX_AGENTS,
        issue_tokens,
        revoke_tokens,
        seed_demo,
    )
    from callcenter.storage.database import open_database

    if not 1 <= agents <= MAX_AGENTS:
        raise DemoOptionError(f"--agents: {agents} is not valid; expected 1 to {MAX_AGENTS}")
    per_agent = parse_rate(rate)
    seconds = parse_demo_duration(duration)
    settings = _one_address(load_settings(database=database, host=host, port=port))
    check_port(settings.host, settings.port)
    db = open_database(settings)
    try:
        names = seed_demo(db, agents)
        tokens = issue_tokens(db, names)
    finally:
        db.dispose()
    _welcome(settings, names, DEMO_PASSWORD)
    try:
        asyncio.run(_run(settings, tokens, per_agent, seconds, seed, log_level))
    finally:
        db = open_database(settings)
        try:
            revoke_tokens(db, tokens.values())
        finally:
            db.dispose()
