"""A real ``callcenter serve`` for the live-server benches (wallboard, chats).

:func:`seed_center` writes a center straight into a fresh SQLite file before the server
starts, with the same service functions the API uses (``create_user``,
``create_token``): an administrator, a manager, a supervisor of team blue, ``agents``
agents (``agent001`` ...; skills support 5 / sales 3, chat capacity ``capacity``; odd
ones in team blue, even ones in green), chat queues ``support`` and ``sales``, a
disposition and a pause reason.  Every user gets an API token (the secrets are
returned) and a cookie session (as a signed-in page has), so the benches never sign in
with a password.  The password is hashed once
and that hash is reused for every user (Argon2 costs ~0.3 s a user here).

:class:`Server` runs ``python -m callcenter.cli.main serve`` on 127.0.0.1 and a free
port, with its open-file limit raised to the hard limit, and kills it with the bench
(``PR_SET_PDEATHSIG``), so no server outlives a crashed bench.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from unittest import mock

import httpx
from sqlalchemy.orm import Session

from callcenter.api.deps import CSRF_HEADER, SESSION_COOKIE
from callcenter.auth import service
from callcenter.auth.passwords import hash_password
from callcenter.auth.service import create_token, create_user, start_session
from callcenter.storage.db import make_engine, upgrade
from callcenter.storage.tables import (
    AgentRow,
    Disposition,
    PauseReason,
    QueueRow,
    Role,
    Skill,
    Team,
    TeamSupervisor,
)

PASSWORD: Final = "bench-password-1"
_EXCEPTION_LINE: Final = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Block|Timeout)\b")
_IDS: Final = re.compile(r"chat-[0-9a-f]+|(?<![\w-])(?<!-> )\d+(\.\d+)?(?![\w-])")
_PR_SET_PDEATHSIG: Final = 1
# A bench's customers all come from 127.0.0.1: the per-address chat limits (made for one
# customer's network) are lifted for them; the per-chat limits stay (docs/security.md).
ONE_ADDRESS_CROWD: Final = {
    "CALLCENTER_CHAT_STARTS_BURST": "100000",
    "CALLCENTER_CHAT_STARTS_PER_MINUTE": "100000",
    "CALLCENTER_CHAT_ADDRESS_MESSAGES_BURST": "100000",
    "CALLCENTER_CHAT_ADDRESS_MESSAGES_PER_MINUTE": "100000",
    "CALLCENTER_CHAT_SOCKETS_PER_ADDRESS": "100000",
}


def raise_nofile() -> tuple[int, int]:
    """Raise this process's soft open-file limit to the hard limit; return (soft, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def agent_names(n: int) -> list[str]:
    return [f"agent{i:03d}" for i in range(1, n + 1)]


@dataclass(frozen=True)
class Creds:
    """How a bench user signs in: an API token, or a cookie session and its CSRF token."""

    token: str
    session: str
    csrf: str

    def cookie_headers(self) -> dict[str, str]:
        """Headers of a signed-in page (cookie + CSRF) for HTTP requests that change things."""
        return {"Cookie": f"{SESSION_COOKIE}={self.session}", CSRF_HEADER: self.csrf}


def seed_center(
    db_url: str, *, agents: int, capacity: int, ring_timeout_s: float = 300.0
) -> dict[str, Creds]:
    """Create the schema and the bench center in ``db_url``; return username -> creds."""
    upgrade(db_url)
    engine = make_engine(db_url)
    now = time.time()
    hashed = hash_password(PASSWORD)
    creds: dict[str, Creds] = {}
    try:
        with (
            mock.patch.object(service, "hash_password", lambda _pw: hashed),
            Session(engine) as s,
            s.begin(),
        ):
            teams = {name: Team(name=name) for name in ("blue", "green")}
            s.add_all(teams.values())
            s.add_all([Skill(name="support"), Skill(name="sales")])
            s.flush()
            users = {
                "admin": (Role.ADMIN, None),
                "manager": (Role.MANAGER, None),
                "sue": (Role.SUPERVISOR, "blue"),
            }
            for i, name in enumerate(agent_names(agents)):
                users[name] = (Role.AGENT, "blue" if i % 2 == 0 else "green")
            for username, (role, team) in users.items():
                user = create_user(
                    s, username, PASSWORD, role, now=now, display_name=username.title(),
                    team_id=teams[team].id if team else None,
                )  # fmt: skip
                if role is Role.SUPERVISOR and team is not None:
                    s.add(TeamSupervisor(team_id=teams[team].id, user_id=user.id))
                token = create_token(s, user, "bench", now=now)[1]
                creds[username] = Creds(token, *start_session(s, user, now=now))
            s.flush()
            for a in s.query(AgentRow):
                a.skills = {"support": 5, "sales": 3}
                a.capacity = capacity
            s.add_all(
                [
                    QueueRow(
                        name=name, channel="chat", requirements=[{"skill": name, "min_level": 1}],
                        ring_timeout_s=ring_timeout_s, sl_threshold_s=20.0,
                    )
                    for name in ("support", "sales")
                ]
            )  # fmt: skip
            s.add_all(
                [
                    Disposition(code="resolved", label="Resolved", resolved=True),
                    PauseReason(name="break", paid=True, max_minutes=15),
                ]
            )
    finally:
        engine.dispose()
    return creds


def _child_setup() -> None:  # runs in the server between fork and exec
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    raise_nofile()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """``callcenter serve`` on 127.0.0.1 (log in ``workdir/server.log``)."""

    db_url: str
    workdir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)  # CALLCENTER_* settings of its own
    # what runs instead of ``-m callcenter.cli.main`` (e.g. a module that profiles it)
    entry: tuple[str, ...] = ("-m", "callcenter.cli.main")
    log_level: str = "warning"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "server.log"

    def start(self, timeout: float = 60.0) -> None:
        env = {**os.environ, "CALLCENTER_DATABASE_URL": self.db_url, **self.env}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, *self.entry, "serve", "--host", "127.0.0.1",
                 "--port", str(self.port), "--log-level", self.log_level],
                cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=_child_setup,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/api/health", timeout=1.0).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"server did not answer within {timeout} s:\n{self.log()}")

    def cpu_seconds(self) -> float:
        """User + system CPU time the server has used so far (from /proc)."""
        if self.proc is None:
            return 0.0
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log(self, tail: int = 6000) -> str:
        path = self.log_path
        return path.read_text(errors="replace")[-tail:] if path.exists() else ""

    def errors_in_log(self) -> list[str]:
        """The exceptions in the server log, one line each (``Type: message``)."""
        if not self.log_path.exists():
            return []
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [ln[:200] for ln in lines if _EXCEPTION_LINE.match(ln)]


def summarize(problems: list[str], top: int = 12) -> list[str]:
    """``problems`` grouped (ids and numbers blanked), most frequent first: "N x text"."""
    counts = Counter(_IDS.sub("#", p) for p in problems)
    return [f"{n} x {text}" for text, n in counts.most_common(top)]


def percentiles(values: list[float], qs: tuple[float, ...] = (50, 95, 99)) -> list[float]:
    """Nearest-rank percentiles of ``values`` (empty: NaN)."""
    if not values:
        return [float("nan")] * len(qs)
    v = sorted(values)
    return [v[min(len(v), max(1, math.ceil(q / 100 * len(v)))) - 1] for q in qs]


__all__ = [
    "ONE_ADDRESS_CROWD",
    "PASSWORD",
    "Creds",
    "Server",
    "agent_names",
    "percentiles",
    "raise_nofile",
    "seed_center",
    "summarize",
]
