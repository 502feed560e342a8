"""Row-level isolation over the whole API: an agent never receives another agent's
contact, a supervisor never one outside its teams — through ANY GET route.

The data: customers served by several agents, contacts held by ann only, bob only, cid
only, ann then bob (a transfer), and nobody (still queued); each contact's subject,
notes and messages carry markers; tickets and follow-ups link to the contacts.  The
test then walks every GET route in the server's OpenAPI document (whoever wrote it:
CRM, desk, chat, wallboard, reports, admin ...) with every path parameter filled from
the ids above, and asserts that no forbidden contact id or marker appears anywhere in
any response.  A request that names a forbidden contact in its URL must answer exactly
like one naming a contact that never existed.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy.orm import Session
from tests.support.seed import seed
from tests.support.server import Client, LiveServer, running_server

from callcenter.storage.db import make_engine
from callcenter.storage.tables import (
    ContactAgent,
    ContactNote,
    ContactRow,
    Customer,
    FollowUp,
    Message,
    Ticket,
)

NOW = time.time()

# contact id -> (customer key, agents who held it, status)
CONTACTS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "iso-ann-1": ("P", ("ann",), "closed"),
    "iso-xfer-1": ("P", ("ann", "bob"), "closed"),
    "iso-bob-1": ("P", ("bob",), "closed"),
    "iso-cid-1": ("P", ("cid",), "closed"),
    "iso-bob-2": ("R", ("bob",), "closed"),
    "iso-cid-2": ("Q", ("cid",), "wrapup"),
    "iso-nobody-1": ("P", (), "queued"),
}
VISIBLE = {
    "ann": {"iso-ann-1", "iso-xfer-1"},
    "sue": {"iso-ann-1", "iso-xfer-1", "iso-bob-1", "iso-bob-2"},  # team blue: ann, bob
}


def markers(contact_id: str) -> list[str]:
    """Strings only that contact's own record carries (id, subject, notes, messages)."""
    return [contact_id, f"SUBJ-{contact_id}", f"NOTE-{contact_id}", f"MSG-{contact_id}"]


@dataclass(frozen=True)
class World:
    server: LiveServer
    customers: dict[str, int]
    tickets: list[int]
    follow_ups: list[int]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp: Path = tmp_path_factory.mktemp("isolation")
    db_url = f"sqlite:///{tmp / 'center.db'}"
    seed(db_url)
    engine = make_engine(db_url)
    try:
        with Session(engine) as s, s.begin():
            customers = {}
            for key in "PQR":
                c = Customer(name=f"Customer {key}", email=f"{key.lower()}@example.com",
                             notes="", created_at=NOW, updated_at=NOW)  # fmt: skip
                s.add(c)
                s.flush()
                customers[key] = c.id
            for i, (cid, (key, holders, status)) in enumerate(CONTACTS.items()):
                t = NOW - 3600 * (10 - i)
                s.add(ContactRow(
                    id=cid, customer_id=customers[key], channel="chat", queue="support",
                    agent=holders[-1] if holders else None, status=status,
                    subject=f"SUBJ-{cid}", arrived_at=t,
                    disposition="resolved" if status == "closed" else None,
                ))  # fmt: skip
                s.flush()
                s.add(ContactNote(contact_id=cid, author=holders[-1] if holders else "-",
                                  body=f"NOTE-{cid}", created_at=t, updated_at=t))  # fmt: skip
                s.add_all(ContactAgent(contact_id=cid, agent=a) for a in holders)
                s.add(Message(contact_id=cid, t=t + 5, sender="customer", body=f"MSG-{cid}"))
            links = [  # (customer, contact, assignee, created_by)
                ("P", "iso-bob-1", "ann", "bob"),  # ann: assignee, contact hidden
                ("Q", "iso-cid-2", "cid", "cid"),  # ann: not involved at all
                ("R", "iso-bob-2", "ann", "sue"),  # ann: assignee, contact hidden
                ("P", "iso-cid-1", None, "cid"),  # ann served P: sees it, contact hidden
                ("P", "iso-ann-1", "bob", "ann"),  # ann's own contact
            ]
            tickets, follow_ups = [], []
            for key, contact, assignee, creator in links:
                tk = Ticket(customer_id=customers[key], contact_id=contact,
                            subject=f"ticket on {key}", status="open", priority="normal",
                            sla_due_at=NOW + 3600, assignee=assignee, created_by=creator,
                            created_at=NOW, updated_at=NOW)  # fmt: skip
                s.add(tk)
                s.flush()
                tickets.append(tk.id)
                fu = FollowUp(customer_id=customers[key], contact_id=contact, ticket_id=tk.id,
                              assignee=assignee or creator, due_at=NOW + 7200, note="call",
                              created_by=creator, created_at=NOW)  # fmt: skip
                s.add(fu)
                s.flush()
                follow_ups.append(fu.id)
    finally:
        engine.dispose()
    with running_server(db_url, tmp, CALLCENTER_API_DOCS="true") as server:
        yield World(server, customers, tickets, follow_ups)


