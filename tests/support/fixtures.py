"""Pytest fixtures for the live-server tests: a real PostgreSQL and a real Chromium.

Loaded for the whole suite by ``pytest_plugins`` in ``tests/conftest.py``, so tests just
name them as arguments, nothing to import:

``postgres_server`` (session)
    a :class:`~tests.support.postgres.PostgresServer` running for the whole session
    (one per xdist worker), started on first use.
``postgres_url`` (function)
    SQLAlchemy URL (``postgresql+psycopg://...``) of a fresh, empty database, dropped
    after the test.
``chromium_browser`` (session)
    a Playwright sync-API ``Browser``: Debian's Chromium, headless, no sandbox.
``page`` (function)
    a new Playwright ``Page`` in its own browser context (fresh cookies and storage),
    default timeout 10 s; the context is closed after the test.

With xdist each worker process has its own session, so its own server (own directory,
own port) and its own browser.

Playwright's sync API and asyncio
---------------------------------
While Playwright's sync API is started, it leaves its event loop registered as the
thread's *running* loop between calls (by design: ``wait_for_future`` in
``playwright/_impl/_greenlets.py``).  Left alone, every later test in the same xdist
worker that runs an event loop (``asyncio.run``, pytest-asyncio, anyio, ...) would fail
with "cannot be called from a running event loop", and which tests those are would
depend on xdist's scheduling.  So for the tests that do not use the browser, the hooks
below unregister that loop during set-up, call and teardown, and register it again
afterwards.  A test that uses the browser cannot also run an asyncio loop in the main
thread (use Playwright's async API there); running a server in a thread is fine.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
from collections.abc import Generator, Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.browser import DEFAULT_TIMEOUT_MS, launch_chromium
from tests.support.postgres import PostgresServer, start_postgres

__all__ = ["chromium_browser", "page", "postgres_server", "postgres_url"]

_db_numbers = itertools.count(1)
# The event loop of the running sync Playwright (this worker's ``chromium_browser``).
_playwright_loop: asyncio.AbstractEventLoop | None = None


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """A PostgreSQL server for this session (this xdist worker), stopped at its end."""
    server = start_postgres(tmp_path_factory.mktemp("postgres"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """SQLAlchemy URL of a new empty database, named after the test, dropped afterwards.

    Dropping disconnects leftover connections (``WITH (FORCE)``), but a test should still
    ``dispose()`` its engines.
    """
    slug = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower()).strip("_")
    name = f"t{next(_db_numbers)}_{slug}"[:63].rstrip("_")
    url = postgres_server.create_database(name)
    try:
        yield url
    finally:
        postgres_server.drop_database(name)


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Browser]:
    """Debian's Chromium under Playwright (sync API), for this session (xdist worker)."""
    global _playwright_loop
    with sync_playwright() as playwright:
        _playwright_loop = asyncio._get_running_loop()
        try:
            browser = launch_chromium(playwright)
            try:
                yield browser
            finally:
                # Teardown may come in a test that hid the loop (see the hooks below).
                asyncio._set_running_loop(_playwright_loop)
                browser.close()
        finally:
            _playwright_loop = None


@pytest.fixture
def page(chromium_browser: Browser) -> Iterator[Page]:
    """A fresh page in its own browser context, default timeout 10 s."""
    context = chromium_browser.new_context()
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@contextlib.contextmanager
def _playwright_loop_hidden(item: pytest.Item) -> Iterator[None]:
    """Unregister Playwright's loop as the running loop while ``item`` runs a phase.

    Only for tests that do not use the browser; see the module docstring.
    """
    loop = _playwright_loop
    uses_browser = "chromium_browser" in getattr(item, "fixturenames", ())
    if loop is None or uses_browser or asyncio._get_running_loop() is not loop:
        yield
        return
    asyncio._set_running_loop(None)
    try:
        yield
    finally:
        # Unless the browser was closed meanwhile (session teardown), Playwright needs
        # its loop registered again for its next call.
        if _playwright_loop is loop and asyncio._get_running_loop() is None:
            asyncio._set_running_loop(loop)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, object, object]:
    with _playwright_loop_hidden(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    with _playwright_loop_hidden(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    with _playwright_loop_hidden(item):
        return (yield)
