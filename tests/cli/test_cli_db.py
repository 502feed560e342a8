"""``callcenter db ...`` end to end, through the real entry point in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from callcenter.events import Event, event_from_dict
from callcenter.storage.db import MIGRATIONS_DIR, make_engine
from callcenter.storage.event_store import EventStore
from callcenter.storage.jsonl import read_events, read_header, write_events

T0 = 1_714_550_400.0  # 2024-05-01T08:00:00Z


def _events() -> list[Event]:
    raw: list[dict[str, object]] = [{"t": T0, "type": "agent_login", "agent": "a1"}]
    for i in range(4):
        c, q, t = f"c{i}", ("sales" if i % 2 else "support"), T0 + 3600.0 * i + 0.125
        raw += [
            {"t": t, "type": "arrive", "contact": c, "channel": "voice", "queue": q},
            {"t": t, "type": "enqueue", "contact": c, "queue": q, "priority": 1},
            {
                "t": t + 1,
                "type": "connect",
                "contact": c,
                "queue": q,
                "agent": "a1",
                "wait": 1.0,
                "ring": 0.5,
            },
            {
                "t": t + 61,
                "type": "complete",
                "contact": c,
                "queue": q,
                "agent": "a1",
                "by": "agent",
                "talk": 60.0,
            },
        ]
    return [event_from_dict(r) for r in raw]


def run(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
    full_env.update(env or {})
    full_env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", "db", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def assert_user_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def count(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return EventStore(conn).count()
    finally:
        engine.dispose()


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cc.db'}"
    proc = run(tmp_path, "upgrade", "--database", url)
    assert proc.returncode == 0, proc.stderr
    newest = max(p.name[:4] for p in (MIGRATIONS_DIR / "versions").glob("[0-9]*.py"))
    assert f"revision {newest}" in proc.stdout  # the newest migration file shipped
    return url


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    write_events(path, _events(), source="sim")
    return path


def test_round_trip(tmp_path: Path, db: str, log: Path) -> None:
    proc = run(tmp_path, "load", str(log), "--database", db)
    assert proc.returncode == 0, proc.stderr
    n = len(_events())
    assert f"loaded {n} events" in proc.stdout
    assert count(db) == n
    out = tmp_path / "back.jsonl"
    proc = run(tmp_path, "export", str(out), "--database", db)
    assert proc.returncode == 0, proc.stderr
    assert f"exported {n} events" in proc.stdout
    assert list(read_events(out)) == _events()
    header = read_header(out)
    assert header.source == "db"
    assert not out.with_name(out.name + ".part").exists()


def test_export_time_range(tmp_path: Path, db: str, log: Path) -> None:
    assert run(tmp_path, "load", str(log), "--database", db).returncode == 0
    out = tmp_path / "range.jsonl"
    proc = run(
        tmp_path,
        "export",
        str(out),
        "--database",
        db,
        "--from",
        "2024-05-01T09:00:00Z",
        "--to",
        "2024-05-01T11:00:00+00:00",
    )
    assert proc.returncode == 0, proc.stderr
    want = [e for e in _events() if T0 + 3600 <= e.t < T0 + 3 * 3600]
    assert want and len(want) < len(_events())
    assert list(read_events(out)) == want
    assert read_header(out).t == want[0].t
    # naive times are UTC; --queue narrows further
    proc = run(
        tmp_path,
        "export",
        str(out),
        "--database",
        db,
        "--from",
        "2024-05-01T09:00",
        "--queue",
        "sales",
    )
    assert proc.returncode == 0, proc.stderr
    assert list(read_events(out)) == [
        e for e in _events() if e.t >= T0 + 3600 and e.queue == "sales"
    ]


def test_garbled_line_loads_nothing(tmp_path: Path, db: str, log: Path) -> None:
    assert run(tmp_path, "load", str(log), "--database", db).returncode == 0
    before = count(db)
    bad = tmp_path / "bad.jsonl"
    lines = log.read_text().splitlines(keepends=True)[:5]
    lines[2] = '{"t": 1714550400.0, "type": "arr\n'  # line 3 of 5 is cut off
    bad.write_text("".join(lines))
    proc = run(tmp_path, "load", str(bad), "--database", db)
    assert_user_error(proc, f"{bad}:3:", "not a JSON object")
    assert count(db) == before


def test_invalid_event_line_loads_nothing(tmp_path: Path, db: str, log: Path) -> None:
    lines = log.read_text().splitlines(keepends=True)
    lines[-1] = '{"t": 1714550400.0, "type": "complete", "contact": "c9"}\n'
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(lines))
    proc = run(tmp_path, "load", str(bad), "--database", db)
    assert_user_error(proc, f"{bad}:{len(lines)}:", "missing")
    assert count(db) == 0


def test_missing_file(tmp_path: Path, db: str) -> None:
    proc = run(tmp_path, "load", str(tmp_path / "nope.jsonl"), "--database", db)
    assert_user_error(proc, "nope.jsonl", "no such file")


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("not a url", "not a database URL"),
        ("nosuchdb://x/y", "unknown database kind"),
        ("postgresql://u:p@h:abc/x", "not a database URL"),  # a port that is no number
    ],
)
def test_bad_database_url(tmp_path: Path, log: Path, url: str, needle: str) -> None:
    for args in (["upgrade"], ["load", str(log)], ["export", str(tmp_path / "o.jsonl")]):
        proc = run(tmp_path, *args, "--database", url)
        assert_user_error(proc, needle)
    assert not (tmp_path / "o.jsonl").exists()


def test_database_folder_missing(tmp_path: Path) -> None:
    proc = run(tmp_path, "upgrade", "--database", f"sqlite:///{tmp_path / 'no' / 'cc.db'}")
    assert_user_error(proc, "does not exist")


def test_load_needs_an_existing_upgraded_database(tmp_path: Path, log: Path) -> None:
    target = tmp_path / "new.db"
    proc = run(tmp_path, "load", str(log), "--database", f"sqlite:///{target}")
    assert_user_error(proc, "no database at", "callcenter db upgrade")
    assert not target.exists()  # no empty database left behind
    target.touch()  # an empty (not upgraded) SQLite file
    proc = run(tmp_path, "load", str(log), "--database", f"sqlite:///{target}")
    assert_user_error(proc, "no callcenter tables", "callcenter db upgrade")


def test_bad_time_option(tmp_path: Path, db: str) -> None:
    out = tmp_path / "o.jsonl"
    proc = run(tmp_path, "export", str(out), "--database", db, "--from", "yesterday")
    assert_user_error(proc, "--from", "yesterday", "ISO 8601")
    proc = run(
        tmp_path,
        "export",
        str(out),
        "--database",
        db,
        "--from",
        "2024-05-02",
        "--to",
        "2024-05-01",
    )
    assert_user_error(proc, "before")
    assert not out.exists()


def test_export_into_missing_folder(tmp_path: Path, db: str) -> None:
    out = tmp_path / "missing" / "o.jsonl"
    proc = run(tmp_path, "export", str(out), "--database", db)
    assert_user_error(proc, "does not exist")
    assert not out.parent.exists()


def test_settings_and_default_database(tmp_path: Path, log: Path) -> None:
    # the default: callcenter.db in the current folder
    proc = run(tmp_path, "upgrade")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "callcenter.db").is_file()
    assert run(tmp_path, "load", str(log)).returncode == 0
    assert count(f"sqlite:///{tmp_path / 'callcenter.db'}") == len(_events())
    # CALLCENTER_DATABASE_URL points elsewhere
    other = tmp_path / "other.db"
    env = {"CALLCENTER_DATABASE_URL": f"sqlite:///{other}"}
    assert run(tmp_path, "upgrade", env=env).returncode == 0
    assert other.is_file()
    assert count(f"sqlite:///{other}") == 0
    # a bad setting is one line naming the variable
    proc = run(tmp_path, "upgrade", env={"CALLCENTER_DATABASE_URL": "garbage"})
    assert_user_error(proc, "CALLCENTER_DATABASE_URL", "garbage")


def test_help_lists_commands(tmp_path: Path) -> None:
    proc = run(tmp_path, "--help")
    assert proc.returncode == 0
    for name in ("upgrade", "load", "export"):
        assert name in proc.stdout


def test_load_with_progress_bar(
    tmp_path: Path, db: str, log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The progress-bar path (taken for big files on a terminal), run in-process."""
    from rich.console import Console
    from typer.testing import CliRunner

    import callcenter.cli.db as cli_db
    from callcenter.cli.app import app

    monkeypatch.setattr(cli_db, "PROGRESS_MIN_BYTES", 0)
    monkeypatch.setattr(cli_db, "_PROGRESS_STEP", 3)
    monkeypatch.setattr(cli_db, "err_console", Console(stderr=True, force_terminal=True))
    result = CliRunner().invoke(app, ["db", "load", str(log), "--database", db])
    assert result.exit_code == 0, result.output
    assert f"loaded {len(_events())} events" in result.output
    assert count(db) == len(_events())


def test_parquet_round_trip_through_the_database(tmp_path: Path, db: str, log: Path) -> None:
    """`db export X.parquet` writes Parquet (it wrote JSON Lines under that name), and
    `db load X.parquet` reads it: the same events as the hand-made log, in order."""
    import polars as pl

    from callcenter.storage.eventlog import FileLog

    assert run(tmp_path, "load", str(log), "--database", db).returncode == 0
    out = tmp_path / "all.parquet"
    proc = run(tmp_path, "export", str(out), "--database", db)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:4] == b"PAR1"  # the Parquet magic number
    assert pl.read_parquet(out).height == len(_events()) + 1  # + the header row
    assert list(FileLog(out).events()) == _events()
    other = f"sqlite:///{tmp_path / 'other.db'}"
    assert run(tmp_path, "upgrade", "--database", other).returncode == 0
    proc = run(tmp_path, "load", str(out), "--database", other)
    assert proc.returncode == 0, proc.stderr
    with make_engine(other).connect() as conn:
        assert list(EventStore(conn).iter_events()) == _events()
