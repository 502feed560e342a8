"""``callcenter user add``: the same password policy as the API (one function)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def user_add(tmp_path: Path, password: str) -> subprocess.CompletedProcess[str]:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    return subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", "user", "add", "zed", "--role", "qa",
         "--password", password, "--database", db],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("password", "password: one of the 30,000 most common passwords (zxcvbn's list); "
         "expected one that is not"),
        ("        ", "password: only spaces; expected letters, digits or signs"),
        ("aaaaaaaa", "password: one character repeated; expected a mix of characters"),
        ("short", "password: 5 characters; expected 8 to 1024 characters"),
    ],
)  # fmt: skip
def test_user_add_refuses_a_bad_password(tmp_path: Path, password: str, message: str) -> None:
    r = user_add(tmp_path, password)
    assert r.returncode == 2, r.stdout + r.stderr
    assert message in " ".join((r.stdout + r.stderr).split())
    assert not (tmp_path / "c.db").exists()  # refused before the database is opened


def test_user_add_accepts_a_good_password(tmp_path: Path) -> None:
    r = user_add(tmp_path, "Tall-Pine-88")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "added qa 'zed'" in r.stdout