def _get_paths(client: Client) -> list[str]:
    spec = client.get("/openapi.json").json()
    return sorted(p for p, ops in spec["paths"].items() if "get" in ops)


def _urls(w: World, paths: list[str]) -> list[str]:
    """Every GET path with its parameters filled from the world's ids (all combinations),
    plus query variants of the CRM's list routes."""
    ids = [*w.customers.values(), *w.tickets, *w.follow_ups]
    values = [*CONTACTS, "never-existed", *map(str, ids), "ann", "bob", "cid", "support"]
    urls = ["/", "/crm", "/agent", "/wallboard", "/reports", "/admin"]  # pages too
    for path in paths:
        params = re.findall(r"\{([^}]+)\}", path)
        for combo in itertools.product(values, repeat=len(params)):
            url = path
            for name, value in zip(params, combo, strict=True):
                url = url.replace("{" + name + "}", quote(value, safe=""))
            urls.append(url)
    queries = [f"?agent={a}" for a in ("ann", "bob", "cid")]
    queries += [f"?customer_id={c}" for c in w.customers.values()]
    queries += ["?status=closed", "?status=queued", "?queue=support", "?limit=500", "?all=true",
                "?done=true", "?open=true", "?assignee=cid", "?assignee=ann"]  # fmt: skip
    for base in ("/api/contacts", "/api/tickets", "/api/follow-ups", "/api/customers"):
        urls += [base + q for q in queries]
    searches = [*CONTACTS, "SUBJ-", "MSG-", "NOTE-", "iso", "Customer", "ticket", "example.com"]
    urls += [f"/api/search?q={quote(q)}" for q in searches]
    urls += [f"/api/customers?q={quote(q)}" for q in searches]
    return urls


def _check_isolation(w: World, user: str) -> int:
    forbidden = [c for c in CONTACTS if c not in VISIBLE[user]]
    with w.server.client(user) as client:
        urls = _urls(w, _get_paths(client))
        checked = 0
        for url in urls:
            r = client.get(url, follow_redirects=False)
            assert r.status_code < 500, f"GET {url} as {user} -> {r.status_code}: {r.text}"
            named = [c for c in forbidden if quote(c, safe="") in url]
            text = r.text
            for c in named:  # the answer must not tell a forbidden contact from none
                twin = client.get(url.replace(quote(c, safe=""), "never-existed"))
                assert r.status_code == twin.status_code, f"GET {url} as {user}"
                assert text.replace(c, "never-existed") == twin.text, f"GET {url} as {user}"
                text = text.replace(c, "")
            for c in forbidden:
                for m in markers(c):
                    assert m not in text, f"GET {url} as {user} leaked {m!r}: {text[:300]}"
            checked += 1
        return checked


def test_agent_never_receives_other_agents_contacts(world: World) -> None:
    w = world
    checked = _check_isolation(w, "ann")
    assert checked > 100
    with w.server.client("ann") as ann:  # the positive side: what ann may see is there
        ids = [c["id"] for c in ann.ok("GET", "/api/contacts")["contacts"]]
        assert sorted(ids) == sorted(VISIBLE["ann"])
        card = ann.ok("GET", f"/api/customers/{w.customers['P']}/card")
        assert sorted(h["id"] for h in card["history"] if h["id"]) == sorted(VISIBLE["ann"])
        assert len(card["history"]) == 5  # + bob's, cid's and the queued one as outcomes
        tickets = ann.ok("GET", "/api/tickets")["tickets"]
        assert sorted(t["id"] for t in tickets) == sorted(
            [w.tickets[0], w.tickets[2], w.tickets[3], w.tickets[4]]
        )
        assert [t["contact_id"] for t in tickets if t["id"] == w.tickets[4]] == ["iso-ann-1"]
        assert ann.get(f"/api/tickets/{w.tickets[1]}").status_code == 404
        detail = ann.ok("GET", "/api/contacts/iso-xfer-1")
        assert [m["body"] for m in detail["messages"]] == ["MSG-iso-xfer-1"]


def test_supervisor_sees_its_teams_contacts_only(world: World) -> None:
    w = world
    assert _check_isolation(w, "sue") > 100
    with w.server.client("sue") as sue:
        ids = [c["id"] for c in sue.ok("GET", "/api/contacts?limit=500")["contacts"]]
        assert sorted(ids) == sorted(VISIBLE["sue"])
        assert sue.ok("GET", "/api/contacts/iso-bob-1")["agents"] == ["bob"]
        assert sue.get("/api/contacts/iso-cid-1").status_code == 404
    with w.server.client("admin") as admin:  # and everything exists for those who see all
        ids = [c["id"] for c in admin.ok("GET", "/api/contacts?limit=500")["contacts"]]
        assert sorted(ids) == sorted(CONTACTS)
