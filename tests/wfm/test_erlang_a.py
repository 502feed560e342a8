"""Erlang A (M/M/n+M) against independent truth.

1. The birth-death CTMC of M/M/n+M, truncated far out in the queue, solved for its
   stationary distribution with numpy (dense linear solve), and the tagged caller's
   path through the queue as a phase-type absorption problem (``scipy.linalg.expm`` and
   a matrix inverse): P(wait), P(abandon), mean wait, service level within T, answered /
   abandoned within T and the ASA of answered calls.  No Kummer function anywhere.
2. For thousands of agents, the product-form stationary distribution summed in log space
   with ``math.lgamma`` (again no Kummer function).
3. A published worked example (the pyworkforce Erlang A guide) and the Erlang C limit.
4. The simulator with exponential patience (24 simulated days, ~3 s).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pytest
import scipy.linalg

from callcenter.errors import UserError
from callcenter.queueing import agents_for_service_level, asa, erlang_c, service_level
from callcenter.queueing.erlang_a import (
    agents_erlang_a,
    agents_erlang_a_array,
    erlang_a,
    erlang_a_arrays,
)
from callcenter.queueing.erlang_arrays import erlang_b_array
from callcenter.sim import Scenario, simulate

# --------------------------------------------------------------------------- CTMC truth


def ctmc_truth(n: int, a: float, aht: float, patience: float, t: float) -> dict[str, float]:
    """Every Erlang A measure from the truncated CTMC, by linear algebra only."""
    lam, mu, theta = a / aht, 1.0 / aht, 1.0 / patience
    y = lam / theta
    m_max = int(max(0.0, y - n * mu / theta) + 40 * math.sqrt(y + 1) + 150)
    k_max = n + m_max  # states 0..k_max customers in the system
    q = np.zeros((k_max + 1, k_max + 1))
    for k in range(k_max + 1):
        if k < k_max:
            q[k, k + 1] = lam
        if k > 0:
            q[k, k - 1] = min(k, n) * mu + max(k - n, 0) * theta
        q[k, k] = -q[k].sum()
    lhs = q.T.copy()
    lhs[-1, :] = 1.0  # replace one balance equation by sum(pi) = 1
    rhs = np.zeros(k_max + 1)
    rhs[-1] = 1.0
    pi = np.linalg.solve(lhs, rhs)
    assert abs(pi[-1]) < 1e-14  # the truncation is invisible (round-off level)
    p_wait = float(pi[n:].sum())
    queue_len = float(np.arange(m_max + 1) @ pi[n:])
    # The tagged arrival finds m callers ahead (PASTA: alpha_m = pi[n + m]).  Transient
    # state i = callers still ahead: i -> i-1 at n mu + i theta (service or an abandon
    # ahead); 0 -> answered at n mu; any state -> abandoned at theta (own patience).
    s = np.zeros((m_max + 1, m_max + 1))
    for i in range(m_max + 1):
        if i > 0:
            s[i, i - 1] = n * mu + i * theta
        s[i, i] = -(n * mu + i * theta + theta)
    alpha = pi[n:]
    exit_ans = np.zeros(m_max + 1)
    exit_ans[0] = n * mu
    exit_ab = np.full(m_max + 1, theta)
    # P(absorbed by t in each exit): top-right block of expm of the augmented generator
    g = np.zeros((m_max + 3, m_max + 3))
    g[: m_max + 1, : m_max + 1] = s
    g[: m_max + 1, m_max + 1] = exit_ans
    g[: m_max + 1, m_max + 2] = exit_ab
    e = scipy.linalg.expm(g * t)
    ans_by_t = float(alpha @ e[: m_max + 1, m_max + 1])
    ab_by_t = float(alpha @ e[: m_max + 1, m_max + 2])
    inv = np.linalg.inv(-s)
    answered_wait = float(alpha @ inv @ inv @ exit_ans)  # E[wait ; answered]
    p_ab = theta * queue_len / lam  # abandon rate theta E[Q] over arrival rate
    return {
        "prob_wait": p_wait,
        "prob_abandon": p_ab,
        "mean_wait_s": queue_len / lam,  # Little's law
        "service_level": (1.0 - p_wait) + ans_by_t,
        "abandon_within": ab_by_t,
        "wait_within": (1.0 - p_wait) + ans_by_t + ab_by_t,
        "asa_s": answered_wait / (1.0 - p_ab),
        "occupancy": a * (1.0 - p_ab) / n,
    }


CASES = [
    # agents, Erlangs, AHT s, patience s, T s
    (12, 10.0, 180.0, 120.0, 20.0),  # typical
    (8, 10.0, 180.0, 60.0, 20.0),  # fewer agents than Erlangs: Erlang C is unstable
    (50, 48.0, 60.0, 120.0, 20.0),  # GMR-style: 48/min, 1 min service, 2 min patience
    (3, 0.5, 300.0, 30.0, 10.0),  # light load, impatient
    (100, 110.0, 240.0, 300.0, 30.0),  # overloaded, many agents
    (1, 0.9, 100.0, 1000.0, 60.0),  # one agent, patient callers
    (20, 12.0, 300.0, 5.0, 20.0),  # patience far below T: most waiters abandon
    (200, 195.0, 120.0, 60.0, 15.0),
]


@pytest.mark.parametrize(("n", "a", "aht", "patience", "t"), CASES)
def test_closed_forms_match_the_ctmc(
    n: int, a: float, aht: float, patience: float, t: float
) -> None:
    truth = ctmc_truth(n, a, aht, patience, t)
    got = erlang_a(n, a, aht, patience, t)
    for key in ("prob_wait", "prob_abandon", "service_level", "abandon_within", "wait_within"):
        assert getattr(got, key) == pytest.approx(truth[key], abs=1e-9), key
    assert got.occupancy == pytest.approx(truth["occupancy"], abs=1e-9)
    assert got.mean_wait_s == pytest.approx(truth["mean_wait_s"], rel=1e-9)
    assert got.asa_s == pytest.approx(truth["asa_s"], rel=1e-7)  # via d log F / dx


def log_series_truth(n: int, a: float, aht: float, patience: float) -> tuple[float, float]:
    """P(wait), P(abandon) from the product form pi_k, summed in log space (lgamma)."""
    r = patience / aht
    x, y = n * r, a * r
    logs_low = [k * math.log(a) - math.lgamma(k + 1) for k in range(n)]
    log_pn = n * math.log(a) - math.lgamma(n + 1)
    logs_q, m, acc = [], 0, 0.0  # log pi_{n+m} - log pi_n = sum_j log(y / (x + j))
    while True:
        logs_q.append(log_pn + acc)
        m += 1
        acc += math.log(y / (x + m))
        if m > y - x and logs_q[-1] < max(logs_q) - 60:
            break
    top = max(max(logs_low), max(logs_q))
    low = math.fsum(math.exp(v - top) for v in logs_low)
    queue = [math.exp(v - top) for v in logs_q]
    total = low + math.fsum(queue)
    p_wait = math.fsum(queue) / total
    mean_q = math.fsum(i * w for i, w in enumerate(queue)) / total
    return p_wait, mean_q * (1.0 / patience) / (a / aht)


@pytest.mark.parametrize(
    ("n", "a"), [(5000, 4990.0), (3000, 3200.0), (4000, 3800.0), (8000, 8000.0)]
)
def test_thousands_of_agents_match_a_log_space_sum(n: int, a: float) -> None:
    got = erlang_a(n, a, 300.0, 600.0, 20.0)
    p_wait, p_ab = log_series_truth(n, a, 300.0, 600.0)
    assert got.prob_wait == pytest.approx(p_wait, rel=1e-8)
    assert got.prob_abandon == pytest.approx(p_ab, rel=1e-8)
    assert math.isfinite(got.asa_s) and 0 < got.asa_s < got.mean_wait_s / got.prob_abandon


def test_erlang_b_closed_form_matches_the_recursion() -> None:
    n = np.array([0, 1, 5, 50, 500, 3000, 10, 2])
    a = np.array([3.0, 0.5, 4.0, 60.0, 480.0, 2900.0, 5000.0, 0.0])
    want = []  # the recursion of queueing.erlang, in plain floats
    for k, x in zip(n, a, strict=True):
        b = 1.0
        for i in range(1, int(k) + 1):
            b = x * b / (i + x * b)
        want.append(b)
    assert erlang_b_array(n, a) == pytest.approx(want, rel=1e-11, abs=1e-300)


# --------------------------------------------------------------------------- published figures


def test_pyworkforce_guide_worked_example() -> None:
    """The worked example of the pyworkforce Erlang A guide
    (https://pyworkforce.rodrigo-arenas.com/stable/guide/erlanga, "Basic usage"):
    100 transactions per 30 minutes, AHT 3 min, patience 5 min, 80 % in 20 s, occupancy
    <= 0.85, abandonment <= 0.05.  Published result, printed truncated to 3 decimals:
    raw_positions 13, service_level 0.858..., occupancy 0.750..., abandonment_probability
    0.025..., waiting_probability 0.226..., average_speed_of_answer 0.125... minutes.
    The guide computes by the birth-death chain; its "average speed of answer" is the
    mean wait of all callers (ours: ``mean_wait_s``), its service level answered within
    T over all offered (ours: ``service_level``)."""
    n = agents_erlang_a(
        10.0, 180.0, 300.0, target_sl=0.8, target_time_s=20.0, max_occupancy=0.85,
        max_abandon=0.05,
    )  # fmt: skip
    assert n == 13
    r = erlang_a(13, 10.0, 180.0, 300.0, 20.0)

    def trunc3(x: float) -> int:
        return math.floor(x * 1000)

    assert trunc3(r.service_level) == 858
    assert trunc3(r.occupancy) == 750
    assert trunc3(r.prob_abandon) == 24 or trunc3(r.prob_abandon) == 25
    assert r.prob_abandon == pytest.approx(0.025, abs=5e-5)
    assert trunc3(r.prob_wait) == 225 or trunc3(r.prob_wait) == 226
    assert r.prob_wait == pytest.approx(0.226, abs=5e-4)
    assert trunc3(r.mean_wait_s / 60.0) == 124 or trunc3(r.mean_wait_s / 60.0) == 125
    assert r.mean_wait_s / 60.0 == pytest.approx(0.125, abs=5e-4)


def test_erlang_c_overstaffs_the_call_centre_helper_example() -> None:
    """Call Centre Helper's Erlang C example (docs/erlang.md): 100 calls / 30 min, AHT
    180 s, 80 % in 20 s needs 14 agents under Erlang C; 13 give 79.6 %.  If callers hang
    up after 5 minutes on average, the ones who abandon leave the queue, so those behind
    them wait less: with 13 agents 2.5 % abandon and 85.8 % of ALL callers (abandons
    counted against) are answered within 20 s.  Erlang A staffs 13; Erlang C overstaffs
    by one agent (7 %), and by more as patience shortens."""
    assert agents_for_service_level(10.0, 180.0, 0.8, 20.0) == 14
    assert service_level(13, 10.0, 180.0, 20.0) == pytest.approx(0.796, abs=5e-4)
    assert agents_erlang_a(10.0, 180.0, 300.0, target_sl=0.8, target_time_s=20.0) == 13
    assert erlang_a(13, 10.0, 180.0, 300.0, 20.0).service_level > 0.85
    by_patience = [
        agents_erlang_a(10.0, 180.0, p, target_sl=0.8, target_time_s=20.0)
        for p in (3600.0, 300.0, 120.0, 60.0)
    ]
    assert by_patience == sorted(by_patience, reverse=True) and by_patience[-1] <= 12


# --------------------------------------------------------------------------- limits, stability


def test_converges_to_erlang_c_as_patience_grows() -> None:
    """The gap to Erlang C shrinks like 1 / patience (first order in AHT / patience), down
    to a patience of 30 years: no loss of accuracy for huge Kummer arguments."""
    n, a, aht, t = 12, 10.0, 180.0, 20.0
    c_wait, c_sl, c_asa = erlang_c(n, a), service_level(n, a, aht, t), asa(n, a, aht)
    gaps = []
    for patience in (1e6, 1e7, 1e8, 1e9):
        r = erlang_a(n, a, aht, patience, t)
        gaps.append((c_wait - r.prob_wait, r.service_level - c_sl, 1 - r.asa_s / c_asa))
        assert r.prob_abandon < 10 * aht / patience
    for before, after in itertools.pairwise(gaps):
        assert after == pytest.approx([g / 10 for g in before], rel=0.02)
    r = erlang_a(n, a, aht, 1e9, t)
    assert r.prob_wait == pytest.approx(c_wait, abs=2e-7)
    assert r.service_level == pytest.approx(c_sl, abs=2e-7)
    assert r.asa_s == pytest.approx(c_asa, rel=2e-6)
    assert r.mean_wait_s == pytest.approx(c_asa, rel=2e-6)
    for a_i in (0.3, 4.2, 37.0, 150.0):  # and staffs like Erlang C
        want = agents_for_service_level(a_i, aht, 0.8, t)
        assert agents_erlang_a(a_i, aht, 1e7, target_sl=0.8, target_time_s=t) == want


@pytest.mark.parametrize(("n", "a"), [(10, 10.0), (10, 12.0), (10, 30.0), (1, 50.0), (0, 5.0)])
def test_finite_where_erlang_c_is_unstable(n: int, a: float) -> None:
    r = erlang_a(n, a, 180.0, 120.0, 20.0)
    assert erlang_c(n, a) == 1.0  # Erlang C: every call waits forever on average
    assert 0.0 <= r.service_level <= 1.0 and math.isfinite(r.mean_wait_s)
    # answered calls per second cannot exceed n / AHT: P(abandon) >= 1 - n / A
    assert r.prob_abandon >= 1.0 - n / a - 1e-12
    assert r.mean_wait_s <= 120.0  # nobody waits longer than their patience on average
    if n:
        assert math.isfinite(r.asa_s) and r.occupancy <= 1.0
    else:
        assert r.prob_abandon == 1.0 and r.service_level == 0.0 and math.isnan(r.asa_s)


def test_no_calls() -> None:
    r = erlang_a(3, 0.0, 180.0, 60.0, 20.0)
    assert (r.prob_wait, r.prob_abandon, r.service_level, r.asa_s, r.occupancy) == (
        0.0, 0.0, 1.0, 0.0, 0.0,
    )  # fmt: skip
    assert agents_erlang_a(0.0, 180.0, 60.0, target_sl=0.8) == 0


# --------------------------------------------------------------------------- solving


def test_measures_are_monotone_in_agents() -> None:
    n = np.arange(1, 80)
    for a, patience in ((30.0, 60.0), (30.0, 900.0), (5.0, 10.0), (60.0, 200.0)):
        m = erlang_a_arrays(n, a, 240.0, patience, 20.0)
        assert (np.diff(m.service_level) >= -1e-12).all()
        assert (np.diff(m.prob_abandon) <= 1e-12).all()
        assert (np.diff(m.occupancy) <= 1e-12).all()
        assert (np.diff(m.asa_s) <= 1e-9).all()


@pytest.mark.parametrize(
    "target",
    [
        {"target_sl": 0.8, "target_time_s": 20.0},
        {"target_sl": 0.95, "target_time_s": 10.0},
        {"target_asa_s": 15.0},
        {"max_abandon": 0.03},
        {"max_occupancy": 0.8},
        {"target_sl": 0.7, "target_time_s": 30.0, "max_abandon": 0.02, "max_occupancy": 0.9},
    ],
)
def test_solver_returns_the_fewest_agents_meeting_every_target(target: dict[str, float]) -> None:
    traffic = np.array([0.2, 3.0, 17.5, 64.0, 250.0, 1200.0])
    got = agents_erlang_a_array(traffic, 200.0, 150.0, **target)
    t = target.get("target_time_s", 20.0)

    def meets(n: int, a: float) -> bool:
        r = erlang_a(n, a, 200.0, 150.0, t)
        return (
            r.service_level >= target.get("target_sl", 0.0)
            and (r.asa_s <= target.get("target_asa_s", math.inf))
            and r.prob_abandon <= target.get("max_abandon", 1.0)
            and r.occupancy <= target.get("max_occupancy", 1.0)
        )

    for n, a in zip(got.tolist(), traffic.tolist(), strict=True):
        assert meets(n, a), (n, a)
        assert n == 1 or not meets(n - 1, a), (n, a)


SECONDS = "is not valid; expected a positive number of seconds"
FRACTION = "is not valid; expected a fraction between 0 exclusive and 1 exclusive (0.8 means 80%)"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: erlang_a(5, 3.0, -3.0, 60.0), f"--aht: -3 {SECONDS}"),
        (lambda: erlang_a(5, 3.0, 180.0, 0.0), f"--patience: 0 {SECONDS}"),
        (lambda: erlang_a(5, 3.0, 180.0, 60.0, 0.0), f"--target-time: 0 {SECONDS}"),
        (
            lambda: erlang_a(-1, 3.0, 180.0, 60.0),
            "--agents: -1 is not valid; expected a whole number of agents >= 0",
        ),
        (
            lambda: erlang_a(5, float("nan"), 180.0, 60.0),
            "traffic: nan is not valid; expected a number of Erlangs >= 0",
        ),
        (lambda: agents_erlang_a(3.0, 180.0, 60.0, target_sl=1.2), f"--target-sl: 1.2 {FRACTION}"),
        (lambda: agents_erlang_a(3.0, 180.0, 60.0, target_sl=0.0), f"--target-sl: 0 {FRACTION}"),
        (
            lambda: agents_erlang_a(3.0, 180.0, 60.0),
            "no target given; expected at least one of --target-sl, --target-asa, "
            "--max-abandon, --max-occupancy",
        ),
    ],
)
def test_bad_input_is_one_clear_line(call: object, message: str) -> None:
    with pytest.raises(UserError) as e:
        call()  # type: ignore[operator]
    assert str(e.value) == message


# --------------------------------------------------------------------------- the simulator


def test_simulator_with_exponential_patience_matches_erlang_a() -> None:
    """One queue, 12 agents, 200 calls/h, exponential talk (mean 180 s: A = 10 Erlangs),
    exponential patience (mean 120 s), answered at once, 24 simulated days (~115,000
    calls).  Waits of neighbouring callers are correlated, so the standard error comes
    from batch means over the days; every figure must lie within 4 of them."""
    scenario = Scenario.model_validate(
        {
            "interval": 3600,
            "days": 24,
            "seed": 11,
            "ringing": {"answer_delay": {"dist": "fixed", "value": 0}},
            "queues": [
                {
                    "name": "q",
                    "arrivals": {"per_day": 4800},
                    "talk": {"dist": "exponential", "mean": 180},
                    "patience": {"dist": "exponential", "mean": 120},
                }
            ],
            "agents": [{"name": "a", "count": 12}],
        }
    )
    events: list[tuple[object, ...]] = []
    simulate(scenario, events.extend)
    day0 = scenario.start_epoch
    per_day: dict[int, Counter[str]] = {}
    answered_wait = Counter[int]()
    for e in events:
        if e[1] not in ("connect", "abandon"):
            continue
        day = int((float(e[0]) - day0) // 86400)
        c = per_day.setdefault(day, Counter())
        w = float(e[5])  # type: ignore[arg-type]
        c["finished"] += 1
        if e[1] == "abandon":
            c["abandoned"] += 1
        else:
            c["answered"] += 1
            c["within"] += w <= 20.0
            answered_wait[day] += w  # type: ignore[assignment]
    days = sorted(d for d in per_day if d < 24)
    sl = np.array([per_day[d]["within"] / per_day[d]["finished"] for d in days])
    ab = np.array([per_day[d]["abandoned"] / per_day[d]["finished"] for d in days])
    asa_d = np.array([answered_wait[d] / per_day[d]["answered"] for d in days])
    assert sum(per_day[d]["finished"] for d in days) > 110_000
    want = erlang_a(12, 10.0, 180.0, 120.0, 20.0)
    for got, expected in ((sl, want.service_level), (ab, want.prob_abandon), (asa_d, want.asa_s)):
        se = got.std(ddof=1) / math.sqrt(len(got))
        assert abs(got.mean() - expected) < 4 * se, (got.mean(), expected, se)
