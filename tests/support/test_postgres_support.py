"""The PostgreSQL test server: real server, fresh databases, loopback only, dies with us."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.postgres import PostgresServer, find_postgres_bindir

REPO = Path(__file__).resolve().parents[2]


def _roundtrip(url: str, rows: list[tuple[int, str]]) -> list[tuple[int, str]]:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE calls (id integer PRIMARY KEY, queue text)"))
            conn.execute(
                sa.text("INSERT INTO calls VALUES (:id, :queue)"),
                [{"id": i, "queue": q} for i, q in rows],
            )
        with engine.connect() as conn:
            result = conn.execute(sa.text("SELECT id, queue FROM calls ORDER BY id"))
            return [(int(r.id), str(r.queue)) for r in result]
    finally:
        engine.dispose()


def test_two_databases_hold_separate_data(postgres_server: PostgresServer) -> None:
    sales = postgres_server.create_database("support_sales")
    billing = postgres_server.create_database("support_billing")
    try:
        assert sales.startswith("postgresql+psycopg://postgres@127.0.0.1:")
        assert sales.endswith("/support_sales")
        assert _roundtrip(sales, [(1, "sales"), (2, "sales-vip")]) == [
            (1, "sales"),
            (2, "sales-vip"),
        ]
        # Same table name in the other database: independent.
        assert _roundtrip(billing, [(7, "billing")]) == [(7, "billing")]
    finally:
        postgres_server.drop_database("support_sales")
        postgres_server.drop_database("support_billing")


def test_bad_database_name_is_refused(postgres_server: PostgresServer) -> None:
    with pytest.raises(ValueError, match="plain identifier"):
        postgres_server.create_database('x"; DROP DATABASE postgres; --')


def test_postgres_url_is_a_fresh_empty_database(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            name = conn.execute(sa.text("SELECT current_database()")).scalar_one()
            tables = conn.execute(
                sa.text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            ).scalar_one()
    finally:
        engine.dispose()
    assert name != "postgres"
    assert postgres_url.endswith(f"/{name}")
    assert tables == 0
    assert _roundtrip(postgres_url, [(1, "a")]) == [(1, "a")]


def test_postgres_url_again_gets_its_own_database(postgres_url: str) -> None:
    # Creates the same table as the test above: would fail on a shared database.
    assert _roundtrip(postgres_url, [(2, "b")]) == [(2, "b")]


def _tcp_listeners(port: int) -> list[str]:
    """Local addresses (hex, as in /proc/net/tcp*) of sockets listening on ``port``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        lines = Path(table).read_text().splitlines()[1:]
        for line in lines:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if int(port_hex, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                found.append(address)
    return found


def test_listens_on_loopback_only(postgres_server: PostgresServer) -> None:
    engine = sa.create_engine(postgres_server.url)
    try:
        with engine.connect() as conn:
            listen = conn.execute(sa.text("SHOW listen_addresses")).scalar_one()
            fsync = conn.execute(sa.text("SHOW fsync")).scalar_one()
    finally:
        engine.dispose()
    assert listen == "127.0.0.1"
    assert fsync == "off"
    # One TCP listener, on 127.0.0.1 (0100007F little-endian), nothing on tcp6.
    assert _tcp_listeners(postgres_server.port) == ["0100007F"]
    # Not bound to the wildcard address: another loopback address is refused.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", postgres_server.port), timeout=5).close()
    # And the unix socket is in the server's private directory.
    assert (postgres_server.socket_dir / f".s.PGSQL.{postgres_server.port}").is_socket()


_CHILD = """
import json, sys, time
from pathlib import Path
from tests.support.postgres import start_postgres
server = start_postgres(Path(sys.argv[1]))
print(json.dumps({"pid": server.process.pid, "dir": str(server.base_dir)}), flush=True)
time.sleep(300)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # Our own child zombie would look alive; the postmaster is the child's child, so once
    # it exits it is reaped by init (or whichever subreaper) and disappears.
    return Path(f"/proc/{pid}").exists() and "Z" not in _proc_state(pid)


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "Z"


def test_server_stops_when_the_test_process_is_killed(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(tmp_path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    started: dict[str, object] = {}
    try:
        assert child.stdout is not None
        started = json.loads(child.stdout.readline())
        postmaster = int(str(started["pid"]))
        assert _alive(postmaster)
        child.send_signal(signal.SIGKILL)  # no cleanup code can run in the child
        child.wait()
        deadline = time.monotonic() + 15
        while _alive(postmaster) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(postmaster), "postgres outlived the process that started it"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if "dir" in started:
            shutil.rmtree(str(started["dir"]), ignore_errors=True)


def test_missing_binaries_name_the_apt_package(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"apt-get install postgresql\b"):
        find_postgres_bindir(tmp_path / "nothing-here")


def test_highest_installed_version_wins(tmp_path: Path) -> None:
    for version in ("9.6", "15", "16", "not-a-version"):
        bindir = tmp_path / version / "bin"
        bindir.mkdir(parents=True)
        for exe in ("initdb", "postgres"):
            (bindir / exe).write_text("#!/bin/sh\n")
            (bindir / exe).chmod(0o755)
    assert find_postgres_bindir(tmp_path) == tmp_path / "16" / "bin"
