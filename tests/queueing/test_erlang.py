"""Erlang B / Erlang C against published worked examples and independent computations.

The inputs of each worked example come from the source cited above it.  Every expected
value with more digits than the source prints was recomputed independently with mpmath at
40-60 significant digits from the factorial formulas (not the recursion the code uses)
and is quoted in the comment.  The tests also compare with two independent formulas
computed inside the test: exact rational arithmetic (``fractions.Fraction``, Python
integers for the factorials) for small N, and the factorial formula in log space
(``math.lgamma`` + log-sum-exp) for thousands of agents.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.errors import UserError
from callcenter.queueing import (
    MAX_TRAFFIC,
    ErlangInputError,
    ErlangResult,
    agents_for_asa,
    agents_for_service_level,
    asa,
    erlang_b,
    erlang_c,
    erlang_report,
    occupancy,
    service_level,
    traffic_intensity,
)

# --------------------------------------------------------------------------- references


def exact_erlang_b(n: int, a: Fraction) -> Fraction:
    """B = (A^N / N!) / sum_{k=0..N} A^k / k!, exactly."""
    terms = [a**k / math.factorial(k) for k in range(n + 1)]
    return terms[-1] / sum(terms)


def exact_erlang_c(n: int, a: Fraction) -> Fraction:
    """C = (A^N/N! * N/(N-A)) / (sum_{k<N} A^k/k! + A^N/N! * N/(N-A)), exactly (N > A)."""
    top = a**n / math.factorial(n) * Fraction(n) / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


def lgamma_erlang_b(n: int, a: float) -> float:
    """The factorial formula in log space: log(A^k / k!) = k log A - lgamma(k + 1)."""
    logs = [k * math.log(a) - math.lgamma(k + 1) for k in range(n + 1)]
    top = max(logs)
    return math.exp(logs[-1] - top) / math.fsum(math.exp(x - top) for x in logs)


def lgamma_erlang_c(n: int, a: float) -> float:
    b = lgamma_erlang_b(n, a)
    return n * b / (n - a * (1 - b))


# --------------------------------------------------------------------------- worked examples

# Call Centre Helper, "Erlang C Formula - Made Simple With an Easy Worked Example"
# (https://www.callcentrehelper.com/erlang-c-formula-example-121281.htm): 100 calls in
# 30 minutes, AHT 180 s, target 80% answered in 20 s.  Traffic 10 Erlangs; with 11 agents
# P(wait) = 0.6821 and the service level is about 39%; the target is first met with 14
# agents: P(wait) 0.1741, service level 88.8%, ASA 7.8 s, 82.6% answered immediately,
# occupancy 71.4%.  (mpmath: C(11)=0.682118204689, SL(11)=0.389613811729, C(13)=0.285270453036,
# SL(13)=0.795594788418, C(14)=0.174131933595, SL(14)=0.888350019179, ASA(14)=7.83593701178.)


def test_call_centre_helper_traffic() -> None:
    assert traffic_intensity(100, 30 * 60, 180) == pytest.approx(10.0, rel=1e-15)


def test_call_centre_helper_11_agents() -> None:
    assert erlang_c(11, 10.0) == pytest.approx(0.682118204689, abs=1e-12)
    assert service_level(11, 10.0, 180, 20) == pytest.approx(0.389613811729, abs=1e-12)
    assert asa(11, 10.0, 180) == pytest.approx(122.781276844, rel=1e-11)


def test_call_centre_helper_14_agents() -> None:
    assert erlang_c(14, 10.0) == pytest.approx(0.174131933595, abs=1e-12)
    assert service_level(14, 10.0, 180, 20) == pytest.approx(0.888350019179, abs=1e-12)
    assert asa(14, 10.0, 180) == pytest.approx(7.83593701178, rel=1e-11)
    assert occupancy(14, 10.0) == pytest.approx(10 / 14, rel=1e-15)
    # 13 agents miss the target (79.6%), 14 meet it.
    assert service_level(13, 10.0, 180, 20) == pytest.approx(0.795594788418, abs=1e-12)
    assert agents_for_service_level(10.0, 180, 0.8, 20) == 14


def test_call_centre_helper_report() -> None:
    r = erlang_report(100, 1800, 180, target_sl=0.8, target_time_s=20)
    assert isinstance(r, ErlangResult)
    assert r.traffic == pytest.approx(10.0)
    assert r.agents == 14
    assert r.prob_wait == pytest.approx(0.174131933595, abs=1e-12)
    assert r.service_level == pytest.approx(0.888350019179, abs=1e-12)
    assert r.asa == pytest.approx(7.83593701178, rel=1e-11)
    assert r.occupancy == pytest.approx(0.714285714286, abs=1e-12)
    assert r.immediate_answer == pytest.approx(1 - 0.174131933595, abs=1e-12)
    assert r.target_time_s == 20 and r.target_sl == 0.8 and r.stable
    # Evaluating the same staffing gives the same numbers.
    e = erlang_report(100, 1800, 180, agents=14)
    assert (e.prob_wait, e.service_level, e.asa) == (r.prob_wait, r.service_level, r.asa)
    assert e.target_sl is None


# The step-by-step Erlang-C example in "The Erlang-C Formula" by Mitan Ltd
# (http://www.mitan.co.uk/erlang/elgcmath.htm): 360 calls per half hour, average call
# duration 4 minutes, 55 agents, target answer time 15 s; traffic 48 Erlangs.
# (mpmath: occupancy 0.872727, C=0.238700936378, ASA=8.18403210439 s, SL(15 s)=0.845883092171.)


def test_mitan_example() -> None:
    a = traffic_intensity(360, 30 * 60, 4 * 60)
    assert a == pytest.approx(48.0, rel=1e-15)
    assert occupancy(55, a) == pytest.approx(0.872727272727, abs=1e-12)
    assert erlang_c(55, a) == pytest.approx(0.238700936378, abs=1e-12)
    assert asa(55, a, 240) == pytest.approx(8.18403210439, rel=1e-11)
    assert service_level(55, a, 240, 15) == pytest.approx(0.845883092171, abs=1e-12)


# A cross-check, not a published example: A = 20 Erlangs on 25 agents waits with
# probability 0.2091 (mpmath: 0.209102826599; 0.3252 sometimes quoted for this case is
# wrong).  ASA in units of the AHT is C / (N - A).


def test_erlang_c_table_20_on_25() -> None:
    assert erlang_c(25, 20.0) == pytest.approx(0.209102826599, abs=1e-12)
    assert asa(25, 20.0, 1.0) == pytest.approx(0.209102826599 / 5, rel=1e-11)


# Erlang B tables at 1% grade of service (e.g. the Erlang B table in V. B. Iversen,
# "Teletraffic Engineering and Network Planning", DTU / ITU-D; every Erlang B table lists
# the same values): N = 10, 20, 50, 100 circuits carry 4.461, 12.031, 37.901 and 84.064 E.
# Plus a cross-check: A = 10 E offered to 15 circuits is blocked 3.65% of the time.
# (mpmath: B(10, 4.461)=0.00999778668790, B(20, 12.031)=0.0100025918002,
# B(50, 37.901)=0.00999868950352, B(100, 84.064)=0.00999968290265,
# B(15, 10)=0.0364969454724.)


@pytest.mark.parametrize(
    ("n", "a", "expected"),
    [
        (10, 4.461, 0.00999778668790),
        (20, 12.031, 0.0100025918002),
        (50, 37.901, 0.00999868950352),
        (100, 84.064, 0.00999968290265),
        (15, 10.0, 0.0364969454724),
    ],
)
def test_erlang_b_table(n: int, a: float, expected: float) -> None:
    b = erlang_b(n, a)
    assert b == pytest.approx(expected, rel=1e-11)
    if n != 15:
        assert b == pytest.approx(0.01, abs=5e-6)  # the table's 1% grade of service


def test_small_cases_by_hand() -> None:
    # M/M/1 (N=1): C = rho.  M/M/2 with A = 1: C = A^2/(2 - A) / (1 + A + A^2/(2 - A)) = 1/3.
    assert erlang_c(1, 0.5) == pytest.approx(0.5, rel=1e-15)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3, rel=1e-15)
    assert erlang_b(1, 1.0) == pytest.approx(0.5, rel=1e-15)
    assert erlang_b(0, 7.0) == 1.0
    # M/M/1: ASA = rho / (mu - lambda) = 0.5 * 1 / (1 - 0.5) in units of the AHT.
    assert asa(1, 0.5, 1.0) == pytest.approx(1.0, rel=1e-15)


# --------------------------------------------------------------------------- edge cases


def test_unstable_staffing() -> None:
    for n in (0, 5, 10):
        assert erlang_c(n, 10.0) == 1.0
        assert service_level(n, 10.0, 180, 20) == 0.0
        assert asa(n, 10.0, 180) == math.inf
        assert occupancy(n, 10.0) == 1.0
    r = erlang_report(100, 1800, 180, agents=9)
    assert not r.stable
    assert (r.prob_wait, r.service_level, r.asa, r.occupancy) == (1.0, 0.0, math.inf, 1.0)
    assert r.immediate_answer == 0.0


def test_no_traffic_needs_no_agents() -> None:
    r = erlang_report(0, 1800, 180, target_sl=0.8)
    assert r.agents == 0 and r.traffic == 0.0 and r.stable
    assert (r.prob_wait, r.service_level, r.asa, r.occupancy) == (0.0, 1.0, 0.0, 0.0)
    assert agents_for_asa(0.0, 180, 10) == 0
    assert erlang_c(3, 0.0) == 0.0 and erlang_b(3, 0.0) == 0.0


def test_max_occupancy_cap() -> None:
    # 14 agents meet 80/20 at 71.4% occupancy; capping occupancy at 70% needs 15 (66.7%).
    assert agents_for_service_level(10.0, 180, 0.8, 20, max_occupancy=0.75) == 14
    assert agents_for_service_level(10.0, 180, 0.8, 20, max_occupancy=0.7) == 15
    # Exactly on the cap is allowed: 8 Erlangs at 80% on 10 agents.
    assert agents_for_service_level(8.0, 180, 0.01, 20, max_occupancy=0.8) == 10
    r = erlang_report(100, 1800, 180, target_sl=0.8, max_occupancy=0.7)
    assert r.agents == 15 and r.occupancy <= 0.7 and r.max_occupancy == 0.7


def test_agents_for_asa() -> None:
    # A = 10, AHT 180: ASA(13) = 17.1 s, ASA(14) = 7.84 s (see the Call Centre Helper example).
    assert asa(13, 10.0, 180) == pytest.approx(17.1162271822, rel=1e-11)
    assert agents_for_asa(10.0, 180, 10) == 14
    assert agents_for_asa(10.0, 180, 17.2) == 13
    assert agents_for_asa(10.0, 180, 17.0) == 14


def test_numpy_numbers_are_accepted() -> None:
    assert erlang_c(np.int64(14), np.float32(10.0)) == erlang_c(14, 10.0)  # type: ignore[arg-type]
    assert erlang_report(np.float64(100), 1800, 180, agents=np.int32(14)).agents == 14  # type: ignore[arg-type]


# --------------------------------------------------------------------------- large queues


@pytest.mark.parametrize("a", [1000.0, 4000.0, 5000.0])
def test_thousands_of_agents_are_stable_and_fast(a: float) -> None:
    start = time.perf_counter()
    n = agents_for_service_level(a, 300, 0.8, 20)
    elapsed = time.perf_counter() - start
    assert elapsed < 0.5
    assert a < n < a + 100  # square-root staffing: a few dozen agents above A
    c = erlang_c(n, a)
    assert 0 < c < 1
    assert 0 < occupancy(n, a) < 1
    assert service_level(n, a, 300, 20) >= 0.8 > service_level(n - 1, a, 300, 20)
    assert 0 < asa(n, a, 300) < math.inf
    # The recursion agrees with the factorial formula computed in log space.
    assert erlang_b(n, a) == pytest.approx(lgamma_erlang_b(n, a), rel=1e-9)
    assert c == pytest.approx(lgamma_erlang_c(n, a), rel=1e-9)


def test_large_published_values() -> None:
    # A = 4000 E, AHT 300 s, 80% in 20 s needs 4019 agents (mpmath, factorial formula at 40
    # digits: C(4019)=0.673816090972964, SL(4019)=0.810139319065804, SL(4018)=0.792576258257648,
    # B(4019)=0.00967149737399711).
    assert agents_for_service_level(4000.0, 300, 0.8, 20) == 4019
    assert erlang_b(4019, 4000.0) == pytest.approx(0.00967149737399711, rel=1e-12)
    assert erlang_c(4019, 4000.0) == pytest.approx(0.673816090972964, rel=1e-12)
    assert service_level(4019, 4000.0, 300, 20) == pytest.approx(0.810139319065804, rel=1e-12)
    assert service_level(4018, 4000.0, 300, 20) == pytest.approx(0.792576258257648, rel=1e-12)


def test_huge_staffing_does_not_overflow() -> None:
    assert erlang_b(100_000, 10.0) == 0.0
    assert erlang_c(100_000, 10.0) == 0.0
    assert service_level(100_000, 10.0, 180, 20) == 1.0
    n = agents_for_service_level(MAX_TRAFFIC, 180, 0.95, 20)
    assert MAX_TRAFFIC < n < MAX_TRAFFIC + 1000


# --------------------------------------------------------------------------- properties

traffic = st.floats(min_value=0.01, max_value=300.0, allow_nan=False, allow_infinity=False)
aht = st.floats(min_value=1.0, max_value=3600.0)
target_time = st.floats(min_value=0.5, max_value=600.0)
target_sl = st.floats(min_value=0.01, max_value=0.99)


@given(a=traffic, n=st.integers(min_value=1, max_value=60))
@settings(max_examples=200, deadline=None)
def test_matches_exact_rational_formula(a: float, n: int) -> None:
    exact_a = Fraction(a)  # the float's exact value
    assert erlang_b(n, a) == pytest.approx(float(exact_erlang_b(n, exact_a)), rel=1e-12)
    if n > a:
        assert erlang_c(n, a) == pytest.approx(float(exact_erlang_c(n, exact_a)), rel=1e-11)


@given(a=traffic, h=aht, t=target_time)
@settings(max_examples=200, deadline=None)
def test_more_agents_never_hurt(a: float, h: float, t: float) -> None:
    first = math.floor(a) + 1
    prev_sl, prev_asa, prev_c, prev_b = 0.0, math.inf, 1.0, 1.0
    for n in range(first, first + 40):
        sl, w, c, b = service_level(n, a, h, t), asa(n, a, h), erlang_c(n, a), erlang_b(n, a)
        assert 0.0 <= b <= c <= 1.0  # waiting is at least as likely as blocking
        assert sl >= prev_sl and w <= prev_asa and c <= prev_c and b <= prev_b
        prev_sl, prev_asa, prev_c, prev_b = sl, w, c, b


@given(a=traffic, h=aht, sl=target_sl, t=target_time)
@settings(max_examples=300, deadline=None)
def test_agents_for_service_level_is_the_smallest(a: float, h: float, sl: float, t: float) -> None:
    n = agents_for_service_level(a, h, sl, t)
    assert n > a
    assert service_level(n, a, h, t) >= sl
    assert service_level(n - 1, a, h, t) < sl


@given(
    a=traffic,
    h=aht,
    sl=target_sl,
    t=target_time,
    cap=st.floats(min_value=0.05, max_value=1.0),
)
@settings(max_examples=200, deadline=None)
def test_max_occupancy_is_respected(a: float, h: float, sl: float, t: float, cap: float) -> None:
    n = agents_for_service_level(a, h, sl, t, max_occupancy=cap)
    assert service_level(n, a, h, t) >= sl and occupancy(n, a) <= cap
    assert service_level(n - 1, a, h, t) < sl or occupancy(n - 1, a) > cap


@given(a=traffic, h=aht, target=st.floats(min_value=0.01, max_value=3600.0))
@settings(max_examples=200, deadline=None)
def test_agents_for_asa_is_the_smallest(a: float, h: float, target: float) -> None:
    n = agents_for_asa(a, h, target)
    assert asa(n, a, h) <= target < asa(n - 1, a, h)


# --------------------------------------------------------------------------- bad inputs

GOOD = {"calls": 100.0, "period_s": 1800.0, "aht_s": 180.0}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"aht_s": -5}, "--aht must be > 0 seconds, got -5"),
        ({"aht_s": 0}, "--aht must be > 0 seconds, got 0"),
        ({"period_s": 0}, "--period must be > 0 seconds, got 0"),
        ({"period_s": -1800.0}, "--period must be > 0 seconds, got -1800"),
        ({"calls": -1}, "--calls must be >= 0, got -1"),
        ({"calls": math.nan}, "--calls must be >= 0, got nan"),
        ({"aht_s": math.inf}, "--aht must be > 0 seconds, got inf"),
        ({"target_sl": 0.0}, "--target-sl must be a fraction strictly between 0 and 1"),
        ({"target_sl": 1.0}, "--target-sl must be a fraction strictly between 0 and 1"),
        ({"target_sl": 80.0}, "(e.g. 0.8 for 80%), got 80"),
        ({"target_sl": 0.8, "target_time_s": 0}, "--target-time must be > 0 seconds, got 0"),
        ({"agents": 14, "target_time_s": -20}, "--target-time must be > 0 seconds, got -20"),
        ({"agents": -1}, "--agents must be a whole number of agents >= 0, got -1"),
        ({"agents": 2.5}, "--agents must be a whole number of agents >= 0, got 2.5"),
        ({}, "give --agents N to evaluate a staffing level or --target-sl P"),
        ({"agents": 14, "target_sl": 0.8}, "not both"),
        ({"agents": 14, "max_occupancy": 0.8}, "--max-occupancy only applies"),
        ({"target_sl": 0.8, "max_occupancy": 0.0}, "--max-occupancy must be a fraction > 0"),
        ({"target_sl": 0.8, "max_occupancy": 1.5}, "got 1.5"),
        ({"calls": 1e12, "target_sl": 0.8}, "traffic must be between 0 and 1000000 Erlangs"),
        (
            {"calls": 1e308, "aht_s": 1e308, "target_sl": 0.8},
            "Erlangs (calls * AHT / period), got inf",
        ),
        ({"calls": "100", "agents": 14}, "--calls must be >= 0, got '100'"),
    ],
)
def test_bad_inputs_are_explained(changes: dict[str, object], message: str) -> None:
    kwargs: dict[str, object] = {**GOOD, **changes}
    with pytest.raises(ErlangInputError) as info:
        erlang_report(**kwargs)  # type: ignore[arg-type]
    text = str(info.value)
    assert message in text
    assert "\n" not in text
    assert isinstance(info.value, UserError) and info.value.exit_code == 2


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: erlang_b(-1, 1.0), "--agents must be a whole number of agents >= 0, got -1"),
        (
            lambda: erlang_c(3, -1.0),
            "traffic must be between 0 and 1000000 Erlangs (calls * AHT / period), got -1",
        ),
        (lambda: service_level(3, 1.0, 180, 0), "--target-time must be > 0 seconds, got 0"),
        (lambda: asa(3, 1.0, -1), "--aht must be > 0 seconds, got -1"),
        (lambda: agents_for_asa(1.0, 180, 0), "--target-asa must be > 0 seconds, got 0"),
        (lambda: traffic_intensity(10, 0, 180), "--period must be > 0 seconds, got 0"),
        (
            lambda: agents_for_service_level(1.0, 180, 1.2, 20),
            "--target-sl must be a fraction strictly between 0 and 1",
        ),
    ],
)
def test_bad_inputs_to_the_formulas(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ErlangInputError) as info:
        call()
    assert message in str(info.value)
