"""``python -m tests.support.sqlite_cap serve ...``: ``callcenter`` with a cap on its SQLite
database's size that a test moves while the server runs, to fill the database for real.

SQLite's ``PRAGMA max_page_count`` holds per connection, so it cannot be set from the
test's own connection: here every connection the server takes from its pool first reads
the cap from the file named by ``CC_TEST_SQLITE_CAP_FILE`` — a page count (the database
cannot grow past it: a write that needs a new page fails with SQLITE_FULL, "database or
disk is full", as on a full disk) or nothing (no cap) — and applies it.
"""

from __future__ import annotations

import os
import runpy
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.pool import Pool

NO_CAP = 1_073_741_823  # SQLite's historical default maximum page count


def _cap() -> int:
    path = os.environ.get("CC_TEST_SQLITE_CAP_FILE")
    text = Path(path).read_text().strip() if path and Path(path).exists() else ""
    return int(text) if text else NO_CAP


@event.listens_for(Pool, "checkout")
def _apply_cap(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.execute(f"PRAGMA max_page_count = {_cap()}")


if __name__ == "__main__":
    runpy.run_module("callcenter.cli.main", run_name="__main__", alter_sys=True)
