"""Sign-in throttling (:mod:`callcenter.auth.throttle`) on a fake clock.

The expected locks are worked out by hand from the policy: with 3 free failures, a
first lock of 2 s doubling up to 16 s, the 3rd failure locks 2 s, the 4th 4 s, the 5th
8 s, the 6th and later 16 s.
"""

from __future__ import annotations

import pytest

from callcenter.auth.throttle import Attempt, Policy, Refused, Throttle, address_key

ACCOUNT = Policy(free_failures=3, base_s=2.0, max_s=16.0, forget_s=100.0)
ADDRESS = Policy(free_failures=10, base_s=2.0, max_s=16.0, forget_s=100.0)


def attempt(t: Throttle, now: float, account: str = "ann", address: str = "10.0.0.1") -> Attempt:
    a = t.begin(account, address, now)
    assert isinstance(a, Attempt), a
    return a


def refused(t: Throttle, now: float, account: str = "ann", address: str = "10.0.0.1") -> Refused:
    r = t.begin(account, address, now)
    assert isinstance(r, Refused), r
    return r


def test_policy_lock_doubles_up_to_the_cap() -> None:
    assert [ACCOUNT.lock_seconds(n) for n in range(9)] == [0, 0, 0, 2, 4, 8, 16, 16, 16]
    assert ACCOUNT.lock_seconds(10_000) == 16  # no overflow on huge counts


def test_account_locks_after_free_failures_with_doubling_waits() -> None:
    t = Throttle(ACCOUNT, ADDRESS, max_keys=100)
    for now in (0.0, 0.1, 0.2):
        attempt(t, now).failed(now)
    # the 3rd failure (at 0.2) locked it for 2 s: refused, even before the password check
    r = refused(t, 0.3)
    assert (r.retry_after, r.reason) == (2, "account")  # 1.9 s left -> 2 whole seconds
    assert refused(t, 2.1).retry_after == 1  # 0.1 s left: at least 1
    attempt(t, 2.2).failed(2.2)  # 4th failure: 4 s
    assert refused(t, 6.1).retry_after == 1
    attempt(t, 6.2).failed(6.2)  # 5th: 8 s
    assert refused(t, 6.2).retry_after == 8
    attempt(t, 14.2).failed(14.2)  # 6th: 16 s (the cap)
    assert refused(t, 14.2).retry_after == 16
    attempt(t, 30.2).failed(30.2)  # 7th: still 16 s
    assert refused(t, 30.2).retry_after == 16


def test_a_success_resets_the_account_but_not_the_address() -> None:
    t = Throttle(ACCOUNT, ADDRESS, max_keys=100)
    for now in (0.0, 1.0):
        attempt(t, now).failed(now)
    attempt(t, 2.0).succeeded(2.0)
    # the account starts over: three more failures before a lock
    for now in (3.0, 4.0):
        attempt(t, now).failed(now)
    attempt(t, 5.0).failed(5.0)
    assert refused(t, 5.5).reason == "account"
    # the address kept its 5 failures: 5 more (other accounts) lock it
    for i in range(5):
        attempt(t, 6.0, account=f"u{i}").failed(6.0)
    r = refused(t, 6.5, account="someone-else")
    assert (r.reason, r.retry_after) == ("address", 2)


def test_locked_account_refuses_the_right_password_too() -> None:
    t = Throttle(ACCOUNT, ADDRESS, max_keys=100)
    for now in (0.0, 0.0, 0.0):
        attempt(t, now).failed(now)
    # whatever the password, the answer is the refusal: no attempt to report an outcome on
    assert isinstance(t.begin("ann", "10.0.0.2", 1.0), Refused)
    attempt(t, 2.0, address="10.0.0.2").succeeded(2.0)  # after the wait: let through


def test_attempts_in_flight_count_so_a_burst_cannot_slip_through() -> None:
    t = Throttle(ACCOUNT, ADDRESS, max_keys=100)
    burst = [t.begin("ann", f"10.0.1.{i}", 0.0) for i in range(50)]
    let_through = [a for a in burst if isinstance(a, Attempt)]
    assert len(let_through) == ACCOUNT.free_failures  # the 4th waits for the 3 in flight
    assert all(isinstance(a, Refused) and a.reason == "account" for a in burst[3:])
    # nothing has failed yet: come back in a second, when those in flight are decided
    assert {a.retry_after for a in burst[3:] if isinstance(a, Refused)} == {1}
    for a in let_through:
        a.failed(0.5)
    assert refused(t, 0.6).retry_after == 2


def test_abandoned_attempts_do_not_count() -> None:
    t = Throttle(ACCOUNT, ADDRESS, max_keys=100)
    for _ in range(10):
        attempt(t, 0.0).abandoned(0.0)
    assert len(t.accounts) == 0 and len(t.addresses) == 0
    attempt(t, 0.0).failed(0.0)


def test_failures_are_forgotten_after_a_quiet_while() -> None:
    t = Throttle(ACCOUNT, ADDRESS, max_keys=100)
    for now in (0.0, 0.0):
        attempt(t, now).failed(now)
    attempt(t, 100.0).failed(100.0)  # 100 s after the last failure: starts again at 1
    attempt(t, 100.0).failed(100.0)
    attempt(t, 100.0).failed(100.0)  # the 3rd of the new count: locked
    assert refused(t, 100.0).retry_after == 2


def test_the_tables_are_bounded_oldest_dropped_first() -> None:
    t = Throttle(ACCOUNT, Policy(10**6, 1.0, 1.0, 100.0), max_keys=50)
    for now in (0.0, 0.0, 0.0):
        attempt(t, now, account="victim").failed(now)
    for i in range(49):
        attempt(t, 0.1, account=f"random{i}").failed(0.1)
    assert len(t.accounts) == 50
    assert refused(t, 0.2, account="victim").reason == "account"  # seen last: kept
    for i in range(1000):
        attempt(t, 0.3, account=f"flood{i}").failed(0.3)
    assert len(t.accounts) == 50 and len(t.addresses) == 1
    assert isinstance(t.begin("victim", "10.0.0.1", 0.4), Attempt)  # dropped


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("testclient", "testclient"),
    ],
)
def test_address_key(host: str, key: str) -> None:
    assert address_key(host) == key


def test_an_overflowed_attempt_is_a_failure_of_the_address_only() -> None:
    t = Throttle(ACCOUNT, ADDRESS, max_keys=100)
    for _ in range(10):
        attempt(t, 0.0).overflowed(0.0)  # the same account: its count is untouched
    r = refused(t, 0.1, account="other")
    assert (r.reason, r.retry_after) == ("address", 2)
    attempt(t, 0.1, address="10.9.9.9").failed(0.1)  # ann: 1 failure, not 11
    attempt(t, 0.1, address="10.9.9.9").failed(0.1)
    attempt(t, 0.1, address="10.9.9.9").failed(0.1)
    assert refused(t, 0.2, address="10.9.9.9").reason == "account"
