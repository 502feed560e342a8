"""The server process: health, sign-in, sessions, CSRF, tokens, the error shape."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from tests.support.server import LiveServer


def test_health_and_openapi(live_server: LiveServer) -> None:
    with live_server.client() as c:
        assert c.get("/api/health").json()["status"] == "ok"
        # the API docs are off by default (tests/api/test_http_hardening.py: on, signed in)
        assert c.get("/openapi.json").status_code == 404


def test_login_wrong_password_is_401_with_error_shape(live_server: LiveServer) -> None:
    with live_server.client() as c:
        r = c.post("/api/auth/login", json={"username": "ann", "password": "nope-nope"})
        assert r.status_code == 401
        assert r.json() == {
            "error": {"code": "unauthenticated", "message": "wrong username or password"}
        }
        r = c.post("/api/auth/login", json={"username": "ann"})
        assert r.status_code == 422
        assert r.json()["error"]["message"] == "password: Field required"


def test_session_cookie_needs_csrf_for_changes(live_server: LiveServer) -> None:
    with live_server.client("admin") as c:
        me = c.get("/api/me").json()
        assert me["role"] == "admin" and me["csrf_token"]
        good = c.headers.pop("X-CSRF-Token")
        r = c.post("/api/tokens", json={"name": "x"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "csrf"
        c.headers["X-CSRF-Token"] = "wrong"
        assert c.post("/api/tokens", json={"name": "x"}).status_code == 403
        c.headers["X-CSRF-Token"] = good
        assert c.post("/api/tokens", json={"name": "x"}).status_code == 201
        assert c.post("/api/auth/logout").status_code == 204
        assert c.get("/api/me").status_code == 401


def test_api_token_works_without_cookie_and_can_be_revoked(live_server: LiveServer) -> None:
    with live_server.token_client("sue") as c:
        assert c.get("/api/me").json()["username"] == "sue"
        (tok,) = c.get("/api/tokens").json()
        assert "token" not in tok  # the secret is shown once, at creation
        assert c.delete(f"/api/tokens/{tok['id']}").status_code == 204
        assert c.get("/api/me").status_code == 401


def test_anonymous_is_401(live_server: LiveServer) -> None:
    with live_server.client() as c:
        r = c.get("/api/me")
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "unauthenticated"


def test_serve_on_a_busy_port_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        db = tmp_path / "center.db"
        r = subprocess.run(
            [sys.executable, "-m", "callcenter.cli.main", "serve", "--port", str(port),
             "--database", f"sqlite:///{db}"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.strip().splitlines() == [
        f"error: --port: cannot listen on 127.0.0.1:{port} (Address already in use); "
        "pick another port"
    ]
    assert r.stdout == "" and not db.exists()
