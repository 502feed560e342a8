"""``callcenter user add`` and ``user token`` through the real entry point: each change
is in the audit log, for the operating-system user running the command (role ``cli``)."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.storage.db import make_engine
from callcenter.storage.tables import AuditRow


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
    return subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", "user", *args],
        cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


def test_user_add_and_token_are_recorded_for_the_os_user(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'center.db'}"
    added = _cli(tmp_path, "add", "nia", "--role", "agent", "--password",
                 "a-long-secret-9", "--database", url)  # fmt: skip
    assert added.returncode == 0, added.stderr
    token = _cli(tmp_path, "token", "nia", "--name", "robot", "--database", url)
    assert token.returncode == 0, token.stderr
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            rows = s.scalars(select(AuditRow).order_by(AuditRow.id)).all()
    finally:
        engine.dispose()
    assert [(r.action, r.entity) for r in rows] == [
        ("user.create", "user"),
        ("agent.create", "agent"),
        ("token.create", "token"),
    ]
    assert {(r.username, r.role, r.user_id, r.address) for r in rows} == {
        (getpass.getuser(), "cli", None, None)
    }
    assert rows[0].changes["username"] == [None, "nia"]
    assert rows[0].changes["password_hash"] == ["(hidden)", "(changed)"]
    assert rows[2].changes == {"name": [None, "robot"], "user": [None, "nia"]}
    assert token.stdout.strip() not in str([r.changes for r in rows])
