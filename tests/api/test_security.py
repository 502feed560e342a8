"""Every role's forbidden endpoints answer 403, anonymous requests 401 — on a real server.

The routes and what each needs come from the application itself
(:func:`~callcenter.api.deps.route_guards`, which walks the ``require(...)`` /
``require_any(...)`` dependencies), the grants from the one permission table
(:func:`~callcenter.auth.permissions.allowed`).  So a new route is checked the moment it
is written, and a new API route that nobody guards fails :func:`test_every_api_route_is_guarded`
unless it is added to :data:`PUBLIC` on purpose.

One server for the module; one signed-in client (cookie session with the CSRF header)
per role.  Forbidden requests change nothing, so the order of the requests does not
matter.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
from tests.support.seed import USERS, seed
from tests.support.server import Client, LiveServer

from callcenter.api.deps import route_guards, route_permissions
from callcenter.auth.permissions import Permission, allowed
from callcenter.server.app import create_app
from callcenter.settings import Settings
from callcenter.storage.tables import Role

# API routes open without a role's permission, each on purpose: (method, path) -> why.
PUBLIC: Final[dict[tuple[str, str], str]] = {
    ("GET", "/api/health"): "liveness probe, no sign-in",
    ("POST", "/api/auth/login"): "signing in",
    ("POST", "/api/auth/logout"): "any signed-in user",
    ("GET", "/api/me"): "any signed-in user: who am I, my permissions",
    ("POST", "/api/ws-ticket"): "any signed-in user: a one-use ticket for its own sockets",
    ("GET", "/api/chat/availability"): "chat widget (customers, no account)",
    ("POST", "/api/chat/start"): "chat widget: starting a chat hands out a customer token",
    ("GET", "/api/chat/{contact_id}"): "chat widget (customer token)",
    ("POST", "/api/chat/{contact_id}/messages"): "chat widget (customer token)",
    ("POST", "/api/chat/{contact_id}/end"): "chat widget (customer token)",
    ("POST", "/api/chat/{contact_id}/csat"): "chat widget (customer token)",
    ("POST", "/api/chat/{contact_id}/socket"): "chat widget: its socket ticket (customer token)",
    ("OPTIONS", "/api/chat/{rest:path}"): "CORS preflight of the chat widget",
    ("POST", "/api/chat/{contact_id}/verify"): "chat widget (customer token): mail a code",
    ("POST", "/api/chat/{contact_id}/verify/confirm"): "chat widget (customer token)",
}

# one user of each role (the seeded center)
USER_OF: Final[dict[Role, str]] = {}
for _name, (_role, _team) in USERS.items():
    USER_OF.setdefault(_role, _name)

_PARAM = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")


def _app_routes() -> list[tuple[str, str, frozenset[Permission]]]:
    # built, never started: the lifespan (database, engine) does not run
    app = create_app(Settings(database_url="sqlite:///:memory:"))
    return route_guards(app)


ROUTES: Final = _app_routes()
GUARDED: Final = [(m, p, g) for m, p, g in ROUTES if g]
# every (route, role) pair where the role holds none of the permissions the route accepts
FORBIDDEN: Final = [
    (m, p, g, role) for m, p, g in GUARDED for role in Role if not any(allowed(role, x) for x in g)
]


def concrete(path: str) -> str:
    """``path`` with each parameter filled with a plausible value (1)."""
    return _PARAM.sub("1", path)


def send(client: httpx.Client, method: str, path: str) -> httpx.Response:
    body: dict[str, Any] | None = {} if method in {"POST", "PUT", "PATCH"} else None
    return client.request(method, concrete(path), json=body)


def assert_error(r: httpx.Response, status: int, code: str, what: str) -> None:
    assert r.status_code == status, f"{what} -> {r.status_code} (expected {status}): {r.text}"
    assert r.headers["content-type"].startswith("application/json"), what
    body = r.json()
    assert set(body) == {"error"}, f"{what}: {body}"
    assert body["error"]["code"] == code, f"{what}: {body}"
    assert isinstance(body["error"]["message"], str) and body["error"]["message"], what


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp: Path = tmp_path_factory.mktemp("security")
    db_url = f"sqlite:///{tmp / 'center.db'}"
    seed(db_url)
    srv = LiveServer(db_url=db_url, workdir=tmp)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def clients(server: LiveServer) -> Iterator[dict[Role, Client]]:
    out = {role: server.client(name) for role, name in USER_OF.items()}
    try:
        yield out
    finally:
        for c in out.values():
            c.close()


def test_the_walk_sees_the_whole_api() -> None:
    assert set(USER_OF) == set(Role), "the seed must have a user of every role"
    app = create_app(Settings(database_url="sqlite:///:memory:"))
    single = route_permissions(app)
    assert len(single) >= 30, f"only {len(single)} routes guarded by require(): walk broken?"
    assert {(m, p) for m, p, _ in single} <= {(m, p) for m, p, _ in GUARDED}
    # every permission guards something, and every role is refused something
    assert {x for _, _, g in GUARDED for x in g} == set(Permission)
    lacking = {r for r in Role if not all(allowed(r, x) for x in Permission)}
    assert {role for *_, role in FORBIDDEN} == lacking
    assert len(FORBIDDEN) >= 100, len(FORBIDDEN)


def test_every_api_route_is_guarded() -> None:
    """A route under /api/ either needs a permission or is listed in PUBLIC on purpose."""
    api = {(m, p) for m, p, _ in ROUTES if p.startswith("/api/")}
    unguarded = {(m, p) for m, p, g in ROUTES if p.startswith("/api/") and not g}
    assert unguarded - set(PUBLIC) == set(), "API routes without require(...)"
    assert set(PUBLIC) - api == set(), "PUBLIC lists routes that no longer exist"
    assert set(PUBLIC) & {(m, p) for m, p, _ in GUARDED} == set(), "guarded route in PUBLIC"


def test_forbidden_routes_answer_403(clients: dict[Role, Client]) -> None:
    failures = []
    for method, path, guard, role in FORBIDDEN:
        r = send(clients[role], method, path)
        what = f"{role.value} {method} {path} (needs {' or '.join(sorted(guard))})"
        try:
            assert_error(r, 403, "forbidden", what)
        except AssertionError as e:
            failures.append(str(e).splitlines()[0])
    assert not failures, f"{len(failures)} of {len(FORBIDDEN)}:\n" + "\n".join(failures)


def test_allowed_roles_get_past_the_guard(clients: dict[Role, Client]) -> None:
    """The other half: a role holding the permission is not refused (GET routes only, so
    that nothing changes; a missing id 1 is a 404, not a 403)."""
    failures = []
    for method, path, guard in GUARDED:
        if method != "GET":
            continue
        for role in Role:
            if any(allowed(role, x) for x in guard):
                r = send(clients[role], method, path)
                if r.status_code in {401, 403} or r.status_code >= 500:
                    failures.append(f"{role.value} {method} {path} -> {r.status_code}: {r.text}")
    assert not failures, "\n".join(failures)


def test_anonymous_requests_answer_401(server: LiveServer) -> None:
    """Every guarded route, and the routes open to any signed-in user."""
    signed_in_only = [(m, p, frozenset[Permission]()) for (m, p), why in PUBLIC.items()
                      if why.startswith("any signed-in user")]  # fmt: skip
    assert len(signed_in_only) == 3  # logout, me, ws-ticket
    failures = []
    with server.client() as anon:
        for method, path, _ in GUARDED + signed_in_only:
            r = send(anon, method, path)
            try:
                assert_error(r, 401, "unauthenticated", f"anonymous {method} {path}")
            except AssertionError as e:
                failures.append(str(e).splitlines()[0])
    assert not failures, f"{len(failures)} of {len(GUARDED)}:\n" + "\n".join(failures)


def test_a_bad_token_is_401_not_anonymous_access(server: LiveServer) -> None:
    headers = {"Authorization": "Bearer not-a-token"}
    with httpx.Client(base_url=server.url, timeout=10.0, headers=headers) as c:
        for method, path, _ in GUARDED[:10]:
            assert_error(send(c, method, path), 401, "unauthenticated", f"{method} {path}")


def test_forbidden_beats_a_bad_body(clients: dict[Role, Client]) -> None:
    """A forbidden role learns nothing about a route's body: 403 before validation.

    (A body that is not JSON at all is refused before anyone is asked who sent it; the
    error then is a 422 that names no field, so it tells nothing about the route.)
    """
    agent = clients[Role.AGENT]
    for path, body in [
        ("/api/users", {"username": 5, "role": "nope"}),
        ("/api/admin/queues", {"name": ["x"], "ring_timeout_s": "soon"}),
        ("/api/admin/skills/not-an-int", {"name": None}),
    ]:
        method = "PATCH" if path.endswith("not-an-int") else "POST"
        r = agent.request(method, path, json=body)
        assert_error(r, 403, "forbidden", f"agent {method} {path} {body}")
    r = agent.post("/api/users", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code in {403, 422}, r.text
    if r.status_code == 422:
        assert "username" not in r.text and "role" not in r.text, r.text


def test_the_bearer_token_gets_the_same_answers(server: LiveServer) -> None:
    """The token path of authentication applies the same table (a sample: every route
    the agent is refused).

    The changes come first: a fresh token's first use is stored, and a request that
    writes holds SQLite's write lock — storing it in a second transaction used to wait
    for that lock and fail (500 after the busy timeout)."""
    refused = [(m, p, g) for m, p, g, role in FORBIDDEN if role is Role.AGENT]
    refused.sort(key=lambda x: x[0] == "GET")
    assert refused[0][0] != "GET"
    with server.token_client(USER_OF[Role.AGENT]) as c:
        for method, path, guard in refused:
            assert_error(send(c, method, path), 403, "forbidden", f"{method} {path} {guard}")
