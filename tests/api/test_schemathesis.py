"""A bounded schemathesis run against a real server: no request makes it answer 5xx.

Every operation of the server's ``/openapi.json`` (the WebSocket and HTML routes are not
in it) gets schemathesis' example, coverage (boundary and malformed values) and fuzzing
phases, valid and invalid input, with a fixed seed and Hypothesis derandomized so that
CI sees the same requests every run — twice: as an administrator (who may do nearly
everything, so the handlers themselves run) and as an agent (the desk routes run, the
rest is refused).  The only check is ``not_a_server_error``: a 4xx for nonsense input is
the right answer here; the exact 4xx and the response shapes are other tests' business.

The document is the application's own (built, not started), so that pytest can collect
one test per operation before any server runs; :func:`test_the_server_serves_this_schema`
checks that it is exactly what the live server's ``/openapi.json`` serves.  (Loading it
from the server in a fixture, ``schemathesis.pytest.from_fixture``, fails on pytest 9:
schemathesis 4.32 writes ``request.node._nodeid``, which pytest 9 no longer has.)

Each run has a server of its own: the administrator's requests change the center
(deactivate users, delete queues ...), and the agent's run must not inherit that.  The
fuzzing user's API token is given an id far above anything the fuzzer tries, so that
``DELETE /api/tokens/{token_id}`` does not revoke the token the run itself uses; the
administrator's run is a user of its own with a high id too (:func:`fuzz_token`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.support.seed import PASSWORD, seed
from tests.support.server import LiveServer

from callcenter.auth.service import create_token, create_user
from callcenter.server.app import create_app
from callcenter.settings import Settings
from callcenter.storage.db import make_engine
from callcenter.storage.tables import Role, User

pytestmark = pytest.mark.slow

SEED: Final = 20240611
MAX_EXAMPLES: Final = 15  # per operation and phase that uses it (fuzzing)
TOKEN_ID: Final = 7_340_033  # far from the small ids and boundary values the fuzzer tries

FUZZ_SETTINGS: Final = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


def fuzz_token(db_url: str, username: str) -> str:
    """An API token of ``username``, written before the server starts, with a high id.

    The administrator's run signs in as an administrator of its own, ``fuzzer``, also
    with a high user id: a password reset (``PATCH /api/users/{id}``) and
    ``DELETE /api/users/{id}/tokens`` revoke the user's tokens, and the fuzzer tries
    small ids (the seeded ``admin`` is user 1)."""
    engine = make_engine(db_url)
    try:
        with Session(engine) as s, s.begin():
            user = s.scalars(select(User).where(User.username == username)).one()
            if username == "admin":
                user = create_user(s, "fuzzer", PASSWORD, Role.ADMIN, now=time.time())
                user.id = TOKEN_ID
                s.flush()
            row, secret = create_token(s, user, "schemathesis", now=time.time())
            row.id = TOKEN_ID
    finally:
        engine.dispose()
    return secret


def schema_document() -> dict[str, Any]:
    """The server's OpenAPI document, from the application built but not started (the
    same document ``GET /openapi.json`` serves: test_the_server_serves_this_schema)."""
    return create_app(Settings(database_url="sqlite:///:memory:")).openapi()


CONFIG: Final = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "request-timeout": 30,
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True},
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
    }
)
SCHEMA: Final = schemathesis.openapi.from_dict(schema_document(), config=CONFIG)


@dataclass(frozen=True)
class Target:
    """A running server and the headers that sign its fuzzing user in."""

    server: LiveServer
    headers: dict[str, str]


def serve_as(tmp_path_factory: pytest.TempPathFactory, username: str) -> Iterator[Target]:
    tmp: Path = tmp_path_factory.mktemp(f"fuzz-{username}")
    db_url = f"sqlite:///{tmp / 'center.db'}"
    seed(db_url)
    token = fuzz_token(db_url, username)
    server = LiveServer(db_url=db_url, workdir=tmp, env={"CALLCENTER_API_DOCS": "true"})
    server.start()
    try:
        yield Target(server, {"Authorization": f"Bearer {token}"})
    finally:
        server.stop()


@pytest.fixture(scope="module")
def as_admin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    yield from serve_as(tmp_path_factory, "admin")


@pytest.fixture(scope="module")
def as_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    yield from serve_as(tmp_path_factory, "ann")


def call_and_check(case: Case, target: Target) -> None:
    r = case.call_and_validate(
        base_url=target.server.url, headers=target.headers, checks=[not_a_server_error]
    )
    # the run must stay signed in, or it would only be fuzzing the 401 path (sign-in and
    # the chat widget's customer token answer 401 for their own credentials)
    own_credentials = case.operation.path == "/api/auth/login" or case.operation.path.startswith(
        "/api/chat/"
    )
    if r.status_code == 401 and not own_credentials:
        pytest.fail(f"{case.operation.label} -> 401: the fuzzing user lost its token: {r.text}")


@SCHEMA.parametrize()
@FUZZ_SETTINGS
def test_no_server_error_as_admin(case: Case, as_admin: Target) -> None:
    call_and_check(case, as_admin)


@SCHEMA.parametrize()
@FUZZ_SETTINGS
def test_no_server_error_as_agent(case: Case, as_agent: Target) -> None:
    call_and_check(case, as_agent)


def test_the_server_serves_this_schema(as_admin: Target) -> None:
    """What was fuzzed is what the server publishes, and it lists the whole HTTP API."""
    url = f"{as_admin.server.url}/openapi.json"  # api_docs on; signed in
    served = httpx.get(url, headers=as_admin.headers, timeout=10.0).json()
    assert served == schema_document()
    ops = [r.ok() for r in SCHEMA.get_all_operations()]
    paths = {op.path for op in ops}
    assert len(ops) >= 70, len(ops)
    for prefix in ("/api/admin/", "/api/users", "/api/desk", "/api/chat/", "/api/customers",
                   "/api/tickets", "/api/wallboard", "/api/reports/"):  # fmt: skip
        assert any(p.startswith(prefix) for p in paths), prefix
