"""``callcenter demo``: seeds a demo center, serves it and drives it through the API.

The end-to-end test runs the real command for 20 s in a fresh folder and watches it
from outside, as a person at the wallboard would: chats appear and get handled, the
simulated agents show on the wallboard, ``ann`` stays free for a person; then the
command stops by itself, exits 0 and leaves nothing half-done in its database.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from tests.support.server import free_port

DEMO_AGENTS = ["bob", "cid", "dee", "eve"]


def run(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callcenter.cli.main", *args],
        capture_output=True, text=True, cwd=cwd, timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip


def _signed_in(url: str, deadline: float) -> httpx.Client:
    while True:
        try:
            c = httpx.Client(base_url=url, timeout=5.0)
            r = c.post("/api/auth/login", json={"username": "manager", "password": "demo1234"})
            r.raise_for_status()
            return c
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.slow
def test_demo_serves_drives_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "callcenter.cli.main", "demo", "--duration", "20", "--port",
         str(port), "--agents", "4", "--rate", "6/min", "--seed", "3"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "COLUMNS": "200", "CALLCENTER_API_DOCS": "true"},  # as demo.sh
    )  # fmt: skip
    statuses: set[str] = set()
    on_board: dict[str, set[str]] = {}
    try:
        client = _signed_in(f"http://127.0.0.1:{port}", time.monotonic() + 30)
        while proc.poll() is None:
            try:
                contacts = client.get("/api/contacts").json()["contacts"]
                board = client.get("/api/wallboard").json()
            except httpx.HTTPError:  # the server stopped between two polls
                break
            statuses |= {c["status"] for c in contacts}
            for a in board["agents"]:
                on_board.setdefault(a["name"], set()).add(a["status"])
            time.sleep(0.5)
        client.close()
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out

    # what a person is told
    assert "password: demo1234" in out
    for page in ("/agent", "/wallboard", "/chat?queue=support", "/admin", "/docs"):
        assert f"http://127.0.0.1:{port}{page}" in out
    assert "ann" in out and "not simulated" in out
    assert "0 errors" in out.splitlines()[-1], out[-2000:]

    # watched from outside while it ran
    assert statuses & {"queued", "ringing", "active", "wrapup"}, statuses
    assert set(DEMO_AGENTS) <= set(on_board)
    for name in DEMO_AGENTS:  # every simulated agent worked: logged in at some point
        assert on_board[name] - {"logged_out"}, (name, on_board[name])
    assert on_board["ann"] == {"logged_out"}  # left for a person

    # and in the database afterwards: everything wound down, nothing open
    with sqlite3.connect(tmp_path / "callcenter-demo.db") as db:
        contacts = dict(db.execute("SELECT status, count(*) FROM contacts GROUP BY status"))
        agents = dict(db.execute("SELECT name, status FROM agents"))
        live_tokens = db.execute("SELECT count(*) FROM api_tokens WHERE NOT revoked").fetchone()
        messages = db.execute("SELECT count(*) FROM messages WHERE sender='agent'").fetchone()
        ann_events = db.execute("SELECT count(*) FROM events WHERE agent='ann'").fetchone()
        linked = db.execute(
            "SELECT count(*) FROM contacts WHERE status = 'closed' AND customer_id IS NOT NULL"
        ).fetchone()
        rewritten = db.execute("SELECT count(*) FROM customers WHERE updated_at != created_at")
        rewritten = rewritten.fetchone()
    assert set(contacts) <= {"closed", "abandoned"}, contacts
    # the simulated agents link each greeted chat's claim, as a person would; no chat ever
    # rewrote a customer record
    assert linked[0] >= 1 and rewritten == (0,)
    assert contacts.get("closed", 0) >= 1, contacts
    assert set(agents) == {"ann", *DEMO_AGENTS}
    assert set(agents.values()) == {"logged_out"}
    assert live_tokens == (0,)  # the driver's tokens are revoked at the end
    assert messages[0] >= 1
    assert ann_events == (0,)


def test_demo_reuses_its_database_and_keeps_what_exists(tmp_path: Path) -> None:
    """A second run finds its users and queues and adds nothing twice."""
    from sqlalchemy.orm import Session

    from callcenter.live.demo.seed import seed_demo
    from callcenter.storage.db import make_engine, upgrade
    from callcenter.storage.tables import AgentRow, QueueRow, User

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade(url)
    db = make_engine(url)
    try:
        assert seed_demo(db, 3) == ["bob", "cid", "dee"]
        with Session(db) as s, s.begin():
            s.query(AgentRow).filter(AgentRow.name == "bob").update({"capacity": 1})
        assert seed_demo(db, 4) == ["bob", "cid", "dee", "eve"]
        with Session(db) as s:
            users = sorted(u.username for u in s.query(User))
            queues = sorted(q.name for q in s.query(QueueRow))
            bob = s.query(AgentRow).filter(AgentRow.name == "bob").one()
    finally:
        db.dispose()
    assert users == sorted(["admin", "manager", "sue", "quinn", "ann", "bob", "cid", "dee", "eve"])
    assert queues == ["sales", "support"]
    assert bob.capacity == 1  # an edit made since the first run is kept


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rate", "fast"], "--rate: 'fast' is not valid; expected a positive rate of chats"),
        (["--rate", "0/min"], "--rate: '0/min' is not valid"),
        (["--duration", "soon"], "--duration must be a duration like 900"),
        (["--agents", "0"], "--agents: 0 is not valid; expected 1 to 20"),
        (["--agents", "21"], "--agents: 21 is not valid; expected 1 to 20"),
    ],
)
def test_demo_bad_options_fail_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    r = run("demo", "--port", str(free_port()), *args, cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.startswith(f"error: {message}"), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert r.stdout == ""


def test_demo_port_in_use_fails_with_one_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = run("demo", "--port", str(port), cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip() == (
        f"error: --port: cannot listen on 127.0.0.1:{port} (Address already in use); "
        "pick another port"
    )
    assert not (tmp_path / "callcenter-demo.db").exists()  # checked before anything is written


def test_parse_rate() -> None:
    from callcenter.cli.demo import parse_rate

    assert parse_rate("2") == 2.0
    assert parse_rate("2/min") == 2.0
    assert parse_rate("0.05/s") == pytest.approx(3.0)
    assert parse_rate("90/h") == pytest.approx(1.5)
