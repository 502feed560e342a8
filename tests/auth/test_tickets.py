"""One-use WebSocket tickets (``auth/tickets.py``): each is good once, for 30 s."""

from __future__ import annotations

from callcenter.auth.service import Principal
from callcenter.auth.tickets import MAX_TICKETS, TICKET_SECONDS, TicketBook
from callcenter.storage.tables import Role

ANN = Principal(user_id=3, username="ann", role=Role.AGENT, team_id=None,
                supervised_teams=frozenset(), agent="ann")  # fmt: skip


def test_a_ticket_is_good_once() -> None:
    book = TicketBook()
    ticket, expires = book.issue(ANN, now=1000.0)
    assert expires == 1030.0 == 1000.0 + TICKET_SECONDS
    assert len(ticket) >= 43  # 32 random bytes, URL-safe base64
    assert book.redeem(ticket, now=1001.0) == ANN
    assert book.redeem(ticket, now=1001.0) is None


def test_a_ticket_expires_after_30_seconds() -> None:
    book = TicketBook()
    ticket, _ = book.issue(ANN, now=1000.0)
    assert book.redeem(ticket, now=1030.0) is None  # at 30 s it is too late
    fresh, _ = book.issue(ANN, now=1000.0)
    assert book.redeem(fresh, now=1029.9) == ANN


def test_tickets_are_distinct_and_the_book_stays_bounded() -> None:
    book = TicketBook()
    tickets = {book.issue(ANN, now=0.0)[0] for _ in range(100)}
    assert len(tickets) == 100
    book.issue(ANN, now=31.0)  # issuing sweeps the expired ones
    assert len(book) == 1
    for _ in range(MAX_TICKETS + 5):
        book.issue(ANN, now=40.0)
    assert len(book) == MAX_TICKETS


def test_only_a_tickets_hash_is_kept_and_what_it_stands_for_is_any_value() -> None:
    book: TicketBook[str] = TicketBook(seconds=5.0, max_tickets=3)
    ticket, expires = book.issue("chat-7", now=10.0)
    assert expires == 15.0
    assert ticket not in repr(book._live)  # a copy of the memory opens nothing
    assert book.redeem("x" * 129, now=10.0) is None  # not one of ours: not even hashed
    assert book.redeem(ticket, now=14.9) == "chat-7"
