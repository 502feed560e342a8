"""The CRM's read services in-process on a SQLite file: contact lists (filters, row scope,
paging), one contact with its agents and transcript, the contact and customer search, the
customer directory — and that the API renders their views field for field.

The contacts are made by hand below; each expected list is worked out from that table
(newest first: ``arrived_at`` descending).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.support.seed import seed

from callcenter import errors
from callcenter.api.crm_schemas import CardOut, ContactDetail, ContactOut, SearchOut
from callcenter.auth.service import Principal, principal_for
from callcenter.crm import contacts, search, service
from callcenter.crm.common import CrmError, NotFoundError
from callcenter.storage.db import make_engine
from callcenter.storage.tables import ContactAgent, ContactNote, ContactRow, Customer, Message, User

T0 = 1_700_000_000.0

# id -> (customer, channel, queue, status, arrived_at - T0, subject, agents in holding order)
CONTACTS = {
    "c-ann-1": ("Kim", "chat", "support", "closed", 10, "Refund for order 42", ["ann"]),
    "c-ann-2": ("Kim", "voice", "sales", "active", 20, "Upgrade", ["ann"]),
    "c-xfer": ("Lee", "chat", "support", "closed", 30, "Refund 100% please", ["bob", "ann"]),
    "c-bob": ("Kim", "chat", "support", "closed", 40, "Invoice copy", ["bob"]),
    "c-cid": (None, "chat", "sales", "closed", 50, "Pricing", ["cid"]),
    "c-lost": ("Kim", "chat", "support", "abandoned", 60, "Hello?", []),
}


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('crm-contacts')) / 'crm.db'}"
    seed(url)  # users ann, bob (team blue), cid (green), sue (supervises blue), admin ...
    return url


@pytest.fixture
def s(db_url: str) -> Iterator[Session]:
    """A session holding the contacts above, rolled back after the test."""
    engine = make_engine(db_url)
    with Session(engine) as session:
        session.begin()
        try:
            _add_contacts(session)
            yield session
        finally:
            session.rollback()
    engine.dispose()


def _add_contacts(s: Session) -> None:
    customers = {
        "Kim": Customer(name="Kim", email="kim@example.com", phone=None, company=None,
                        notes="", created_at=T0, updated_at=T0),
        "Lee": Customer(name="Lee", email=None, phone="+14155550123", company="Acme",
                        notes="", created_at=T0, updated_at=T0),
    }  # fmt: skip
    s.add_all(customers.values())
    s.flush()
    for cid, (who_, channel, queue, status, t, subject, agents) in CONTACTS.items():
        s.add(ContactRow(
            id=cid, customer_id=customers[who_].id if who_ else None, channel=channel,
            queue=queue, agent=agents[-1] if agents else None, status=status,
            arrived_at=T0 + t, subject=subject,
        ))  # fmt: skip
        s.flush()
        author = agents[-1] if agents else "-"
        s.add(ContactNote(contact_id=cid, author=author, body=f"notes of {cid}",
                          created_at=T0 + t, updated_at=T0 + t))  # fmt: skip
        s.add_all(ContactAgent(contact_id=cid, agent=a) for a in agents)
    s.add_all([
        Message(contact_id="c-xfer", t=T0 + 31, sender="customer", agent=None, body="hi"),
        Message(contact_id="c-xfer", t=T0 + 32, sender="agent", agent="bob", body="moving you"),
        Message(contact_id="c-xfer", t=T0 + 33, sender="agent", agent="ann", body="done"),
    ])  # fmt: skip
    s.flush()


def who(s: Session, username: str) -> Principal:
    user = s.scalar(select(User).where(User.username == username))
    assert user is not None
    return principal_for(s, user)


def ids(s: Session, username: str, **filters: object) -> list[str]:
    f = contacts.ContactFilter(**filters)  # type: ignore[arg-type]
    rows, total = contacts.list_contacts(s, who(s, username), f)
    assert total == len(rows)
    return [r.id for r in rows]


# --------------------------------------------------------------------------- lists


def test_contact_list_is_scoped_to_the_reader(s: Session) -> None:
    assert ids(s, "admin") == ["c-lost", "c-cid", "c-bob", "c-xfer", "c-ann-2", "c-ann-1"]
    assert ids(s, "ann") == ["c-xfer", "c-ann-2", "c-ann-1"]  # those she held
    assert ids(s, "bob") == ["c-bob", "c-xfer"]  # a transfer counts for both agents
    assert ids(s, "cid") == ["c-cid"]
    assert ids(s, "sue") == ["c-bob", "c-xfer", "c-ann-2", "c-ann-1"]  # team blue's


def test_contact_filter_by_status_keeps_the_scope(s: Session) -> None:
    assert ids(s, "ann", status="closed") == ["c-xfer", "c-ann-1"]
    assert ids(s, "ann", status="abandoned") == []
    assert ids(s, "admin", status="abandoned") == ["c-lost"]
    assert ids(s, "sue", status="closed") == ["c-bob", "c-xfer", "c-ann-1"]


def test_contact_filters_queue_agent_customer_and_arrival(s: Session) -> None:
    kim = s.scalar(select(Customer.id).where(Customer.name == "Kim"))
    assert ids(s, "admin", queue="sales") == ["c-cid", "c-ann-2"]
    assert ids(s, "admin", agent="bob") == ["c-bob", "c-xfer"]  # held, not only the last
    assert ids(s, "admin", customer_id=kim) == ["c-lost", "c-bob", "c-ann-2", "c-ann-1"]
    # [from, to): 20 is in, 40 is out
    assert ids(s, "admin", arrived_from=T0 + 20, arrived_to=T0 + 40) == ["c-xfer", "c-ann-2"]
    assert ids(s, "ann", arrived_from=T0 + 25) == ["c-xfer"]
    assert ids(s, "admin", customer_id=kim, queue="support", status="closed") == [
        "c-bob",
        "c-ann-1",
    ]


def test_contact_list_pages_and_counts_all_matches(s: Session) -> None:
    rows, total = contacts.list_contacts(
        s, who(s, "admin"), contacts.ContactFilter(), limit=2, offset=1
    )
    assert ([r.id for r in rows], total) == (["c-cid", "c-bob"], 6)
    first = rows[1]
    assert (first.customer_name, first.channel, first.queue, first.agent, first.status) == (
        "Kim", "chat", "support", "bob", "closed",
    )  # fmt: skip
    cid, _ = contacts.list_contacts(s, who(s, "admin"), contacts.ContactFilter(queue="sales"))
    assert cid[0].customer_name is None and cid[0].customer_id is None  # no customer


def test_bad_contact_filters_are_named(s: Session) -> None:
    with pytest.raises(CrmError) as e:
        ids(s, "admin", status="done")
    assert str(e.value) == (
        "status: 'done' is not a contact status (expected ivr, queued, ringing, active, wrapup, "
        "closed, abandoned, timeout)"
    )
    assert not isinstance(e.value, errors.NotFoundError | errors.ConflictError)  # plain 422
    with pytest.raises(CrmError, match=r"^to: 100 is not after from \(200\)$"):
        contacts.list_contacts(
            s, who(s, "admin"), contacts.ContactFilter(arrived_from=200, arrived_to=100)
        )
    with pytest.raises(CrmError, match=r"^to: 1\.5 is not after from \(1\.5\)$"):
        ids(s, "admin", arrived_from=1.5, arrived_to=1.5)  # an empty span too


# --------------------------------------------------------------------------- one contact


def test_contact_detail_has_agents_transcript_and_customer(s: Session) -> None:
    d = contacts.contact_detail(s, who(s, "ann"), "c-xfer")
    assert (d.id, d.customer_name, d.agent, d.notes) == ("c-xfer", "Lee", "ann", "notes of c-xfer")
    assert d.customer is not None
    assert (d.customer.name, d.customer.email, d.customer.phone) == ("Lee", None, "+14155550123")
    assert d.agents == ["ann", "bob"]  # in name order, not holding order
    assert [(m.sender, m.agent, m.body) for m in d.messages] == [
        ("customer", None, "hi"),
        ("agent", "bob", "moving you"),
        ("agent", "ann", "done"),
    ]
    lost = contacts.contact_detail(s, who(s, "admin"), "c-cid")
    assert (lost.customer, lost.customer_name, lost.agents, lost.messages) == (
        None,
        None,
        ["cid"],
        [],
    )


def test_a_contact_out_of_scope_is_not_found_like_a_missing_one(s: Session) -> None:
    ann = who(s, "ann")
    for cid in ("c-bob", "nope"):
        with pytest.raises(NotFoundError) as e:
            contacts.contact_detail(s, ann, cid)
        assert str(e.value) == f"no contact {cid!r}"
    with pytest.raises(NotFoundError):
        contacts.contact_detail(s, who(s, "sue"), "c-cid")  # team green's


# --------------------------------------------------------------------------- search


def test_search_contacts_by_id_or_subject_within_scope(s: Session) -> None:
    ann = who(s, "ann")
    found, total = contacts.search_contacts(s, ann, "REFUND")
    assert ([c.id for c in found], total) == (["c-xfer", "c-ann-1"], 2)
    assert contacts.search_contacts(s, ann, "c-bob") == ([], 0)
    assert [c.id for c in contacts.search_contacts(s, who(s, "admin"), " c-bob ")[0]] == ["c-bob"]
    # LIKE wildcards are plain characters: "0%" matches "100%" only, "_" nothing
    assert [c.id for c in contacts.search_contacts(s, ann, "0%")[0]] == ["c-xfer"]
    assert contacts.search_contacts(s, ann, "_")[0] == []


def test_search_finds_customers_and_contacts_and_names_an_empty_query(s: Session) -> None:
    found = search.search(s, who(s, "ann"), "kim", now=T0)
    assert [c.name for c in found.customers] == ["Kim"]
    assert found.tickets == [] and found.contacts == []
    found = search.search(s, who(s, "ann"), "upgrade", now=T0, limit=1)
    assert [c.id for c in found.contacts] == ["c-ann-2"]
    with pytest.raises(CrmError, match=r"^q: must not be empty \(a name"):
        search.search(s, who(s, "ann"), "  ", now=T0)


def test_customer_directory_by_name_or_query(s: Session) -> None:
    s.add(Customer(name="aaron", email=None, phone=None, company=None, notes="",
                   created_at=T0, updated_at=T0))  # fmt: skip
    s.flush()
    everyone, total = service.list_customers(s)
    names = [c.name for c in everyone]
    assert names.index("aaron") < names.index("Kim") < names.index("Lee")  # any case
    assert total == len(everyone)
    page, total2 = service.list_customers(s, limit=1, offset=1)
    assert ([c.name for c in page], total2) == ([names[1]], total)
    acme, n = service.list_customers(s, "acme")
    assert ([(c.name, c.company, c.phone) for c in acme], n) == (
        [("Lee", "Acme", "+14155550123")],
        1,
    )
    by_phone, _ = service.list_customers(s, "(415) 555-0123")
    assert [c.name for c in by_phone] == ["Lee"]


# --------------------------------------------------------------------------- rendering


def test_the_api_renders_the_views_field_for_field(s: Session) -> None:
    admin = who(s, "admin")
    detail = contacts.contact_detail(s, admin, "c-xfer")
    out = ContactDetail.model_validate(detail)
    assert out.model_dump() == detail.model_dump()
    assert type(out.messages[0]).__name__ == "MessageOut"
    assert out.customer is not None and type(out.customer).__name__ == "CustomerBrief"
    rows, _ = contacts.list_contacts(s, admin, contacts.ContactFilter())
    assert [ContactOut.model_validate(r).model_dump() for r in rows] == [
        r.model_dump() for r in rows
    ]
    kim = s.scalar(select(Customer.id).where(Customer.name == "Kim"))
    assert kim is not None
    card = service.customer_card(s, admin, kim, now=T0)
    assert CardOut.model_validate(card).model_dump() == card.model_dump()
    found = search.search(s, admin, "refund", now=T0)
    assert SearchOut.model_validate(found).model_dump() == found.model_dump()
