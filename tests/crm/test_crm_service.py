"""The CRM services in-process on a real SQLite file: phone and e-mail normalisation,
chat claims and linking, search ranking, SLA due times, ticket and follow-up rules, and
the customer card's masking of contacts the reader may not open.

Expected values are worked out by hand in each test (E.164 forms from the numbering
plans, SLA times as creation + hours × 3600).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.support.seed import seed

from callcenter import errors
from callcenter.auth.service import Principal, principal_for
from callcenter.crm import claims, service, tickets
from callcenter.crm.common import ConflictError, CrmError, NotFoundError
from callcenter.storage.audit import Actor
from callcenter.storage.db import make_engine
from callcenter.storage.tables import AuditRow, ContactAgent, ContactRow, Customer, User

T0 = 1_700_000_000.0  # a fixed "now" for records written in these tests
ACTOR = Actor(user_id=None, username="tester", role="admin", address="127.0.0.1")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The CRM's queries (LIKE with escapes, CASE ranking, EXISTS scopes) on both kinds of
    database the server supports: a SQLite file and a real PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('crm') / 'crm.db'}"
        seed(url)  # users ann, bob (team blue), cid (green), sue (supervises blue) ...
        yield url
        return
    pg = request.getfixturevalue("postgres_server")
    url = pg.create_database("crm_service")
    try:
        seed(url)
        yield url
    finally:
        pg.drop_database("crm_service")


@pytest.fixture
def s(db_url: str) -> Iterator[Session]:
    """A session whose work is rolled back after the test (tests stay independent)."""
    engine = make_engine(db_url)
    with Session(engine) as session:
        session.begin()
        try:
            yield session
        finally:
            session.rollback()
    engine.dispose()


def who(s: Session, username: str) -> Principal:
    user = s.scalar(select(User).where(User.username == username))
    assert user is not None
    return principal_for(s, user)


# --------------------------------------------------------------------------- phones


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("(415) 555-0123", "US", "+14155550123"),  # US national format
        ("415.555.0123", "US", "+14155550123"),
        ("+1 415 555 0123", "GB", "+14155550123"),  # international: region ignored
        ("020 7946 0018", "GB", "+442079460018"),  # UK national: trunk 0 dropped
        ("+44 20 7946 0018", "US", "+442079460018"),
        ("06 12 34 56 78", "fr", "+33612345678"),  # French mobile, region any case
        ("00 1 415 555 0123", "DE", "+14155550123"),  # German international prefix 00
        ("011 44 20 7946 0018", "US", "+442079460018"),  # US international prefix 011
    ],
)
def test_normalize_phone_to_e164(raw: str, region: str, e164: str) -> None:
    assert service.normalize_phone(raw, region) == e164


def test_normalize_phone_blank_is_none_and_bad_numbers_are_named() -> None:
    assert service.normalize_phone(None) is None
    assert service.normalize_phone("   ") is None
    with pytest.raises(CrmError) as e:
        service.normalize_phone("12345")
    assert str(e.value) == (
        "phone '12345' is not a valid phone number (expected E.164 like +14155550123, "
        "or a national number of region US)"
    )
    with pytest.raises(CrmError, match=r"^phone 'call me' is not a valid phone number"):
        service.normalize_phone("call me")
    # a UK national number is not a valid US number
    with pytest.raises(CrmError, match=r"^phone '020 7946 0018' is not a valid .* region US\)$"):
        service.normalize_phone("020 7946 0018", "US")
    with pytest.raises(CrmError) as e:
        service.normalize_phone("415 555 0123", "XX")
    assert str(e.value) == (
        "region 'XX' is not a known phone region (expected an ISO 3166 code like US, GB or DE)"
    )


def test_normalize_email() -> None:
    assert service.normalize_email("  Ann.Smith@Example.COM ") == "ann.smith@example.com"
    assert service.normalize_email("") is None
    # Unicode addresses (RFC 6531) are addresses: a Persian and a Lithuanian one
    assert service.normalize_email("مریم@example.ir") == "مریم@example.ir"
    assert service.normalize_email("Rūta@Example.LT") == "rūta@example.lt"
    bads = ("ann@", "ann example.com", "ann@example", "a@@b.com", "@example.com",
            'x"><script>@example.com', "ann@printer.local", "a\x00b@example.com")  # fmt: skip
    for bad in bads:
        with pytest.raises(CrmError) as e:
            service.normalize_email(bad)
        assert str(e.value) == (
            f"email {bad!r} is not a valid e-mail address (expected name@domain.tld)"
        )


# --------------------------------------------------------------------------- claims


def _chat(s: Session, cid: str, *, email: str | None, phone: str | None, name: str = "X") -> None:
    s.add(ContactRow(id=cid, channel="chat", queue="support", status="queued", arrived_at=T0,
                     claimed_name=name, claimed_email=email, claimed_phone=phone))  # fmt: skip
    s.flush()


def _customer(s: Session, name: str, email: str | None, phone: str | None) -> Customer:
    c = Customer(name=name, email=email, phone=phone, notes="", created_at=T0, updated_at=T0)
    s.add(c)
    s.flush()
    return c


def test_possible_matches_by_email_and_phone(s: Session) -> None:
    ann = _customer(s, "Ann Smith", "ann@example.com", "+14155550123")
    household = _customer(s, "Household", None, "+12125550199")
    _customer(s, "Other", "other@example.com", None)
    found = claims.possible_matches(
        s,
        [("c1", "ann@example.com", "+12125550199"), ("c2", None, "+14155550123"),
         ("c3", "nobody@example.com", None), ("c4", None, None)],
    )  # fmt: skip
    got = {cid: [(m.customer.id, m.by) for m in ms] for cid, ms in found.items()}
    assert got == {
        "c1": [(ann.id, ["email"]), (household.id, ["phone"])],
        "c2": [(ann.id, ["phone"])],
        "c3": [],
        "c4": [],
    }


def test_link_contact_touches_no_record_and_a_link_stays(s: Session) -> None:
    ann = _customer(s, "Ann Smith", "ann@example.com", None)
    other = _customer(s, "Bob", "bob@example.com", None)
    _chat(s, "c-link", email="ann@example.com", phone="+14155550100", name="Mallory")
    linked = claims.link_contact(s, "c-link", ann.id, now=T0 + 5, actor=ACTOR)
    assert (linked.before, linked.after, linked.by, linked.how) == (None, ann.id, "tester", "agent")
    row = s.get(Customer, ann.id)
    assert row is not None and (row.name, row.email, row.phone, row.updated_at) == (
        "Ann Smith", "ann@example.com", None, T0)  # fmt: skip
    again = claims.link_contact(s, "c-link", ann.id, now=T0 + 6, actor=ACTOR)  # same: no change
    assert (again.before, again.after) == (ann.id, ann.id)
    with pytest.raises(ConflictError) as e:
        claims.link_contact(s, "c-link", other.id, now=T0 + 7, actor=ACTOR)
    assert str(e.value) == (
        f"contact 'c-link' is already linked to customer {ann.id}; it stays with it"
    )
    with pytest.raises(NotFoundError, match=r"^no customer 999999$"):
        claims.link_contact(s, "c-link", 999_999, now=T0, actor=ACTOR)
    with pytest.raises(NotFoundError, match=r"^no contact 'nope'$"):
        claims.link_contact(s, "nope", ann.id, now=T0, actor=ACTOR)
    # one audit entry: the link, by whom, from where, before -> after (the same link
    # again changed nothing and wrote nothing)
    entries = s.execute(
        select(AuditRow.action, AuditRow.username, AuditRow.address, AuditRow.at,
               AuditRow.changes).where(AuditRow.entity == "contact", AuditRow.entity_id == "c-link")
    ).all()  # fmt: skip
    assert [tuple(e) for e in entries] == [
        ("contact.link", "tester", "127.0.0.1", T0 + 5,
         {"customer_id": [None, ann.id], "how": [None, "agent"]})
    ]  # fmt: skip


def test_customer_from_claim_never_duplicates_an_email_or_phone(s: Session) -> None:
    _chat(s, "c-new", email="new@example.com", phone="+442079460018", name="Nia")
    made = claims.customer_from_claim(s, "c-new", now=T0, actor=ACTOR)
    c = s.get(Customer, made.after)
    assert c is not None and (c.name, c.email, c.phone) == ("Nia", "new@example.com",
                                                            "+442079460018")  # fmt: skip
    _chat(s, "c-dup", email=None, phone="+442079460018")
    with pytest.raises(ConflictError) as e:
        claims.customer_from_claim(s, "c-dup", now=T0, actor=ACTOR)
    assert str(e.value) == (
        f"phone '+442079460018' already belongs to customer {c.id}; link the contact to that "
        "customer instead"
    )
    s.add(ContactRow(id="c-none", channel="chat", status="queued", arrived_at=T0))
    with pytest.raises(CrmError, match=r"^contact 'c-none' claims no name, e-mail or phone$"):
        claims.customer_from_claim(s, "c-none", now=T0, actor=ACTOR)


def test_a_proven_email_links_to_its_customer_or_a_new_one(s: Session) -> None:
    ann = _customer(s, "Ann Smith", "ann@example.com", None)
    busy = _customer(s, "Busy", None, "+14155550111")
    _chat(s, "c-v1", email="ann@example.com", phone="+14155550100")
    v1 = claims.link_verified(s, "c-v1", "ann@example.com", now=T0 + 1)
    assert (v1.after, v1.by, v1.how) == (ann.id, "customer", "email_code")
    assert s.get(Customer, ann.id).phone is None  # type: ignore[union-attr]  # not proven
    # nobody has the e-mail: a new customer; the claimed phone only if nobody has it
    _chat(s, "c-v2", email="zoe@example.com", phone="+14155550111", name="Zoe")
    v2 = claims.link_verified(s, "c-v2", "zoe@example.com", now=T0 + 2)
    zoe = s.get(Customer, v2.after)
    assert zoe is not None and (zoe.name, zoe.email, zoe.phone) == ("Zoe", "zoe@example.com", None)
    assert v2.after not in (ann.id, busy.id)
    # an agent linked it already: that link stands, the proof is recorded
    _chat(s, "c-v3", email="ann@example.com", phone=None)
    claims.link_contact(s, "c-v3", busy.id, now=T0, actor=ACTOR)
    v3 = claims.link_verified(s, "c-v3", "ann@example.com", now=T0 + 3)
    assert (v3.before, v3.after) == (busy.id, busy.id)
    assert s.get(ContactRow, "c-v3").email_verified_at == T0 + 3  # type: ignore[union-attr]


def test_create_and_update_customer_rules(s: Session) -> None:
    f = service.CustomerFields
    c = service.create_customer(s, f(name="Dora", email="dora@example.com"), now=T0, actor=ACTOR)
    with pytest.raises(ConflictError) as e:
        service.create_customer(s, f(name="Other", email="DORA@example.com"), now=T0, actor=ACTOR)
    assert str(e.value) == f"email 'dora@example.com' already belongs to customer {c.id}"
    with pytest.raises(CrmError, match=r"^name: must not be empty$"):
        service.create_customer(s, f(name="  "), now=T0, actor=ACTOR)
    u = service.update_customer(
        s, c.id, f(phone="030 123456", company="ACME"), now=T0 + 9, region="DE", actor=ACTOR
    )
    assert (u.phone, u.company, u.updated_at) == ("+4930123456", "ACME", T0 + 9)
    u = service.update_customer(
        s, c.id, f(), clear=frozenset({"company"}), now=T0 + 10, actor=ACTOR
    )
    assert u.company is None and u.phone == "+4930123456"
    with pytest.raises(NotFoundError, match=r"^no customer 99999$"):
        service.update_customer(s, 99999, f(name="x"), now=T0, actor=ACTOR)


# --------------------------------------------------------------------------- search


def _add(s: Session, name: str, email: str | None = None, phone: str | None = None,
         company: str | None = None) -> int:  # fmt: skip
    c = Customer(name=name, email=email, phone=phone, company=company, notes="",
                 created_at=T0, updated_at=T0)  # fmt: skip
    s.add(c)
    s.flush()
    return c.id


def test_search_ranks_exact_then_name_prefix_then_substring(s: Session) -> None:
    ann = _add(s, "Ann", "ann.q@example.com")
    smith = _add(s, "Ann Smith", "smith@example.com", "+14155550123")
    anna = _add(s, "Anna Jones", "aj@example.com")
    joanne = _add(s, "Joanne Ray", "jr@example.com")
    zed = _add(s, "Zed Buyer", "zed@example.com", company="Annapolis Supply")
    _add(s, "Bob", "bob@example.com", "+12125550123")

    def ids(q: str, region: str = "US") -> list[int]:
        rows, total = service.search_customers(s, q, region=region, limit=100)
        assert total == len(rows)
        return [r.id for r in rows]

    # exact name, then names starting with "ann" (by name: "ann smith" < "anna jones"),
    # then other matches (name containing, company containing) by name
    assert ids("ann") == [ann, smith, anna, joanne, zed]
    assert ids("ANNAPOLIS") == [zed]  # company, any case
    # an exact e-mail ranks first even where another name sorts earlier
    aaron = _add(s, "Aaron", "xsmith@example.com")
    assert ids("smith@example.com") == [smith, aaron]
    # a phone query is normalised: national and E.164 forms find the same customer
    assert ids("(415) 555-0123") == [smith]
    assert ids("+1-415-555-0123") == [smith]
    # a partial phone number matches on digits (both numbers contain 5550123)
    assert sorted(ids("555-0123")) == sorted([smith, _bob(s)])
    assert ids("415555") == [smith]
    # LIKE wildcards in the query are literal characters
    assert ids("%") == [] and ids("_") == []
    rows, total = service.search_customers(s, "ann", limit=2, offset=1)
    assert [r.id for r in rows] == [smith, anna] and total == 5
    with pytest.raises(CrmError, match=r"^q: must not be empty"):
        service.search_customers(s, "  ")


def _bob(s: Session) -> int:
    found = s.scalar(select(Customer.id).where(Customer.email == "bob@example.com"))
    assert found is not None
    return found


# --------------------------------------------------------------------------- tickets


def test_sla_due_from_priority_by_hand(s: Session) -> None:
    ann = who(s, "ann")
    cust = _add(s, "Sla Customer", "sla@example.com")
    f = tickets.TicketFields
    expected_hours = {"urgent": 4, "high": 8, "normal": 24, "low": 72}
    for priority, hours in expected_hours.items():
        t = tickets.create_ticket(
            s,
            ann,
            f(customer_id=cust, subject=f"p {priority}", priority=priority),
            now=T0,
            actor=ACTOR,
        )
        assert t.sla_due_at == T0 + hours * 3600
        assert (t.status, t.created_by, t.assignee) == ("open", "ann", None)
    default = tickets.create_ticket(
        s, ann, f(customer_id=cust, subject="no priority"), now=T0, actor=ACTOR
    )
    assert default.priority == "normal" and default.sla_due_at == T0 + 86_400
    given = tickets.create_ticket(
        s, ann, f(customer_id=cust, subject="given", sla_due_at=T0 + 600), now=T0, actor=ACTOR
    )
    assert given.sla_due_at == T0 + 600
    # a new priority moves the due time to creation + the new hours
    moved = tickets.update_ticket(
        s, ann, default.id, f(priority="urgent"), now=T0 + 3600, actor=ACTOR
    )
    assert moved.sla_due_at == T0 + 4 * 3600 and moved.updated_at == T0 + 3600
    # overdue: open/pending after the due time; never once solved
    (view,) = tickets.ticket_views(s, ann, [moved], T0 + 4 * 3600 + 1)
    assert view.overdue
    (view,) = tickets.ticket_views(s, ann, [moved], T0 + 4 * 3600)
    assert not view.overdue
    solved = tickets.update_ticket(
        s, ann, moved.id, f(status="solved"), now=T0 + 5 * 3600, actor=ACTOR
    )
    (view,) = tickets.ticket_views(s, ann, [solved], T0 + 10 * 3600)
    assert not view.overdue
    views, total = tickets.list_tickets(s, ann, now=T0 + 5 * 3600, customer_id=cust,
                                        overdue=True)  # fmt: skip
    assert total == 2 and {v.subject for v in views} == {"p urgent", "given"}


def test_ticket_rules_and_messages(s: Session) -> None:
    ann = who(s, "ann")
    cust = _add(s, "Rules", "rules@example.com")
    f = tickets.TicketFields
    t = tickets.create_ticket(
        s, ann, f(customer_id=cust, subject="x", assignee="bob"), now=T0, actor=ACTOR
    )
    assert t.assignee == "bob"
    with pytest.raises(CrmError) as e:
        tickets.create_ticket(
            s, ann, f(customer_id=cust, subject="x", priority="asap"), now=T0, actor=ACTOR
        )
    assert str(e.value) == "priority: 'asap' is not a priority (expected low, normal, high, urgent)"
    with pytest.raises(CrmError) as e:
        tickets.update_ticket(s, ann, t.id, f(status="done"), now=T0, actor=ACTOR)
    assert str(e.value) == (
        "status: 'done' is not a ticket status (expected open, pending, solved, closed)"
    )
    with pytest.raises(CrmError) as e:
        tickets.update_ticket(s, ann, t.id, f(assignee="nobody"), now=T0, actor=ACTOR)
    assert str(e.value) == "assignee: no active user 'nobody' (expected an existing username)"
    with pytest.raises(CrmError, match=r"^sla_due_at: 1699999000 is not in the future"):
        tickets.create_ticket(
            s, ann, f(customer_id=cust, subject="x", sla_due_at=T0 - 1000), now=T0, actor=ACTOR
        )
    with pytest.raises(NotFoundError, match=r"^no customer 424242$"):
        tickets.create_ticket(s, ann, f(customer_id=424242, subject="x"), now=T0, actor=ACTOR)
    tickets.update_ticket(s, ann, t.id, f(status="closed"), now=T0 + 1, actor=ACTOR)
    with pytest.raises(ConflictError) as c:
        tickets.update_ticket(s, ann, t.id, f(status="open"), now=T0 + 2, actor=ACTOR)
    assert isinstance(c.value, errors.ConflictError)  # the kind api/errors.py answers 409
    assert str(c.value) == f"ticket {t.id} is closed and cannot change (open a new ticket)"


def test_follow_up_rules(s: Session) -> None:
    bob = who(s, "bob")
    cust = _add(s, "Follow", "follow@example.com")
    with pytest.raises(CrmError) as e:
        tickets.create_follow_up(s, bob, customer_id=cust, due_at=T0 - 60, now=T0, actor=ACTOR)
    assert str(e.value) == "due_at: 1699999940 is not in the future (now 1700000000)"
    fu = tickets.create_follow_up(s, bob, customer_id=cust, due_at=T0 + 3600, now=T0,
                                  note="call back", actor=ACTOR)  # fmt: skip
    assert (fu.assignee, fu.created_by, fu.done_at) == ("bob", "bob", None)
    other = tickets.create_follow_up(s, bob, customer_id=cust, due_at=T0 + 60, now=T0,
                                     assignee="ann", actor=ACTOR)  # fmt: skip
    assert other.assignee == "ann"
    views, total = tickets.list_follow_ups(s, bob, now=T0 + 120, customer_id=cust)
    assert [v.id for v in views] == [other.id, fu.id] and total == 2  # earliest due first
    assert [v.overdue for v in views] == [True, False]
    tickets.update_follow_up(s, bob, other.id, now=T0 + 200, done=True, actor=ACTOR)
    views, _ = tickets.list_follow_ups(s, bob, now=T0 + 300, customer_id=cust)
    assert [v.id for v in views] == [fu.id]
    views, _ = tickets.list_follow_ups(s, bob, now=T0 + 300, customer_id=cust, done=True)
    assert [(v.id, v.done_at, v.overdue) for v in views] == [(other.id, T0 + 200, False)]
    views, _ = tickets.list_follow_ups(s, bob, now=T0, customer_id=cust, due_before=T0 + 61,
                                       done=None)  # fmt: skip
    assert [v.id for v in views] == [other.id]


# --------------------------------------------------------------------------- visibility


def _contact(s: Session, cid: str, customer: int, t: float, *agents: str) -> None:
    s.add(ContactRow(id=cid, customer_id=customer, channel="chat", queue="support",
                     agent=agents[-1] if agents else None, status="closed", arrived_at=t,
                     subject=f"subject of {cid}", disposition="resolved", csat=4))  # fmt: skip
    s.flush()
    s.add_all(ContactAgent(contact_id=cid, agent=a) for a in agents)
    s.flush()


def test_card_masks_contacts_the_reader_may_not_open(s: Session) -> None:
    cust = _add(s, "Card", "card@example.com")
    _contact(s, "svc-ann", cust, T0 + 10, "ann")
    _contact(s, "svc-bob", cust, T0 + 20, "bob")
    _contact(s, "svc-cid", cust, T0 + 30, "cid")
    t = tickets.create_ticket(
        s,
        who(s, "bob"),
        tickets.TicketFields(contact_id="svc-bob", subject="bob's"),
        now=T0,
        actor=ACTOR,
    )
    assert t.customer_id == cust  # taken from the contact
    card = service.customer_card(s, who(s, "ann"), cust, now=T0 + 100)
    rows = [(h.id, h.agent, h.subject, h.mine, h.visible) for h in card.history]
    assert rows == [  # newest first; bob's and cid's contacts are outcome rows only
        (None, None, None, False, False),
        (None, None, None, False, False),
        ("svc-ann", "ann", "subject of svc-ann", True, True),
    ]
    assert [(h.queue, h.disposition, h.csat) for h in card.history] == [
        ("support", "resolved", 4)
    ] * 3
    # ann served this customer, so she sees its ticket, but not the link to bob's contact
    assert [(v.id, v.contact_id) for v in card.tickets] == [(t.id, None)]
    with pytest.raises(NotFoundError, match=r"^no contact 'svc-bob'$"):
        tickets.visible_contact(s, who(s, "ann"), "svc-bob")
    sue = service.customer_card(s, who(s, "sue"), cust, now=T0 + 100)
    assert [h.id for h in sue.history] == [None, "svc-bob", "svc-ann"]  # team blue only
    assert [v.contact_id for v in sue.tickets] == ["svc-bob"]
    admin = service.customer_card(s, who(s, "admin"), cust, now=T0 + 100)
    assert [h.id for h in admin.history] == ["svc-cid", "svc-bob", "svc-ann"]
    # cid never served this customer's ticket... but it did serve the customer
    assert [v.id for v in service.customer_card(s, who(s, "cid"), cust).tickets] == [t.id]
    # an agent with no link to a customer sees none of its tickets
    other = _add(s, "Unserved", "unserved@example.com")
    t2 = tickets.create_ticket(
        s, who(s, "bob"), tickets.TicketFields(customer_id=other, subject="x"), now=T0, actor=ACTOR
    )
    assert service.customer_card(s, who(s, "cid"), other).tickets == []
    with pytest.raises(NotFoundError, match=f"^no ticket {t2.id}$"):
        tickets.update_ticket(
            s, who(s, "cid"), t2.id, tickets.TicketFields(subject="y"), now=T0, actor=ACTOR
        )
