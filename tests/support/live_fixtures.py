"""Fixtures for tests of the live server (import them in a folder's conftest.py).

``live_server``
    a running ``callcenter serve`` on a fresh SQLite database seeded with the standard
    test center (:mod:`tests.support.seed`: users of every role, teams blue/green,
    queues support/sales, dispositions, pause reasons); stopped after the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.seed import seed
from tests.support.server import LiveServer


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    db_url = f"sqlite:///{tmp_path / 'center.db'}"
    seed(db_url)
    server = LiveServer(db_url=db_url, workdir=tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


__all__ = ["live_server"]
