"""The chat limits (``live/chat/limits.py``) on a hand-driven clock: token buckets, open
socket slots, one-use tickets.  Expected waits are worked out by hand from the rates."""

from __future__ import annotations

import pytest

from callcenter.live.chat.limits import (
    DEFAULT_MAX_KEYS,
    ChatLimits,
    ChatLimitSettings,
    Rate,
    Slots,
    Tickets,
    TokenBuckets,
    retry_after,
)


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_a_bucket_spends_its_burst_then_refills_at_its_rate() -> None:
    clock = Clock()
    b = TokenBuckets(Rate(burst=3, per_minute=60), clock=clock)  # one token a second
    assert [b.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert b.take("a") == pytest.approx(1.0)  # empty: the next token in 1 s
    clock.t += 0.25
    assert b.take("a") == pytest.approx(0.75)  # a refusal spends nothing
    clock.t += 0.75
    assert b.take("a") == 0.0
    assert b.take("a") == pytest.approx(1.0)
    assert b.take("other") == 0.0  # keys are independent


def test_a_bucket_never_holds_more_than_its_burst() -> None:
    clock = Clock()
    b = TokenBuckets(Rate(burst=2, per_minute=30), clock=clock)  # a token every 2 s
    b.take("a")
    clock.t += 3600  # an hour idle refills only up to the burst
    assert [b.take("a") for _ in range(2)] == [0.0, 0.0]
    assert b.take("a") == pytest.approx(2.0)


def test_buckets_keep_at_most_max_keys_forgetting_the_longest_idle() -> None:
    clock = Clock()
    b = TokenBuckets(Rate(burst=1, per_minute=1), clock=clock, max_keys=2)
    assert b.take("a") == 0.0
    assert b.take("b") == 0.0
    assert b.take("a") == pytest.approx(60.0)  # a is empty, and now the most recent
    assert b.take("c") == 0.0  # b (idle the longest) is forgotten
    assert len(b) == 2
    assert b.take("a") == pytest.approx(60.0)  # a was kept
    assert b.take("b") == 0.0  # b starts full again


def test_rates_and_sizes_are_checked() -> None:
    for bad in ((0, 1.0), (1, 0.0), (1, float("nan")), (1, float("inf"))):
        with pytest.raises(ValueError, match="burst >= 1 and per_minute > 0"):
            Rate(*bad)
    with pytest.raises(ValueError, match="max_keys"):
        TokenBuckets(Rate(1, 1), max_keys=0)
    with pytest.raises(ValueError, match="per_key"):
        Slots(0)
    with pytest.raises(ValueError, match="ttl_s"):
        Tickets(0)


def test_slots_count_open_sockets_per_key() -> None:
    s = Slots(2, max_keys=2)
    assert [s.acquire("x"), s.acquire("x"), s.acquire("x")] == [True, True, False]
    s.release("x")
    assert s.held("x") == 1 and s.acquire("x")
    assert s.acquire("y")
    assert not s.acquire("z")  # the table is full: a third key is refused
    s.release("y")
    assert s.held("y") == 0 and s.acquire("z")  # a key with nothing open is dropped


def test_a_ticket_opens_its_chat_once_before_it_expires() -> None:
    clock = Clock()
    t = Tickets(30.0, clock=clock)
    one = t.issue("chat-a")
    assert one not in repr(t._book._live)  # only its hash is kept
    assert t.redeem("chat-a", one)
    assert not t.redeem("chat-a", one)  # used up
    two = t.issue("chat-a")
    assert not t.redeem("chat-b", two)  # another chat's: refused, and used up too
    assert not t.redeem("chat-a", two)
    three = t.issue("chat-a")
    clock.t += 30.0
    assert not t.redeem("chat-a", three)  # expired at 30 s
    four = t.issue("chat-a")
    clock.t += 29.9
    assert t.redeem("chat-a", four)
    assert not t.redeem("chat-a", None) and not t.redeem("chat-a", "x" * 200)


def test_tickets_are_bounded_and_expired_ones_dropped() -> None:
    clock = Clock()
    t = Tickets(10.0, clock=clock, max_keys=3)
    first = t.issue("c")
    for _ in range(3):
        t.issue("c")
    assert len(t) == 3 and not t.redeem("c", first)  # the oldest went first
    clock.t += 11
    t.issue("c")
    assert len(t) == 1  # the expired ones are gone


def _limits(clock: Clock) -> ChatLimits:
    return ChatLimits(
        ChatLimitSettings(
            starts_per_address=Rate(2, 60),
            messages_per_chat=Rate(2, 60),
            messages_per_address=Rate(3, 60),
            tickets_per_chat=Rate(1, 60),
            reads_per_chat=Rate(2, 30),
            sockets_per_chat=1,
            sockets_per_address=2,
            ticket_ttl_s=5,
        ),
        clock=clock,
    )


def test_messages_are_limited_per_chat_first_then_per_address() -> None:
    clock = Clock()
    lim = _limits(clock)
    assert [lim.message("tok-1", "10.0.0.1") for _ in range(2)] == [(0.0, ""), (0.0, "")]
    wait, who = lim.message("tok-1", "10.0.0.1")
    assert who == "chat" and wait == pytest.approx(1.0)
    # the refused message did not spend the address: one left of its 3
    assert lim.message("tok-2", "10.0.0.1") == (0.0, "")
    wait, who = lim.message("tok-2", "10.0.0.1")
    assert who == "address" and wait == pytest.approx(1.0)
    # ... nor the chat: tok-2 still has one of its 2, which another address may use
    assert lim.message("tok-2", "10.0.0.2") == (0.0, "")
    assert lim.message("tok-2", "10.0.0.2")[1] == "chat"
    # no token: the address alone counts
    assert lim.message(None, "10.0.0.3")[1] == ""


def test_reads_are_limited_per_chat_token() -> None:
    clock = Clock()
    lim = _limits(clock)
    assert [lim.read("tok"), lim.read("tok")] == [0.0, 0.0]
    assert lim.read("tok") == pytest.approx(2.0)  # 30 a minute: one every 2 s
    assert lim.read("other") == 0.0
    clock.t += 2.0
    assert lim.read("tok") == 0.0


def test_sockets_are_limited_per_chat_and_per_address() -> None:
    lim = _limits(Clock())
    assert lim.open_socket("c1", "a") is None
    assert lim.open_socket("c1", "a") == "at most 1 open sockets per chat"
    assert lim.open_socket("c2", "a") is None
    assert lim.open_socket("c3", "a") == "at most 2 open chat sockets per address"
    assert lim.chat_sockets.held("c3") == 0  # the chat's slot was given back
    lim.close_socket("c1", "a")
    assert lim.open_socket("c3", "a") is None


@pytest.mark.parametrize(("wait", "header"), [(0.01, 1), (1.0, 1), (1.01, 2), (59.5, 60)])
def test_retry_after_is_whole_seconds_rounded_up(wait: float, header: int) -> None:
    assert retry_after(wait) == header


def test_a_flood_of_new_keys_keeps_the_default_bound() -> None:
    """50,000 addresses (an IPv6 flood) leave DEFAULT_MAX_KEYS entries in each table."""
    clock = Clock()
    lim = _limits(clock)
    for i in range(50_000):
        lim.starts.take(f"2001:db8::{i:x}")
        lim.tickets.issue("c")
    assert len(lim.starts) == DEFAULT_MAX_KEYS == 20_000
    assert len(lim.tickets) == DEFAULT_MAX_KEYS
