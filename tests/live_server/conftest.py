"""Tests of a real ``callcenter serve`` process through its restarts, on SQLite and on a
real PostgreSQL (``postgres_url`` from ``tests/support/fixtures.py``, loaded for the
whole suite by ``tests/conftest.py``)."""

from __future__ import annotations

import datetime as dt
from typing import Final

import pytest

MIDNIGHT_MARGIN_S: Final = 180.0


@pytest.fixture(autouse=True)
def same_utc_day() -> None:
    """Skip a test that could cross UTC midnight: the wallboard's counters are per UTC day
    ("offered today"), and the tests compare them before and after a restart."""
    now = dt.datetime.now(dt.UTC)
    midnight = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    if (midnight - now).total_seconds() < MIDNIGHT_MARGIN_S:
        pytest.skip("too close to UTC midnight for the wallboard's daily counters")
