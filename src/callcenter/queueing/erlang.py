"""Erlang B and Erlang C: how many agents an inbound queue needs.

The model is M/M/N: calls arrive as a Poisson process, handle times are exponential with
mean ``aht_s``, ``N`` identical agents serve one first-come-first-served queue, and no
caller abandons.  The offered traffic is ``A = calls * aht_s / period_s`` Erlangs.

Everything is computed without factorials or powers, so it is exact to a few ulps and
never overflows, even for thousands of agents:

* Erlang B (blocking) by the recursion ``B(0) = 1``, ``B(n) = A*B(n-1) / (n + A*B(n-1))``;
* Erlang C (probability of waiting) from B: ``C = N*B / (N - A*(1 - B))`` for ``N > A``,
  and 1 when ``N <= A`` (the queue grows without bound);
* service level ``SL(T) = 1 - C * exp(-(N - A) * T / AHT)``;
* average speed of answer ``ASA = C * AHT / (N - A)``;
* occupancy ``A / N``.

See ``docs/erlang.md`` for the sources and the assumptions.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from callcenter.errors import UserError

__all__ = [
    "MAX_TRAFFIC",
    "ErlangInputError",
    "ErlangResult",
    "agents_for_asa",
    "agents_for_service_level",
    "asa",
    "erlang_b",
    "erlang_c",
    "erlang_report",
    "occupancy",
    "service_level",
    "traffic_intensity",
]

#: The largest offered traffic accepted (Erlangs).  Far beyond any real queue; it bounds the
#: O(A) work of the Erlang B recursion (about 0.2 s at this limit).
MAX_TRAFFIC = 1_000_000.0


class ErlangInputError(UserError):
    """An input to the Erlang formulas that is out of range: names it, its value, the range."""


# --------------------------------------------------------------------------- validation


def _show(value: object) -> str:
    if isinstance(value, float):
        return format(value, ".12g")
    return repr(value) if isinstance(value, str) else str(value)


def _bad(name: str, value: object, expected: str) -> ErlangInputError:
    return ErlangInputError(f"{name} must be {expected}, got {_show(value)}")


def _finite(name: str, value: float, expected: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _bad(name, value, expected)
    v = float(value)
    if not math.isfinite(v):
        raise _bad(name, value, expected)
    return v


def _positive(name: str, value: float, unit: str) -> float:
    expected = f"> 0 {unit}".rstrip()
    v = _finite(name, value, expected)
    if v <= 0:
        raise _bad(name, value, expected)
    return v


def _non_negative(name: str, value: float, unit: str) -> float:
    expected = f">= 0 {unit}".rstrip()
    v = _finite(name, value, expected)
    if v < 0:
        raise _bad(name, value, expected)
    return v


def _agents(value: int, name: str = "--agents") -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise _bad(name, value, "a whole number of agents >= 0")
    return int(value)


def _traffic(value: float, name: str = "traffic") -> float:
    expected = f"between 0 and {MAX_TRAFFIC:.0f} Erlangs (calls * AHT / period)"
    a = _finite(name, value, expected)
    if not 0 <= a <= MAX_TRAFFIC:
        raise _bad(name, value, expected)
    return a


def _fraction(name: str, value: float) -> float:
    expected = "a fraction strictly between 0 and 1 (e.g. 0.8 for 80%)"
    v = _finite(name, value, expected)
    if not 0 < v < 1:
        raise _bad(name, value, expected)
    return v


def _max_occupancy(value: float | None) -> float | None:
    if value is None:
        return None
    expected = "a fraction > 0 and <= 1 (e.g. 0.85 for 85%)"
    v = _finite("--max-occupancy", value, expected)
    if not 0 < v <= 1:
        raise _bad("--max-occupancy", value, expected)
    return v


# --------------------------------------------------------------------------- the formulas
#
# The private helpers take validated arguments.  The search functions and the public
# evaluators share them so that "the N found meets the target and N-1 does not" holds
# bit for bit, not just up to rounding.


def _erlang_b(n: int, a: float) -> float:
    b = 1.0
    for k in range(1, n + 1):
        ab = a * b
        b = ab / (k + ab)
        if b == 0.0:  # underflowed (n >> A); it stays 0
            break
    return b


def _b_step(n: int, a: float, b_prev: float) -> float:
    """B(n) from B(n-1): one step of the recursion, the same arithmetic as `_erlang_b`."""
    if b_prev == 0.0:
        return 0.0
    ab = a * b_prev
    return ab / (n + ab)


def _c_from_b(n: int, a: float, b: float) -> float:
    if a == 0.0:
        return 0.0
    if n <= a:
        return 1.0
    c = n * b / (n - a * (1.0 - b))
    return min(1.0, max(0.0, c))


def _sl_from_c(n: int, a: float, c: float, aht_s: float, target_time_s: float) -> float:
    if a == 0.0:
        return 1.0
    if n <= a:
        return 0.0
    sl = 1.0 - c * math.exp(-(n - a) * target_time_s / aht_s)
    return min(1.0, max(0.0, sl))


def _asa_from_c(n: int, a: float, c: float, aht_s: float) -> float:
    if a == 0.0:
        return 0.0
    if n <= a:
        return math.inf
    return c * aht_s / (n - a)


def _occupancy(n: int, a: float) -> float:
    if n == 0:
        return 0.0 if a == 0.0 else 1.0
    return min(1.0, a / n)


def traffic_intensity(calls: float, period_s: float, aht_s: float) -> float:
    """Offered traffic in Erlangs: ``calls * aht_s / period_s`` (the mean number of busy agents
    an infinitely staffed queue would have)."""
    c = _non_negative("--calls", calls, "")
    p = _positive("--period", period_s, "seconds")
    h = _positive("--aht", aht_s, "seconds")
    return c * h / p


def erlang_b(agents: int, a: float) -> float:
    """Erlang B: the probability that a call finds all ``agents`` busy when there is no queue
    (blocked calls are lost), for ``a`` Erlangs of offered traffic."""
    return _erlang_b(_agents(agents), _traffic(a))


def erlang_c(agents: int, a: float) -> float:
    """Erlang C: the probability that a call has to wait (finds all ``agents`` busy).

    1.0 when ``agents <= a``: the queue is unstable and grows without bound.  0.0 when there
    is no traffic.
    """
    n, a = _agents(agents), _traffic(a)
    return _c_from_b(n, a, _erlang_b(n, a))


def service_level(agents: int, a: float, aht_s: float, target_time_s: float) -> float:
    """The fraction of calls answered within ``target_time_s`` seconds.

    ``1 - C * exp(-(N - A) * T / AHT)``; 0.0 when unstable (``agents <= a``), 1.0 when there
    is no traffic.
    """
    n, a = _agents(agents), _traffic(a)
    h = _positive("--aht", aht_s, "seconds")
    t = _positive("--target-time", target_time_s, "seconds")
    return _sl_from_c(n, a, _c_from_b(n, a, _erlang_b(n, a)), h, t)


def asa(agents: int, a: float, aht_s: float) -> float:
    """Average speed of answer in seconds, over all calls: ``C * AHT / (N - A)``.

    ``math.inf`` when unstable (``agents <= a``), 0.0 when there is no traffic.
    """
    n, a = _agents(agents), _traffic(a)
    h = _positive("--aht", aht_s, "seconds")
    return _asa_from_c(n, a, _c_from_b(n, a, _erlang_b(n, a)), h)


def occupancy(agents: int, a: float) -> float:
    """The fraction of time agents are busy, ``A / N``, capped at 1 (unstable)."""
    return _occupancy(_agents(agents), _traffic(a))


def _agents_for_occupancy(a: float, max_occupancy: float) -> int:
    n = max(1, math.ceil(a / max_occupancy))
    while n > 1 and _occupancy(n - 1, a) <= max_occupancy:  # undo rounding up in a / m
        n -= 1
    while _occupancy(n, a) > max_occupancy:
        n += 1
    return n


def agents_for_service_level(
    a: float,
    aht_s: float,
    target_sl: float,
    target_time_s: float,
    max_occupancy: float | None = None,
) -> int:
    """The smallest number of agents answering at least ``target_sl`` of the calls within
    ``target_time_s`` seconds (and, if given, with occupancy <= ``max_occupancy``).

    The service level rises with every agent added beyond ``A``, so the search starts at the
    first stable staffing, ``floor(A) + 1``, and steps up one agent at a time, advancing the
    Erlang B recursion by one step per agent: O(A) work in all, about a millisecond for
    A = 5000.  No traffic needs no agents.
    """
    a = _traffic(a)
    h = _positive("--aht", aht_s, "seconds")
    sl_target = _fraction("--target-sl", target_sl)
    t = _positive("--target-time", target_time_s, "seconds")
    occ = _max_occupancy(max_occupancy)
    if a == 0.0:
        return 0
    n = math.floor(a) + 1
    b = _erlang_b(n, a)
    while _sl_from_c(n, a, _c_from_b(n, a, b), h, t) < sl_target:
        n += 1
        b = _b_step(n, a, b)
    if occ is not None:
        n = max(n, _agents_for_occupancy(a, occ))
    return n


def agents_for_asa(a: float, aht_s: float, target_asa_s: float) -> int:
    """The smallest number of agents with an average speed of answer <= ``target_asa_s``
    seconds.  ASA falls with every agent added beyond ``A``; same search as
    :func:`agents_for_service_level`.  No traffic needs no agents."""
    a = _traffic(a)
    h = _positive("--aht", aht_s, "seconds")
    target = _positive("--target-asa", target_asa_s, "seconds")
    if a == 0.0:
        return 0
    n = math.floor(a) + 1
    b = _erlang_b(n, a)
    while _asa_from_c(n, a, _c_from_b(n, a, b), h) > target:
        n += 1
        b = _b_step(n, a, b)
    return n


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True, slots=True)
class ErlangResult:
    """One staffing level and how the queue performs with it (Erlang C).

    Times are in seconds, probabilities and fractions in [0, 1].  ``asa`` is ``math.inf``
    and ``stable`` is False when ``agents <= traffic``.
    """

    calls: float
    period_s: float
    aht_s: float
    traffic: float
    """Offered traffic in Erlangs."""
    agents: int
    prob_wait: float
    """Erlang C: the probability that a call waits at all."""
    service_level: float
    """The fraction of calls answered within ``target_time_s``."""
    target_time_s: float
    asa: float
    """Average speed of answer over all calls, seconds."""
    occupancy: float
    immediate_answer: float
    """The fraction answered without waiting, ``1 - prob_wait``."""
    target_sl: float | None = None
    """The service level solved for; None when ``agents`` was given."""
    max_occupancy: float | None = None

    @property
    def stable(self) -> bool:
        """Whether the queue is stable (more agents than Erlangs, or no traffic)."""
        return self.traffic == 0.0 or self.agents > self.traffic


def erlang_report(
    calls: float,
    period_s: float,
    aht_s: float,
    *,
    agents: int | None = None,
    target_sl: float | None = None,
    target_time_s: float = 20,
    max_occupancy: float | None = None,
) -> ErlangResult:
    """Evaluate ``agents`` agents, or find the fewest agents meeting ``target_sl`` of calls
    answered within ``target_time_s`` seconds (optionally capping occupancy).

    Exactly one of ``agents`` and ``target_sl`` must be given.  Raises
    :class:`ErlangInputError` for inputs out of range.
    """
    a = traffic_intensity(calls, period_s, aht_s)
    t = _positive("--target-time", target_time_s, "seconds")
    if agents is None and target_sl is None:
        raise ErlangInputError(
            "give --agents N to evaluate a staffing level or --target-sl P to solve for agents "
            "(one of them)"
        )
    if agents is not None and target_sl is not None:
        raise ErlangInputError(
            "give either --agents (evaluate a staffing level) or --target-sl (solve for "
            "agents), not both"
        )
    if agents is not None and max_occupancy is not None:
        raise ErlangInputError("--max-occupancy only applies when solving with --target-sl")
    a = _traffic(a)
    if target_sl is not None:
        n = agents_for_service_level(a, aht_s, target_sl, t, max_occupancy)
    else:
        assert agents is not None
        n = _agents(agents)
    h = float(aht_s)
    c = _c_from_b(n, a, _erlang_b(n, a))
    return ErlangResult(
        calls=float(calls),
        period_s=float(period_s),
        aht_s=h,
        traffic=a,
        agents=n,
        prob_wait=c,
        service_level=_sl_from_c(n, a, c, h, t),
        target_time_s=t,
        asa=_asa_from_c(n, a, c, h),
        occupancy=_occupancy(n, a),
        immediate_answer=1.0 - c,
        target_sl=None if target_sl is None else float(target_sl),
        max_occupancy=None if max_occupancy is None else float(max_occupancy),
    )
