"""A real ``callcenter serve`` process for API, browser and restart tests.

The server runs as a child process on 127.0.0.1 and a free port, on its own SQLite file
(or a PostgreSQL URL).  It dies with the test process (``PR_SET_PDEATHSIG``), so a
crashed test run leaves no server behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.seed import PASSWORD

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    db_url: str
    workdir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)
    log_level: str = "warning"
    # what runs instead of ``-m callcenter.cli.main`` (a wrapper module that then runs it)
    entry: tuple[str, ...] = ("-m", "callcenter.cli.main")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        log = open(self.workdir / f"server-{self.port}.log", "ab")  # noqa: SIM115
        env = {**os.environ, "CALLCENTER_DATABASE_URL": self.db_url, **self.env}
        self.proc = subprocess.Popen(
            [sys.executable, *self.entry, "serve", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", self.log_level],
            cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/api/health", timeout=1.0).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"server did not answer within {timeout} s:\n{self.log()}")

    def stop(self, *, kill: bool = False) -> None:
        """Stop the server: SIGKILL (``kill``, a crash) or SIGTERM (a clean stop)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log(self) -> str:
        path = self.workdir / f"server-{self.port}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def client(self, username: str | None = None, password: str = PASSWORD) -> Client:
        """An HTTP client, signed in with a cookie session (CSRF header set) if a user."""
        c = Client(base_url=self.url, timeout=10.0)
        if username is not None:
            r = c.post("/api/auth/login", json={"username": username, "password": password})
            r.raise_for_status()
            c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        return c

    def token_client(self, username: str, password: str = PASSWORD) -> Client:
        """An HTTP client with a bearer API token of ``username`` (no cookies)."""
        with self.client(username, password) as c:
            r = c.post("/api/tokens", json={"name": "test"})
            r.raise_for_status()
            token = r.json()["token"]
        return Client(base_url=self.url, timeout=10.0, headers={"Authorization": f"Bearer {token}"})


class Client(httpx.Client):
    """httpx.Client with a helper that fails with the server's error message.

    Usable in ``with`` after it has already sent requests (the sign-in): entering does
    nothing, leaving closes it.
    """

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ok(self, method: str, url: str, **kw: Any) -> Any:
        r = self.request(method, url, **kw)
        if r.status_code >= 400:
            raise AssertionError(f"{method} {url} -> {r.status_code}: {r.text}")
        return None if r.status_code == 204 else r.json()

    def refused(self, method: str, url: str, status: int, **kw: Any) -> str:
        """The request answers ``status`` in the API's one error shape
        ``{"error": {"code", "message"}}``; returns the message."""
        r = self.request(method, url, **kw)
        assert r.status_code == status, f"{method} {url} -> {r.status_code}: {r.text}"
        body = r.json()
        assert set(body) == {"error"} and set(body["error"]) >= {"code", "message"}, body
        message: str = body["error"]["message"]
        return message


@contextlib.contextmanager
def signed_in(server: LiveServer, *names: str) -> Iterator[dict[str, Client]]:
    """A signed-in client per username (seed users share :data:`PASSWORD`), closed after."""
    out = {n: server.client(n) for n in names}
    try:
        yield out
    finally:
        for c in out.values():
            c.close()


@contextlib.contextmanager
def running_server(db_url: str, workdir: Path, **env: str) -> Iterator[LiveServer]:
    server = LiveServer(db_url=db_url, workdir=workdir, env=env)
    server.start()
    try:
        yield server
    finally:
        server.stop()
