"""Many people at once: a real server with 30 agents whose desktops are open (each with
its ``/ws/desk`` socket) logging in together, 90 customers starting chats together and
the agents accepting them together.

Each step must answer every request with success. Two deadlocks were found this way
(bench/bench_chats.py): desk pushes held a database connection while they waited for
the engine lock, whose holder needed a connection (the pool ran dry: 30 s stalls and
500s), and a request holding SQLite's write lock waited for a request thread while all
of them waited for the engine lock (500s after the 5 s busy timeout).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session
from tests.support.seed import PASSWORD, seed
from tests.support.server import LiveServer, running_server
from websockets.asyncio.client import ClientConnection, connect

from callcenter.auth.service import create_user
from callcenter.storage.db import make_engine
from callcenter.storage.tables import AgentRow, Role

N_AGENTS = 30
CAPACITY = 3
N_CHATS = N_AGENTS * CAPACITY  # every chat finds a free slot
# every customer here comes from 127.0.0.1: the per-address start limit is lifted
ONE_ADDRESS = {"CALLCENTER_CHAT_STARTS_BURST": str(N_CHATS)}


def _add_agents(db_url: str) -> list[str]:
    names = [f"agent{i:02d}" for i in range(N_AGENTS)]
    db = make_engine(db_url)
    try:
        with Session(db) as s, s.begin():
            for name in names:
                create_user(s, name, PASSWORD, Role.AGENT, now=time.time(), display_name=name)
            s.flush()
            for row in s.query(AgentRow).where(AgentRow.name.in_(names)):
                row.skills, row.capacity = {"support": 5}, CAPACITY
    finally:
        db.dispose()
    return names


async def _sign_in(http: httpx.AsyncClient, name: str) -> dict[str, str]:
    r = await http.post("/api/auth/login", json={"username": name, "password": PASSWORD})
    r.raise_for_status()
    return {
        "Cookie": f"cc_session={r.cookies['cc_session']}",
        "X-CSRF-Token": r.json()["csrf_token"],
    }


async def _crowd(server: LiveServer, names: list[str]) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=400)
    async with httpx.AsyncClient(base_url=server.url, timeout=60.0, limits=limits) as http:
        heads = dict(
            zip(names, await asyncio.gather(*(_sign_in(http, n) for n in names)), strict=True)
        )
        sockets: list[ClientConnection] = [
            await connect(f"{server.ws_url}/ws/desk", additional_headers={"Cookie": h["Cookie"]},
                          proxy=None)
            for h in heads.values()
        ]  # fmt: skip
        try:
            logins = await asyncio.gather(
                *(http.post("/api/desk/login", headers=heads[n]) for n in names)
            )
            starts = await asyncio.gather(
                *(
                    http.post("/api/chat/start", json={"queue": "support", "name": f"C{i}",
                                                       "email": f"c{i}@example.com"})
                    for i in range(N_CHATS)
                )
            )  # fmt: skip
            desks = await asyncio.gather(*(http.get("/api/desk", headers=heads[n]) for n in names))
            ringing = [
                (n, c["id"])
                for n, d in zip(names, desks, strict=True)
                for c in d.json()["contacts"]
                if c["status"] == "ringing"
            ]
            accepts = await asyncio.gather(
                *(
                    http.post(f"/api/desk/contacts/{cid}/accept", headers=heads[n])
                    for n, cid in ringing
                )
            )
        finally:
            for ws in sockets:
                await ws.close()
    return {"logins": logins, "starts": starts, "ringing": ringing, "accepts": accepts}


@pytest.mark.slow
def test_thirty_agents_and_ninety_chats_at_once(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'center.db'}"
    seed(db_url, ring_timeout_s=600.0)
    names = _add_agents(db_url)
    with running_server(db_url, tmp_path, **ONE_ADDRESS) as server:
        got = asyncio.run(_crowd(server, names))
        log = server.log()
        with server.client("manager") as m:
            active = m.ok("GET", "/api/contacts", params={"status": "active", "limit": 500})
    assert [r.status_code for r in got["logins"]] == [200] * N_AGENTS
    assert [r.status_code for r in got["starts"]] == [201] * N_CHATS
    # every chat rang at someone (30 agents x 3 slots), and every offer was taken
    assert len(got["ringing"]) == N_CHATS
    assert [r.status_code for r in got["accepts"]] == [200] * N_CHATS
    assert active["total"] == N_CHATS
    assert "Traceback" not in log, log
