"""Users (``/api/users``) and teams (``/api/admin/teams``) against a real server.

One server for the module; every test works on users and teams it creates itself
(unique names), so the tests do not disturb each other.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.support.seed import PASSWORD, seed
from tests.support.server import Client, LiveServer

_ids = itertools.count(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("people")
    db_url = f"sqlite:///{tmp / 'center.db'}"
    seed(db_url)
    srv = LiveServer(db_url=db_url, workdir=tmp)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def signed_in(server: LiveServer, username: str, password: str = PASSWORD) -> Client:
    """A signed-in client once its session is usable (see ``test_admin.signed_in``)."""
    c = server.client(username, password)
    deadline = time.monotonic() + 5
    while c.get("/api/me").status_code == 401 and time.monotonic() < deadline:
        time.sleep(0.02)
    return c


@pytest.fixture(scope="module")
def admin(server: LiveServer) -> Iterator[Client]:
    with signed_in(server, "admin") as c:
        yield c


def unique(prefix: str) -> str:
    return f"{prefix}{next(_ids)}"


def error(r: httpx.Response, status: int, message: str) -> None:
    assert r.status_code == status, r.text
    code = {404: "not_found", 409: "conflict", 422: "invalid", 403: "forbidden"}[status]
    assert r.json() == {"error": {"code": code, "message": message}}


def login_status(server: LiveServer, username: str, password: str) -> int:
    with server.client() as c:
        r = c.post("/api/auth/login", json={"username": username, "password": password})
        return r.status_code


def team_id(admin: Client, name: str) -> int:
    (team,) = [t for t in admin.ok("GET", "/api/admin/teams") if t["name"] == name]
    return int(team["id"])


# --------------------------------------------------------------------------- users


def test_user_round_trip(server: LiveServer, admin: Client) -> None:
    name = unique("eve")
    blue = team_id(admin, "blue")
    made = admin.ok("POST", "/api/users", json={"username": name, "password": "s3cret-pass",
                    "role": "supervisor", "display_name": "Eve Adams",
                    "email": " Eve@Example.COM ", "team_id": blue})  # fmt: skip
    want = {"id": made["id"], "username": name, "display_name": "Eve Adams",
            "email": "eve@example.com", "role": "supervisor", "team_id": blue, "active": True,
            "created_at": made["created_at"], "agent_id": None}  # fmt: skip
    assert made == want
    assert abs(made["created_at"] - time.time()) < 60
    assert admin.ok("GET", f"/api/users/{made['id']}") == want
    assert [u["username"] for u in admin.ok("GET", "/api/users", params={"role": "supervisor"})] \
        == sorted(["sue", name])  # fmt: skip
    with signed_in(server, name, "s3cret-pass") as eve:
        assert eve.ok("GET", "/api/me")["role"] == "supervisor"

    url = f"/api/users/{made['id']}"
    changed = admin.ok("PATCH", url, json={"display_name": "Eve B.", "email": None,
                                            "team_id": None})  # fmt: skip
    assert changed == {**want, "display_name": "Eve B.", "email": None, "team_id": None}
    # a password reset ends the user's browser sessions; the new password works
    eve = signed_in(server, name, "s3cret-pass")
    admin.ok("PATCH", url, json={"password": "another-pass"})
    assert eve.get("/api/me").status_code == 401
    assert login_status(server, name, "s3cret-pass") == 401
    assert login_status(server, name, "another-pass") == 200
    # DELETE deactivates: no sign-in, the row stays
    assert admin.delete(url).status_code == 204
    assert admin.ok("GET", url)["active"] is False
    assert login_status(server, name, "another-pass") == 401
    assert admin.ok("PATCH", url, json={"active": True})["active"] is True
    assert login_status(server, name, "another-pass") == 200


def test_agent_users_get_profiles_that_follow_the_role(admin: Client) -> None:
    name = unique("al")
    user = admin.ok("POST", "/api/users", json={"username": name, "password": PASSWORD,
                                                  "role": "agent"})  # fmt: skip
    profile = admin.ok("GET", f"/api/admin/agents/{user['agent_id']}")
    assert (profile["name"], profile["user_id"], profile["active"]) == (name, user["id"], True)
    admin.ok("PATCH", f"/api/admin/agents/{profile['id']}", json={"skills": {"support": 6}})
    # no longer an agent: the profile stays (not routed); back to agent: the same profile
    assert admin.ok("PATCH", f"/api/users/{user['id']}", json={"role": "qa"})["agent_id"] == \
        profile["id"]  # fmt: skip
    assert admin.ok("GET", f"/api/admin/agents/{profile['id']}")["active"] is False
    admin.ok("PATCH", f"/api/users/{user['id']}", json={"role": "agent"})
    back = admin.ok("GET", f"/api/admin/agents/{profile['id']}")
    assert (back["skills"], back["active"]) == ({"support": 6}, True)
    # a deactivated agent user does not route either
    admin.ok("DELETE", f"/api/users/{user['id']}")
    assert admin.ok("GET", f"/api/admin/agents/{profile['id']}")["active"] is False


def test_supervisor_demoted_leaves_its_teams(admin: Client) -> None:
    name = unique("sv")
    user = admin.ok("POST", "/api/users", json={"username": name, "password": PASSWORD,
                                                  "role": "supervisor"})  # fmt: skip
    team = admin.ok("POST", "/api/admin/teams", json={"name": unique("team"),
                                                       "supervisors": [name, "sue"]})  # fmt: skip
    assert team["supervisors"] == sorted([name, "sue"])
    admin.ok("PATCH", f"/api/users/{user['id']}", json={"role": "agent"})
    assert admin.ok("GET", f"/api/admin/teams/{team['id']}")["supervisors"] == ["sue"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"username": "ann"}, 409, "user 'ann' already exists"),
        ({"username": "Bad Name"}, 422,
         "bad username 'Bad Name': use 1-64 lower-case letters, digits, '.', '_' or '-', "
         "starting with a letter or digit"),
        ({"role": "boss"}, 422,
         "unknown role 'boss' (expected one of: admin, manager, supervisor, qa, agent)"),
        ({"password": "short"}, 422, "password: 5 characters; expected 8 to 1024 characters"),
        ({"password": " " * 8}, 422, "password: only spaces; expected letters, digits or signs"),
        ({"password": "password"}, 422, "password: one of the 30,000 most common passwords "
         "(zxcvbn's list); expected one that is not"),
        ({"password": "aaaaaaaa"}, 422,
         "password: one character repeated; expected a mix of characters"),
        ({"password": "\x00" * 8}, 422, "password: holds the control character U+0000; "
         "expected printable characters only"),
        ({"password": "x" * 99_999 + "y"}, 422,
         "password: 100000 characters; expected 8 to 1024 characters"),
        ({"email": "not-an-email"}, 422,
         "email: 'not-an-email' is not an e-mail address (expected name@example.com)"),
        ({"team_id": 999}, 422, "team_id: no team with id 999"),
        ({"password": None}, 422, "password: Input should be a valid string"),
    ],
)  # fmt: skip
def test_user_validation(admin: Client, body: dict[str, Any], status: int, message: str) -> None:
    base = {"username": "newbie", "password": PASSWORD, "role": "agent"}
    error(admin.post("/api/users", json={**base, **body}), status, message)
    assert all(u["username"] != "newbie" for u in admin.ok("GET", "/api/users"))


def test_password_length_bounds_agree_with_sign_in(server: LiveServer, admin: Client) -> None:
    name, longest = unique("long"), "k" * 1023 + "!"
    admin.ok("POST", "/api/users", json={"username": name, "password": longest, "role": "qa"})
    assert login_status(server, name, longest) == 200
    error(admin.post("/api/users", json={"username": unique("long"), "password": longest + "!",
                                         "role": "qa"}),
          422, "password: 1025 characters; expected 8 to 1024 characters")  # fmt: skip


def test_nobody_demotes_or_deactivates_themselves(server: LiveServer, admin: Client) -> None:
    me = admin.ok("GET", "/api/me")
    url = f"/api/users/{me['id']}"
    error(admin.patch(url, json={"role": "manager"}), 409, "you cannot change your own role")
    error(admin.patch(url, json={"active": False}), 409, "you cannot deactivate yourself")
    error(admin.delete(url), 409, "you cannot deactivate yourself")
    assert admin.ok("PATCH", url, json={"role": "admin", "active": True})["role"] == "admin"
    error(admin.patch("/api/users/99999", json={"role": "qa"}), 404, "no user 99999")
    error(admin.patch(url, json={"email": "x@y.z", "username": "root"}), 422,
          "username: Extra inputs are not permitted")  # fmt: skip
    # the manager configures the center but does not manage users
    with signed_in(server, "manager") as m:
        error(m.get("/api/users"), 403, "role 'manager' may not do this (users.manage)")
        error(m.post("/api/users", json={"username": "x", "password": PASSWORD, "role": "qa"}),
              403, "role 'manager' may not do this (users.manage)")  # fmt: skip


# --------------------------------------------------------------------------- teams


def test_team_round_trip(admin: Client) -> None:
    members = [unique("m"), unique("m")]
    for m in members:
        admin.ok("POST", "/api/users", json={"username": m, "password": PASSWORD, "role": "agent",
                                              "team_id": team_id(admin, "green")})  # fmt: skip
    name = unique("Red team ")
    made = admin.ok("POST", "/api/admin/teams", json={"name": name, "members": members,
                                                       "supervisors": ["manager"]})  # fmt: skip
    assert made == {"id": made["id"], "name": name, "members": sorted(members),
                    "supervisors": ["manager"]}  # fmt: skip
    green = admin.ok("GET", f"/api/admin/teams/{team_id(admin, 'green')}")
    assert not set(members) & set(green["members"])  # moved: one team per user
    url = f"/api/admin/teams/{made['id']}"
    changed = admin.ok("PATCH", url, json={"members": members[:1], "supervisors": []})
    assert changed == {**made, "members": members[:1], "supervisors": []}
    users = {u["username"]: u for u in admin.ok("GET", "/api/users")}
    assert users[members[0]]["team_id"] == made["id"] and users[members[1]]["team_id"] is None
    renamed = admin.ok("PATCH", url, json={"name": name + " (east)"})
    assert renamed["name"] == name + " (east)" and renamed["members"] == members[:1]

    error(admin.delete(url), 409,
          f"team {renamed['name']!r} has members ({members[0]!r}); move them to another team "
          "first")  # fmt: skip
    admin.ok("PATCH", url, json={"members": []})
    assert admin.delete(url).status_code == 204
    error(admin.get(url), 404, f"no team {made['id']}")


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"name": "blue"}, 409, "team 'blue' already exists"),
        ({"name": "  "}, 422, "name: must not be empty"),
        ({"members": ["zed"]}, 422, "members[0]: unknown user 'zed'"),
        ({"supervisors": ["ann"]}, 422,
         "supervisors[0]: user 'ann' has role 'agent'; expected a supervisor or manager"),
        ({"members": "ann"}, 422, "members: Input should be a valid list"),
    ],
)  # fmt: skip
def test_team_validation(admin: Client, body: dict[str, Any], status: int, message: str) -> None:
    error(admin.post("/api/admin/teams", json={"name": "purple", **body}), status, message)
    assert all(t["name"] != "purple" for t in admin.ok("GET", "/api/admin/teams"))


# --------------------------------------------------------------------------- tokens


def test_a_password_reset_revokes_the_users_tokens_and_sessions(
    server: LiveServer, admin: Client
) -> None:
    name = unique("tok")
    user = admin.ok("POST", "/api/users", json={"username": name, "password": PASSWORD,
                                                  "role": "qa"})  # fmt: skip
    page = signed_in(server, name)
    tokens = [page.ok("POST", "/api/tokens", json={"name": f"t{i}"})["token"] for i in (1, 2)]

    def me_with(token: str) -> int:
        return httpx.get(f"{server.url}/api/me", headers={"Authorization": f"Bearer {token}"},
                         timeout=10.0).status_code  # fmt: skip

    assert [me_with(t) for t in tokens] == [200, 200]
    admin.ok("PATCH", f"/api/users/{user['id']}", json={"password": "Quite-New-Secret-7"})
    assert [me_with(t) for t in tokens] == [401, 401]
    assert page.get("/api/me").status_code == 401
    listed = admin.ok("GET", f"/api/users/{user['id']}/tokens")
    assert [(t["name"], t["revoked"]) for t in listed] == [("t1", True), ("t2", True)]
    # a bad new password changes nothing (and is refused naming the rule)
    error(admin.patch(f"/api/users/{user['id']}", json={"password": "12345678"}), 422,
          "password: one of the 30,000 most common passwords (zxcvbn's list); "
          "expected one that is not")  # fmt: skip
    assert login_status(server, name, "Quite-New-Secret-7") == 200


def test_an_admin_lists_and_revokes_another_users_tokens(server: LiveServer, admin: Client) -> None:
    name = unique("tk")
    user = admin.ok("POST", "/api/users", json={"username": name, "password": PASSWORD,
                                                  "role": "supervisor"})  # fmt: skip
    with signed_in(server, name) as own:
        made = [own.ok("POST", "/api/tokens", json={"name": n}) for n in ("ci", "laptop", "x")]
    url = f"/api/users/{user['id']}/tokens"
    listed = admin.ok("GET", url)
    assert [(t["id"], t["name"], t["revoked"]) for t in listed] == [
        (m["id"], m["name"], False) for m in made
    ]
    assert all("token" not in t for t in listed)  # the secrets are never shown again

    def me_with(token: str) -> int:
        return httpx.get(f"{server.url}/api/me", headers={"Authorization": f"Bearer {token}"},
                         timeout=10.0).status_code  # fmt: skip

    assert admin.delete(f"{url}/{made[0]['id']}").status_code == 204
    assert [me_with(m["token"]) for m in made] == [401, 200, 200]
    assert admin.delete(url).status_code == 204
    assert [me_with(m["token"]) for m in made] == [401, 401, 401]
    assert [t["revoked"] for t in admin.ok("GET", url)] == [True, True, True]
    # a token of someone else, a user that is not there
    error(admin.delete(f"/api/users/1/tokens/{made[1]['id']}"), 404,
          f"no token {made[1]['id']!r}")  # fmt: skip
    error(admin.get("/api/users/99999/tokens"), 404, "no user 99999")
    error(admin.delete("/api/users/99999/tokens"), 404, "no user 99999")
    # only users.manage may
    with signed_in(server, "manager") as m:
        error(m.get(url), 403, "role 'manager' may not do this (users.manage)")
        error(m.delete(url), 403, "role 'manager' may not do this (users.manage)")
